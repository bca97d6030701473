"""The frozen SQL every migration runs: one text for SQLite and PostgreSQL, with a few words spelled apart."""

from __future__ import annotations

import sqlalchemy as sa

# The frozen SQL below is written once for both dialects; these few words are all they spell apart,
# as SQLAlchemy's create_all spelled them when the first migrations built tables with it: an
# Integer primary key, a DateTime, a false default. On SQLite an INTEGER column that is the whole
# primary key is the rowid, numbered as SQLAlchemy's autoincrement expects (no AUTOINCREMENT).
_SPELLINGS: dict[str, dict[str, str]] = {
    "sqlite": {"serial": "INTEGER", "timestamp": "DATETIME", "false": "0"},
    "postgresql": {"serial": "SERIAL", "timestamp": "TIMESTAMP WITHOUT TIME ZONE", "false": "false"},
}


def run(conn: sa.Connection, ddl: str) -> None:
    """Run frozen SQL, statements ended by ``;``, with the dialect's ``{serial}``, ``{timestamp}``, ``{false}``."""
    spelled = ddl.format_map(_SPELLINGS[conn.dialect.name])
    for statement in spelled.split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement.strip())
