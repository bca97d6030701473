"""The connection pool: a few persistent SMTP sessions, each in its own thread, sending claimed deliveries.

Each thread takes the next job whose message the producer has built and signed
(``producer``), takes a slot of the shared rate limit (reserved ahead in the database by
the producer: ``ratelimit``), hands the message over and submits the outcome for
recording (``recorder``), then goes on to the next message at once.

What holds after a crash: a server accepts a message only at its final dot, and no
connection sends the final dot of a message before the outcome of its previous one is
committed. So at any moment at most one message per connection can have been accepted
and not recorded: a ``kill -9`` repeats at most that many, and loses none. The connection
waits for that commit after writing the next message's envelope, while the server
answers it (``Connection.send``'s ``ready``), so the commit overlaps a round trip to the
server; the claim is checked there too, last thing before the message can be accepted. If the commit fails, or the claim has
lapsed, the session is closed before the message's end and the server discards it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

from newsletter.delivery.outbox import DEFERRED, FAILED, PENDING, SENT, Job
from newsletter.delivery.producer import JobOutcome, Producer, Ready, reason_of
from newsletter.delivery.ratelimit import RateLimit
from newsletter.delivery.smtp import Connection, Dropped, Refused, Withdrawn
from newsletter.error import SmtpError, StoreError

__all__ = ["LAPSED", "JobOutcome", "Pool", "SenderRefused"]

log = logging.getLogger("newsletter.delivery")

LAPSED = "not sent: this worker's claim lapsed before its turn (was the process paused?)"
POLICY_REFUSALS = 5  # policy refusals in a row, with nothing accepted, that mean the relay refuses us


class SenderRefused(SmtpError):
    """The server refused the envelope sender: no recipient can be mailed until the settings change."""


class Pool:
    """Send jobs over ``size`` persistent connections until closed.

    ``build`` turns a job into message bytes and ``stamp`` finishes them (both run by the
    producer, at most ``depth`` messages ahead; by default two per connection); ``record``
    takes an outcome (from any sending thread) and returns a function that blocks until
    it is stored. A job is only sent while ``held(job)`` says this worker's claim on it
    stands. A connection that drops is reopened; one that cannot be reopened after
    ``reconnect_delays`` ends its thread and hands its job back. ``error`` holds the reason the last thread
    ended, and ``alive`` how many threads still run.
    """

    def __init__(self, connect: Callable[[], Connection], *, size: int, sender: str,
                 build: Callable[[Job], bytes], record: Callable[[JobOutcome], Callable[[], None]],
                 stamp: Callable[[bytes], bytes] = lambda message: message,
                 limit: RateLimit,
                 stop: threading.Event | None = None, reconnect_delays: Sequence[float] = (1.0, 4.0),
                 held: Callable[[Job], bool] = lambda job: True,
                 on_exit: Callable[[], None] | None = None, depth: int | None = None) -> None:
        self.connect = connect
        self.size = size
        self.sender = sender
        self.record = record
        self.limit = limit
        self.stop = stop or threading.Event()
        self.reconnect_delays = tuple(reconnect_delays)
        self.held = held
        self.on_exit = on_exit or (lambda: None)
        self.error: BaseException | None = None
        self.fatal = False
        self.halted = threading.Event()  # set on a fatal error: the other threads stop too
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._alive = 0
        self._accepted = False  # has the server taken any message in this run?
        self._probe = threading.Lock()  # held by the one thread sending until then
        self._policy_refusals = 0
        self.producer = Producer(build, depth=depth or 2 * size, stamp=stamp, skip=self._stopping,
                                 on_error=lambda e: self._fail(e, fatal=True), between=limit.prepare)

    @property
    def alive(self) -> int:
        """Return how many sending threads are still running."""
        with self._lock:
            return self._alive

    def start(self) -> Pool:
        """Start the producer and the sending threads."""
        self.producer.start()
        self._alive = self.size
        for n in range(self.size):
            thread = threading.Thread(target=self._work, name=f"smtp-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def put(self, job: Job) -> None:
        """Queue a job: the producer builds its message, then the next free connection sends it."""
        self.producer.put(job)

    def close(self) -> None:
        """Drop queued jobs, built or not, let each thread finish its message, close the connections."""
        self.producer.close()
        for thread in self._threads:
            thread.join()

    def _stopping(self) -> bool:
        return self.stop.is_set() or self.halted.is_set()

    def _work(self) -> None:
        connection = self.connect()
        stored: Callable[[], None] = lambda: None  # noqa: E731 - waits for the previous outcome
        try:
            while True:
                # Until the server has accepted a message, one is sent at a time in the order queued:
                # whether a refusal is about us or the reader depends on what came before it.
                probe = None if self._accepted else self._probe
                with probe or contextlib.nullcontext():
                    if (ready := self.producer.take()) is None:
                        break
                    if self._stopping():
                        continue
                    if ready.outcome is None and not connection.is_open and not self._open(connection):
                        self.producer.give_back(ready)  # another connection may still take it
                        return
                    try:
                        outcome = ready.outcome or self._attempt(connection, ready, stored)
                    except SenderRefused as e:
                        self._fail(e, fatal=True)
                        self.producer.give_back(ready)
                        return
                    stored = self.record(outcome)
            stored()
        except Exception as e:  # the store failed: nothing more can be recorded, so stop sending
            self._fail(e, fatal=True)
        finally:
            connection.close()
            with self._lock:
                self._alive -= 1
            self.on_exit()

    def _open(self, connection: Connection) -> bool:
        for delay in (0.0, *self.reconnect_delays):
            if delay and self.stop.wait(delay):
                return False
            try:
                connection.open()
                return True
            except SmtpError as e:
                log.warning("%s", e)
                last = e
        self._fail(last)
        return False

    def _fail(self, error: BaseException, *, fatal: bool = False) -> None:
        with self._lock:
            self.error = error
            self.fatal = self.fatal or fatal
        if fatal:
            self.halted.set()

    def _attempt(self, connection: Connection, ready: Ready, stored: Callable[[], None]) -> JobOutcome:
        """Send one built message, ending it only once ``stored`` returns; every answer of the server becomes an outcome."""
        job, message = ready.job, ready.message
        assert message is not None
        self.limit.acquire()

        def may_end() -> bool:
            stored()
            # Asked last thing before the message can be accepted: a pause at any point before it (a
            # stopped process, a suspended VM) may have let another worker take this row.
            return self.held(job)
        try:
            connection.send(self.sender, job.email, message, ready=may_end)
        except Withdrawn:
            return JobOutcome(job, PENDING, LAPSED)
        except StoreError:
            raise  # the previous outcome could not be recorded: nothing more may be sent
        except Refused as e:
            if e.stage == "mail" and e.permanent:
                raise SenderRefused(f"SMTP server {connection.url} refused the sender {self.sender}: {e}") from e
            if e.permanent and not e.mailbox and not e.local and not self._accepted:
                # A policy refusal before anything got through ("relay access denied", "login
                # required") is probably about us, not this reader: retry it later, and after a
                # few in a row stop the run with the rest still pending.
                with self._lock:
                    self._policy_refusals += 1
                    refusals = self._policy_refusals
                if refusals >= POLICY_REFUSALS:
                    raise SenderRefused(
                        f"SMTP server {connection.url} refused to relay for {self.sender}: {e}") from e
                log.warning("%s: %s (deferred: nothing has been accepted yet)", job.email, e)
                return JobOutcome(job, DEFERRED, str(e))
            log.warning("%s: %s", job.email, e)
            if e.permanent:
                return JobOutcome(job, FAILED, str(e), bounce=e.mailbox)
            return JobOutcome(job, DEFERRED, str(e))
        except Dropped as e:
            log.warning("%s: %s", job.email, e)
            return JobOutcome(job, DEFERRED, str(e))
        except SmtpError:
            raise  # no session could be opened: about the server, not this reader
        except Exception as e:  # noqa: BLE001 - an error of ours with this one message: it fails alone
            connection.close()  # the session may be mid-transaction
            reason = f"cannot send the message: {reason_of(e)}"
            log.warning("%s: %s", job.email, reason)
            return JobOutcome(job, FAILED, reason)
        self._accepted = True
        return JobOutcome(job, SENT)
