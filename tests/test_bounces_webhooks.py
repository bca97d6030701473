"""ESP webhooks posted to the web app: verified before anything is believed, then applied as a report by mail is.

Each provider's requests are made as the provider makes them, signed with keys the
tests generate; Amazon SNS's signing certificate is served over HTTPS by a local
server (the test CA's), as Amazon serves its own.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers.asgi import InProcess
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
from helpers.http import Web, serve
from helpers.reports import arf, headers_of, message_id_of, original, postfix

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.delivery import receipts
from newsletter.delivery.esp.ses import trusted
from newsletter.settings import BouncesSettings
from newsletter.sink import Sink
from newsletter.store import Store
from newsletter.web import create_app

CERT, CONFIRM = "/SimpleNotificationService-0123.pem", "/?Action=ConfirmSubscription&Token=2336412f37fb"
SENDGRID = SendGrid()


@contextmanager
def _amazon(certificates: tuple[Path, Path, Path], sns: Sns) -> Iterator[Web]:
    """Serve the SNS signing certificate and the subscription link over HTTPS (the test CA's certificate)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates[1], certificates[2])
    with serve(tls=context) as web:
        sns.cert_url = web.static(CERT, sns.certificate, "application/x-pem-file", etag=False)
        web.static(CONFIRM, b"<ConfirmSubscriptionResponse/>", "text/xml", etag=False)
        yield web


def _hooked(app: Newsletter, certificates: tuple[Path, Path, Path], base_url: str = "https://testserver",
            **changes: Any) -> InProcess:
    """Return the web app of ``app`` (same store) with every webhook set up, driven in-process."""
    bounces = {"ses_topics": [TOPIC], "sns_cert_hosts": ["127.0.0.1"], "ca_file": str(certificates[0]),
               "mailgun_key": MAILGUN_KEY, "postmark_user": POSTMARK[0], "postmark_password": POSTMARK[1],
               "sendgrid_key": SENDGRID.public, **changes}
    newsletter = {"base_url": base_url.replace("testserver", "news.example.org")}
    return InProcess(create_app(Newsletter(app.config.replace(bounces=bounces, newsletter=newsletter),
                                           store=app.store)), base_url=base_url)


def _sent(app: Newsletter) -> Newsletter:
    assert app.send().status == "sent"
    return app


def _reader(app: Newsletter, email: str) -> tuple[str, int]:
    reader = subscribers.get(app.store, email)
    return reader.status, reader.bounces


def _finding(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    [message] = response.json()["messages"]
    [finding] = message["findings"]
    return finding


def _unsubscribe(message: bytes) -> str:
    """Return the List-Unsubscribe value of a message we sent, unfolded."""
    head = headers_of(message).replace("\n ", " ").replace("\n\t", " ")
    return next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("List-Unsubscribe:"))


def test_ses_confirms_its_subscription_and_applies_a_bounce_once(app: Newsletter, sink: Sink,
                                                                certificates: tuple[Path, Path, Path]) -> None:
    _sent(app)
    sns, now = Sns.make(), app.clock()
    with _amazon(certificates, sns) as amazon:
        client = _hooked(app, certificates)
        confirm = sns.message("SubscriptionConfirmation", "You have chosen to subscribe to the topic.", at=now,
                              subscribe_url=amazon.url(CONFIRM))
        answer = client.post("/bounces/ses", json=confirm)
        assert (answer.status_code, answer.json()["note"]) == (200, f"subscription to {TOPIC} confirmed")
        assert len(amazon.hits(CONFIRM)) == 1

        bek = original(sink, "bek@example.org")
        notification = sns.message("Notification", ses_bounce("bek@example.org", mail=ses_headers(
            message_id_of(bek), "")), at=now, message_id="b-1")
        finding = _finding(client.post("/bounces/ses", json=notification))
        assert (finding["action"], finding["evidence"], finding["issue"]) == ("marked bounced", "Message-ID", 1)
        assert _reader(app, "bek@example.org") == ("bounced", 1)
        again = client.post("/bounces/ses", json=notification)  # SNS delivers at least once
        assert again.json()["messages"][0]["reason"] == "already applied"
        assert len(amazon.hits(CERT)) == 1  # the certificate is fetched once, then kept

        # A complaint, signed the older way (SHA1), with the original's headers: its signed link proves whose.
        ann = original(sink, "ann@example.org")
        complaint = sns.message("Notification", ses_complaint("ann@example.org", mail=ses_headers(
            message_id_of(ann), _unsubscribe(ann))), at=now, version="1", message_id="c-1")
        assert _finding(client.post("/bounces/ses", json=complaint))["action"] == "marked complained"
        assert _reader(app, "ann@example.org")[0] == "complained"

        # SES set to leave the headers out: the address alone proves nothing.
        bare = sns.message("Notification", ses_bounce("cy@example.org"), at=now, message_id="b-2")
        assert _finding(client.post("/bounces/ses", json=bare))["action"] == "unverified"
        assert _reader(app, "cy@example.org") == ("active", 0)


def test_ses_believes_nothing_unverified(app: Newsletter, sink: Sink, certificates: tuple[Path, Path, Path]) -> None:
    _sent(app)
    sns, now = Sns.make(), app.clock()
    body = ses_bounce("bek@example.org", mail=ses_headers(message_id_of(original(sink, "bek@example.org")), ""))
    with _amazon(certificates, sns) as amazon:
        client = _hooked(app, certificates)
        genuine = sns.message("Notification", body, at=now)
        other_topic = "arn:aws:sns:eu-west-1:999999999999:someone-else"
        cases: dict[str, tuple[dict[str, Any], str]] = {
            "tampered": ({**genuine, "Message": body.replace("5.1.1", "5.1.2")}, "does not match"),
            "unsigned": ({k: v for k, v in genuine.items() if k != "Signature"}, "unsigned"),
            "replayed": (sns.message("Notification", body, at=now - timedelta(hours=2)), "refused as a replay"),
            "topic": (sns.message("Notification", body, at=now, topic=other_topic), "not one of bounces.ses_topics"),
            "certificate elsewhere": ({**genuine, "SigningCertURL": "https://127.0.0.2/x.pem"}, "SigningCertURL"),
            "version": ({**genuine, "SignatureVersion": "3"}, "unknown SignatureVersion"),
            "other key": (Sns.make().message("Notification", body, at=now) | {"SigningCertURL": sns.cert_url},
                          "does not match"),
        }
        for name, (message, why) in cases.items():
            answer = client.post("/bounces/ses", json=message)
            assert answer.status_code == 403 and why in answer.json()["detail"], (name, answer.text)
        assert len(amazon.hits(CERT)) == 1  # a topic not ours, or a certificate elsewhere, fetches nothing
    assert _reader(app, "bek@example.org") == ("active", 0)
    assert client.post("/bounces/ses", content=b"{").status_code == 400
    assert not trusted("https://sns.s3.amazonaws.com/x.pem", BouncesSettings().sns_cert_hosts)  # an S3 bucket
    assert not trusted("https://sns.eu-west-1.amazonaws.com.evil.example/x.pem", BouncesSettings().sns_cert_hosts)
    assert not trusted("http://sns.eu-west-1.amazonaws.com/x.pem", BouncesSettings().sns_cert_hosts)
    assert trusted("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem",
                   BouncesSettings().sns_cert_hosts)


def test_mailgun_signed_events_apply_and_forgeries_change_nothing(app: Newsletter, sink: Sink,
                                                                  certificates: tuple[Path, Path, Path]) -> None:
    _sent(app)
    client, now = _hooked(app, certificates), app.clock()
    bek_id = message_id_of(original(sink, "bek@example.org"))
    forged = mailgun_failed("ann@example.org", "<x@example.org>")
    for body, why in [
        (mailgun(mailgun_failed("bek@example.org", bek_id), at=now, key="key-not-ours"), "does not match"),
        (mailgun(mailgun_failed("bek@example.org", bek_id), at=now - timedelta(hours=1)), "refused as a replay"),
        (json.dumps({"event-data": forged}).encode(), "unsigned"),
    ]:
        answer = client.post("/bounces/mailgun", content=body)
        assert answer.status_code == 403 and why in answer.json()["detail"], answer.text
    assert _reader(app, "bek@example.org") == ("active", 0)

    finding = _finding(client.post("/bounces/mailgun", content=mailgun(mailgun_failed("bek@example.org", bek_id),
                                                                        at=now, token="t" * 50)))
    assert (finding["action"], finding["status"], finding["evidence"]) == ("marked bounced", "5.1.1", "Message-ID")
    # The HMAC covers the timestamp and token only: the same token with another event is a replay.
    reused = client.post("/bounces/mailgun", content=mailgun(forged, at=now, token="t" * 50))
    assert reused.status_code == 403 and "used before" in reused.json()["detail"]
    complaint = {"event": "complained", "id": "cmp-1", "recipient": "cy@example.org",
                 "message": {"headers": {"message-id": message_id_of(original(sink, "cy@example.org")).strip("<>")}}}
    finding = _finding(client.post("/bounces/mailgun", content=mailgun(complaint, at=now, token="u" * 50)))
    assert finding["action"] == "unverified" and "unsubscribe link" in finding["reason"]  # no link comes back
    assert _reader(app, "cy@example.org") == ("active", 0) and _reader(app, "ann@example.org") == ("active", 0)
    quiet = client.post("/bounces/mailgun", content=mailgun({"event": "delivered", "id": "d"}, at=now, token="v" * 50))
    assert (quiet.status_code, quiet.json()["messages"]) == (200, [])


def test_postmark_takes_basic_auth_over_https_only(app: Newsletter, sink: Sink,
                                                   certificates: tuple[Path, Path, Path]) -> None:
    _sent(app)
    client = _hooked(app, certificates)
    bek = original(sink, "bek@example.org")
    record = postmark_bounce("bek@example.org", postfix("bek@example.org", headers_of(bek)).decode())
    for headers in ({}, postmark_auth(password="wrong"), postmark_auth(user="other"),
                    {"Authorization": "Basic !!"}, {"Authorization": "Bearer " + POSTMARK[1]}):
        answer = client.post("/bounces/postmark", content=record, headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Basic")
    plain = _hooked(app, certificates, base_url="http://testserver")
    answer = plain.post("/bounces/postmark", content=record, headers=postmark_auth())
    assert answer.status_code == 403 and "https only" in answer.json()["detail"]
    assert _reader(app, "bek@example.org") == ("active", 0)

    finding = _finding(client.post("/bounces/postmark", content=record, headers=postmark_auth()))
    assert (finding["action"], finding["evidence"]) == ("marked bounced", "Message-ID and unsubscribe link")
    again = client.post("/bounces/postmark", content=record, headers=postmark_auth())
    assert again.json()["messages"][0]["reason"] == "already applied"
    ann = original(sink, "ann@example.org")
    spam = postmark_bounce("ann@example.org", arf(headers_of(ann)).decode(), record="SpamComplaint",
                           kind="SpamComplaint", record_id=42)
    assert _finding(client.post("/bounces/postmark", content=spam, headers=postmark_auth()))["action"] == \
        "marked complained"
    unproven = postmark_bounce("cy@example.org", "", record_id=43)  # bounce content not included
    assert _finding(client.post("/bounces/postmark", content=unproven, headers=postmark_auth()))["action"] == \
        "unverified"
    assert _reader(app, "cy@example.org") == ("active", 0)


def test_sendgrid_signed_batches_apply_and_forgeries_change_nothing(app: Newsletter, sink: Sink,
                                                                    certificates: tuple[Path, Path, Path]) -> None:
    _sent(app)
    client, now = _hooked(app, certificates), app.clock()
    events = [
        {"email": "bek@example.org", "event": "bounce", "type": "bounce", "status": "5.1.1", "sg_event_id": "e1",
         "reason": "550 5.1.1 The email account that you tried to reach does not exist",
         "smtp-id": message_id_of(original(sink, "bek@example.org")), "timestamp": 1764136140},
        {"email": "ann@example.org", "event": "spamreport", "sg_event_id": "e2",
         "smtp-id": message_id_of(original(sink, "ann@example.org"))},
        {"email": "cy@example.org", "event": "delivered", "sg_event_id": "e3"},
    ]
    body = json.dumps(events).encode()
    signed = SENDGRID.headers(body, at=now)
    for content, headers, why in [
        (body.replace(b"bek@", b"ann@"), signed, "does not match"),
        (body, {}, "unsigned"),
        (body, SENDGRID.headers(body, at=now - timedelta(hours=1)), "refused as a replay"),
        (body, SendGrid().headers(body, at=now), "does not match"),
    ]:
        answer = client.post("/bounces/sendgrid", content=content, headers=headers)
        assert answer.status_code == 403 and why in answer.json()["detail"], answer.text
    assert _reader(app, "bek@example.org") == ("active", 0) and _reader(app, "ann@example.org") == ("active", 0)

    answer = client.post("/bounces/sendgrid", content=body, headers=signed)
    assert answer.status_code == 200, answer.text
    actions = [m["findings"][0]["action"] for m in answer.json()["messages"]]
    assert actions == ["marked bounced", "unverified"]  # a spam report without the original's signed link
    assert _reader(app, "bek@example.org")[0] == "bounced" and _reader(app, "ann@example.org")[0] == "active"
    broken = _hooked(app, certificates, sendgrid_key="bm90IGEga2V5")
    answer = broken.post("/bounces/sendgrid", content=body, headers=signed)
    assert (answer.status_code, answer.json()["detail"]) == (
        500, "bounces.sendgrid_key: not SendGrid's verification key (base64 of an ECDSA public key)")


@pytest.mark.parametrize("provider", ["ses", "mailgun", "postmark", "sendgrid"])
def test_a_webhook_not_set_up_is_off(app: Newsletter, certificates: tuple[Path, Path, Path], provider: str) -> None:
    client = InProcess(create_app(app))
    answer = client.post(f"/bounces/{provider}", content=b"{}", headers=postmark_auth())
    assert answer.status_code == 404 and "is off" in answer.json()["detail"]


def test_unknown_and_oversized_requests(app: Newsletter, certificates: tuple[Path, Path, Path]) -> None:
    client = _hooked(app, certificates)
    assert client.post("/bounces/elsewhere", content=b"{}").status_code == 404
    huge = client.post("/bounces/sendgrid", content=b"[" + b" " * (1 << 20) + b"]")
    assert huge.status_code == 413 and "too large" in huge.json()["detail"]



def test_receipts_are_kept_once_on_postgresql(postgres_url: str) -> None:
    store = Store(postgres_url)
    receipts.keep(store, ["ses:1", "imap:x"], "ses")
    receipts.keep(store, ["imap:x", "mailgun:2", "mailgun:2"], "mailgun")  # one there already, one twice
    assert receipts.seen(store, ["ses:1", "imap:x", "mailgun:2", "sendgrid:3"]) == {"ses:1", "imap:x", "mailgun:2"}
    long = receipts.key("imap", "x" * 500)
    assert len(long) <= receipts.KEY and long == receipts.key("imap", "x" * 500) != receipts.key("imap", "y" * 500)
    store.close()
