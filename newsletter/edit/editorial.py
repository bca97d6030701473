"""Editorial choices: an editor pins, drops, moves, rewrites, reorders, splits or merges waiting items.

Choices are kept in the store (table ``editorial``, one row per item) and applied by every
draft — preview, send, the item list — until the item goes out or the choice is reset.
A choice on one item of a story applies to the whole story (its duplicates from other
sources). After an item went out its row stays as it was: the archive shows the issue
with the editor's headlines and summaries (``edited``).

What the draft applies, in its order: ``regroup`` (split and merged stories) on the
clusters, ``edited`` (the editor's headline and summary; the source's text stays in
``items`` and comes back with ``restore``) on each story's shown item after it is placed,
and ``reorder`` (the editor's order within a section) on the arranged sections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config
from newsletter.edit.cluster import Cluster
from newsletter.edit.sections import Section
from newsletter.error import EditorialError
from newsletter.item import TEXT_LIMIT, TITLE_LIMIT, Item, html_to_text, normalise
from newsletter.store import Store, from_db, now

MERGED = "merged by an editor"  # a story's reason when an editor joined an item to it


@dataclass(frozen=True)
class Choice:
    """What an editor decided for one item."""

    item_id: int
    pinned: bool = False
    dropped: bool = False
    section: str | None = None  # moved here
    updated_at: datetime | None = None
    title: str | None = None  # the editor's headline; None: the source's
    summary: str | None = None  # the editor's summary; None: the source's
    position: int | None = None  # its place in its section, set by reordering; None: the rules'
    apart: bool = False  # split out of the story it was found in
    joined_to: int | None = None  # merged into the story of this item

    @property
    def actions(self) -> list[str]:
        """Return the choice in words: ``["pinned", "moved to Russia", "headline edited"]``."""
        return [*(["dropped"] if self.dropped else []), *(["pinned"] if self.pinned else []),
                *([f"moved to {self.section}"] if self.section else []),
                *(["headline edited"] if self.title is not None else []),
                *(["summary edited"] if self.summary is not None else []),
                *(["reordered"] if self.position is not None else []),
                *(["split from its story"] if self.apart else []),
                *([f"merged with item {self.joined_to}"] if self.joined_to is not None else [])]

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"pinned": self.pinned, "dropped": self.dropped, "section": self.section, "title": self.title,
                "summary": self.summary, "position": self.position, "apart": self.apart,
                "joined_to": self.joined_to}


def merge(choices: list[Choice]) -> Choice | None:
    """Return one choice standing for several items of a story: any pin, any drop, the latest move and edits."""
    if not choices:
        return None
    ordered = sorted(choices, key=_age)

    def last(name: str) -> Any:
        return next((getattr(c, name) for c in reversed(ordered) if getattr(c, name) is not None), None)

    return Choice(ordered[-1].item_id, any(c.pinned for c in choices), any(c.dropped for c in choices),
                  next((c.section for c in reversed(ordered) if c.section), None), ordered[-1].updated_at,
                  title=last("title"), summary=last("summary"))


def _age(choice: Choice) -> tuple[float, int]:
    return (choice.updated_at.timestamp() if choice.updated_at else 0.0, choice.item_id)


def choices(store: Store, item_ids: Sequence[int] | None = None) -> dict[int, Choice]:
    """Return every kept choice (or those of ``item_ids``) by item id."""
    query = sa.select(store.t.editorial)
    if item_ids is not None:
        query = query.where(store.t.editorial.c.item_id.in_(list(item_ids)))
    with store.begin() as conn:
        rows = conn.execute(query).mappings().all()
    return {r["item_id"]: _choice(r) for r in rows}


def pin(store: Store, item_id: int) -> Choice:
    """Show the item first in its section in the next issue: limits leave out unpinned items first."""
    return _update(store, item_id, pinned=True, dropped=False)


def drop(store: Store, item_id: int) -> Choice:
    """Leave the item (and its story) out of every issue until the choice is reset."""
    return _update(store, item_id, dropped=True, pinned=False)


def move(config: Config, store: Store, item_id: int, section: str) -> Choice:
    """Put the item in ``section`` (a configured section or the catch-all), whatever the rules say.

    It goes to the end of that section's order (an order the editor set elsewhere does not follow it).
    """
    known = [*(s.name for s in config.sections), config.newsletter.catch_all]
    match = next((name for name in known if name.casefold() == section.strip().casefold()), None)
    if match is None:
        raise EditorialError(f"no section named {section!r}; sections: {', '.join(dict.fromkeys(known))}")
    return _update(store, item_id, section=match, dropped=False, position=None)


def reset(store: Store, item_id: int) -> bool:
    """Forget the editor's pin, drop and move for the item; return whether there was one.

    An edited headline or summary stays (``restore`` brings the source's back), and so do
    the item's place in its section and a split or merge.
    """
    _check_waiting(store, item_id)
    table = store.t.editorial
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.item_id == item_id)).mappings().first()
        if row is None:
            return False
        had = bool(row["pinned"] or row["dropped"] or row["section"])
        conn.execute(table.update().where(table.c.item_id == item_id)
                     .values(pinned=False, dropped=False, section=None, updated_at=now()))
        _forget_if_empty(conn, store, item_id)
        return had


def edit(store: Store, item_id: int, *, title: str | None = None, summary: str | None = None) -> Choice:
    """Show the item with the editor's ``title`` (headline) and/or ``summary``; None leaves that one as it is.

    The source's text is kept: ``restore`` brings it back.
    """
    values: dict[str, Any] = {}
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise EditorialError(f"item {item_id}: a headline cannot be empty (restore brings back the source's)")
        if len(title) > TITLE_LIMIT:
            raise EditorialError(f"item {item_id}: the headline is {len(title):,} characters (limit {TITLE_LIMIT:,})")
        values["title"] = title
    if summary is not None:
        summary = normalise(summary)
        if not summary:
            raise EditorialError(f"item {item_id}: a summary cannot be empty (restore brings back the source's)")
        if len(summary) > TEXT_LIMIT:
            raise EditorialError(f"item {item_id}: the summary is {len(summary):,} characters "
                                 f"(limit {TEXT_LIMIT:,})")
        values["summary"] = summary
    if not values:
        raise EditorialError(f"item {item_id}: nothing to change (give a headline or a summary)")
    return _update(store, item_id, **values)


def source_text(store: Store, item_id: int) -> tuple[str, str]:
    """Return the item's headline and summary as its source gave them (what ``restore`` brings back)."""
    items = store.t.items
    with store.begin() as conn:
        row = conn.execute(sa.select(items.c.title, items.c.summary, items.c.body)
                           .where(items.c.id == item_id)).first()
    if row is None:
        raise EditorialError(f"no item with id {item_id} (see `newsletter items list`)")
    return row.title, html_to_text(row.summary or row.body)


def restore(store: Store, item_id: int) -> Choice:
    """Show the item's own headline and summary again, as its source has them."""
    return _update(store, item_id, title=None, summary=None)


def order(store: Store, item_ids: Sequence[int]) -> list[Choice]:
    """Show ``item_ids`` (the items of one section) in this order; items not named follow them."""
    if len(set(item_ids)) != len(item_ids):
        raise EditorialError("an item is named twice in the new order")
    for item_id in item_ids:
        _check_waiting(store, item_id)
    with store.begin() as conn:  # all of the order or none of it
        return [_write(conn, store, item_id, {"position": index}) for index, item_id in enumerate(item_ids)]


def shift(store: Store, shown: Sequence[int], item_id: int, step: int) -> list[Choice]:
    """Move ``item_id`` ``step`` places (-1: up, 1: down) among ``shown`` (its section's items in order); keep it."""
    if item_id not in shown:
        raise EditorialError(f"item {item_id} is not shown in that section")
    ids = list(shown)
    here = ids.index(item_id)
    ids.insert(max(0, min(len(ids) - 1, here + step)), ids.pop(here))
    return order(store, ids)


def split(store: Store, item_id: int) -> Choice:
    """Take the item out of the story it was merged into: it is shown as a story of its own."""
    return _update(store, item_id, apart=True, joined_to=None)


def join(store: Store, item_id: int, into: int) -> Choice:
    """Merge the item into the story of item ``into``: the issue shows that story once, with both sources."""
    if item_id == into:
        raise EditorialError(f"item {item_id} cannot be merged with itself")
    _check_waiting(store, into)
    return _update(store, item_id, joined_to=into, apart=False)


def regroup(stories: Iterable[Cluster], chosen: dict[int, Choice],
            key: Callable[[Item], Any] = lambda i: i.id) -> list[Cluster]:
    """Return ``stories`` with the editor's splits and merges applied, in the order of the stories.

    A split item becomes a story of its own right after the story it left (and when it is a
    paragraph that retells other stories, each of those becomes one too). A merged item
    joins the story that holds the item it was merged with (followed along a chain of
    merges); when that item is not waiting, it stays a story of its own. The story's first
    item stays first; the others are in the order of ``key`` (``cluster.preference``).
    """
    stories = list(stories)
    moved = {i for i, c in chosen.items() if c.apart or c.joined_to is not None}
    if not any(i.id in moved for s in stories for i in s.items):
        return stories
    groups: list[list[Item]] = []
    reasons: list[str] = []
    home: dict[int, int] = {}  # item id -> index of its group
    for story in stories:
        kept = [i for i in story.items if i.id not in moved]
        # The stories a paragraph retells were held together by it alone: without it, each is its own.
        alone = [i for i in kept if i.id in story.told] if story.first.id in moved else []
        kept = [i for i in kept if i not in alone]
        for group in ([kept] if kept else []) + [[i] for i in alone]:
            home.update((i.id, len(groups)) for i in group)
            groups.append(group)
            reasons.append(story.reason if len(group) > 1 else "")
        for item in story.items:
            if item.id in moved:
                home[item.id] = len(groups)
                groups.append([item])
                reasons.append("")
    for item_id in [i for i in home if i in moved and chosen[i].joined_to is not None]:
        target, seen = chosen[item_id].joined_to, {item_id}
        while target in chosen and chosen[target].joined_to is not None and chosen[target].joined_to not in seen:
            seen.add(target)  # along a chain of merges, and not round a loop of them
            target = chosen[target].joined_to
        if target is None or target not in home or home[target] == home[item_id]:
            continue
        old, new = home[item_id], home[target]
        item = next(i for i in groups[old] if i.id == item_id)
        groups[old].remove(item)
        groups[new].append(item)
        home[item_id] = new
        if MERGED not in reasons[new]:
            reasons[new] = f"{reasons[new]}, {MERGED}" if reasons[new] else MERGED
    merged = {home[i] for i in moved if chosen[i].joined_to is not None}
    told_in = {i: s.first.id for s in stories for i in s.told}  # told within a paragraph, while they stay with it
    return [Cluster(tuple([g[0], *sorted(g[1:], key=key)] if n in merged else g), reasons[n],
                    frozenset(i.id for i in g[1:] if told_in.get(i.id) == g[0].id))
            for n, g in enumerate(groups) if g]


def edited(item: Item, choice: Choice | None) -> Item:
    """Return ``item`` with the editor's headline and summary (an edited headline replaces an inline heading)."""
    if choice is None or (choice.title is None and choice.summary is None):
        return item
    changes: dict[str, Any] = {}
    if choice.title is not None:
        changes.update(title=choice.title, label=None)
    if choice.summary is not None:
        changes["summary"] = choice.summary
    return dataclasses.replace(item, **changes)


def reorder(sections: Iterable[Section], chosen: dict[int, Choice]) -> list[Section]:
    """Return ``sections`` with their items in the editor's order: placed items first, the others after, as they were."""
    out = []
    for section in sections:
        def key(pair: tuple[int, Any]) -> tuple[bool, int, int]:
            position = chosen[pair[1].item.id].position if pair[1].item.id in chosen else None
            return (position is None, position or 0, pair[0])

        items = tuple(p for _, p in sorted(enumerate(section.items), key=key))
        out.append(section if items == section.items else dataclasses.replace(section, items=items))
    return out


def _update(store: Store, item_id: int, **values: Any) -> Choice:
    _check_waiting(store, item_id)
    with store.begin() as conn:
        return _write(conn, store, item_id, values)


def _write(conn: sa.Connection, store: Store, item_id: int, values: dict[str, Any]) -> Choice:
    """Keep ``values`` in the item's row (made if missing), in the caller's transaction; return the choice."""
    table = store.t.editorial
    row = conn.execute(sa.select(table.c.item_id).where(table.c.item_id == item_id)).first()
    values = {**values, "updated_at": now()}
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


def _forget_if_empty(conn: sa.Connection, store: Store, item_id: int) -> None:
    """Delete the item's row when it no longer holds any choice."""
    t = store.t.editorial
    conn.execute(t.delete().where(
        t.c.item_id == item_id, t.c.pinned == sa.false(), t.c.dropped == sa.false(), t.c.section.is_(None),
        t.c.title.is_(None), t.c.summary.is_(None), t.c.position.is_(None), t.c.apart == sa.false(),
        t.c.joined_to.is_(None)))


def _choice(row: Any) -> Choice:
    return Choice(row["item_id"], bool(row["pinned"]), bool(row["dropped"]), row["section"],
                  from_db(row["updated_at"]), title=row["title"], summary=row["summary"], position=row["position"],
                  apart=bool(row["apart"]), joined_to=row["joined_to"])
