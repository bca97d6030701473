"""The tally: what an issue's delivery rows add up to, read back for figures and summaries.

It owns no table: it reads ``deliveries`` (owned and written by ``outbox``, whose
statuses it counts by) and ``issues``. A row's outcome is its status, except that a
failed row a bounce closed counts as ``bounced`` (``by_outcome``), which the report and
the metrics use; ``counts`` (what ``send`` and ``status`` print) and ``summary`` (with the
failed and deferred readers, for ``newsletter deliveries``) count by status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.delivery.outbox import DEFERRED, FAILED, PENDING, SENT, SKIPPED
from newsletter.error import NewsletterError
from newsletter.store import Store, now

BOUNCED = "bounced"  # not a status: a failed row a bounce closed, which figures count apart (``outcome``)
OUTCOMES = (SENT, PENDING, DEFERRED, FAILED, BOUNCED, SKIPPED)  # what figures count rows by, in their order


@dataclass(frozen=True)
class Counts:
    """Deliveries of one issue by outcome."""

    pending: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    scheduled: int = 0  # of the pending rows, those not yet due (their reader's hour has not come)

    @property
    def total(self) -> int:
        """Return the number of rows in the outbox."""
        return self.pending + self.sent + self.deferred + self.failed + self.skipped  # scheduled: in pending

    @property
    def due(self) -> int:
        """Return the pending rows whose time has come: what a stopped send left unsent."""
        return self.pending - self.scheduled

    @property
    def finished(self) -> bool:
        """Return whether nothing is left to try."""
        return self.pending == 0 and self.deferred == 0

    def to_json(self) -> dict[str, int]:
        """Return plain data for ``--json``."""
        return {**asdict(self), "total": self.total}


def counts(store: Store, issue_id: int, present: datetime | None = None) -> Counts:
    """Return the deliveries of an issue by status, and how many are not yet due at ``present`` (default now)."""
    d = store.t.deliveries
    later = sa.func.count(sa.case((d.c.due_at > (present or now()), 1)))
    with store.begin() as conn:
        rows = conn.execute(sa.select(d.c.status, sa.func.count(), later).where(d.c.issue_id == issue_id)
                            .group_by(d.c.status)).all()
    return Counts(**{status: n for status, n, _ in rows},
                  scheduled=sum(n for status, _, n in rows if status == PENDING))


def outcome(status: str, bounced: bool) -> str:
    """Return what a row counts as in figures: its status, or ``bounced`` for a failed row a bounce closed."""
    return BOUNCED if bounced and status == FAILED else status


def by_outcome(conn: sa.Connection, store: Store, issue_id: int | None = None) -> dict[str, int]:
    """Return the deliveries of an issue (default: of every issue) by ``outcome``, in the caller's transaction."""
    d = store.t.deliveries
    query = sa.select(d.c.status, d.c.bounced, sa.func.count()).group_by(d.c.status, d.c.bounced)
    found = dict.fromkeys(OUTCOMES, 0)
    for status, bounced, n in conn.execute(query if issue_id is None else query.where(d.c.issue_id == issue_id)):
        key = outcome(status, bounced)
        found[key] = found.get(key, 0) + int(n)
    return found


def failures(store: Store, issue_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Return failed and deferred deliveries with their last error, failures first."""
    d, s = store.t.deliveries, store.t.subscribers
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(s.c.email, d.c.status, d.c.attempts, d.c.last_error, d.c.next_attempt_at,
                      s.c.status.label("subscriber_status"))
            .join(s, s.c.id == d.c.subscriber_id)
            .where(d.c.issue_id == issue_id, d.c.status.in_([FAILED, DEFERRED]))
            .order_by(d.c.status.desc(), d.c.id).limit(limit)
        ).mappings().all()
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class Summary:
    """One issue's deliveries: figures by outcome and the readers still owed or given up on."""

    number: int
    subject: str
    status: str
    counts: Counts
    failures: list[dict[str, Any]]
    issue_id: int = 0
    scheduled: list[dict[str, str]] = field(default_factory=list)  # readers not yet due (``waves.scheduled``)
    waves: list[Any] = field(default_factory=list)  # ``waves.Wave``s: the same readers by zone and due time

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"number": self.number, "subject": self.subject, "status": self.status,
                "deliveries": self.counts.to_json(),
                "failures": [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in f.items()}
                             for f in self.failures],
                "scheduled": self.scheduled, "waves": [w.to_json() for w in self.waves]}


def summary(store: Store, number: int, *, limit: int = 50, present: datetime | None = None) -> Summary:
    """Return the deliveries of issue ``number`` (as of ``present``), or raise NewsletterError if there is none."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(sa.select(t.issues.c.id, t.issues.c.subject, t.issues.c.status)
                           .where(t.issues.c.number == number)).first()
    if row is None:
        raise NewsletterError(f"no issue number {number}")
    return Summary(number, row.subject, row.status, counts(store, row.id, present), failures(store, row.id, limit),
                   row.id)
