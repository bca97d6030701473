"""Migration 0017: the receipts of reports already applied (mailbox messages, ESP webhook events), by key."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def bounce_mailbox(conn: sa.Connection) -> None:
    """Keep one row per report applied, so a message left in the mailbox or a repeated event is not applied again."""
    run(conn, """
        CREATE TABLE report_receipts (
            "key" VARCHAR(100) NOT NULL,
            origin VARCHAR(20) NOT NULL,
            received_at {timestamp} NOT NULL,
            PRIMARY KEY ("key")
        );
    """)
