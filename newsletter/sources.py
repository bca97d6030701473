"""Gather: fetch every configured source concurrently and store the new items once.

Each source is fetched, read and recorded on its own: a failure becomes that source's
status (with its consecutive failures and since when it has been failing) and never
stops the others. State advances only with success: validators, content hash and
items are written in one transaction after the source was read.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from newsletter import parsers
from newsletter.config import Config, SourceSettings, kind_of
from newsletter.error import FeedError, SourceError, StoreError
from newsletter.fetcher import Fetched, Fetcher, HttpError, Limits
from newsletter.item import Parsed
from newsletter.progress import Progress, Silent
from newsletter.store import Store, now, to_db
from newsletter.intake import store_entries

log = logging.getLogger("newsletter.sources")
T = TypeVar("T")


@dataclass(frozen=True)
class SourceReport:
    """What gathering one source did."""

    key: str
    name: str
    kind: str  # rss | atom | json | page | documents, or the configured kind when reading failed
    status: str  # ok | not-modified | error
    new: int = 0
    updated: int = 0
    entries: int = 0
    error: str | None = None
    failures: int = 0  # consecutive failures, this one included
    warning: str | None = None  # something was wrong but the source was read (e.g. recovered XML)
    http_status: int | None = None
    fetched_from: str | None = None  # the address fetched, when it is not the configured one
    moved_to: str | None = None  # a permanent redirect pointed here; update the config
    failing_since: datetime | None = None
    alarm: bool = False  # failing for longer than gather.warn_after_hours

    @property
    def alarm_message(self) -> str:
        """Return the loud line for a source that has been failing too long."""
        since = self.failing_since.strftime("%Y-%m-%d %H:%M UTC") if self.failing_since else "?"
        return (f"source {self.name} has been failing since {since} ({self.failures} attempts in a row): "
                f"{self.error}; fix or remove it")


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

    @property
    def alarms(self) -> list[SourceReport]:
        """Return the sources failing for longer than the configured warning threshold."""
        return [s for s in self.sources if s.alarm]

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain data for ``--json``."""
        return {"new": self.new, "failed": len(self.failed), "alarms": [s.key for s in self.alarms],
                "sources": [asdict(s) for s in self.sources]}


@dataclass(frozen=True)
class _State:
    """What the store remembers about a source between runs."""

    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class _Outcome:
    settings: SourceSettings
    kind: str
    name: str
    parsed: Parsed | None = None  # None: not modified, or failed
    fetched: Fetched | None = None
    content_hash: str | None = None
    error: str | None = None
    http_status: int | None = None
    forget_permanent: bool = False


def limits(config: Config) -> Limits:
    """Return the fetching limits the ``[gather]`` settings describe."""
    g = config.gather
    return Limits(concurrency=g.concurrency, per_host=g.per_host, timeout=g.timeout, max_bytes=g.max_bytes,
                  user_agent=g.user_agent)


def gather(
    config: Config,
    store: Store,
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
    readers: Executor | None = None,
) -> GatherReport:
    """Fetch every source, store new items, record each source's health, and report.

    Feeds are read in ``readers`` if given (see ``parsers.pool``), else in a pool of
    this call's own when that is safe, else in threads.
    """
    progress = progress or Silent()
    moment = to_db(clock()) if clock is not None else now()
    assert moment is not None
    sources = config.sources
    progress.start("gather", len(sources))
    t = store.t
    with store.begin() as conn:
        states = {r.key: _State(r.etag, r.last_modified, r.permanent_url, r.content_hash)
                  for r in conn.execute(sa.select(t.sources.c.key, t.sources.c.etag, t.sources.c.last_modified,
                                                  t.sources.c.permanent_url, t.sources.c.content_hash))}

    reports: list[SourceReport | None] = [None] * len(sources)
    ready: asyncio.Queue[tuple[int, _Outcome]] = asyncio.Queue()

    async def one(i: int, source: SourceSettings, fetcher: Fetcher) -> None:
        ready.put_nowait((i, await _collect(config, fetcher, source, states.get(source.key, _State()), executor)))

    async def write() -> None:
        # One writer (SQLite would make others sleep and retry), storing every outcome that
        # is waiting in one transaction: a commit per batch, not one per source.
        left = len(sources)
        while left:
            batch = [await ready.get()]
            while not ready.empty():
                batch.append(ready.get_nowait())
            left -= len(batch)
            recorded = await asyncio.to_thread(_record_all, store, [o for _, o in batch], moment,
                                               config.gather.warn_after_hours)
            for (i, _), report in zip(batch, recorded, strict=True):
                reports[i] = report
                progress.advance(f"{report.name}: {report.status}")
                if report.error:
                    log.warning("source %s failed: %s", report.name, report.error)
                elif report.warning:
                    log.info("source %s: %s", report.name, report.warning)

    async def run_all() -> list[SourceReport]:
        async with Fetcher(limits(config)) as fetcher:
            await asyncio.gather(write(), *(one(i, s, fetcher) for i, s in enumerate(sources)))
        return [r for r in reports if r is not None]

    executor = readers or parsers.pool(parsers.feeds(config))
    try:
        return GatherReport(_run(run_all))
    finally:
        if executor is not None and executor is not readers:
            executor.shutdown()


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion, in a thread of its own when this one already has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work())
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(work()))
        except BaseException as e:  # noqa: BLE001 - re-raised in the calling thread
            failure.append(e)

    thread = threading.Thread(target=target, name="newsletter-gather")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _collect(config: Config, fetcher: Fetcher, source: SourceSettings, state: _State,
                   executor: Executor | None = None) -> _Outcome:
    """Fetch and read one source; never raise (the failure is part of the outcome)."""
    where = kind_of(config, source)
    kind = source.kind or ("documents" if where == "documents" else "feed")
    name = source.name or (source.url or source.path or "")
    address = state.permanent_url or source.url or ""
    try:
        if where == "documents":
            parsed = await asyncio.to_thread(_read_documents, config, source)
            return _Outcome(source, "documents", parsed.title, parsed)
        if where == "file":
            fetched = await asyncio.to_thread(_read_file, _file_path(config, source), config.gather.max_bytes)
        else:
            fetched = await fetcher.fetch(address, etag=state.etag, last_modified=state.last_modified)
        if fetched.content is None:
            return _Outcome(source, kind, name, None, fetched, state.content_hash, http_status=fetched.status)
        digest = hashlib.sha256(fetched.content).hexdigest()
        if digest == state.content_hash:  # unchanged although the server sent it again
            return _Outcome(source, kind, name, None, fetched, digest, http_status=fetched.status)
        parsed = await parsers.read(executor, fetched.content, base_url=fetched.url or source.url or "",
                                    content_type=fetched.content_type, hint=source.kind)
        return _Outcome(source, parsed.kind, source.name or parsed.title or name, parsed, fetched, digest,
                        http_status=fetched.status)
    except HttpError as e:
        forget = bool(state.permanent_url) and 400 <= e.status < 500
        return _Outcome(source, kind, name, error=str(e), http_status=e.status, forget_permanent=forget)
    except SourceError as e:
        return _Outcome(source, kind, name, error=str(e))
    except Exception as e:  # noqa: BLE001 - a source must never stop the others
        log.debug("source %s crashed", name, exc_info=True)
        return _Outcome(source, kind, name, error=f"unexpected error: {type(e).__name__}: {e}")


def _read_documents(config: Config, source: SourceSettings) -> Parsed:
    from newsletter import document  # only where a source is a folder of documents

    folder = config.resolve(source.path or "")
    entries = []
    for path in document.scan(folder):
        entries.extend(document.entries(path, relative_to=folder))
    return Parsed(source.name or folder.name, entries, kind="documents")


def _read_file(path: Path, max_bytes: int) -> Fetched:
    """Read a source saved on disk, within the same size cap as a download."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FeedError(f"file too large ({size:,} bytes; limit {max_bytes:,})")
        return Fetched(path.read_bytes(), url=path.as_uri())
    except OSError as e:
        raise FeedError(f"cannot read {path}: {e.strerror or e}") from e


def _file_path(config: Config, source: SourceSettings) -> Path:
    if source.url:
        return Path(unquote(urlsplit(source.url).path))
    return config.resolve(source.path or "")


def _record_all(store: Store, outcomes: list[_Outcome], moment: datetime, warn_after_hours: float
                ) -> list[SourceReport]:
    """Record outcomes in one transaction; if a concurrent gather got in the way, one by one."""
    try:
        with store.begin() as conn:
            return [_record_in(conn, store, outcome, moment, warn_after_hours) for outcome in outcomes]
    except sa.exc.IntegrityError:
        return [_record_safely(store, outcome, moment, warn_after_hours) for outcome in outcomes]


def _record_safely(store: Store, outcome: _Outcome, moment: datetime, warn_after_hours: float) -> SourceReport:
    """Record an outcome; a gather running at the same time in another process may win a race once."""
    for attempt in (1, 2):
        try:
            return _record(store, outcome, moment, warn_after_hours)
        except sa.exc.IntegrityError as e:
            if attempt == 2:
                raise StoreError(f"source {outcome.name}: cannot record what was gathered: {e.orig}") from e
            log.info("source %s: stored by a concurrent gather meanwhile; recording again", outcome.name)
    raise AssertionError("unreachable")


def _record(store: Store, outcome: _Outcome, moment: datetime, warn_after_hours: float) -> SourceReport:
    """Store the outcome of one source in one transaction and return its report."""
    with store.begin() as conn:
        return _record_in(conn, store, outcome, moment, warn_after_hours)


def _record_in(conn: sa.Connection, store: Store, outcome: _Outcome, moment: datetime,
               warn_after_hours: float) -> SourceReport:
    """Store the outcome of one source in the caller's transaction and return its report."""
    t = store.t
    key = outcome.settings.key
    row = conn.execute(sa.select(t.sources).where(t.sources.c.key == key)).mappings().first()
    if row is None:
        source_id = conn.execute(t.sources.insert().values(
            key=key, kind=outcome.kind, name=outcome.name, created_at=moment)).inserted_primary_key[0]
        row = {"failures": 0, "failing_since": None, "permanent_url": None, "name": "", "kind": ""}
    else:
        source_id = row["id"]
    where = t.sources.c.id == source_id
    # Unread (failed or unchanged), a source keeps the title and kind its last reading found.
    unread = outcome.parsed is None and outcome.kind != "documents"
    name = outcome.settings.name or (row["name"] if unread and row["name"] else outcome.name)
    kind = row["kind"] if unread and row["kind"] else outcome.kind
    base = SourceReport(key, name, kind, "error", http_status=outcome.http_status,
                        fetched_from=row["permanent_url"])
    if outcome.error is not None:
        failures = row["failures"] + 1
        since = row["failing_since"] or moment
        values: dict[str, Any] = dict(
            last_status="error", last_error=outcome.error, failures=failures, last_attempt_at=moment,
            failing_since=since, last_http_status=outcome.http_status)
        if outcome.forget_permanent:
            values["permanent_url"] = None
        conn.execute(t.sources.update().where(where).values(**values))
        alarm = moment - since >= timedelta(hours=warn_after_hours)
        return replace(base, error=outcome.error, failures=failures, failing_since=since, alarm=alarm)
    fetched = outcome.fetched
    values = dict(name=name, kind=kind, last_error=None, failures=0, failing_since=None,
                  last_attempt_at=moment, last_success_at=moment, last_http_status=outcome.http_status)
    if outcome.parsed is not None:
        values["last_warning"] = outcome.parsed.warning
    moved = None
    if fetched is not None:
        values.update(etag=fetched.etag, last_modified=fetched.last_modified,
                      content_hash=outcome.content_hash)
        if fetched.permanent_url and fetched.permanent_url != outcome.settings.url:
            values["permanent_url"] = moved = fetched.permanent_url
    if outcome.parsed is None:
        conn.execute(t.sources.update().where(where).values(last_status="not-modified", **values))
        return replace(base, status="not-modified", moved_to=moved,
                       fetched_from=values.get("permanent_url", row["permanent_url"]))
    new, updated = store_entries(store, conn, source_id, outcome.parsed.entries, moment)
    conn.execute(t.sources.update().where(where).values(last_status="ok", **values))
    return replace(base, status="ok", new=new, updated=updated, entries=len(outcome.parsed.entries),
                   warning=outcome.parsed.warning, moved_to=moved,
                   fetched_from=values.get("permanent_url", row["permanent_url"]))
