"""Readers: tell what a fetched document is (RSS/Atom, JSON Feed, an article page) and read it.

Whatever the reader, what ``read`` returns is within the item limits (``item.cap``).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from newsletter.error import FeedError
from newsletter.gather.readers import article, feed, jsonfeed
from newsletter.item import Parsed, cap

# The reader of each kind of document, as pelican registers a reader per file extension;
# the keys are what ``[[sources]] kind`` may force for a URL or a file.
READERS = {"feed": feed.parse, "json": jsonfeed.parse, "page": article.parse}
KINDS = tuple(READERS)
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|channel)[\s>]", re.IGNORECASE)
_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]", re.IGNORECASE)
_ALTERNATE = re.compile(
    rb"<link[^>]+type\s*=\s*[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE)
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # not tab, newline, vertical tab, form feed, return
_HREF = re.compile(rb"href\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def detect(content: bytes, content_type: str = "", hint: str | None = None) -> str:
    """Return ``feed``, ``json`` or ``page``: the hint if given, else what the content shows."""
    if hint in KINDS:
        return hint
    media = content_type.split(";", 1)[0].strip().lower()
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if media in ("application/feed+json", "application/json") or head.startswith(b"{") \
            or jsonfeed.looks_like(content):
        return "json"
    if _FEED_ROOT.search(content[:65536]):
        return "feed"
    if (media in ("text/html", "application/xhtml+xml") or _HTML.search(head)) and article.looks_like(content):
        return "page"
    return "feed"


def read(content: bytes, *, base_url: str = "", content_type: str = "", hint: str | None = None) -> Parsed:
    """Read ``content`` as the kind it is (or is declared to be); raise FeedError if it is none."""
    if _binary(content):
        media = content_type.split(";", 1)[0].strip() or "unknown type"
        raise FeedError(f"not a feed: binary data ({media}, {len(content):,} bytes)")
    kind = detect(content, content_type, hint)
    if kind == "feed" and hint is None and not _FEED_ROOT.search(content[:65536]) and _HTML.search(content[:4096]):
        raise FeedError(_html_not_feed(content, base_url))
    return cap(READERS[kind](content, base_url=base_url, content_type=content_type))


def _binary(content: bytes) -> bool:
    """Return whether ``content`` is binary data: many control bytes, and not UTF-16/32 text."""
    head = content[:4096]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > len(head) // 20


def _html_not_feed(content: bytes, base_url: str) -> str:
    """Say that an HTML page came where a feed was expected, and where its feed is if it says."""
    message = "not a valid feed: the address returned an HTML page"
    link = _ALTERNATE.search(content[:200_000])
    href = _HREF.search(link.group(0)) if link else None
    if href:
        found = urljoin(base_url, href.group(1).decode("utf-8", "replace"))
        return f"{message}; its feed is at {found}"
    return f"{message} (set kind = \"page\" if it is an article)"
