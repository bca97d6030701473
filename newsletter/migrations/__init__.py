"""Named schema migrations; each runs once, in a transaction, with its own record.

Schema changes happen here and only here. ``schema.py`` declares the tables as the latest
migration leaves them, and the store uses that declaration. Never edit a migration that has
shipped; add a new one (a module of its own in this package, listed below), and bring
``schema.py`` along (``tests/test_schema.py`` compares them). Each migration is frozen SQL, one
text for SQLite and PostgreSQL (``sql.run``): it never changes with the declaration or with
SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from newsletter import schema
from newsletter.migrations import first
from newsletter.migrations.bounce_mailbox import bounce_mailbox
from newsletter.migrations.insight import insight
from newsletter.migrations.issue_editing import issue_editing
from newsletter.migrations.issue_words import issue_words
from newsletter.migrations.local_delivery import local_delivery
from newsletter.migrations.reader_locale import reader_locale
from newsletter.migrations.subscriber_search import subscriber_search

Migration = tuple[str, Callable[[sa.Connection], None]]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


MIGRATIONS: list[Migration] = [
    ("0001_initial", first.initial),
    ("0002_source_health", first.source_health),
    ("0003_editorial", first.editorial),
    ("0004_delivery_engine", first.delivery_engine),
    ("0005_subscriber_lifecycle", first.subscriber_lifecycle),
    ("0006_scheduler", first.scheduler),
    ("0007_delivery_bounced", first.delivery_bounced),
    ("0008_send_rate", first.send_rate),
    ("0009_signup_attempts", first.signup_attempts),
    ("0010_issue_items_shown", first.issue_items_shown),
    ("0011_desk_sessions", first.desk_sessions),
    ("0012_reader_locale", reader_locale),
    ("0013_subscriber_search", subscriber_search),
    ("0014_local_delivery", local_delivery),
    ("0015_issue_editing", issue_editing),
    ("0016_insight", insight),
    ("0017_bounce_mailbox", bounce_mailbox),
    ("0018_issue_words", issue_words),
]


def apply(engine: sa.Engine, migrations: list[Migration] | None = None) -> list[str]:
    """Run every migration not yet recorded and return the names that ran."""
    migrations = MIGRATIONS if migrations is None else migrations
    record = schema.metadata.tables["migrations"]
    with engine.begin() as conn:
        record.create(conn, checkfirst=True)
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
