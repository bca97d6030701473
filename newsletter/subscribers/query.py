"""Reading the list: a subscriber as the store holds them, found by address or id, searched, sorted, counted.

A search matches part of the address or the name in any case and any script: the
term is folded as the stored ``name_key`` and ``email_key`` are (``rules.search_key``),
so ``иван`` finds "Иван Петров" on SQLite and PostgreSQL alike. Sorting by name
sorts by ``name_key``, readers without a name last.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.error import SubscriberError
from newsletter.store import Store, from_db
from newsletter.subscribers.choices import Choices
from newsletter.subscribers.rules import (
    STATUSES,
    SUPPRESSED,
    check_status,
    parse_sections,
    search_key,
)

SORTS = ("newest", "name")  # how a page of readers is ordered
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
    language: str = ""  # a BCP 47 tag; empty: the newsletter's language
    timezone: str = ""  # an IANA zone; empty: the newsletter's zone

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
class SubscriberEvent:
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


@dataclass(frozen=True)
class Stray:
    """A reader whose chosen sections name something the config no longer has."""

    subscriber: Subscriber
    unknown: tuple[str, ...]
    suggestions: dict[str, str | None]  # each unknown name -> the nearest current section, if any

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"email": self.subscriber.email, "status": self.subscriber.status,
                "sections": list(self.subscriber.sections), "unknown": list(self.unknown),
                "suggestions": self.suggestions}


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
    return from_row(row) if row else None


def get_by_id(store: Store, subscriber_id: int) -> Subscriber:
    """Return the subscriber with this id, or raise SubscriberError."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(sa.select(t.subscribers).where(t.subscribers.c.id == subscriber_id)).mappings().first()
    if row is None:
        raise SubscriberError(f"no subscriber with id {subscriber_id}")
    return from_row(row)


def _filters(store: Store, status: str | None, search: str | None) -> list[Any]:
    c = store.t.subscribers.c
    where: list[Any] = []
    if status:
        where.append(c.status == check_status(status))
    if search and search.strip():
        def like(term: str) -> str:
            return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        term = search.strip()
        where.append(sa.or_(c.email_key.like(like(term.casefold()), escape="\\"),
                            c.name_key.like(like(search_key(term)), escape="\\")))
    return where


def _receives(subscriber: Subscriber, section: str, choices: Choices | None) -> bool:
    """Return whether a reader gets ``section``: they chose it (by any of its names) or chose none."""
    chosen = choices.current(subscriber.sections) if choices else subscriber.sections
    return not chosen or section.casefold() in {name.casefold() for name in chosen}


def iterate(store: Store, *, status: str | None = None, search: str | None = None, section: str | None = None,
            choices: Choices | None = None, sort: str = "id", batch: int = 1000) -> Iterator[Subscriber]:
    """Yield subscribers a batch at a time so memory stays flat, in id order (``sort="name"``: by name).

    ``search`` matches part of the address or name (any case); ``section`` keeps
    readers who receive that section (those who chose it, under any name ``choices``
    knows for it, and those who chose none).
    """
    c = store.t.subscribers.c
    where = _filters(store, status, search)
    by_name = sort == "name"
    unnamed = sa.case((c.name_key == "", 1), else_=0)
    order = [unnamed, c.name_key, c.id] if by_name else [c.id]
    last: tuple[Any, ...] | None = None
    while True:
        query = sa.select(store.t.subscribers, unnamed.label("unnamed")).where(*where)
        if last is not None:
            query = query.where(sa.tuple_(*order) > sa.tuple_(*(sa.literal(v) for v in last)))
        with store.begin() as conn:
            rows = conn.execute(query.order_by(*order).limit(batch)).mappings().all()
        if not rows:
            return
        for row in rows:
            subscriber = from_row(row)
            if not section or _receives(subscriber, section.strip(), choices):
                yield subscriber
        end = rows[-1]
        last = (end["unnamed"], end["name_key"], end["id"]) if by_name else (end["id"],)


def page(store: Store, *, status: str | None = None, search: str | None = None, sort: str = "newest",
         offset: int = 0, limit: int = 50) -> tuple[list[Subscriber], int]:
    """Return one page of subscribers matching the filters (newest first, or by name) and how many match."""
    c = store.t.subscribers.c
    where = _filters(store, status, search)
    if sort not in SORTS:
        raise SubscriberError(f"unknown sort {sort!r} (expected one of {', '.join(SORTS)})")
    order = [sa.case((c.name_key == "", 1), else_=0), c.name_key, c.id] if sort == "name" else [c.id.desc()]
    with store.begin() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(store.t.subscribers).where(*where)).scalar()
        rows = conn.execute(sa.select(store.t.subscribers).where(*where).order_by(*order)
                            .offset(max(offset, 0)).limit(limit)).mappings().all()
    return [from_row(r) for r in rows], int(total or 0)


def strays(store: Store, choices: Choices) -> list[Stray]:
    """Return the readers whose chosen sections name no current section, earlier name or alias."""
    c = store.t.subscribers.c
    found: list[Stray] = []
    last = 0
    while True:
        with store.begin() as conn:
            rows = conn.execute(sa.select(store.t.subscribers).where(c.sections != "", c.id > last)
                                .order_by(c.id).limit(1000)).mappings().all()
        if not rows:
            return found
        for row in rows:
            subscriber = from_row(row)
            unknown = tuple(choices.unknown(subscriber.sections))
            if unknown:
                found.append(Stray(subscriber, unknown, {name: choices.suggest(name) for name in unknown}))
        last = rows[-1]["id"]


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


def events(store: Store, subscriber_id: int, *, limit: int = 100) -> list[SubscriberEvent]:
    """Return the recorded history of one subscriber, oldest first."""
    e = store.t.subscriber_events
    with store.begin() as conn:
        rows = conn.execute(sa.select(e).where(e.c.subscriber_id == subscriber_id)
                            .order_by(e.c.id).limit(limit)).mappings().all()
    return [SubscriberEvent(r["subscriber_id"], r["event"], r["status"], r["origin"], r["detail"],
                  from_db(r["at"])) for r in rows]


def from_row(row: Any) -> Subscriber:
    """Return the Subscriber a ``subscribers`` row holds."""
    times = {key: from_db(row[key]) for key in _TIMES if key in row}
    return Subscriber(
        id=row["id"], email=row["email"], name=row["name"], status=row["status"],
        sections=parse_sections(row["sections"]), origin=row["origin"],
        created_at=from_db(row["created_at"]), updated_at=from_db(row["updated_at"]),
        bounces=row.get("bounces") or 0, language=row.get("language") or "", timezone=row.get("timezone") or "",
        **times,
    )
