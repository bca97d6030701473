"""Delivery: empty an issue's outbox through the connection pool, within the rate, retrying what it may.

A row becomes ``sent`` only after the SMTP server accepted the message, and each
outcome is committed before its connection ends another message (the server accepts
one only at its end), so a crash repeats at most one message per connection and loses
none. The connection does not wait for that commit before it starts the next message:
it waits while the server answers that message's envelope (see ``pool``). Workers
claim rows in batches (see ``outbox``), so any number of ``send`` or ``worker``
processes can share an issue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from newsletter.delivery import outbox, waves
from newsletter.delivery.outbox import PENDING, Job, create_outbox
from newsletter.delivery.pool import JobOutcome, Pool
from newsletter.delivery.ratelimit import RateLimit, SharedRateLimit
from newsletter.delivery.recorder import Recorder
from newsletter.delivery.smtp import Connection
from newsletter.delivery.tally import Counts, counts, failures
from newsletter.email.dkim import Dkim
from newsletter.email.message import Composer, Recipient, header
from newsletter.email.signing import Stamp
from newsletter.progress import Progress, Silent
from newsletter.settings import SmtpSettings
from newsletter.store import Store, now

__all__ = ["Counts", "counts", "create_outbox", "deliver", "failures", "stamper"]

log = logging.getLogger("newsletter.delivery")


def claim_size(smtp: SmtpSettings) -> int:
    """Return how many rows a worker holds at most: 50 per connection, so several workers all get a share."""
    return min(500, 50 * smtp.connections)


def feedback_id(composer: Composer) -> str:
    """Return the ``Feedback-ID`` value: issue, list, kind of mail and sender, as Gmail reads it."""
    slug = composer.list_id.rsplit("<", 1)[-1].split(".", 1)[0]
    return f"issue{composer.number}:{slug}:newsletter:{composer.domain}"


def recipient(job: Job) -> Recipient:
    """Return the message's reader for a claimed job, with the sections and the language they chose."""
    return Recipient(job.subscriber_id, job.email, job.name, tuple(s for s in job.sections.split(",") if s),
                     job.language)


def stamper(composer: Composer, dkim: Dkim | None) -> Stamp:
    """Return what finishes each built message: a Feedback-ID header, then the DKIM signature."""
    return Stamp(header("Feedback-ID", feedback_id(composer)), dkim)


def deliver(
    store: Store,
    composer: Composer,
    connect: Callable[[], Connection],
    *,
    issue_id: int,
    smtp: SmtpSettings | None = None,
    stamp: Callable[[bytes], bytes] | None = None,
    limit: RateLimit | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    worker: str | None = None,
    reconnect_delays: tuple[float, ...] = (1.0, 4.0),
    clock: Callable[[], datetime] | None = None,
) -> Counts:
    """Send every open row of an issue that this worker can claim, recording each outcome as it happens.

    Only rows due by ``clock`` (the newsletter's; default the system's) are sent: those whose
    reader's local hour has not come (see ``waves``) are left for ``newsletter run`` or
    ``newsletter worker --follow``.

    Deferred rows are retried here while their next attempt falls within
    ``smtp.retry_window`` of the start; later ones are left for the next run.
    Rows other live workers hold are waited for. A reader whose message cannot be
    built or sent (an internationalised address and a relay without SMTPUTF8, say)
    fails alone, with the reason. Raises SmtpError when no connection can be
    (re)opened or the server refuses the sender; what was not sent stays open for
    the next run.
    """
    smtp = smtp or SmtpSettings()
    progress = progress or Silent()
    stop = stop or threading.Event()
    worker = worker or outbox.worker_name()
    stamp = stamp or stamper(composer, None)
    present = (lambda: waves.clock_reading(clock)) if clock is not None else now
    todo = counts(store, issue_id, present())
    progress.start(f"issue {composer.number}", todo.pending - todo.scheduled + todo.deferred)
    run = _Run(progress, low=claim_size(smtp) // 2, lease=smtp.lease)
    recorder = Recorder(store, max_attempts=smtp.max_attempts, retry_delay=smtp.retry_delay,
                        bounce_limit=smtp.bounce_limit, worker=worker, on_recorded=run.recorded)
    pool = Pool(connect, size=smtp.connections, sender=composer.address,
                build=lambda job: composer.build(recipient(job)), stamp=stamp, record=recorder.submit,
                limit=limit or SharedRateLimit(store, smtp.max_rate), stop=stop, reconnect_delays=reconnect_delays,
                held=run.held, on_exit=run.wake)
    outbox.reap(store, issue_id)
    recorder.start()
    pool.start()
    try:
        _dispatch(store, issue_id, worker, smtp, pool, run, stop, present)
        if pool.fatal:
            assert pool.error is not None
            raise pool.error
    finally:
        pool.close()
        recorder.close()
        outbox.release(store, worker)
    outbox.finish(store, issue_id)
    return counts(store, issue_id, present())


class _Run:
    """What the dispatcher knows of its pool: rows handed out and not yet recorded, and its claim on them.

    The claim is renewed every third of the lease and trusted for two thirds of it.
    A process paused for longer (a suspended VM, a stopped job) may have lost its rows
    to another worker meanwhile: it sends none of the rows it held before the pause.
    """

    def __init__(self, progress: Progress, low: int, lease: float) -> None:
        self.progress = progress
        self.low = low
        self.lease = lease
        self.renewed_at = time.time()  # wall time, as the store's claims are compared across processes
        self.term = 0  # the claims made since the last lapse; rows of an earlier term are not sent
        self.terms: dict[int, int] = {}  # delivery id -> the term it was claimed in
        self.outstanding = 0
        self.cond = threading.Condition()

    def claimed(self, jobs: list[Job]) -> None:
        with self.cond:
            self.outstanding += len(jobs)
            for job in jobs:
                self.terms[job.delivery_id] = self.term

    def renew(self, store: Store, worker: str) -> None:
        """Extend the claim on every row this worker holds; after a lapse, give up what it held."""
        moment = time.time()  # the store's timestamps are later: the claim lasts at least this long
        if not self._fresh(moment):
            self.term += 1
        outbox.renew(store, worker)
        self.renewed_at = moment

    def renew_in(self) -> float:
        """Return the seconds until the claim is due for renewal (0 when it is due)."""
        return max(0.0, self.renewed_at + self.lease / 3 - time.time())

    def held(self, job: Job) -> bool:
        """Return whether this worker's claim on ``job`` certainly still stands."""
        # Freshness first: ``renew`` starts a new term before it moves ``renewed_at``, so a renewal
        # after a lapse, landing between the two reads, can never make an old row look held.
        return self._fresh(time.time()) and self.terms.get(job.delivery_id) == self.term

    def _fresh(self, moment: float) -> bool:
        return moment - self.renewed_at < self.lease * 2 / 3

    def recorded(self, outcomes: list[JobOutcome]) -> None:
        with self.cond:
            self.outstanding -= len(outcomes)
            for outcome in outcomes:
                self.terms.pop(outcome.job.delivery_id, None)
                if outcome.status != PENDING:  # a row handed back is counted when it is sent
                    self.progress.advance()
            if self.outstanding <= self.low:  # wake the dispatcher only when it has something to do
                self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


def _dispatch(store: Store, issue_id: int, worker: str, smtp: SmtpSettings, pool: Pool, run: _Run,
              stop: threading.Event, present: Callable[[], datetime] = now) -> None:
    """Claim due rows for the pool until none is left, only far retries or later waves remain, or ``stop`` is set."""
    started = time.monotonic()
    due_by = now() + timedelta(seconds=smtp.retry_window)  # retries due later wait for a later run
    dry_until = 0.0  # after a short claim, claim again only when the pool is idle or a second passed
    while not stop.is_set() and not pool.halted.is_set():
        if pool.alive == 0 or pool.fatal:
            assert pool.error is not None
            raise pool.error
        if run.renew_in() == 0:
            run.renew(store, worker)
        with run.cond:
            room, busy = claim_size(smtp) - run.outstanding, run.outstanding > 0
        if room >= claim_size(smtp) // 2 and (not busy or time.monotonic() >= dry_until):
            jobs = outbox.claim(store, issue_id, worker, limit=room, lease=smtp.lease, due_by=due_by,
                                present=present())
            if len(jobs) < room:
                dry_until = time.monotonic() + 1.0
            if jobs:
                run.claimed(jobs)
                for job in jobs:
                    pool.put(job)
                continue
        with run.cond:
            if run.outstanding > 0:
                run.cond.wait(timeout=min(1.0, run.renew_in()))  # a short lease is renewed in time too
                continue
        if outbox.reap(store, issue_id):
            continue
        wait = _idle_wait(outbox.backlog(store, issue_id, lease=smtp.lease, present=present()), started, smtp)
        if wait is None:
            return
        stop.wait(wait)


def _idle_wait(left: outbox.Backlog, started: float, smtp: SmtpSettings) -> float | None:
    """Return how long to wait before claiming again, or None when this run is done."""
    if left.open == 0:
        return None
    moment = now()
    waits = []
    if left.held:  # other workers are on it: look again soon, and at the latest when a lease runs out
        waits.append(min(1.0, _seconds(left.held_until, moment)))
    if left.next_retry is not None:
        due = _seconds(left.next_retry, moment)
        if time.monotonic() + due - started <= smtp.retry_window:
            waits.append(due)
        else:
            log.info("%d deliveries wait for a retry after %s UTC; run `newsletter send` again then",
                     left.open - left.held - left.scheduled, left.next_retry.isoformat(timespec="seconds"))
    if left.next_due is not None and not waits:
        log.info("%d deliveries wait for their readers' local hour, the first at %s UTC: `newsletter run` or "
                 "`newsletter worker --follow` sends them", left.scheduled, left.next_due.isoformat(timespec="seconds"))
    return min(waits) if waits else None


def _seconds(moment: datetime | None, since: datetime) -> float:
    return max(0.0, (moment - since).total_seconds()) if moment is not None else 0.0
