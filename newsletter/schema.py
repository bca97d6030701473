"""The schema, declared once: every table as the latest migration in ``migrations/`` leaves it.

The store works with these ``Table`` objects (``store.t.items``) and never reflects the database.
The migrations stay the only way a database changes (each one is history and is never edited);
a new migration changes this file too, in the same commit, and ``tests/test_schema.py`` checks
that migrating an empty database, or one at any older level, ends at exactly this declaration.

Columns are listed in the order a fresh database has them: a column a migration added comes
after those of the table's first version. Each table names the module that owns its rows: the
only one that inserts, updates or deletes them (others call its functions).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Owner: newsletter/migrations/__init__.py, one row per migration applied (the record of the others).
sa.Table(
    "migrations", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

# Owner: newsletter/store.py: the generated signing key, and the schedule's anchor (for daemon.py).
sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Owner: newsletter/gather/sources.py, one row per source and its health.
sa.Table(
    "sources", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(2000), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_status", sa.String(20)),
    sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_attempt_at", sa.DateTime),
    sa.Column("last_success_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("permanent_url", sa.Text),  # 0002_source_health
    sa.Column("failing_since", sa.DateTime),
    sa.Column("last_http_status", sa.Integer),
    sa.Column("last_warning", sa.Text),
    sa.Column("content_hash", sa.String(64)),
)

# Owner: newsletter/gather/intake.py, the items gathered from each source.
sa.Table(
    "items", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("uid", sa.String(1000), nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("label", sa.Text),
    sa.Column("link", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("published_at", sa.DateTime),
    sa.Column("gathered_at", sa.DateTime, nullable=False),
    sa.Column("content_html", sa.Text),  # 0002_source_health
    sa.UniqueConstraint("source_id", "uid", name="uq_items_source_uid"),
)

# Owner: newsletter/edit/issue.py, which stores issues as "sending"; delivery/outbox.py has it
# mark them "sent" (and "sending" again) through its functions.
sa.Table(
    "issues", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False, unique=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("preheader", sa.Text, nullable=False, server_default=""),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
)

# Owner: newsletter/edit/issue.py, the items each issue took, in order.
sa.Table(
    "issue_items", metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("section", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("shown", sa.Boolean, nullable=False, server_default=sa.text("true")),  # 0010_issue_items_shown
    sa.UniqueConstraint("item_id", name="uq_issue_items_item"),
)

# Owner: newsletter/edit/editorial.py, editors' choices for waiting items (kept, unchanged, once an
# item went out: the archive shows the editor's headline and summary); web/desk_issue.py calls it.
sa.Table(
    "editorial", metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("dropped", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("section", sa.Text),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("title", sa.Text),  # 0015_issue_editing: the editor's headline and summary (None: the source's)
    sa.Column("summary", sa.Text),
    sa.Column("position", sa.Integer),  # place within its section
    sa.Column("apart", sa.Boolean, nullable=False, server_default=sa.false()),  # split from its story
    sa.Column("joined_to", sa.Integer),  # merged into the story of this item
)

# Owner: newsletter/subscribers/__init__.py; csvfile.py, optin.py and the delivery modules (bounce
# counts) call its functions.
sa.Table(
    "subscribers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("sections", sa.Text, nullable=False, server_default=""),
    sa.Column("origin", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("bounces", sa.Integer, nullable=False, server_default="0"),  # 0004_delivery_engine
    sa.Column("status_changed_at", sa.DateTime),  # 0005_subscriber_lifecycle
    sa.Column("confirmed_at", sa.DateTime),
    sa.Column("unsubscribed_at", sa.DateTime),
    sa.Column("bounced_at", sa.DateTime),
    sa.Column("complained_at", sa.DateTime),
    sa.Column("confirm_sent_at", sa.DateTime),
    sa.Column("language", sa.String(35), nullable=False, server_default=""),  # 0012_reader_locale
    sa.Column("timezone", sa.String(64), nullable=False, server_default=""),
    sa.Column("name_key", sa.Text, nullable=False, server_default=""),  # 0013_subscriber_search
    sa.Index("ix_subscribers_status", "status", "id"),
    sa.Index("ix_subscribers_name_key", "name_key", "id"),
)

# Owner: newsletter/subscribers/__init__.py, each subscriber's history (bounce reports included).
sa.Table(
    "subscriber_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
    sa.Column("event", sa.String(30), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("origin", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ix_subscriber_events_subscriber", "subscriber_id", "id"),
)

# Owner: newsletter/delivery/outbox.py, one row per issue and reader; delivery/recorder.py closes
# rows with their outcome through its ``Closer``, delivery/bounces.py flags late bounces with it.
sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("next_attempt_at", sa.DateTime),  # 0004_delivery_engine
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_at", sa.DateTime),
    sa.Column("bounced", sa.Boolean, nullable=False, server_default=sa.text("false")),  # 0007_delivery_bounced
    # 0014_local_delivery: when the reader's copy falls due (naive UTC); delivery/waves.py plans it.
    sa.Column("due_at", sa.DateTime, nullable=False, server_default="1970-01-01 00:00:00"),
    sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_subscriber"),
    sa.Index("ix_deliveries_issue_status", "issue_id", "status"),
    sa.Index("ix_deliveries_due", "issue_id", "status", "due_at", "id"),
)

# Owner: newsletter/daemon.py, one row per scheduled job and fire time.
sa.Table(
    "schedule_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job", sa.String(20), nullable=False),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.UniqueConstraint("job", "due_at", name="uq_schedule_runs_job_due"),
)

# Owner: newsletter/daemon.py, the lease that lets one daemon of several run the schedule.
sa.Table(
    "leases", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# Owner: newsletter/delivery/ratelimit.py, the next free send slot (migration 0008 seeds "smtp").
sa.Table(
    "send_rate", metadata,
    sa.Column("series", sa.String(20), primary_key=True),
    sa.Column("next_at", sa.Float, nullable=False),  # seconds since the epoch: the first slot not taken
)

# Owner: newsletter/subscribers/signup_limit.py, each client's recent sign-ups and wrong admin
# tokens (a keyed hash, never the address).
sa.Table(
    "signup_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, server_default="signup"),  # 0011_desk_sessions
    sa.Index("ix_signup_attempts_client_at", "client", "at"),
    sa.Index("ix_signup_attempts_at", "at"),
)

# Owner: newsletter/web/auth.py, one row per desk login until it ends (a hash of the session id).
sa.Table(
    "desk_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Index("ix_desk_sessions_expires_at", "expires_at"),
)

# Owner: newsletter/delivery/receipts.py, one row per report applied (a mailbox message, an ESP's event),
# so that the same one is never applied twice (0017_bounce_mailbox).
sa.Table(
    "report_receipts", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("origin", sa.String(20), nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
)

# Owner: newsletter/edit/words.py, the subject and intro an editor wrote for each issue, by number
# (written for the next issue on the desk, kept once it is made; 0018_issue_words).
sa.Table(
    "issue_words", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("intro", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Owner: newsletter/insight/clicks.py, clicks on an issue's links per item and ten-minute bucket (0016_insight):
# counts only, nothing about who clicked; ``discounted`` are those taken for mail scanners' fetches.
sa.Table(
    "clicks", metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("bucket", sa.DateTime, primary_key=True),
    sa.Column("clicks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("discounted", sa.Integer, nullable=False, server_default="0"),
)

# Owner: newsletter/webhooks/events.py, each event queued in the transaction of its change (0016_insight):
# subscribers/__init__.py (record_events) and delivery/outbox.py (finish) call it; webhooks/sender.py marks
# them ``fanned`` once each endpoint that wants one has its delivery row, and forgets old ones, through it.
sa.Table(
    "webhook_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("msg_id", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("subscriber_id", sa.Integer),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("fanned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("msg_id", name="uq_webhook_events_msg_id"),
    sa.Index("ix_webhook_events_fanned", "fanned", "id"),
)

# Owner: newsletter/webhooks/sender.py, one row per event and endpoint: its attempts and outcome.
sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("webhook_events.id"), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("subscriber_id", sa.Integer),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime),
    sa.Column("claimed_until", sa.DateTime),
    sa.Column("last_code", sa.Integer),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime),
    sa.UniqueConstraint("event_id", "url", name="uq_webhook_deliveries_event_url"),
    sa.Index("ix_webhook_deliveries_open", "url", "status", "subscriber_id", "event_id"),
    sa.Index("ix_webhook_deliveries_updated", "updated_at"),
)

# Owner: newsletter/insight/timings.py, how long the last run of each kind took (the last gather), for /metrics.
sa.Table(
    "timings", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=False),
)
