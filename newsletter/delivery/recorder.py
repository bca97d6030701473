"""The recorder: outcomes of deliveries written to the outbox in group commits, from a thread of its own.

Each outcome is written as soon as the thread is free, together with every other one
waiting (one transaction, one ``executemany``), and ``submit`` returns a function that
waits for that commit. The pool calls it before the end of the connection's next message
(``pool``): that wait is what bounds the messages a ``kill -9`` can repeat to one per
connection. Any failure to record stops the send as a ``StoreError``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from newsletter import subscribers
from newsletter.delivery.outbox import DEFERRED, FAILED, PENDING, SENT, SKIPPED, Closer
from newsletter.delivery.producer import JobOutcome, reason_of
from newsletter.error import StoreError
from newsletter.store import Store, now


class Recorder:
    """Store outcomes from a thread of its own, all those waiting in one transaction (a group commit).

    ``submit`` hands over an outcome and returns a function that blocks until it is
    committed: a connection calls it before its next message can be accepted, which is
    what bounds the messages a crash can repeat to one per connection.
    """

    def __init__(self, store: Store, *, max_attempts: int, retry_delay: float, bounce_limit: int, worker: str,
                 on_recorded: Callable[[list[JobOutcome]], None] | None = None) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.bounce_limit = bounce_limit
        self.on_recorded = on_recorded or (lambda outcomes: None)
        # Plain locks and a C queue: a message costs one put and one release, nothing heavier.
        self._queue: queue.SimpleQueue[tuple[JobOutcome, Any] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._closer = Closer(store, worker)

    def backoff(self, attempts: int) -> float:
        """Return the seconds to wait before attempt ``attempts + 1``: doubling from ``retry_delay``."""
        return float(min(self.retry_delay * 2 ** (attempts - 1), 86_400.0))

    def start(self) -> Recorder:
        """Start the writing thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Write what is waiting, then stop the thread."""
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def submit(self, outcome: JobOutcome) -> Callable[[], None]:
        """Queue an outcome; return a function that waits until it is committed (or raises why not)."""
        if self._error is not None:
            raise self._error
        done = threading.Lock()  # held until the writer has stored this outcome
        done.acquire()
        self._queue.put((outcome, done))
        waited = False

        def committed() -> None:
            nonlocal waited
            if not waited:
                done.acquire()
                waited = True
            if self._error is not None:
                raise self._error
        return committed

    def _run(self) -> None:
        conn: sa.Connection | None = None
        try:
            conn = self.store.engine.connect()
        except BaseException as e:
            self._fail(e)
        closing = False
        while not closing:
            batch = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            closing = item is None
            outcomes = [outcome for outcome, _ in batch]
            if outcomes and conn is not None and self._error is None:
                try:
                    with conn.begin():
                        over = self._store(conn, outcomes)
                    self._bounce(over)
                except BaseException as e:  # handed to every waiting sender, which stops the run
                    self._fail(e)
            for _, done in batch:
                done.release()
            if outcomes and self._error is None:
                self.on_recorded(outcomes)
        if conn is not None:
            conn.close()

    def _fail(self, error: BaseException) -> None:
        if isinstance(error, sa.exc.OperationalError):
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            error = StoreError(f"database error: {reason}")
        elif not isinstance(error, StoreError):  # the pool stops on a StoreError, whatever the cause
            cause, error = error, StoreError(f"cannot record deliveries: {reason_of(error)}")
            error.__cause__ = cause
        self._error = error

    def _store(self, conn: sa.Connection, batch: list[JobOutcome]) -> dict[int, str]:
        """Write a batch in the caller's transaction; return the subscribers now over the bounce limit."""
        moment = now()
        rows, bounced, recovered = [], {}, []
        for o in batch:
            attempts = o.job.attempts + (0 if o.status in (SKIPPED, PENDING) else 1)
            status, error, retry_at = o.status, o.error, None
            if status == DEFERRED and attempts >= self.max_attempts:
                status, error = FAILED, f"gave up after {attempts} attempts: {error}"
            elif status == DEFERRED:
                retry_at = moment + timedelta(seconds=self.backoff(attempts))
            rows.append(Closer.row(o.job.delivery_id, status, attempts, error, moment if status == SENT else None,
                                   retry_at, moment, o.job.bounced or o.bounce))
            if o.bounce and not o.job.bounced:  # a retried issue counts a reader's bounce once
                bounced[o.job.subscriber_id] = error or ""
            elif status == SENT and o.job.bounces:
                recovered.append(o.job.subscriber_id)
        self._closer.close(conn, rows)
        over: list[int] = []
        if bounced:
            over = subscribers.count_bounces(conn, self.store, list(bounced), limit=self.bounce_limit)
        if recovered:
            subscribers.reset_bounces(conn, self.store, recovered)
        return {subscriber_id: bounced[subscriber_id] for subscriber_id in over}

    def _bounce(self, over: dict[int, str]) -> None:
        """Mark bounced through the subscribers module, so the change is timed and kept in the history."""
        for subscriber_id, error in over.items():
            subscribers.change(self.store, subscriber_id, "bounced", origin="delivery",
                               detail=f"{self.bounce_limit} permanent refusal(s) in a row; last: {error}")
