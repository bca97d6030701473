"""Migration 0014: each delivery's due time (``due_at``), for delivery at each reader's local hour.

Every row gets one: the rows already queued are due since their issue was recorded, and a row
written without one (by a release before this migration) is due at once (the epoch default). The
claim index becomes (issue, status, due time, id), the order in which workers claim due rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def local_delivery(conn: sa.Connection) -> None:
    """Give every delivery a due time and index the claim of due rows by it."""
    run(conn, """
        ALTER TABLE deliveries ADD COLUMN due_at {timestamp} DEFAULT '1970-01-01 00:00:00' NOT NULL;
        UPDATE deliveries SET due_at = (SELECT issues.created_at FROM issues WHERE issues.id = deliveries.issue_id);
        DROP INDEX ix_deliveries_claim;
        CREATE INDEX ix_deliveries_due ON deliveries (issue_id, status, due_at, id);
    """)
