"""DKIM signatures of our own, held to dkimpy: the same canonical forms, and every signature verifies with it.

The signer (``newsletter/email/dkim.py``) replaced dkimpy's for speed; dkimpy stays the
judge. Canonicalisation is compared byte for byte with dkimpy's on arbitrary bodies and
header fields; whole messages (our issue, and generated ones with folded headers,
repeated fields, tabs, runs of spaces and trailing blank lines) are signed with RSA and
Ed25519 keys and verified by ``dkim.verify``, and any change to a signed part breaks it.
The signing child process signs the same way, and its parent takes over when it dies.
"""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from dkim.canonicalization import Relaxed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.email.dkim import HEADERS, Dkim, relaxed_body, relaxed_header
from newsletter.email.signing import SigningProcess, Stamp

BOUNDED = settings(max_examples=300, derandomize=True, database=None, deadline=2000,
                   suppress_health_check=[HealthCheck.too_slow])
# A real message of ours; the golden file's normalised Date line ends in a bare LF, which no message we send has.
ISSUE = (Path(__file__).parent / "golden" / "issue.eml").read_bytes().replace(b"<normalised>\n", b"<normalised>\r\n")


def _key(tmp: Path, kind: str) -> Dkim:
    if kind == "rsa":
        key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = rsa.generate_private_key(public_exponent=65537,
                                                                                         key_size=2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    path = tmp / f"{kind}.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return Dkim.load("brief", "example.org", path)


@pytest.fixture(scope="module", params=["rsa", "ed25519"])
def signer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Dkim:
    return _key(tmp_path_factory.mktemp("dkim"), request.param)


def verify(signer: Dkim, message: bytes) -> bool:
    record = signer.public.encode()
    return bool(dkim.verify(message, dnsfunc=lambda name, timeout=5: record
                            if name == b"brief._domainkey.example.org." else None))


# Bodies made of what canonicalisation works on: spaces, tabs, line ends (whole or broken), runs and blank lines.
PIECES = st.sampled_from([b" ", b"  ", b"\t", b" \t ", b"\r\n", b"\r\n\r\n", b"\r", b"\n", b"a", b"word", b"=20",
                          b".", b"\xd0\x9f", b"\x00"])
BODIES = st.lists(PIECES, max_size=60).map(b"".join) | st.binary(max_size=300)


@BOUNDED
@given(BODIES)
def test_the_relaxed_body_is_dkimpys(body: bytes) -> None:
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)


@BOUNDED
@given(st.sampled_from([b"Subject", b"subject ", b"X-Tag\t", b"DKIM-Signature"]), BODIES)
def test_a_relaxed_header_is_dkimpys(name: bytes, value: bytes) -> None:
    [(dkim_name, dkim_value)] = Relaxed.canonicalize_headers([(name, value)])
    assert relaxed_header(name + b":" + value) == dkim_name + b":" + dkim_value


def test_our_issue_verifies_and_its_body_hash_is_dkimpys(signer: Dkim) -> None:
    signed = signer.sign(ISSUE)
    assert verify(signer, signed)
    theirs = dkim.sign(ISSUE, b"brief", b"example.org", signer.key, canonicalize=(b"relaxed", b"relaxed"),
                       signature_algorithm=signer.algorithm.encode(),
                       include_headers=[h.lower().encode() for h in HEADERS])
    tag = dkim.util.parse_tag_value(signed.split(b":", 1)[1].split(b"\r\nFrom:", 1)[0])
    assert tag[b"bh"] == dkim.util.parse_tag_value(theirs.split(b":", 1)[1])[b"bh"]
    assert all(len(line) <= 78 for line in signed[:signed.index(b"\r\nFrom:")].split(b"\r\n"))
    head, body = signed.split(b"\r\n\r\n", 1)
    assert b"Tashkent" in body
    for changed in (signed.replace(b"Subject: ", b"Subject: Re: ", 1),  # a signed field
                    head + b"\r\n\r\n" + body.replace(b"Tashkent", b"Tashkend", 1),  # the body
                    head + b"\r\nReply-To: x@example.com\r\n\r\n" + body):  # a field signed as absent
        assert not verify(signer, changed)
    for changed in (head + b"\r\nX-Mailer: a\r\n\r\n" + body,  # an unsigned field may be added
                    head + b"\r\n\r\n" + body.replace(b"\r\n\r\n--=_", b"\r\n  \r\n--=_", 1)):  # blank space
        assert verify(signer, changed)


FIELD_VALUES = st.lists(st.sampled_from([" ", "\t", "\r\n ", "\r\n\t", "x", "Ann", "<a@b>", ";", "=?utf-8?q?=C3?="]),
                        min_size=1, max_size=12).map("".join)


@settings(BOUNDED, max_examples=100)
@given(subject=FIELD_VALUES, extra=FIELD_VALUES, repeat=st.booleans(), body=BODIES)
def test_generated_messages_verify(signer: Dkim, subject: str, extra: str, repeat: bool, body: bytes) -> None:
    fields = ["From: Test <t@example.org>", "To: r@example.org", f"Subject:{subject}", f"X-Extra:{extra}"]
    if repeat:  # a field twice: the last one is signed (RFC 6376 5.4.2)
        fields.append(f"To:{extra}")
    head = "\r\n".join(f for f in fields if not f.endswith(("\r\n ", "\r\n\t"))).encode()
    body = body.replace(b"\r", b"").replace(b"\n", b"\r\n")  # whole lines, as every message on the wire has
    message = head + b"\r\n\r\n" + body
    signed = signer.sign(message, timestamp=1796547600)
    assert verify(signer, signed)
    if body.strip():
        assert not verify(signer, signed + b"x")


def test_a_dknewkey_seed_signs_like_its_pem(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    (tmp_path / "seed").write_bytes(base64.b64encode(seed) + b"\n")
    (tmp_path / "pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    by_seed, by_pem = (Dkim.load("brief", "example.org", tmp_path / name) for name in ("seed", "pem"))
    assert by_seed.signature(ISSUE, timestamp=1) == by_pem.signature(ISSUE, timestamp=1)  # Ed25519 is deterministic


def test_a_signing_process_signs_like_this_one_and_this_one_takes_over_when_it_dies(signer: Dkim) -> None:
    signing = SigningProcess(signer)
    try:
        assert signing.signature(ISSUE).startswith(b"DKIM-Signature: v=1;")  # signed here while the child starts
        assert signing.wait(timeout=60)
        made = signing.signature(ISSUE)
        assert verify(signer, made + ISSUE)
        os.kill(signing.pid, signal.SIGKILL)
        again = signing.signature(ISSUE)  # the child is gone: signed here again
        assert verify(signer, again + ISSUE) and not signing.ready
    finally:
        signing.close()
    with pytest.raises(ProcessLookupError):  # ended and waited for
        os.kill(signing.pid, 0)


def test_a_stamp_puts_its_header_on_top_then_signs(signer: Dkim) -> None:
    stamped = Stamp(b"Feedback-ID: issue1:brief:newsletter:example.org\r\n", signer)(ISSUE)
    assert stamped.startswith(b"DKIM-Signature: ") and b"\r\nFeedback-ID: issue1:" in stamped
    assert verify(signer, stamped)
    assert Stamp(b"X-A: b\r\n")(b"Subject: x\r\n\r\nhi\r\n") == b"X-A: b\r\nSubject: x\r\n\r\nhi\r\n"
