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
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

from newsletter import parsers
from newsletter.config import Config, SourceSettings, kind_of
from newsletter.error import FeedError, SourceError
from newsletter.fetcher import Fetched, Fetcher, HttpError, Limits
from newsletter.item import Parsed
from newsletter.progress import Progress, Silent

if TYPE_CHECKING:
    from newsletter.store import Store

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
class State:
    """What the store remembers about a source between runs."""

    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class Outcome:
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
    store: Store | Callable[[], Store],
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
    readers: Executor | None = None,
) -> GatherReport:
    """Fetch every source, store new items, record each source's health, and report.

    ``store`` may also be a function that opens it. Then, when the sources' validators
    can be read without it (see ``peek``), the requests leave at once and the store is
    opened (the database layer loaded, the schema migrated) in a thread meanwhile.
    Feeds are read in ``readers`` if given (see ``parsers.pool``), else in a pool of
    this call's own when that is safe, else in threads.
    """
    progress = progress or Silent()
    started = clock() if clock is not None else datetime.now(UTC)
    sources = config.sources
    progress.start("gather", len(sources))
    opener, opened = (store, None) if callable(store) else (None, store)
    remembered = peek(config.database_url) if opener is not None else None
    if remembered is None:
        opened = opener() if opener is not None else opened
        assert opened is not None
        opener = None
        from newsletter import gathered

        remembered = gathered.states(opened)

    reports: list[SourceReport | None] = [None] * len(sources)
    ready: asyncio.Queue[tuple[int, Outcome]] = asyncio.Queue()

    async def one(i: int, source: SourceSettings, fetcher: Fetcher) -> None:
        ready.put_nowait((i, await _collect(config, fetcher, source, remembered.get(source.key, State()), executor)))

    async def write(opening: asyncio.Future[Store] | None) -> None:
        # One writer (SQLite would make others sleep and retry), storing every outcome that
        # is waiting in one transaction: a commit per batch, not one per source.
        db = await opening if opening is not None else opened
        from newsletter import gathered  # loaded by now: opening the store loads the database layer
        from newsletter.store import to_db

        moment = to_db(started)
        assert db is not None and moment is not None
        left = len(sources)
        while left:
            batch = [await ready.get()]
            while not ready.empty():
                batch.append(ready.get_nowait())
            left -= len(batch)
            recorded = await asyncio.to_thread(gathered.record_all, db, [o for _, o in batch], moment,
                                               config.gather.warn_after_hours)
            for (i, _), report in zip(batch, recorded, strict=True):
                reports[i] = report
                progress.advance(f"{report.name}: {report.status}")
                if report.error:
                    log.warning("source %s failed: %s", report.name, report.error)
                elif report.warning:
                    log.info("source %s: %s", report.name, report.warning)

    async def run_all() -> list[SourceReport]:
        opening = asyncio.ensure_future(asyncio.to_thread(_open, opener)) if opener is not None else None
        async with Fetcher(limits(config)) as fetcher:
            await asyncio.gather(write(opening), *(one(i, s, fetcher) for i, s in enumerate(sources)))
        return [r for r in reports if r is not None]

    executor = readers or parsers.pool(parsers.feeds(config))
    try:
        return GatherReport(_run(run_all))
    finally:
        if executor is not None and executor is not readers:
            executor.shutdown()


def _open(opener: Callable[[], Store]) -> Store:
    from newsletter import gathered  # noqa: F401 - loads the database layer here, off the event loop

    return opener()


def peek(database_url: str) -> dict[str, State] | None:
    """Return the sources' validators read straight from an SQLite file, without the database layer.

    {} when the file does not exist yet; None when only the store can tell (another
    database, options in the URL, an unreadable file or an unexpected schema).
    """
    prefix = "sqlite:///"
    path = database_url[len(prefix):]
    if not database_url.startswith(prefix) or not path or path == ":memory:" or "?" in path:
        return None
    if not Path(path).exists():
        return {}
    try:
        with closing(sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=5)) as conn:
            rows = conn.execute("SELECT key, etag, last_modified, permanent_url, content_hash FROM sources").fetchall()
    except sqlite3.Error:
        return None
    return {key: State(etag, modified, permanent, digest) for key, etag, modified, permanent, digest in rows}


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


async def _collect(config: Config, fetcher: Fetcher, source: SourceSettings, state: State,
                   executor: Executor | None = None) -> Outcome:
    """Fetch and read one source; never raise (the failure is part of the outcome)."""
    where = kind_of(config, source)
    kind = source.kind or ("documents" if where == "documents" else "feed")
    name = source.name or (source.url or source.path or "")
    address = state.permanent_url or source.url or ""
    try:
        if where == "documents":
            parsed = await asyncio.to_thread(_read_documents, config, source)
            return Outcome(source, "documents", parsed.title, parsed)
        if where == "file":
            fetched = await asyncio.to_thread(_read_file, _file_path(config, source), config.gather.max_bytes)
        else:
            fetched = await fetcher.fetch(address, etag=state.etag, last_modified=state.last_modified)
        if fetched.content is None:
            return Outcome(source, kind, name, None, fetched, state.content_hash, http_status=fetched.status)
        digest = hashlib.sha256(fetched.content).hexdigest()
        if digest == state.content_hash:  # unchanged although the server sent it again
            return Outcome(source, kind, name, None, fetched, digest, http_status=fetched.status)
        parsed = await parsers.read(executor, fetched.content, base_url=fetched.url or source.url or "",
                                    content_type=fetched.content_type, hint=source.kind)
        return Outcome(source, parsed.kind, source.name or parsed.title or name, parsed, fetched, digest,
                        http_status=fetched.status)
    except HttpError as e:
        forget = bool(state.permanent_url) and 400 <= e.status < 500
        return Outcome(source, kind, name, error=str(e), http_status=e.status, forget_permanent=forget)
    except SourceError as e:
        return Outcome(source, kind, name, error=str(e))
    except Exception as e:  # noqa: BLE001 - a source must never stop the others
        log.debug("source %s crashed", name, exc_info=True)
        return Outcome(source, kind, name, error=f"unexpected error: {type(e).__name__}: {e}")


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
