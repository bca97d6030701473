"""Migration 0013: each reader's name folded for searching and sorting in any case and any script.

SQL ``LIKE`` and ``lower`` fold ASCII only on SQLite, and by the server's locale on
PostgreSQL; a column of names folded in Python (``str.casefold``) matches and sorts alike
on both. The existing names are folded here, in Python; from then on every write of a
name writes its key too (``newsletter.subscribers.name_values``).
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from newsletter.migrations.sql import run

BATCH = 1000


def fold(text: str) -> str:
    """Fold a name as this migration shipped (frozen: ``rules.search_key`` may change, a migration never does)."""
    return unicodedata.normalize("NFKC", text.casefold()).replace("ё", "е")


def subscriber_search(conn: sa.Connection) -> None:
    """Add ``subscribers.name_key`` with its index, and fill it for every reader already listed."""
    run(conn, """
        ALTER TABLE subscribers ADD COLUMN name_key TEXT DEFAULT '' NOT NULL;
        CREATE INDEX ix_subscribers_name_key ON subscribers (name_key, id);
    """)
    last = 0
    while True:
        rows = conn.execute(sa.text("SELECT id, name FROM subscribers WHERE id > :last AND name <> '' "
                                    "ORDER BY id LIMIT :batch"), {"last": last, "batch": BATCH}).all()
        if not rows:
            return
        conn.execute(sa.text("UPDATE subscribers SET name_key = :key WHERE id = :id"),
                     [{"id": row.id, "key": fold(row.name)} for row in rows])
        last = rows[-1].id
