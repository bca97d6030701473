"""Editorial choices: an editor pins, drops or moves a waiting item before the next issue goes.

Choices are kept in the store (table ``editorial``, one row per item) and applied by every
draft — preview, send, the item list — until the item goes out or the choice is reset.
A choice on one item of a story applies to the whole story (its duplicates from other
sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config
from newsletter.error import EditorialError
from newsletter.store import Store, from_db, now


@dataclass(frozen=True)
class Choice:
    """What an editor decided for one item."""

    item_id: int
    pinned: bool = False
    dropped: bool = False
    section: str | None = None  # moved here
    updated_at: datetime | None = None

    @property
    def actions(self) -> list[str]:
        """Return the choice in words: ``["pinned", "moved to Russia"]``."""
        return [*(["dropped"] if self.dropped else []), *(["pinned"] if self.pinned else []),
                *([f"moved to {self.section}"] if self.section else [])]

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"pinned": self.pinned, "dropped": self.dropped, "section": self.section}


def merge(choices: list[Choice]) -> Choice | None:
    """Return one choice standing for several items of a story: any pin, any drop, the latest move."""
    if not choices:
        return None
    latest = max(choices, key=_age)
    moves = sorted((c for c in choices if c.section), key=_age)
    return Choice(latest.item_id, any(c.pinned for c in choices), any(c.dropped for c in choices),
                  moves[-1].section if moves else None, latest.updated_at)


def _age(choice: Choice) -> tuple[float, int]:
    return (choice.updated_at.timestamp() if choice.updated_at else 0.0, choice.item_id)


def choices(store: Store) -> dict[int, Choice]:
    """Return every kept choice by item id."""
    with store.begin() as conn:
        rows = conn.execute(sa.select(store.t.editorial)).mappings().all()
    return {r["item_id"]: _choice(r) for r in rows}


def pin(store: Store, item_id: int) -> Choice:
    """Show the item first in its section in the next issue: limits leave out unpinned items first."""
    return _update(store, item_id, pinned=True, dropped=False)


def drop(store: Store, item_id: int) -> Choice:
    """Leave the item (and its story) out of every issue until the choice is reset."""
    return _update(store, item_id, dropped=True, pinned=False)


def move(config: Config, store: Store, item_id: int, section: str) -> Choice:
    """Put the item in ``section`` (a configured section or the catch-all), whatever the rules say."""
    known = [*(s.name for s in config.sections), config.newsletter.catch_all]
    match = next((name for name in known if name.casefold() == section.strip().casefold()), None)
    if match is None:
        raise EditorialError(f"no section named {section!r}; sections: {', '.join(dict.fromkeys(known))}")
    return _update(store, item_id, section=match, dropped=False)


def reset(store: Store, item_id: int) -> bool:
    """Forget the editor's choice for the item; return whether there was one."""
    _check_waiting(store, item_id)
    with store.begin() as conn:
        return bool(conn.execute(
            store.t.editorial.delete().where(store.t.editorial.c.item_id == item_id)).rowcount)


def _update(store: Store, item_id: int, **values: Any) -> Choice:
    _check_waiting(store, item_id)
    table = store.t.editorial
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.item_id == item_id)).mappings().first()
        values["updated_at"] = now()
        if row is None:
            conn.execute(table.insert().values(item_id=item_id, **values))
        else:
            conn.execute(table.update().where(table.c.item_id == item_id).values(**values))
        return _choice(conn.execute(sa.select(table).where(table.c.item_id == item_id)).mappings().one())


def _check_waiting(store: Store, item_id: int) -> None:
    """Raise EditorialError unless ``item_id`` is an item that no issue has taken yet."""
    t = store.t
    with store.begin() as conn:
        exists = conn.execute(sa.select(t.items.c.id).where(t.items.c.id == item_id)).first()
        taken = conn.execute(
            sa.select(t.issues.c.number, t.issue_items.c.shown)
            .join(t.issue_items, t.issue_items.c.issue_id == t.issues.c.id)
            .where(t.issue_items.c.item_id == item_id)
        ).first()
    if exists is None:
        raise EditorialError(f"no item with id {item_id} (see `newsletter items list`)")
    if taken is not None:
        if not taken.shown:
            raise EditorialError(f"item {item_id} was taken, unseen, by issue {taken.number}: it repeated a story "
                                 "already sent, so readers never got it")
        raise EditorialError(f"item {item_id} already went out in issue {taken.number}")


def _choice(row: Any) -> Choice:
    return Choice(row["item_id"], bool(row["pinned"]), bool(row["dropped"]), row["section"],
                  from_db(row["updated_at"]))
