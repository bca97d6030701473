"""Delivery outcomes against a real, scripted aiosmtpd server: retries, backoff, bounces, drops, stalls."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from helpers.newsletters import queue_issue, write_config
from helpers.smtp import Script, ScriptedHandler, ScriptedServer

from newsletter import delivery, subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.delivery import outbox
from newsletter.delivery.recorder import Recorder
from newsletter.error import SmtpError
from newsletter.progress import Silent
from newsletter.sink import free_port

Make = Callable[..., Newsletter]


@pytest.fixture
def make(tmp_path: Path, documents: Path) -> Make:
    """Return a factory: a newsletter on the documents folder, mailing ``emails`` through ``url``."""

    def make(url: str, emails: list[str], **smtp: object) -> Newsletter:
        if not (tmp_path / "newsletter.toml").exists():
            write_config(tmp_path, smtp_url=url, sources=[{"path": "inbox"}])
        settings = {"retry_delay": 0.0, "retry_window": 0.0, "connections": 2, **smtp}
        app = Newsletter(load(tmp_path / "newsletter.toml", environ={}).replace(smtp={"url": url, **settings}))
        for email in emails:
            subscribers.add(app.store, email, status="active")
        return app

    return make


def add_document(folder: Path, n: int) -> None:
    """Give the next issue something new to carry."""
    port, goods = [("Aktau", "grain"), ("Baku", "steel"), ("Turkmenbashi", "cotton")][n % 3]
    (folder / f"2026-12-{n:02d}-note.txt").write_text(
        f"{port} opens a {goods} terminal\nThe port of {port} opened terminal {n} this week.\n"
        f"Its operators expect {n * 40} ships carrying {goods} in the first year.\n", encoding="utf-8")


def rows(app: Newsletter) -> dict[str, dict]:
    """Return the deliveries of the newsletter by subscriber email."""
    d, s = app.store.t.deliveries, app.store.t.subscribers
    with app.store.begin() as conn:
        found = conn.execute(sa.select(d, s.c.email, s.c.bounces, s.c.status.label("subscriber"))
                             .join(s, s.c.id == d.c.subscriber_id).order_by(d.c.id)).mappings().all()
    return {r["email"]: dict(r) for r in found}


def received(server: ScriptedServer) -> list[str]:
    return sorted(m.recipients[0] for m in server.script.accepted)


def test_a_busy_recipient_is_retried_with_backoff_within_the_run(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["busy@example.org"] = ["451 4.3.0 Try later", "451 4.3.0 Try later"]
    app = make(scripted_smtp.url, ["a@example.org", "busy@example.org"], retry_delay=0.01, retry_window=60)
    counts = app.send().issues[-1].counts
    assert (counts.sent, counts.deferred, counts.failed) == (2, 0, 0)
    assert scripted_smtp.script.attempts["busy@example.org"] == 3
    assert rows(app)["busy@example.org"]["attempts"] == 3
    assert received(scripted_smtp) == ["a@example.org", "busy@example.org"]


def test_backoff_doubles_from_the_retry_delay(make: Make, scripted_smtp: ScriptedServer) -> None:
    app = make(scripted_smtp.url, [])
    recorder = Recorder(app.store, max_attempts=5, retry_delay=30, bounce_limit=2, worker="host:1:1:a")
    assert [recorder.backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert recorder.backoff(40) == 86_400  # capped at a day


def test_a_deferral_not_yet_due_waits_for_a_later_run(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["busy@example.org"] = "451 4.3.0 Try later"
    app = make(scripted_smtp.url, ["a@example.org", "busy@example.org"], retry_delay=3600)
    first = app.send().issues[-1].counts
    assert (first.sent, first.deferred) == (1, 1)
    row = rows(app)["busy@example.org"]
    assert row["status"] == "deferred" and "451" in row["last_error"]
    assert row["next_attempt_at"] - row["updated_at"] == timedelta(seconds=3600)
    again = app.send()  # too early: the backoff holds across runs
    assert again.issues[0].resumed and again.issues[0].counts.deferred == 1
    assert scripted_smtp.script.attempts["busy@example.org"] == 1
    assert app.deliveries(1).status == "sending"


def test_a_due_deferral_is_sent_by_the_next_run_exactly_once(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["busy@example.org"] = "451 4.3.0 Try later"
    app = make(scripted_smtp.url, ["a@example.org", "busy@example.org"])
    assert app.send().issues[-1].counts.deferred == 1
    del scripted_smtp.script.rcpt["busy@example.org"]
    report = app.send()
    assert report.issues[0].resumed and report.issues[0].counts.sent == 2
    assert received(scripted_smtp) == ["a@example.org", "busy@example.org"]
    assert app.deliveries(1).status == "sent"


def test_a_recipient_that_stays_busy_fails_after_max_attempts(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["busy@example.org"] = "452 4.2.2 Mailbox full"
    app = make(scripted_smtp.url, ["a@example.org", "busy@example.org"], retry_delay=0.01, retry_window=60,
               max_attempts=3)
    counts = app.send().issues[-1].counts
    assert (counts.sent, counts.failed, counts.deferred) == (1, 1, 0)
    row = rows(app)["busy@example.org"]
    assert row["attempts"] == 3 and row["last_error"].startswith("gave up after 3 attempts: 452")
    assert scripted_smtp.script.attempts["busy@example.org"] == 3
    assert row["subscriber"] == "active" and row["bounces"] == 0  # a temporary failure is no bounce


def test_permanent_refusals_fail_and_bounce_the_subscriber_after_the_limit(
        make: Make, scripted_smtp: ScriptedServer, documents: Path) -> None:
    script = scripted_smtp.script
    script.rcpt["gone@example.org"] = "550 5.1.1 No such user"
    script.rcpt["flaky@example.org"] = ["550 5.1.1 No such user"]
    app = make(scripted_smtp.url, ["a@example.org", "gone@example.org", "flaky@example.org"], bounce_limit=2)
    first = app.send().issues[-1].counts
    assert (first.sent, first.failed) == (1, 2)
    after = rows(app)
    assert after["gone@example.org"]["status"] == "failed" and "550 5.1.1" in after["gone@example.org"]["last_error"]
    assert (after["gone@example.org"]["bounces"], after["gone@example.org"]["subscriber"]) == (1, "active")
    add_document(documents, 1)
    assert app.send().issues[-1].counts.sent == 2
    assert subscribers.get(app.store, "gone@example.org").status == "bounced"
    assert rows(app)["flaky@example.org"]["bounces"] == 0  # delivered this time: the count starts again
    add_document(documents, 2)
    third = app.send().issues[-1]
    assert third.counts.total == 2  # the bounced reader is no longer queued
    assert [m.recipients[0] for m in script.accepted].count("gone@example.org") == 0


def test_a_refused_message_fails_without_counting_as_a_bounce(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.data["spam@example.org"] = "554 5.7.1 Message rejected as spam"
    app = make(scripted_smtp.url, ["a@example.org", "spam@example.org"], bounce_limit=1)
    counts = app.send().issues[-1].counts
    assert (counts.sent, counts.failed) == (1, 1)
    row = rows(app)["spam@example.org"]
    assert "554 5.7.1" in row["last_error"] and row["bounces"] == 0 and row["subscriber"] == "active"


def test_a_refused_sender_stops_the_run_and_fails_nobody(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.mail = "550 5.7.1 Sender not allowed"
    app = make(scripted_smtp.url, ["a@example.org", "b@example.org"])
    with pytest.raises(SmtpError, match=r"refused the sender briefing@example.org: 550 5.7.1 .* run `newsletter send`"):
        app.send()
    assert {r["status"] for r in rows(app).values()} == {"pending"}
    assert {r["bounces"] for r in rows(app).values()} == {0}
    scripted_smtp.script.mail = None
    assert app.send().issues[0].counts.sent == 2
    assert received(scripted_smtp) == ["a@example.org", "b@example.org"]


def test_a_relay_that_refuses_everyone_stops_the_run_and_bounces_nobody(
        make: Make, scripted_smtp: ScriptedServer) -> None:
    readers = [f"r{n}@example.org" for n in range(6)]
    for email in readers:  # an allow-list change at the relay: every recipient is refused by policy
        scripted_smtp.script.rcpt[email] = "554 5.7.1 Relay access denied"
    app = make(scripted_smtp.url, readers, bounce_limit=1)
    with pytest.raises(SmtpError, match=r"refused to relay for briefing@example.org: 554 5.7.1 Relay access denied"):
        app.send()
    assert {r["status"] for r in rows(app).values()} <= {"pending", "deferred"}  # nobody failed
    assert {r["bounces"] for r in rows(app).values()} == {0}
    assert {subscribers.get(app.store, e).status for e in readers} == {"active"}
    scripted_smtp.script.rcpt.clear()  # the relay is fixed: the issue goes out to everyone
    assert app.send().issues[0].counts.sent == 6


def test_a_policy_refusal_after_others_got_through_fails_that_reader_without_a_bounce(
        make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["blocked@example.org"] = "550 5.7.1 Recipient blocked by policy"
    app = make(scripted_smtp.url, ["a@example.org", "b@example.org", "blocked@example.org"], bounce_limit=1,
               connections=1)
    counts = app.send().issues[0].counts
    assert (counts.sent, counts.failed) == (2, 1)
    row = rows(app)["blocked@example.org"]
    assert row["status"] == "failed" and row["bounces"] == 0 and row["subscriber"] == "active"


@pytest.mark.parametrize("pipelining", [True, False])
def test_outcomes_are_the_same_with_and_without_pipelining(
        make: Make, scripted_smtp: ScriptedServer, pipelining: bool) -> None:
    script = scripted_smtp.script
    script.pipelining = True  # the server offers it; the setting decides
    script.rcpt.update({"gone@example.org": "550 5.1.1 No such user", "busy@example.org": "451 4.3.0 Later"})
    script.data["spam@example.org"] = "554 5.7.1 Spam"
    emails = ["a@example.org", "gone@example.org", "busy@example.org", "spam@example.org", "z@example.org"]
    app = make(scripted_smtp.url, emails, pipelining=pipelining, connections=1)
    connection = app.connection()
    connection.open()
    assert connection.pipelined is pipelining
    connection.close()
    app.send()
    states = {email: (r["status"], r["last_error"][:3] if r["last_error"] else None) for email, r in rows(app).items()}
    assert states == {"a@example.org": ("sent", None), "gone@example.org": ("failed", "550"),
                      "busy@example.org": ("deferred", "451"), "spam@example.org": ("failed", "554"),
                      "z@example.org": ("sent", None)}
    assert received(scripted_smtp) == ["a@example.org", "z@example.org"]
    assert script.sessions == 3  # ours, the check and one session: refusals do not cost a reconnect


def test_connections_are_persistent_and_shared_by_the_pool(make: Make, scripted_smtp: ScriptedServer) -> None:
    emails = [f"r{i}@example.org" for i in range(40)]
    app = make(scripted_smtp.url, emails, connections=3)
    assert app.send().issues[-1].counts.sent == 40
    assert received(scripted_smtp) == sorted(emails)
    assert scripted_smtp.script.sessions <= 4  # one check before queueing, then at most three for the issue


def test_a_dropped_connection_defers_that_message_and_reconnects(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.drop.add("b@example.org")
    app = make(scripted_smtp.url, ["a@example.org", "b@example.org", "c@example.org", "d@example.org"],
               connections=1)
    counts = app.send().issues[-1].counts
    assert (counts.sent, counts.deferred) == (3, 1)
    assert "lost" in rows(app)["b@example.org"]["last_error"]
    assert scripted_smtp.script.sessions == 3  # check, first session, the one reopened after the drop
    scripted_smtp.script.drop.clear()
    assert app.send().issues[0].counts.sent == 4
    assert received(scripted_smtp) == ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]


def test_a_stalled_server_times_out_and_the_message_is_deferred(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.stall.add("slow@example.org")
    app = make(scripted_smtp.url, ["a@example.org", "slow@example.org", "z@example.org"], timeout=1.0,
               data_timeout=1.0, connections=1)
    counts = app.send().issues[-1].counts
    assert (counts.sent, counts.deferred) == (2, 1)
    assert "timed out" in rows(app)["slow@example.org"]["last_error"]


def test_a_server_that_goes_away_mid_send_leaves_the_rest_for_the_next_run(make: Make) -> None:
    script = Script(stall={"r3@example.org"})
    port = free_port()
    server = Controller(ScriptedHandler(script), hostname="127.0.0.1", port=port)
    server.start()
    emails = [f"r{i}@example.org" for i in range(8)]
    app = make(f"smtp://127.0.0.1:{port}", emails, connections=1)
    failure: list[BaseException] = []

    def send() -> None:
        try:
            app.send()
        except BaseException as e:
            failure.append(e)

    thread = threading.Thread(target=send)
    thread.start()
    assert script.stalled.wait(30)
    server.stop()  # the server is gone: the session drops and cannot be reopened
    thread.join(60)
    assert len(failure) == 1 and isinstance(failure[0], SmtpError)
    assert "cannot connect" in str(failure[0]) and "3 sent, 5 waiting; run `newsletter send` again" in str(failure[0])
    state = {e: r["status"] for e, r in rows(app).items()}
    assert [state[e] for e in emails] == ["sent"] * 3 + ["deferred"] + ["pending"] * 4
    script.stall.clear()
    server = Controller(ScriptedHandler(script), hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert app.send().issues[0].counts.sent == 8
    finally:
        server.stop()
    assert sorted(m.recipients[0] for m in script.accepted) == sorted(emails)  # everyone once


def test_messages_carry_feedback_id_and_their_stable_message_id(make: Make, scripted_smtp: ScriptedServer) -> None:
    app = make(scripted_smtp.url, ["a@example.org", "b@example.org"])
    app.send()
    by_row = {e: r["message_id"] for e, r in rows(app).items()}
    for m in scripted_smtp.script.accepted:
        message = message_from_bytes(m.data, policy=policy.default)
        assert message["Feedback-ID"] == "issue1:test-briefing:newsletter:example.org"
        assert message["Message-ID"] == by_row[m.recipients[0]]
        assert message["List-Id"] == "Test Briefing <test-briefing.example.org>"


def test_deliveries_summary_lists_counts_and_failures(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["gone@example.org"] = "550 5.1.1 No such user"
    app = make(scripted_smtp.url, ["a@example.org", "gone@example.org"])
    app.send()
    summary = app.deliveries(1).to_json()
    assert summary["deliveries"] == {"pending": 0, "sent": 1, "deferred": 0, "failed": 1, "skipped": 0, "scheduled": 0,
                                     "total": 2}
    assert summary["scheduled"] == [] and summary["waves"] == []
    assert summary["status"] == "sent" and summary["number"] == 1
    [failure] = summary["failures"]
    assert failure["email"] == "gone@example.org" and failure["status"] == "failed"
    assert failure["last_error"] == "550 5.1.1 No such user" and failure["attempts"] == 1
    with pytest.raises(Exception, match="no issue number 7"):
        app.deliveries(7)


def test_retry_failed_resends_only_what_failed(make: Make, scripted_smtp: ScriptedServer) -> None:
    script = scripted_smtp.script
    script.rcpt["gone@example.org"] = "552 5.2.2 Mailbox full"
    script.rcpt["dead@example.org"] = "550 5.1.1 No such user"
    app = make(scripted_smtp.url, ["a@example.org", "gone@example.org", "dead@example.org"], bounce_limit=2)
    app.send()
    subscribers.set_status(app.store, "dead@example.org", "bounced")  # e.g. confirmed by a bounce report
    del script.rcpt["gone@example.org"]
    del script.rcpt["dead@example.org"]
    report = app.send(retry_failed=True)
    assert report.status == "retried" and report.recipients == 1
    assert "1 failed to readers no longer active" in report.message
    assert received(scripted_smtp) == ["a@example.org", "gone@example.org"]  # a@ is not sent twice
    state = {e: r["status"] for e, r in rows(app).items()}
    assert state == {"a@example.org": "sent", "gone@example.org": "sent", "dead@example.org": "failed"}
    assert app.deliveries(1).status == "sent"


def test_retrying_an_issue_counts_a_readers_bounce_once(make: Make, scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["gone@example.org"] = "550 5.1.1 No such user"
    app = make(scripted_smtp.url, ["a@example.org", "gone@example.org"], bounce_limit=2)
    app.send()
    assert rows(app)["gone@example.org"]["bounces"] == 1
    for _ in range(2):  # the editor retries the failures of the same issue, and they bounce again
        app.send(retry_failed=True)
    after = rows(app)["gone@example.org"]
    assert (after["status"], after["attempts"], after["bounces"], after["subscriber"]) == ("failed", 1, 1, "active")
    add_document(app.config.resolve("inbox"), 1)  # the next issue bounces too: that is the second bounce
    app.send()
    assert subscribers.get(app.store, "gone@example.org").status == "bounced"


def test_rows_held_before_a_lapsed_claim_are_never_sent_even_after_renewing(
        make: Make, scripted_smtp: ScriptedServer) -> None:
    app = make(scripted_smtp.url, ["a@example.org", "b@example.org", "c@example.org"])
    issue_id, _ = queue_issue(app)
    run = delivery._Run(Silent(), low=1, lease=60)
    before = outbox.claim(app.store, issue_id, "host:1:1:a", limit=2, lease=60)
    run.claimed(before)
    assert all(run.held(job) for job in before)
    run.renewed_at -= 45  # as if the process had been stopped for 45 s of its 60 s lease
    assert not any(run.held(job) for job in before)
    run.renew(app.store, "host:1:1:a")  # waking up, the dispatcher may renew before a sender looks
    assert not any(run.held(job) for job in before)
    after = outbox.claim(app.store, issue_id, "host:1:1:a", limit=2, lease=60)
    run.claimed(after)
    assert [job.email for job in after] == ["c@example.org"] and run.held(after[0])


def test_outbox_claims_are_exclusive_and_released(make: Make, scripted_smtp: ScriptedServer) -> None:
    app = make(scripted_smtp.url, [f"r{i}@example.org" for i in range(10)])
    issue_id, _ = queue_issue(app)
    assert delivery.counts(app.store, issue_id).pending == 10
    first = outbox.claim(app.store, issue_id, "host:1:1:a", limit=6, lease=60)
    second = outbox.claim(app.store, issue_id, "host:2:2:b", limit=6, lease=60)
    assert len(first) == 6 and len(second) == 4
    assert not {j.delivery_id for j in first} & {j.delivery_id for j in second}
    assert outbox.claim(app.store, issue_id, "host:3:3:c", limit=6, lease=60) == []
    assert len(outbox.claim(app.store, issue_id, "host:3:3:c", limit=6, lease=0)) == 6  # leases run out
    outbox.release(app.store, "host:3:3:c")
    assert len(outbox.claim(app.store, issue_id, "host:4:4:d", limit=10, lease=60)) == 6


def test_two_sends_racing_for_one_issue_share_it(make: Make, scripted_smtp: ScriptedServer) -> None:
    emails = [f"r{i}@example.org" for i in range(6)]
    app = make(scripted_smtp.url, emails)
    other = Newsletter(app.config)  # another process, as far as the database can tell

    def meanwhile(draft: object, readers: int) -> bool:  # asked after drafting, before queueing
        assert other.send(confirm=lambda d, n: True).status == "sent"
        return True

    report = app.send(confirm=meanwhile)
    assert report.status == "sent" and "queued by another process" in report.message
    assert received(scripted_smtp) == sorted(emails)  # once each
    assert app.deliveries(1).status == "sent"
    other.store.close()
