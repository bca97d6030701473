"""A PostgreSQL server for the tests, started from the machine's binaries (initdb, pg_ctl)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from newsletter.sink import free_port


@dataclass
class Postgres:
    """A running PostgreSQL server that hands out fresh databases."""

    port: int
    databases: int = 0

    def create(self) -> str:
        """Create a fresh database and return its ``postgresql://`` URL."""
        import psycopg  # the optional PostgreSQL driver: only the tests that start a server need it

        self.databases += 1
        name = f"newsletter_{self.databases}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def postgres_bin(name: str) -> str:
    """Return the path of PostgreSQL's program ``name``, or fail the test saying how to install it."""
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        pytest.fail(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return str(found)


@contextmanager
def run_postgres() -> Iterator[Postgres]:
    """Run PostgreSQL in a temporary folder until the block ends, as an unprivileged user when run as root."""
    base = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "nobody")
        prefix = ["runuser", "-u", "nobody", "--"]
    data, port = base / "data", free_port()
    run = partial(subprocess.run, check=True, capture_output=True, cwd=base)
    run([*prefix, postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C", "--no-sync"])
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run([*prefix, postgres_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w",
         "start"])
    try:
        yield Postgres(port)
    finally:
        run([*prefix, postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)
