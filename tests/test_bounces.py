"""Bounce (DSN) and complaint (ARF) reports about a really sent issue: read, matched, applied once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.newsletters import tamper

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.delivery import dsn
from newsletter.error import BounceError
from newsletter.sink import Sink


def _original(sink: Sink, email: str, number: int = 1) -> bytes:
    """Return the message issue ``number`` delivered to ``email`` (LF line ends), as the sink got it."""
    found = [m.data for m in sink.messages if m.recipients == (email,) and f"<issue{number}.".encode() in m.data]
    assert len(found) == 1, [m.recipients for m in sink.messages]
    return found[0].replace(b"\r\n", b"\n")


def _headers(original: bytes) -> str:
    return original.split(b"\n\n", 1)[0].decode("ascii")


def _message_id(original: bytes) -> str:
    line = next(h for h in _headers(original).splitlines() if h.lower().startswith("message-id:"))
    return line.split(":", 1)[1].strip()


def postfix(email: str, headers: str, *, action: str = "failed", status: str = "5.1.1",
            diagnostic: str = "550 5.1.1 <{email}>: Recipient address rejected: User unknown in virtual\n"
                              "    mailbox table", report_id: str = "20261126054900.4XyzAb3@relay.example.net") -> bytes:
    """A Postfix bounce: notification, delivery report, the undelivered message's headers."""
    diagnostic = diagnostic.format(email=email)
    subject = "Delayed Mail (still being retried)" if action == "delayed" else "Undelivered Mail Returned to Sender"
    return f"""Return-Path: <>
Received: by relay.example.net (Postfix) id 4XyzAb3; Thu, 26 Nov 2026 05:49:00 +0000 (UTC)
Date: Thu, 26 Nov 2026 05:49:00 +0000 (UTC)
From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
Subject: {subject}
To: briefing@example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4XyzAb3.1764136140/relay.example.net"
Content-Transfer-Encoding: 8bit
Message-Id: <{report_id}>

This is a MIME-encapsulated message.

--4XyzAb3.1764136140/relay.example.net
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host relay.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{email}>: host mx.example.org[203.0.113.5] said: {diagnostic} (in reply to RCPT TO command)

--4XyzAb3.1764136140/relay.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
X-Postfix-Queue-ID: 4XyzAb3
X-Postfix-Sender: rfc822; briefing@example.org
Arrival-Date: Thu, 26 Nov 2026 05:48:58 +0000 (UTC)

Final-Recipient: rfc822; {email}
Original-Recipient: rfc822;{email}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; {diagnostic}

--4XyzAb3.1764136140/relay.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

{headers}

--4XyzAb3.1764136140/relay.example.net--
""".encode()


def exim(email: str, original: bytes) -> bytes:
    """An Exim bounce: Status 5.0.0 with the real code in the diagnostic, the whole message returned."""
    return f"""Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mail.exim.example>
To: briefing@example.org
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1vOx2P-0004kB-7Q@mail.exim.example>
X-Failed-Recipients: {email}
Auto-Submitted: auto-replied
Date: Thu, 26 Nov 2026 05:49:02 +0000
Content-Type: multipart/report; report-type=delivery-status; boundary=1764136142-eximdsn-1804289383
MIME-Version: 1.0

--1764136142-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {email}
    host mx.example.org [203.0.113.7]
    SMTP error from remote mail server after RCPT TO:<{email}>:
    550 5.1.1 <{email}>: Recipient address rejected: User unknown

--1764136142-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; mail.exim.example

Action: failed
Final-Recipient: rfc822;{email}
Status: 5.0.0
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{email}>: Recipient address rejected: User unknown

--1764136142-eximdsn-1804289383
Content-type: message/rfc822

""".encode() + original + b"\n--1764136142-eximdsn-1804289383--\n"


def gmail(email: str, original: bytes) -> bytes:
    """Google's bounce: a multipart/related notice, a report without an SMTP code, the message returned."""
    message_id = _message_id(original)
    return f"""Delivered-To: briefing@example.org
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: briefing@example.org
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: {message_id}
In-Reply-To: {message_id}
X-Failed-Recipients: {email}
Message-ID: <6926a1b2.050a0220.3c1d2.0000.GMR@mx.google.com>
Date: Wed, 25 Nov 2026 21:49:06 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000d5e1a50644b1c2f3"; report-type=delivery-status

--000000000000d5e1a50644b1c2f3
Content-Type: multipart/related; boundary="000000000000d5e4a40644b1c2f9"

--000000000000d5e4a40644b1c2f9
Content-Type: multipart/alternative; boundary="000000000000d5e4a50644b1c2fa"

--000000000000d5e4a50644b1c2fa
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to {email} because the address couldn't be found, or is unable to receive mail.

--000000000000d5e4a50644b1c2fa
Content-Type: text/html; charset="UTF-8"

<html><body><h2>Address not found</h2><p>Your message wasn't delivered.</p></body></html>

--000000000000d5e4a50644b1c2fa--
--000000000000d5e4a40644b1c2f9--
--000000000000d5e1a50644b1c2f3
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; briefing@example.org
Arrival-Date: Wed, 25 Nov 2026 21:49:05 -0800 (PST)
X-Original-Message-ID: {message_id}

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; The email account that you tried to reach does not exist. Please try
 double-checking the recipient's email address for typos or
 unnecessary spaces. For more information, go to
 https://support.google.com/mail/?p=NoSuchUser
Last-Attempt-Date: Wed, 25 Nov 2026 21:49:06 -0800 (PST)

--000000000000d5e1a50644b1c2f3
Content-Type: message/rfc822

""".encode() + original + b"\n--000000000000d5e1a50644b1c2f3--\n"


def arf(headers: str, *, feedback_type: str = "abuse") -> bytes:
    """An ARF report as mailbox providers send them: recipient redacted, the original's headers returned."""
    return f"""From: Feedback Loop <fbl@mail.example.net>
Date: Thu, 26 Nov 2026 07:12:00 +0000
Subject: Complaint about message from 127.0.0.1
To: briefing@example.org
Message-ID: <fbl-20261126-0712-001@mail.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
127.0.0.1 on Thu, 26 Nov 2026 05:49:00 +0000. For more information
about this format please see https://tools.ietf.org/html/rfc5965.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <briefing@example.org>
Original-Rcpt-To: <redacted@mail.example.net>
Arrival-Date: Thu, 26 Nov 2026 05:49:00 +0000
Reporting-MTA: dns; mail.example.net
Source-IP: 127.0.0.1

--part1_13d.2e68ed54_boundary
Content-Type: text/rfc822-headers

{headers}

--part1_13d.2e68ed54_boundary--
""".encode()


def redacted(headers: str, email: str) -> str:
    """Return headers as a feedback loop returns them: the recipient blanked out, the Message-ID gone."""
    kept = []
    for line in headers.splitlines():
        if kept and line[:1] in (" ", "\t") and kept[-1] is None:
            continue
        kept.append(None if line.lower().startswith("message-id:") else line.replace(email, "redacted"))
    return "\n".join(line for line in kept if line is not None)


AUTO_REPLY = b"""From: Ann Lee <ann@example.org>
To: Test Briefing <briefing@example.org>
Subject: Automatic reply: Test Briefing
Date: Thu, 26 Nov 2026 05:50:00 +0000
Message-ID: <ooo-1@example.org>
In-Reply-To: {message_id}
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday and will read your message then.
"""

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


def test_a_hard_bounce_counts_once_and_flags_the_delivery(sent: Newsletter, sink: Sink) -> None:
    report = postfix("bek@example.org", _headers(_original(sink, "bek@example.org")))
    first = sent.process_reports([("bek.eml", report)])
    [applied] = first.results[0].applied
    assert (applied.kind, applied.action, applied.issue, applied.status) == ("bounce", "counted", 1, "5.1.1")
    assert first.results[0].line().startswith("bek.eml: delivery report: bounce bek@example.org (5.1.1, issue 1)")
    delivery = _delivery(sent, "bek@example.org")
    assert delivery["bounced"] and delivery["status"] == "failed" and "User unknown" in delivery["last_error"]
    assert _delivery(sent, "ann@example.org")["status"] == "sent"
    assert subscribers.get(sent.store, "bek@example.org").bounces == 1

    again = sent.process_reports([("bek.eml", report)])
    assert again.results[0].applied[0].action == "already counted"
    bek = subscribers.get(sent.store, "bek@example.org")
    assert (bek.bounces, bek.status) == (1, "active")
    assert [e.event for e in subscribers.events(sent.store, bek.id)] == ["added", "bounce report"]


def test_exim_and_google_reports_are_read(sent: Newsletter, sink: Sink) -> None:
    report = sent.process_reports([
        ("exim.eml", exim("cy@example.org", _original(sink, "cy@example.org"))),
        ("google.eml", gmail("ann@example.org", _original(sink, "ann@example.org"))),
    ])
    found = [(r.applied[0].email, r.applied[0].status, r.applied[0].issue, r.applied[0].action) for r in report.results]
    assert found == [("cy@example.org", "5.1.1", 1, "counted"), ("ann@example.org", "5.1.1", 1, "counted")]
    assert [subscribers.get(sent.store, e).bounces for e in ("ann@example.org", "bek@example.org", "cy@example.org")
            ] == [1, 0, 1]


def test_bounces_of_two_issues_in_a_row_mark_the_reader_bounced(sent: Newsletter, sink: Sink,
                                                                 feeds: Path) -> None:
    assert sent.config.smtp.bounce_limit == 2
    sent.process_reports([("1.eml", postfix("bek@example.org", _headers(_original(sink, "bek@example.org"))))])
    _next_issue(sent, feeds, "second")  # the relay accepts issue 2 for bek, as relays do
    assert subscribers.get(sent.store, "bek@example.org").status == "active"
    second = postfix("bek@example.org", _headers(_original(sink, "bek@example.org", 2)), report_id="second@relay")
    [applied] = sent.process_reports([("2.eml", second)]).results[0].applied
    assert (applied.issue, applied.action) == (2, "marked bounced")
    bek = subscribers.get(sent.store, "bek@example.org")
    assert bek.status == "bounced" and bek.bounced_at is not None and bek.bounces == 2
    last = subscribers.events(sent.store, bek.id)[-1]
    assert (last.event, last.origin) == ("bounced", "bounce report") and "5.1.1" in last.detail
    assert _delivery(sent, "bek@example.org", 2)["bounced"]


def test_a_reader_whose_mail_got_through_in_between_is_not_bounced(sent: Newsletter, sink: Sink,
                                                                   feeds: Path) -> None:
    _next_issue(sent, feeds, "second")
    _next_issue(sent, feeds, "third")
    actions = []
    for number in (1, 3):  # issue 2 reached bek: two bounces, but not in a row
        report = postfix("bek@example.org", _headers(_original(sink, "bek@example.org", number)),
                         report_id=f"r{number}@relay")
        actions += [a.action for a in sent.process_reports([("x.eml", report)]).results[0].applied]
    assert actions == ["flagged", "counted"]
    bek = subscribers.get(sent.store, "bek@example.org")
    assert (bek.status, bek.bounces) == ("active", 1)
    assert _delivery(sent, "bek@example.org", 1)["bounced"] and not _delivery(sent, "bek@example.org", 2)["bounced"]


def test_a_delay_changes_nothing(sent: Newsletter, sink: Sink) -> None:
    report = postfix("bek@example.org", _headers(_original(sink, "bek@example.org")), action="delayed",
                     status="4.4.1", diagnostic="connect to mx.example.org[203.0.113.5]:25: Connection timed out")
    [applied] = sent.process_reports([("delay.eml", report)]).results[0].applied
    assert (applied.kind, applied.action, applied.status) == ("soft", "nothing", "4.4.1")
    delivery = _delivery(sent, "bek@example.org")
    assert (delivery["status"], delivery["bounced"]) == ("sent", False)
    assert subscribers.get(sent.store, "bek@example.org").bounces == 0


def test_a_policy_refusal_counts_nothing(sent: Newsletter, sink: Sink) -> None:
    report = postfix("bek@example.org", _headers(_original(sink, "bek@example.org")), status="5.7.1",
                     diagnostic="550 5.7.1 Message rejected as spam by Content Filtering")
    [applied] = sent.process_reports([("spam.eml", report)]).results[0].applied
    assert (applied.kind, applied.action) == ("ignored", "ignored") and "not of the address" in applied.reason
    assert subscribers.get(sent.store, "bek@example.org").bounces == 0


def test_a_complaint_by_unsubscribe_link_suppresses_the_reader(sent: Newsletter, sink: Sink,
                                                               feeds: Path) -> None:
    headers = redacted(_headers(_original(sink, "ann@example.org")), "ann@example.org")
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
    headers = _headers(_original(sink, "cy@example.org"))
    [other] = sent.process_reports([("o.eml", arf(headers, feedback_type="not-spam"))]).results[0].applied
    assert other.action == "ignored" and "not a complaint" in other.reason
    assert subscribers.get(sent.store, "cy@example.org").status == "active"
    [abuse] = sent.process_reports([("a.eml", arf(headers))]).results[0].applied
    assert (abuse.action, abuse.issue) == ("marked complained", 1)
    [again] = sent.process_reports([("a.eml", arf(headers))]).results[0].applied
    assert again.action == "already complained"


def test_a_complaint_without_our_signed_link_suppresses_nobody(sent: Newsletter, sink: Sink) -> None:
    """The Message-ID names the reader, but anyone can compute one: a complaint needs the signed link."""
    lines = _headers(_original(sink, "cy@example.org")).splitlines()
    kept, skipping = [], False
    for line in lines:
        if line[:1] not in (" ", "\t"):
            skipping = line.lower().startswith("list-unsubscribe")
        if not skipping:
            kept.append(line)
    headers = "\n".join(kept)
    assert "issue1." in headers and "/unsubscribe/" not in headers
    [applied] = sent.process_reports([("c.eml", arf(headers))]).results[0].applied
    assert applied.action == "ignored" and "signed unsubscribe link" in applied.reason
    assert subscribers.get(sent.store, "cy@example.org").status == "active"


def test_a_tampered_unsubscribe_link_is_ignored(sent: Newsletter, sink: Sink) -> None:
    headers = redacted(_headers(_original(sink, "ann@example.org")), "ann@example.org")
    token = headers.split("/unsubscribe/", 1)[1].split(">", 1)[0]
    [applied] = sent.process_reports([("f.eml", arf(headers.replace(token, tamper(token))))]).results[0].applied
    assert applied.action == "ignored" and "not one we signed" in applied.reason
    assert subscribers.get(sent.store, "ann@example.org").status == "active"
    full = _headers(_original(sink, "ann@example.org"))  # a key replaced since: the Message-ID still says whose
    [bounce] = sent.process_reports([("b.eml", postfix("ann@example.org", full.replace(token, tamper(token))))]
                                    ).results[0].applied
    assert (bounce.action, bounce.issue) == ("counted", 1)


def test_auto_replies_forged_and_mismatched_reports_change_nothing(sent: Newsletter, sink: Sink) -> None:
    bek_headers = _headers(_original(sink, "bek@example.org"))
    message_id = _message_id(_original(sink, "bek@example.org"))
    digest = message_id.split(".")[2].split("@")[0]
    forged = bek_headers.replace(message_id, message_id.replace(digest, "0" * 12))
    assert forged != bek_headers
    report = sent.process_reports([
        ("ooo.eml", AUTO_REPLY.replace(b"{message_id}", message_id.encode())),
        ("forged.eml", postfix("bek@example.org", forged)),
        ("mismatch.eml", postfix("cy@example.org", bek_headers)),
    ])
    ooo, forged_result, mismatch = report.results
    assert (ooo.kind, ooo.applied, ooo.reason) == ("not a report", [], "an automatic reply")
    assert ooo.line() == "ooo.eml: not a report: skipped (an automatic reply)"
    assert forged_result.applied[0].action == "ignored" and "fails its check" in forged_result.applied[0].reason
    assert mismatch.applied[0].action == "ignored" and "is not the address" in mismatch.applied[0].reason
    assert [subscribers.get(sent.store, e).bounces for e in ("bek@example.org", "cy@example.org")] == [0, 0]
    assert not _delivery(sent, "bek@example.org")["bounced"]


def test_a_bounce_naming_no_issue_counts_once_by_address(sent: Newsletter) -> None:
    headers = "From: someone@example.org\nTo: cy@example.org\nSubject: not ours\nMessage-ID: <x1@example.org>"
    report = postfix("cy@example.org", headers, report_id="unknown-issue@relay")
    first = sent.process_reports([("u.eml", report)]).results[0].applied[0]
    assert (first.action, first.issue, first.subscriber_id) == ("counted", None,
                                                               subscribers.get(sent.store, "cy@example.org").id)
    assert sent.process_reports([("u.eml", report)]).results[0].applied[0].action == "already counted"
    assert subscribers.get(sent.store, "cy@example.org").bounces == 1
    other = sent.process_reports([("v.eml", postfix("cy@example.org", headers, report_id="another@relay"))])
    assert other.results[0].applied[0].action == "marked bounced"
    [stranger] = sent.process_reports([("s.eml", postfix("zed@example.org", headers))]).results[0].applied
    assert stranger.action == "ignored" and "no subscriber zed@example.org" in stranger.reason


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
    (maildir / "new" / "1.eml").write_bytes(postfix("bek@example.org", _headers(_original(sink, "bek@example.org"))))
    (maildir / "cur" / "2.eml").write_bytes(AUTO_REPLY)
    (maildir / "cur" / "3.eml").write_bytes(GARBAGE)
    (maildir / "tmp" / "4.eml").write_bytes(GARBAGE)  # still being written by the MTA: not read
    result = _run("bounces", str(maildir), cwd=newsletter_dir)
    assert result.returncode == 1, result.stderr
    out, err = result.stdout.decode().splitlines(), result.stderr.decode().splitlines()
    assert err == [f"error: {maildir / 'cur' / '3.eml'}: not an email message: no header lines"]
    assert out == [f"{maildir / 'cur' / '2.eml'}: not a report: skipped (an automatic reply)",
                   (f"{maildir / 'new' / '1.eml'}: delivery report: bounce bek@example.org (5.1.1, issue 1): "
                    "counted (1 of 2)")]
    assert subscribers.get(sent.store, "bek@example.org").bounces == 1

    piped = _run("bounces", "--json", cwd=newsletter_dir, input=exim("cy@example.org", _original(sink, "cy@example.org")))
    assert piped.returncode == 0, piped.stderr
    document = json.loads(piped.stdout)
    assert (document["failed"], document["bounces"]) == (0, 1)
    [finding] = document["messages"][0]["findings"]
    assert (document["messages"][0]["name"], finding["email"], finding["action"]) == (
        "(stdin)", "cy@example.org", "counted")
    missing = _run("bounces", str(tmp_path / "nope.eml"), cwd=newsletter_dir)
    assert missing.returncode == 1 and b"nope.eml: cannot read" in missing.stderr and b"Traceback" not in missing.stderr
