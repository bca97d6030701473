"""Issues: choose the waiting items, group them, number and title the next issue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config
from newsletter.item import Item
from newsletter.sections import Section, Sorter
from newsletter.store import Store, from_db, now


@dataclass(frozen=True)
class Draft:
    """The next issue as it would go out: number, subject, preheader and sections."""

    number: int
    subject: str
    preheader: str
    date: datetime
    sections: tuple[Section, ...]

    @property
    def items(self) -> list[Item]:
        """Return every item in the issue, in reading order."""
        return [p.item for s in self.sections for p in s.items]

    @property
    def empty(self) -> bool:
        """Return whether the issue has no items."""
        return not self.sections


@dataclass(frozen=True)
class Stored:
    """An issue already in the store (being sent, or sent)."""

    id: int
    number: int
    status: str
    subject: str
    preheader: str
    html: str
    text: str
    created_at: datetime
    sent_at: datetime | None


def waiting(config: Config, store: Store, *, limit: int | None = None) -> list[Item]:
    """Return items that no issue has taken yet, oldest first, at most ``limit``."""
    t = store.t
    pinned = {s.key: s.section for s in config.sources if s.section}
    query = (
        sa.select(t.items, t.sources.c.name.label("source_name"), t.sources.c.key.label("source_key"))
        .join(t.sources, t.sources.c.id == t.items.c.source_id)
        .outerjoin(t.issue_items, t.issue_items.c.item_id == t.items.c.id)
        .where(t.issue_items.c.item_id.is_(None))
        .order_by(t.items.c.gathered_at, t.items.c.id)
        .limit(limit or config.newsletter.max_items)
    )
    configured = {s.key for s in config.sources}
    with store.begin() as conn:
        rows = conn.execute(query).mappings().all()
    return [_item(r, pinned.get(r["source_key"])) for r in rows if r["source_key"] in configured]


def _item(row: Any, section: str | None) -> Item:
    return Item(
        id=row["id"], source_id=row["source_id"], source_name=row["source_name"], uid=row["uid"],
        title=row["title"], body=row["body"], summary=row["summary"], link=row["link"],
        label=row["label"], published_at=from_db(row["published_at"]),
        gathered_at=from_db(row["gathered_at"]) or now(), forced_section=section,
    )


def next_number(store: Store) -> int:
    """Return the number the next issue will carry."""
    with store.begin() as conn:
        return (conn.execute(sa.select(sa.func.max(store.t.issues.c.number))).scalar() or 0) + 1


def draft(config: Config, store: Store, *, moment: datetime | None = None) -> Draft:
    """Build the next issue from waiting items; nothing is stored."""
    moment = (moment or datetime.now(config.zone)).astimezone(config.zone)
    sections = tuple(Sorter(config).group(waiting(config, store)))
    number = next_number(store)
    items = [p.item for s in sections for p in s.items]
    # The subject leads with a real headline (a feed entry or an article), else the first item.
    titled = [i for i in items if not i.label and not i.body.startswith(i.title.rstrip("…").rstrip())]
    headline = (titled or items)[0].title if items else ""
    subject = config.newsletter.subject.format_map(_Fields(
        title=config.newsletter.title, number=number, date=format_date(moment), headline=headline,
    ))
    preheader = " · ".join(i.title for i in items[:4])
    if len(preheader) > 140:
        preheader = preheader[:139].rsplit(" ", 1)[0] + "…"
    return Draft(number, " ".join(subject.split()).strip(" :—-"), preheader, moment, sections)


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def format_date(moment: datetime) -> str:
    """Return a date as editors write it: 25 November 2026."""
    return f"{moment.day} {moment:%B %Y}"


def unfinished(store: Store) -> Stored | None:
    """Return the oldest issue whose delivery has not finished."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(
            sa.select(t.issues).where(t.issues.c.status == "sending").order_by(t.issues.c.number).limit(1)
        ).mappings().first()
    return _stored(row) if row else None


def get(store: Store, number: int) -> Stored | None:
    """Return the stored issue with this number."""
    with store.begin() as conn:
        row = conn.execute(sa.select(store.t.issues).where(store.t.issues.c.number == number)).mappings().first()
    return _stored(row) if row else None


def latest(store: Store) -> Stored | None:
    """Return the most recent issue."""
    with store.begin() as conn:
        row = conn.execute(
            sa.select(store.t.issues).order_by(store.t.issues.c.number.desc()).limit(1)
        ).mappings().first()
    return _stored(row) if row else None


def _stored(row: Any) -> Stored:
    return Stored(
        id=row["id"], number=row["number"], status=row["status"], subject=row["subject"],
        preheader=row["preheader"], html=row["html"], text=row["text"],
        created_at=from_db(row["created_at"]) or now(), sent_at=from_db(row["sent_at"]),
    )


def record(conn: sa.Connection, store: Store, issue: Draft, *, html: str, text: str) -> int:
    """Store an issue and the items it takes, inside the caller's transaction; return its id."""
    t = store.t
    issue_id = conn.execute(t.issues.insert().values(
        number=issue.number, status="sending", subject=issue.subject, preheader=issue.preheader,
        html=html, text=text, created_at=now(),
    )).inserted_primary_key[0]
    rows = [
        dict(issue_id=issue_id, item_id=placed.item.id, section=section.name, position=position,
             reason=placed.placement.reason)
        for position, (section, placed) in enumerate((s, p) for s in issue.sections for p in s.items)
    ]
    if rows:
        conn.execute(t.issue_items.insert(), rows)
    return issue_id
