"""Named schema migrations; each runs once, in a transaction, with its own record.

The schema lives here and only here: the store reflects the tables these build.
Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

Migration = tuple[str, Callable[[sa.Connection], None]]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def initial(conn: sa.Connection) -> None:
    """Create sources, items, issues, subscribers, deliveries and meta."""
    md = sa.MetaData()
    sa.Table(
        "meta", md,
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "sources", md,
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
    )
    sa.Table(
        "items", md,
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
        sa.UniqueConstraint("source_id", "uid", name="uq_items_source_uid"),
    )
    sa.Table(
        "issues", md,
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
    sa.Table(
        "issue_items", md,
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("item_id", name="uq_issue_items_item"),
    )
    sa.Table(
        "subscribers", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sections", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "deliveries", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_subscriber"),
        sa.Index("ix_deliveries_issue_status", "issue_id", "status"),
    )
    md.create_all(conn)


def scheduler(conn: sa.Connection) -> None:
    """Record scheduled runs (one row per job and fire time) and leases between daemons."""
    md = sa.MetaData()
    sa.Table(
        "schedule_runs", md,
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
    sa.Table(
        "leases", md,
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    md.create_all(conn)


def editorial(conn: sa.Connection) -> None:
    """Keep editors' choices for waiting items: pinned, dropped, moved to a section."""
    md = sa.MetaData()
    _existing(md, "items", "id")  # for the foreign key
    sa.Table(
        "editorial", md,
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("dropped", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("section", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    ).create(conn)


def delivery_engine(conn: sa.Connection) -> None:
    """Let workers claim deliveries and retry them later; count each subscriber's bounces."""
    columns = [
        ("deliveries", sa.Column("next_attempt_at", sa.DateTime)),
        ("deliveries", sa.Column("claimed_by", sa.String(200))),
        ("deliveries", sa.Column("claimed_at", sa.DateTime)),
        ("subscribers", sa.Column("bounces", sa.Integer, nullable=False, server_default="0")),
    ]
    _add_columns(conn, columns)
    deliveries = _existing(sa.MetaData(), "deliveries", "id", "issue_id", "status")
    # Claims walk one issue's pending rows in id order: this index serves them without a sort.
    sa.Index("ix_deliveries_claim", deliveries.c.issue_id, deliveries.c.status, deliveries.c.id).create(conn)


def source_health(conn: sa.Connection) -> None:
    """Remember where sources moved, since when they fail, what they last answered; keep safe HTML."""
    columns = [
        ("sources", sa.Column("permanent_url", sa.Text)),
        ("sources", sa.Column("failing_since", sa.DateTime)),
        ("sources", sa.Column("last_http_status", sa.Integer)),
        ("sources", sa.Column("last_warning", sa.Text)),
        ("sources", sa.Column("content_hash", sa.String(64))),
        ("items", sa.Column("content_html", sa.Text)),
    ]
    _add_columns(conn, columns)


def subscriber_lifecycle(conn: sa.Connection) -> None:
    """Time every change of a subscriber's status, pace confirmation mail, keep a history of events."""
    names = ("status_changed_at", "confirmed_at", "unsubscribed_at", "bounced_at", "complained_at", "confirm_sent_at")
    _add_columns(conn, [("subscribers", sa.Column(name, sa.DateTime)) for name in names])
    # What is known of existing rows: their last change is their last update.
    conn.execute(sa.text("UPDATE subscribers SET status_changed_at = updated_at"))
    conn.execute(sa.text("UPDATE subscribers SET confirmed_at = created_at WHERE status = 'active'"))
    md = sa.MetaData()
    subscribers = _existing(md, "subscribers", "id", "status")
    sa.Index("ix_subscribers_status", subscribers.c.status, subscribers.c.id).create(conn)
    sa.Table(
        "subscriber_events", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("origin", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Index("ix_subscriber_events_subscriber", "subscriber_id", "id"),
    ).create(conn)


def delivery_bounced(conn: sa.Connection) -> None:
    """Remember which deliveries bounced, so retrying an issue never counts a reader's bounce twice."""
    _add_columns(conn, [("deliveries", sa.Column("bounced", sa.Boolean, nullable=False,
                                                 server_default=sa.text("false")))])


def send_rate(conn: sa.Connection) -> None:
    """Keep the series of send slots every worker takes from, so the rate limit holds across workers."""
    table = sa.Table(
        "send_rate", sa.MetaData(),
        sa.Column("series", sa.String(20), primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False),  # seconds since the epoch: the first slot not taken
    )
    table.create(conn)
    conn.execute(table.insert().values(series="smtp", next_at=0.0))


def signup_attempts(conn: sa.Connection) -> None:
    """Keep each client's recent sign-ups (a keyed hash of its address, never the address) for the hourly limit."""
    sa.Table(
        "signup_attempts", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Index("ix_signup_attempts_client_at", "client", "at"),
        sa.Index("ix_signup_attempts_at", "at"),  # for the clean-up of day-old rows
    ).create(conn)


def issue_items_shown(conn: sa.Connection) -> None:
    """Mark the items an issue took along unseen (repeats of a story already sent); all earlier ones were shown."""
    _add_columns(conn, [("issue_items", sa.Column("shown", sa.Boolean, nullable=False,
                                                  server_default=sa.text("true")))])


def _existing(md: sa.MetaData, table: str, *columns: str) -> sa.Table:
    """Return an existing table with the columns a migration refers to: enough for indexes and keys."""
    return sa.Table(table, md, *(sa.Column(name, sa.Integer, primary_key=name == "id") for name in columns))


def _add_columns(conn: sa.Connection, columns: list[tuple[str, sa.Column[Any]]]) -> None:
    """Add each (table, column); a column with a server default is NOT NULL with that default."""
    for table, column in columns:
        kind = column.type.compile(dialect=conn.dialect)
        default = f" NOT NULL DEFAULT {column.server_default.arg}" if column.server_default is not None else ""  # type: ignore[attr-defined]
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind}{default}"))


MIGRATIONS: list[Migration] = [
    ("0001_initial", initial),
    ("0002_source_health", source_health),
    ("0003_editorial", editorial),
    ("0004_delivery_engine", delivery_engine),
    ("0005_subscriber_lifecycle", subscriber_lifecycle),
    ("0006_scheduler", scheduler),
    ("0007_delivery_bounced", delivery_bounced),
    ("0008_send_rate", send_rate),
    ("0009_signup_attempts", signup_attempts),
    ("0010_issue_items_shown", issue_items_shown),
]


def apply(engine: sa.Engine, migrations: list[Migration] | None = None) -> list[str]:
    """Run every migration not yet recorded and return the names that ran."""
    migrations = MIGRATIONS if migrations is None else migrations
    md = sa.MetaData()
    record = sa.Table(
        "migrations", md,
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("applied_at", sa.DateTime, nullable=False),
    )
    with engine.begin() as conn:
        md.create_all(conn)
        applied = set(conn.execute(sa.select(record.c.name)).scalars())
    ran = []
    for name, migrate in migrations:
        if name in applied:
            continue  # the common case at every start: one query, not a transaction per migration
        with engine.begin() as conn:
            # Re-check inside the transaction: another process may have just applied it.
            done = conn.execute(sa.select(record.c.name).where(record.c.name == name)).first()
            if done:
                continue
            migrate(conn)
            conn.execute(record.insert().values(name=name, applied_at=_now()))
        ran.append(name)
    return ran
