"""The declared schema: the named migrations build exactly ``newsletter/schema.py``, on SQLite and PostgreSQL.

Alembic's ``compare_metadata`` (a test dependency only) lists every difference between a database
and the declaration: tables, columns, types, nullability, server defaults, indexes, unique
constraints and foreign keys. After migrating, fresh or from any older level, the list is empty.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from newsletter import migrations, schema
from newsletter.store import Store

LEVELS = [name for name, _ in migrations.MIGRATIONS]


def differences(engine: sa.Engine) -> list[Any]:
    """Return what Alembic finds between the database and the declared schema."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": same_empty_string})
        found = list(compare_metadata(context, schema.metadata))
    return found + unique_differences(engine)


def unique_differences(engine: sa.Engine) -> list[Any]:
    """Compare unique constraints by their columns: SQLite's are unnamed, and Alembic sees no missing one."""
    inspector = sa.inspect(engine)
    found = []
    for table in schema.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue  # a missing table is Alembic's to report
        declared = {tuple(c.name for c in uq.columns) for uq in table.constraints
                    if isinstance(uq, sa.UniqueConstraint)}
        built = {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table.name)}
        if declared != built:
            found.append(("unique", table.name, sorted(built - declared), sorted(declared - built)))
    return found


def same_empty_string(context: MigrationContext, inspected: sa.Column[Any], declared: sa.Column[Any],
                      inspected_default: str | None, declared_default: Any, rendered: str | None) -> bool | None:
    """Match a declared ``server_default=""`` to SQLite's ``('')``, which Alembic's SQLite comparison misses.

    It unwraps ``'0'`` to compare with ``"0"``, but its patterns need a character inside the
    quotes. Anything else is left to Alembic (``None``).
    """
    if rendered == "" and inspected_default in ("''", "('')"):
        return False
    return None


def migrate_to(engine: sa.Engine, level: str) -> None:
    """Apply the named migrations up to and including ``level``, as a release of that time would have."""
    assert migrations.apply(engine, migrations.MIGRATIONS[:LEVELS.index(level) + 1])[-1] == level


def test_migrating_an_empty_sqlite_database_gives_the_declared_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    assert differences(store.engine) == []
    store.close()


def test_migrating_an_empty_postgresql_database_gives_the_declared_schema(postgres_url: str) -> None:
    store = Store(postgres_url)
    assert differences(store.engine) == []
    store.close()


@pytest.mark.parametrize("level", LEVELS[:-1])
def test_a_sqlite_database_at_an_older_level_upgrades_to_the_declared_schema(tmp_path: Path, level: str) -> None:
    engine = Store(tmp_path / "state.db", migrate=False).engine
    migrate_to(engine, level)
    assert differences(engine) != []  # the test means something: this level is behind
    store = Store(engine)
    assert differences(store.engine) == []
    store.close()


def test_a_postgresql_database_at_an_older_level_upgrades_to_the_declared_schema(postgres_url: str) -> None:
    engine = Store(postgres_url, migrate=False).engine
    migrate_to(engine, "0005_subscriber_lifecycle")
    store = Store(engine)
    assert differences(store.engine) == []
    store.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_rows_of_the_first_release_get_the_added_columns_defaults(
        tmp_path: Path, request: pytest.FixtureRequest, database: str) -> None:
    """Columns added NOT NULL to tables that already hold rows take their default; the lifecycle is filled in."""
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else f"sqlite:///{tmp_path / 'state.db'}"
    engine = Store(url, migrate=False).engine
    migrate_to(engine, "0001_initial")
    then = datetime(2024, 5, 1, 8, 0)
    with engine.begin() as conn:
        for statement in (
            "INSERT INTO sources (id, key, kind, created_at) VALUES (1, 'https://example.org/feed', 'feed', :then)",
            "INSERT INTO items (id, source_id, uid, gathered_at) VALUES (1, 1, 'a', :then)",
            ("INSERT INTO issues (id, number, status, subject, html, text, created_at)"
             " VALUES (1, 1, 'sent', 'One', '<p>', 'one', :then)"),
            "INSERT INTO issue_items (issue_id, item_id, section, position) VALUES (1, 1, 'News', 0)",
            ("INSERT INTO subscribers (id, email, email_key, status, created_at, updated_at)"
             " VALUES (1, 'a@example.org', 'a@example.org', 'active', :then, :then)"),
            ("INSERT INTO deliveries (issue_id, subscriber_id, status, message_id, updated_at)"
             " VALUES (1, 1, 'sent', '<1@example.org>', :then)"),
        ):
            conn.execute(sa.text(statement), {"then": then})
    store = Store(engine)
    t = store.t
    with store.begin() as conn:
        reader = conn.execute(sa.select(t.subscribers)).mappings().one()
        assert (reader["bounces"], reader["status_changed_at"], reader["confirmed_at"]) == (0, then, then)
        assert conn.execute(sa.select(t.deliveries.c.bounced)).scalar_one() is False
        assert conn.execute(sa.select(t.issue_items.c.shown)).scalar_one() is True
        assert conn.execute(sa.select(t.items.c.content_html)).scalar_one() is None
    store.close()
