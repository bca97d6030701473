"""Gather: fetch every configured source concurrently and store the new items once.

The entry point is ``gather()``. Fetching is ``fetch``; reading a document is
``readers`` (in the worker ``processes`` when that is safe); what a source gave is an
``outcome.FetchOutcome``; ``sources`` records it (validators, health) and ``intake`` its
new items. How long the whole gather took is kept for the metrics (``insight.timings``).

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
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from newsletter.config import Config, SourceSettings, kind_of
from newsletter.error import FeedError, SourceError
from newsletter.gather import addresses, processes
from newsletter.gather.addresses import RedirectRefused
from newsletter.gather.fetch import Fetched, Fetcher, HttpError
from newsletter.gather.outcome import FetchOutcome, GatherReport, SourceReport
from newsletter.gather.readers import document
from newsletter.gather.sources import State, record_all, states
from newsletter.insight import timings
from newsletter.item import Parsed, cap
from newsletter.progress import Progress, Silent
from newsletter.store import Store, to_db

log = logging.getLogger("newsletter.gather")
T = TypeVar("T")


def gather(
    config: Config,
    store: Store,
    *,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
    readers: Executor | None = None,
    resolve: addresses.Resolver = addresses.resolve,
) -> GatherReport:
    """Fetch every source, store new items, record each source's health and the time taken, and report.

    Feeds are read in ``readers`` if given (see ``processes.pool``), else in a pool of
    this call's own when that is safe, else in threads. ``resolve`` looks up the
    addresses of a host a redirect leads to (``addresses``).
    """
    started = time.monotonic()
    progress = progress or Silent()
    moment = to_db(clock() if clock is not None else datetime.now(UTC))
    assert moment is not None
    sources = config.sources
    progress.start("gather", len(sources))
    remembered = states(store)
    reports: list[SourceReport | None] = [None] * len(sources)
    ready: asyncio.Queue[tuple[int, FetchOutcome]] = asyncio.Queue()

    async def one(i: int, source: SourceSettings, fetcher: Fetcher) -> None:
        ready.put_nowait((i, await _collect(config, fetcher, source, remembered.get(source.key, State()), executor)))

    async def write() -> None:
        # One writer (SQLite would make others sleep and retry), storing every outcome that
        # is waiting in one transaction: a commit per batch, not one per source.
        left = len(sources)
        while left:
            batch = [await ready.get()]
            while not ready.empty():
                batch.append(ready.get_nowait())
            left -= len(batch)
            recorded = await asyncio.to_thread(record_all, store, [o for _, o in batch], moment,
                                               config.gather.warn_after_hours)
            for (i, _), report in zip(batch, recorded, strict=True):
                reports[i] = report
                progress.advance(f"{report.name}: {report.status}")
                if report.error:
                    log.warning("source %s failed: %s", report.name, report.error)
                elif report.warning:
                    log.info("source %s: %s", report.name, report.warning)

    async def run_all() -> list[SourceReport]:
        async with Fetcher(config.gather, resolve=resolve) as fetcher:
            await asyncio.gather(write(), *(one(i, s, fetcher) for i, s in enumerate(sources)))
        return [r for r in reports if r is not None]

    executor = readers or processes.pool(processes.feeds(config))
    try:
        report = GatherReport(_run(run_all))
    finally:
        if executor is not None and executor is not readers:
            executor.shutdown()
    timings.record(store, "gather", time.monotonic() - started)  # for the metrics
    return report


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
                   executor: Executor | None = None) -> FetchOutcome:
    """Fetch and read one source; never raise (the failure is part of the outcome)."""
    where = kind_of(config, source)
    kind = source.kind or ("documents" if where == "documents" else "feed")
    address = state.permanent_url or source.url or ""
    try:
        if where == "documents":
            parsed = await asyncio.to_thread(_read_documents, config, source)
            return FetchOutcome(source, "documents", parsed)
        if where == "file":
            fetched = await asyncio.to_thread(_read_file, _file_path(config, source), config.gather.max_bytes)
        else:
            fetched = await fetcher.fetch(address, etag=state.etag, last_modified=state.last_modified,
                                          configured=source.url)
        if fetched.content is None:
            return FetchOutcome(source, kind, None, fetched, state.content_hash, http_status=fetched.status)
        digest = hashlib.sha256(fetched.content).hexdigest()
        if digest == state.content_hash:  # unchanged although the server sent it again
            return FetchOutcome(source, kind, None, fetched, digest, http_status=fetched.status)
        parsed = await processes.read(executor, fetched.content, base_url=fetched.url or source.url or "",
                                    content_type=fetched.content_type, hint=source.kind)
        return FetchOutcome(source, parsed.kind, parsed, fetched, digest, http_status=fetched.status)
    except HttpError as e:
        forget = bool(state.permanent_url) and 400 <= e.status < 500
        return FetchOutcome(source, kind, error=str(e), http_status=e.status, forget_permanent=forget)
    except RedirectRefused as e:  # a permanent redirect remembered before the rule existed goes too
        return FetchOutcome(source, kind, error=str(e), forget_permanent=bool(state.permanent_url))
    except SourceError as e:
        return FetchOutcome(source, kind, error=str(e))
    except Exception as e:  # noqa: BLE001 - a source must never stop the others
        log.debug("source %s crashed", source.key, exc_info=True)
        return FetchOutcome(source, kind, error=f"unexpected error: {type(e).__name__}: {e}")


def _read_documents(config: Config, source: SourceSettings) -> Parsed:
    """Read a folder of documents; links out of it and files over ``gather.max_bytes`` are skipped and said."""
    folder = config.resolve(source.path or "")
    limit = config.gather.max_bytes
    paths, skipped = document.scan(folder, max_bytes=limit)
    entries = []
    for path in paths:
        entries.extend(document.entries(path, relative_to=folder, max_bytes=limit))
    for reason in skipped:
        log.warning("source %s: %s", source.name or folder.name, reason)
    return cap(Parsed(source.name or folder.name, entries, kind="documents", warning="; ".join(skipped) or None))


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


__all__ = ["GatherReport", "SourceReport", "gather"]
