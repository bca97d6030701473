"""Property tests of what reads ESP webhook bodies: whatever a provider relays, one answer, in time, no reader changed.

The bodies are arbitrary JSON, JSON built from the providers' own field names and
values, real payloads with a few bytes damaged, and arbitrary bytes; each is signed
as its provider would sign it, so it gets past the verification to the reader of
events. Only the project's own errors may come out (one line each), every event's
result is one line, and none of it proves anything: no reader changes. Hostile
bodies of 1 MiB are answered within the deadline. The example budget is fixed and
the examples derandomised.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from cryptography import x509
from helpers.damage import bounded, damaged
from helpers.esp import (
    MAILGUN_KEY,
    POSTMARK,
    TOPIC,
    SendGrid,
    Sns,
    mailgun,
    mailgun_failed,
    postmark_auth,
    postmark_bounce,
    ses_bounce,
    ses_complaint,
    ses_headers,
)
from helpers.reports import attacker
from hypothesis import given
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.delivery import bounces, esp
from newsletter.delivery.dsn import LIMIT
from newsletter.delivery.esp.ses import SnsFetcher
from newsletter.error import BounceError
from newsletter.settings import BouncesSettings

BOUNDED = bounded(150)
READERS = ("ann@example.org", "bek@example.org", "cy@example.org")
SNS, SENDGRID = Sns.make(), SendGrid()
SNS.cert_url = "https://127.0.0.1/SimpleNotificationService-0123.pem"
SETTINGS = BouncesSettings(ses_topics=[TOPIC], sns_cert_hosts=["127.0.0.1"], mailgun_key=MAILGUN_KEY,
                           postmark_user=POSTMARK[0], postmark_password=POSTMARK[1], sendgrid_key=SENDGRID.public)
TOKENS = itertools.count()

NAMES = ["notificationType", "eventType", "mail", "bounce", "complaint", "bouncedRecipients", "complainedRecipients",
         "emailAddress", "status", "action", "diagnosticCode", "bounceType", "bounceSubType", "commonHeaders",
         "messageId", "headers", "name", "value", "complaintFeedbackType", "complaintSubType", "userAgent", "event",
         "recipient", "severity", "delivery-status", "code", "message", "description", "enhanced-code", "id",
         "RecordType", "Type", "Email", "Content", "Details", "ID", "email", "sg_event_id", "smtp-id", "reason"]
WORDS = ["Bounce", "Complaint", "Permanent", "Transient", "NoEmail", "failed", "complained", "permanent", "abuse",
         "HardBounce", "SpamComplaint", "bounce", "spamreport", "dropped", "deferred", "5.1.1", "5.7.1", "4.2.2",
         "smtp; 550 5.1.1 user unknown", "Message-ID", "List-Unsubscribe", *READERS,
         "<issue1.r2.aaaaaaaaaaaaaaaaaaaaaaaaaa@example.org>", "issue1.r1.0123456789ab@example.org",
         "<https://news.example.org/unsubscribe/WyJ1bnN1YnNjcmliZSIsMV0.x>"]
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40) \
    | st.sampled_from(WORDS)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=10), inner, max_size=6),
                      max_leaves=40)
shaped = st.dictionaries(st.sampled_from(NAMES), values, max_size=8)


def _post(app: Newsletter, provider: str, body: bytes,
          headers: dict[str, str] | None = None) -> esp.WebhookOutcome | None:
    """Hand a signed request to the library as the web app does; return its outcome, None for a one-line error."""
    fetcher = SnsFetcher(5)
    fetcher.certificates[SNS.cert_url] = x509.load_pem_x509_certificate(SNS.certificate)  # no HTTP here
    posted = esp.Posted(body, {k.lower(): v for k, v in (headers or {}).items()}, https=True)
    start = time.perf_counter()
    try:
        outcome = esp.receive(provider, posted, settings=SETTINGS, now=app.clock(), fetcher=fetcher,
                              applier=bounces.reports(app.config, app.store, app.signer()))
    except esp.WebhookRefused as e:
        pytest.fail(f"a signed request was refused: {e}")
    except BounceError as e:
        assert str(e) and "\n" not in str(e)
        return None
    finally:
        assert time.perf_counter() - start < 5
    assert all("\n" not in r.line() for r in outcome.report.results)
    return outcome


def _signed(app: Newsletter, provider: str, value: Any) -> tuple[bytes, dict[str, str]]:
    """Return ``value`` as a body the provider would post, with its signature."""
    now = app.clock()
    if provider == "ses":
        message = SNS.message("Notification", json.dumps(value), at=now, message_id=f"m-{next(TOKENS)}")
        return json.dumps(message).encode(), {}
    if provider == "mailgun":
        return mailgun(value, at=now, token=f"token-{next(TOKENS)}".ljust(50, "x")), {}
    body = json.dumps(value).encode()
    if provider == "postmark":
        return body, postmark_auth()
    return body, SENDGRID.headers(body, at=now)


def _state(app: Newsletter) -> list[tuple[str, str, int]]:
    return [(r.email, r.status, r.bounces) for r in (subscribers.get(app.store, e) for e in READERS)]


PROVIDERS = st.sampled_from(["ses", "mailgun", "postmark", "sendgrid"])


@BOUNDED
@given(PROVIDERS, values | shaped | st.lists(shaped, max_size=5))
def test_any_signed_json_changes_no_reader(app: Newsletter, provider: str, value: Any) -> None:
    before = _state(app)
    body, headers = _signed(app, provider, value)
    _post(app, provider, body, headers)
    assert _state(app) == before


def _real(app: Newsletter) -> dict[str, bytes]:
    """Return a real body of each kind, proving nothing (no Message-ID or link of ours)."""
    now, mail = app.clock(), ses_headers("<x1@example.org>", "<https://news.example.org/unsubscribe/abc.def>")
    sendgrid = json.dumps([{"email": "ann@example.org", "event": "bounce", "status": "5.1.1", "sg_event_id": "e",
                            "smtp-id": "<issue1.r1.aaaaaaaaaaaaaaaaaaaaaaaaaa@example.org>"}]).encode()
    return {
        "ses": ses_bounce("ann@example.org", mail=mail).encode(),
        "ses complaint": ses_complaint("bek@example.org", mail=mail).encode(),
        "mailgun": json.dumps(mailgun_failed("cy@example.org", "<x2@example.org>")).encode(),
        "postmark": postmark_bounce("ann@example.org", attacker("ann@example.org").decode()),
        "sendgrid": sendgrid,
        "mailgun signed": mailgun(mailgun_failed("cy@example.org", "<x3@example.org>"), at=now),
    }


PIECES = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"\\u0000", b"null", b"1e999", b"-", b"\xff", b"\xd0",
          b'"Permanent"', b'"failed"', b'"5.1.1"', b'"abuse"']


@BOUNDED
@given(st.sampled_from(["ses", "ses complaint", "mailgun", "postmark", "sendgrid"]), st.data())
def test_damaged_real_bodies_change_no_reader(app: Newsletter, kind: str, data: st.DataObject) -> None:
    before = _state(app)
    body = _real(app)[kind]
    broken = data.draw(st.composite(lambda draw: damaged(draw, body, PIECES))())
    provider = kind.split()[0]
    if provider == "ses":  # the damage is inside the notification SNS carries, signed as SNS signs it
        broken = json.dumps(SNS.message("Notification", broken.decode("utf-8", "replace"), at=app.clock(),
                                        message_id=f"d-{next(TOKENS)}")).encode()
        _post(app, "ses", broken)
    elif provider == "mailgun":
        try:
            event = json.loads(broken)
        except ValueError:
            event = broken.decode("utf-8", "replace")
        _post(app, "mailgun", mailgun(event, at=app.clock(), token=f"d-{next(TOKENS)}".ljust(50, "x")))
    else:
        _post(app, provider, broken, postmark_auth() if provider == "postmark" else SENDGRID.headers(
            broken, at=app.clock()))
    assert _state(app) == before


@BOUNDED
@given(PROVIDERS, st.binary(max_size=4096))
def test_any_unsigned_bytes_are_refused_in_one_line(app: Newsletter, provider: str, body: bytes) -> None:
    before = _state(app)
    posted = esp.Posted(body, {}, https=True)
    with pytest.raises(BounceError) as refused:
        esp.receive(provider, posted, settings=SETTINGS, now=app.clock(), fetcher=SnsFetcher(5),
                    applier=bounces.reports(app.config, app.store, app.signer()))
    assert "\n" not in str(refused.value)
    if isinstance(refused.value, esp.WebhookRefused):
        assert 400 <= refused.value.status < 500
    assert _state(app) == before


_SIZE = LIMIT - 4096
HOSTILE = {
    "nesting": b"[" * _SIZE,
    "number": b"[" + b"1" * _SIZE + b"]",
    "string": json.dumps(["x" * _SIZE]).encode(),
    "events": json.dumps([{"event": "bounce", "email": "ann@example.org", "status": "5.1.1"}] * 1001).encode(),
    "many events": json.dumps([{"event": "bounce", "email": f"r{i}@example.org", "sg_event_id": str(i)}
                               for i in range(1000)]).encode()[:_SIZE],
    "recipients": json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent",
                              "bouncedRecipients": [{"emailAddress": "ann@example.org"}] * 20000}}).encode(),
    "content": postmark_bounce("ann@example.org", "Content-Type: multipart/report; " + "a=b; " * (_SIZE // 6)),
}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("provider", ["ses", "postmark", "sendgrid"])
def test_a_hostile_body_of_1_mib_is_answered_in_time(app: Newsletter, provider: str, name: str) -> None:
    data = HOSTILE[name]
    before = _state(app)
    if provider == "ses":
        _post(app, "ses", json.dumps(SNS.message("Notification", data.decode(), at=app.clock(),
                                                 message_id=f"h-{next(TOKENS)}")).encode()[:LIMIT])
    else:
        _post(app, provider, data, postmark_auth() if provider == "postmark" else SENDGRID.headers(data, at=app.clock()))
    assert _state(app) == before
    too_large = esp.Posted(data + b" " * (LIMIT + 1 - len(data)), {}, https=True)
    with pytest.raises(esp.WebhookRefused, match="too large"):
        esp.receive(provider, too_large, settings=SETTINGS, now=app.clock(), fetcher=SnsFetcher(5),
                    applier=bounces.reports(app.config, app.store, app.signer()))
