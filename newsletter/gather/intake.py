"""Intake: decide which entries of a source become new items, and which are ones we know.

An entry is known when its uid (guid, else link, else content hash) is stored for
the source. A feed that re-publishes an entry under a new guid but with the same link
(a CMS migration, a guid built from a timestamp) would otherwise mail every reader
the same story again, so an entry whose uid is new but whose link belongs to exactly
one stored item — and to no other entry in this fetch — is that item. Known items
still waiting for an issue take the new text; items already sent are never touched
and never come back.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.item import Entry
from newsletter.store import Store, to_db


def store_entries(store: Store, conn: sa.Connection, source_id: int, entries: list[Entry],
                  moment: datetime, *, first: bool = False) -> tuple[int, int]:
    """Insert unseen entries and refresh waiting ones whose text changed; return (new, updated).

    ``first``: the source was created in this transaction, so none of its items is stored.
    """
    t = store.t
    rows = [] if first else list(conn.execute(
        sa.select(t.items.c.id, t.items.c.uid, t.items.c.link, t.items.c.title, t.items.c.body,
                  t.items.c.content_html, t.issue_items.c.issue_id)
        .select_from(t.items.outerjoin(t.issue_items, t.issue_items.c.item_id == t.items.c.id))
        .where(t.items.c.source_id == source_id)
    ))
    by_uid = {r.uid: r for r in rows}
    by_link: dict[str, list[Any]] = {}
    for r in rows:
        if r.link:
            by_link.setdefault(r.link, []).append(r)
    links = Counter(e.link for e in entries if e.link)
    inserts: list[dict[str, Any]] = []
    updated = 0
    seen: set[int | str] = set()
    for entry in entries:
        old = by_uid.get(entry.uid)
        if old is None and entry.link and links[entry.link] == 1 and len(by_link.get(entry.link, [])) == 1:
            old = by_link[entry.link][0]
        marker = old.id if old is not None else entry.uid
        if marker in seen:
            continue
        seen.add(marker)
        values = dict(title=entry.title, label=entry.label, link=entry.link, author=entry.author,
                      summary=entry.summary, body=entry.body, content_html=entry.html or None,
                      published_at=to_db(entry.published_at))
        if old is None:
            inserts.append(dict(source_id=source_id, uid=entry.uid, gathered_at=moment, **values))
        elif old.issue_id is None and (old.title, old.body, old.content_html) != (
                entry.title, entry.body, entry.html or None):
            conn.execute(t.items.update().where(t.items.c.id == old.id), values)
            updated += 1
    if inserts:
        conn.execute(t.items.insert(), inserts)
    return len(inserts), updated
