"""Migration 0015: the editor's changes to the next issue, kept with the other choices in ``editorial``.

An edited headline and summary (the source's stay in ``items``), the item's place in its
section, and a split from or a merge into a story.
"""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def issue_editing(conn: sa.Connection) -> None:
    """Give each editorial choice a headline, a summary, a position, a split flag and a merge target."""
    run(conn, """
        ALTER TABLE editorial ADD COLUMN title TEXT;
        ALTER TABLE editorial ADD COLUMN summary TEXT;
        ALTER TABLE editorial ADD COLUMN position INTEGER;
        ALTER TABLE editorial ADD COLUMN apart BOOLEAN DEFAULT {false} NOT NULL;
        ALTER TABLE editorial ADD COLUMN joined_to INTEGER;
    """)
