"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1): parse a fetched document into entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from newsletter.error import FeedError
from newsletter.gather import charset, markup
from newsletter.item import (
    Entry,
    Parsed,
    fingerprint,
    html_to_text,
    identify,
    normalise,
    summarise,
    too_many,
)

VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like(content: bytes) -> bool:
    """Return whether ``content`` is probably a JSON Feed (a JSON object naming its version)."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed.org/version" in head.replace(b"\\/", b"/")


def parse(content: bytes, *, base_url: str = "", content_type: str = "") -> Parsed:
    """Parse a JSON Feed; raise FeedError when it is not one or has no usable items."""
    text, _ = charset.decode(content, content_type)
    try:
        data = json.loads(text)
    except RecursionError:
        raise FeedError("not a valid JSON Feed: nested too deeply") from None
    except ValueError as e:
        raise FeedError(f"not a valid JSON Feed: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(VERSION_PREFIX):
        raise FeedError(f"not a JSON Feed (no \"version\": \"{VERSION_PREFIX}1.1\")")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("not a valid JSON Feed: \"items\" is missing or not a list")
    crowded = too_many(len(items))
    if crowded:
        raise FeedError(f"refused: {crowded}")
    home = markup.safe_url(_text(data.get("home_page_url")), base_url) or base_url
    entries = [e for e in (_entry(raw, home) for raw in items if isinstance(raw, dict)) if e is not None]
    skipped = len(items) - len(entries)
    if items and not entries:
        raise FeedError(f"not a valid JSON Feed: none of its {len(items)} items has a title or content")
    title = normalise(_text(data.get("title"))) or base_url
    warning = f"{skipped} items without a title or content were skipped" if skipped else None
    return Parsed(title=title, entries=entries, kind="json", warning=warning)


def _entry(raw: dict[str, Any], base_url: str) -> Entry | None:
    link = markup.safe_url(_text(raw.get("url")) or _text(raw.get("external_url")), base_url)
    content_html = _text(raw.get("content_html"))
    html = markup.sanitise(content_html, link or base_url) if content_html else ""
    body = html_to_text(html) if html else normalise(_text(raw.get("content_text")))
    title = html_to_text(_text(raw.get("title")))
    summary_text = normalise(_text(raw.get("summary")))
    if not title and not body:
        return None
    published = _date(raw.get("date_published")) or _date(raw.get("date_modified"))
    guid = raw.get("id")
    return Entry(
        uid=identify(str(guid) if isinstance(guid, str | int) else None, link,
                     *fingerprint(title, published, body)),
        title=title or summarise(body or summary_text, 90),
        body=body or summary_text,
        summary=summarise(summary_text or body),
        link=link,
        author=_author(raw),
        published_at=published,
        html=html,
    )


def _author(raw: dict[str, Any]) -> str | None:
    authors = raw.get("authors")
    if not isinstance(authors, list):
        authors = [raw.get("author")]
    names = [normalise(_text(a.get("name"))) for a in authors if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
