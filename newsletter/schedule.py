"""The schedule: cron expressions with day names, which runs are due at a given moment, and local hours.

A local hour (``[schedule] local_time``) is a wall-clock time: ``first_at`` finds when a clock
in a given zone next shows it, which is when ``delivery.waves`` makes each reader's copy due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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


def local_time(text: str, *, key: str = "schedule.local_time") -> time | None:
    """Return the wall-clock time ``"07:00"`` stands for (24-hour ``H:MM`` or ``HH:MM``); None for ``""``."""
    if not text:
        return None
    match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"{key}: expected a 24-hour time like \"07:00\" (or \"\" for none), got {text!r}")
    return time(int(match[1]), int(match[2]))


def first_at(moment: datetime, at: time, zone: ZoneInfo) -> datetime:
    """Return the first moment not earlier than ``moment`` at which a clock in ``zone`` shows ``at`` (in UTC).

    Daylight-saving changes follow RFC 5545 (iCalendar). A time the clocks skip (02:30 on a
    spring-forward night, when 02:00 jumps to 03:00) is read with the offset from before the
    jump: it comes as long after the jump as it was meant to come after 02:00 (03:30). A time
    the clocks show twice (01:30 on an autumn night) is its first showing, or, once that has
    passed, its second: the clock does show it again, and nobody gets the issue twice.
    """
    moment = moment.astimezone(UTC)
    day = moment.astimezone(zone).date()
    for _ in range(3):  # today or tomorrow on the zone's clock; one more day for a zone that skips one
        for candidate in _showings(day, at, zone):
            if candidate >= moment:
                return candidate
        day += timedelta(days=1)
    raise AssertionError(f"no {at} in {zone} within three days of {moment}")  # every day shows some time


def _showings(day: date, at: time, zone: ZoneInfo) -> list[datetime]:
    """Return the moments (in UTC, earliest first) at which the clock in ``zone`` shows ``at`` on ``day``.

    Compared in UTC: two datetimes in one zone compare by wall time, blind to ``fold``.
    """
    wall = datetime.combine(day, at)
    shown = {local.astimezone(UTC) for fold in (0, 1)
             if (local := wall.replace(tzinfo=zone, fold=fold)).astimezone(UTC).astimezone(zone).replace(
                 tzinfo=None) == wall}
    if not shown:  # skipped by the clocks: the offset from before the jump
        return [wall.replace(tzinfo=zone, fold=0).astimezone(UTC)]
    return sorted(shown)
