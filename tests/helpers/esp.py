"""ESP webhook requests as each provider makes them, signed with keys the tests generate.

``Sns`` is an SNS of our own: an RSA key and its certificate (served by a test HTTPS
server at ``cert_url``), messages signed as SNS signs them (SignatureVersion 1 or 2).
``ses_bounce`` and ``ses_complaint`` write the SES notifications it carries. Mailgun
gets an HMAC key, SendGrid an ECDSA P-256 key pair whose public half goes into the
config in base64, as SendGrid shows it; Postmark signs nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

TOPIC = "arn:aws:sns:eu-west-1:123456789012:newsletter-bounces"
MAILGUN_KEY = "key-0123456789abcdef0123456789abcdef"
POSTMARK = ("postmark", "hook pass 1")


def when(moment: dt.datetime) -> str:
    """Return a time as SNS writes it: ``2026-11-26T05:49:00.123Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Sns:
    """A signing key and certificate of our own, standing in for Amazon SNS's."""

    key: rsa.RSAPrivateKey
    certificate: bytes  # PEM
    cert_url: str = ""

    @classmethod
    def make(cls) -> Sns:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(7).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    def message(self, kind: str, body: str, *, at: dt.datetime, topic: str = TOPIC, version: str = "2",
                subscribe_url: str = "", message_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324") -> dict[str, Any]:
        """Return an SNS message of ``kind`` (Notification, SubscriptionConfirmation…), signed."""
        message: dict[str, Any] = {"Type": kind, "MessageId": message_id, "TopicArn": topic, "Message": body,
                                   "Timestamp": when(at), "SignatureVersion": version, "SigningCertURL": self.cert_url}
        if kind == "Notification":
            message["Subject"] = "Amazon SES Email Event Notification"
            order = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            message.update(Token="2336412f37fb687f5d51e6e2425f004aed3", SubscribeURL=subscribe_url)
            order = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        lines = [line for name in order for line in (name, message[name])]
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(("\n".join(lines) + "\n").encode(), padding.PKCS1v15(), digest)
        message["Signature"] = base64.b64encode(signature).decode()
        message["UnsubscribeURL"] = "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
        return message


def ses_headers(message_id: str, list_unsubscribe: str) -> dict[str, Any]:
    """Return the ``mail`` object of an SES notification that includes the original's headers."""
    headers = [{"name": "From", "value": "Test Briefing <briefing@example.org>"},
               {"name": "Message-ID", "value": message_id}]
    if list_unsubscribe:
        headers.append({"name": "List-Unsubscribe", "value": list_unsubscribe})
    return {"timestamp": "2026-11-26T05:49:00.000Z", "source": "briefing@example.org",
            "messageId": "0100018c-ses-own-id-000000", "headersTruncated": False, "headers": headers,
            "commonHeaders": {"from": ["briefing@example.org"], "messageId": message_id}}


def ses_bounce(email: str, *, mail: dict[str, Any] | None = None, kind: str = "Permanent", sub: str = "General",
               status: str = "5.1.1") -> str:
    """Return an SES bounce notification about ``email`` (with ``mail``: the original's headers)."""
    recipient = {"emailAddress": email, "action": "failed", "status": status,
                 "diagnosticCode": f"smtp; 550 {status} <{email}>... User unknown"}
    return json.dumps({"notificationType": "Bounce", "mail": mail or {"messageId": "0100018c-ses-own-id"},
                       "bounce": {"bounceType": kind, "bounceSubType": sub, "bouncedRecipients": [recipient],
                                  "timestamp": "2026-11-26T05:49:00.000Z", "feedbackId": "0100018c-feedback"}})


def ses_complaint(email: str, *, mail: dict[str, Any]) -> str:
    """Return an SES complaint notification (an abuse report through a feedback loop) about ``email``."""
    return json.dumps({"notificationType": "Complaint", "mail": mail,
                       "complaint": {"complainedRecipients": [{"emailAddress": email}],
                                     "complaintFeedbackType": "abuse", "userAgent": "Yahoo!-Mail-Feedback/2.0",
                                     "timestamp": "2026-11-26T06:00:00.000Z", "feedbackId": "0100018c-c"}})


def mailgun(event: dict[str, Any], *, at: dt.datetime, token: str = "a" * 50, key: str = MAILGUN_KEY) -> bytes:
    """Return a Mailgun webhook body carrying ``event``, signed for the time ``at``."""
    timestamp = str(int(at.timestamp()))
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"signature": {"timestamp": timestamp, "token": token, "signature": signature},
                       "event-data": event}).encode()


def mailgun_failed(email: str, message_id: str, *, event_id: str = "CPgfbmQMTCKtHW6uIWtuVe") -> dict[str, Any]:
    """Return Mailgun's event of a permanent failure (the address does not exist)."""
    return {"event": "failed", "id": event_id, "severity": "permanent", "reason": "bounce", "recipient": email,
            "log-level": "error", "message": {"headers": {"message-id": message_id.strip("<>"), "to": email}},
            "delivery-status": {"code": 550, "message": "5.1.1 The email account that you tried to reach does "
                                "not exist", "description": ""}}


class SendGrid:
    """A SendGrid signing key: ``public`` is what the config's ``bounces.sendgrid_key`` holds."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public = base64.b64encode(self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()

    def headers(self, body: bytes, *, at: dt.datetime) -> dict[str, str]:
        """Return the signature headers SendGrid sends with ``body`` at the time ``at``."""
        timestamp = str(int(at.timestamp()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}


def postmark_auth(user: str = POSTMARK[0], password: str = POSTMARK[1]) -> dict[str, str]:
    """Return the basic auth header Postmark sends for the credentials in the webhook's address."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def postmark_bounce(email: str, content: str, *, record: str = "Bounce", kind: str = "HardBounce",
                    record_id: int = 4323372036) -> bytes:
    """Return a Postmark Bounce (or SpamComplaint) record with the bounce's ``content`` included."""
    return json.dumps({"RecordType": record, "ID": record_id, "Type": kind, "TypeCode": 1, "Name": "Hard bounce",
                       "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "ServerID": 23, "MessageStream": "outbound",
                       "Description": "The server was unable to deliver your message (ex: unknown user, mailbox "
                       "not found).", "Details": "smtp;550 5.1.1 The email account that you tried to reach does not "
                       "exist.", "Email": email, "From": "briefing@example.org", "BouncedAt": "2026-11-26T05:49:00Z",
                       "Inactive": True, "CanActivate": True, "Subject": "Test Briefing #1",
                       "Content": content}).encode()
