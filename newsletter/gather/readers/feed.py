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
import feedparser.api

from newsletter.error import FeedError
from newsletter.gather import charset, markup
from newsletter.item import (
    Entry,
    Parsed,
    fingerprint,
    html_to_text,
    identify,
    summarise,
)

# Always expat, which feedparser would otherwise reach only after trying to import a libxml2
# driver for every feed (0.2 ms each); the entity guard below is written for expat.
feedparser.api.PREFERRED_XML_PARSERS = []


# An internal DTD subset that declares entities: the shape of every entity-expansion
# ("billion laughs") and external-entity attack. Real feeds do not need one.
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE)


def parse(content: bytes, *, base_url: str = "", content_type: str = "") -> Parsed:
    """Parse RSS or Atom; raise FeedError when nothing usable is there."""
    document = charset.as_xml(content, content_type)
    prolog = document[:65536].split(b"<rss", 1)[0].split(b"<feed", 1)[0].split(b"<rdf:RDF", 1)[0]
    if _ENTITY_DECLARATION.search(prolog):
        raise FeedError("refused: the feed declares XML entities (an entity-expansion attack or a broken feed)")
    # No content-location: feedparser would resolve guids against it as if they were links,
    # and an item's identity must not change when its feed moves. Links are resolved and
    # markup sanitised by ``markup`` (nh3), so feedparser's slower passes for both are off.
    parsed: Any = feedparser.parse(
        io.BytesIO(document),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = _first_line(parsed.get("bozo_exception")) if parsed.bozo else None
    if not parsed.version and not parsed.entries:
        if _looks_like_html(document):
            raise FeedError("not a valid feed: the address returned an HTML page")
        if not document.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise FeedError("not a feed: the content is not XML")
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
    # FeedParserDict.get looks each key up among its aliases and raises KeyError for every
    # missing one; none of these keys has an alias, so a plain dict lookup answers the same.
    get = dict.get
    title = html_to_text(get(raw, "title", ""))
    content, detail = "", get(raw, "summary_detail") or {}
    if get(raw, "content"):
        detail = max(raw["content"], key=lambda c: len(get(c, "value", "")))
        content = get(detail, "value", "")
    summary_html = get(raw, "summary", "")
    base = markup.safe_url(get(detail, "base"), base_url) or base_url  # xml:base, where a feed sets one
    link = get(raw, "link")
    if get(raw, "guidislink") and link == get(raw, "id") and "://" not in (link or ""):
        link = None  # a guid like "item-42" is no address, whatever isPermaLink claims
    link = markup.safe_url(link, base)
    html = markup.sanitise(content or summary_html, link or base)
    body = html_to_text(html)
    if not title and not body:
        return None
    summary = html_to_text(markup.sanitise(summary_html)) if content and summary_html else body
    published = _date(get(raw, "published_parsed") or get(raw, "updated_parsed"))
    return Entry(
        uid=identify(get(raw, "id"), link, *fingerprint(title, published, body)),
        title=title or summarise(body, 90),
        body=body,
        summary=summarise(summary or body),
        link=link,
        author=html_to_text(get(raw, "author") or "") or None,
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
    """Return the first line of a parser's complaint, with expat's "<unknown>:2:0:" made readable."""
    text = str(exc or "unknown error").strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    where = re.match(r"<unknown>:(\d+):(\d+):\s*(.*)", text)
    return f"{where.group(3)} (line {where.group(1)}, column {where.group(2)})" if where else text
