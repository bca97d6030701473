"""One recipient never stops a send: internationalised addresses, names in any script (issue 13).

Real aiosmtpd relays, one offering SMTPUTF8 (as aiosmtpd and the ``sink`` do by default) and one not. Every reader the relay can take
gets the issue; the others fail with the reason, the send completes and nothing is left
pending. Messages are read back with the standard library's parser (policy=default).
"""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from helpers.newsletters import queue_issue, write_config
from helpers.smtp import ScriptedServer, serve_script

from newsletter import delivery, subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.delivery import outbox, tally
from newsletter.error import SmtpError
from newsletter.sink import Sink
from newsletter.subscribers import optin

# (address, name): each script with an ASCII address and with an internationalised one.
READERS = [
    ("zoe@example.org", "Zoë Dupont"),
    ("josé@example.org", "Jose Garcia"),  # an ASCII name with an internationalised address: what crashed
    ("ivan@example.org", "Иван Петров"),
    ("иван@пример.рф", "Иван Сидоров"),
    ("zhanna@example.kz", "Жанна Өмірзақ"),
    ("жанна@мысал.қаз", "Әлия Сәрсенқызы"),
    ("li@example.cn", "李小龙"),
    ("王芳@例子.中国", "王芳"),
    ("muhammad@example.org", "محمد العلي"),
    ("فاطمة@example.org", "فاطمة الزهراء"),
    ("quote@example.org", "Dear reader, attacker@evil.example"),
    ("plain@example.org", ""),
]
ASCII = [e for e, _ in READERS if e.isascii()]
INTERNATIONAL = [e for e, _ in READERS if not e.isascii()]


def _text(value: str) -> str:
    """Return a header part the parser left as undecoded UTF-8 bytes (an RFC 6532 address) as text."""
    return value.encode("ascii", "surrogateescape").decode("utf-8")


def _to(message: EmailMessage) -> tuple[str, str]:
    """Return the To header's one mailbox as (display name, address), read by the standard library."""
    addresses = message["To"].addresses
    assert len(addresses) == 1, message["To"]
    return addresses[0].display_name, _text(addresses[0].addr_spec)


def _newsletter(folder: Path, smtp_url: str, readers: list[tuple[str, str]], feeds: Path) -> Newsletter:
    write_config(folder, smtp_url=smtp_url, sources=[{"path": str(feeds / "rss2.xml")}])
    app = Newsletter(load(folder / "newsletter.toml", environ={}))
    for email, name in readers:
        subscribers.add(app.store, email, name=name, status="active")
    return app


@pytest.fixture
def utf8_relay() -> Iterator[ScriptedServer]:
    """A real aiosmtpd relay that offers SMTPUTF8."""
    with serve_script(smtputf8=True) as server:
        yield server


@pytest.fixture
def ascii_relay() -> Iterator[ScriptedServer]:
    """A real aiosmtpd relay that does not offer SMTPUTF8."""
    with serve_script(smtputf8=False) as server:
        yield server


def test_with_smtputf8_every_reader_gets_the_issue(tmp_path: Path, feeds: Path, utf8_relay: ScriptedServer) -> None:
    app = _newsletter(tmp_path, utf8_relay.url, READERS, feeds)
    stored = {s.email: s.name for s in subscribers.iterate(app.store, status="active")}
    assert len(stored) == len(READERS)
    report = app.send()
    counts = report.issues[0].counts
    assert (counts.sent, counts.failed, counts.pending, counts.deferred) == (len(READERS), 0, 0, 0)
    received = {m.recipients[0]: m for m in utf8_relay.script.accepted}
    assert set(received) == set(stored)
    for email, name in stored.items():
        raw = received[email].data
        message = message_from_bytes(raw, policy=policy.default)
        assert _to(message) == (name, email)
        head = raw.split(b"\r\n\r\n", 1)[0]
        # SMTPUTF8 and UTF-8 in the header only where an address needs it; names always in RFC 2047.
        assert utf8_relay.script.smtputf8[email] == (not email.isascii())
        assert head.isascii() == email.isascii()
        assert f"Sent to: {email}" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_without_smtputf8_the_others_fail_with_the_reason_and_the_send_completes(
        tmp_path: Path, feeds: Path, ascii_relay: ScriptedServer) -> None:
    app = _newsletter(tmp_path, ascii_relay.url, READERS, feeds)
    report = app.send()
    assert report.status == "sent"
    counts = report.issues[0].counts
    assert (counts.sent, counts.failed, counts.pending, counts.deferred) == (len(ASCII), len(INTERNATIONAL), 0, 0)
    assert sorted(m.recipients[0] for m in ascii_relay.script.accepted) == sorted(ASCII)
    names = dict(READERS)
    for m in ascii_relay.script.accepted:
        assert _to(m.parse()) == (names[m.recipients[0]], m.recipients[0])
    # The issue's report says which readers did not get it, and why.
    summary = app.deliveries(report.issues[0].number)
    failed = {f["email"]: f["last_error"] for f in summary.failures if f["status"] == "failed"}
    assert set(failed) == {subscribers.get(app.store, e).email for e in INTERNATIONAL}
    for email, error in failed.items():
        assert error == f"the relay does not offer SMTPUTF8, needed for {email}"
    assert outbox.unfinished(app.store) == []


def test_the_reported_attack_four_sent_one_failed_none_pending(tmp_path: Path, feeds: Path,
                                                               ascii_relay: ScriptedServer) -> None:
    readers = [("a@example.org", "A"), ("b@example.org", "B"), ("пример@example.org", "Primer"),
               ("c@example.org", "C"), ("d@example.org", "D")]
    app = _newsletter(tmp_path, ascii_relay.url, readers, feeds)
    report = app.send()
    number, counts = report.issues[0].number, report.issues[0].counts
    assert (counts.sent, counts.failed, counts.pending, counts.deferred) == (4, 1, 0, 0)
    assert sorted(m.recipients[0] for m in ascii_relay.script.accepted) == [e for e, _ in readers if e.isascii()]
    # A resume finds nothing to do and changes nothing.
    again = app.send()
    assert again.issues == [] and again.status == "nothing-new"
    assert app.work() == []
    assert app.deliveries(number).counts == counts
    assert len(ascii_relay.script.accepted) == 4


def test_a_message_that_cannot_be_built_fails_alone(tmp_path: Path, feeds: Path, sink: Sink) -> None:
    readers = [("a@example.org", "A"), ("broken@example.org", "B"), ("c@example.org", "C")]
    app = _newsletter(tmp_path, sink.url, readers, feeds)
    issue_id, composer = queue_issue(app)

    def stamp(message: bytes) -> bytes:  # whatever goes wrong with one reader's message
        if b"broken@example.org" in message:
            raise UnicodeEncodeError("ascii", "пример", 0, 1, "ordinal not in range(128)")
        return message

    result = delivery.deliver(app.store, composer, app.connection, issue_id=issue_id, smtp=app.config.smtp,
                              stamp=stamp)
    assert (result.sent, result.failed, result.pending) == (2, 1, 0)
    (failure,) = tally.failures(app.store, issue_id)
    assert failure["email"] == "broken@example.org"
    assert failure["last_error"].startswith("cannot build the message: UnicodeEncodeError:")
    assert sorted(m.recipients[0] for m in sink.messages) == ["a@example.org", "c@example.org"]


def test_the_confirmation_mail_uses_smtputf8_or_fails_with_the_reason(tmp_path: Path, ascii_relay: ScriptedServer,
                                                                   utf8_relay: ScriptedServer) -> None:
    plain = Newsletter(load(write_config(tmp_path, smtp_url=ascii_relay.url, sources=[]), environ={}))
    with pytest.raises(SmtpError, match="the relay does not offer SMTPUTF8, needed for пример@example.org"):
        optin.request(plain, "пример@example.org", name="Пример")
    assert ascii_relay.script.accepted == []
    utf8 = Newsletter(plain.config.replace(smtp={"url": utf8_relay.url}), store=plain.store)
    assert optin.request(utf8, "пример@example.org", name="Пример").sent  # the failed try held nothing back
    (received,) = utf8_relay.script.accepted
    assert received.recipients == ("пример@example.org",) and utf8_relay.script.smtputf8["пример@example.org"]
    assert _to(message_from_bytes(received.data, policy=policy.default)) == ("Пример", "пример@example.org")
    plain.store.close()


@pytest.mark.parametrize("name", ["Dear reader, attacker@evil.example", 'Ann "The Editor" <ann@evil.example>',
                                  "Жанна Өмірзақ", "李小龙", "محمد العلي", "Zoë, Dupont"])
def test_the_confirmation_mail_names_one_reader_whatever_the_name(tmp_path: Path, sink: Sink, name: str) -> None:
    app = Newsletter(load(write_config(tmp_path, smtp_url=sink.url, sources=[]), environ={}))
    optin.request(app, "reader@example.org", name=name)
    (received,) = sink.messages
    assert received.recipients == ("reader@example.org",)
    assert _to(received.parse()) == (name, "reader@example.org")
    app.store.close()


def test_a_test_copy_to_an_internationalised_address_goes_out_with_smtputf8(
        tmp_path: Path, feeds: Path, utf8_relay: ScriptedServer) -> None:
    app = _newsletter(tmp_path, utf8_relay.url, [], feeds)
    report = app.send(to="пример@example.org")
    assert report.status == "test"
    (received,) = utf8_relay.script.accepted
    assert received.recipients == ("пример@example.org",) and utf8_relay.script.smtputf8["пример@example.org"]
    assert _to(message_from_bytes(received.data, policy=policy.default)) == ("", "пример@example.org")
