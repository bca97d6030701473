"""How long the last run of each kind took (``gather``), kept for the metrics of any process to read.

Only this module writes ``timings``: one row per kind, replaced by each run that ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter.store import Store, now


@dataclass(frozen=True)
class Timing:
    """The last run of one kind: its seconds, and when it ended (naive UTC)."""

    seconds: float
    finished_at: datetime


def record(store: Store, name: str, seconds: float, *, moment: datetime | None = None) -> None:
    """Keep ``seconds`` as the duration of the last ``name`` run, ended at ``moment`` (default: now)."""
    t = store.t.timings
    values = {"seconds": float(seconds), "finished_at": moment or now()}
    for _ in range(3):
        try:
            with store.begin() as conn:
                if not conn.execute(t.update().where(t.c.name == name).values(**values)).rowcount:
                    conn.execute(t.insert().values(name=name, **values))
                return
        except sa.exc.IntegrityError:
            continue  # another process inserted the row first: replace it


def read(store: Store) -> dict[str, Timing]:
    """Return the last run of every kind recorded."""
    t = store.t.timings
    with store.begin() as conn:
        return {r.name: Timing(r.seconds, r.finished_at) for r in conn.execute(sa.select(t))}
