"""Hand queued webhook events to the ``[[webhooks]]`` endpoints: signed POSTs, in order per subscriber, retried.

``Sender.run`` is one pass, made by each tick of ``newsletter run`` and by ``newsletter worker``:

1. fan out: every event not yet handed out gets one ``webhook_deliveries`` row per endpoint
   that wants its type (an event older than ``KEEP`` gets none);
2. per endpoint, POST the due rows, oldest event first, and for one subscriber only the
   oldest still open (so a reader's events arrive in the order they happened, however long
   the endpoint was down); the first failure ends that endpoint's pass, so an endpoint that
   is down costs one timeout per pass and never holds up anything else;
3. forget events older than ``KEEP`` whose deliveries closed at least as long ago.

A 2xx answer delivers; anything else is retried after the delays of ``SCHEDULE`` (the
Standard Webhooks spec's example: 5 seconds, 5 minutes, 30 minutes, … about three days in
all, longer if the endpoint asks with ``Retry-After``); after the last, or on ``410 Gone``,
the row is ``failed``. Rows are claimed for ``LEASE`` before their POST, so a daemon and a
worker do not send the same one; a receiver still dedups by ``webhook-id``, as the spec says.

Only this module writes ``webhook_deliveries``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from newsletter.settings import Config, WebhookSettings
from newsletter.store import Store, from_db, to_db
from newsletter.webhooks import events
from newsletter.webhooks.signature import derived_secret, sign

log = logging.getLogger("newsletter.webhooks")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)  # seconds before attempt 2, 3, …
TIMEOUT = 15.0  # seconds for one POST, answer included (the spec suggests 15 to 30)
LEASE = timedelta(seconds=60)
KEEP = timedelta(days=7)
BATCH = 100


@dataclass(frozen=True)
class Attempt:
    """One event's delivery to one endpoint: where it stands after its latest attempt."""

    url: str
    type: str
    msg_id: str
    status: str  # pending | delivered | failed
    attempts: int
    last_code: int | None
    last_error: str
    next_attempt_at: datetime | None
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"url": self.url, "type": self.type, "webhook_id": self.msg_id, "status": self.status,
                "attempts": self.attempts, "last_code": self.last_code, "last_error": self.last_error,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class Pass:
    """What one pass did: rows created, POSTs that were answered 2xx, POSTs that failed."""

    fanned: int = 0
    delivered: int = 0
    failed: int = 0


class Sender:
    """Deliver the queued events of one newsletter (``clock`` schedules retries; it is the app's)."""

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], datetime],
                 transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.transport = transport

    def secret(self, hook: WebhookSettings) -> str:
        """Return the signing secret of ``hook``: the configured one, else the one derived for its URL."""
        return hook.secret or derived_secret(self.store.secret(self.config.newsletter.secret_key), hook.url)

    def run(self) -> Pass:
        """Make one pass: fan out, deliver what is due to each endpoint, forget old events."""
        fanned = self.fan_out()
        delivered = failed = 0
        if self.config.webhooks:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=False, transport=self.transport,
                              headers={"User-Agent": self.config.gather.user_agent}) as client:
                for hook in self.config.webhooks:
                    ok, bad = self._endpoint(client, hook)
                    delivered, failed = delivered + ok, failed + bad
        self._prune()
        return Pass(fanned, delivered, failed)

    def fan_out(self) -> int:
        """Give every event not yet handed out a row per endpoint that wants it; return the rows made."""
        made = 0
        while True:
            moment = self._now()
            with self.store.begin() as conn:
                found = events.unfanned(conn, self.store, limit=500)
                if not found:
                    return made
                rows = [{"event_id": e.id, "url": hook.url, "subscriber_id": e.subscriber_id, "status": PENDING,
                         "attempts": 0, "last_error": "", "created_at": moment, "updated_at": moment}
                        for e in found if e.created_at >= moment - KEEP
                        for hook in self.config.webhooks if not hook.events or e.type in hook.events]
                if rows:
                    conn.execute(self.store.t.webhook_deliveries.insert(), rows)
                events.mark_fanned(conn, self.store, [e.id for e in found])
                made += len(rows)

    def _endpoint(self, client: httpx.Client, hook: WebhookSettings) -> tuple[int, int]:
        """Deliver what is due to one endpoint until nothing is or an attempt fails; return (delivered, failed)."""
        delivered = 0
        while True:
            claimed = self._claim(hook.url)
            if not claimed:
                return delivered, 0
            found = self._events(claimed)
            for n, (row_id, attempts, event_id) in enumerate(claimed):
                if event_id in found and self._post(client, hook, row_id, attempts, found[event_id]):
                    delivered += 1
                    continue
                self._release([r[0] for r in claimed[n + 1:]])
                return delivered, 1

    def _claim(self, url: str) -> list[tuple[int, int, int]]:
        """Claim the due rows of ``url`` that head their subscriber's queue: ``(row id, attempts, event id)``."""
        d = self.store.t.webhook_deliveries
        earlier = d.alias("earlier")
        moment = self._now()
        ahead = sa.select(earlier.c.id).where(
            earlier.c.url == d.c.url, earlier.c.status == PENDING, earlier.c.subscriber_id == d.c.subscriber_id,
            earlier.c.event_id < d.c.event_id).exists()
        query = (sa.select(d.c.id, d.c.attempts, d.c.event_id)
                 .where(d.c.url == url, d.c.status == PENDING,
                        sa.or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= moment),
                        sa.or_(d.c.claimed_until.is_(None), d.c.claimed_until < moment), ~ahead)
                 .order_by(d.c.event_id).limit(BATCH).with_for_update(skip_locked=True, of=d))
        with self.store.begin() as conn:
            rows = [(r.id, r.attempts, r.event_id) for r in conn.execute(query)]
            if rows:
                conn.execute(d.update().where(d.c.id.in_([r[0] for r in rows]))
                             .values(claimed_until=moment + LEASE))
        return rows

    def _events(self, claimed: list[tuple[int, int, int]]) -> dict[int, events.WebhookEvent]:
        with self.store.begin() as conn:
            return events.get(conn, self.store, (r[2] for r in claimed))

    def _post(self, client: httpx.Client, hook: WebhookSettings, row_id: int, attempts: int,
              event: events.WebhookEvent) -> bool:
        """POST one event, record the outcome, and return whether it was delivered."""
        stamp = int(time.time())  # the attempt's time, which the receiver compares with its own clock
        headers = {"Content-Type": "application/json", "webhook-id": event.msg_id, "webhook-timestamp": str(stamp),
                   "webhook-signature": sign(self.secret(hook), event.msg_id, stamp, event.body)}
        code: int | None = None
        wait = 0.0
        try:
            with client.stream("POST", hook.url, content=event.body, headers=headers) as response:
                code = response.status_code  # the body is never read: only the status counts
                wait = _retry_after(response.headers.get("Retry-After", ""))
            error = "" if 200 <= code < 300 else f"HTTP {code}"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"[:500]
        self._record(row_id, attempts + 1, code, error, wait)
        if error:
            log.warning("webhook %s to %s failed (attempt %d): %s", event.type, hook.url, attempts + 1, error)
        return not error

    def _record(self, row_id: int, attempts: int, code: int | None, error: str, wait: float) -> None:
        d = self.store.t.webhook_deliveries
        moment = self._now()
        values: dict[str, Any] = {"attempts": attempts, "last_code": code, "last_error": error,
                                  "updated_at": moment, "claimed_until": None}
        if not error:
            values.update(status=DELIVERED, delivered_at=moment, next_attempt_at=None)
        elif code == 410 or attempts > len(SCHEDULE):  # 410 Gone: the receiver wants no more of it
            values.update(status=FAILED, next_attempt_at=None)
        else:
            delay = max(SCHEDULE[attempts - 1], min(wait, 86_400.0))
            values.update(next_attempt_at=moment + timedelta(seconds=delay))
        with self.store.begin() as conn:
            conn.execute(d.update().where(d.c.id == row_id).values(**values))

    def _release(self, row_ids: list[int]) -> None:
        if row_ids:
            d = self.store.t.webhook_deliveries
            with self.store.begin() as conn:
                conn.execute(d.update().where(d.c.id.in_(row_ids)).values(claimed_until=None))

    def _prune(self) -> None:
        """Forget the events older than ``KEEP`` whose deliveries are all closed and untouched for as long."""
        e, d = self.store.t.webhook_events, self.store.t.webhook_deliveries
        before = self._now() - KEEP
        still = sa.select(d.c.event_id).where(sa.or_(d.c.status == PENDING, d.c.updated_at >= before))
        with self.store.begin() as conn:
            ids = list(conn.execute(sa.select(e.c.id).where(
                e.c.fanned == sa.true(), e.c.created_at < before, e.c.id.not_in(still))
                .order_by(e.c.id).limit(500)).scalars())
            if ids:
                conn.execute(d.delete().where(d.c.event_id.in_(ids)))
                events.delete(conn, self.store, ids)

    def _now(self) -> datetime:
        moment = to_db(self.clock())
        assert moment is not None
        return moment


def _retry_after(value: str) -> float:
    """Return the seconds a ``Retry-After: N`` header asks for (0 when absent or a date)."""
    return float(value) if value.strip().isdigit() else 0.0


def attempts(store: Store, *, limit: int = 50) -> list[Attempt]:
    """Return the latest deliveries to every endpoint, the most recently changed first."""
    d, e = store.t.webhook_deliveries, store.t.webhook_events
    with store.begin() as conn:
        rows = conn.execute(sa.select(d, e.c.type, e.c.msg_id).join(e, e.c.id == d.c.event_id)
                            .order_by(d.c.updated_at.desc(), d.c.id.desc()).limit(limit)).mappings().all()
    return [Attempt(r["url"], r["type"], r["msg_id"], r["status"], r["attempts"], r["last_code"], r["last_error"],
                    from_db(r["next_attempt_at"]), from_db(r["updated_at"]))
            for r in rows]


def totals(store: Store) -> dict[str, dict[str, int]]:
    """Return, per endpoint URL, how many of its rows are pending, delivered and failed."""
    d = store.t.webhook_deliveries
    found: dict[str, dict[str, int]] = {}
    with store.begin() as conn:
        rows = conn.execute(sa.select(d.c.url, d.c.status, sa.func.count()).group_by(d.c.url, d.c.status))
        for url, status, n in rows:
            found.setdefault(url, {PENDING: 0, DELIVERED: 0, FAILED: 0})[status] = int(n)
    return found
