"""Feeds: fetch one over HTTP with a conditional GET, and parse it into entries."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx

from newsletter.error import FeedError
from newsletter.item import Entry, html_to_text, identify, summarise


@dataclass(frozen=True)
class Fetched:
    """The answer to one fetch: new content, or ``None`` when the server said 304."""

    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # where a permanent redirect now points


@dataclass(frozen=True)
class Parsed:
    """A feed's title and entries."""

    title: str
    entries: list[Entry]


def fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 10_000_000,
) -> Fetched:
    """GET ``url`` sending the validators we hold; raise FeedError on any failure."""
    headers = {"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
            if response.status_code == 304:
                return Fetched(None, etag, last_modified, _permanent(response))
            if response.status_code >= 400:
                raise FeedError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(f"response too large ({int(declared):,} bytes; limit {max_bytes:,})")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(f"response too large (over {max_bytes:,} bytes)")
            return Fetched(
                bytes(body),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                _permanent(response),
            )
    except httpx.TimeoutException as e:
        raise FeedError(f"timed out ({type(e).__name__})") from e
    except httpx.HTTPError as e:
        raise FeedError(f"cannot fetch: {e}") from e


def _permanent(response: httpx.Response) -> str | None:
    """Return the final URL if every redirect on the way was permanent."""
    if response.history and all(r.status_code in (301, 308) for r in response.history):
        return str(response.url)
    return None


def read(path: Path) -> Fetched:
    """Read a feed saved on disk."""
    try:
        return Fetched(path.read_bytes())
    except OSError as e:
        raise FeedError(f"cannot read {path}: {e.strerror or e}") from e


def parse(content: bytes, *, base_url: str = "") -> Parsed:
    """Parse RSS or Atom; raise FeedError when nothing usable is there."""
    parsed: Any = feedparser.parse(content, response_headers={"content-location": base_url})
    if not parsed.version and not parsed.entries:
        if parsed.bozo:
            reason = _first_line(parsed.get("bozo_exception"))
            raise FeedError(f"not a valid feed: {reason}")
        raise FeedError("not a feed (no RSS or Atom content found)")
    title = html_to_text(parsed.feed.get("title", "")) or base_url
    entries = [e for e in (_entry(raw) for raw in parsed.entries) if e is not None]
    if parsed.bozo and not entries:
        raise FeedError(f"malformed feed: {_first_line(parsed.get('bozo_exception'))}")
    return Parsed(title=title, entries=entries)


def _entry(raw: Any) -> Entry | None:
    title = html_to_text(raw.get("title", ""))
    content = ""
    if raw.get("content"):
        content = raw.content[0].get("value", "")
    summary_html = raw.get("summary", "") or content
    body = html_to_text(content or summary_html)
    if not title and not body:
        return None
    link = raw.get("link") or None
    summary = summarise(html_to_text(summary_html) or body)
    return Entry(
        uid=identify(raw.get("id"), link, title, body),
        title=title or summarise(body, 90),
        body=body,
        summary=summary,
        link=link,
        author=raw.get("author") or None,
        published_at=_date(raw.get("published_parsed") or raw.get("updated_parsed")),
    )


def _date(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _first_line(exc: Any) -> str:
    text = str(exc or "unknown error").strip()
    return text.splitlines()[0] if text else type(exc).__name__
