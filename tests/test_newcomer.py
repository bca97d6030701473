"""A newcomer's first hour, run as they would: `init`, their own feed and section, a reader,
`newsletter sink` in another terminal, `send --yes`; every step one that docs/first-newsletter.md
gives, the mail arriving in the sink. Then what `init` and `sink` promise on their own."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from helpers.cli import one_line_error, run
from helpers.http import FeedServer

from newsletter.config import load
from newsletter.sink import Sink, free_port

GUIDE = (Path(__file__).parent.parent / "docs" / "first-newsletter.md").read_text(encoding="utf-8")


def guide_commands() -> set[str]:
    """Return every command line of the guide's shell blocks, without its comment."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE, re.DOTALL)
    return {line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()}


def guide_toml() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", GUIDE, re.DOTALL)


def newsletter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command the guide gives, as the user types it."""
    assert " ".join(("newsletter", *args)) in guide_commands(), f"`newsletter {' '.join(args)}` is not in the guide"
    result = run(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


class Background:
    """A command left running in another terminal: its stdout read line by line as it comes."""

    def __init__(self, *args: str, cwd: Path, guided: bool = True, env: dict[str, str] | None = None) -> None:
        assert not guided or " ".join(("newsletter", *args)) in guide_commands()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")} | (env or {})
        self.process = subprocess.Popen([sys.executable, "-m", "newsletter", *args], cwd=cwd, env=environ,
                                        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []

    def wait_for(self, start: str, timeout: float = 60) -> str:
        """Return the first line of stdout that starts with ``start``; fail if the process ends first."""
        assert self.process.stdout is not None
        timer = threading.Timer(timeout, self.process.kill)  # a sink that never says it is ready fails the test
        timer.start()
        try:
            for line in self.process.stdout:
                self.lines.append(line)
                if line.startswith(start):
                    return line.strip()
        finally:
            timer.cancel()
        raise AssertionError(f"it ended first: {''.join(self.lines)}{self.process.stderr and self.process.stderr.read()}")

    def interrupt(self) -> str:
        """Press Ctrl-C; return what it wrote on stderr."""
        self.process.send_signal(signal.SIGINT)
        _, stderr = self.process.communicate(timeout=30)
        return stderr


@pytest.fixture
def background() -> Iterator[list[Background]]:
    started: list[Background] = []
    yield started
    for b in started:
        if b.process.poll() is None:
            b.process.kill()
            b.process.communicate()


def test_a_newcomer_gets_a_first_issue_into_the_sink_using_only_the_guide(
        tmp_path: Path, feed_server: FeedServer, background: list[Background]) -> None:
    # 1. Create it.
    created = newsletter("init", "briefing", cwd=tmp_path)
    folder = tmp_path / "briefing"
    assert "newsletter sink" in created.stdout and "newsletter send --yes" in created.stdout
    # 2. Their feed instead of the example folder, their section instead of the example one, and, as the
    # guide says to when the usual ports are taken (they may be, where tests run), free ports.
    config = folder / "newsletter.toml"
    text = config.read_text(encoding="utf-8")
    source, section = guide_toml()
    assert source.startswith("[[sources]]\nurl = ") and section.startswith("[[sections]]\n")
    smtp_port, web_port = free_port(), free_port()
    text = re.sub(r'\[\[sources\]\]\npath = "inbox"\nname = .*\n',
                  source.replace("https://example.org/feed.xml", feed_server.feed("rss2.xml")), text)
    text = re.sub(r"\[\[sections\]\]\n(.+\n)+", section, text)
    assert "[smtp] url" in GUIDE and "[web] port" in GUIDE
    text = text.replace("smtp://127.0.0.1:1025", f"smtp://127.0.0.1:{smtp_port}")
    text = re.sub(r"(?m)^port = 8000", f"port = {web_port}", text)
    config.write_text(text, encoding="utf-8")
    parsed = tomllib.loads(text)
    assert [s["url"] for s in parsed["sources"]] == [feed_server.feed("rss2.xml")]
    assert [s["name"] for s in parsed["sections"]] == ["Energy"]
    # 3. A reader.
    newsletter("subscribers", "add", "you@example.org", "--confirmed", cwd=folder)
    # 4. The sink in another terminal, then the send.
    sink = Background("sink", cwd=folder)  # its own terminal: a child process left running
    background.append(sink)
    view = sink.wait_for("mail view: ").split()[2]
    assert view == f"http://127.0.0.1:{web_port}/mail/"
    assert any(line.startswith(f"SMTP sink: smtp://127.0.0.1:{smtp_port} ") for line in sink.lines)
    sent = newsletter("send", "--yes", cwd=folder)
    assert "issue 1 sent: 1 sent, 0 deferred, 0 failed" in sent.stdout
    # The message arrived: kept in sink-mail/ as the guide says, and listed in the mail view.
    [eml] = sorted((folder / "sink-mail").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "you@example.org" and message["Subject"].startswith("My Briefing #1")
    assert (folder / "sink-mail" / f"{eml.stem}.html").is_file()
    page = httpx.get(view, timeout=10)
    assert page.status_code == 200 and "you@example.org" in page.text
    assert sink.interrupt().count("Traceback") == 0
    assert not (folder / "templates").exists()  # the built-in templates rendered it


def test_init_writes_a_minimal_commented_config_and_prints_three_steps(tmp_path: Path) -> None:
    result = run("init", "brief", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "brief"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        "inbox", "inbox/welcome.md", "newsletter.toml"]  # no templates: the built-in ones apply
    text = (folder / "newsletter.toml").read_text(encoding="utf-8")
    assert len(re.findall(r"(?m)^\[\[sources\]\]$", text)) == 1 and len(re.findall(r"(?m)^\[\[sections\]\]$", text)) == 1
    assert sum(line.lstrip().startswith("#") or " # " in line for line in text.splitlines()) >= 15
    config = load(folder / "newsletter.toml", environ={})
    assert [s.path for s in config.sources] == ["inbox"] and [s.name for s in config.sections] == ["Economy"]
    assert config.smtp.url == "smtp://127.0.0.1:1025"  # where `newsletter sink` listens
    steps = [line for line in result.stdout.splitlines() if re.match(r"  \d\. ", line)]
    assert [s[:5] for s in steps] == ["  1. ", "  2. ", "  3. "]
    assert f"edit {Path('brief') / 'newsletter.toml'}" in steps[0]
    assert "cd brief && newsletter sink" in steps[1]
    assert "newsletter send --yes" in steps[2]
    (tmp_path / "here").mkdir()
    here = run("init", ".", cwd=tmp_path / "here")
    assert here.returncode == 0 and "cd " not in here.stdout  # in the folder itself: no `cd` to print
    again = run("init", "brief", cwd=tmp_path)
    assert "already exists" in one_line_error(again)


def test_a_new_newsletter_previews_at_once(tmp_path: Path) -> None:
    assert run("init", "brief", cwd=tmp_path).returncode == 0
    assert run("gather", cwd=tmp_path / "brief").returncode == 0
    preview = run("preview", "--text", cwd=tmp_path / "brief")
    assert preview.returncode == 0, preview.stderr
    assert "MY BRIEFING" in preview.stdout and "ECONOMY" in preview.stdout and "IN BRIEF" in preview.stdout


def test_init_demo_copies_the_demo(tmp_path: Path) -> None:
    result = run("init", "--demo", "brief", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "brief"
    assert (folder / "templates" / "issue.mjml").is_file() and any((folder / "sources" / "inbox").iterdir())
    assert load(folder / "newsletter.toml", environ={}).newsletter.title == "Central Asia Briefing"
    assert "next: cd brief && newsletter demo" in result.stdout


def _send(port: int, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("briefing@example.org", [to], f"From: briefing@example.org\r\nTo: {to}\r\n"
                        f"Subject: hello {to}\r\n\r\nHello.\r\n")


def test_sink_listens_where_smtp_url_points_and_keeps_mail_across_restarts(
        tmp_path: Path, background: list[Background]) -> None:
    assert run("init", "brief", cwd=tmp_path).returncode == 0
    folder = tmp_path / "brief"
    config = folder / "newsletter.toml"
    port = free_port()
    config.write_text(config.read_text().replace("smtp://127.0.0.1:1025", f"smtp://127.0.0.1:{port}"))
    kept = folder / "sink-mail"
    for n, reader in enumerate(["ann@example.org", "bob@example.org"], start=1):
        sink = Background("sink", "--web-port", "0", cwd=folder, guided=False)
        background.append(sink)
        before = "" if n == 1 else ", 1 kept from before"
        assert sink.wait_for("SMTP sink: ") == f"SMTP sink: smtp://127.0.0.1:{port} (every message kept in {kept}{before})"
        view = sink.wait_for("mail view: ").split()[2]
        _send(port, reader)  # accepted once the server answered: the file is written before the reply
        assert (kept / f"{n:04d}-{reader}.eml").is_file() and (kept / f"{n:04d}-{reader}.html").exists() is False
        listing = httpx.get(view, timeout=10).text
        assert all(f"hello {r}" in listing for r in ["ann@example.org", "bob@example.org"][:n])
        stderr = sink.interrupt()
        assert "Traceback" not in stderr and "note:" not in stderr


def test_sink_says_when_the_config_does_not_mail_it(tmp_path: Path, background: list[Background]) -> None:
    assert run("init", "brief", cwd=tmp_path).returncode == 0
    folder = tmp_path / "brief"
    port = free_port()
    remote = Background("sink", "--port", str(port), "--web-port", "0", cwd=folder, guided=False,
                        env={"NEWSLETTER_SMTP_URL": "smtp+starttls://user:secret@smtp.example.org:587"})
    background.append(remote)
    assert remote.wait_for("mail view: ")
    stderr = remote.interrupt()
    assert ("note: smtp.url points at smtp.example.org, not this machine: to send here, set "
            f"NEWSLETTER_SMTP_URL=smtp://127.0.0.1:{port}") in stderr
    assert "secret" not in stderr
    elsewhere = Background("sink", "--port", str(port), "--web-port", "0", cwd=folder, guided=False)
    background.append(elsewhere)
    assert elsewhere.wait_for("SMTP sink: ").startswith(f"SMTP sink: smtp://127.0.0.1:{port} ")
    with Sink(port=free_port()) as taken:  # and a port another sink holds is one line
        busy = run("sink", "--port", str(taken.port), "--web-port", "0", cwd=folder)
        assert one_line_error(busy) == f"error: cannot listen on 127.0.0.1:{taken.port}: the port is taken (another sink?)"
    assert ("note: this newsletter mails 127.0.0.1:1025 (smtp.url): to send here, set "
            f"NEWSLETTER_SMTP_URL=smtp://127.0.0.1:{port}") in elsewhere.interrupt()
