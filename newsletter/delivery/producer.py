"""The producer: each claimed job's message built and signed ahead of the connections, into a bounded queue.

One thread takes jobs in the order the dispatcher queued them, builds each reader's
message, stamps it (Feedback-ID and DKIM signature) and puts it in a queue of at most
``depth`` messages, so a connection that has its answer takes the next message at once
instead of spending CPU on it while the server waits. A DKIM signature is made in a
child process (``email.signing.SigningProcess``), so the CPU it takes leaves this
process's threads alone. The queue is bounded, so memory stays flat however long the
list: a message is built only once there is room for it, so at most ``depth`` built
messages wait, whatever the issue's size.

A job whose reader is no longer active, or whose message cannot be built, comes out
with its outcome instead of a message. Jobs come out in the order they went in, which
the pool relies on until the server has accepted a first message.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable
from typing import NamedTuple

from newsletter.delivery.outbox import FAILED, SKIPPED, Job
from newsletter.email.signing import SigningProcess, Stamp
from newsletter.error import NewsletterError

log = logging.getLogger("newsletter.delivery")


class JobOutcome(NamedTuple):
    """What became of one job: ``sent``, ``deferred``, ``failed`` or ``skipped``."""

    job: Job
    status: str
    error: str | None = None
    bounce: bool = False  # the server refused the recipient permanently


class Ready(NamedTuple):
    """A job and its finished message, or the outcome that means it will not be sent."""

    job: Job
    message: bytes | None
    outcome: JobOutcome | None = None


class Producer:
    """Build jobs' messages in a thread of its own, at most ``depth`` ahead of the connections.

    ``put`` queues a job; ``take`` returns the next ready one, waiting for it, or None
    once the producer is closed; ``give_back`` returns one a connection could not send
    to the front of the line. ``skip()`` (the run is stopping) drops jobs unbuilt.
    ``between()`` runs after each message is queued, for other work done ahead of the
    connections (the pool reserves send slots there).
    """

    def __init__(self, build: Callable[[Job], bytes], *, depth: int,
                 stamp: Callable[[bytes], bytes] = lambda message: message,
                 skip: Callable[[], bool] = lambda: False,
                 on_error: Callable[[BaseException], None] = lambda e: None,
                 between: Callable[[], None] = lambda: None) -> None:
        self.build = build
        self.stamp = stamp
        self.depth = max(1, depth)
        self.skip = skip
        self.on_error = on_error
        self.between = between
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._ready: collections.deque[Ready] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="producer", daemon=True)
        self._signing: SigningProcess | None = None

    def start(self) -> Producer:
        """Start the building thread, and the signing process if messages are DKIM-signed."""
        if isinstance(self.stamp, Stamp) and self.stamp.dkim is not None:
            try:
                self._signing = SigningProcess(self.stamp.dkim)
            except (OSError, ValueError) as e:  # no process to be had (a limit, a sandbox): sign in this one
                log.warning("cannot start a DKIM signing process (%s); signing in this one", e)
        self._thread.start()
        return self

    def put(self, job: Job) -> None:
        """Queue a job to be built."""
        self._jobs.put(job)

    def take(self) -> Ready | None:
        """Return the next ready job, waiting until one is built; None once closed."""
        with self._cond:
            while not self._ready and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            ready = self._ready.popleft()
            self._cond.notify_all()  # room for the producer
            return ready

    def give_back(self, ready: Ready) -> None:
        """Return a job a connection could not send to the front of the line (past the bound: one per connection)."""
        with self._cond:
            self._ready.appendleft(ready)
            self._cond.notify_all()

    def close(self) -> None:
        """Drop what waits, built or not, wake every waiting connection and stop the thread."""
        self._shut()
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join()
        if self._signing is not None:
            self._signing.close()

    def _shut(self) -> None:
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            self._produce()
        except BaseException as e:  # a fault of ours: say why, and let the connections stop rather than wait
            self.on_error(e)
            self._shut()

    def _produce(self) -> None:
        while (job := self._jobs.get()) is not None:
            with self._cond:  # room first: a message built while the queue is full would wait outside it
                while len(self._ready) >= self.depth and not self._closed:
                    self._cond.wait()
                if self._closed:
                    break
            if self.skip():
                continue
            ready = self._make(job)  # meanwhile only connections touch the queue: taking, or giving back
            with self._cond:
                if self._closed:
                    break
                self._ready.append(ready)
                self._cond.notify_all()
            self.between()

    def _make(self, job: Job) -> Ready:
        if job.status != "active":
            return Ready(job, None, JobOutcome(job, SKIPPED, f"subscriber is {job.status}"))
        try:
            message = self.build(job)
            if self._signing is None:
                return Ready(job, self.stamp(message))
            assert isinstance(self.stamp, Stamp)
            message = self.stamp.header + message
            return Ready(job, self._signing.signature(message) + message)
        except Exception as e:  # noqa: BLE001 - one reader's message, whatever went wrong, never stops the send
            reason = f"cannot build the message: {reason_of(e)}"
            log.warning("%s: %s", job.email, reason)
            return Ready(job, None, JobOutcome(job, FAILED, reason))


def reason_of(e: BaseException) -> str:
    """Return an error as one line: our own errors say what happened, others also name their type."""
    return str(e) if isinstance(e, NewsletterError) else f"{type(e).__name__}: {e}"
