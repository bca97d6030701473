"""Crash safety with a real ``kill -9`` of a real ``newsletter send``: sending again finishes the issue.

Everyone gets the issue; nobody gets it twice, except at most the messages in
flight at the kill, which the design bounds by the number of connections.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from helpers.crash import (
    CONNECTIONS,
    check_everyone_once,
    crash_newsletter,
    send_and_kill,
)
from helpers.smtp import Script, serve_script, wait_for_messages

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.sink import Sink


@pytest.mark.parametrize(("after", "pipelining"), [(1, False), (120, False), (295, False), (120, True)])
def test_kill_9_mid_send_then_send_again_delivers_everyone_once(tmp_path: Path, documents: Path,
                                                                after: int, pipelining: bool) -> None:
    """Killed once ``after`` readers have the issue; the server holds the rest, so the send cannot finish first.

    With PIPELINING each connection writes its next envelope before its previous outcome is committed.
    """
    readers = 300
    script = Script(stall={f"r{i}@example.org" for i in range(after + CONNECTIONS, readers)}, pipelining=pipelining)
    with serve_script(script) as server:
        app, config = crash_newsletter(tmp_path, server, readers, {})
        send_and_kill(config, server, after, {})
        script.stall.clear()
        report = app.send(fetch=False)
        assert report.issues and report.issues[0].resumed
        check_everyone_once(app, server, readers)


def test_subscribers_added_after_the_crash_wait_for_the_next_issue(tmp_path: Path, documents: Path,
                                                                   sink: Sink) -> None:
    app, config = crash_newsletter(tmp_path, sink, 50, {})
    send_and_kill(config, sink, 10, {})
    subscribers.add(app.store, "late@example.org", status="active")
    app.send(fetch=False)
    assert "late@example.org" not in [m.recipients[0] for m in sink.messages]  # the outbox was fixed at queueing
    check_everyone_once(app, sink, 50)


def test_a_worker_paused_past_its_lease_sends_nothing_it_held(tmp_path: Path, documents: Path, sink: Sink) -> None:
    """A stopped (or suspended) sender loses its rows to another worker, and sends none of them on waking."""
    readers = 150
    app, config = crash_newsletter(tmp_path, sink, readers, {})
    text = config.read_text(encoding="utf-8").replace("max_rate = 10000", "max_rate = 40\nlease = 2")
    config.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    paused = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config), "-q", "send", "--yes",
                               "--no-gather"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_for_messages(sink, 10, timeout=120)
        os.kill(paused.pid, signal.SIGSTOP)  # it holds the claim on every row and has most of them queued
        held_before = len(sink.messages)
        assert held_before < readers
        other = Newsletter(load(config, environ={}))
        report = other.send(fetch=False)  # waits for the paused worker's lease to lapse, then takes over
        assert report.issues and report.issues[0].resumed
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    _, errors = paused.communicate(timeout=120)
    assert paused.returncode == 0, errors.decode()
    assert check_everyone_once(app, sink, readers) <= CONNECTIONS  # only what was on the wire at the pause


def signing_children(parent: int) -> list[int]:
    """Return the DKIM signing processes (``python -m newsletter.email.signing``) whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # it ended meanwhile
        if int(stat.rpartition(")")[2].split()[1]) == parent and b"newsletter.email.signing" in command:
            found.append(int(entry.name))
    return found


def test_kill_9_mid_send_with_dkim_then_send_again_delivers_everyone_once_signed(tmp_path: Path,
                                                                                  documents: Path) -> None:
    """The send signs in a child process of its own: killed mid-send, the child ends with it; the resumed
    send delivers everyone once, every copy, duplicates too, signed with a signature that verifies."""
    readers, after = 200, 60
    key = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "dkim.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    script = Script(stall={f"r{i}@example.org" for i in range(after + CONNECTIONS, readers)})
    with serve_script(script) as server:
        _, config = crash_newsletter(tmp_path, server, readers, {})
        with config.open("a", encoding="utf-8") as f:
            f.write('\n[dkim]\nselector = "brief"\ndomain = "example.org"\nkey_file = "dkim.pem"\n')
        app = Newsletter(load(config, environ={}))
        assert app.dkim is not None and app.dkim.algorithm == "ed25519-sha256"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        sender = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config), "-q", "send", "--yes",
                                   "--no-gather"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for_messages(server, after, timeout=120)
            children = signing_children(sender.pid)
            ends = [os.pidfd_open(pid) for pid in children]  # opened while the pids are surely theirs
        finally:
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait()
        assert sender.returncode == -signal.SIGKILL
        assert len(children) == 1  # the killed send was signing in a child process
        try:  # with its parent gone, its pipe closes and it ends: readable once it has
            assert select.select(ends, [], [], 30)[0] == ends, f"signing process {children[0]} outlived its parent"
        finally:
            for end in ends:
                os.close(end)
        script.stall.clear()
        report = app.send(fetch=False)
        assert report.issues and report.issues[0].resumed
        duplicates = check_everyone_once(app, server, readers)
    record = app.dkim.public.encode()

    def verifies(message: bytes) -> bool:
        return bool(dkim.verify(message, dnsfunc=lambda name, timeout=5: record
                                if name == b"brief._domainkey.example.org." else None))
    assert [m.recipients[0] for m in server.messages if not verifies(m.data)] == []
    assert not verifies(server.messages[0].data.replace(b"\r\nSubject: ", b"\r\nSubject: Re: ", 1))  # it can fail
    assert len(server.messages) == readers + duplicates
    assert signing_children(os.getpid()) == []  # the resumed send's own signing process ended with it
