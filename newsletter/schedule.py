"""The schedule: cron expressions with day names, and which runs are due at a given moment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from newsletter.error import ConfigError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def trigger(expression: str, zone: ZoneInfo, *, key: str = "schedule.cron") -> CronTrigger:
    """Return the APScheduler trigger for a five-field cron expression with day names.

    Numbers in the day-of-week field are refused: cron counts Sunday as 0, APScheduler
    counts Monday as 0, and an editor should not have to know which one is meant.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ConfigError(
            f"{key}: expected five fields 'minute hour day month day-of-week', got {expression!r}"
        )
    minute, hour, day, month, weekday = fields
    if re.search(r"\d", weekday.replace("*/", "")):
        raise ConfigError(
            f"{key}: use day names in the day-of-week field (mon, tue, … sun, or mon-fri), not numbers: "
            f"{expression!r}"
        )
    for name in re.findall(r"[a-z]+", weekday.lower()):
        if name not in DAY_NAMES:
            raise ConfigError(f"{key}: unknown day {name!r} in {expression!r} (use {', '.join(DAY_NAMES)})")

    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday.lower(),
                           timezone=zone)
    except ValueError as e:
        raise ConfigError(f"{key}: invalid cron expression {expression!r}: {e}") from e


def fire_times(cron: CronTrigger, after: datetime, until: datetime) -> list[datetime]:
    """Return every fire time in ``(after, until]``, oldest first.

    In the hour repeated when clocks go back, a job at a fixed time fires once, as
    cron does; the search steps in UTC because wall-clock steps there go round in circles.
    """
    times: list[datetime] = []
    moment = after.astimezone(UTC)
    last_wall = None
    while True:
        nxt = cron.get_next_fire_time(None, moment)
        if nxt is None or nxt.astimezone(UTC) > until.astimezone(UTC):
            return times
        wall = nxt.replace(tzinfo=None, fold=0)
        if nxt.astimezone(UTC) > after.astimezone(UTC) and wall != last_wall:
            times.append(nxt)
        last_wall = wall
        moment = nxt.astimezone(UTC) + timedelta(microseconds=1)


def next_time(cron: CronTrigger, now: datetime) -> datetime | None:
    """Return the first fire time after ``now``."""
    return cron.get_next_fire_time(None, now.astimezone(UTC) + timedelta(microseconds=1))


@dataclass(frozen=True)
class Due:
    """What the schedule says about one job at one moment."""

    at: datetime | None  # the fire time to act on now (missed ones coalesced into it), if any
    first: datetime | None = None  # the earliest fire time not yet handled
    late: bool = False  # fire times passed, but the latest is beyond the grace period


def due(cron: CronTrigger, *, last: datetime, now: datetime, grace: timedelta) -> Due:
    """Return the run due at ``now``, given the last fire time already handled.

    Fire times missed while nothing ran collapse into the latest one, which runs
    once if it is within ``grace`` of now, and not at all otherwise.
    """
    first = next_time(cron, last)
    if first is None or first > now:
        return Due(None)
    recent = fire_times(cron, max(last, now - grace - timedelta(microseconds=1)), now)
    if not recent:
        return Due(None, first, late=True)
    return Due(recent[-1], first)
