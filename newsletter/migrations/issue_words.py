"""Migration 0018: the editor's own words for an issue (its subject and intro), by issue number."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def issue_words(conn: sa.Connection) -> None:
    """Keep the subject and intro an editor wrote for the issue of each number (empty: none written)."""
    run(conn, """
        CREATE TABLE issue_words (
            number INTEGER NOT NULL,
            subject TEXT DEFAULT '' NOT NULL,
            intro TEXT DEFAULT '' NOT NULL,
            updated_at {timestamp} NOT NULL,
            PRIMARY KEY (number)
        );
    """)
