"""Bounce and complaint reports as relays and feedback loops send them, and as an attacker forges them.

``postfix``, ``exim`` and ``gmail`` write a delivery status notification (RFC 3464)
the way each of those relays does; ``arf`` a feedback report (RFC 5965) the way
mailbox providers do; ``attacker`` a report made by someone who never saw the
message, naming a reader by address and whatever Message-ID they chose. ``original``
takes the message a reader got from the sink, ``headers_of`` its header block.
"""

from __future__ import annotations

from newsletter.sink import Sink


def original(sink: Sink, email: str, number: int = 1) -> bytes:
    """Return the message issue ``number`` delivered to ``email`` (LF line ends), as the sink got it."""
    found = [m.data for m in sink.messages if m.recipients == (email,) and f"<issue{number}.".encode() in m.data]
    assert len(found) == 1, [m.recipients for m in sink.messages]
    return found[0].replace(b"\r\n", b"\n")


def headers_of(original: bytes) -> str:
    """Return the header block of a message, as a relay returns it in text/rfc822-headers."""
    return original.split(b"\n\n", 1)[0].decode("ascii")


def message_id_of(original: bytes) -> str:
    """Return the Message-ID of a message we sent."""
    line = next(h for h in headers_of(original).splitlines() if h.lower().startswith("message-id:"))
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
    returned = message_id_of(original)
    return f"""Delivered-To: briefing@example.org
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: briefing@example.org
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: {returned}
In-Reply-To: {returned}
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
X-Original-Message-ID: {returned}

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


def attacker(email: str, *, message_id: str = "", status: str = "5.1.1", report_id: str = "forged-1@mx.attacker.example"
             ) -> bytes:
    """A report forged at mx.attacker.example: a well-formed DSN naming ``email``, with no message of ours in it."""
    original = (f"From: Test Briefing <briefing@example.org>\nTo: {email}\nSubject: Test Briefing #1\n"
                + (f"Message-ID: {message_id}\n" if message_id else ""))
    return f"""Return-Path: <>
From: MAILER-DAEMON@mx.attacker.example (Mail Delivery System)
To: briefing@example.org
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-Id: <{report_id}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="forged"

--forged
Content-Type: text/plain

Your message could not be delivered.

--forged
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.attacker.example

Final-Recipient: rfc822; {email}
Action: failed
Status: {status}
Remote-MTA: dns; mx.attacker.example
Diagnostic-Code: smtp; 550 {status} <{email}>: Recipient address rejected: User unknown

--forged
Content-Type: text/rfc822-headers

{original}
--forged--
""".encode()
