"""A clock a test moves by hand, passed in wherever the app takes a clock."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """Return ``now`` when called; the test sets or advances it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
