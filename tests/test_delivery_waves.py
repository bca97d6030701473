"""Delivery at each reader's local hour, on a clock the test moves: waves, `--now`, retries, the rate, the daemon.

The newsletter's zone is Asia/Almaty; ``[schedule] local_time = "07:00"``. Queued at 07:00 in
Almaty (02:00 UTC), the readers of Almaty (their own zone, the newsletter's, or one unknown here)
are due at once, London's at 07:00 UTC and New York's at 12:00 UTC. Real SMTP sink, real SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers.asgi import InProcess, log_in
from helpers.clock import Clock
from helpers.newsletters import ADMIN_TOKEN, queue_issue
from helpers.ratelimits import FakeClock, SharedCounting

from newsletter import delivery, status, subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.daemon import Daemon
from newsletter.delivery import outbox, waves
from newsletter.settings import SmtpSettings
from newsletter.sink import Sink
from newsletter.store import to_db
from newsletter.web import create_app

ALMATY = ZoneInfo("Asia/Almaty")
QUEUED = datetime(2026, 12, 7, 7, 0, tzinfo=ALMATY)  # a Monday; 02:00 UTC
LONDON_DUE, NEW_YORK_DUE = datetime(2026, 12, 7, 7, 0, tzinfo=UTC), datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
READERS = {"almaty@example.org": "Asia/Almaty", "own@example.org": "", "mars@example.org": "Mars/Olympus",
           "london@example.org": "Europe/London", "ny@example.org": "America/New_York"}
FIRST_WAVE = {"almaty@example.org", "own@example.org", "mars@example.org"}


@pytest.fixture
def clock() -> Clock:
    return Clock(QUEUED)


@pytest.fixture
def app(newsletter_dir: Path, clock: Clock) -> Newsletter:
    """A newsletter delivering at 07:00 on each reader's clock, with readers in three zones (and one unknown)."""
    config = newsletter_dir / "newsletter.toml"
    config.write_text(config.read_text() + '\n[schedule]\ncron = "0 8 * * sat"\nlocal_time = "07:00"\n')
    newsletter = Newsletter(load(config, environ={}).replace(web={"admin_token": ADMIN_TOKEN}), clock=clock)
    t = newsletter.store.t.subscribers
    for email, zone in READERS.items():
        subscribers.add(newsletter.store, email, status="active")
        with newsletter.store.begin() as conn:
            conn.execute(t.update().where(t.c.email == email).values(timezone=zone))
    return newsletter


def got(sink: Sink) -> list[str]:
    return sorted(m.recipients[0] for m in sink.messages)


def test_send_mails_the_readers_whose_hour_has_come_and_the_others_at_theirs(app: Newsletter, clock: Clock,
                                                                             sink: Sink) -> None:
    report = app.send()
    assert got(sink) == sorted(FIRST_WAVE)
    assert report.issues[0].counts.scheduled == 2 and report.issues[0].counts.pending == 2
    assert report.message == "issue 1 sent to 3 of 5 subscribers; 2 wait for 07:00 on their own clocks"
    summary = app.deliveries(1)
    assert summary.status == "sending"
    assert summary.to_json()["scheduled"] == [{"email": "london@example.org", "due_at": "2026-12-07T07:00:00+00:00"},
                                              {"email": "ny@example.org", "due_at": "2026-12-07T07:00:00-05:00"}]
    assert [w.line(ALMATY) for w in summary.waves] == ["Europe/London 07:00: 1 reader at 7 Dec 2026 12:00 +05",
                                                       "America/New_York 07:00: 1 reader at 7 Dec 2026 17:00 +05"]

    clock.now = LONDON_DUE - timedelta(seconds=1)
    assert app.work() == [] and len(sink.messages) == 3  # a second early: nothing is sent, nothing rendered
    clock.now = LONDON_DUE
    [resumed] = app.work()
    assert got(sink) == sorted(FIRST_WAVE | {"london@example.org"}) and resumed.counts.scheduled == 1
    clock.now = NEW_YORK_DUE
    app.work()
    assert got(sink) == sorted(READERS)  # everyone, once
    assert app.deliveries(1).status == "sent" and app.deliveries(1).scheduled == []


def test_send_now_mails_everyone_at_once_the_waiting_waves_of_an_unfinished_issue_too(app: Newsletter,
                                                                                     sink: Sink) -> None:
    app.send()
    assert len(sink.messages) == 3
    report = app.send(now=True)
    assert report.status == "nothing-new" and report.issues[0].resumed
    assert got(sink) == sorted(READERS) and app.deliveries(1).status == "sent"


def test_send_now_queues_a_new_issue_due_for_everyone(app: Newsletter, sink: Sink) -> None:
    report = app.send(now=True)
    assert report.issues[0].counts.sent == 5 and got(sink) == sorted(READERS)
    with app.store.begin() as conn:
        due = set(conn.execute(sa.select(app.store.t.deliveries.c.due_at)).scalars())
    assert due == {to_db(QUEUED)}


def test_a_retry_never_comes_before_the_readers_hour(app: Newsletter, clock: Clock) -> None:
    issue_id, _ = queue_issue(app, due=waves.DueTimes(app.config, clock()))
    d, s = app.store.t.deliveries, app.store.t.subscribers
    london = sa.select(s.c.id).where(s.c.email == "london@example.org").scalar_subquery()
    with app.store.begin() as conn:  # a deferral whose retry is long due, but whose reader's hour is not
        conn.execute(d.update().where(d.c.subscriber_id == london).values(status=outbox.DEFERRED, attempts=1,
                                                                          next_attempt_at=datetime(2026, 1, 1)))

    def claimed(moment: datetime) -> set[str]:
        jobs = outbox.claim(app.store, issue_id, "w", limit=10, lease=60, present=to_db(moment))
        outbox.release(app.store, "w")
        return {job.email for job in jobs}

    assert claimed(QUEUED) == FIRST_WAVE
    assert claimed(LONDON_DUE) == FIRST_WAVE | {"london@example.org"}
    assert claimed(NEW_YORK_DUE) == set(READERS)


def test_the_rate_limit_is_spent_on_due_readers_only_and_each_wave_starts_afresh(app: Newsletter, clock: Clock,
                                                                                 sink: Sink) -> None:
    issue_id, composer = queue_issue(app, due=waves.DueTimes(app.config, clock()))
    ticking = FakeClock()
    limit = SharedCounting(app.store, 8, ticking)  # the database's series, as every worker shares it

    def deliver() -> delivery.Counts:
        return delivery.deliver(app.store, composer, app.connection, issue_id=issue_id, limit=limit, clock=clock,
                                smtp=SmtpSettings(connections=2))

    assert deliver().scheduled == 2
    assert sorted(limit.granted) == [0, 1 / 8, 2 / 8]  # three due readers, three slots, 1/8 s apart
    ticking.at, clock.now = 5 * 3600.0, LONDON_DUE  # hours later: no slots were saved up meanwhile
    assert deliver().scheduled == 1
    assert sorted(limit.granted)[3:] == [5 * 3600.0] and got(sink) == sorted(FIRST_WAVE | {"london@example.org"})


def test_the_daemon_resumes_an_issue_only_when_a_wave_falls_due(app: Newsletter, clock: Clock, sink: Sink) -> None:
    daemon = Daemon(app, clock=clock)
    daemon.anchor()
    app.send()  # an editor's send at 07:00 in Almaty
    assert daemon.next_wave() == LONDON_DUE
    clock.now = LONDON_DUE - timedelta(minutes=1)
    assert daemon.tick() == []  # nothing is due: no resume, nothing rendered
    clock.now = LONDON_DUE
    [run] = daemon.tick()
    assert (run.job, run.status) == ("resume", "sent") and "(1 for their local hour)" in run.note
    assert "london@example.org" in got(sink) and daemon.next_wave() == NEW_YORK_DUE
    clock.now = NEW_YORK_DUE
    assert [r.job for r in daemon.tick()] == ["resume"] and daemon.next_wave() is None
    assert got(sink) == sorted(READERS) and app.deliveries(1).status == "sent"


def test_status_and_the_desk_show_the_waves(app: Newsletter, clock: Clock, sink: Sink) -> None:
    app.send()
    report = status.report(Daemon(app, clock=clock))
    assert report["next_wave"] == "2026-12-07T07:00:00+00:00"
    assert report["waves"] == [
        {"issue": 1, "zone": "Europe/London", "local_time": "07:00", "readers": 1, "due_at": "2026-12-07T07:00:00+00:00"},
        {"issue": 1, "zone": "America/New_York", "local_time": "07:00", "readers": 1,
         "due_at": "2026-12-07T07:00:00-05:00"},
    ]
    client = InProcess(create_app(app))
    log_in(client)
    page = client.get("/desk/issues").text
    assert "Issue 1 waits for its readers' hour" in page
    assert "<li>Europe/London 07:00: 1 reader at 7 Dec 2026 12:00 +05</li>" in page
    assert "<li>America/New_York 07:00: 1 reader at 7 Dec 2026 17:00 +05</li>" in page
    api = client.get("/api/issues").json()
    assert [w["zone"] for w in api[0]["waves"]] == ["Europe/London", "America/New_York"]
