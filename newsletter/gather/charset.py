"""Charsets: turn a fetched document's bytes into text, whatever its declaration claims.

Servers and feeds often lie about their encoding: Windows-1251 text declared as UTF-8,
UTF-8 declared as Windows-1251, or nothing declared at all. The order below trusts
what cannot be an accident first: a byte-order mark, then bytes that are valid UTF-8
(non-trivial text in any other encoding almost never is), then a declaration that
decodes cleanly, then statistical detection.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# XML 1.0 appendix F: "<?" in UTF-16 without a byte-order mark.
_UTF16_SNIFF = [(b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be")]
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def declared(content_type: str) -> str | None:
    """Return the charset named in a Content-Type header, if any."""
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def in_document(content: bytes) -> str | None:
    """Return the encoding an XML declaration or an HTML meta tag names, if any."""
    head = content[:2048]
    match = _XML_DECLARATION.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def decode(content: bytes, content_type: str = "") -> tuple[str, str]:
    """Return ``(text, encoding)`` for ``content``, using the HTTP charset as one hint among others."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(name, errors="replace"), name
    for prefix, name in _UTF16_SNIFF:
        if content.startswith(prefix):
            return content.decode(name, errors="replace"), name
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for hint in (declared(content_type), in_document(content)):
        codec = _codec(hint)
        if codec and codec != "utf-8":
            try:
                return content.decode(codec), codec
            except UnicodeDecodeError:
                continue
    guess = _detect(content)
    if guess:
        return content.decode(guess, errors="replace"), guess
    return content.decode("cp1252", errors="replace"), "cp1252"


def as_xml(content: bytes, content_type: str = "") -> bytes:
    """Return an XML document re-encoded as UTF-8 and declared so, with characters XML forbids removed."""
    text, _ = decode(content, content_type)
    text = _ILLEGAL_XML.sub("", text)
    text = re.sub(r"^(\s*<\?xml[^>]*?encoding\s*=\s*)[\"'][A-Za-z0-9._:-]+[\"']", r'\1"utf-8"', text, count=1)
    return text.encode("utf-8")


def _codec(name: str | None) -> str | None:
    """Return Python's canonical name for an encoding label, or None if it is unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _detect(content: bytes) -> str | None:

    best = from_bytes(content[:200_000]).best()
    return _codec(best.encoding) if best is not None else None
