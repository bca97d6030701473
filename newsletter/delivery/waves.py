"""Due times: when each reader's copy of an issue falls due, and the waves the outbox waits in.

With ``[schedule] local_time`` set, an issue queued now is due, for each reader, at the first
``local_time`` on their own clock that is not earlier than now (``schedule.first_at``): in their
zone (``subscribers.timezone``) or, when that is empty or unknown, the newsletter's. Without it
everyone is due at once. ``DueTimes`` plans those moments when the outbox is queued; each row
keeps its own in ``deliveries.due_at`` from then on, so claims, retries, crash recovery and every
worker read it from the store (``outbox.claim`` takes only due rows). The rest of this module
reads the rows not yet due back, grouped into waves (one per zone and due time), for ``status``,
``newsletter deliveries`` and the desk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from newsletter import schedule
from newsletter.delivery.outbox import OPEN, PENDING
from newsletter.delivery.tally import Summary, summary
from newsletter.settings import Config
from newsletter.store import Store, from_db, now, to_db
from newsletter.times import shown

log = logging.getLogger("newsletter.delivery")


def reader_zone(name: str, default: ZoneInfo) -> ZoneInfo:
    """Return a reader's time zone: ``name`` (IANA), or ``default`` when it is empty or unknown here."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return default


class DueTimes:
    """When each reader of an issue queued at ``moment`` falls due, from the name of their zone.

    Called with a subscriber's ``timezone`` (maybe empty), it returns the due time as the store
    keeps it (naive UTC). Readers share a handful of zones, so each zone is worked out once.
    ``now=True`` (``send --now``) or an empty ``local_time`` makes everyone due at ``moment``.
    """

    def __init__(self, config: Config, moment: datetime, *, now: bool = False) -> None:
        self.at = None if now else schedule.local_time(config.schedule.local_time)
        self.zone = config.zone
        self.moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        self._due: dict[str, datetime] = {}

    def __call__(self, zone: str) -> datetime:
        due = self._due.get(zone)
        if due is None:
            due = self._due[zone] = self._plan(zone)
        return due

    def _plan(self, name: str) -> datetime:
        if self.at is None:
            return _stored(self.moment)
        zone = reader_zone(name, self.zone)
        if name and str(zone) != name:
            log.warning("a reader's time zone %r is unknown here: their copy is due at %s in %s", name,
                        f"{self.at:%H:%M}", zone)
        return _stored(schedule.first_at(self.moment, self.at, zone))


def _stored(moment: datetime) -> datetime:
    stored = to_db(moment)
    assert stored is not None
    return stored


@dataclass(frozen=True)
class Wave:
    """The readers of one zone whose copies fall due at one moment, and are not yet sent."""

    zone: str  # an IANA name
    due_at: datetime  # aware, UTC
    readers: int

    @property
    def local_time(self) -> str:
        """Return the due time on the wave's own clock, ``07:00``."""
        return f"{self.due_at.astimezone(ZoneInfo(self.zone)):%H:%M}"

    def line(self, zone: tzinfo) -> str:
        """Return ``Asia/Almaty 07:00: 120 readers at 6 Dec 2026 07:00 +05``, the moment shown in ``zone``."""
        readers = f"{self.readers} reader{'' if self.readers == 1 else 's'}"
        return f"{self.zone} {self.local_time}: {readers} at {shown(self.due_at, zone)}"

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json`` and the API (``due_at`` in ISO 8601, on the wave's clock)."""
        return {"zone": self.zone, "local_time": self.local_time, "readers": self.readers,
                "due_at": self.due_at.astimezone(ZoneInfo(self.zone)).isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Wave:
        """Return the wave ``to_json`` described."""
        return cls(data["zone"], datetime.fromisoformat(data["due_at"]).astimezone(UTC), data["readers"])


def waves(store: Store, issue_id: int, *, zone: ZoneInfo, present: datetime | None = None) -> list[Wave]:
    """Return the waves of an issue still to come after ``present`` (naive UTC; default now), earliest first.

    ``zone`` is the newsletter's, for readers without a zone of their own (or one unknown here).
    """
    d, s = store.t.deliveries, store.t.subscribers
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(s.c.timezone, d.c.due_at, sa.func.count()).join(s, s.c.id == d.c.subscriber_id)
            .where(d.c.issue_id == issue_id, d.c.status == PENDING, d.c.due_at > (present or now()))
            .group_by(s.c.timezone, d.c.due_at)).all()
    found: dict[tuple[str, datetime], int] = {}
    for name, due_at, readers in rows:
        key = (str(reader_zone(name, zone)), due_at)
        found[key] = found.get(key, 0) + readers
    return [Wave(name, from_db(due_at), n)
            for (name, due_at), n in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def scheduled(store: Store, issue_id: int, *, zone: ZoneInfo, present: datetime | None = None) -> list[dict[str, str]]:
    """Return each reader of an issue not yet due after ``present``: ``email``, and ``due_at`` on their clock."""
    d, s = store.t.deliveries, store.t.subscribers
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(s.c.email, s.c.timezone, d.c.due_at).join(s, s.c.id == d.c.subscriber_id)
            .where(d.c.issue_id == issue_id, d.c.status == PENDING, d.c.due_at > (present or now()))
            .order_by(d.c.due_at, d.c.id))
        return [{"email": r.email, "due_at": r.due_at.replace(tzinfo=UTC).astimezone(reader_zone(r.timezone, zone))
                 .isoformat()} for r in rows]


def next_due(store: Store, present: datetime | None = None) -> datetime | None:
    """Return when the next wave of any issue being delivered falls due after ``present`` (aware UTC), if any."""
    d, i = store.t.deliveries, store.t.issues
    with store.begin() as conn:
        found = conn.execute(sa.select(sa.func.min(d.c.due_at)).join(i, i.c.id == d.c.issue_id).where(
            i.c.status == "sending", d.c.status == PENDING, d.c.due_at > (present or now()))).scalar()
    return from_db(found)


def ready(store: Store, present: datetime | None = None, *, issue_id: int | None = None) -> bool:
    """Return whether an issue being delivered (``issue_id``, else any) has work by ``present`` (naive UTC).

    It has when one of its open rows is due, or when none is open at all (a crash came between
    its last outcome and marking it sent): only later waves left means nothing to do yet.
    """
    d, i = store.t.deliveries, store.t.issues
    open_rows = sa.select(d.c.id).where(d.c.issue_id == i.c.id, d.c.status.in_(OPEN))
    due = open_rows.where(d.c.due_at <= (present or now()))
    query = sa.select(i.c.id).where(i.c.status == "sending", sa.or_(due.exists(), ~open_rows.exists()))
    if issue_id is not None:
        query = query.where(i.c.id == issue_id)
    with store.begin() as conn:
        return conn.execute(sa.select(query.exists())).scalar() is True


def issue_summary(store: Store, number: int, *, zone: ZoneInfo, present: datetime | None = None,
                  limit: int = 50) -> Summary:
    """Return ``tally.summary`` of issue ``number`` with its readers not yet due and their waves."""
    found = summary(store, number, limit=limit, present=present)
    return replace(found, scheduled=scheduled(store, found.issue_id, zone=zone, present=present),
                   waves=waves(store, found.issue_id, zone=zone, present=present))


def clock_reading(clock: Callable[[], datetime]) -> datetime:
    """Return a clock's present as the store keeps times (naive UTC): what due times are compared with."""
    return _stored(clock())

