"""The store: named migrations run once each, in a transaction, with their own record."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter import migrations
from newsletter.error import StoreError
from newsletter.store import Store


def _applied(store: Store) -> list[str]:
    with store.begin() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT name FROM migrations ORDER BY name"))]


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Store(path)
    names = [name for name, _ in migrations.MIGRATIONS]
    assert names == sorted(names), "migrations run in list order; keep it the order of their names"
    assert _applied(first) == names
    tables = set(sa.inspect(first.engine).get_table_names())
    assert {"sources", "items", "issues", "issue_items", "subscribers", "deliveries", "meta"} <= tables
    assert first.t.items.name == "items" and "uid" in first.t.items.c
    with pytest.raises(AttributeError, match="no table 'nonesuch'"):
        getattr(first.t, "nonesuch")  # noqa: B009 - the name is what is tested
    first.close()
    again = migrations.apply(sa.create_engine(f"sqlite:///{path}"))
    assert again == []


def test_a_new_migration_runs_once(tmp_path: Path) -> None:
    engine = Store(tmp_path / "state.db").engine

    def add_note(conn: sa.Connection) -> None:
        conn.execute(sa.text("ALTER TABLE issues ADD COLUMN note TEXT"))

    extra = [*migrations.MIGRATIONS, ("0999_issue_note", add_note)]
    assert migrations.apply(engine, extra) == ["0999_issue_note"]
    assert migrations.apply(engine, extra) == []
    assert "note" in {c["name"] for c in sa.inspect(engine).get_columns("issues")}


def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    engine = Store(tmp_path / "state.db").engine

    def half_done(conn: sa.Connection) -> None:
        conn.execute(sa.text("CREATE TABLE scratch (id INTEGER)"))
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))

    with pytest.raises(sa.exc.OperationalError):
        migrations.apply(engine, [*migrations.MIGRATIONS, ("0999_broken", half_done)])
    assert "scratch" not in sa.inspect(engine).get_table_names()  # DDL rolled back with the rest
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(sa.text("SELECT name FROM migrations"))]
    assert "0999_broken" not in names


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder .*nowhere does not exist"):
        Store(f"sqlite:///{tmp_path / 'nowhere' / 'state.db'}")


def test_generated_secret_is_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    key = store.secret("")
    assert len(key) > 30
    assert Store(tmp_path / "state.db").secret("") == key
    assert store.secret("configured") == "configured"
