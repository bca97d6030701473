"""Gather: fetch every configured source concurrently and store the new items once."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import sqlalchemy as sa

from newsletter import document, feed
from newsletter.config import Config, SourceSettings
from newsletter.error import SourceError
from newsletter.item import Entry
from newsletter.progress import Progress, Silent
from newsletter.store import Store, now, to_db

log = logging.getLogger("newsletter.sources")


@dataclass(frozen=True)
class SourceReport:
    """What gathering one source did."""

    key: str
    name: str
    kind: str
    status: str  # ok | not-modified | error
    new: int = 0
    updated: int = 0
    entries: int = 0
    error: str | None = None
    failures: int = 0


@dataclass(frozen=True)
class GatherReport:
    """What one gather did, source by source."""

    sources: list[SourceReport] = field(default_factory=list)

    @property
    def new(self) -> int:
        """Return how many new items were stored."""
        return sum(s.new for s in self.sources)

    @property
    def failed(self) -> list[SourceReport]:
        """Return the sources that failed."""
        return [s for s in self.sources if s.status == "error"]

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain data for ``--json``."""
        return {"new": self.new, "failed": len(self.failed), "sources": [asdict(s) for s in self.sources]}


@dataclass(frozen=True)
class _Outcome:
    settings: SourceSettings
    kind: str
    name: str
    entries: list[Entry] | None = None  # None: not modified
    fetched: feed.Fetched | None = None
    error: str | None = None


def kind_of(config: Config, source: SourceSettings) -> str:
    """Return ``feed`` (over HTTP), ``file`` (a feed on disk) or ``documents`` (a folder)."""
    if source.url:
        return "file" if source.url.startswith("file:") else "feed"
    path = config.resolve(source.path or "")
    return "documents" if path.is_dir() or not path.suffix else "file"


def gather(
    config: Config,
    store: Store,
    *,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> GatherReport:
    """Fetch every source, store new items, record each source's health, and report."""
    progress = progress or Silent()
    sources = config.sources
    progress.start("gather", len(sources))
    own_client = client is None
    client = client or httpx.Client(
        timeout=config.gather.timeout,
        headers={"User-Agent": config.gather.user_agent},
        limits=httpx.Limits(max_connections=config.gather.concurrency * 2),
    )
    with store.begin() as conn:
        validators = {r.key: (r.etag, r.last_modified) for r in conn.execute(
            sa.select(store.t.sources.c.key, store.t.sources.c.etag, store.t.sources.c.last_modified))}
    try:
        with ThreadPoolExecutor(max_workers=max(1, config.gather.concurrency)) as pool:
            outcomes = pool.map(
                lambda s: _collect(config, client, s, validators.get(s.key, (None, None))), sources)
            reports = []
            for outcome in outcomes:
                report = _record(store, outcome)
                reports.append(report)
                progress.advance(f"{report.name}: {report.status}")
                if report.error:
                    log.warning("source %s failed: %s", report.name, report.error)
    finally:
        if own_client:
            client.close()
    return GatherReport(reports)


def _collect(config: Config, client: httpx.Client, source: SourceSettings,
             validators: tuple[str | None, str | None]) -> _Outcome:
    """Fetch and parse one source; never raise (the failure is part of the outcome)."""
    kind = kind_of(config, source)
    name = source.name or (source.url or source.path or "")
    try:
        if kind == "documents":
            folder = config.resolve(source.path or "")
            entries: list[Entry] = []
            for path in document.scan(folder):
                entries.extend(document.entries(path, relative_to=folder))
            return _Outcome(source, kind, source.name or folder.name, entries)
        if kind == "file":
            path = _file_path(config, source)
            fetched = feed.read(path)
        else:
            fetched = feed.fetch(
                client, source.url or "",
                etag=validators[0],
                last_modified=validators[1],
                max_bytes=config.gather.max_bytes,
            )
        if fetched.content is None:
            return _Outcome(source, kind, name, None, fetched)
        parsed = feed.parse(fetched.content, base_url=fetched.permanent_url or source.url or "")
        return _Outcome(source, kind, source.name or parsed.title or name, parsed.entries, fetched)
    except SourceError as e:
        return _Outcome(source, kind, name, error=str(e))
    except Exception as e:  # noqa: BLE001 - a source must never stop the others
        log.debug("source %s crashed", name, exc_info=True)
        return _Outcome(source, kind, name, error=f"unexpected error: {type(e).__name__}: {e}")


def _file_path(config: Config, source: SourceSettings) -> Path:
    if source.url:
        return Path(unquote(urlsplit(source.url).path))
    return config.resolve(source.path or "")


def _record(store: Store, outcome: _Outcome) -> SourceReport:
    """Store the outcome of one source in one transaction and return its report."""
    t = store.t
    key = outcome.settings.key
    moment = now()
    with store.begin() as conn:
        row = conn.execute(sa.select(t.sources).where(t.sources.c.key == key)).mappings().first()
        if row is None:
            source_id = conn.execute(
                t.sources.insert().values(key=key, kind=outcome.kind, name=outcome.name, created_at=moment)
            ).inserted_primary_key[0]
            failures = 0
        else:
            source_id, failures = row["id"], row["failures"]
        if outcome.error is not None:
            failures += 1
            conn.execute(t.sources.update().where(t.sources.c.id == source_id).values(
                last_status="error", last_error=outcome.error, failures=failures, last_attempt_at=moment))
            return SourceReport(key, outcome.name, outcome.kind, "error", error=outcome.error, failures=failures)
        values: dict[str, Any] = dict(name=outcome.name, kind=outcome.kind, last_error=None, failures=0,
                                      last_attempt_at=moment, last_success_at=moment)
        if outcome.fetched is not None:
            values.update(etag=outcome.fetched.etag, last_modified=outcome.fetched.last_modified)
        if outcome.entries is None:
            conn.execute(t.sources.update().where(t.sources.c.id == source_id).values(
                last_status="not-modified", **values))
            return SourceReport(key, outcome.name, outcome.kind, "not-modified")
        new, updated = _store_entries(store, conn, source_id, outcome.entries, moment)
        conn.execute(t.sources.update().where(t.sources.c.id == source_id).values(last_status="ok", **values))
    return SourceReport(key, outcome.name, outcome.kind, "ok", new=new, updated=updated,
                        entries=len(outcome.entries))


def _store_entries(store: Store, conn: sa.Connection, source_id: int, entries: list[Entry],
                   moment: Any) -> tuple[int, int]:
    """Insert unseen entries; refresh waiting ones whose text changed; never touch sent ones."""
    t = store.t
    existing = {
        r.uid: r for r in conn.execute(
            sa.select(t.items.c.id, t.items.c.uid, t.items.c.title, t.items.c.body,
                      t.issue_items.c.issue_id)
            .select_from(t.items.outerjoin(t.issue_items, t.issue_items.c.item_id == t.items.c.id))
            .where(t.items.c.source_id == source_id)
        )
    }
    new = updated = 0
    seen: set[str] = set()
    for entry in entries:
        if entry.uid in seen:
            continue
        seen.add(entry.uid)
        values = dict(title=entry.title, label=entry.label, link=entry.link, author=entry.author,
                      summary=entry.summary, body=entry.body, published_at=to_db(entry.published_at))
        old = existing.get(entry.uid)
        if old is None:
            conn.execute(t.items.insert().values(source_id=source_id, uid=entry.uid, gathered_at=moment,
                                                 **values))
            new += 1
        elif old.issue_id is None and (old.title, old.body) != (entry.title, entry.body):
            conn.execute(t.items.update().where(t.items.c.id == old.id).values(**values))
            updated += 1
    return new, updated
