"""Webhook events: each one queued in ``webhook_events`` in the transaction of the change it reports.

A subscriber's recorded change (a row of ``subscriber_events``) becomes the events of
``TYPES``: ``added`` and ``imported`` are ``subscriber.created`` (its ``status`` says whether the
reader starts active), a change into ``active`` is ``subscriber.confirmed``, into
``unsubscribed``, ``bounced`` or ``complained`` the event of that name. An issue whose last
delivery closed is ``issue.sent``. Events are queued whether or not a webhook is configured
(the change cannot see the config); ``sender`` hands them out and forgets them a week later
(``sender.KEEP``).

Only this module writes ``webhook_events``; ``sender`` calls ``unfanned``, ``mark_fanned``, ``get``
and ``delete``. The payload follows the Standard Webhooks shape: ``{"type", "timestamp", "data"}``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.store import Store, now

# The change a subscriber_events row records (its ``event`` column) -> the webhook event it is.
TYPES = {"confirmed": "subscriber.confirmed", "active": "subscriber.confirmed",
         "unsubscribed": "subscriber.unsubscribed", "bounced": "subscriber.bounced",
         "complained": "subscriber.complained"}
CREATED = ("added", "imported")


@dataclass(frozen=True)
class WebhookEvent:
    """One queued event: its id for ordering, the ``webhook-id`` it is sent with, its type and body."""

    id: int
    msg_id: str
    type: str
    subscriber_id: int | None
    body: bytes  # the JSON payload, exactly as signed and sent
    created_at: datetime


def types_of(event: str, status: str) -> list[str]:
    """Return the webhook events a recorded subscriber change is (none for most: preferences, reports)."""
    if event in CREATED:
        return ["subscriber.created"]  # its status says whether the reader starts active
    return [TYPES[event]] if event in TYPES else []


def subscriber_changes(conn: sa.Connection, store: Store, rows: Iterable[Mapping[str, Any]]) -> None:
    """Queue the events of ``subscriber_events`` rows, in the caller's transaction (the change's own)."""
    wanted = [(row, kind) for row in rows for kind in types_of(row["event"], row["status"])]
    if not wanted:
        return
    s = store.t.subscribers
    ids = sorted({row["subscriber_id"] for row, _ in wanted})
    readers = {}
    for start in range(0, len(ids), 500):  # a large import's events: SQLite takes a few thousand parameters at most
        chunk = ids[start:start + 500]
        readers.update({r.id: r for r in conn.execute(sa.select(s.c.id, s.c.email, s.c.name).where(s.c.id.in_(chunk)))})
    queued = []
    for row, kind in wanted:
        reader = readers.get(row["subscriber_id"])
        data = {"id": row["subscriber_id"], "email": reader.email if reader else "",
                "name": reader.name if reader else "", "status": row["status"], "origin": row["origin"],
                "detail": row["detail"]}
        queued.append(_row(kind, row["subscriber_id"], data, row["at"]))
    conn.execute(store.t.webhook_events.insert(), queued)


def issue_sent(conn: sa.Connection, store: Store, issue_id: int) -> None:
    """Queue ``issue.sent`` for an issue whose deliveries all closed, in the caller's transaction."""
    t = store.t
    issue = conn.execute(sa.select(t.issues.c.number, t.issues.c.subject, t.issues.c.sent_at)
                         .where(t.issues.c.id == issue_id)).one()
    counts: dict[str, int] = dict(conn.execute(sa.select(t.deliveries.c.status, sa.func.count()).where(
        t.deliveries.c.issue_id == issue_id).group_by(t.deliveries.c.status)).all())
    data = {"number": issue.number, "subject": issue.subject,
            "deliveries": {status: int(counts.get(status, 0)) for status in ("sent", "failed", "skipped")}}
    conn.execute(t.webhook_events.insert(), [_row("issue.sent", None, data, issue.sent_at or now())])


def _row(kind: str, subscriber_id: int | None, data: dict[str, Any], moment: datetime) -> dict[str, Any]:
    body = json.dumps({"type": kind, "timestamp": moment.isoformat(timespec="seconds") + "Z", "data": data},
                      ensure_ascii=False, separators=(",", ":"))
    # A random id: no ".", which the signed text uses as its separator (the spec asks for none).
    return {"msg_id": "msg_" + secrets.token_hex(12), "type": kind, "subscriber_id": subscriber_id,
            "payload": body, "created_at": moment, "fanned": False}


def unfanned(conn: sa.Connection, store: Store, *, limit: int) -> list[WebhookEvent]:
    """Return up to ``limit`` events not yet handed to the endpoints, oldest first, locked for this caller."""
    e = store.t.webhook_events
    rows = conn.execute(sa.select(e).where(e.c.fanned == sa.false()).order_by(e.c.id).limit(limit)
                        .with_for_update(skip_locked=True)).mappings().all()
    return [WebhookEvent(r["id"], r["msg_id"], r["type"], r["subscriber_id"], r["payload"].encode(), r["created_at"])
            for r in rows]


def mark_fanned(conn: sa.Connection, store: Store, ids: list[int]) -> None:
    """Record that these events have their delivery rows, in the caller's transaction."""
    e = store.t.webhook_events
    conn.execute(e.update().where(e.c.id.in_(ids)).values(fanned=True))


def get(conn: sa.Connection, store: Store, ids: Iterable[int]) -> dict[int, WebhookEvent]:
    """Return the events with these ids."""
    e = store.t.webhook_events
    rows = conn.execute(sa.select(e).where(e.c.id.in_(sorted(set(ids))))).mappings().all()
    return {r["id"]: WebhookEvent(r["id"], r["msg_id"], r["type"], r["subscriber_id"], r["payload"].encode(),
                           r["created_at"]) for r in rows}


def delete(conn: sa.Connection, store: Store, ids: list[int]) -> None:
    """Forget these events (``sender`` deletes their deliveries first), in the caller's transaction."""
    e = store.t.webhook_events
    conn.execute(e.delete().where(e.c.id.in_(ids)))
