"""Status: what an operator asks of a running newsletter, in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter import delivery, issue
from newsletter.daemon import Daemon
from newsletter.issue import Draft
from newsletter.store import from_db


def report(daemon: Daemon, draft: Draft | None = None) -> dict[str, Any]:
    """Return the next run times, the daemon holding the lease, the last issue and source health.

    ``draft`` is the next issue if the caller already built it (drafting clusters every waiting item).
    """
    store = daemon.app.store
    t = store.t
    latest = issue.latest(store)
    last_issue = None
    if latest is not None:
        last_issue = {
            "number": latest.number, "subject": latest.subject, "status": latest.status,
            "created_at": latest.created_at.isoformat(),
            "sent_at": latest.sent_at.isoformat() if latest.sent_at else None,
            "deliveries": delivery.counts(store, latest.id).to_json(),
        }
    with store.begin() as conn:
        sources = [
            {"name": r.name, "key": r.key, "status": r.last_status, "error": r.last_error,
             "failures": r.failures,
             "last_success_at": from_db(r.last_success_at).isoformat() if r.last_success_at else None}
            for r in conn.execute(sa.select(t.sources).order_by(t.sources.c.id))
        ]
        runs = [
            {"job": r.job, "due_at": from_db(r.due_at).isoformat(), "status": r.status, "note": r.note}
            for r in conn.execute(sa.select(t.schedule_runs).order_by(t.schedule_runs.c.due_at.desc()).limit(5))
        ]
    lease = daemon.holder_of_lease()
    held = next((r for r in runs if r["job"] == "send"), None)
    if held is not None and (held["status"] != "held" or (
            latest is not None and latest.created_at > datetime.fromisoformat(held["due_at"]))):
        held = None  # the last scheduled send was not held, or an editor has sent an issue since
    return {
        "next_runs": {job: when.isoformat() if when else None for job, when in daemon.next_runs().items()},
        "daemon": {"holder": lease[0], "lease_expires_at": lease[1].isoformat()} if lease else None,
        "recent_runs": runs,
        "awaiting_approval": held,
        "last_issue": last_issue,
        "waiting_items": len((draft or daemon.app.draft()).items),
        "sources": sources,
    }
