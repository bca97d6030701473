"""Bounce (DSN) and complaint (ARF) reports about a really sent issue: proven ours, applied once; forgeries ignored."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.newsletters import tamper
from helpers.reports import (
    AUTO_REPLY,
    arf,
    attacker,
    exim,
    gmail,
    headers_of,
    message_id_of,
    original,
    postfix,
    redacted,
)

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.delivery import dsn
from newsletter.email.message import Sent, message_id, read_message_id
from newsletter.error import BounceError
from newsletter.sink import Sink
from newsletter.tokens import Signer

GARBAGE = bytes(range(256)) * 8
REPORT_HEAD = b"From: x@example.org\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"


def _delivery(app: Newsletter, email: str, number: int = 1) -> dict:
    t = app.store.t
    query = (sa.select(t.deliveries).select_from(t.deliveries.join(t.issues).join(t.subscribers))
             .where(t.subscribers.c.email == email, t.issues.c.number == number))
    with app.store.begin() as conn:
        return dict(conn.execute(query).mappings().one())


STORIES = {"second": ("Astana hosts energy week", "Ministers met in Astana."),
           "third": ("Caspian ferry line reopens after storms", "Boats sail from Aktau again."),
           "after-complaint": ("Almaty metro extends its green line", "Two stations open in spring.")}


def _next_issue(app: Newsletter, feeds: Path, uid: str) -> None:
    title, description = STORIES[uid]
    rss = feeds / "rss2.xml"
    rss.write_text(rss.read_text(encoding="utf-8").replace(
        "<item>", f"<item><title>{title}</title><guid isPermaLink=\"false\">{uid}</guid>"
        f"<description>{description}</description></item><item>", 1), encoding="utf-8")
    assert app.send().status == "sent"


@pytest.fixture
def sent(app: Newsletter, sink: Sink) -> Newsletter:
    """The ``app`` newsletter after issue 1 went to its three active readers through the sink."""
    report = app.send()
    assert report.status == "sent", (report.gather.to_json()["sources"][0] if report.gather else None, report.message)
    return app


FULL = {"status": "5.2.2", "diagnostic": "552 5.2.2 <{email}>: Mailbox full"}  # counts towards the limit


def _events(app: Newsletter, email: str) -> list[tuple[str, str]]:
    reader = subscribers.get(app.store, email)
    return [(e.event, e.detail) for e in subscribers.events(app.store, reader.id)]


def _unchanged(app: Newsletter, *emails: str) -> None:
    """Assert that each reader is still active, with no refusal counted and no delivery flagged."""
    for email in emails:
        reader = subscribers.get(app.store, email)
        assert (reader.status, reader.bounces) == ("active", 0), email
        assert not _delivery(app, email)["bounced"], email


def test_message_ids_are_signed_for_the_issue_the_reader_and_the_domain() -> None:
    signer = Signer("k")
    value = message_id(signer, 12, 34, "News.Example.org")
    assert value.startswith("<issue12.r34.") and value.endswith("@News.Example.org>")
    assert read_message_id(signer, value, "news.example.org") == Sent(12, 34, proven=True)
    assert read_message_id(Signer("other key"), value, "news.example.org") == Sent(12, 34, proven=False)
    assert read_message_id(signer, value, "other.example.org") == Sent(12, 34, proven=False)
    assert read_message_id(signer, value.replace(".r34.", ".r35."), "news.example.org") == Sent(12, 35, proven=False)
    assert read_message_id(signer, "<x1@example.org>", "example.org") is None


# The attack of issue 13: forged reports unsubscribed a reader. Each test below is one way it was, or could be, tried.


def test_forged_reports_naming_a_reader_by_address_change_nothing(sent: Newsletter) -> None:
    """Two reports from mx.attacker.example used to make bek ``bounced``: now they are kept, unverified."""
    forged = [("1.eml", attacker("bek@example.org", report_id="forged-1@mx.attacker.example")),
              ("2.eml", attacker("bek@example.org", message_id="<x1@example.org>", status="5.2.2",
                                 report_id="forged-2@mx.attacker.example"))]
    report = sent.process_reports(forged)
    for result in report.results:
        [applied] = result.applied
        assert (applied.action, applied.evidence, applied.email) == ("unverified", "", "bek@example.org")
        assert "only the recipient's address" in applied.reason
        assert ": unverified (only the recipient's address" in result.line()
    assert report.to_json()["unverified"] == 2 and report.to_json()["bounces"] == 0
    _unchanged(sent, "bek@example.org")
    kept = [detail for event, detail in _events(sent, "bek@example.org") if event == "unverified report"]
    assert [d.split(":", 1)[0] for d in kept] == ["<forged-1@mx.attacker.example>", "<forged-2@mx.attacker.example>"]
    assert "5.2.2" in kept[1] and "only the recipient's address" in kept[1]
    sent.process_reports(forged)  # read again: kept once per report
    assert len([e for e, _ in _events(sent, "bek@example.org") if e == "unverified report"]) == 2


def test_forged_message_ids_change_nothing(sent: Newsletter, sink: Sink) -> None:
    """A Message-ID of the right shape needs the HMAC: a wrong one, or the old plain checksum, proves nothing."""
    genuine = message_id_of(original(sink, "bek@example.org"))
    number, reader, digest = genuine.strip("<>").split("@")[0].split(".")
    assert len(digest) == 26 and reader == f"r{subscribers.get(sent.store, 'bek@example.org').id}"
    wrong = genuine.replace(digest, ("a" if digest[0] != "a" else "b") + digest[1:])
    checksum = hashlib.sha256(f"{number[5:]}:{reader[1:]}:example.org".encode()).hexdigest()[:12]  # what we used
    old = genuine.replace(digest, checksum)
    report = sent.process_reports([(f"{n}.eml", attacker("bek@example.org", message_id=forged, report_id=f"f{n}@x"))
                                   for n, forged in enumerate((wrong, old))])
    for result in report.results:
        [applied] = result.applied
        assert (applied.action, applied.issue) == ("unverified", None) and "fails its check" in applied.reason
    _unchanged(sent, "bek@example.org")


def test_a_genuine_report_about_another_address_changes_nothing(sent: Newsletter, sink: Sink) -> None:
    """bek's real Message-ID in a report naming cy proves nothing about cy, and the report is not about bek."""
    [applied] = sent.process_reports([("m.eml", postfix("cy@example.org", headers_of(original(
        sink, "bek@example.org"))))]).results[0].applied
    assert (applied.action, applied.email) == ("unverified", "cy@example.org") and "is not the address" in applied.reason
    _unchanged(sent, "bek@example.org", "cy@example.org")


@pytest.mark.parametrize("status", ["5.1.1", "5.1.10", "5.1.2", "5.4.4"])
def test_a_genuine_report_that_the_address_is_gone_bounces_the_reader_at_once(sent: Newsletter, sink: Sink,
                                                                               status: str) -> None:
    report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), status=status,
                     diagnostic=f"550 {status} <{{email}}>: no such user or domain")
    [applied] = sent.process_reports([("gone.eml", report)]).results[0].applied
    assert (applied.action, applied.issue, applied.evidence) == ("marked bounced", 1, "Message-ID and unsubscribe link")
    assert applied.reason == "the address is gone"
    bek = subscribers.get(sent.store, "bek@example.org")
    assert (bek.status, bek.bounces) == ("bounced", 1) and _delivery(sent, "bek@example.org")["bounced"]
    last = subscribers.events(sent.store, bek.id)[-1]
    assert (last.event, last.origin) == ("bounced", "bounce report") and f"the address is gone: {status}" in last.detail


def test_a_hard_bounce_counts_once_and_flags_the_delivery(sent: Newsletter, sink: Sink) -> None:
    report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), **FULL)
    first = sent.process_reports([("bek.eml", report)])
    [applied] = first.results[0].applied
    assert (applied.kind, applied.action, applied.issue, applied.status) == ("bounce", "counted", 1, "5.2.2")
    assert first.results[0].line().startswith("bek.eml: delivery report: bounce bek@example.org (5.2.2, issue 1)")
    delivery = _delivery(sent, "bek@example.org")
    assert delivery["bounced"] and delivery["status"] == "failed" and "Mailbox full" in delivery["last_error"]
    assert _delivery(sent, "ann@example.org")["status"] == "sent"
    assert subscribers.get(sent.store, "bek@example.org").bounces == 1

    again = sent.process_reports([("bek.eml", report), ("other.eml", postfix(
        "bek@example.org", headers_of(original(sink, "bek@example.org")), report_id="another@relay", **FULL))])
    assert [r.applied[0].action for r in again.results] == ["already counted", "already counted"]  # once per issue
    bek = subscribers.get(sent.store, "bek@example.org")
    assert (bek.bounces, bek.status) == (1, "active")
    assert [e.event for e in subscribers.events(sent.store, bek.id)] == ["added", "bounce report"]


def test_exim_and_google_reports_are_read(sent: Newsletter, sink: Sink) -> None:
    report = sent.process_reports([
        ("exim.eml", exim("cy@example.org", original(sink, "cy@example.org"))),
        ("google.eml", gmail("ann@example.org", original(sink, "ann@example.org"))),
    ])
    found = [(r.applied[0].email, r.applied[0].status, r.applied[0].issue, r.applied[0].action) for r in report.results]
    assert found == [("cy@example.org", "5.1.1", 1, "marked bounced"), ("ann@example.org", "5.1.1", 1, "marked bounced")]
    assert [subscribers.get(sent.store, e).status for e in ("ann@example.org", "bek@example.org", "cy@example.org")
            ] == ["bounced", "active", "bounced"]


def test_bounces_of_two_issues_in_a_row_mark_the_reader_bounced(sent: Newsletter, sink: Sink,
                                                                 feeds: Path) -> None:
    assert sent.config.smtp.bounce_limit == 2
    sent.process_reports([("1.eml", postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), **FULL))])
    _next_issue(sent, feeds, "second")  # the relay accepts issue 2 for bek, as relays do
    assert subscribers.get(sent.store, "bek@example.org").status == "active"
    second = postfix("bek@example.org", headers_of(original(sink, "bek@example.org", 2)), report_id="second@relay",
                     **FULL)
    [applied] = sent.process_reports([("2.eml", second)]).results[0].applied
    assert (applied.issue, applied.action) == (2, "marked bounced")
    bek = subscribers.get(sent.store, "bek@example.org")
    assert bek.status == "bounced" and bek.bounced_at is not None and bek.bounces == 2
    last = subscribers.events(sent.store, bek.id)[-1]
    assert (last.event, last.origin) == ("bounced", "bounce report") and "2 permanent refusal(s)" in last.detail
    assert "5.2.2" in last.detail and _delivery(sent, "bek@example.org", 2)["bounced"]


def test_a_reader_whose_mail_got_through_in_between_is_not_bounced(sent: Newsletter, sink: Sink,
                                                                   feeds: Path) -> None:
    _next_issue(sent, feeds, "second")
    _next_issue(sent, feeds, "third")
    actions = []
    for number in (1, 3):  # issue 2 reached bek: two bounces, but not in a row
        report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org", number)),
                         report_id=f"r{number}@relay", **FULL)
        actions += [a.action for a in sent.process_reports([("x.eml", report)]).results[0].applied]
    assert actions == ["flagged", "counted"]
    bek = subscribers.get(sent.store, "bek@example.org")
    assert (bek.status, bek.bounces) == ("active", 1)
    assert _delivery(sent, "bek@example.org", 1)["bounced"] and not _delivery(sent, "bek@example.org", 2)["bounced"]


def test_a_delay_changes_nothing(sent: Newsletter, sink: Sink) -> None:
    report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), action="delayed",
                     status="4.4.1", diagnostic="connect to mx.example.org[203.0.113.5]:25: Connection timed out")
    [applied] = sent.process_reports([("delay.eml", report)]).results[0].applied
    assert (applied.kind, applied.action, applied.status) == ("soft", "nothing", "4.4.1")
    delivery = _delivery(sent, "bek@example.org")
    assert (delivery["status"], delivery["bounced"]) == ("sent", False)
    assert subscribers.get(sent.store, "bek@example.org").bounces == 0


@pytest.mark.parametrize("status, diagnostic", [
    ("5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering"),
    ("5.1.8", "553 5.1.8 <briefing@example.org>: Sender address rejected: Domain not found"),
])
def test_policy_and_sender_refusals_count_nothing(sent: Newsletter, sink: Sink, status: str, diagnostic: str) -> None:
    report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), status=status,
                     diagnostic=diagnostic)
    [applied] = sent.process_reports([("spam.eml", report)]).results[0].applied
    assert (applied.kind, applied.action) == ("ignored", "ignored") and "not of the address" in applied.reason
    _unchanged(sent, "bek@example.org")


def test_other_permanent_refusals_count_towards_the_limit(sent: Newsletter, sink: Sink) -> None:
    report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), status="5.3.0",
                     diagnostic="554 5.3.0 mail system unavailable for this mailbox")
    [applied] = sent.process_reports([("other.eml", report)]).results[0].applied
    assert (applied.kind, applied.action, applied.reason) == ("bounce", "counted", "1 of 2")


def test_the_signed_unsubscribe_link_alone_proves_whose_it_is(sent: Newsletter, sink: Sink) -> None:
    """Without our Message-ID (cut, or made before it was signed) the signed link names the reader."""
    lines = headers_of(original(sink, "bek@example.org")).splitlines()
    no_id = "\n".join(line for line in lines if not line.lower().startswith("message-id:"))
    [applied] = sent.process_reports([("a.eml", postfix("bek@example.org", no_id, report_id="a@relay", **FULL))]
                                     ).results[0].applied
    assert (applied.action, applied.issue, applied.evidence) == ("counted", None, "unsubscribe link")
    genuine = message_id_of(original(sink, "bek@example.org"))
    digest = genuine.split(".")[2].split("@")[0]
    unsigned = headers_of(original(sink, "bek@example.org")).replace(genuine, genuine.replace(digest, "0" * 12))
    [by_link] = sent.process_reports([("b.eml", postfix("bek@example.org", unsigned, report_id="b@relay", **FULL))]
                                     ).results[0].applied  # the link proves the reader, the old Message-ID the issue
    assert (by_link.action, by_link.issue, by_link.evidence) == ("marked bounced", 1, "unsubscribe link")


def test_a_complaint_by_unsubscribe_link_suppresses_the_reader(sent: Newsletter, sink: Sink,
                                                               feeds: Path) -> None:
    headers = redacted(headers_of(original(sink, "ann@example.org")), "ann@example.org")
    assert "ann@example.org" not in headers and "/unsubscribe/" in headers and "issue1." not in headers
    [applied] = sent.process_reports([("fbl.eml", arf(headers))]).results[0].applied
    assert (applied.kind, applied.action, applied.email) == ("complaint", "marked complained", "ann@example.org")
    ann = subscribers.get(sent.store, "ann@example.org")
    assert ann.status == "complained" and ann.complained_at is not None
    assert subscribers.events(sent.store, ann.id)[-1].origin == "feedback report"
    before = len(sink.messages)
    _next_issue(sent, feeds, "after-complaint")
    assert sorted(r for m in sink.messages[before:] for r in m.recipients) == ["bek@example.org", "cy@example.org"]


def test_a_complaint_with_the_message_id_and_other_feedback_types(sent: Newsletter, sink: Sink) -> None:
    headers = headers_of(original(sink, "cy@example.org"))
    [other] = sent.process_reports([("o.eml", arf(headers, feedback_type="not-spam"))]).results[0].applied
    assert other.action == "ignored" and "not a complaint" in other.reason
    assert subscribers.get(sent.store, "cy@example.org").status == "active"
    [abuse] = sent.process_reports([("a.eml", arf(headers))]).results[0].applied
    assert (abuse.action, abuse.issue) == ("marked complained", 1)
    [again] = sent.process_reports([("a.eml", arf(headers))]).results[0].applied
    assert again.action == "already complained"


def test_a_complaint_without_our_signed_link_suppresses_nobody(sent: Newsletter, sink: Sink) -> None:
    """The signed Message-ID names the reader, but a complaint needs the signed link."""
    lines = headers_of(original(sink, "cy@example.org")).splitlines()
    kept, skipping = [], False
    for line in lines:
        if line[:1] not in (" ", "\t"):
            skipping = line.lower().startswith("list-unsubscribe")
        if not skipping:
            kept.append(line)
    headers = "\n".join(kept)
    assert "issue1." in headers and "/unsubscribe/" not in headers
    [applied] = sent.process_reports([("c.eml", arf(headers))]).results[0].applied
    assert applied.action == "unverified" and "signed for that reader" in applied.reason
    assert subscribers.get(sent.store, "cy@example.org").status == "active"


def test_a_tampered_unsubscribe_link_is_ignored(sent: Newsletter, sink: Sink) -> None:
    headers = redacted(headers_of(original(sink, "ann@example.org")), "ann@example.org")
    token = headers.split("/unsubscribe/", 1)[1].split(">", 1)[0]
    [applied] = sent.process_reports([("f.eml", arf(headers.replace(token, tamper(token))))]).results[0].applied
    assert applied.action == "ignored" and "not one we signed" in applied.reason
    assert subscribers.get(sent.store, "ann@example.org").status == "active"
    full = headers_of(original(sink, "ann@example.org"))  # the signed Message-ID proves the bounce on its own
    [bounce] = sent.process_reports([("b.eml", postfix("ann@example.org", full.replace(token, tamper(token)), **FULL))]
                                    ).results[0].applied
    assert (bounce.action, bounce.issue, bounce.evidence) == ("counted", 1, "Message-ID")


def test_auto_replies_and_strangers_change_nothing(sent: Newsletter, sink: Sink) -> None:
    returned = message_id_of(original(sink, "bek@example.org"))
    report = sent.process_reports([("ooo.eml", AUTO_REPLY.replace(b"{message_id}", returned.encode())),
                                   ("s.eml", attacker("zed@example.org"))])
    ooo, stranger = report.results
    assert (ooo.kind, ooo.applied, ooo.reason) == ("not a report", [], "an automatic reply")
    assert ooo.line() == "ooo.eml: not a report: skipped (an automatic reply)"
    assert stranger.applied[0].action == "ignored" and "no subscriber zed@example.org" in stranger.applied[0].reason
    _unchanged(sent, "bek@example.org")


def test_a_report_over_the_size_cap_is_refused_unread(sent: Newsletter, sink: Sink, tmp_path: Path) -> None:
    report = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")))
    big = tmp_path / "big.eml"
    big.write_bytes(report + b"x" * dsn.LIMIT)
    [result] = sent.process_reports([("big.eml", big)]).results
    assert result.error == "too large: over 1048576 bytes (1 MiB), the most a report may have"
    _unchanged(sent, "bek@example.org")


@pytest.mark.parametrize("data, message", [
    (GARBAGE, "not an email message"),
    (b"", "empty message"),
    (REPORT_HEAD + b"--B\nContent-Type: text/plain\n\nsorry\n--B--\n", "without its message/delivery-status part"),
    (REPORT_HEAD + b"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n--B--\n",
     "no recipient in it"),
])
def test_malformed_messages_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(BounceError, match=message):
        dsn.parse(data)


def _run(*args: str, cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=cwd, env=environ, capture_output=True,
                          input=input, timeout=120, check=False)


def test_the_command_reads_a_folder_and_stdin(sent: Newsletter, sink: Sink, newsletter_dir: Path,
                                              tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(postfix("bek@example.org", headers_of(original(sink, "bek@example.org"))))
    (maildir / "cur" / "2.eml").write_bytes(AUTO_REPLY)
    (maildir / "cur" / "3.eml").write_bytes(GARBAGE)
    (maildir / "tmp" / "4.eml").write_bytes(GARBAGE)  # still being written by the MTA: not read
    result = _run("bounces", str(maildir), cwd=newsletter_dir)
    assert result.returncode == 1, result.stderr
    out, err = result.stdout.decode().splitlines(), result.stderr.decode().splitlines()
    assert err == [f"error: {maildir / 'cur' / '3.eml'}: not an email message: no header lines"]
    assert out == [f"{maildir / 'cur' / '2.eml'}: not a report: skipped (an automatic reply)",
                   (f"{maildir / 'new' / '1.eml'}: delivery report: bounce bek@example.org (5.1.1, issue 1): "
                    "marked bounced (the address is gone)")]
    assert subscribers.get(sent.store, "bek@example.org").status == "bounced"

    piped = _run("bounces", "--json", cwd=newsletter_dir, input=exim("cy@example.org", original(sink, "cy@example.org")))
    assert piped.returncode == 0, piped.stderr
    document = json.loads(piped.stdout)
    assert (document["failed"], document["bounces"]) == (0, 1)
    [finding] = document["messages"][0]["findings"]
    assert (document["messages"][0]["name"], finding["email"], finding["action"]) == (
        "(stdin)", "cy@example.org", "marked bounced")
    forged = _run("bounces", "--json", cwd=newsletter_dir, input=attacker("ann@example.org"))
    document = json.loads(forged.stdout)
    [finding] = document["messages"][0]["findings"]
    assert (forged.returncode, document["unverified"], document["bounces"]) == (0, 1, 0)
    assert (finding["action"], finding["evidence"]) == ("unverified", "") and "anyone can write" in finding["reason"]
    assert subscribers.get(sent.store, "ann@example.org").status == "active"
    huge = _run("bounces", cwd=newsletter_dir, input=b"From: x@example.org\n\n" + b"x" * (dsn.LIMIT + 10))
    assert huge.returncode == 1 and huge.stderr.decode().splitlines() == [
        "error: (stdin): too large: over 1048576 bytes (1 MiB), the most a report may have"]
    missing = _run("bounces", str(tmp_path / "nope.eml"), cwd=newsletter_dir)
    assert missing.returncode == 1 and b"nope.eml: cannot read" in missing.stderr and b"Traceback" not in missing.stderr
