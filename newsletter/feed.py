"""RSS 0.9x/1.0/2.0 and Atom: parse a fetched document into clean, safe entries.

feedparser fetches nothing here: it gets bytes we fetched within our limits, wrapped in
a stream (given bare bytes it would try them as a local file name), re-encoded as
UTF-8 by ``charset``, and refused outright if the prolog declares XML entities.
"""

from __future__ import annotations

import calendar
import io
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsletter import charset, markup
from newsletter.error import FeedError
from newsletter.item import Entry, Parsed, fingerprint, html_to_text, identify, summarise

# An internal DTD subset that declares entities: the shape of every entity-expansion
# ("billion laughs") and external-entity attack. Real feeds do not need one.
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE)


def parse(content: bytes, *, base_url: str = "", content_type: str = "") -> Parsed:
    """Parse RSS or Atom; raise FeedError when nothing usable is there."""
    document = charset.as_xml(content, content_type)
    prolog = document[:65536].split(b"<rss", 1)[0].split(b"<feed", 1)[0].split(b"<rdf:RDF", 1)[0]
    if _ENTITY_DECLARATION.search(prolog):
        raise FeedError("refused: the feed declares XML entities (an entity-expansion attack or a broken feed)")
    parsed: Any = feedparser.parse(
        io.BytesIO(document),
        response_headers={"content-location": base_url, "content-type": "application/xml; charset=utf-8"},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    problem = _first_line(parsed.get("bozo_exception")) if parsed.bozo else None
    if not parsed.version and not parsed.entries:
        if _looks_like_html(document):
            raise FeedError("not a feed: the address returned an HTML page (set kind = \"page\" to read "
                            "it as an article, or use the site's feed address)")
        if problem:
            raise FeedError(f"not a valid feed: {problem}")
        raise FeedError("not a feed (no RSS or Atom content found)")
    feed_link = markup.safe_url(parsed.feed.get("link"), base_url) or base_url
    entries = [e for e in (_entry(raw, feed_link) for raw in parsed.entries) if e is not None]
    if problem and not entries:
        raise FeedError(f"malformed feed: {problem}")
    title = html_to_text(parsed.feed.get("title", "")) or base_url
    kind = "atom" if parsed.version.startswith("atom") else "rss"
    warning = f"malformed feed, recovered {len(entries)} entries: {problem}" if problem else None
    return Parsed(title=title, entries=entries, kind=kind, warning=warning)


def _entry(raw: Any, base_url: str) -> Entry | None:
    title = html_to_text(raw.get("title", ""))
    content = ""
    if raw.get("content"):
        content = max((c.get("value", "") for c in raw.content), key=len)
    summary_html = raw.get("summary", "") or content
    link = markup.safe_url(raw.get("link"), base_url)
    html = markup.sanitise(content or summary_html, link or base_url)
    body = html_to_text(html)
    if not title and not body:
        return None
    published = _date(raw.get("published_parsed") or raw.get("updated_parsed"))
    return Entry(
        uid=identify(raw.get("id"), link, *fingerprint(title, published, body)),
        title=title or summarise(body, 90),
        body=body,
        summary=summarise(html_to_text(markup.sanitise(summary_html)) or body),
        link=link,
        author=html_to_text(raw.get("author") or "") or None,
        published_at=published,
        html=html,
    )


def _date(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _looks_like_html(document: bytes) -> bool:
    head = document[:4096].lower()
    return b"<html" in head or b"<!doctype html" in head or b"<body" in head


def _first_line(exc: Any) -> str:
    text = str(exc or "unknown error").strip()
    return text.splitlines()[0] if text else type(exc).__name__
