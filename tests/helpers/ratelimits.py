"""Rate limits on a clock the test controls: time moves only when someone waits, and every granted slot is kept."""

from __future__ import annotations

import threading

from newsletter.delivery.ratelimit import RateLimit, SharedRateLimit
from newsletter.store import Store


class FakeClock:
    """Time that moves only when someone waits: a wait jumps to its end at once."""

    def __init__(self) -> None:
        self.at = 0.0
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.at

    def sleep_until(self, moment: float) -> None:
        with self.lock:
            self.at = max(self.at, moment)


class Logged:
    """Keeps every slot a rate limit granted."""

    granted: list[float]

    def acquire(self) -> float:
        slot = super().acquire()  # type: ignore[misc]
        with self._log:
            self.granted.append(slot)
        return slot

    def _start_log(self) -> None:
        self.granted = []
        self._log = threading.Lock()


class Counting(Logged, RateLimit):
    """A rate limit that keeps every slot it granted."""

    def __init__(self, rate: float, clock: FakeClock) -> None:
        super().__init__(rate, clock)
        self._start_log()


class SharedCounting(Logged, SharedRateLimit):
    """A worker's share of the database's rate limit, keeping every slot it granted."""

    def __init__(self, store: Store, rate: float, clock: FakeClock) -> None:
        super().__init__(store, rate, clock)
        self._start_log()


def most_in_one_second(slots: list[float]) -> int:
    """Return the largest number of slots in any half-open one-second window."""
    slots = sorted(slots)
    return max(sum(1 for t in slots if start <= t < start + 1) for start in slots)
