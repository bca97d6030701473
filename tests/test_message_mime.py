"""MIME by hand: quoted-printable in segments and header lines, checked against the email package."""

from __future__ import annotations

import html
import quopri
import random
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest

from newsletter.email.mime import (
    Body,
    NamedAddress,
    encoded_words,
    header,
    quoted_printable,
)

ALPHABET = ["a", "Z", " ", "\t", "=", ".", "-", "é", "Ж", "中", "😀", "\n", "&", "<", "_", "?", "x" * 20, " \n"]


def _decode(encoded: bytes) -> str:
    assert b"\n" not in encoded.replace(b"\r\n", b""), "bare LF"
    return quopri.decodestring(encoded.replace(b"\r\n", b"\n")).decode("utf-8")


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 120))) for _ in range(count)]


def test_quoted_printable_round_trips_and_keeps_lines_short() -> None:
    for text in [*_texts(1, 400), "", "a" * 300, "=" * 100, "é" * 80, "trailing space \nnext", " \n \n"]:
        encoded = quoted_printable(text)
        assert _decode(encoded) == text
        assert all(len(line) <= 76 for line in encoded.split(b"\r\n")), text
        if text:
            assert encoded.endswith(b"\r\n"), "a segment ends at a line boundary"
        for line in encoded.split(b"\r\n"):
            assert not line.endswith((b" ", b"\t")), "whitespace at the end of a line is escaped"


def test_encoded_segments_join_into_the_encoding_of_the_whole() -> None:
    # The property the fast path rests on: decode(E(a) + E(b) + …) == a + b + …
    texts = _texts(2, 300)
    for i in range(0, len(texts) - 3, 3):
        a, b, c = texts[i:i + 3]
        joined = quoted_printable(a) + quoted_printable(b) + quoted_printable(c)
        assert _decode(joined) == a + b + c
        assert all(len(line) <= 76 for line in joined.split(b"\r\n"))


def test_the_email_package_decodes_it_too() -> None:
    for text in _texts(3, 60):
        body = text + "\n"
        raw = (b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
               b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quoted_printable(body))
        assert message_from_bytes(raw, policy=policy.default).get_content().replace("\r\n", "\n") == body


def test_body_fills_placeholders_exactly_like_string_replacement() -> None:
    marks = {"name": "PH-NAME-X", "url": "PH-URL-X"}
    template = "Hello PH-NAME-X,\nyour link: PH-URL-X and again PH-URL-X\n" + "é" * 100 + "PH-NAME-X"
    plain, escaped = Body(template, marks), Body(template, marks, transform=html.escape)
    for name, url in zip(_texts(4, 50), _texts(5, 50), strict=True):
        values = {"name": name, "url": url}
        expected = template.replace("PH-NAME-X", name).replace("PH-URL-X", url)
        assert _decode(plain.encode(values)) == expected
        assert _decode(escaped.encode(values)) == (
            template.replace("PH-NAME-X", html.escape(name)).replace("PH-URL-X", html.escape(url)))
    assert plain.names == ("name", "url")


def test_non_ascii_header_is_rfc2047_encoded_and_decodes_back() -> None:
    subject = "Брифинг #12: Токаев и Си Цзиньпин обсудили газ — 中文 😀 " * 2
    line = header("Subject", subject)
    assert line.isascii() and line.endswith(b"\r\n")
    assert all(len(part) <= 76 for part in line.split(b"\r\n"))
    raw = line + b"\r\nbody\r\n"
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == " ".join(subject.split())
    assert str(make_header(decode_header(encoded_words("Ömirzaq")))) == "Ömirzaq"


@pytest.mark.parametrize("evil", ["Hi\r\nBcc: victim@example.org", "Hi\nX-Injected: 1", "Hi\rX: 2", "A\x00B\x0bC"])
def test_no_header_injection(evil: str) -> None:
    line = header("Subject", evil)
    assert line.count(b"\r\n") == 1 and b"\n" not in line[:-2] and b"\r" not in line[:-2]
    parsed = message_from_bytes(line + header("To", NamedAddress(evil, "a@example.org")) + b"\r\nbody\r\n",
                                policy=policy.default)
    assert set(parsed.keys()) == {"Subject", "To"}
    assert parsed["To"].addresses[0].addr_spec == "a@example.org"


def test_long_ascii_urls_are_folded_at_spaces_never_encoded() -> None:
    url = "https://news.example.org/unsubscribe/" + "A" * 120
    line = header("List-Unsubscribe", f"<{url}>, <mailto:briefing@example.org?subject=unsubscribe>")
    assert b"=?" not in line
    parsed = message_from_bytes(line + b"\r\nbody\r\n", policy=policy.default)
    assert parsed["List-Unsubscribe"] == f"<{url}>, <mailto:briefing@example.org?subject=unsubscribe>"


@pytest.mark.parametrize("name", ["Ann Lee", 'Lee, Ann "The Editor"', "Бекзат", "Zhanna Ömirzaq", "", "O'Brien <x>"])
def test_mailbox_parses_back_to_the_same_name_and_address(name: str) -> None:
    parsed = message_from_bytes(header("To", NamedAddress(name, "reader@example.org")) + b"\r\nbody\r\n",
                                policy=policy.default)
    address = parsed["To"].addresses[0]
    assert (address.display_name, address.addr_spec) == (name, "reader@example.org")
