"""`newsletter run` as a real process: SIGTERM during a send checkpoints; a restart resumes it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from helpers.newsletters import write_config

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.sink import free_port

READERS = 30


class GatedServer:
    """An SMTP server that accepts ``open_for`` messages, then holds every answer until ``release``."""

    def __init__(self, open_for: int) -> None:
        self.open_for = open_for
        self.received: list[str] = []
        self.changed = threading.Condition()
        self.gate = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            held = len(self.received) >= self.open_for
        if held:
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait)
        with self.changed:
            self.received.extend(envelope.rcpt_tos)
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.received) >= count, timeout)


def _start(folder: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return subprocess.Popen([sys.executable, "-m", "newsletter", "run"], cwd=folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _log_until(process: subprocess.Popen[str], text: str) -> str:
    """Return what ``process`` logged up to and including the first line that contains ``text``."""
    assert process.stderr is not None
    seen = []
    timer = threading.Timer(60, process.kill)  # one that never says it fails the test instead of hanging it
    timer.start()
    try:
        for line in process.stderr:
            seen.append(line)
            if text in line:
                return "".join(seen)
    finally:
        timer.cancel()
    raise AssertionError(f"the process ended first: {''.join(seen)}")


def _statuses(app: Newsletter) -> Counter[str]:
    with app.store.begin() as conn:
        return Counter(r[0] for r in conn.execute(sa.select(app.store.t.deliveries.c.status)))


@pytest.fixture
def gated() -> Any:
    server = GatedServer(open_for=5)
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    yield server, port
    server.gate.set()
    controller.stop()


def test_sigterm_during_a_send_checkpoints_and_a_restart_resumes(tmp_path: Path, documents: Path,
                                                                 gated: Any) -> None:
    server, port = gated
    write_config(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}", sources=[{"path": "inbox"}],
                 extra='\n[schedule]\ncron = "* * * * *"\ndoctor = false\n')
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
    for n in range(READERS):
        subscribers.add(app.store, f"reader{n:02d}@example.org", status="active")
    with app.store.begin() as conn:  # scheduling began a while ago, so the last minute's run is due
        start = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
        conn.execute(app.store.t.meta.insert().values(key="schedule.anchor", value=start))

    daemon = _start(tmp_path)
    try:
        assert server.wait_for(5), "the daemon did not start sending"
        # APScheduler's job store is a table in the newsletter's own database, holding the daemon's jobs.
        assert "apscheduler_jobs" in sa.inspect(app.store.engine).get_table_names()
        with app.store.begin() as conn:
            jobs = set(conn.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars())
        assert jobs == {"send", "lease", "standby"}
        daemon.send_signal(signal.SIGTERM)
        logged = _log_until(daemon, "received SIGTERM")  # the daemon stops taking messages before it says so
        server.gate.set()  # let the messages in flight complete
        _, stderr = daemon.communicate(timeout=60)
        stderr = logged + stderr
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, stderr
    assert "received SIGTERM" in stderr and "stopped" in stderr
    assert len([line for line in stderr.splitlines() if ": interrupted: stopped by a signal" in line]) == 1, stderr
    first = _statuses(app)
    assert 5 <= first["sent"] < READERS  # it stopped part-way instead of finishing the issue
    assert first["sent"] == len(server.received)  # everything accepted was recorded, nothing more
    with app.store.begin() as conn:
        assert conn.execute(sa.select(app.store.t.issues.c.status)).scalar() == "sending"
        runs = conn.execute(sa.select(app.store.t.schedule_runs.c.status)).scalars().all()
    assert runs == ["interrupted"]

    restarted = _start(tmp_path)
    try:
        assert server.wait_for(READERS), "the restarted daemon did not resume the issue"
        restarted.send_signal(signal.SIGTERM)
        _, stderr = restarted.communicate(timeout=60)
    finally:
        if restarted.poll() is None:
            restarted.kill()
    assert restarted.returncode == 0, stderr
    assert len([line for line in stderr.splitlines() if line.startswith("resume at ")]) == 1, stderr  # logged once
    counts = Counter(server.received)
    assert len(counts) == READERS and set(counts.values()) == {1}  # everyone once, nobody twice
    assert _statuses(app) == Counter(sent=READERS)
    with app.store.begin() as conn:
        assert conn.execute(sa.select(app.store.t.issues.c.status)).scalar() == "sent"
        assert conn.execute(sa.select(sa.func.count()).select_from(app.store.t.issues)).scalar() == 1
