"""The outbox: one delivery row per (issue, subscriber), claimed by a worker and closed with its outcome.

A row is ``pending`` until a worker claims it (``claimed_by``/``claimed_at``, a lease
the worker renews), which it does only once the row's ``due_at`` has come (each reader's
local hour, planned by ``waves``; otherwise the moment it was queued), then ``sent``, ``deferred`` (retried from ``next_attempt_at``),
``failed`` or ``skipped``. Claims are taken with ``SELECT … FOR UPDATE SKIP LOCKED``
on PostgreSQL (SQLite serialises writers), so no two workers hold the same row.
A claim outlives its worker only until the lease runs out, or, on the same host,
until someone notices the worker's process is gone. The statuses (``PENDING`` …
``SKIPPED``) and the claimed row (``Job``) are declared here; the pool, the recorder
and the bounces import them. This module owns the ``deliveries`` table and is the one
that writes it: the recorder closes rows through a ``Closer``, the bounces flag them
with ``flag_bounced``. What the rows add up to (figures by outcome, an issue's summary)
is read in ``tally``.
An issue's own status changes go through ``edit.issue``.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa

from newsletter.edit import issue
from newsletter.email.message import Composer, Recipient
from newsletter.store import Store, now
from newsletter.webhooks import events as webhook_events

PENDING, SENT, DEFERRED, FAILED, SKIPPED = "pending", "sent", "deferred", "failed", "skipped"  # a row's status
OPEN = (PENDING, DEFERRED)


class Job(NamedTuple):
    """One claimed delivery and what is needed to build and address its message."""

    delivery_id: int
    attempts: int
    subscriber_id: int
    email: str
    name: str
    status: str  # the subscriber's status now
    sections: str
    bounces: int
    bounced: bool = False  # this delivery has already counted as one of the reader's bounces
    language: str = ""  # the reader's language (empty: the newsletter's)


def create_outbox(conn: sa.Connection, store: Store, *, issue_id: int, composer: Composer,
                  batch: int = 2000, due: Callable[[str], datetime] | None = None) -> int:
    """Queue one pending row per active subscriber, in the caller's transaction; return the count.

    ``due`` gives a reader's due time (naive UTC) from their time zone's name (``waves.DueTimes``);
    without it everyone is due at once. Subscribers are read a batch at a time, so memory stays
    flat however long the list.
    """
    s, d = store.t.subscribers, store.t.deliveries
    moment = now()
    due = due or (lambda zone: moment)
    last = total = 0
    while True:
        rows = conn.execute(sa.select(s.c.id, s.c.timezone).where(s.c.status == "active", s.c.id > last)
                            .order_by(s.c.id).limit(batch)).all()
        if not rows:
            return total
        conn.execute(d.insert(), [
            dict(issue_id=issue_id, subscriber_id=r.id, status=PENDING, attempts=0, updated_at=moment,
                 due_at=due(r.timezone), message_id=composer.message_id(Recipient(r.id, ""))) for r in rows])
        total += len(rows)
        last = rows[-1].id


def unfinished(store: Store) -> list[int]:
    """Return the numbers of the issues still being delivered, oldest first."""
    t = store.t
    with store.begin() as conn:
        return list(conn.execute(sa.select(t.issues.c.number).where(t.issues.c.status == "sending")
                                 .order_by(t.issues.c.number)).scalars())


def worker_name() -> str:
    """Return a name for a new worker: host, process id, process start time and a random tag."""
    return f"{_host()}:{os.getpid()}:{_started(os.getpid())}:{secrets.token_hex(3)}"


def _host() -> str:
    """Return this machine's name, boot and process namespace.

    Two hosts that share a name are never taken for one, nor two containers on one
    machine: a pid means something only inside its own pid namespace.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        boot = ""
    try:
        space = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        space = ""
    return f"{socket.gethostname()}/{boot}/{space}"


def _started(pid: int) -> str:
    """Return the start time of a process in clock ticks since boot ("" where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(worker: str) -> bool:
    """Return False only for a worker of this host whose process is gone; others rely on their lease."""
    host, _, rest = worker.partition(":")
    pid, _, rest = rest.partition(":")
    started = rest.partition(":")[0]
    if host != _host() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        pass
    return not started or _started(int(pid)) == started


def claim(store: Store, issue_id: int, worker: str, *, limit: int, lease: float,
          due_by: datetime | None = None, present: datetime | None = None) -> list[Job]:
    """Claim up to ``limit`` due rows held by no live worker: pending ones, then retries due (by ``due_by`` at most).

    A row is due once ``present`` (the newsletter's clock, naive UTC; default now) has reached its
    ``due_at``; due rows are claimed earliest first, in the order of the index that serves the claim.
    """
    d, s = store.t.deliveries, store.t.subscribers
    moment = now()
    due = min(moment, due_by) if due_by is not None else moment
    reached = present or moment
    expired = moment - timedelta(seconds=lease)
    jobs: list[Job] = []
    with store.begin() as conn:
        for status in OPEN:
            if len(jobs) >= limit:
                break
            query = (
                sa.select(d.c.id, d.c.attempts, s.c.id.label("sid"), s.c.email, s.c.name, s.c.status,
                          s.c.sections, s.c.bounces, d.c.bounced, s.c.language)
                .join(s, s.c.id == d.c.subscriber_id)
                .where(d.c.issue_id == issue_id, d.c.status == status, d.c.due_at <= reached,
                       sa.or_(d.c.claimed_by.is_(None), d.c.claimed_at < expired))
                .order_by(d.c.due_at, d.c.id).limit(limit - len(jobs))
                .with_for_update(skip_locked=True, of=d)
            )
            if status == DEFERRED:
                query = query.where(sa.or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= due))
            rows = conn.execute(query).all()
            if rows:
                conn.execute(d.update().where(d.c.id.in_([r.id for r in rows]))
                             .values(claimed_by=worker, claimed_at=moment))
                jobs += [Job(r.id, r.attempts, r.sid, r.email, r.name, r.status, r.sections, r.bounces,
                             bool(r.bounced), r.language)
                         for r in rows]
    return jobs


def renew(store: Store, worker: str) -> None:
    """Extend the lease on every open row this worker holds."""
    d = store.t.deliveries
    with store.begin() as conn:
        conn.execute(d.update().where(d.c.claimed_by == worker, d.c.status.in_(OPEN)).values(claimed_at=now()))


def release(store: Store, worker: str) -> None:
    """Give back every open row this worker holds."""
    d = store.t.deliveries
    with store.begin() as conn:
        conn.execute(d.update().where(d.c.claimed_by == worker, d.c.status.in_(OPEN))
                     .values(claimed_by=None, claimed_at=None))


def reap(store: Store, issue_id: int) -> int:
    """Free the rows held by workers of this host whose process has died; return how many."""
    d = store.t.deliveries
    with store.begin() as conn:
        holders = conn.execute(sa.select(d.c.claimed_by).distinct().where(
            d.c.issue_id == issue_id, d.c.status.in_(OPEN), d.c.claimed_by.is_not(None))).scalars().all()
        dead = [h for h in holders if not _alive(h)]
        if not dead:
            return 0
        result = conn.execute(d.update().where(d.c.issue_id == issue_id, d.c.claimed_by.in_(dead),
                                               d.c.status.in_(OPEN)).values(claimed_by=None, claimed_at=None))
        return result.rowcount or 0


class Closer:
    """Close claimed rows with their outcomes, a group commit's rows in one executemany.

    The statement is built once per worker: it changes only a row still open and still
    claimed by that worker (a row whose claim lapsed and another worker took is theirs).
    """

    def __init__(self, store: Store, worker: str) -> None:
        d = store.t.deliveries
        still_open = sa.or_(d.c.status == PENDING, d.c.status == DEFERRED)  # IN () cannot be executemany'd
        self._update = d.update().where(d.c.id == sa.bindparam("b_id"), still_open, d.c.claimed_by == worker).values(
            status=sa.bindparam("b_status"), attempts=sa.bindparam("b_attempts"),
            last_error=sa.bindparam("b_error"), sent_at=sa.bindparam("b_sent"),
            next_attempt_at=sa.bindparam("b_next"), updated_at=sa.bindparam("b_updated"),
            bounced=sa.bindparam("b_bounced"),
            claimed_by=None, claimed_at=None)

    @staticmethod
    def row(delivery_id: int, status: str, attempts: int, error: str | None, sent_at: datetime | None,
            next_attempt_at: datetime | None, updated_at: datetime, bounced: bool) -> dict[str, Any]:
        """Return the parameters that close one row, for ``close``."""
        return dict(b_id=delivery_id, b_status=status, b_attempts=attempts, b_error=error, b_sent=sent_at,
                    b_next=next_attempt_at, b_updated=updated_at, b_bounced=bounced)

    def close(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Write the outcomes ``rows`` (made by ``row``) in the caller's transaction."""
        conn.execute(self._update, rows)


def flag_bounced(conn: sa.Connection, store: Store, delivery_id: int, status: str, *, error: str,
                 moment: datetime) -> bool:
    """Flag a delivery a later report says bounced, in the caller's transaction; return False if it already was.

    ``status`` is the row's status as the caller read it: a ``sent`` row becomes ``failed`` with ``error``.
    """
    d = store.t.deliveries
    values: dict[str, Any] = {"bounced": True, "updated_at": moment}
    if status == SENT:
        values.update(status=FAILED, last_error=error[:2000])
    return bool(conn.execute(d.update().where(d.c.id == delivery_id, d.c.bounced == sa.false()).values(**values))
                .rowcount)


@dataclass(frozen=True)
class Backlog:
    """What is left of an issue that nobody can claim right now."""

    open: int  # pending or deferred rows
    held: int  # of those, claimed by other live workers
    held_until: datetime | None  # when the first of those leases runs out
    next_retry: datetime | None  # when the first deferred row not held falls due
    scheduled: int = 0  # open rows whose reader's hour has not come (see ``waves``)
    next_due: datetime | None = None  # when the first of those falls due


def backlog(store: Store, issue_id: int, *, lease: float, present: datetime | None = None) -> Backlog:
    """Return the open rows of an issue: how many, how many held by others, when retries and waves fall due."""
    d = store.t.deliveries
    moment = now()
    expired = moment - timedelta(seconds=lease)
    held = sa.and_(d.c.claimed_by.is_not(None), d.c.claimed_at >= expired)
    later = d.c.due_at > (present or moment)
    with store.begin() as conn:
        row = conn.execute(sa.select(
            sa.func.count(),
            sa.func.count(sa.case((held, 1))),
            sa.func.min(sa.case((held, d.c.claimed_at))),
            sa.func.min(sa.case((sa.and_(sa.not_(held), sa.not_(later), d.c.status == DEFERRED),
                                 d.c.next_attempt_at))),
            sa.func.count(sa.case((later, 1))),
            sa.func.min(sa.case((later, d.c.due_at))),
        ).where(d.c.issue_id == issue_id, d.c.status.in_(OPEN))).one()
    until = row[2] + timedelta(seconds=lease) if row[2] is not None else None
    return Backlog(row[0], row[1], until, row[3], row[4], row[5])


def bring_forward(store: Store, issue_id: int, present: datetime) -> int:
    """Make every open row of an issue due by ``present`` (naive UTC), as ``send --now`` asks; return how many."""
    d = store.t.deliveries
    with store.begin() as conn:
        return conn.execute(d.update().where(d.c.issue_id == issue_id, d.c.status.in_(OPEN), d.c.due_at > present)
                            .values(due_at=present)).rowcount or 0


def finish(store: Store, issue_id: int) -> None:
    """Mark the issue sent once none of its rows is open (queueing its ``issue.sent`` webhook event)."""
    d = store.t.deliveries
    open_rows = sa.select(d.c.id).where(d.c.issue_id == issue_id, d.c.status.in_(OPEN)).exists()
    with store.begin() as conn:
        if issue.mark_sent(conn, store, issue_id, when=~open_rows):
            webhook_events.issue_sent(conn, store, issue_id)


def retry_failed(store: Store, issue_id: int) -> tuple[int, int]:
    """Reopen the failed rows of an issue whose subscriber is still active; return (reopened, left failed)."""
    d, s = store.t.deliveries, store.t.subscribers
    active = sa.select(s.c.id).where(s.c.status == "active")
    with store.begin() as conn:
        reopened = conn.execute(d.update().where(
            d.c.issue_id == issue_id, d.c.status == FAILED, d.c.subscriber_id.in_(active),
        ).values(status=PENDING, attempts=0, next_attempt_at=None, claimed_by=None, claimed_at=None,
                 updated_at=now())).rowcount or 0
        left = conn.execute(sa.select(sa.func.count()).where(d.c.issue_id == issue_id, d.c.status == FAILED)
                            ).scalar() or 0
        if reopened:
            issue.reopen(conn, store, issue_id)
    return reopened, left
