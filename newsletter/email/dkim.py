"""DKIM signing (RFC 6376, RFC 8463): RSA or Ed25519 keys, configured by selector, domain and key file.

Signatures are made here, relaxed/relaxed, with the key read through cryptography:
dkimpy took 4-5 ms a message on an 80 KB newsletter (it splits the whole message into
lines and replaces every single space of the body), more than the rest of a send put
together; this takes a tenth of that (docs/performance.md). The tests verify every
signature with dkimpy and compare the canonical forms with its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from newsletter.error import ConfigError, NewsletterError

# Everything a reader or a filter relies on; RFC 8058 wants both List-Unsubscribe fields signed.
HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
           "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID")


class SigningError(NewsletterError):
    """A message could not be signed."""


@dataclass(frozen=True)
class Dkim:
    """Sign messages for ``domain`` with the key published at ``selector._domainkey.domain``."""

    selector: str
    domain: str
    algorithm: str  # rsa-sha256 | ed25519-sha256
    key: bytes  # as dkimpy takes it: PKCS#1 PEM for RSA, the base64 seed for Ed25519
    public: str  # the DNS TXT record to publish

    @classmethod
    def load(cls, selector: str, domain: str, key_file: Path) -> Dkim:
        """Read an RSA (PEM) or Ed25519 (PEM, or dknewkey's base64 seed) private key, or raise ConfigError."""
        try:
            data = key_file.read_bytes()
        except OSError as e:
            raise ConfigError(f"dkim.key_file: cannot read {key_file}: {e.strerror or e}") from e
        try:
            algorithm, key, public = _parse(data)
        except ValueError as e:
            raise ConfigError(f"dkim.key_file: {key_file} is not an RSA or Ed25519 private key ({e})") from e
        return cls(selector, domain, algorithm, key, public)

    @cached_property
    def _private(self) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
        if self.algorithm == "rsa-sha256":
            key = serialization.load_pem_private_key(self.key, password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        return ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(self.key))

    def sign(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """Return ``message`` (CRLF line ends) with a DKIM-Signature header on top."""
        return self.signature(message, timestamp=timestamp) + message

    def signature(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """Return the DKIM-Signature header field (CRLF-terminated) that signs ``message``."""
        end = message.find(b"\r\n\r\n")
        head, body = (message[:end + 2], message[end + 4:]) if end >= 0 else (message, b"")
        fields = _fields(head)
        names = [h.lower().encode() for h in HEADERS]
        tags = [b"v=1", b"a=" + self.algorithm.encode(), b"c=relaxed/relaxed", b"d=" + self.domain.encode(),
                b"i=@" + self.domain.encode(), b"q=dns/txt", b"s=" + self.selector.encode(),
                b"t=%d" % (int(time.time()) if timestamp is None else timestamp),
                b"h=" + b" : ".join(names),
                b"bh=" + base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())]
        unsigned = _fold(b"DKIM-Signature: " + b"; ".join(tags) + b";") + b"\r\n b="
        signed = b"".join(relaxed_header(field) for field in _select(fields, names))
        signed += relaxed_header(unsigned).rstrip(b"\r\n")  # hashed without its line end (RFC 6376 3.7)
        try:
            key = self._private
            if isinstance(key, rsa.RSAPrivateKey):
                value = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
            else:
                value = key.sign(hashlib.sha256(signed).digest())  # RFC 8463: Ed25519 over the SHA-256 digest
        except (ValueError, TypeError) as e:
            raise SigningError(f"cannot DKIM-sign for {self.domain}: {e}") from e
        b64 = base64.b64encode(value)
        return unsigned + b"\r\n ".join(b64[i:i + 72] for i in range(0, len(b64), 72)) + b"\r\n"


_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")
_WSP_RUN = re.compile(rb"[ \t]+")
_SPACES = re.compile(rb"  +")  # a literal prefix: the regex engine skips ahead to each double space
_LINE_END = re.compile(rb"\r?\n")


def relaxed_body(body: bytes) -> bytes:
    """Return ``body`` in the relaxed canonical form (RFC 6376 3.4.4), byte for byte as dkimpy makes it.

    Each step runs only where a quick search finds work for it: a newsletter has a few
    hundred double spaces and rarely a tab, and a regular expression that replaced
    every single space (as dkimpy's does) costs ten times the rest of the signature.
    """
    if b" \r\n" in body or b"\t\r\n" in body:
        body = _TRAILING_WSP.sub(b"\r\n", body)
    if b"\t" in body:
        body = _WSP_RUN.sub(b" ", body)
    elif b"  " in body:
        body = _SPACES.sub(b" ", body)
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    body = body[:end] + b"\r\n"  # empty lines at the end ignored, the last line ended
    return b"" if body == b"\r\n" else body


def relaxed_header(field: bytes) -> bytes:
    """Return one header field (``Name: value``, folded or not) in the relaxed canonical form (RFC 6376 3.4.2)."""
    name, _, value = field.partition(b":")
    value = _WSP_RUN.sub(b" ", _LINE_END.sub(b"", value)).strip()
    return name.lower().rstrip() + b":" + value + b"\r\n"


def _fields(head: bytes) -> list[bytes]:
    """Return the header fields of a header block, each with its folded lines."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        elif line:
            fields.append(line)
    return fields


def _select(fields: list[bytes], names: list[bytes]) -> list[bytes]:
    """Return the fields each name in ``h=`` signs: the last unused one of that name (RFC 6376 5.4.2)."""
    chosen: list[bytes] = []
    last: dict[bytes, int] = {}
    lowered = [f.partition(b":")[0].rstrip().lower() for f in fields]
    for name in names:
        i = last.get(name, len(fields))
        while i > 0:
            i -= 1
            if lowered[i] == name:
                chosen.append(fields[i])
                break
        last[name] = i
    return chosen


def _fold(field: bytes) -> bytes:
    """Fold a tag list at its spaces so no line passes 78 characters."""
    lines: list[bytes] = []
    line = b""
    for word in field.split(b" "):
        if line and len(line) + 1 + len(word) > (78 if not lines else 77):  # a continuation starts with a space
            lines.append(line)
            line = word
        else:
            line = line + b" " + word if line else word
    return b"\r\n ".join([*lines, line])


def _parse(data: bytes) -> tuple[str, bytes, str]:
    """Return (algorithm, key for dkimpy, DNS record) for a private key file's contents."""

    raw = serialization.Encoding.Raw
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (TypeError, ValueError) as e:
            raise ValueError(str(e).splitlines()[0] if str(e) else "unreadable PEM") from e
    else:
        seed = base64.b64decode(data.strip(), validate=True) if data.strip() else b""
        if len(seed) != 32:
            raise ValueError("neither PEM nor a base64 32-byte Ed25519 seed")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    if isinstance(key, rsa.RSAPrivateKey):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa-sha256", pem, f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        seed = key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        public = key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
        return "ed25519-sha256", base64.b64encode(seed), f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def load(selector: str, domain: str, key_file: str, root: Path) -> Dkim | None:
    """Return the signer the ``[dkim]`` settings describe, or None when signing is off."""
    if not key_file:
        return None
    return Dkim.load(selector, domain, root / key_file)
