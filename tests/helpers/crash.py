"""Crash safety: a newsletter to kill mid-send, the ``kill -9``, and the check that everyone got the issue once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

from helpers.newsletters import add_readers, write_config
from helpers.smtp import ScriptedServer, wait_for_messages
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.sink import Sink

CONNECTIONS = 4  # the send's connections: at most this many messages are in flight at a kill


def crash_newsletter(folder: Path, sink: Sink | ScriptedServer, readers: int, environ: dict[str, str]) -> tuple[Newsletter, Path]:
    """Write a newsletter with ``readers`` active subscribers and gathered items; return it and its config."""
    config = write_config(folder, smtp_url=sink.url, sources=[{"path": "inbox"}])
    text = config.read_text(encoding="utf-8").replace(
        f'url = "{sink.url}"', f'url = "{sink.url}"\nmax_rate = 10000\nconnections = {CONNECTIONS}')
    config.write_text(text, encoding="utf-8")
    app = Newsletter(load(config, environ=environ))
    add_readers(app, readers)
    app.gather()
    return app, config


def send_and_kill(config: Path, sink: Sink | ScriptedServer, after: int, environ: dict[str, str]) -> None:
    """Start ``newsletter send`` in its own process and SIGKILL it once the sink holds ``after`` messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")} | environ
    process = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config), "-q", "send", "--yes",
                                "--no-gather"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_for_messages(sink, after, timeout=120), process.stderr.read().decode() if process.poll() else ""
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL


def check_everyone_once(app: Newsletter, sink: Sink | ScriptedServer, readers: int) -> int:
    """Assert the issue reached every reader, at most CONNECTIONS of them twice; return the duplicates."""
    got = [m.recipients[0] for m in sink.messages]
    assert sorted(set(got)) == sorted(f"r{i}@example.org" for i in range(readers))
    duplicates = len(got) - len(set(got))
    assert duplicates <= CONNECTIONS
    ids: dict[str, set[str]] = {}
    for m in sink.messages:
        ids.setdefault(m.recipients[0], set()).add(message_from_bytes(m.data, policy=policy.default)["Message-ID"])
    assert all(len(v) == 1 for v in ids.values())  # a repeated message is the same message
    summary = app.deliveries(1)
    assert summary.status == "sent" and summary.counts.sent == readers == summary.counts.total
    return duplicates
