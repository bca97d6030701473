"""Deliveries: the outbox of (issue, subscriber) rows and the loop that empties it.

A row becomes ``sent`` only after the SMTP server accepted the message, and each
outcome is committed at once, so a crash repeats at most the message in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from newsletter.error import SmtpError
from newsletter.message import Composer, Recipient
from newsletter.progress import Progress, Silent
from newsletter.smtp import Connection, Refused
from newsletter.store import Store, now

log = logging.getLogger("newsletter.delivery")

PENDING, SENT, DEFERRED, FAILED, SKIPPED = "pending", "sent", "deferred", "failed", "skipped"


@dataclass(frozen=True)
class Counts:
    """Deliveries of one issue by outcome."""

    pending: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Return the number of rows in the outbox."""
        return self.pending + self.sent + self.deferred + self.failed + self.skipped

    @property
    def finished(self) -> bool:
        """Return whether nothing is left to try."""
        return self.pending == 0 and self.deferred == 0

    def to_json(self) -> dict[str, int]:
        """Return plain data for ``--json``."""
        return {**asdict(self), "total": self.total}


def create_outbox(conn: sa.Connection, store: Store, *, issue_id: int, composer: Composer) -> int:
    """Queue one pending row per active subscriber, in the caller's transaction; return the count."""
    t = store.t
    prefix, suffix = composer.message_id(Recipient(0, "")).split(".r0.", 1)
    moment = now()
    select = sa.select(
        sa.literal(issue_id), t.subscribers.c.id, sa.literal(PENDING), sa.literal(0),
        sa.literal(prefix + ".r") + sa.cast(t.subscribers.c.id, sa.String) + sa.literal("." + suffix),
        sa.literal(moment),
    ).where(t.subscribers.c.status == "active").order_by(t.subscribers.c.id)
    result = conn.execute(t.deliveries.insert().from_select(
        ["issue_id", "subscriber_id", "status", "attempts", "message_id", "updated_at"], select))
    return result.rowcount or 0


def counts(store: Store, issue_id: int) -> Counts:
    """Return the deliveries of an issue by status."""
    t = store.t
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(t.deliveries.c.status, sa.func.count()).where(t.deliveries.c.issue_id == issue_id)
            .group_by(t.deliveries.c.status)
        ).all()
    return Counts(**{status: n for status, n in rows})


def failures(store: Store, issue_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Return failed and deferred deliveries with their last error."""
    t = store.t
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(t.subscribers.c.email, t.deliveries.c.status, t.deliveries.c.attempts,
                      t.deliveries.c.last_error)
            .join(t.subscribers, t.subscribers.c.id == t.deliveries.c.subscriber_id)
            .where(t.deliveries.c.issue_id == issue_id, t.deliveries.c.status.in_([FAILED, DEFERRED]))
            .order_by(t.deliveries.c.id).limit(limit)
        ).mappings().all()
    return [dict(r) for r in rows]


def deliver(
    store: Store,
    composer: Composer,
    connect: Callable[[], Connection],
    *,
    issue_id: int,
    max_attempts: int = 5,
    progress: Progress | None = None,
    batch: int = 500,
) -> Counts:
    """Send every pending or deferred row of an issue, recording each outcome as it happens."""
    progress = progress or Silent()
    t = store.t
    todo = counts(store, issue_id)
    progress.start(f"issue {composer.number}", todo.pending + todo.deferred)
    connection = connect()
    connection.open()
    try:
        last = 0
        while True:
            with store.begin() as conn:
                rows = conn.execute(
                    sa.select(t.deliveries.c.id, t.deliveries.c.attempts, t.subscribers.c.id.label("sid"),
                              t.subscribers.c.email, t.subscribers.c.name, t.subscribers.c.status)
                    .join(t.subscribers, t.subscribers.c.id == t.deliveries.c.subscriber_id)
                    .where(t.deliveries.c.issue_id == issue_id, t.deliveries.c.id > last,
                           t.deliveries.c.status.in_([PENDING, DEFERRED]))
                    .order_by(t.deliveries.c.id).limit(batch)
                ).all()
            if not rows:
                break
            for row in rows:
                last = row.id
                outcome = _send_one(connection, composer, row)
                _record(store, row.id, row.attempts, outcome, max_attempts)
                progress.advance()
    finally:
        connection.close()
    result = counts(store, issue_id)
    if result.finished:
        with store.begin() as conn:
            conn.execute(t.issues.update().where(t.issues.c.id == issue_id, t.issues.c.status == "sending")
                         .values(status="sent", sent_at=now()))
    return result


def _send_one(connection: Connection, composer: Composer, row: Any) -> tuple[str, str | None]:
    """Try one delivery and return ``(status, error)``; SmtpError escapes only if reconnecting fails."""
    if row.status != "active":
        return SKIPPED, f"subscriber is {row.status}"
    message = composer.build(Recipient(row.sid, row.email, row.name))
    for attempt in (1, 2):
        try:
            connection.send(composer.address, row.email, message)
            return SENT, None
        except Refused as e:
            log.warning("%s: %s", row.email, e)
            return (FAILED if e.permanent else DEFERRED), str(e)
        except SmtpError as e:
            if attempt == 2:
                raise
            log.warning("%s; reconnecting", e)
            connection.open()  # raises SmtpError if the server is gone; the row stays pending
    raise AssertionError("unreachable")


def _record(store: Store, delivery_id: int, attempts: int, outcome: tuple[str, str | None],
            max_attempts: int) -> None:
    status, error = outcome
    if status == DEFERRED and attempts + 1 >= max_attempts:
        status, error = FAILED, f"gave up after {attempts + 1} attempts: {error}"
    moment = now()
    values: dict[str, Any] = dict(status=status, last_error=error, updated_at=moment)
    if status in (SENT, FAILED, DEFERRED):
        values["attempts"] = attempts + 1
    if status == SENT:
        values["sent_at"] = moment
    with store.begin() as conn:
        conn.execute(store.t.deliveries.update().where(store.t.deliveries.c.id == delivery_id).values(**values))
