"""Migration 0016: click counts per issue, item and ten minutes; the webhook outbox; the last run times."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def insight(conn: sa.Connection) -> None:
    """Create ``clicks``, ``webhook_events``, ``webhook_deliveries`` and ``timings``.

    A click row names no reader: an issue, an item, the start of a ten-minute bucket and two
    counts. A webhook event is queued once; each endpoint that wants it gets a delivery row.
    """
    run(conn, """
        CREATE TABLE clicks (
            issue_id INTEGER NOT NULL,
            item_id INTEGER NOT NULL,
            bucket {timestamp} NOT NULL,
            clicks INTEGER DEFAULT 0 NOT NULL,
            discounted INTEGER DEFAULT 0 NOT NULL,
            PRIMARY KEY (issue_id, item_id, bucket),
            FOREIGN KEY (issue_id) REFERENCES issues (id),
            FOREIGN KEY (item_id) REFERENCES items (id)
        );
        CREATE TABLE webhook_events (
            id {serial} NOT NULL,
            msg_id VARCHAR(40) NOT NULL,
            type VARCHAR(40) NOT NULL,
            subscriber_id INTEGER,
            payload TEXT NOT NULL,
            created_at {timestamp} NOT NULL,
            fanned BOOLEAN DEFAULT {false} NOT NULL,
            PRIMARY KEY (id),
            CONSTRAINT uq_webhook_events_msg_id UNIQUE (msg_id)
        );
        CREATE INDEX ix_webhook_events_fanned ON webhook_events (fanned, id);
        CREATE TABLE webhook_deliveries (
            id {serial} NOT NULL,
            event_id INTEGER NOT NULL,
            url VARCHAR(2000) NOT NULL,
            subscriber_id INTEGER,
            status VARCHAR(20) NOT NULL,
            attempts INTEGER DEFAULT 0 NOT NULL,
            next_attempt_at {timestamp},
            claimed_until {timestamp},
            last_code INTEGER,
            last_error TEXT DEFAULT '' NOT NULL,
            created_at {timestamp} NOT NULL,
            updated_at {timestamp} NOT NULL,
            delivered_at {timestamp},
            PRIMARY KEY (id),
            CONSTRAINT uq_webhook_deliveries_event_url UNIQUE (event_id, url),
            FOREIGN KEY (event_id) REFERENCES webhook_events (id)
        );
        CREATE INDEX ix_webhook_deliveries_open ON webhook_deliveries (url, status, subscriber_id, event_id);
        CREATE INDEX ix_webhook_deliveries_updated ON webhook_deliveries (updated_at);
        CREATE TABLE timings (
            name VARCHAR(50) NOT NULL,
            seconds FLOAT NOT NULL,
            finished_at {timestamp} NOT NULL,
            PRIMARY KEY (name)
        );
    """)
