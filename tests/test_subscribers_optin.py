"""Double opt-in through a real SMTP sink: confirmation links that expire, paced re-sends, suppression."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.newsletters import tamper, write_config
from helpers.smtp import ScriptedServer

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.error import SmtpError, SubscriberError
from newsletter.sink import Sink, free_port
from newsletter.subscribers import optin
from newsletter.tokens import CONFIRM, LinkError, Signer

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def open_newsletter(folder: Path, smtp_url: str, clock: Clock) -> Newsletter:
    write_config(folder, smtp_url=smtp_url, sources=[],
                 extra="\n[web]\nconfirm_hours = 48\nresend_minutes = 10\n")
    return Newsletter(load(folder / "newsletter.toml", environ={}), clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, sink: Sink, clock: Clock) -> Iterator[Newsletter]:
    newsletter = open_newsletter(tmp_path, sink.url, clock)
    yield newsletter
    newsletter.store.close()


def confirmation_link(sink: Sink, index: int = -1) -> str:
    text = sink.messages[index].parse().get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"https://news\.example\.org/confirm/(\S+)", text)
    assert found, text
    return found.group(1)


def test_sign_up_mails_a_link_that_makes_the_reader_active(app: Newsletter, sink: Sink, clock: Clock) -> None:
    with pytest.raises(SubscriberError, match=r"^unknown section 'Chna'; did you mean 'China'\?$"):
        optin.request(app, "New.Reader@Example.org", name="Nia", sections=["russia", "Chna"])
    assert sink.messages == [] and subscribers.find(app.store, "new.reader@example.org") is None
    signup = optin.request(app, "New.Reader@Example.org", name="Nia", sections=["china"])
    assert (signup.email, signup.sent, signup.reason) == ("New.Reader@example.org", True, "sent")
    pending = subscribers.get(app.store, "new.reader@example.org")
    assert (pending.status, pending.name, pending.sections, pending.origin) == ("pending", "Nia", ("China",), "web")
    assert pending.confirm_sent_at == T0
    mail = sink.messages[0].parse()
    assert sink.messages[0].recipients == ("New.Reader@example.org",)
    assert mail["Subject"] == "Confirm your subscription to Test Briefing"
    token = confirmation_link(sink)
    clock.advance(hours=47)
    assert optin.pending_confirmation(app, token).status == "pending"  # looking changes nothing
    active = optin.confirm(app, token)
    assert active.status == "active" and active.confirmed_at == T0 + timedelta(hours=47)
    assert optin.confirm(app, token) == active  # a second click is harmless
    events = [(e.event, e.status) for e in subscribers.events(app.store, active.id)]
    assert events == [("added", "pending"), ("confirmation-sent", "pending"), ("confirmed", "active")]


def test_links_expire_and_tampered_links_change_nothing(app: Newsletter, sink: Sink, clock: Clock) -> None:
    optin.request(app, "late@example.org")
    token = confirmation_link(sink)
    clock.advance(hours=48, seconds=1)
    with pytest.raises(LinkError, match="expired"):
        optin.confirm(app, token)
    head, _, signature = token.rpartition(".")
    for bad in (head + "." + signature[::-1], token[:-2], "nonsense", app.signer().sign("unsubscribe", 1)):
        with pytest.raises(LinkError, match="invalid or tampered"):
            optin.confirm(app, bad)
    other = Signer("another secret").sign_expiring(CONFIRM, 1, clock.now)
    with pytest.raises(LinkError):
        optin.confirm(app, other)
    assert subscribers.get(app.store, "late@example.org").status == "pending"


def test_repeated_sign_ups_send_one_mail_per_interval_and_reveal_nothing(app: Newsletter, sink: Sink,
                                                                          clock: Clock) -> None:
    assert optin.request(app, "twice@example.org").sent
    clock.advance(minutes=9)
    again = optin.request(app, "TWICE@example.org", name="Tom")
    assert (again.sent, again.reason) == (False, "recently-sent")
    assert len(sink.messages) == 1
    assert subscribers.get(app.store, "twice@example.org").name == "Tom"  # still pending: their choice counts
    clock.advance(minutes=1)
    assert optin.request(app, "twice@example.org").sent
    assert len(sink.messages) == 2
    subscribers.add(app.store, "reader@example.org", name="Rita", status="active")
    known = optin.request(app, "reader@example.org", name="Mallory", sections=["Russia"])
    assert (known.sent, known.reason) == (False, "already-active")
    reader = subscribers.get(app.store, "reader@example.org")
    assert (reader.name, reader.sections) == ("Rita", ())  # a stranger cannot change an active reader
    assert len(sink.messages) == 2
    with pytest.raises(SubscriberError, match="invalid email address"):
        optin.request(app, "nobody@")


def test_only_the_readers_own_new_confirmation_lifts_suppression(app: Newsletter, sink: Sink, clock: Clock) -> None:
    optin.request(app, "leaver@example.org")
    old_token = confirmation_link(sink)
    clock.advance(minutes=1)
    subscriber = optin.confirm(app, old_token)
    clock.advance(minutes=1)
    optin.unsubscribe(app, app.signer().sign("unsubscribe", subscriber.id))
    with pytest.raises(LinkError, match="older than your latest change"):
        optin.confirm(app, old_token)
    assert subscribers.get(app.store, "leaver@example.org").status == "unsubscribed"
    clock.advance(minutes=10)
    assert optin.request(app, "leaver@example.org").sent
    assert subscribers.get(app.store, "leaver@example.org").status == "unsubscribed"  # not until they click
    back = optin.confirm(app, confirmation_link(sink))
    assert back.status == "active" and back.unsubscribed_at == T0 + timedelta(minutes=2)


def test_a_mail_server_failure_records_no_send(tmp_path: Path, scripted_smtp: ScriptedServer, clock: Clock) -> None:
    app = open_newsletter(tmp_path, scripted_smtp.url, clock)
    scripted_smtp.script.rcpt["refused@example.org"] = "550 5.1.1 No such user"
    with pytest.raises(SmtpError):
        optin.request(app, "refused@example.org")
    assert subscribers.get(app.store, "refused@example.org").confirm_sent_at is None
    del scripted_smtp.script.rcpt["refused@example.org"]
    assert optin.request(app, "refused@example.org").sent  # no wait imposed by the failed try
    assert len(scripted_smtp.script.accepted) == 1
    app.store.close()
    (tmp_path / "down").mkdir()
    down = open_newsletter(tmp_path / "down", f"smtp://127.0.0.1:{free_port()}", clock)
    with pytest.raises(SmtpError):
        optin.request(down, "someone@example.org")
    assert subscribers.get(down.store, "someone@example.org").confirm_sent_at is None
    down.store.close()


def test_preferences_and_unsubscribe_through_the_permanent_link(app: Newsletter) -> None:
    reader = subscribers.add(app.store, "pat@example.org", name="Pat", status="active")
    token = app.signer().sign("unsubscribe", reader.id)
    assert token == Signer(app.store.secret("")).sign("unsubscribe", reader.id)
    changed = optin.set_preferences(app, token, name="Patricia", sections=["Russia", "Energy"])
    assert (changed.name, changed.sections) == ("Patricia", ("Russia", "Energy"))
    every = optin.set_preferences(app, token, name="Patricia", sections=["Russia", "China", "Energy", "In brief"])
    assert every.sections == ()  # every section ticked is stored as "all", so new sections come too
    gone = optin.unsubscribe(app, token, origin="one-click")
    assert gone.status == "unsubscribed" and subscribers.events(app.store, reader.id)[-1].origin == "one-click"
    assert optin.unsubscribe(app, token).unsubscribed_at == gone.unsubscribed_at
    with pytest.raises(LinkError):
        optin.unsubscribe(app, tamper(token))


def test_the_permanent_token_format_is_unchanged() -> None:
    # Links in mail already sent carry this format: it must never change.
    assert Signer("test-secret").sign("unsubscribe", 42) == "WyJ1bnN1YnNjcmliZSIsNDJd.qSr50FIlM9ZwcoaK6os7oUG0Fr4"
    assert Signer("test-secret").check("unsubscribe", "WyJ1bnN1YnNjcmliZSIsNDJd.qSr50FIlM9ZwcoaK6os7oUG0Fr4") == 42
