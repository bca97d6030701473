"""The command line, run as a real process: exit codes, one-line errors, --json output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import pytest
from helpers.cli import one_line_error, run, run_on_terminal
from helpers.http import FeedServer, serve
from helpers.newsletters import FIXTURES, write_config

from newsletter.sink import Sink, free_port


@pytest.fixture
def scaffold(tmp_path: Path) -> Path:
    folder = tmp_path / "brief"
    result = run("init", "--demo", str(folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return folder


def test_init_writes_a_working_newsletter(scaffold: Path) -> None:
    assert (scaffold / "newsletter.toml").is_file()
    assert (scaffold / "templates" / "issue.mjml").is_file()
    assert any((scaffold / "sources" / "inbox").iterdir())
    again = run("init", str(scaffold), cwd=scaffold.parent)
    assert "already exists" in one_line_error(again)


def test_gather_json_reports_every_source(scaffold: Path) -> None:
    result = run("gather", "--json", cwd=scaffold)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == 0 and report["new"] > 10
    assert {s["status"] for s in report["sources"]} == {"ok"}
    assert all({"key", "name", "status", "new", "error"} <= s.keys() for s in report["sources"])
    again = json.loads(run("gather", "--json", cwd=scaffold).stdout)
    assert again["new"] == 0


def test_gather_shows_a_bar_on_a_terminal_and_log_lines_otherwise(scaffold: Path) -> None:
    sources = len(json.loads(run("sources", "list", "--json", cwd=scaffold).stdout))
    status, printed = run_on_terminal("gather", cwd=scaffold)
    assert status == 0, printed
    assert re.search(rf"gather \x1b\[[\d;]*m━+.*m\d+/{sources}\b", printed), printed  # the bar, with its count
    assert "to do" not in printed  # not the log lines
    logged = run("sources", "list", cwd=scaffold)  # a pipe: no bar, never an escape sequence
    again = run("gather", cwd=scaffold)
    assert again.returncode == 0 and logged.returncode == 0
    assert f"gather: {sources} to do" in again.stderr and "\x1b[" not in again.stderr


def test_a_command_exits_quickly_yet_leaves_its_store_closed_and_its_output_whole(scaffold: Path) -> None:
    """The CLI skips the interpreter's teardown, not the store's: SQLite folds its log back in."""
    for _ in range(2):
        result = run("gather", "--json", cwd=scaffold)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["failed"] == 0  # flushed whole, to the last brace
        assert sorted(p.name for p in scaffold.glob("newsletter.db*")) == ["newsletter.db"]
    bad = run("--config", str(scaffold / "missing.toml"), "gather", cwd=scaffold)
    assert "missing.toml" in one_line_error(bad)


def test_preview_writes_html_and_text_and_consumes_nothing(scaffold: Path) -> None:
    run("gather", cwd=scaffold)
    out = scaffold / "next.html"
    result = run("preview", "--out", str(out), cwd=scaffold)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").lower().startswith("<!doctype html>")
    text = run("preview", "--text", cwd=scaffold)
    assert text.returncode == 0 and "CENTRAL ASIA BRIEFING" in text.stdout
    assert "Issue 1" in run("preview", "--text", cwd=scaffold).stdout  # still issue 1: nothing consumed


def test_subscribers_round_trip(scaffold: Path, tmp_path: Path) -> None:
    assert run("subscribers", "add", "Ann@Example.org", "--name", "Ann", "--confirmed", cwd=scaffold).returncode == 0
    assert run("subscribers", "add", "bob@example.org", "--sections", "Russia,China", cwd=scaffold).returncode == 0
    duplicate = run("subscribers", "add", "ann@example.org", cwd=scaffold)
    assert "already a subscriber" in one_line_error(duplicate)
    invalid = run("subscribers", "add", "not-an-address", cwd=scaffold)
    assert "invalid email address 'not-an-address'" in one_line_error(invalid)
    csv = tmp_path / "in.csv"
    csv.write_text("email,name,sections,status\n"
                   "carol@example.org,Carol,,active\n"
                   "broken-row,Nobody,,active\n"
                   "dave@example.org,Dave,Energy,weird\n"
                   "erin@example.org,Erin,,\n", encoding="utf-8")
    imported = run("subscribers", "import", str(csv), cwd=scaffold)
    assert imported.returncode == 1  # two rows need fixing; the good ones are in
    assert "2 added" in imported.stdout
    assert f"{csv}:3: invalid email address 'broken-row'" in imported.stderr
    assert f"{csv}:4: unknown status 'weird'" in imported.stderr
    listed = json.loads(run("subscribers", "list", "--json", cwd=scaffold).stdout)
    by_email = {s["email"]: s for s in listed}
    assert set(by_email) == {"Ann@example.org", "bob@example.org", "carol@example.org", "erin@example.org"}
    assert {"email", "name", "status", "sections"} <= by_email["bob@example.org"].keys()
    assert by_email["bob@example.org"]["sections"] == ["Russia", "China"]
    assert by_email["bob@example.org"]["status"] == "pending"
    assert by_email["erin@example.org"]["status"] == "active"
    assert run("subscribers", "remove", "carol@example.org", cwd=scaffold).returncode == 0
    active = json.loads(run("subscribers", "list", "--status", "active", "--json", cwd=scaffold).stdout)
    assert sorted(s["email"] for s in active) == ["Ann@example.org", "erin@example.org"]
    exported = run("subscribers", "export", cwd=scaffold).stdout.splitlines()
    assert exported[0] == "email,name,sections,status,language,timezone"
    assert '"bob@example.org,Bob"' not in exported and "bob@example.org,,\"Russia,China\",pending,," in exported
    # A re-import never brings back someone who unsubscribed.
    csv.write_text("email,name,sections,status\ncarol@example.org,Carol,,active\n", encoding="utf-8")
    run("subscribers", "import", str(csv), cwd=scaffold)
    assert json.loads(run("subscribers", "list", "--json", cwd=scaffold).stdout)[2]["status"] == "unsubscribed"


def test_send_json_then_nothing_new(scaffold: Path, sink: Sink) -> None:
    env = {"NEWSLETTER_SMTP_URL": sink.url}
    run("subscribers", "add", "ann@example.org", "--confirmed", cwd=scaffold)
    refused = run("send", cwd=scaffold, env=env)
    assert "--yes" in one_line_error(refused)
    assert sink.messages == []
    result = run("send", "--yes", "--json", cwd=scaffold, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "sent"
    assert report["issues"][0]["deliveries"]["sent"] == 1
    assert [m.recipients for m in sink.messages] == [("ann@example.org",)]
    subject = message_from_bytes(sink.messages[0].data, policy=policy.default)["Subject"]
    assert subject.startswith("Central Asia Briefing #1: ")
    again = run("send", "--yes", cwd=scaffold, env=env)
    assert again.returncode == 0 and "nothing new" in again.stdout
    assert len(sink.messages) == 1


def test_send_without_yes_off_a_terminal_refuses_before_any_work(tmp_path: Path) -> None:
    with serve() as web:
        write_config(tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}",
                     sources=[{"url": web.static("/feed.xml", (FIXTURES / "feeds" / "rss2.xml").read_bytes())}])
        refused = run("send", cwd=tmp_path, input="")
        assert one_line_error(refused) == (
            "error: not on a terminal, so nobody can confirm: run `newsletter send --yes` to send")
        assert web.requests == []  # nothing fetched
    assert not (tmp_path / "state.db").exists()  # nor the store opened
    assert refused.stdout == ""


def test_send_on_a_terminal_asks_y_slash_n_and_no_is_the_default(scaffold: Path) -> None:
    run("subscribers", "add", "ann@example.org", "--confirmed", cwd=scaffold)
    status, printed = run_on_terminal("send", cwd=scaffold, until="[y/N]: ", answer="\r")
    assert status == 0, printed
    assert re.search(r"Send issue 1 ['\"]Central Asia Briefing #1: .*['\"] to 1 subscribers\? \[y/N\]: ", printed)
    assert "cancelled" in printed  # Enter alone is no: nothing was queued
    assert "Issue 1" in run("preview", "--text", cwd=scaffold).stdout


def test_status_shows_times_in_the_newsletters_zone(scaffold: Path) -> None:
    from newsletter.app import Newsletter
    from newsletter.config import load
    from newsletter.daemon import Daemon

    app = Newsletter(load(scaffold / "newsletter.toml", environ={}))  # Asia/Almaty: +05
    Daemon(app, holder="host-1").acquire()  # a daemon holds the lease
    with app.store.begin() as conn:
        conn.execute(app.store.t.schedule_runs.insert().values(
            job="send", due_at=datetime(2026, 12, 7, 3, 0, 0, 123456), status="skipped", note="nothing new to send",
            holder="host-1", started_at=datetime(2026, 12, 7, 3, 0, 1)))
    app.close()
    result = run("status", cwd=scaffold)
    assert result.returncode == 0, result.stderr
    shown = r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d \+05"
    assert re.search(rf"^next send: {shown}$", result.stdout, re.MULTILINE) and "08:00 +05" in result.stdout
    assert re.search(rf"^daemon: host-1 \(lease until {shown}\)$", result.stdout, re.MULTILINE)
    assert "  send 7 Dec 2026 08:00 +05: skipped nothing new to send" in result.stdout.splitlines()
    assert not re.search(r"\+05:00|UTC|\d\d:\d\d:\d\d|T\d\d:", result.stdout)  # no ISO, no seconds, no UTC
    machine = json.loads(run("status", "--json", cwd=scaffold).stdout)
    assert machine["recent_runs"][0]["due_at"] == "2026-12-07T03:00:00.123456+00:00"  # --json keeps ISO 8601


def test_gather_says_not_modified_with_the_items_stored(tmp_path: Path) -> None:
    with serve() as web:
        write_config(tmp_path, smtp_url="smtp://127.0.0.1:25",
                     sources=[{"url": web.static("/feed.xml", (FIXTURES / "feeds" / "rss2.xml").read_bytes()),
                               "name": "Wire"}])
        first = run("gather", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "ok           Wire: 3 new, 3 in source" in first.stdout.splitlines()
        again = run("gather", cwd=tmp_path)
        assert web.hits("/feed.xml")[-1].headers.get("if-none-match")  # a conditional GET, answered 304
    assert again.returncode == 0, again.stderr
    assert "not-modified Wire: not modified (3 items stored)" in again.stdout.splitlines()
    assert json.loads(run("gather", "--json", cwd=tmp_path).stdout)["sources"][0]["status"] == "error"  # server gone


def test_status_json_after_a_send(scaffold: Path, sink: Sink) -> None:
    run("subscribers", "add", "ann@example.org", "--confirmed", cwd=scaffold)
    run("subscribers", "add", "bob@example.org", "--confirmed", cwd=scaffold)
    assert run("send", "--yes", cwd=scaffold, env={"NEWSLETTER_SMTP_URL": sink.url}).returncode == 0
    asked = datetime.now(UTC)  # before the command: its "now" is later, whenever this runs
    result = run("status", "--json", cwd=scaffold)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    send = datetime.fromisoformat(status["next_runs"]["send"])  # cron "0 8 * * mon" in Asia/Almaty
    assert asked <= send <= asked + timedelta(days=7) and (send.weekday(), send.hour, send.minute) == (0, 8, 0)
    assert send.utcoffset() == datetime.now(ZoneInfo("Asia/Almaty")).utcoffset()
    last = status["last_issue"]
    assert (last["number"], last["status"]) == (1, "sent") and last["subject"].startswith("Central Asia Briefing #1")
    assert last["deliveries"]["sent"] == 2 and last["deliveries"]["failed"] == 0
    sources = {s["name"]: s for s in status["sources"]}
    assert len(sources) == 4 and "Editors' briefings" in sources
    assert all(s["status"] == "ok" and s["failures"] == 0 and s["last_success_at"] for s in sources.values())


def test_dry_run_and_test_copy(scaffold: Path, sink: Sink) -> None:
    env = {"NEWSLETTER_SMTP_URL": sink.url}
    run("subscribers", "add", "ann@example.org", "--confirmed", cwd=scaffold)
    dry = json.loads(run("send", "--dry-run", "--json", cwd=scaffold, env=env).stdout)
    assert dry["status"] == "dry-run" and dry["recipients"] == 1 and sink.messages == []
    test = run("send", "--to", "editor@example.org", cwd=scaffold, env=env)
    assert test.returncode == 0 and [m.recipients for m in sink.messages] == [("editor@example.org",)]


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    error = one_line_error(run("gather", cwd=tmp_path))
    assert "config file not found: newsletter.toml" in error


def test_bad_config_names_the_key_and_file(scaffold: Path) -> None:
    config = scaffold / "newsletter.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("max_rate = 50", 'max_rate = "fast"'))
    error = one_line_error(run("gather", cwd=scaffold))
    assert "smtp.max_rate" in error and "newsletter.toml" in error


def test_unreachable_smtp_is_one_line_and_queues_nothing(scaffold: Path) -> None:
    env = {"NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    run("subscribers", "add", "ann@example.org", "--confirmed", cwd=scaffold)
    error = one_line_error(run("send", "--yes", cwd=scaffold, env=env))
    assert "cannot connect to SMTP server" in error
    preview = run("preview", "--text", cwd=scaffold)
    assert "Issue 1" in preview.stdout  # nothing was consumed or numbered


def test_malformed_feed_fails_gather_but_keeps_the_rest(tmp_path: Path, feed_server: FeedServer) -> None:
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:25", sources=[
        {"url": feed_server.feed("malformed.xml")}, {"url": feed_server.feed("rss2.xml")}])
    result = run("gather", cwd=tmp_path)
    assert one_line_error(result) == "error: 1 source(s) failed (see above)"
    assert "malformed.xml" in result.stdout and "not a valid feed" in result.stdout
    assert "3 new items" in result.stdout


def test_broken_template_is_one_line(scaffold: Path, sink: Sink) -> None:
    (scaffold / "templates" / "issue.mjml").write_text("<mjml><mj-body>{% if %}</mj-body></mjml>")
    run("subscribers", "add", "ann@example.org", "--confirmed", cwd=scaffold)
    error = one_line_error(run("send", "--yes", cwd=scaffold, env={"NEWSLETTER_SMTP_URL": sink.url}))
    assert "issue.mjml line 1" in error
    assert sink.messages == []


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert run("send", "--no-such-flag", cwd=tmp_path).returncode == 2
    assert run("no-such-command", cwd=tmp_path).returncode == 2


def test_demo_sends_to_the_embedded_sink(scaffold: Path) -> None:
    result = run("demo", cwd=scaffold)
    assert result.returncode == 0, result.stderr
    mail = scaffold / "demo-output" / "mail"
    emls = sorted(mail.glob("*.eml"))
    assert len(emls) == 3
    assert len(sorted(mail.glob("*.html"))) == 3
    assert "issue 1 sent: 3 sent" in result.stdout
    assert (scaffold / "demo-output" / "index.html").is_file()
    assert not (scaffold / "newsletter.db").exists()  # the demo keeps its own state
    # It prints where to look: the folder of delivered mail, and a page linking every message.
    printed = re.search(r"^delivered mail: (.+) \((\d+) messages, \.eml and \.html\)$", result.stdout, re.MULTILINE)
    assert printed and (scaffold / printed.group(1)).resolve() == mail.resolve() and printed.group(2) == "3"
    page = re.search(r"^open in a browser: (file://\S+)$", result.stdout, re.MULTILINE)
    assert page
    index = Path(unquote(urlparse(page.group(1)).path))
    assert index == (scaffold / "demo-output" / "index.html").resolve()
    links = index.read_text(encoding="utf-8")
    assert all(f'href="mail/{eml.stem}.html"' in links and f'href="mail/{eml.name}"' in links for eml in emls)


def test_gather_reads_many_feeds_in_worker_processes(tmp_path: Path, feed_server: FeedServer) -> None:
    # Eight sources or more in a single-threaded process: feeds are read by forked workers.
    names = ["rss2.xml", "atom.xml", "noguid.xml"]
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:25", sources=[
        {"url": feed_server.feed(names[n % 3]) + f"?copy={n}"} for n in range(9)] + [
        {"url": feed_server.feed("malformed.xml")}])
    # The pool path is the one this test exercises, and every worker was forked before the pool
    # returned, while the process still had one thread (gh-90622).
    probe = subprocess.run([sys.executable, "-c", (
        "import multiprocessing, os, threading; from newsletter.gather import processes; "
        "before = threading.active_count(); pool = processes.pool(10); "
        "print(pool is not None, before, len(multiprocessing.active_children()) == min(os.cpu_count(), 4))")],
        capture_output=True, text=True, timeout=60)
    assert probe.stdout.split() == ["True", "1", "True"]
    result = run("gather", "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    by_status = {s["key"].rsplit("/", 1)[1]: (s["status"], s["new"]) for s in report["sources"]}
    assert by_status["malformed.xml"][0] == "error"
    assert [by_status[f"{names[n % 3]}?copy={n}"] for n in range(9)] == [
        ("ok", 3), ("ok", 2), ("ok", 3)] * 3
    assert report["new"] == 24
