"""The state store: one database for sources, items, issues, subscribers, deliveries.

Each table has one module that writes it (named in ``schema.py``); this one writes ``meta``
(the generated signing key, the schedule's anchor).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy import event

from newsletter import migrations, schema
from newsletter.error import StoreError


class Store:
    """Open a database, bring its schema up to date and expose its tables.

    ``Store("sqlite:///path.db")``, ``Store(Path("x.db"))`` or ``Store.memory()``.
    """

    def __init__(self, url: str | Path | sa.Engine, *, migrate: bool = True) -> None:
        if isinstance(url, sa.Engine):
            self.engine = url
        else:
            self.engine = _engine(f"sqlite:///{url}" if isinstance(url, Path) else url)
        try:
            if migrate:
                migrations.apply(self.engine)
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"cannot open database {self.engine.url!r}: {_first_line(e)}") from e
        self.t = Tables(schema.metadata)

    @classmethod
    def memory(cls) -> Store:
        """Return a store in a private in-memory SQLite database."""
        return cls(_engine("sqlite://", memory=True))

    @property
    def is_sqlite(self) -> bool:
        """Return whether the database is SQLite."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """Yield a connection inside one transaction, committed on success."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as e:
            raise StoreError(f"database error: {_first_line(e)}") from e

    def get_meta(self, key: str) -> str | None:
        """Return a stored value from the meta table."""
        with self.begin() as conn:
            return conn.execute(sa.select(self.t.meta.c.value).where(self.t.meta.c.key == key)).scalar()

    def add_meta(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless a value is there already; return the stored one."""
        try:
            with self.begin() as conn:
                conn.execute(self.t.meta.insert().values(key=key, value=value))
        except sa.exc.IntegrityError:  # another process stored one at the same moment: keep theirs
            return self.get_meta(key) or value
        return value

    def secret(self, configured: str) -> str:
        """Return the signing key: the configured one, else one generated once and kept."""
        if configured:
            return configured
        meta = self.t.meta
        with self.begin() as conn:
            value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "secret_key")).scalar()
            if value is None:
                value = secrets.token_urlsafe(32)
                conn.execute(meta.insert().values(key="secret_key", value=value))
        return value

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


class Tables:
    """The declared tables by name: ``store.t.items`` is the ``items`` table of ``schema.py``."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self._tables = metadata.tables

    def __getattr__(self, name: str) -> sa.Table:
        table = None if name.startswith("_") else self._tables.get(name)
        if table is None:
            raise AttributeError(f"no table {name!r} in the store")
        return table


def now() -> datetime:
    """Return the current UTC time as stored (naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


@overload
def to_db(moment: datetime) -> datetime: ...
@overload
def to_db(moment: None) -> None: ...
def to_db(moment: datetime | None) -> datetime | None:
    """Return ``moment`` as naive UTC, the form the store keeps."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@overload
def from_db(moment: datetime) -> datetime: ...
@overload
def from_db(moment: None) -> None: ...
def from_db(moment: datetime | None) -> datetime | None:
    """Return a stored naive-UTC time as an aware datetime."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def _engine(url: str, *, memory: bool = False) -> sa.Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        if memory:
            kwargs["poolclass"] = sa.pool.StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["connect_args"] = {"timeout": 30}
            path = url.removeprefix("sqlite:///")
            if path and not Path(path).parent.exists():
                raise StoreError(f"cannot open database {url!r}: folder {Path(path).parent} does not exist")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as e:
        raise StoreError(f"cannot use database URL {url!r}: {e}") from e
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine, wal=not memory)
    return engine


def _sqlite_transactions(engine: sa.Engine, *, wal: bool) -> None:
    """Make pysqlite honour transactions for DDL too, and wait for locks instead of failing."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        # Take the write lock up front: no deadlock upgrading a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _first_line(e: Exception) -> str:
    return str(getattr(e, "orig", None) or e).splitlines()[0]
