"""The bounce mailbox over IMAP, against a real Dovecot: each message applied once, as a report file is, then moved."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.cli import one_line_error, run
from helpers.clock import Clock
from helpers.dovecot import PLAIN_CAPABILITIES, Mailbox, run_dovecot
from helpers.reports import AUTO_REPLY, attacker, headers_of, original, postfix
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.cli import cli
from newsletter.daemon import Daemon
from newsletter.delivery import dsn, mailbox
from newsletter.error import ConfigError
from newsletter.sink import Sink

FULL = {"status": "5.2.2", "diagnostic": "552 5.2.2 <{email}>: Mailbox full"}  # counts towards the limit


def _reading(app: Newsletter, url: str, ca: Path, **bounces: object) -> Newsletter:
    """Return ``app`` (same store) reading the mailbox at ``url``, trusting the test CA."""
    return Newsletter(app.config.replace(bounces={"imap_url": url, "ca_file": str(ca), **bounces}), store=app.store)


def _sent(app: Newsletter) -> Newsletter:
    assert app.send().status == "sent"
    return app


def test_each_message_is_applied_as_a_report_and_moved(app: Newsletter, sink: Sink, imap: Mailbox,
                                                       certificates: tuple[Path, Path, Path]) -> None:
    reading = _reading(_sent(app), imap.url(), certificates[0])
    genuine = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")))
    for message in (genuine, attacker("ann@example.org"), AUTO_REPLY, b"\x01\xff not mail"):
        imap.append(message)
    report = mailbox.collect(reading)
    assert [r.line() for r in report.results] == [
        "INBOX/1: delivery report: bounce bek@example.org (5.1.1, issue 1): marked bounced (the address is gone)",
        ("INBOX/2: delivery report: bounce ann@example.org (5.1.1): unverified (only the recipient's address says "
         "whose it is: no Message-ID or unsubscribe link we signed, and anyone can write an address)"),
        "INBOX/3: not a report: skipped (an automatic reply)",
        "error: INBOX/4: not an email message: no header lines",
    ]
    assert subscribers.get(app.store, "bek@example.org").status == "bounced"
    assert subscribers.get(app.store, "ann@example.org").status == "active"
    assert imap.messages("INBOX") == []
    assert [m.replace(b"\r\n", b"\n") for m in imap.messages("Processed")] == [
        genuine, attacker("ann@example.org"), AUTO_REPLY, b"\x01\xff not mail"]
    assert mailbox.collect(reading).results == []  # nothing left to read


def test_a_message_left_in_the_mailbox_is_never_applied_twice(app: Newsletter, sink: Sink, imap: Mailbox,
                                                              certificates: tuple[Path, Path, Path]) -> None:
    reading = _reading(_sent(app), imap.url(), certificates[0])
    full = postfix("bek@example.org", headers_of(original(sink, "bek@example.org")), **FULL)
    imap.append(full)
    [first] = mailbox.collect(reading).results
    assert first.applied[0].action == "counted"
    imap.append(full)  # the same message again: as if the move had failed after the receipt was kept
    [again] = mailbox.collect(reading).results
    assert again.line() == "INBOX/2: skipped (already applied: only moved)"
    assert subscribers.get(app.store, "bek@example.org").bounces == 1
    assert imap.messages("INBOX") == [] and len(imap.messages("Processed")) == 2

    # A crash between applying a report and keeping its receipt: the report is applied again, and counts nothing.
    other = postfix("cy@example.org", headers_of(original(sink, "cy@example.org")), **FULL)
    assert reading.process_reports([("cy.eml", other)]).results[0].applied[0].action == "counted"
    imap.append(other)
    [late] = mailbox.collect(reading).results
    assert late.applied[0].action == "already counted"
    assert subscribers.get(app.store, "cy@example.org").bounces == 1


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_tls_and_starttls(app: Newsletter, sink: Sink, imap: Mailbox, certificates: tuple[Path, Path, Path],
                          scheme: str) -> None:
    reading = _reading(_sent(app), imap.url(scheme), certificates[0])
    imap.append(postfix("cy@example.org", headers_of(original(sink, "cy@example.org"))))
    [result] = mailbox.collect(reading).results
    assert result.applied[0].action == "marked bounced"
    untrusted = Newsletter(reading.config.replace(bounces={"ca_file": ""}), store=app.store)
    with pytest.raises(mailbox.MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        mailbox.collect(untrusted)


def test_a_server_without_move_gets_copy_and_expunge(app: Newsletter, sink: Sink,
                                                     certificates: tuple[Path, Path, Path]) -> None:
    with run_dovecot(certificates, capabilities=PLAIN_CAPABILITIES) as dovecot:
        server = dovecot.user()
        keep = b"From: someone@example.org\nSubject: kept\n\nnot read: it arrives in another folder\n"
        server.append(keep, "Elsewhere")
        folder = "Обработанные"  # a folder name outside ASCII goes as modified UTF-7
        reading = _reading(_sent(app), server.url(), certificates[0], imap_folder=folder)
        server.append(postfix("ann@example.org", headers_of(original(sink, "ann@example.org"))))
        server.append(AUTO_REPLY)
        report = mailbox.collect(reading)
        assert [r.kind for r in report.results] == ["delivery report", "not a report"]
        assert server.messages("INBOX") == []
        client = server.client()
        listed = [line.decode().rsplit(" ", 1)[1].strip('"') for line in client.list()[1]]
        client.logout()
        [made] = [name for name in listed if name not in ("INBOX", "Elsewhere")]
        assert ("+" + made[1:]).replace(",", "/").encode().decode("utf-7") == folder  # RFC 3501's UTF-7, read back
        assert len(server.messages(made)) == 2 and server.messages("Elsewhere") == [keep]


def test_newsletter_run_reads_the_mailbox_every_poll_minutes(app: Newsletter, sink: Sink, imap: Mailbox,
                                                             certificates: tuple[Path, Path, Path]) -> None:
    reading = _reading(_sent(app), imap.url(), certificates[0], poll_minutes=10)
    clock = Clock(reading.clock())
    daemon = Daemon(reading, clock=clock)
    imap.append(postfix("ann@example.org", headers_of(original(sink, "ann@example.org")), **FULL))
    daemon.tick()
    assert subscribers.get(app.store, "ann@example.org").bounces == 1 and imap.messages("INBOX") == []
    imap.append(postfix("cy@example.org", headers_of(original(sink, "cy@example.org"))))
    clock.advance(minutes=5)
    daemon.tick()
    assert len(imap.messages("INBOX")) == 1  # not yet: ten minutes apart
    clock.advance(minutes=5)
    daemon.tick()
    assert imap.messages("INBOX") == [] and subscribers.get(app.store, "cy@example.org").status == "bounced"


def test_a_report_over_1_mib_is_refused_unread_and_moved(app: Newsletter, imap: Mailbox,
                                                        certificates: tuple[Path, Path, Path]) -> None:
    reading = _reading(app, imap.url(), certificates[0])
    imap.append(b"From: x@example.org\nSubject: big\n\n" + b"x" * (2 * dsn.LIMIT))
    start = time.perf_counter()
    [result] = mailbox.collect(reading).results
    assert time.perf_counter() - start < 5
    assert result.line() == "error: INBOX/1: too large: over 1048576 bytes (1 MiB), the most a report may have"
    assert imap.messages("INBOX") == []


BOUNDED = settings(max_examples=25, derandomize=True, database=None, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@BOUNDED
@given(st.lists(st.binary(min_size=1, max_size=2048), min_size=1, max_size=3))
def test_whatever_lands_in_the_mailbox_is_read_in_one_line_each_and_moved(
        app: Newsletter, imap: Mailbox, certificates: tuple[Path, Path, Path], bodies: list[bytes]) -> None:
    reading = _reading(app, imap.url(), certificates[0])
    for body in bodies:
        imap.append(b"Subject: any\n\n" + body if body.startswith((b"\n", b"\r")) else body)
    start = time.perf_counter()
    report = mailbox.collect(reading)
    assert time.perf_counter() - start < 5
    assert len(report.results) == len(bodies)
    assert all("\n" not in r.line() for r in report.results)
    assert imap.messages("INBOX") == []
    assert all(subscribers.get(app.store, e).status == "active" for e in ("ann@example.org", "bek@example.org"))


def test_the_command_reads_the_mailbox_of_the_environment(app: Newsletter, sink: Sink, imap: Mailbox,
                                                          newsletter_dir: Path,
                                                          certificates: tuple[Path, Path, Path]) -> None:
    _sent(app)
    config = newsletter_dir / "newsletter.toml"
    config.write_text(config.read_text() + f'\n[bounces]\nca_file = "{certificates[0]}"\n')
    imap.append(postfix("bek@example.org", headers_of(original(sink, "bek@example.org"))))
    done = run("bounces", "--imap", "--json", cwd=newsletter_dir, env={"NEWSLETTER_IMAP_URL": imap.url("imaps")})
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["bounces"], document["messages"][0]["name"]) == (1, "INBOX/1")
    wrong = run("bounces", "--imap", cwd=newsletter_dir, env={"NEWSLETTER_IMAP_URL": imap.url(password="wrong")})
    assert one_line_error(wrong) == (f"error: bounce mailbox imap://127.0.0.1:{imap.port}/INBOX: login refused: "
                                     "[AUTHENTICATIONFAILED] Authentication failed.") and wrong.stdout == ""
    assert one_line_error(run("bounces", "--imap", cwd=newsletter_dir)).startswith("error: bounces.imap_url is empty")


def test_a_missing_folder_or_paths_beside_imap_are_refused(app: Newsletter, imap: Mailbox,
                                                           certificates: tuple[Path, Path, Path]) -> None:
    with pytest.raises(mailbox.MailboxError, match=re.escape(
            f"bounce mailbox imap://127.0.0.1:{imap.port}/Nope: no folder 'Nope'")):
        mailbox.collect(_reading(app, imap.url(folder="Nope"), certificates[0]))
    both = CliRunner().invoke(cli, ["bounces", "--imap", "x.eml"])
    assert both.exit_code == 2 and "give no PATH with it" in both.output


@pytest.mark.parametrize(("url", "message"), [
    ("pop3://u:p@host/INBOX", "scheme must be one of imaps, imap+starttls, imap, got 'pop3'"),
    ("imaps://host/INBOX", "needs user:password@ before the host"),
    ("imaps://u:p@host:port/INBOX", "invalid port"),
])
def test_a_wrong_mailbox_address_is_one_clear_line(app: Newsletter, url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^bounces.imap_url: {re.escape(message)}"):
        mailbox.configured(app.config.replace(bounces={"imap_url": url}))
    with pytest.raises(ConfigError, match="^bounces.imap_folder: 'INBOX' is the folder read"):
        mailbox.configured(app.config.replace(bounces={"imap_url": "imaps://u:p@host/", "imap_folder": "INBOX"}))
