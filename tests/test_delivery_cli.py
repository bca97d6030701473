"""The delivery commands as a user runs them: `deliveries`, `send --retry-failed`, `worker`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from helpers.cli import one_line_error, run
from helpers.newsletters import add_readers, queue_issue, write_config
from helpers.smtp import ScriptedServer

from newsletter.app import Newsletter
from newsletter.config import load


def test_deliveries_then_retry_failed_then_worker(tmp_path: Path, scripted_smtp: ScriptedServer) -> None:
    folder = tmp_path / "brief"
    assert run("init", "--demo", str(folder), cwd=tmp_path).returncode == 0
    env = {"NEWSLETTER_SMTP_URL": scripted_smtp.url}
    scripted_smtp.script.rcpt["gone@example.org"] = "550 5.1.1 No such user"
    for email in ("ann@example.org", "gone@example.org"):
        assert run("subscribers", "add", email, "--confirmed", cwd=folder).returncode == 0
    sent = run("send", "--yes", cwd=folder, env=env)
    assert sent.returncode == 0 and "issue 1 sent: 1 sent, 0 deferred, 1 failed" in sent.stdout

    shown = run("deliveries", "1", cwd=folder)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "issue 1 (sent): 1 sent, 0 pending, 0 deferred, 1 failed, 0 skipped of 2"
    assert lines[1] == "failed    gone@example.org  after 1 attempt(s): 550 5.1.1 No such user"
    report = json.loads(run("deliveries", "1", "--json", cwd=folder).stdout)
    assert report["deliveries"]["failed"] == 1 and report["failures"][0]["email"] == "gone@example.org"
    assert "no issue number 9" in one_line_error(run("deliveries", "9", cwd=folder))

    del scripted_smtp.script.rcpt["gone@example.org"]
    retried = json.loads(run("send", "--retry-failed", "--json", cwd=folder, env=env).stdout)
    assert retried["status"] == "retried" and retried["recipients"] == 1
    assert retried["issues"][0]["deliveries"]["sent"] == 2
    assert sorted(m.recipients[0] for m in scripted_smtp.script.accepted) == ["ann@example.org", "gone@example.org"]

    idle = run("worker", cwd=folder, env=env)
    assert idle.returncode == 0 and "no unfinished issue" in idle.stdout


def test_sigterm_stops_a_worker_cleanly(tmp_path: Path, documents: Path, scripted_smtp: ScriptedServer) -> None:
    script = scripted_smtp.script
    script.stall.add("r0@example.org")  # the worker is busy with this reader when it is told to stop
    config = write_config(tmp_path, smtp_url=scripted_smtp.url, sources=[{"path": "inbox"}])
    config.write_text(config.read_text().replace(f'url = "{scripted_smtp.url}"',
                                                 f'url = "{scripted_smtp.url}"\nconnections = 1\ntimeout = 2\ndata_timeout = 2'))
    app = Newsletter(load(config, environ={}))
    add_readers(app, 20)
    queue_issue(app)
    worker = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config), "-q", "worker",
                               "--follow"], env={k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert script.stalled.wait(60)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    counts = app.deliveries(1).counts
    assert (counts.deferred, counts.pending, counts.sent) == (1, 19, 0)  # the one in flight timed out; none lost
    with app.store.begin() as conn:
        held = conn.execute(sa.select(sa.func.count()).where(app.store.t.deliveries.c.claimed_by.is_not(None)))
        assert held.scalar() == 0  # every claim given back for the next worker
