"""XML prologs: where a document's root element starts, and whether what comes before declares entities.

Entity declarations are how every entity-expansion ("billion laughs", quadratic
blowup) and external-entity attack starts, and feeds and OPML files never need one.
The prolog is scanned the way an XML parser reads it (declaration, comments,
processing instructions, the DOCTYPE with its internal subset, up to the first
element), over the whole document rather than a first block of it, so neither a long
comment nor an ``<rss`` written inside one hides what follows.

A recovering parser reads further than the prolog: feedparser's loose parser takes
the declarations it finds before the first ``<`` followed by a letter, digit or ``_``,
wherever that is. So the region checked is whichever of the two ends later, and no
``<!ENTITY`` in it is allowed, even inside a comment.
"""

from __future__ import annotations

import re

_SPACE = b" \t\r\n"
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_LOOSE_HEAD = re.compile(rb"<\w")  # where feedparser's ``replace_doctype`` ends its prolog


def root(document: bytes) -> int:
    """Return the offset of the root element's ``<``, or the document's length when no element starts."""
    end = len(document)
    at = 3 if document.startswith(b"\xef\xbb\xbf") else 0
    while at < end:
        byte = document[at]
        if byte in _SPACE:
            at += 1
        elif byte != 0x3C:  # text before the root: not XML, but a recovering parser skips it
            found = document.find(b"<", at)
            at = end if found < 0 else found
        elif document.startswith(b"<?", at):
            at = _after(document, b"?>", at + 2)
        elif document.startswith(b"<!--", at):
            at = _after(document, b"-->", at + 4)
        elif _DOCTYPE.match(document, at):
            at = _after_doctype(document, at + 9)
        else:
            return at
    return end


def declares_entities(document: bytes) -> bool:
    """Return whether ``<!ENTITY`` appears anywhere a parser, strict or recovering, reads declarations."""
    first = _ENTITY.search(document)
    if first is None:  # nearly every feed: one scan of the bytes, no prolog to walk
        return False
    loose = _LOOSE_HEAD.search(document)
    prolog_end = max(root(document), loose.end() if loose else len(document))
    return first.start() < prolog_end


def has_doctype(document: bytes) -> bool:
    """Return whether a DOCTYPE appears before the root element (or where a recovering parser looks)."""
    first = _DOCTYPE.search(document)
    if first is None:
        return False
    loose = _LOOSE_HEAD.search(document)
    return first.start() < max(root(document), loose.end() if loose else len(document))


def _after(document: bytes, closing: bytes, at: int) -> int:
    found = document.find(closing, at)
    return len(document) if found < 0 else found + len(closing)


def _after_doctype(document: bytes, at: int) -> int:
    """Return the offset after a DOCTYPE whose name follows ``at``: quoted ids and the internal subset skipped."""
    end = len(document)
    while at < end:
        byte = document[at]
        if byte in b"\"'":
            at = _after(document, bytes([byte]), at + 1)
        elif byte == 0x5B:  # [: the internal subset, where quoted values and comments may hold "]" or ">"
            at = _after_subset(document, at + 1)
        elif byte == 0x3E:  # >
            return at + 1
        else:
            at += 1
    return end


def _after_subset(document: bytes, at: int) -> int:
    end = len(document)
    while at < end:
        if document.startswith(b"<!--", at):
            at = _after(document, b"-->", at + 4)
        elif document.startswith(b"<?", at):
            at = _after(document, b"?>", at + 2)
        elif document[at] in b"\"'":
            at = _after(document, document[at:at + 1], at + 1)
        elif document[at] == 0x5D:  # ]
            return at + 1
        else:
            at += 1
    return end
