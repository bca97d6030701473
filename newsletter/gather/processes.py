"""Reader processes: read fetched feeds on every core, when that is safe.

feedparser is pure Python, so reading a hundred feeds keeps one core busy for about
a second while the others idle. When the process has a single thread, a pool of
forked worker processes reads them instead. Forking is only safe before any other
thread exists (a lock held by another thread would stay held in the child), so the
workers are all started at once, here, before gathering starts its event loop;
with other threads around (the scheduler daemon, the web app) reading stays in
process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from newsletter.config import Config, kind_of
from newsletter.gather import readers
from newsletter.item import Parsed

MIN_SOURCES = 8  # fewer feeds than this are read faster than workers start


def feeds(config: Config) -> int:
    """Return how many sources of ``config`` are read by a parser (all but document folders)."""
    return sum(1 for source in config.sources if kind_of(config, source) != "documents")


def pool(sources: int) -> Executor | None:
    """Return a started pool of forked readers, or None where reading should stay in process."""
    cores = os.cpu_count() or 1
    if (sources < MIN_SOURCES or cores < 2 or threading.active_count() != 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        return None
    workers = min(cores, 4)
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    # With fork, the first submit starts every worker before the executor's own thread exists:
    # CPython spawns fork workers all at once, never on demand, for this very reason (gh-90622).
    executor.submit(int)
    return executor


async def read(executor: Executor | None, content: bytes, **options: Any) -> Parsed:
    """Read ``content`` (see ``readers.read``) in the pool if there is one, else in a thread."""
    if executor is None:
        return await asyncio.to_thread(_read, content, options)
    return await asyncio.get_running_loop().run_in_executor(executor, _read, content, options)


def _read(content: bytes, options: dict[str, Any]) -> Parsed:
    return readers.read(content, **options)
