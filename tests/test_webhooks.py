"""Outbound webhooks against a real local receiver that checks every Standard Webhooks signature."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.cli import run
from helpers.clock import Clock
from helpers.newsletters import write_config
from helpers.receiver import Receiver

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.settings import WebhookSettings
from newsletter.sink import Sink, free_port
from newsletter.webhooks import sender
from newsletter.webhooks.signature import derived_secret, new_secret, sign, verify


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver holding a fresh secret, listening."""
    with Receiver(new_secret()) as found:
        yield found


def hooked(app: Newsletter, *hooks: dict[str, object], clock: Clock | None = None) -> Newsletter:
    """Return ``app`` (same store) with these ``[[webhooks]]`` and, if given, a hand-moved clock.

    The events of the fixture's readers are handed out first, to no endpoint (as a daemon
    running before the webhooks were configured would have).
    """
    app.deliver_webhooks()
    config = app.config.replace(webhooks=tuple(WebhookSettings(**h) for h in hooks))  # type: ignore[arg-type]
    return Newsletter(config, store=app.store, clock=clock)


def types(receiver: Receiver) -> list[str]:
    return [d.event["type"] for d in receiver.received]


def test_every_subscriber_event_reaches_the_endpoint_signed(app: Newsletter, receiver: Receiver) -> None:
    hooks = hooked(app, {"url": receiver.url, "secret": receiver.secret})
    ann = subscribers.add(hooks.store, "dee@example.org", name="Dee")
    subscribers.change(hooks.store, ann.id, "active", event="confirmed", origin="web")
    subscribers.update(hooks.store, ann.id, name="Dee Lee")  # preferences: no event
    subscribers.change(hooks.store, ann.id, "unsubscribed", origin="web")
    subscribers.change(hooks.store, ann.id, "bounced", origin="delivery")
    subscribers.change(hooks.store, ann.id, "complained", origin="feedback report")
    done = hooks.deliver_webhooks()
    assert types(receiver) == ["subscriber.created", "subscriber.confirmed", "subscriber.unsubscribed",
                               "subscriber.bounced", "subscriber.complained"]
    assert done.delivered == 5 and done.failed == 0
    assert all(d.verified for d in receiver.received)
    first = receiver.received[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["webhook-id"].startswith("msg_") and "." not in first.headers["webhook-id"]
    assert first.event["data"]["email"] == "dee@example.org" and first.event["data"]["status"] == "pending"
    assert first.event["timestamp"].endswith("Z")
    assert len({d.headers["webhook-id"] for d in receiver.received}) == 5
    assert hooks.deliver_webhooks().delivered == 0  # nothing twice


def test_a_receiver_rejects_a_changed_body_or_a_stale_timestamp(receiver: Receiver) -> None:
    body = b'{"type":"issue.sent"}'
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000",
               "webhook-signature": sign(receiver.secret, "msg_1", 1700000000, body)}
    assert verify(receiver.secret, headers, body, now=1700000000)
    assert not verify(receiver.secret, headers, body + b" ", now=1700000000)
    assert not verify(receiver.secret, headers, body, now=1700000000 + 301)
    assert not verify(new_secret(), headers, body, now=1700000000)


def test_an_event_is_queued_only_if_its_change_commits(app: Newsletter) -> None:
    reader = subscribers.get(app.store, "ann@example.org")
    with pytest.raises(RuntimeError), app.store.begin() as conn:
        subscribers.record_events(conn, app.store, [subscribers.event_row(
            reader.id, "unsubscribed", "unsubscribed", "web", datetime(2026, 1, 1))])
        raise RuntimeError("the change fails after its event was written")
    events = app.store.t.webhook_events
    with app.store.begin() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar()
    subscribers.change(app.store, reader.id, "unsubscribed")
    with app.store.begin() as conn:
        queued = conn.execute(sa.select(events.c.type).order_by(events.c.id.desc()).limit(1)).scalar()
        after = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar()
    assert (after - before, queued) == (1, "subscriber.unsubscribed")


def test_a_receiver_down_for_a_while_gets_every_event_in_order_per_subscriber(app: Newsletter) -> None:
    clock = Clock(datetime.now(UTC))
    receiver = Receiver(new_secret())  # not listening: connections are refused
    hooks = hooked(app, {"url": receiver.url, "secret": receiver.secret}, clock=clock)
    readers = [subscribers.add(hooks.store, f"w{i}@example.org") for i in range(3)]
    for reader in readers:
        subscribers.change(hooks.store, reader.id, "unsubscribed")
    failed = hooks.deliver_webhooks()
    assert failed.failed == 1 and failed.delivered == 0  # one refused connection ends the endpoint's pass
    for hours, status in ((1, "active"), (5, "unsubscribed")):
        clock.advance(hours=hours)
        for reader in readers:  # more happens while it is down
            subscribers.change(hooks.store, reader.id, status, event="confirmed" if status == "active" else None)
        assert hooks.deliver_webhooks().delivered == 0
    with receiver:
        for _ in range(12):  # a pass now and then, as the daemon's ticks make them
            clock.advance(hours=6)
            hooks.deliver_webhooks()
            if sender.totals(hooks.store)[receiver.url]["pending"] == 0:
                break
    assert all(d.verified for d in receiver.received)
    ids = [d.headers["webhook-id"] for d in receiver.received]
    assert len(ids) == len(set(ids)) == 4 * 3  # each event once
    for reader in readers:
        mine = [d.event["type"] for d in receiver.received if d.event["data"]["id"] == reader.id]
        assert mine == ["subscriber.created", "subscriber.unsubscribed", "subscriber.confirmed",
                        "subscriber.unsubscribed"]
    assert sender.totals(hooks.store)[receiver.url] == {"pending": 0, "delivered": 12, "failed": 0}


def test_an_endpoint_that_keeps_failing_gives_up_after_the_schedule(app: Newsletter, receiver: Receiver) -> None:
    clock = Clock(datetime.now(UTC))
    receiver.status = 500
    hooks = hooked(app, {"url": receiver.url, "secret": receiver.secret, "events": ["subscriber.unsubscribed"]},
                   clock=clock)
    subscribers.remove(hooks.store, "ann@example.org")
    for _ in range(len(sender.SCHEDULE) + 3):
        hooks.deliver_webhooks()
        [attempt] = sender.attempts(hooks.store)
        if attempt.status != "pending":
            break
        clock.advance(hours=25)
    assert (attempt.status, attempt.attempts, attempt.last_code) == ("failed", len(sender.SCHEDULE) + 1, 500)
    assert len(receiver.received) == len(sender.SCHEDULE) + 1


def test_a_failing_endpoint_never_blocks_a_send_and_issue_sent_follows(app: Newsletter, sink: Sink,
                                                                       receiver: Receiver) -> None:
    down = f"http://127.0.0.1:{free_port()}/nobody-listens"
    hooks = hooked(app, {"url": down, "events": ["issue.sent"]},
                   {"url": receiver.url, "secret": receiver.secret, "events": ["issue.sent"]})
    report = hooks.send()
    assert report.status == "sent" and len(sink.messages) == 3
    assert hooks.work() == []  # the worker's pass: one endpoint refuses, the other gets the event
    [event] = [d.event for d in receiver.received]
    assert event["type"] == "issue.sent"
    assert event["data"]["number"] == 1 and event["data"]["deliveries"]["sent"] == 3
    pending = [a for a in sender.attempts(hooks.store) if a.url == down]
    assert [(a.status, a.attempts) for a in pending] == [("pending", 1)]
    assert "ConnectError" in pending[0].last_error


def test_a_webhook_without_a_secret_signs_with_one_derived_for_its_url(app: Newsletter) -> None:
    with Receiver(derived_secret(app.store.secret(app.config.newsletter.secret_key), "")) as probe:
        secret = derived_secret(app.store.secret(app.config.newsletter.secret_key), probe.url)
        probe.secret = secret
        hooks = hooked(app, {"url": probe.url})
        subscribers.remove(hooks.store, "cy@example.org")
        hooks.deliver_webhooks()
    assert [d.verified for d in probe.received] == [True]
    assert secret.startswith("whsec_") and secret != derived_secret("another key", probe.url)


def test_webhooks_list_shows_the_endpoints_and_recent_attempts(newsletter_dir: Path, receiver: Receiver) -> None:
    config = newsletter_dir / "newsletter.toml"
    config.write_text(config.read_text(encoding="utf-8") + f'\n[[webhooks]]\nurl = "{receiver.url}"\n'
                      f'secret = "{receiver.secret}"\n', encoding="utf-8")
    app = Newsletter(load(config, environ={}))
    subscribers.add(app.store, "eve@example.org", status="active")
    app.close()
    assert run("worker", cwd=newsletter_dir).returncode == 0
    listed = run("webhooks", "list", cwd=newsletter_dir)
    assert listed.returncode == 0, listed.stderr
    assert f"{receiver.url}: 1 delivered, 0 pending, 0 failed" in listed.stdout
    assert "delivered subscriber.created" in listed.stdout and "HTTP 200" in listed.stdout
    secret = run("webhooks", "secret", cwd=newsletter_dir)
    assert secret.stdout.split() == [receiver.url, receiver.secret]
    assert types(receiver) == ["subscriber.created"] and receiver.received[0].event["data"]["status"] == "active"


def test_on_postgresql_two_senders_at_once_deliver_each_event_once_in_order(
        tmp_path: Path, documents: Path, postgres_url: str, receiver: Receiver) -> None:
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[{"path": "inbox"}],
                 extra=f'\n[[webhooks]]\nurl = "{receiver.url}"\nsecret = "{receiver.secret}"\n')
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_DATABASE_URL": postgres_url}))
    assert app.store.engine.dialect.name == "postgresql"
    readers = [subscribers.add(app.store, f"p{i}@example.org") for i in range(20)]
    for reader in readers:
        subscribers.change(app.store, reader.id, "active", event="confirmed")
        subscribers.change(app.store, reader.id, "unsubscribed")
    with ThreadPoolExecutor(2) as pool:  # a daemon and a worker, say, at the same moment
        list(pool.map(lambda _: app.deliver_webhooks(), range(2)))
    app.deliver_webhooks()  # anything one of them left to the other
    ids = [d.headers["webhook-id"] for d in receiver.received]
    assert len(ids) == len(set(ids)) == 3 * 20 and all(d.verified for d in receiver.received)
    for reader in readers:
        mine = [d.event["type"] for d in receiver.received if d.event["data"]["id"] == reader.id]
        assert mine == ["subscriber.created", "subscriber.confirmed", "subscriber.unsubscribed"]
    app.store.close()
