"""Migration 0012: each reader's own language (a BCP 47 tag) and time zone (an IANA name); empty: the newsletter's."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def reader_locale(conn: sa.Connection) -> None:
    """Give every subscriber a language and a time zone, both empty (the newsletter's defaults)."""
    run(conn, """
        ALTER TABLE subscribers ADD COLUMN language VARCHAR(35) DEFAULT '' NOT NULL;
        ALTER TABLE subscribers ADD COLUMN timezone VARCHAR(64) DEFAULT '' NOT NULL;
    """)
