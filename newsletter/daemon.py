"""The daemon behind ``newsletter run``: send (and gather) on schedule, once per fire time.

APScheduler wakes the process at the cron times and keeps its job store in the
newsletter's database. What makes a run happen exactly once lives in our own
tables: a lease says which daemon is active, and each (job, fire time) is claimed
by one row in ``schedule_runs`` before it runs, so a second daemon, a restart or a
coalesced misfire can never repeat it.

With ``[schedule] local_time`` an issue is delivered in waves, each reader's copy at that hour
on their clock: the daemon resumes an issue only when some of it is due, and asks APScheduler
to wake it when the next wave falls due (a one-off ``wave`` job), so it neither polls nor
sleeps through one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from newsletter import doctor, schedule
from newsletter.app import Newsletter
from newsletter.delivery import waves
from newsletter.delivery.mailbox import poller
from newsletter.error import NewsletterError
from newsletter.store import from_db, to_db
from newsletter.subscribers import optin
from newsletter.times import shown

log = logging.getLogger("newsletter.daemon")

LEASE = "daemon"
RETRY_AFTER = timedelta(minutes=5)  # a failed scheduled run is tried again this often, within the grace period


@dataclass(frozen=True)
class Run:
    """One scheduled run and how it ended."""

    job: str  # send | gather | resume (an interrupted issue, not a scheduled fire time)
    due_at: datetime
    status: str  # sent | skipped | held | gathered | failed | missed | interrupted
    note: str = ""


class Daemon:
    """Decide and perform the scheduled work of one newsletter; ``tick`` is the whole logic."""

    def __init__(self, app: Newsletter, *, clock: Callable[[], datetime] | None = None,
                 holder: str | None = None, lease_seconds: int = 60) -> None:
        self.app = app
        self.config = app.config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.lease_seconds = lease_seconds
        self.stop = threading.Event()
        self._busy = threading.Lock()
        self._woken = threading.Event()  # a tick came while a run was under way: look again after it
        self._scheduler: BackgroundScheduler | None = None  # while ``run_forever`` runs
        zone = self.config.zone
        self.jobs = {"send": schedule.trigger(self.config.schedule.cron, zone)}
        if self.config.schedule.gather_cron:
            self.jobs["gather"] = schedule.trigger(self.config.schedule.gather_cron, zone,
                                                   key="schedule.gather_cron")
        self.grace = timedelta(minutes=self.config.schedule.grace_minutes)
        self.bounces = poller(app, self.clock)  # the bounce mailbox, read every bounces.poll_minutes

    # -- lease: only one daemon per database is active ---------------------------------

    def acquire(self) -> bool:
        """Take or renew the lease; return whether this daemon is the active one."""
        t = self.app.store.t
        now = to_db(self.clock())
        expires = now + timedelta(seconds=self.lease_seconds)
        try:
            with self.app.store.begin() as conn:
                row = conn.execute(sa.select(t.leases).where(t.leases.c.name == LEASE)).mappings().first()
                if row is None:
                    conn.execute(t.leases.insert().values(name=LEASE, holder=self.holder, expires_at=expires))
                    return True
                if row["holder"] == self.holder or row["expires_at"] <= now:
                    # Conditional, so two daemons seeing the same expired lease cannot both take it.
                    taken = conn.execute(t.leases.update().where(
                        t.leases.c.name == LEASE, t.leases.c.holder == row["holder"],
                        t.leases.c.expires_at == row["expires_at"],
                    ).values(holder=self.holder, expires_at=expires))
                    return taken.rowcount == 1
        except sa.exc.IntegrityError:
            return False  # another daemon created the lease at the same moment
        return False

    def release(self) -> None:
        """Give the lease up so a standby daemon can take over at once."""
        t = self.app.store.t
        with self.app.store.begin() as conn:
            conn.execute(t.leases.delete().where(t.leases.c.name == LEASE, t.leases.c.holder == self.holder))

    def holder_of_lease(self) -> tuple[str, datetime] | None:
        """Return who holds the lease and until when."""
        t = self.app.store.t
        with self.app.store.begin() as conn:
            row = conn.execute(sa.select(t.leases).where(t.leases.c.name == LEASE)).first()
        return (row.holder, from_db(row.expires_at)) if row else None

    # -- the schedule -------------------------------------------------------------------

    def anchor(self) -> datetime:
        """Return when scheduling began for this database; fire times before it never run."""
        key = "schedule.anchor"
        value = self.app.store.get_meta(key)
        if value is None:  # another daemon starting at the same moment may store its anchor first: then it is used
            value = self.app.store.add_meta(key, self.clock().astimezone(UTC).isoformat())
        return datetime.fromisoformat(value)

    def last_due(self, job: str) -> datetime:
        """Return the latest fire time of ``job`` already handled (or the anchor).

        A run that failed, or that a daemon which is gone left running, is not handled:
        it is tried again while it is within the grace period. For sends, an issue
        queued since (a resumed crash, or an editor's own send) counts as handling it.
        """
        t = self.app.store.t
        runs = t.schedule_runs.c
        unhandled = (runs.status == "failed") | ((runs.status == "running") & (runs.holder != self.holder))
        with self.app.store.begin() as conn:
            latest = conn.execute(sa.select(sa.func.max(runs.due_at))
                                  .where(runs.job == job, sa.not_(unhandled))).scalar()
            if job == "send":
                queued = conn.execute(sa.select(sa.func.max(t.issues.c.created_at))).scalar()
                if queued is not None and (latest is None or queued > latest):
                    latest = queued
        anchor = self.anchor()
        return max(anchor, from_db(latest)) if latest else anchor

    def next_runs(self) -> dict[str, datetime | None]:
        """Return the next fire time of each job, in the newsletter's time zone."""
        now = self.clock()
        return {job: (n.astimezone(self.config.zone) if (n := schedule.next_time(cron, now)) else None)
                for job, cron in self.jobs.items()}

    def next_wave(self) -> datetime | None:
        """Return when the next readers of an issue being delivered fall due (their local hour), if any."""
        return waves.next_due(self.app.store, to_db(self.clock()))

    def plan_wave(self) -> datetime | None:
        """Have APScheduler wake this daemon when the next wave falls due; return when (None: no wave waits)."""
        at = self.next_wave()
        if at is not None and self._scheduler is not None:
            self._scheduler.add_job("newsletter.daemon:fire", "date", run_date=at, id="wave", replace_existing=True)
        return at

    def tick(self) -> list[Run]:
        """Do whatever is due now; safe to call at any moment, from any number of daemons.

        A tick that comes while a run is under way in another thread returns at once, and
        that thread looks again when its run ends: a wave that fell due meanwhile goes out
        then, not at the next minute's tick.
        """
        runs: list[Run] = []
        self._woken.set()
        while self._woken.is_set():
            if not self._busy.acquire(blocking=False):
                return runs  # the thread that holds it sees ``_woken`` when it lets go
            try:
                self._woken.clear()
                runs += self._tick()
            finally:
                self._busy.release()
        return runs

    def _tick(self) -> list[Run]:
        if not self.acquire():
            return []
        optin.expire(self.app)  # sign-ups never confirmed within web.pending_days
        self.bounces.tick()  # when it is time; it logs what it did and never raises
        runs = []
        if not self.stop.is_set() and waves.ready(self.app.store, to_db(self.clock())):
            runs.append(self._logged(self._resume()))  # an interrupted issue, or its next wave
        for job, cron in self.jobs.items():
            now = self.clock()
            due = schedule.due(cron, last=self.last_due(job), now=now, grace=self.grace)
            if due.late:
                late = now - due.first if due.first else self.grace
                run = Run(job, _latest_before(cron, now), "missed",
                          f"missed while not running ({_duration(late)} ago, beyond the "
                          f"{self.config.schedule.grace_minutes}-minute grace period)")
                if self._claim(run):
                    self._finish(run)
                    runs.append(self._logged(run))
                continue
            if due.at is None or self.stop.is_set():
                continue
            run = Run(job, due.at, "running")
            if not self._claim(run):
                continue  # another daemon took this fire time
            try:
                run = self._logged(self._perform(run))
            except Exception as e:  # noqa: BLE001 - the daemon must outlive any one run
                run = self._logged(Run(job, run.due_at, "failed", f"unexpected error: {type(e).__name__}: {e}"),
                                   crash=True)
            self._finish(run)
            runs.append(run)
        self._after_runs()
        return runs

    def _after_runs(self) -> None:
        """Deliver webhooks, then rewrite the metrics textfile: after the runs, so neither delays a send."""
        try:
            self.app.deliver_webhooks()
        except Exception as e:  # noqa: BLE001 - the daemon must outlive any webhook endpoint or database hiccup
            log.error("webhooks: %s: %s", type(e).__name__, e)
        if self.config.metrics.textfile:
            # The heavy edge of metrics: prometheus_client takes a tenth of a second to load, and
            # every command imports this module.
            from newsletter.insight import metrics

            try:
                metrics.write_textfile(self.config, self.app.store)
            except (OSError, NewsletterError) as e:
                log.error("cannot write metrics.textfile: %s", e)

    def _logged(self, run: Run, *, crash: bool = False) -> Run:
        """Log how ``run`` ended, in one line (with the traceback after a crash); return it."""
        level = {"failed": logging.ERROR, "missed": logging.WARNING}.get(run.status, logging.INFO)
        log.log(level, "%s at %s: %s%s", run.job, shown(run.due_at, self.config.zone), run.status,
                f": {run.note}" if run.note else "", exc_info=crash)
        return run

    def _resume(self) -> Run:
        """Finish delivering an issue a stop or a crash interrupted; only unsent readers get it."""
        now = self.clock()
        try:
            reports = self.app.work(stop=self.stop)
        except NewsletterError as e:
            return Run("resume", now, "failed", str(e))
        note = "; ".join(f"issue {r.number}: {r.counts.sent} sent, {r.counts.pending + r.counts.deferred} "
                         "waiting" + (f" ({r.counts.scheduled} for their local hour)" if r.counts.scheduled else "")
                         for r in reports)
        stopped = self.stop.is_set() and any(r.counts.due for r in reports)  # a stop after the last copy is no stop
        return Run("resume", now, "interrupted" if stopped else "sent", note)

    def _perform(self, run: Run) -> Run:
        try:
            if run.job == "gather":
                report = self.app.gather()
                return Run(run.job, run.due_at, "gathered", f"{report.new} new items")
            return self._send(run)
        except NewsletterError as e:
            return Run(run.job, run.due_at, "failed", str(e))

    def _send(self, run: Run) -> Run:
        settings = self.config.schedule
        self.app.gather()
        draft = self.app.draft()
        waiting = len(draft.items)
        if waiting < max(settings.min_items, 1 if settings.skip_if_empty else 0):
            note = ("nothing new to send" if waiting == 0 else
                    f"only {waiting} item(s) waiting; min_items is {settings.min_items}")
            return Run(run.job, run.due_at, "skipped", note)
        if settings.approve:
            note = (f"issue {draft.number} ({waiting} items) is waiting for an editor's approval: "
                    "send it from the editor's desk or with `newsletter send`")
            return Run(run.job, run.due_at, "held", note)
        result = self.app.send(fetch=False, stop=self.stop)
        note = result.message or result.status
        if self.stop.is_set() and result.status == "sent" and any(i.counts.due for i in result.issues):
            note = f"stopped by a signal ({note}); the issue resumes when the daemon starts again"
            return Run(run.job, run.due_at, "interrupted", note)
        status = "sent" if result.status == "sent" else "skipped"
        return Run(run.job, run.due_at, status, note)

    def _claim(self, run: Run) -> bool:
        """Take this fire time: a new row, or one that failed (or was left running) a while ago."""
        t = self.app.store.t
        runs = t.schedule_runs.c
        now = to_db(self.clock())
        try:
            with self.app.store.begin() as conn:
                conn.execute(t.schedule_runs.insert().values(
                    job=run.job, due_at=to_db(run.due_at), status="running", holder=self.holder, started_at=now))
            return True
        except sa.exc.IntegrityError:
            pass
        retry = now - RETRY_AFTER
        with self.app.store.begin() as conn:
            taken = conn.execute(t.schedule_runs.update().where(
                runs.job == run.job, runs.due_at == to_db(run.due_at), runs.started_at <= retry,
                (runs.status == "failed") | ((runs.status == "running") & (runs.holder != self.holder)),
            ).values(status="running", holder=self.holder, started_at=now, note="", finished_at=None))
        return taken.rowcount == 1

    def _finish(self, run: Run) -> None:
        t = self.app.store.t
        with self.app.store.begin() as conn:
            conn.execute(t.schedule_runs.update()
                         .where(t.schedule_runs.c.job == run.job, t.schedule_runs.c.due_at == to_db(run.due_at))
                         .values(status=run.status, note=run.note, finished_at=to_db(self.clock())))

    # -- the process ----------------------------------------------------------------------

    def run_forever(self) -> None:
        """Serve until SIGTERM/SIGINT: APScheduler wakes us at each fire time; stop gracefully."""

        global _current
        _current = self
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        scheduler = BackgroundScheduler(
            timezone=self.config.zone,
            jobstores={"default": SQLAlchemyJobStore(engine=self.app.store.engine)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.grace.total_seconds())},
        )
        for job, cron in self.jobs.items():
            scheduler.add_job("newsletter.daemon:fire", trigger=cron, id=job, replace_existing=True)
        # The lease is renewed on its own, so a send longer than the lease does not lose it.
        scheduler.add_job("newsletter.daemon:renew", "interval", seconds=max(5, self.lease_seconds // 3),
                          id="lease", replace_existing=True)
        scheduler.add_job("newsletter.daemon:fire", "interval", minutes=1, id="standby",
                          replace_existing=True)
        if self.config.schedule.doctor:
            self.examine()  # before the scheduler starts: no send may begin before the checks are logged
        scheduler.start()
        self._scheduler = scheduler
        log.info("newsletter daemon %s started; next: %s", self.holder,
                 ", ".join(f"{j} {shown(t, self.config.zone)}" for j, t in
                           [*self.next_runs().items(), ("wave", self.next_wave())] if t))
        try:
            fire()  # catch up at once on anything missed while we were down
            self.stop.wait()
        finally:
            log.info("stopping: waiting for the current run to reach a safe point")
            scheduler.shutdown(wait=True)
            self._scheduler = None
            self.release()
            _current = None
            log.info("stopped")

    def examine(self) -> bool:
        """Log what `newsletter doctor` finds, before any scheduled send; a failing check warns, never stops."""
        try:
            diagnosis = doctor.examine(self.config, self.app.connection(), self.app.dkim)
        except NewsletterError as e:  # e.g. a nameserver whose name does not resolve right now
            log.warning("doctor: could not run the checks: %s", e)
            return False
        for check in diagnosis.checks:
            log.log(logging.INFO if check.ok else logging.WARNING, "doctor: %s", check.line())
        return diagnosis.ok

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stop.set()  # before the log line: whoever reads "received" may rely on the stop being set
        log.info("received %s", signal.Signals(signum).name)


_current: Daemon | None = None  # the daemon of this process, for APScheduler's persistent jobs


def fire() -> None:
    """Run a tick of this process's daemon (APScheduler jobs must be importable functions)."""
    daemon = _current
    if daemon is None or daemon.stop.is_set():
        return
    daemon.tick()  # which logs each run it did, once
    daemon.plan_wave()  # after the tick: a send may have queued waves, a resume emptied one


def renew() -> None:
    """Renew this process's lease (or take it over from a daemon that stopped renewing)."""
    daemon = _current
    if daemon is not None and not daemon.stop.is_set():
        daemon.acquire()


def _latest_before(cron: Any, now: datetime) -> datetime:
    """Return the last fire time at or before ``now``, widening the window until one is found."""
    for window in (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32),
                   timedelta(days=367)):
        times = schedule.fire_times(cron, now - window, now)
        if times:
            return times[-1]
    return now


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
