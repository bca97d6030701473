"""Subscribers: the people an issue goes to, every change of their status timed and recorded.

A status is one of ``STATUSES``; only ``active`` readers are mailed. ``SUPPRESSED``
statuses stick: an import never lifts them, only the reader's own confirmation
(``optin.confirm``) or an editor's explicit status change does. Each change sets
``status_changed_at`` and the timestamp column of the new status, and adds a row to
``subscriber_events`` (the history shown on the editor's desk). CSV import and
export live in ``csvfile`` (reading a stranger's file: ``csvrows``), double opt-in in
``optin``, the sign-up limit in ``signup_limit``, reading and searching the list in
``query``, what this newsletter lets a reader choose in ``choices``, an editor's changes to
one reader (checked against those choices) in ``editor``.

Only this module writes ``subscribers`` and ``subscriber_events``: ``csvfile``, ``optin`` and
the delivery modules (bounce counts) call its functions, the batched ones in their transaction.
Every write of a name writes its folded ``name_key`` too (``name_values``), which searches use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.error import SubscriberError
from newsletter.store import Store, now, to_db
from newsletter.subscribers.query import (  # noqa: F401 - reading the list, used by its callers through here
    SORTS,
    Stray,
    Subscriber,
    SubscriberEvent,
    count,
    counts,
    events,
    find,
    get,
    get_by_id,
    iterate,
    page,
    strays,
)
from newsletter.subscribers.rules import (  # noqa: F401 - the list's rules, used by its callers too
    NAME_LIMIT,
    STATUSES,
    SUPPRESSED,
    check_status,
    check_timezone,
    clean_name,
    normalise_email,
    parse_sections,
    search_key,
)
from newsletter.webhooks import events as webhook_events

CSV_FIELDS = ("email", "name", "sections", "status", "language", "timezone")
# The column that remembers when a subscriber last entered each status.
STAMPS = {"active": "confirmed_at", "unsubscribed": "unsubscribed_at", "bounced": "bounced_at",
          "complained": "complained_at"}


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


def name_values(name: str) -> dict[str, str]:
    """Return the column values that store ``name`` (cleaned) and its folded search key."""
    cleaned = clean_name(name)
    return {"name": cleaned, "name_key": search_key(cleaned)}


def add(store: Store, email: str, *, name: str = "", sections: Iterable[str] = (), status: str = "pending",
        language: str = "", timezone: str = "", origin: str = "cli", moment: datetime | None = None) -> Subscriber:
    """Add a subscriber; raise SubscriberError if the address, name or time zone is invalid or the address listed.

    ``sections`` and ``language`` are taken as given: check them first against what the
    newsletter offers (``choices.Choices``).
    """
    address = normalise_email(email)
    status = check_status(status)
    moment = to_db(moment) or now()
    t = store.t
    values = {**name_values(name), "sections": ",".join(parse_sections(sections)), "language": language.strip(),
              "timezone": check_timezone(timezone)}
    with store.begin() as conn:
        if conn.execute(sa.select(t.subscribers.c.id).where(t.subscribers.c.email_key == address.casefold())).first():
            raise SubscriberError(f"{address} is already a subscriber")
        subscriber_id = conn.execute(t.subscribers.insert().values(
            email=address, email_key=address.casefold(), origin=origin, created_at=moment,
            **values, **status_values(status, moment),
        )).inserted_primary_key[0]  # type: ignore[index]
        record_events(conn, store, [event_row(subscriber_id, "added", status, origin, moment)])
    return get_by_id(store, subscriber_id)


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
           language: str | None = None, timezone: str | None = None, origin: str = "cli",
           moment: datetime | None = None) -> Subscriber:
    """Change a reader's name, chosen sections (empty: all), language or time zone, recording what changed.

    None leaves a field as it is; check sections and language first (``choices.Choices``).
    """
    before = get_by_id(store, subscriber_id)
    changed: dict[str, str] = {}
    if name is not None and clean_name(name) != before.name:
        changed["name"] = clean_name(name)
    if sections is not None and parse_sections(sections) != before.sections:
        changed["sections"] = ",".join(parse_sections(sections))
    if language is not None and language.strip() != before.language:
        changed["language"] = language.strip()
    if timezone is not None and check_timezone(timezone) != before.timezone:
        changed["timezone"] = check_timezone(timezone)
    if not changed:
        return before
    moment = to_db(moment) or now()
    values = {**changed, **(name_values(changed["name"]) if "name" in changed else {})}
    t = store.t
    with store.begin() as conn:
        conn.execute(t.subscribers.update().where(t.subscribers.c.id == subscriber_id)
                     .values(updated_at=moment, **values))
        blank = {"sections": "(all)", "language": "(default)", "timezone": "(default)"}
        detail = "; ".join(f"{k}: {v or blank.get(k, '')}" for k, v in changed.items())
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
    """Add ``event_row`` rows to the history in one statement, in the caller's transaction.

    Their webhook events are queued in the same transaction (``webhooks.events``).
    """
    conn.execute(store.t.subscriber_events.insert(), rows)
    webhook_events.subscriber_changes(conn, store, rows)


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
