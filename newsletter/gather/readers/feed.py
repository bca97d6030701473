"""RSS 0.9x/1.0/2.0 and Atom: parse a fetched document into clean, safe entries.

feedparser fetches nothing here: it gets bytes we fetched within our limits, wrapped in
a stream (given bare bytes it would try them as a local file name), re-encoded as
UTF-8 by ``charset``. A document is refused before feedparser sees it when:

* its prolog declares XML entities (``prolog``: the way to billion laughs, quadratic
  blowup and external entities, and the only way its loose parser expands any);
* it has more than ``item.ENTRY_LIMIT`` items (feedparser keeps about 1 KB for each: a
  10 MB feed of empty items took 330 MB), or nests elements deeper than
  ``NESTING_LIMIT`` (about 450 bytes a level: 1.4 million levels took 670 MB);
* it declares more than ``NAMESPACE_LIMIT`` namespace prefixes, or its elements carry
  more than ``ATTRIBUTE_LOAD`` (the sum over elements of their attributes squared):
  feedparser's time grows with prefixes times elements, and with the square of an
  element's attributes (8,000 prefixes took 3.5 s, 300,000 attributes over an hour).
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
from newsletter.gather import charset, markup, prolog
from newsletter.item import (
    Entry,
    Parsed,
    fingerprint,
    html_to_text,
    identify,
    summarise,
    too_many,
)

# Always expat, which feedparser would otherwise reach only after trying to import a libxml2
# driver for every feed (0.2 ms each); the entity guard (``prolog``) is written for expat and
# for feedparser's own recovering parser.
feedparser.api.PREFERRED_XML_PARSERS = []

NESTING_LIMIT = 1_000  # levels of elements; a real feed nests a few, XHTML content a few dozen
NAMESPACE_LIMIT = 256  # distinct prefixes; a real feed declares a few dozen
ATTRIBUTE_LOAD = 10_000_000  # about 0.1 s of feedparser's attribute handling
_ENTRY_TAG = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s/>]")
_PREFIX = re.compile(rb"xmlns:([^\s=<>/\"']+)\s*=")
_MANY_ATTRIBUTES = re.compile(rb"<[^<>=]*(?:=[^<>=]*){16,}")  # a tag with 16 "=" or more


def parse(content: bytes, *, base_url: str = "", content_type: str = "") -> Parsed:
    """Parse RSS or Atom; raise FeedError when nothing usable is there."""
    document = charset.as_xml(content, content_type)
    refusal = _refusal(document)
    if refusal:
        raise FeedError(f"refused: {refusal}")
    # No content-location: feedparser would resolve guids against it as if they were links,
    # and an item's identity must not change when its feed moves. Links are resolved and
    # markup sanitised by ``markup`` (nh3), so feedparser's slower passes for both are off.
    try:
        parsed: Any = feedparser.parse(
            io.BytesIO(document),
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as e:  # noqa: BLE001 - feedparser's own bugs on broken input, as one line
        raise FeedError(f"cannot read the feed: {type(e).__name__}: {_first_line(e)}") from e
    problem = _first_line(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    version, raw_entries, channel = parsed.get("version") or "", parsed.get("entries") or [], parsed.get("feed") or {}
    if not version and not raw_entries:
        if _looks_like_html(document):
            raise FeedError("not a valid feed: the address returned an HTML page")
        if not document.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise FeedError("not a feed: the content is not XML")
        if problem:
            raise FeedError(f"not a valid feed: {problem}")
        raise FeedError("not a feed (no RSS or Atom content found)")
    feed_link = markup.safe_url(channel.get("link"), base_url) or base_url
    entries = [e for e in (_entry(raw, feed_link) for raw in raw_entries) if e is not None]
    if problem and not entries:
        raise FeedError(f"malformed feed: {problem}")
    title = html_to_text(channel.get("title", "")) or base_url
    kind = "atom" if version.startswith("atom") else "rss"
    warning = f"malformed feed, recovered {len(entries)} entries: {problem}" if problem else None
    return Parsed(title=title, entries=entries, kind=kind, warning=warning)


def _refusal(document: bytes) -> str | None:
    """Return why ``document`` must not reach feedparser, or None; each check is one pass over the bytes."""
    if prolog.declares_entities(document):
        return "the feed declares XML entities (an entity-expansion attack or a broken feed)"
    crowded = too_many(sum(1 for _ in _ENTRY_TAG.finditer(document)))
    if crowded:
        return crowded
    if document.count(b"<") > NESTING_LIMIT and _deeper_than(document, NESTING_LIMIT):
        return f"the feed nests elements more than {NESTING_LIMIT:,} deep"
    if document.count(b"xmlns:") > NAMESPACE_LIMIT:
        prefixes = len(set(_PREFIX.findall(document)))
        if prefixes > NAMESPACE_LIMIT:
            return f"the feed declares {prefixes:,} XML namespace prefixes (limit {NAMESPACE_LIMIT})"
    if document.count(b"=") ** 2 > ATTRIBUTE_LOAD:  # else no arrangement of the attributes can reach it
        load = sum(tag.group().count(b"=") ** 2 for tag in _MANY_ATTRIBUTES.finditer(document))
        if load > ATTRIBUTE_LOAD:
            return "the feed's elements carry too many attributes"
    return None


def _deeper_than(document: bytes, limit: int) -> bool:
    """Return whether elements nest deeper than ``limit``, counting as a recovering parser would.

    Comments, CDATA sections and declarations are skipped whole; an end tag closes one
    level whatever its name. A scan, not a regular expression: an unterminated CDATA
    section costs one search, not one per later ``<``.
    """
    depth, at, end = 0, document.find(b"<"), len(document)
    while 0 <= at < end:
        if document.startswith(b"<![CDATA[", at):
            at = document.find(b"]]>", at + 9)
        elif document.startswith(b"<!--", at):
            at = document.find(b"-->", at + 4)
        elif document.startswith((b"<!", b"<?"), at):
            at = document.find(b">", at + 2)
        else:
            close = document.find(b">", at + 1)
            if close < 0:
                break
            if document[at + 1:at + 2] == b"/":
                depth = max(0, depth - 1)
            elif document[close - 1:close] != b"/":
                depth += 1
                if depth > limit:
                    return True
            at = close
        if at < 0:
            break
        at = document.find(b"<", at + 1)
    return False


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
