"""The scheduler with a controlled clock: cron with day names, DST, misses, grace, two daemons."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from newsletter import schedule
from newsletter.app import Newsletter
from newsletter.config import ScheduleSettings, load
from newsletter.daemon import Daemon, Run
from newsletter.error import ConfigError
from newsletter.sink import Sink

from helpers.smtp import ScriptedServer

ALMATY = ZoneInfo("Asia/Almaty")
LONDON = ZoneInfo("Europe/London")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


def test_cron_takes_day_names_and_refuses_numbers() -> None:
    assert schedule.trigger(ScheduleSettings().cron, ALMATY)  # loading a config trusts the default unchecked
    assert schedule.trigger("30 6 * * mon-fri", ALMATY)
    with pytest.raises(ConfigError, match="use day names"):
        schedule.trigger("0 8 * * 1", ALMATY)
    with pytest.raises(ConfigError, match="unknown day 'funday'"):
        schedule.trigger("0 8 * * funday", ALMATY)
    with pytest.raises(ConfigError, match="five fields"):
        schedule.trigger("0 8 * *", ALMATY)
    with pytest.raises(ConfigError, match="invalid cron expression"):
        schedule.trigger("0 25 * * mon", ALMATY)


def test_cron_keeps_local_time_across_dst() -> None:
    cron = schedule.trigger("0 8 * * mon", LONDON)
    times = schedule.fire_times(cron, datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC))
    assert [t.astimezone(LONDON).hour for t in times] == [8, 8, 8]
    assert [t.astimezone(UTC).hour for t in times] == [8, 7, 7]  # GMT, then BST


def test_cron_in_the_skipped_and_repeated_hour_fires_once() -> None:
    cron = schedule.trigger("30 1 * * sun", LONDON)
    spring = schedule.fire_times(cron, datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
    assert len(spring) == 1  # 01:30 does not exist on 29 March; it still fires, once
    autumn = schedule.fire_times(cron, datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC))
    assert len(autumn) == 1  # 01:30 happens twice on 25 October; it fires once


def _daemon(newsletter_dir: Path, clock: Clock, holder: str = "a", **env: str) -> Daemon:
    config = load(newsletter_dir / "newsletter.toml", environ=env)
    return Daemon(Newsletter(config, clock=lambda: clock().astimezone(ALMATY)), clock=clock, holder=holder)


def _scheduled(newsletter_dir: Path, clock: Clock, setting: str) -> Daemon:
    """Return a daemon whose [schedule] has ``setting``, scheduling from the clock's time."""
    config = newsletter_dir / "newsletter.toml"
    config.write_text(config.read_text().replace("[smtp]", f"[schedule]\n{setting}\n\n[smtp]"))
    d = _daemon(newsletter_dir, clock)
    d.anchor()
    return d


MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=ALMATY)  # the default cron: 0 8 * * mon


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_8 - timedelta(days=1))


@pytest.fixture
def daemon(app: Newsletter, newsletter_dir: Path, clock: Clock) -> Daemon:
    d = _daemon(newsletter_dir, clock)
    d.anchor()  # scheduling starts on Sunday
    return d


def _issues(d: Daemon) -> int:
    with d.app.store.begin() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(d.app.store.t.issues)).scalar()


def test_send_runs_once_at_its_time(daemon: Daemon, clock: Clock, sink: Sink) -> None:
    clock.set(MONDAY_8 - timedelta(minutes=30))
    assert daemon.tick() == []
    clock.set(MONDAY_8 + timedelta(seconds=5))
    runs = daemon.tick()
    assert [(r.job, r.status) for r in runs] == [("send", "sent")]
    assert runs[0].due_at == MONDAY_8
    assert len(sink.messages) == 3
    clock.set(MONDAY_8 + timedelta(minutes=10))
    assert daemon.tick() == []
    assert len(sink.messages) == 3


def test_each_run_is_logged_once_in_the_newsletters_zone(daemon: Daemon, clock: Clock, sink: Sink,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="newsletter.daemon")
    clock.set(MONDAY_8 + timedelta(seconds=5))
    daemon.tick()
    clock.set(MONDAY_8 + timedelta(days=7, hours=7))  # next Monday, beyond the grace period
    daemon.tick()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "newsletter.daemon"]
    assert lines == [
        ("INFO", "send at 23 Nov 2026 08:00 +05: sent: issue 1 sent to 3 of 3 subscribers"),
        ("WARNING", ("send at 30 Nov 2026 08:00 +05: missed: missed while not running (7.0 hours ago, beyond "
                     "the 360-minute grace period)")),
    ]


def test_a_missed_send_runs_once_after_a_restart_within_grace(daemon: Daemon, newsletter_dir: Path,
                                                               clock: Clock, sink: Sink) -> None:
    clock.set(MONDAY_8 + timedelta(hours=2))  # the daemon was down at 08:00
    restarted = _daemon(newsletter_dir, clock, holder="a")
    assert [r.status for r in restarted.tick()] == ["sent"]
    again = _daemon(newsletter_dir, clock, holder="a")
    assert again.tick() == []
    assert _issues(again) == 1 and len(sink.messages) == 3


def test_a_send_missed_beyond_grace_does_not_run(daemon: Daemon, clock: Clock, sink: Sink) -> None:
    clock.set(MONDAY_8 + timedelta(hours=7))  # grace is 6 hours
    runs = daemon.tick()
    assert [(r.status, r.due_at) for r in runs] == [("missed", MONDAY_8)]
    assert "beyond the 360-minute grace period" in runs[0].note
    assert sink.messages == [] and _issues(daemon) == 0
    assert daemon.tick() == []  # recorded once
    clock.set(MONDAY_8 + timedelta(days=7, minutes=1))
    assert [r.status for r in daemon.tick()] == ["sent"]  # next week runs as usual


def test_weeks_of_missed_sends_coalesce_into_one(daemon: Daemon, clock: Clock, sink: Sink) -> None:
    clock.set(MONDAY_8 + timedelta(days=21, hours=1))  # down for three Mondays and this one
    runs = daemon.tick()
    assert [(r.status, r.due_at) for r in runs] == [("sent", MONDAY_8 + timedelta(days=21))]
    assert _issues(daemon) == 1 and len(sink.messages) == 3


def test_skip_if_empty_sends_nothing_and_says_why(daemon: Daemon, clock: Clock, sink: Sink) -> None:
    clock.set(MONDAY_8 + timedelta(minutes=1))
    daemon.tick()
    clock.set(MONDAY_8 + timedelta(days=7, minutes=1))
    runs = daemon.tick()
    assert [(r.status, r.note) for r in runs] == [("skipped", "nothing new to send")]
    assert len(sink.messages) == 3 and _issues(daemon) == 1


def test_min_items_holds_the_issue_back(app: Newsletter, newsletter_dir: Path, clock: Clock, sink: Sink) -> None:
    d = _scheduled(newsletter_dir, clock, 'min_items = 1000')
    clock.set(MONDAY_8 + timedelta(minutes=1))
    runs = d.tick()
    assert runs[0].status == "skipped" and "min_items is 1000" in runs[0].note
    assert sink.messages == []


def test_two_daemons_on_one_database_send_once(daemon: Daemon, newsletter_dir: Path, clock: Clock,
                                               sink: Sink) -> None:
    other = _daemon(newsletter_dir, clock, holder="b")
    clock.set(MONDAY_8 + timedelta(seconds=1))
    assert daemon.acquire() and not other.acquire()
    runs = daemon.tick() + other.tick()
    assert [r.status for r in runs] == ["sent"]
    assert _issues(daemon) == 1 and len(sink.messages) == 3
    # When the active daemon dies, the standby takes over once its lease has expired …
    clock.set(MONDAY_8 + timedelta(days=7, minutes=5))
    assert other.acquire()
    assert not daemon.acquire()
    # … and even a daemon that ignores the lease cannot run a fire time twice.
    assert daemon._claim(runs[0]) is False


def test_gather_can_run_more_often_than_send(app: Newsletter, newsletter_dir: Path, clock: Clock,
                                            sink: Sink) -> None:
    d = _scheduled(newsletter_dir, clock, 'gather_cron = "0 * * * *"')
    clock.set(MONDAY_8 - timedelta(hours=3) + timedelta(minutes=1))
    runs = d.tick()
    assert [(r.job, r.status) for r in runs] == [("gather", "gathered")]
    assert sink.messages == []
    next_runs = d.next_runs()
    assert next_runs["gather"] == MONDAY_8 - timedelta(hours=2)
    assert next_runs["send"] == MONDAY_8


def test_approve_holds_the_issue_until_an_editor_sends_it(app: Newsletter, newsletter_dir: Path, clock: Clock,
                                                         sink: Sink) -> None:
    from helpers.asgi import InProcess, log_in
    from helpers.newsletters import ADMIN_TOKEN

    from newsletter import status
    from newsletter.web import create_app

    d = _scheduled(newsletter_dir, clock, 'approve = true')
    clock.set(MONDAY_8 + timedelta(minutes=1))
    runs = d.tick()
    assert [r.status for r in runs] == ["held"]
    assert "waiting for an editor's approval" in runs[0].note
    assert sink.messages == [] and _issues(d) == 0
    assert status.report(d)["awaiting_approval"]["due_at"] == MONDAY_8.astimezone(UTC).isoformat()
    desk = InProcess(create_app(Newsletter(d.config.replace(web={"admin_token": ADMIN_TOKEN}), store=d.app.store)))
    log_in(desk)
    assert 'id="approval"' in desk.get("/desk/").text
    d.app.send(fetch=False)  # the editor approves: the desk's send button calls the same function
    assert len(sink.messages) == 3
    assert status.report(d)["awaiting_approval"] is None
    assert 'id="approval"' not in desk.get("/desk/").text


def test_a_send_that_failed_is_tried_again_within_grace(app: Newsletter, newsletter_dir: Path, clock: Clock,
                                                       sink: Sink) -> None:
    down = _daemon(newsletter_dir, clock)
    down.anchor()
    broken = Daemon(Newsletter(down.config.replace(smtp={"url": "smtp://127.0.0.1:1"}), store=down.app.store,
                               clock=lambda: clock().astimezone(ALMATY)), clock=clock, holder="a")
    clock.set(MONDAY_8 + timedelta(minutes=1))
    runs = broken.tick()  # the SMTP server is down at 08:00
    assert [r.status for r in runs] == ["failed"] and "cannot connect" in runs[0].note
    clock.set(MONDAY_8 + timedelta(minutes=3))
    assert broken.tick() == []  # not hammered: tried again after a few minutes
    clock.set(MONDAY_8 + timedelta(minutes=10))  # the server is back
    runs = down.tick()
    assert [(r.status, r.due_at) for r in runs] == [("sent", MONDAY_8)]
    assert len(sink.messages) == 3 and _issues(down) == 1
    clock.set(MONDAY_8 + timedelta(minutes=30))
    assert down.tick() == []  # sent once: never again for this fire time


def test_a_stop_that_comes_after_the_last_message_leaves_the_run_sent(app: Newsletter, newsletter_dir: Path,
                                                                      clock: Clock,
                                                                      scripted_smtp: ScriptedServer) -> None:
    # SIGTERM while the last reader's message is being accepted: nothing is left, so the run was not interrupted.
    d = _daemon(newsletter_dir, clock, NEWSLETTER_SMTP_URL=scripted_smtp.url)
    d.anchor()
    scripted_smtp.script.accepting = lambda accepted: d.stop.set() if accepted == 3 else None
    clock.set(MONDAY_8 + timedelta(seconds=5))
    runs = d.tick()
    assert d.stop.is_set() and len(scripted_smtp.messages) == 3
    assert [(r.job, r.status) for r in runs] == [("send", "sent")]
    assert runs[0].note == "issue 1 sent to 3 of 3 subscribers"


def test_a_tick_during_a_run_is_answered_when_the_run_ends(app: Newsletter, newsletter_dir: Path, clock: Clock,
                                                           scripted_smtp: ScriptedServer) -> None:
    # While the first send is being accepted, a week passes and the scheduler ticks: the daemon is
    # busy, so that tick returns at once, and the running tick does next week's work when it ends.
    d = _daemon(newsletter_dir, clock, NEWSLETTER_SMTP_URL=scripted_smtp.url)
    d.anchor()
    during: list[list[Run]] = []

    def next_week_arrives(accepted: int) -> None:
        if accepted == 3:
            clock.set(MONDAY_8 + timedelta(days=7, seconds=5))
            during.append(d.tick())

    scripted_smtp.script.accepting = next_week_arrives
    clock.set(MONDAY_8 + timedelta(seconds=5))
    runs = d.tick()
    assert during == [[]]
    assert [(r.job, r.due_at, r.status) for r in runs] == [
        ("send", MONDAY_8, "sent"), ("send", MONDAY_8 + timedelta(days=7), "skipped")]
    assert d.tick() == []  # nothing is left for the next tick
