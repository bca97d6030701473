"""Property tests of what reads strangers' bounce and complaint reports: ``dsn.parse`` and ``Reports.process``.

Whatever the bytes, only the project's own errors come out (one line each), each
message is read within the deadline, and a report without our signed Message-ID or
unsubscribe link changes no reader. Inputs are arbitrary bytes and real reports (as
Postfix, Exim, Google and feedback loops write them) with a few bytes inserted, cut
or replaced. The example budget is fixed and the examples derandomised, so CI runs
the same cases every time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.damage import bounded, damaged
from helpers.reports import (
    arf,
    attacker,
    exim,
    gmail,
    headers_of,
    original,
    postfix,
    redacted,
)
from hypothesis import event, given
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.delivery import dsn
from newsletter.delivery.bounces import BounceReport
from newsletter.email.message import read_message_id
from newsletter.error import BounceError
from newsletter.sink import Sink
from newsletter.tokens import Signer

BOUNDED = bounded(200)
READERS = ("ann@example.org", "bek@example.org", "cy@example.org")
ISSUE = (Path(__file__).parent / "golden" / "issue.eml").read_bytes().replace(b"\r\n", b"\n")  # a real message of ours
PIECES = [b"\n", b"\n\n", b"\r", b"--", b";", b'"', b"<", b">", b"@", b"\x00", b"\xff", b"\xd0", b"=?utf-8?b?",
          b"boundary=", b"report-type=feedback-report", b"report-type=delivery-status",
          b"Content-Type: message/delivery-status\n\n", b"Content-Type: message/rfc822\n\n",
          b"Content-Type: text/rfc822-headers\n\n", b"Content-Type: multipart/report; boundary=B\n\n",
          b"Content-Transfer-Encoding: base64\n", b"Action: failed\n", b"Action: delayed\n", b"Status: 5.1.1\n",
          b"Status: 5.0.0\n", b"Final-Recipient: rfc822; ann@example.org\n", b"Original-Recipient: rfc822;\n",
          b"Feedback-Type: abuse\n", b"Message-ID: <issue1.r1.aaaaaaaaaaaaaaaaaaaaaaaaaa@example.org>\n",
          b"References: <issue1.r2.0123456789ab@example.org>\n", b"/unsubscribe/WyJ1bnN1YnNjcmliZSIsMV0.x",
          b"(" * 50, b"a=b; " * 20]


def _damaged(draw: st.DrawFn, report: bytes) -> bytes:
    """Return ``report`` with a few bytes inserted, cut or replaced."""
    return damaged(draw, report, PIECES)


def _samples(message: bytes, email: str) -> list[bytes]:
    """Return one report of each kind about ``message``, sent to ``email``."""
    head = headers_of(message)
    return [postfix(email, head), postfix(email, head, action="delayed", status="4.4.1"), exim(email, message),
            gmail(email, message), arf(head), arf(redacted(head, email), feedback_type="not-spam")]


SAMPLES = _samples(ISSUE, "reader@example.org")
FORGED = [attacker("bek@example.org"), attacker("ann@example.org", message_id="<x1@example.org>", status="5.2.2"),
          attacker("cy@example.org", message_id="<issue1.r3.aaaaaaaaaaaaaaaaaaaaaaaaaa@example.org>")]


def parse(data: bytes) -> None:
    """Parse ``data``: a report, or one line of BounceError; anything else escapes and fails the test."""
    try:
        parsed = dsn.parse(data)
    except BounceError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert len(parsed.findings) <= dsn.RECIPIENTS and len(parsed.message_ids) <= 50
    for finding in parsed.findings:
        assert len(finding.email) <= 320 and len(finding.diagnostic) <= 1000
        assert not any(c < " " for c in finding.email + finding.original + finding.diagnostic + finding.status)


@BOUNDED
@given(st.binary(max_size=4096))
def test_any_bytes_as_a_report(data: bytes) -> None:
    parse(data)


@BOUNDED
@given(st.data())
def test_real_reports_with_damage(data: st.DataObject) -> None:
    parse(_damaged(data.draw, data.draw(st.sampled_from(SAMPLES))))


@BOUNDED
@given(st.text(max_size=200) | st.sampled_from(["<issue1.r1.aaaaaaaaaaaaaaaaaaaaaaaaaa@example.org>",
                                                 f"<issue{'9' * 5000}.r1.0123456789ab@example.org>"]))
def test_no_text_passes_for_a_signed_message_id(text: str) -> None:
    sent = read_message_id(Signer("k"), text, "example.org")
    assert sent is None or not sent.proven


@pytest.fixture
def sent(app: Newsletter, sink: Sink) -> Newsletter:
    """The ``app`` newsletter after issue 1 went to its three active readers through the sink."""
    assert app.send().status == "sent"
    return app


def _state(app: Newsletter) -> list[tuple[str, int]]:
    return [(r.status, r.bounces) for r in (subscribers.get(app.store, e) for e in READERS)]


def _one_line_each(report: BounceReport) -> str:
    """Assert that every message reads as one line; return what happened to the first, to count the cases."""
    for result in report.results:
        assert "\n" not in result.line()
    first = report.results[0]
    return first.applied[0].action if first.applied else "error" if first.error else "skipped"


@BOUNDED
@given(data=st.data())
def test_reports_without_our_proof_change_nobody(sent: Newsletter, data: st.DataObject) -> None:
    """Arbitrary bytes and damaged forgeries: read or refused in one line, and every reader as they were."""
    before = _state(sent)
    message = data.draw(st.binary(max_size=4096) | st.sampled_from(FORGED))
    if data.draw(st.booleans()):
        message = _damaged(data.draw, message)
    event(_one_line_each(sent.process_reports([("x.eml", message)])))
    assert _state(sent) == before


@BOUNDED
@given(data=st.data())
def test_damaged_genuine_reports_change_only_their_reader(sent: Newsletter, sink: Sink, data: st.DataObject) -> None:
    """bek's real reports, damaged: bek may bounce or complain, nobody else ever changes."""
    others = [s for e, s in zip(READERS, _state(sent), strict=True) if e != "bek@example.org"]
    report = data.draw(st.sampled_from(_samples(original(sink, "bek@example.org"), "bek@example.org")))
    event(_one_line_each(sent.process_reports([("x.eml", _damaged(data.draw, report))])))
    assert [s for e, s in zip(READERS, _state(sent), strict=True) if e != "bek@example.org"] == others


# Shapes that cost the email package's modern header parser minutes at 1 MiB, or that nest without end.
_HEAD = b"From: x@example.org\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n"
_BLOCK = b"\n--B\nContent-Type: message/delivery-status\n\n"
_SIZE = dsn.LIMIT - 4096
HOSTILE = {
    "parameters": b"Content-Type: multipart/report; " + b"a=b; " * (_SIZE // 5) + b"report-type=delivery-status\n\n",
    "rfc2231": b"Content-Type: multipart/report; " + b"a*0*=utf-8''x; " * (_SIZE // 15) + b"\n\n",
    "comments": b"Message-ID: " + b"(" * _SIZE + b"\n\n",
    "references": _HEAD + b"References: " + b"<issue1.r1.aaaaaaaaaaaaaaaaaaaaaaaaaa@example.org> " * (_SIZE // 60)
    + _BLOCK + b"Final-Recipient: rfc822; a@b\nAction: failed\nStatus: 5.1.1\n\n--B--\n",
    "diagnostic": _HEAD + _BLOCK + b"Final-Recipient: rfc822; a@b\nAction: failed\nDiagnostic-Code: "
    + b"5.1.1 " * (_SIZE // 6) + b"\n\n--B--\n",
    "recipients": _HEAD + _BLOCK + b"Final-Recipient: rfc822; ann@example.org\nAction: failed\n\n" * (_SIZE // 60),
    "parts": _HEAD + b"\n" + b"--B\nContent-Type: text/plain\n\nx\n" * (_SIZE // 33) + b"--B--\n",
    "nesting": b"Content-Type: multipart/report; report-type=delivery-status; boundary=B0\n\n"
    + b"".join(b"--B%d\nContent-Type: multipart/mixed; boundary=B%d\n\n" % (i, i + 1) for i in range(_SIZE // 60)),
    "headers": b"X: y\n" * (_SIZE // 5) + b"\n",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_report_of_1_mib_is_read_in_time(sent: Newsletter, name: str) -> None:
    data = HOSTILE[name]
    assert len(data) <= dsn.LIMIT
    before = _state(sent)
    start = time.perf_counter()
    report = sent.process_reports([(name, data)])
    assert time.perf_counter() - start < 5, name
    _one_line_each(report)
    assert _state(sent) == before
    with pytest.raises(BounceError, match="too large: over 1048576 bytes"):
        dsn.parse(data + b"x" * (dsn.LIMIT + 1 - len(data)))
