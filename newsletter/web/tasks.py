"""Desk tasks: the long work the desk starts (send an issue, gather), one background thread at a time.

A request only starts the task and returns; the desk shows how it is going from the
store (delivery counts) and from the task's record here. One task at a time: a second
"send" while one runs is refused rather than queued, so a double click cannot send twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from newsletter.error import NewsletterError

log = logging.getLogger("newsletter.web")


@dataclass(frozen=True)
class Task:
    """One piece of background work and how it ended."""

    kind: str  # send | gather
    started_at: datetime
    finished_at: datetime | None = None
    message: str = ""
    failed: bool = False

    @property
    def running(self) -> bool:
        """Return whether the task has not finished yet."""
        return self.finished_at is None


class Busy(NewsletterError):
    """Another task is still running."""


class Tasks:
    """Run one task at a time in a daemon thread and remember the latest."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.latest: Task | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, kind: str, work: Callable[[], str]) -> Task:
        """Start ``work`` (which returns a line saying what it did); raise Busy if a task is running."""
        with self._lock:
            if self.latest is not None and self.latest.running:
                raise Busy(f"a {self.latest.kind} is still running (started {self.latest.started_at:%H:%M:%S})")
            task = self.latest = Task(kind, self.clock())
            self._thread = threading.Thread(target=self._run, args=(task, work), name=f"desk-{kind}", daemon=True)
            self._thread.start()
        return task

    def _run(self, task: Task, work: Callable[[], str]) -> None:
        try:
            done = replace(task, message=work())
        except NewsletterError as e:
            done = replace(task, message=str(e), failed=True)
        except Exception as e:  # a boundary: the desk must hear of any failure, not a dead thread
            log.exception("desk %s failed", task.kind)
            done = replace(task, message=f"{type(e).__name__}: {e}", failed=True)
        with self._lock:
            self.latest = replace(done, finished_at=self.clock())

    def wait(self, timeout: float | None = None) -> Task | None:
        """Wait for the running task to end (tests, shutdown); return the latest task."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.latest
