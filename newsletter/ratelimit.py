"""A global rate limit shared by every connection: sends spaced exactly ``1/rate`` seconds apart."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Where the limit reads the time and how it waits; tests pass one they control."""

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes back."""

    def sleep_until(self, moment: float) -> None:
        """Return once ``monotonic()`` has reached ``moment``."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep_until(self, moment: float) -> None:
        wait = moment - time.monotonic()
        if wait > 0:
            time.sleep(wait)


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
            now = self.clock.monotonic()
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
