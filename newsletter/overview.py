"""Overview: the past issues an editor looks back on, with their delivery figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter import delivery
from newsletter.store import Store, from_db


@dataclass(frozen=True)
class IssueFigures:
    """One recorded issue and how its deliveries went."""

    number: int
    subject: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    counts: delivery.Counts

    def to_json(self) -> dict[str, Any]:
        """Return plain data for the JSON API."""
        return {"number": self.number, "subject": self.subject, "status": self.status,
                "created_at": self.created_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None,
                "deliveries": self.counts.to_json()}


def issues(store: Store, *, limit: int = 50) -> list[IssueFigures]:
    """Return the latest recorded issues, newest first, each with its delivery counts."""
    t = store.t
    with store.begin() as conn:
        rows = conn.execute(sa.select(t.issues.c.id, t.issues.c.number, t.issues.c.subject, t.issues.c.status,
                                      t.issues.c.created_at, t.issues.c.sent_at)
                            .order_by(t.issues.c.number.desc()).limit(limit)).mappings().all()
    return [IssueFigures(r["number"], r["subject"], r["status"], from_db(r["created_at"]),  # type: ignore[arg-type]
                         from_db(r["sent_at"]), delivery.counts(store, r["id"])) for r in rows]

