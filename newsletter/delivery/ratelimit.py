"""The rate limit: sends spaced exactly ``1/rate`` seconds apart, across connections and workers.

``RateLimit`` is shared by the connections of one process. ``SharedRateLimit`` is the
same limit for every worker on the database, on one host or many: each worker takes
the slots it sends in from a series kept in the store, a short block at a time, so
no two workers ever send in the same slot and the provider's limit holds in total.
Its next block is reserved ahead (``prepare``, which the producer calls between the
messages it builds), so a connection does not wait for the database to get a slot.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import sqlalchemy as sa

from newsletter.store import Store

SERIES = "smtp"  # the one series of send slots a database keeps (migration 0008 creates it)
BLOCK_SECONDS = 0.1  # a worker reserves this much of the series at a time


class Clock(Protocol):
    """Where the limit reads the time and how it waits; tests pass one they control."""

    def now(self) -> float:
        """Return the time in seconds; it never goes back."""

    def sleep_until(self, moment: float) -> None:
        """Return once ``now()`` has reached ``moment``."""


class SystemClock:
    """The real clock: monotonic, for a limit within one process."""

    def now(self) -> float:
        return time.monotonic()

    def sleep_until(self, moment: float) -> None:
        wait = moment - self.now()
        if wait > 0:
            time.sleep(wait)


class EpochClock(SystemClock):
    """The real clock as seconds since the epoch: the time every worker on every host shares."""

    def now(self) -> float:
        return time.time()


class RateLimit:
    """Grant at most ``rate`` sends per second across all threads, with no burst.

    Slots are ``start + k/rate`` for k = 0, 1, 2, …, so any half-open window of one
    second holds at most ``ceil(rate)`` of them, however many threads ask. A limit
    left idle starts a fresh series rather than saving up slots: providers such as
    SES count per second and do not forgive a burst after a pause.
    """

    def __init__(self, rate: float, clock: Clock | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be greater than 0")
        self.rate = rate
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._start = 0.0
        self._count = 0
        self._fresh = True

    def reserve(self) -> float:
        """Take the next slot and return its time on the clock (it may be in the future)."""
        with self._lock:
            now = self.clock.now()
            if self._fresh or self._start + self._count / self.rate < now:
                self._start, self._count, self._fresh = now, 0, False
            slot = self._start + self._count / self.rate
            self._count += 1
        return slot

    def acquire(self) -> float:
        """Wait for the next slot and return its time."""
        slot = self.reserve()
        self.clock.sleep_until(slot)
        return slot

    def prepare(self) -> None:
        """Do ahead of time what a later ``acquire`` would otherwise wait for (nothing, in one process)."""


class SharedRateLimit(RateLimit):
    """The limit of every worker on ``store``'s database together.

    A worker reserves the next ``BLOCK_SECONDS`` of the store's series (which restarts
    at the present when idle, like ``RateLimit``): that stretch of time is its own.
    Within it, its connections send one after another at least ``1/rate`` apart and
    never later than one interval before its end, so sends are never closer than
    ``1/rate`` whichever worker makes them. Once half of the stretch is handed out,
    ``prepare`` reserves the next one; a connection reserves one itself only when none
    is ready nor on its way, and one reserved ahead that has passed unused is dropped.
    """

    def __init__(self, store: Store, rate: float, clock: Clock | None = None) -> None:
        super().__init__(rate, clock or EpochClock())
        self.store = store
        self.block = max(1, round(rate * BLOCK_SECONDS))  # slots per reservation
        self._next = self._last = -1.0  # the next free moment and the last slot of this worker's stretch
        self._ahead: float | None = None  # the first slot of the stretch reserved ahead, if any
        self._reserving = False  # a reservation ahead is on its way
        self._reserved = threading.Condition(self._lock)

    def reserve(self) -> float:
        with self._reserved:
            now = self.clock.now()
            slot = max(now, self._next)
            while slot > self._last:  # past this worker's stretch: on to the next
                if self._ahead is not None:
                    start, self._ahead = self._ahead, None
                    slot, self._last = max(now, start), start + (self.block - 1) / self.rate
                elif self._reserving:
                    self._reserved.wait()
                    now = self.clock.now()
                    slot = max(now, self._next)
                else:
                    slot = self._take(now)
                    self._last = slot + (self.block - 1) / self.rate
            self._next = slot + 1 / self.rate
            return slot

    def prepare(self) -> None:
        """Reserve the next stretch once half of this one is handed out, unless one is ready or on its way."""
        with self._reserved:
            if self._ahead is not None or self._reserving or self._next <= self._last - self.block / 2 / self.rate:
                return
            self._reserving = True
        start = None
        try:
            start = self._take(self.clock.now())
        finally:
            with self._reserved:
                self._ahead, self._reserving = start, False
                self._reserved.notify_all()

    def _take(self, now: float) -> float:
        """Reserve the next block of the store's series; return the time of its first slot."""
        t = self.store.t.send_rate
        with self.store.begin() as conn:
            free = conn.execute(sa.select(t.c.next_at).where(t.c.series == SERIES).with_for_update()).scalar_one()
            start = max(now, free)
            conn.execute(t.update().where(t.c.series == SERIES).values(next_at=start + self.block / self.rate))
        return start
