"""Local-hour delivery on the system clock: the commands, a `kill -9` mid-wave, `newsletter run` waking, PostgreSQL.

Each queues its issue as if an hour ago, with a ``local_time``
that showed in Almaty half an hour ago: Almaty's readers are due, London's some hours on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from click.testing import CliRunner
from helpers.clock import Clock
from helpers.crash import (
    CONNECTIONS,
    check_everyone_once,
    crash_newsletter,
    send_and_kill,
)
from helpers.newsletters import add_readers, queue_issue, write_config
from helpers.smtp import Script, ScriptedServer, serve_script, wait_for_messages

from newsletter import delivery, schedule
from newsletter.app import Newsletter
from newsletter.cli import cli
from newsletter.config import load
from newsletter.delivery import waves
from newsletter.settings import SmtpSettings
from newsletter.sink import Sink
from newsletter.store import Store, from_db, to_db

ALMATY, LONDON = ZoneInfo("Asia/Almaty"), ZoneInfo("Europe/London")


def just_passed() -> tuple[datetime, str]:
    """Return a queue time an hour ago and the ``local_time`` that showed in Almaty half an hour ago."""
    now = datetime.now(UTC)
    return now - timedelta(hours=1), f"{(now - timedelta(minutes=30)).astimezone(ALMATY):%H:%M}"


def in_london(app: Newsletter, emails: list[str]) -> None:
    """Give these readers London's clock (the others keep the newsletter's, Almaty's)."""
    t = app.store.t.subscribers
    with app.store.begin() as conn:
        conn.execute(t.update().where(t.c.email.in_(emails)).values(timezone="Europe/London"))


def queue_in_waves(app: Newsletter, config: Path) -> tuple[int, datetime]:
    """Queue the next issue an hour ago with a local time just past in Almaty; return its id and London's due time."""
    queued, hour = just_passed()
    config.write_text(config.read_text() + f'\n[schedule]\nlocal_time = "{hour}"\n')
    issue_id, _ = queue_issue(app, due=waves.DueTimes(load(config, environ={}), queued))
    return issue_id, schedule.first_at(queued, schedule.local_time(hour), LONDON)  # type: ignore[arg-type]


def due_times(app: Newsletter) -> dict[str, tuple[str, datetime]]:
    d, s = app.store.t.deliveries, app.store.t.subscribers
    with app.store.begin() as conn:
        return {r.email: (r.status, r.due_at) for r in conn.execute(
            sa.select(s.c.email, d.c.status, d.c.due_at).join(s, s.c.id == d.c.subscriber_id))}


def test_the_commands_list_the_waves_and_send_now_sends_them(tmp_path: Path, documents: Path, sink: Sink) -> None:
    config = write_config(tmp_path, smtp_url=sink.url, sources=[{"path": "inbox"}])
    app = Newsletter(load(config, environ={}))
    add_readers(app, 2)  # r0 in Almaty, r1 in London
    in_london(app, ["r1@example.org"])
    _, london_due = queue_in_waves(app, config)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    report = json.loads(run("deliveries", "1", "--json"))
    assert report["deliveries"]["scheduled"] == 1 and report["deliveries"]["pending"] == 2
    assert report["scheduled"] == [{"email": "r1@example.org", "due_at": london_due.astimezone(LONDON).isoformat()}]
    assert report["waves"][0]["zone"] == "Europe/London" and report["waves"][0]["readers"] == 1

    sent = run("send", "--yes", "--no-gather")
    assert [m.recipients[0] for m in sink.messages] == ["r0@example.org"]  # due; London's is not
    assert "issue 1: 1 reader waits for their local hour; `newsletter run` or `newsletter worker --follow`" in sent
    shown = run("deliveries", "1").splitlines()
    wave = f"Europe/London {london_due.astimezone(LONDON):%H:%M}: 1 reader at "
    assert shown[0] == "issue 1 (sending): 1 sent, 1 pending (1 not yet due), 0 deferred, 0 failed, 0 skipped of 2"
    assert shown[1].startswith(f"wave      {wave}") and shown[1].endswith("+05")
    assert f"  issue 1 waits: {wave}" in run("status")

    run("send", "--yes", "--no-gather", "--now")
    assert sorted(m.recipients[0] for m in sink.messages) == ["r0@example.org", "r1@example.org"]
    assert app.deliveries(1).status == "sent"


def test_kill_9_mid_wave_then_resume_sends_the_due_wave_and_keeps_every_due_time(tmp_path: Path,
                                                                                documents: Path) -> None:
    readers, after = 200, 40  # r0-r99 in Almaty (due), r100-r199 in London (hours away)
    script = Script(stall={f"r{i}@example.org" for i in range(after + CONNECTIONS, 100)})
    with serve_script(script) as server:
        app, config = crash_newsletter(tmp_path, server, readers, {})
        in_london(app, [f"r{i}@example.org" for i in range(100, readers)])
        _, london_due = queue_in_waves(app, config)
        before = due_times(app)
        send_and_kill(config, server, after, {})
        script.stall.clear()
        app.send(fetch=False)  # on the system clock: only Almaty's wave is due
        mailed = Counter(m.recipients[0] for m in server.messages)
        assert set(mailed) == {f"r{i}@example.org" for i in range(100)}
        assert sum(mailed.values()) - len(mailed) <= CONNECTIONS
        after_resume = due_times(app)
        assert {e: due for e, (_, due) in after_resume.items()} == {e: due for e, (_, due) in before.items()}
        assert {status for e, (status, _) in after_resume.items() if int(e[1:].split("@")[0]) >= 100} == {"pending"}
        later = Newsletter(app.config, store=app.store, clock=Clock(london_due))
        later.work()
        check_everyone_once(app, server, readers)


def test_the_daemon_wakes_when_the_next_wave_falls_due(tmp_path: Path, documents: Path, sink: Sink) -> None:
    config = write_config(tmp_path, smtp_url=sink.url, sources=[{"path": "inbox"}],
                          extra='\n[schedule]\ncron = "0 3 1 1 *"\ndoctor = false\n')
    app = Newsletter(load(config, environ={}))
    add_readers(app, 4)
    in_london(app, ["r2@example.org", "r3@example.org"])
    queue_issue(app)  # due at once
    d, s = app.store.t.deliveries, app.store.t.subscribers
    london = sa.select(s.c.id).where(s.c.timezone == "Europe/London")
    wave = datetime.now(UTC) + timedelta(seconds=8)  # as if London's hour came a few seconds from now
    with app.store.begin() as conn:
        conn.execute(d.update().where(d.c.subscriber_id.in_(london)).values(due_at=to_db(wave)))

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    daemon = subprocess.Popen([sys.executable, "-m", "newsletter", "run"], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        woke = wait_for_messages(sink, 4, timeout=60)
    finally:
        daemon.send_signal(signal.SIGTERM)  # it stops at once: nothing is left to send
        _, stderr = daemon.communicate(timeout=60)
    assert woke and daemon.returncode == 0, stderr
    with app.store.begin() as conn:
        sent_at = conn.execute(sa.select(d.c.sent_at).where(d.c.subscriber_id.in_(london))).scalars().all()
    # Woken by the wave's own job: not before its time, and not a minute later when the standby job looks.
    assert all(wave <= from_db(t) < wave + timedelta(seconds=10) for t in sent_at), (wave, sent_at)  # type: ignore
    resumes = [line for line in stderr.splitlines() if line.startswith("resume at ")]
    assert len(resumes) == 2, stderr  # one per wave: no look in between sends or renders anything


def test_two_postgresql_workers_share_each_wave_and_claim_nothing_early(tmp_path: Path, documents: Path,
                                                                        postgres_url: str,
                                                                        scripted_smtp: ScriptedServer) -> None:
    script = scripted_smtp.script
    script.gate = 2  # every message waits until both workers are connected: both take part in each wave
    config = write_config(tmp_path, smtp_url=scripted_smtp.url, sources=[{"path": "inbox"}],
                          extra='\n[schedule]\nlocal_time = "07:00"\n')
    app = Newsletter(load(config, environ={"NEWSLETTER_DATABASE_URL": postgres_url}))
    emails = add_readers(app, 120)
    in_london(app, emails[60:])
    queued = Clock(datetime(2026, 12, 7, 7, 0, tzinfo=ALMATY))
    issue_id, composer = queue_issue(app, due=waves.DueTimes(app.config, queued()))
    stores = [Store(postgres_url) for _ in range(2)]  # two workers, as two hosts would open the database

    def wave(clock: Clock) -> None:
        script.sessions, scripted_smtp.controller.handler.opened = 0, None  # the gate closes again
        workers = [threading.Thread(target=delivery.deliver, args=(store, composer, app.connection), kwargs={
            "issue_id": issue_id, "smtp": SmtpSettings(connections=1, max_rate=10000), "worker": f"w{n}",
            "clock": clock})
            for n, store in enumerate(stores)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)

    wave(queued)
    first = [m.recipients[0] for m in script.accepted]
    assert sorted(first) == sorted(emails[:60]) and len(set(script.peers)) == 2  # Almaty's, once each, by both
    wave(Clock(datetime(2026, 12, 7, 6, 59, 59, tzinfo=UTC)))
    assert len(script.accepted) == 60  # a second before London's hour neither worker claims a row
    wave(Clock(datetime(2026, 12, 7, 7, 0, tzinfo=UTC)))
    got = [m.recipients[0] for m in script.accepted]
    assert sorted(got) == sorted(emails) and len(got) == len(set(got))
    assert len(set(script.peers[60:])) == 2
    assert app.deliveries(1).status == "sent"
    for store in stores:
        store.close()
