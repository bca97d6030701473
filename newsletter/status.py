"""Status: what an operator asks of a running newsletter, and the past issues with their delivery figures.

An issue delivered at each reader's local hour (``[schedule] local_time``) also shows its waves
still to come: one per zone and due time (``delivery.waves``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from newsletter import delivery
from newsletter.daemon import Daemon
from newsletter.delivery.waves import Wave
from newsletter.delivery.waves import waves as issue_waves
from newsletter.edit import issue
from newsletter.edit.issue import Draft
from newsletter.gather.sources import health
from newsletter.store import Store, from_db, to_db


def report(daemon: Daemon, draft: Draft | None = None) -> dict[str, Any]:
    """Return the next run times, the daemon holding the lease, the last issue and source health.

    ``draft`` is the next issue if the caller already built it (drafting clusters every waiting item).
    """
    store = daemon.app.store
    t = store.t
    latest = issue.latest(store)
    recent = issues(store, limit=1)
    last_issue = recent[0].to_json() if recent else None
    sources = [
        {"name": h.name, "key": h.key, "status": h.status, "error": h.last_error, "failures": h.failures,
         "last_success_at": h.last_success_at.isoformat() if h.last_success_at else None}
        for h in health(daemon.app.config, store, moment=daemon.app.clock())
    ]
    with store.begin() as conn:
        runs = [
            {"job": r.job, "due_at": from_db(r.due_at).isoformat(), "status": r.status, "note": r.note}
            for r in conn.execute(sa.select(t.schedule_runs).order_by(t.schedule_runs.c.due_at.desc()).limit(5))
        ]
    lease = daemon.holder_of_lease()
    next_wave = daemon.next_wave()
    held = next((r for r in runs if r["job"] == "send"), None)
    if held is not None and (held["status"] != "held" or (
            latest is not None and latest.created_at > datetime.fromisoformat(held["due_at"]))):
        held = None  # the last scheduled send was not held, or an editor has sent an issue since
    return {
        "next_runs": {job: when.isoformat() if when else None for job, when in daemon.next_runs().items()},
        "next_wave": next_wave.isoformat() if next_wave else None,
        "waves": [{"issue": number, **wave.to_json()} for number, wave in
                  waves(store, zone=daemon.config.zone, present=to_db(daemon.clock()))],
        "daemon": {"holder": lease[0], "lease_expires_at": lease[1].isoformat()} if lease else None,
        "recent_runs": runs,
        "awaiting_approval": held,
        "last_issue": last_issue,
        "waiting_items": len((draft or daemon.app.draft()).items),
        "sources": sources,
    }


@dataclass(frozen=True)
class IssueFigures:
    """One recorded issue and how its deliveries went."""

    number: int
    subject: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    counts: delivery.Counts
    waves: tuple[Wave, ...] = ()  # of an issue being delivered: its readers not yet due, by zone and time

    def to_json(self) -> dict[str, Any]:
        """Return plain data for the JSON API."""
        return {"number": self.number, "subject": self.subject, "status": self.status,
                "created_at": self.created_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None,
                "deliveries": self.counts.to_json(), "waves": [w.to_json() for w in self.waves]}


def waves(store: Store, *, zone: ZoneInfo, present: datetime | None = None) -> list[tuple[int, Wave]]:
    """Return the waves still to come of every issue being delivered, with the issue's number, oldest issue first.

    ``zone`` is the newsletter's (for readers without their own); ``present`` the time (naive UTC; default now).
    """
    t = store.t
    with store.begin() as conn:
        sending = conn.execute(sa.select(t.issues.c.id, t.issues.c.number).where(t.issues.c.status == "sending")
                               .order_by(t.issues.c.number)).all()
    return [(number, wave) for issue_id, number in sending
            for wave in issue_waves(store, issue_id, zone=zone, present=present)]


def issues(store: Store, *, limit: int = 50, zone: ZoneInfo | None = None,
           present: datetime | None = None) -> list[IssueFigures]:
    """Return the latest recorded issues, newest first, each with its delivery counts.

    Given the newsletter's ``zone``, an issue being delivered comes with its waves still to come.
    """
    t = store.t
    with store.begin() as conn:
        rows = conn.execute(sa.select(t.issues.c.id, t.issues.c.number, t.issues.c.subject, t.issues.c.status,
                                      t.issues.c.created_at, t.issues.c.sent_at)
                            .order_by(t.issues.c.number.desc()).limit(limit)).mappings().all()
    return [IssueFigures(r["number"], r["subject"], r["status"], from_db(r["created_at"]),
                         from_db(r["sent_at"]), delivery.counts(store, r["id"], present),
                         tuple(issue_waves(store, r["id"], zone=zone, present=present))
                         if zone is not None and r["status"] == "sending" else ()) for r in rows]

