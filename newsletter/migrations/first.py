"""Migrations 0001 to 0011, as they shipped: never edit one; add a new module beside this one."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.migrations.sql import run


def initial(conn: sa.Connection) -> None:
    """Create sources, items, issues, subscribers, deliveries and meta."""
    run(conn, """
        CREATE TABLE meta (
            "key" VARCHAR(100) NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY ("key")
        );
        CREATE TABLE sources (
            id {serial} NOT NULL,
            "key" VARCHAR(2000) NOT NULL,
            kind VARCHAR(20) NOT NULL,
            name TEXT DEFAULT '' NOT NULL,
            etag TEXT,
            last_modified TEXT,
            last_status VARCHAR(20),
            last_error TEXT,
            failures INTEGER DEFAULT '0' NOT NULL,
            last_attempt_at {timestamp},
            last_success_at {timestamp},
            created_at {timestamp} NOT NULL,
            PRIMARY KEY (id),
            UNIQUE ("key")
        );
        CREATE TABLE items (
            id {serial} NOT NULL,
            source_id INTEGER NOT NULL,
            uid VARCHAR(1000) NOT NULL,
            title TEXT DEFAULT '' NOT NULL,
            label TEXT,
            link TEXT,
            author TEXT,
            summary TEXT DEFAULT '' NOT NULL,
            body TEXT DEFAULT '' NOT NULL,
            published_at {timestamp},
            gathered_at {timestamp} NOT NULL,
            PRIMARY KEY (id),
            CONSTRAINT uq_items_source_uid UNIQUE (source_id, uid),
            FOREIGN KEY (source_id) REFERENCES sources (id)
        );
        CREATE TABLE issues (
            id {serial} NOT NULL,
            number INTEGER NOT NULL,
            status VARCHAR(20) NOT NULL,
            subject TEXT NOT NULL,
            preheader TEXT DEFAULT '' NOT NULL,
            html TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at {timestamp} NOT NULL,
            sent_at {timestamp},
            PRIMARY KEY (id),
            UNIQUE (number)
        );
        CREATE TABLE issue_items (
            issue_id INTEGER NOT NULL,
            item_id INTEGER NOT NULL,
            section TEXT NOT NULL,
            position INTEGER NOT NULL,
            reason TEXT DEFAULT '' NOT NULL,
            PRIMARY KEY (issue_id, item_id),
            CONSTRAINT uq_issue_items_item UNIQUE (item_id),
            FOREIGN KEY (issue_id) REFERENCES issues (id),
            FOREIGN KEY (item_id) REFERENCES items (id)
        );
        CREATE TABLE subscribers (
            id {serial} NOT NULL,
            email VARCHAR(320) NOT NULL,
            email_key VARCHAR(320) NOT NULL,
            name TEXT DEFAULT '' NOT NULL,
            status VARCHAR(20) NOT NULL,
            sections TEXT DEFAULT '' NOT NULL,
            origin TEXT DEFAULT '' NOT NULL,
            created_at {timestamp} NOT NULL,
            updated_at {timestamp} NOT NULL,
            PRIMARY KEY (id),
            UNIQUE (email_key)
        );
        CREATE TABLE deliveries (
            id {serial} NOT NULL,
            issue_id INTEGER NOT NULL,
            subscriber_id INTEGER NOT NULL,
            status VARCHAR(20) NOT NULL,
            attempts INTEGER DEFAULT '0' NOT NULL,
            last_error TEXT,
            message_id TEXT NOT NULL,
            updated_at {timestamp} NOT NULL,
            sent_at {timestamp},
            PRIMARY KEY (id),
            CONSTRAINT uq_deliveries_issue_subscriber UNIQUE (issue_id, subscriber_id),
            FOREIGN KEY (issue_id) REFERENCES issues (id),
            FOREIGN KEY (subscriber_id) REFERENCES subscribers (id)
        );
        CREATE INDEX ix_deliveries_issue_status ON deliveries (issue_id, status);
    """)


def scheduler(conn: sa.Connection) -> None:
    """Record scheduled runs (one row per job and fire time) and leases between daemons."""
    run(conn, """
        CREATE TABLE leases (
            name VARCHAR(50) NOT NULL,
            holder TEXT NOT NULL,
            expires_at {timestamp} NOT NULL,
            PRIMARY KEY (name)
        );
        CREATE TABLE schedule_runs (
            id {serial} NOT NULL,
            job VARCHAR(20) NOT NULL,
            due_at {timestamp} NOT NULL,
            status VARCHAR(20) NOT NULL,
            holder TEXT NOT NULL,
            note TEXT DEFAULT '' NOT NULL,
            started_at {timestamp} NOT NULL,
            finished_at {timestamp},
            PRIMARY KEY (id),
            CONSTRAINT uq_schedule_runs_job_due UNIQUE (job, due_at)
        );
    """)


def editorial(conn: sa.Connection) -> None:
    """Keep editors' choices for waiting items: pinned, dropped, moved to a section."""
    run(conn, """
        CREATE TABLE editorial (
            item_id INTEGER NOT NULL,
            pinned BOOLEAN DEFAULT {false} NOT NULL,
            dropped BOOLEAN DEFAULT {false} NOT NULL,
            section TEXT,
            updated_at {timestamp} NOT NULL,
            PRIMARY KEY (item_id),
            FOREIGN KEY (item_id) REFERENCES items (id)
        );
    """)


def delivery_engine(conn: sa.Connection) -> None:
    """Let workers claim deliveries and retry them later; count each subscriber's bounces."""
    run(conn, """
        ALTER TABLE deliveries ADD COLUMN next_attempt_at {timestamp};
        ALTER TABLE deliveries ADD COLUMN claimed_by VARCHAR(200);
        ALTER TABLE deliveries ADD COLUMN claimed_at {timestamp};
        ALTER TABLE subscribers ADD COLUMN bounces INTEGER DEFAULT '0' NOT NULL;
    """)
    # Claims walk one issue's pending rows in id order: this index serves them without a sort.
    run(conn, "CREATE INDEX ix_deliveries_claim ON deliveries (issue_id, status, id);")


def source_health(conn: sa.Connection) -> None:
    """Remember where sources moved, since when they fail, what they last answered; keep safe HTML."""
    run(conn, """
        ALTER TABLE sources ADD COLUMN permanent_url TEXT;
        ALTER TABLE sources ADD COLUMN failing_since {timestamp};
        ALTER TABLE sources ADD COLUMN last_http_status INTEGER;
        ALTER TABLE sources ADD COLUMN last_warning TEXT;
        ALTER TABLE sources ADD COLUMN content_hash VARCHAR(64);
        ALTER TABLE items ADD COLUMN content_html TEXT;
    """)


def subscriber_lifecycle(conn: sa.Connection) -> None:
    """Time every change of a subscriber's status, pace confirmation mail, keep a history of events."""
    run(conn, """
        ALTER TABLE subscribers ADD COLUMN status_changed_at {timestamp};
        ALTER TABLE subscribers ADD COLUMN confirmed_at {timestamp};
        ALTER TABLE subscribers ADD COLUMN unsubscribed_at {timestamp};
        ALTER TABLE subscribers ADD COLUMN bounced_at {timestamp};
        ALTER TABLE subscribers ADD COLUMN complained_at {timestamp};
        ALTER TABLE subscribers ADD COLUMN confirm_sent_at {timestamp};
    """)
    # What is known of existing rows: their last change is their last update.
    run(conn, """
        UPDATE subscribers SET status_changed_at = updated_at;
        UPDATE subscribers SET confirmed_at = created_at WHERE status = 'active';
    """)
    run(conn, """
        CREATE INDEX ix_subscribers_status ON subscribers (status, id);
        CREATE TABLE subscriber_events (
            id {serial} NOT NULL,
            subscriber_id INTEGER NOT NULL,
            event VARCHAR(30) NOT NULL,
            status VARCHAR(20) NOT NULL,
            origin TEXT DEFAULT '' NOT NULL,
            detail TEXT DEFAULT '' NOT NULL,
            at {timestamp} NOT NULL,
            PRIMARY KEY (id),
            FOREIGN KEY (subscriber_id) REFERENCES subscribers (id)
        );
        CREATE INDEX ix_subscriber_events_subscriber ON subscriber_events (subscriber_id, id);
    """)


def delivery_bounced(conn: sa.Connection) -> None:
    """Remember which deliveries bounced, so retrying an issue never counts a reader's bounce twice."""
    run(conn, "ALTER TABLE deliveries ADD COLUMN bounced BOOLEAN DEFAULT false NOT NULL;")


def send_rate(conn: sa.Connection) -> None:
    """Keep the series of send slots every worker takes from, so the rate limit holds across workers."""
    # next_at: seconds since the epoch, the first slot not taken.
    run(conn, """
        CREATE TABLE send_rate (
            series VARCHAR(20) NOT NULL,
            next_at FLOAT NOT NULL,
            PRIMARY KEY (series)
        );
        INSERT INTO send_rate (series, next_at) VALUES ('smtp', 0.0);
    """)


def signup_attempts(conn: sa.Connection) -> None:
    """Keep each client's recent sign-ups (a keyed hash of its address, never the address) for the hourly limit."""
    # ix_signup_attempts_at serves the clean-up of day-old rows.
    run(conn, """
        CREATE TABLE signup_attempts (
            id {serial} NOT NULL,
            client VARCHAR(64) NOT NULL,
            at {timestamp} NOT NULL,
            PRIMARY KEY (id)
        );
        CREATE INDEX ix_signup_attempts_client_at ON signup_attempts (client, at);
        CREATE INDEX ix_signup_attempts_at ON signup_attempts (at);
    """)


def issue_items_shown(conn: sa.Connection) -> None:
    """Mark the items an issue took along unseen (repeats of a story already sent); all earlier ones were shown."""
    run(conn, "ALTER TABLE issue_items ADD COLUMN shown BOOLEAN DEFAULT true NOT NULL;")


def desk_sessions(conn: sa.Connection) -> None:
    """Keep each desk login (a hash of its session id), so logging out ends it; count wrong admin tokens too.

    The sign-up limit's attempts get a kind: a sign-up, or a wrong admin token.
    """
    run(conn, """
        ALTER TABLE signup_attempts ADD COLUMN kind VARCHAR(20) DEFAULT 'signup' NOT NULL;
        CREATE TABLE desk_sessions (
            id VARCHAR(64) NOT NULL,
            created_at {timestamp} NOT NULL,
            expires_at {timestamp} NOT NULL,
            PRIMARY KEY (id)
        );
        CREATE INDEX ix_desk_sessions_expires_at ON desk_sessions (expires_at);
    """)
