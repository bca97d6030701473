"""Subscribers: the people an issue goes to, every change of their status timed and recorded.

A status is one of ``STATUSES``; only ``active`` readers are mailed. ``SUPPRESSED``
statuses stick: an import never lifts them, only the reader's own confirmation
(``optin.confirm``) or an editor's explicit status change does. Each change sets
``status_changed_at`` and the timestamp column of the new status, and adds a row to
``subscriber_events`` (the history shown on the editor's desk). CSV import and
export live in ``csvfile``, double opt-in in ``optin``, the sign-up limit in
``signup_limit``.

Only this module writes ``subscribers`` and ``subscriber_events``: ``csvfile``, ``optin`` and
the delivery modules (bounce counts) call its functions, the batched ones in their transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.error import SubscriberError
from newsletter.store import Store, from_db, now, to_db
from newsletter.subscribers.rules import (  # noqa: F401 - the list's rules, used by its callers too
    NAME_LIMIT,
    STATUSES,
    SUPPRESSED,
    check_status,
    clean_name,
    normalise_email,
    parse_sections,
)

CSV_FIELDS = ("email", "name", "sections", "status")
# The column that remembers when a subscriber last entered each status.
STAMPS = {"active": "confirmed_at", "unsubscribed": "unsubscribed_at", "bounced": "bounced_at",
          "complained": "complained_at"}
_TIMES = ("status_changed_at", "confirmed_at", "unsubscribed_at", "bounced_at", "complained_at", "confirm_sent_at")


@dataclass(frozen=True)
class Subscriber:
    """One reader."""

    id: int
    email: str
    name: str
    status: str
    sections: tuple[str, ...]
    origin: str
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime | None = None
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    bounced_at: datetime | None = None
    complained_at: datetime | None = None
    confirm_sent_at: datetime | None = None
    bounces: int = 0

    @property
    def suppressed(self) -> bool:
        """Return whether the address must not be mailed until the reader confirms again."""
        return self.status in SUPPRESSED

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        data = asdict(self)
        data["sections"] = list(self.sections)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


@dataclass(frozen=True)
class Event:
    """One recorded change of a subscriber: what happened, the status after it, who or what did it."""

    subscriber_id: int
    event: str
    status: str
    origin: str
    detail: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {**asdict(self), "at": self.at.isoformat()}


def status_values(status: str, moment: datetime) -> dict[str, Any]:
    """Return the column values that move a subscriber into ``status`` at ``moment`` (naive UTC)."""
    values: dict[str, Any] = {"status": status, "status_changed_at": moment, "updated_at": moment}
    if status in STAMPS:
        values[STAMPS[status]] = moment
    return values


def event_row(subscriber_id: int, event: str, status: str, origin: str, moment: datetime,
              detail: str = "") -> dict[str, Any]:
    """Return one ``subscriber_events`` row, for callers that insert many at once."""
    return {"subscriber_id": subscriber_id, "event": event, "status": status, "origin": origin,
            "detail": detail, "at": moment}


def add(store: Store, email: str, *, name: str = "", sections: Iterable[str] = (), status: str = "pending",
        origin: str = "cli", moment: datetime | None = None) -> Subscriber:
    """Add a subscriber; raise SubscriberError if the address is invalid or already listed."""
    address = normalise_email(email)
    status = check_status(status)
    moment = to_db(moment) or now()
    t = store.t
    with store.begin() as conn:
        if conn.execute(sa.select(t.subscribers.c.id).where(t.subscribers.c.email_key == address.casefold())).first():
            raise SubscriberError(f"{address} is already a subscriber")
        subscriber_id = conn.execute(t.subscribers.insert().values(
            email=address, email_key=address.casefold(), name=clean_name(name),
            sections=",".join(parse_sections(sections)), origin=origin, created_at=moment,
            **status_values(status, moment),
        )).inserted_primary_key[0]  # type: ignore[index]
        record_events(conn, store, [event_row(subscriber_id, "added", status, origin, moment)])
    return get_by_id(store, subscriber_id)


def get(store: Store, email: str) -> Subscriber:
    """Return the subscriber with this address (any case), or raise SubscriberError."""
    found = find(store, email)
    if found is None:
        raise SubscriberError(f"no subscriber {email.strip()!r}")
    return found


def find(store: Store, email: str) -> Subscriber | None:
    """Return the subscriber with this address (any case), or None."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(sa.select(t.subscribers).where(
            t.subscribers.c.email_key == email.strip().casefold())).mappings().first()
    return _subscriber(row) if row else None


def get_by_id(store: Store, subscriber_id: int) -> Subscriber:
    """Return the subscriber with this id, or raise SubscriberError."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(sa.select(t.subscribers).where(t.subscribers.c.id == subscriber_id)).mappings().first()
    if row is None:
        raise SubscriberError(f"no subscriber with id {subscriber_id}")
    return _subscriber(row)


def remove(store: Store, email: str, *, origin: str = "cli") -> Subscriber:
    """Mark a subscriber unsubscribed (kept, so a re-import cannot mail them again)."""
    return set_status(store, email, "unsubscribed", origin=origin)


def set_status(store: Store, email: str, status: str, *, origin: str = "cli", detail: str = "",
               moment: datetime | None = None) -> Subscriber:
    """Change a subscriber's status, timing and recording the change; the same status changes nothing."""
    return change(store, get(store, email).id, status, origin=origin, detail=detail, moment=moment)


def change(store: Store, subscriber_id: int, status: str, *, event: str | None = None, origin: str = "cli",
           detail: str = "", moment: datetime | None = None) -> Subscriber:
    """Move subscriber ``subscriber_id`` into ``status`` and record ``event`` (default: the status)."""
    status = check_status(status)
    moment = to_db(moment) or now()
    t = store.t
    with store.begin() as conn:
        current = conn.execute(sa.select(t.subscribers.c.status).where(t.subscribers.c.id == subscriber_id)).scalar()
        if current is None:
            raise SubscriberError(f"no subscriber with id {subscriber_id}")
        if current != status:
            conn.execute(t.subscribers.update().where(t.subscribers.c.id == subscriber_id)
                         .values(**status_values(status, moment)))
            record_events(conn, store, [event_row(subscriber_id, event or status, status, origin, moment, detail)])
    return get_by_id(store, subscriber_id)


def edit_status(store: Store, subscriber_id: int, status: str, *, origin: str = "desk") -> Subscriber:
    """Change a status as an editor may: never make a suppressed address active (only the reader can)."""
    status = check_status(status)
    current = get_by_id(store, subscriber_id)
    if current.suppressed and status in ("active", "pending"):
        raise SubscriberError(f"{current.email} is {current.status}: only the reader can subscribe again, "
                              "through a confirmation link (send them one)")
    return change(store, subscriber_id, status, origin=origin)


def update(store: Store, subscriber_id: int, *, name: str | None = None, sections: Iterable[str] | None = None,
           origin: str = "cli", moment: datetime | None = None) -> Subscriber:
    """Change a subscriber's name or chosen sections (empty sections: all), recording what changed."""
    before = get_by_id(store, subscriber_id)
    values: dict[str, Any] = {}
    if name is not None and clean_name(name) != before.name:
        values["name"] = clean_name(name)
    if sections is not None and parse_sections(sections) != before.sections:
        values["sections"] = ",".join(parse_sections(sections))
    if not values:
        return before
    moment = to_db(moment) or now()
    t = store.t
    with store.begin() as conn:
        conn.execute(t.subscribers.update().where(t.subscribers.c.id == subscriber_id)
                     .values(updated_at=moment, **values))
        detail = "; ".join(f"{k}: {v or '(all)' if k == 'sections' else v}" for k, v in values.items())
        record_events(conn, store, [event_row(subscriber_id, "preferences", before.status, origin, moment, detail)])
    return get_by_id(store, subscriber_id)


def insert_many(conn: sa.Connection, store: Store, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new subscribers in one statement, in the caller's transaction; return their ids by ``email_key``."""
    s = store.t.subscribers
    conn.execute(s.insert(), rows)
    return {key: id_ for key, id_ in conn.execute(sa.select(s.c.email_key, s.c.id).where(
        s.c.email_key.in_([r["email_key"] for r in rows])))}


def update_many(conn: sa.Connection, store: Store, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Set ``columns`` of the subscribers ``rows`` name (by ``id``) in one executemany, in the caller's transaction."""
    s = store.t.subscribers
    statement = s.update().where(s.c.id == sa.bindparam("b_id")).values({c: sa.bindparam(f"b_{c}") for c in columns})
    conn.execute(statement, [{"b_id": r["id"], **{f"b_{c}": r[c] for c in columns}} for r in rows])


def record_events(conn: sa.Connection, store: Store, rows: list[dict[str, Any]]) -> None:
    """Add ``event_row`` rows to the history in one statement, in the caller's transaction."""
    conn.execute(store.t.subscriber_events.insert(), rows)


def count_bounces(conn: sa.Connection, store: Store, subscriber_ids: list[int], *, limit: int) -> list[int]:
    """Count one more refusal for each subscriber, in the caller's transaction; return the active ones at ``limit``."""
    s = store.t.subscribers
    conn.execute(s.update().where(s.c.id.in_(subscriber_ids)).values(bounces=s.c.bounces + 1))
    return list(conn.execute(sa.select(s.c.id).where(
        s.c.id.in_(subscriber_ids), s.c.bounces >= limit, s.c.status == "active")).scalars())


def reset_bounces(conn: sa.Connection, store: Store, subscriber_ids: list[int]) -> None:
    """Start the refusal count of these subscribers over (a message got through, or they confirmed again)."""
    s = store.t.subscribers
    conn.execute(s.update().where(s.c.id.in_(subscriber_ids)).values(bounces=0))


def record_bounce(conn: sa.Connection, store: Store, subscriber: Subscriber, *, counted: bool, run: int,
                  event: str, origin: str, detail: str, moment: datetime) -> int:
    """Keep a bounce report in a subscriber's history, in the caller's transaction; return their refusal count.

    A ``counted`` one adds a refusal, making the count at least ``run`` (their refusals in a row).
    """
    s = store.t.subscribers
    if counted:
        conn.execute(s.update().where(s.c.id == subscriber.id).values(
            bounces=sa.case((s.c.bounces + 1 < run, run), else_=s.c.bounces + 1)))
    bounces = conn.execute(sa.select(s.c.bounces).where(s.c.id == subscriber.id)).scalar() or 0
    record_events(conn, store, [event_row(subscriber.id, event, subscriber.status, origin, moment, detail)])
    return int(bounces)


def claim_confirmation(store: Store, subscriber_id: int, moment: datetime,
                       since: datetime) -> tuple[bool, datetime | None]:
    """Record a confirmation send at ``moment`` unless one went out after ``since``; return (won, previous).

    ``previous`` is the ``confirm_sent_at`` to put back if sending fails. One conditional
    UPDATE, so concurrent sign-ups cannot both win.
    """
    s = store.t.subscribers
    with store.begin() as conn:
        previous = conn.execute(sa.select(s.c.confirm_sent_at).where(s.c.id == subscriber_id)).scalar()
        won = conn.execute(s.update().where(
            s.c.id == subscriber_id,
            sa.or_(s.c.confirm_sent_at.is_(None), s.c.confirm_sent_at <= since),
        ).values(confirm_sent_at=moment)).rowcount
    return bool(won), previous


def release_confirmation(store: Store, subscriber_id: int, moment: datetime, previous: datetime | None) -> None:
    """Put back the ``confirm_sent_at`` a failed send claimed at ``moment`` (unless claimed again since)."""
    s = store.t.subscribers
    with store.begin() as conn:
        conn.execute(s.update().where(s.c.id == subscriber_id, s.c.confirm_sent_at == moment)
                     .values(confirm_sent_at=previous))


def purge_pending(store: Store, *, origin: str, before: datetime) -> int:
    """Delete the never-confirmed pending readers from ``origin`` untouched since ``before``; return how many.

    Untouched: neither changed nor sent a confirmation link. Their history goes with them.
    """
    s, e, d = store.t.subscribers, store.t.subscriber_events, store.t.deliveries
    cutoff = to_db(before)
    stale = sa.select(s.c.id).where(
        s.c.status == "pending", s.c.origin == origin, s.c.updated_at < cutoff,
        sa.or_(s.c.confirm_sent_at.is_(None), s.c.confirm_sent_at < cutoff),
        *(s.c[column].is_(None) for column in STAMPS.values()), ~sa.exists().where(d.c.subscriber_id == s.c.id))
    with store.begin() as conn:
        conn.execute(e.delete().where(e.c.subscriber_id.in_(stale)))
        return int(conn.execute(s.delete().where(s.c.id.in_(stale))).rowcount or 0)


def _filters(store: Store, status: str | None, search: str | None, section: str | None) -> list[Any]:
    c = store.t.subscribers.c
    where: list[Any] = []
    if status:
        where.append(c.status == check_status(status))
    if search and search.strip():
        pattern = "%" + search.strip().casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(sa.or_(c.email_key.like(pattern, escape="\\"), sa.func.lower(c.name).like(pattern, escape="\\")))
    if section and section.strip():
        # Sections are stored as "A,B"; an empty list means every section, which includes this one.
        name = section.strip()
        where.append(sa.or_(c.sections == "", ("," + c.sections + ",").like(f"%,{name},%")))
    return where


def iterate(store: Store, *, status: str | None = None, search: str | None = None, section: str | None = None,
            batch: int = 1000) -> Iterator[Subscriber]:
    """Yield subscribers in id order, a batch at a time so memory stays flat.

    ``search`` matches part of the address or name (any case); ``section`` keeps
    readers who receive that section (those who chose it, and those who chose none).
    """
    t = store.t
    where = _filters(store, status, search, section)
    last = 0
    while True:
        query = (sa.select(t.subscribers).where(t.subscribers.c.id > last, *where)
                 .order_by(t.subscribers.c.id).limit(batch))
        with store.begin() as conn:
            rows = conn.execute(query).mappings().all()
        if not rows:
            return
        for row in rows:
            yield _subscriber(row)
        last = rows[-1]["id"]


def page(store: Store, *, status: str | None = None, search: str | None = None, offset: int = 0,
         limit: int = 50) -> tuple[list[Subscriber], int]:
    """Return one page of subscribers matching the filters, newest first, and how many match in all."""
    t = store.t
    where = _filters(store, status, search, None)
    with store.begin() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t.subscribers).where(*where)).scalar() or 0
        rows = conn.execute(sa.select(t.subscribers).where(*where).order_by(t.subscribers.c.id.desc())
                            .offset(max(offset, 0)).limit(limit)).mappings().all()
    return [_subscriber(r) for r in rows], total


def count(store: Store, status: str | None = None) -> int:
    """Return how many subscribers there are (with ``status``)."""
    t = store.t
    query = sa.select(sa.func.count()).select_from(t.subscribers)
    if status:
        query = query.where(t.subscribers.c.status == status)
    with store.begin() as conn:
        return conn.execute(query).scalar() or 0


def counts(store: Store) -> dict[str, int]:
    """Return how many subscribers have each status (every status present, zero if none)."""
    c = store.t.subscribers.c
    with store.begin() as conn:
        found = {status: n for status, n in conn.execute(sa.select(c.status, sa.func.count()).group_by(c.status))}
    return {status: int(found.get(status, 0)) for status in STATUSES}


def events(store: Store, subscriber_id: int, *, limit: int = 100) -> list[Event]:
    """Return the recorded history of one subscriber, oldest first."""
    e = store.t.subscriber_events
    with store.begin() as conn:
        rows = conn.execute(sa.select(e).where(e.c.subscriber_id == subscriber_id)
                            .order_by(e.c.id).limit(limit)).mappings().all()
    return [Event(r["subscriber_id"], r["event"], r["status"], r["origin"], r["detail"],
                  from_db(r["at"])) for r in rows]  # type: ignore[arg-type]


def _subscriber(row: Any) -> Subscriber:
    times = {key: from_db(row[key]) for key in _TIMES if key in row}
    return Subscriber(
        id=row["id"], email=row["email"], name=row["name"], status=row["status"],
        sections=parse_sections(row["sections"]), origin=row["origin"],
        created_at=from_db(row["created_at"]), updated_at=from_db(row["updated_at"]),  # type: ignore[arg-type]
        bounces=row.get("bounces") or 0, **times,
    )
