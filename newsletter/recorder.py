"""The recorder: outcomes of deliveries written to the outbox in group commits, from a thread of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from newsletter import subscribers
from newsletter.pool import DEFERRED, FAILED, PENDING, SENT, SKIPPED, Outcome
from newsletter.store import Store, now


class Recorder:
    """Store outcomes from a thread of its own, all those waiting in one transaction (a group commit).

    ``submit`` hands over an outcome and returns a function that blocks until it is
    committed: a connection calls it before it sends its next message, which is
    what bounds the messages a crash can repeat to one per connection.
    """

    def __init__(self, store: Store, *, max_attempts: int, retry_delay: float, bounce_limit: int,
                 on_recorded: Callable[[list[Outcome]], None] | None = None) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.bounce_limit = bounce_limit
        self.on_recorded = on_recorded or (lambda outcomes: None)
        self._cond = threading.Condition()
        self._pending: list[tuple[Outcome, threading.Event]] = []
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        d = store.t.deliveries
        still_open = sa.or_(d.c.status == PENDING, d.c.status == DEFERRED)  # IN () cannot be executemany'd
        self._update = d.update().where(d.c.id == sa.bindparam("b_id"), still_open).values(
            status=sa.bindparam("b_status"), attempts=sa.bindparam("b_attempts"),
            last_error=sa.bindparam("b_error"), sent_at=sa.bindparam("b_sent"),
            next_attempt_at=sa.bindparam("b_next"), updated_at=sa.bindparam("b_updated"),
            claimed_by=None, claimed_at=None)

    def backoff(self, attempts: int) -> float:
        """Return the seconds to wait before attempt ``attempts + 1``: doubling from ``retry_delay``."""
        return float(min(self.retry_delay * 2 ** (attempts - 1), 86_400.0))

    def start(self) -> Recorder:
        """Start the writing thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Write what is waiting, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def submit(self, outcome: Outcome) -> Callable[[], None]:
        """Queue an outcome; return a function that waits until it is committed (or raises why not)."""
        done = threading.Event()  # one per outcome: the writer wakes exactly the senders it served
        with self._cond:
            if self._error is not None:
                raise self._error
            self._pending.append((outcome, done))
            self._cond.notify()

        def committed() -> None:
            done.wait()
            if self._error is not None:
                raise self._error
        return committed

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._closing)
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
            outcomes = [outcome for outcome, _ in batch]
            try:
                self._store(outcomes)
            except BaseException as e:  # handed to every waiting sender, which stops the run
                with self._cond:
                    self._error = e
                    for _, done in self._pending:
                        done.set()
                for _, done in batch:
                    done.set()
                return
            for _, done in batch:
                done.set()
            self.on_recorded(outcomes)

    def _store(self, batch: list[Outcome]) -> None:
        s = self.store.t.subscribers
        moment = now()
        rows, bounced, recovered = [], {}, []
        for o in batch:
            attempts = o.job.attempts + (0 if o.status == SKIPPED else 1)
            status, error, retry_at = o.status, o.error, None
            if status == DEFERRED and attempts >= self.max_attempts:
                status, error = FAILED, f"gave up after {attempts} attempts: {error}"
            elif status == DEFERRED:
                retry_at = moment + timedelta(seconds=self.backoff(attempts))
            rows.append(dict(b_id=o.job.delivery_id, b_status=status, b_attempts=attempts, b_error=error,
                             b_sent=moment if status == SENT else None, b_next=retry_at, b_updated=moment))
            if o.bounce:
                bounced[o.job.subscriber_id] = error or ""
            elif status == SENT and o.job.bounces:
                recovered.append(o.job.subscriber_id)
        with self.store.begin() as conn:
            conn.execute(self._update, rows)
            over: list[int] = []
            if bounced:
                conn.execute(s.update().where(s.c.id.in_(list(bounced))).values(bounces=s.c.bounces + 1))
                over = list(conn.execute(sa.select(s.c.id).where(
                    s.c.id.in_(list(bounced)), s.c.bounces >= self.bounce_limit, s.c.status == "active")).scalars())
            if recovered:
                conn.execute(s.update().where(s.c.id.in_(recovered)).values(bounces=0))
        for subscriber_id in over:  # through the subscribers module, so the change is timed and in the history
            subscribers.change(self.store, subscriber_id, "bounced", origin="delivery",
                               detail=f"{self.bounce_limit} permanent refusal(s) in a row; last: {bounced[subscriber_id]}")
