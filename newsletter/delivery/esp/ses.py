"""Amazon SES notifications through SNS: the message's signature, its topic, subscription, then bounces and complaints.

SNS posts a JSON message signed with RSA (``SignatureVersion`` 1: SHA1, 2: SHA256)
under a certificate at ``SigningCertURL``. It is believed only when its topic is one
of ``bounces.ses_topics`` (anyone can own an SNS topic), the certificate comes over
https from a host of ``bounces.sns_cert_hosts`` (``*`` stands for one region name
such as ``eu-west-1``, so an S3 bucket's address never matches) and is valid now,
the signature checks out over the fields SNS signs, and its ``Timestamp`` is within
``bounces.max_age``. A ``SubscriptionConfirmation`` is then confirmed by opening its
``SubscribeURL`` (which must be on such a host too); a ``Notification`` carries one
SES notification: a ``Bounce`` (its ``bouncedRecipients``) or a ``Complaint``.

SES returns the original's headers when the identity is set to include them: then
its Message-ID (``commonHeaders.messageId``) and List-Unsubscribe link are the proof.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from newsletter.delivery.dsn import (
    ARF,
    COMPLAINT,
    IGNORED,
    LIMIT,
    RECIPIENTS,
    Finding,
    classify,
    message_ids,
    tokens,
)
from newsletter.delivery.esp.webhook import (
    EspBatch,
    EspEvent,
    Posted,
    WebhookRefused,
    event,
    fresh,
    get,
    loads,
    text,
)
from newsletter.error import BounceError
from newsletter.settings import BouncesSettings

CERTIFICATE = 64 << 10  # bytes of a signing certificate at most (Amazon's are some 2 KB)
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"  # us-east-1, eu-central-2, us-gov-west-1, cn-north-1
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


class SnsFetcher:
    """Fetch SNS signing certificates (a few kept) and open subscription links: https, bounded, no redirects."""

    def __init__(self, timeout: float, ca_file: Path | None = None) -> None:
        self.timeout = timeout
        self.ca_file = ca_file
        self.certificates: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def certificate(self, url: str) -> x509.Certificate:
        """Return the certificate at ``url`` (fetched once), or raise WebhookRefused."""
        with self._lock:
            known = self.certificates.get(url)
        if known is not None:
            return known
        try:
            found = x509.load_pem_x509_certificate(self.get(url, "the signing certificate"))
        except ValueError:
            raise WebhookRefused(403, f"the signing certificate at {url[:200]} is not a PEM certificate") from None
        with self._lock:
            if len(self.certificates) >= 16:
                self.certificates.clear()  # Amazon rotates them rarely; strangers cannot make us keep many
            self.certificates[url] = found
        return found

    def get(self, url: str, what: str) -> bytes:
        """Return the body of a GET of ``url`` (at most ``CERTIFICATE`` bytes), or raise WebhookRefused (502)."""
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        try:
            with httpx.Client(verify=context, timeout=self.timeout, follow_redirects=False) as client, \
                    client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise WebhookRefused(502, f"cannot fetch {what}: {url[:200]} answered {response.status_code}")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > CERTIFICATE:
                        raise WebhookRefused(502, f"cannot fetch {what}: {url[:200]} sent more than "
                                                  f"{CERTIFICATE} bytes")
                return body
        except httpx.HTTPError as e:
            raise WebhookRefused(502, f"cannot fetch {what} from {url[:200]}: "
                                      f"{' '.join(str(e).split())[:200]}") from None


def read(posted: Posted, settings: BouncesSettings, now: datetime, fetcher: SnsFetcher) -> EspBatch:
    """Verify an SNS message and return its SES events (a confirmation is done here and has none)."""
    if not settings.ses_topics:
        raise WebhookRefused(404, "the SES webhook is off: bounces.ses_topics names no topic")
    message = loads(posted.body, "SNS message")
    kind, topic = text(get(message, "Type")), text(get(message, "TopicArn"))
    if kind not in _SIGNED:
        raise WebhookRefused(403, f"not an SNS message (Type {kind[:50]!r})")
    if topic not in settings.ses_topics:
        raise WebhookRefused(403, f"topic {topic[:200]!r} is not one of bounces.ses_topics")
    _verify(message, kind, settings, fetcher, now)
    if kind == "SubscriptionConfirmation":
        url = text(get(message, "SubscribeURL"), 2000)
        if not trusted(url, settings.sns_cert_hosts):
            raise WebhookRefused(403, "the SubscribeURL is not on a host of bounces.sns_cert_hosts")
        fetcher.get(url, "the subscription confirmation")
        return EspBatch(note=f"subscription to {topic} confirmed")
    if kind == "UnsubscribeConfirmation":
        return EspBatch(note=f"unsubscribed from {topic}: SNS sends no more until subscribed again")
    try:  # signed by SNS for a topic of ours: not JSON is SNS carrying something else, not an attack
        notification = loads(text(get(message, "Message"), LIMIT), "the SNS Message")
    except BounceError as e:
        return EspBatch(note=f"not an SES notification: {e}")
    found = events(notification, text(get(message, "MessageId"), 100))
    return EspBatch([found] if found else [], note="" if found else "not a bounce or complaint: nothing to do")


def events(notification: Any, message_id: str) -> EspEvent | None:
    """Return an SES notification (a Bounce or Complaint) as one event; None for any other."""
    kind = text(get(notification, "notificationType") or get(notification, "eventType"))
    mail = get(notification, "mail")
    headers = [h for h in (get(mail, "headers") or [])[:200] if isinstance(h, dict)] \
        if isinstance(get(mail, "headers"), list) else []
    named = {text(h.get("name"), 100).lower(): h.get("value") for h in headers}
    ids = message_ids(text(get(mail, "commonHeaders", "messageId"))) + message_ids(text(named.get("message-id")))
    links = tokens(text(named.get("list-unsubscribe"), 4000))
    if kind == "Bounce":
        bounce = get(notification, "bounce")
        return event("ses", message_id, [_bounced(bounce, r) for r in _list(get(bounce, "bouncedRecipients"))],
                     message_ids=ids, tokens=links, data=notification)
    if kind == "Complaint":
        complaint = get(notification, "complaint")
        return event("ses", message_id, [_complained(complaint, r) for r in
                                         _list(get(complaint, "complainedRecipients"))],
                     kind=ARF, message_ids=ids, tokens=links, data=notification)
    return None


def _list(value: Any) -> list[dict[str, Any]]:
    return [r for r in value[:RECIPIENTS] if isinstance(r, dict)] if isinstance(value, list) else []


def _bounced(bounce: Any, recipient: dict[str, Any]) -> Finding:
    """Return what SES says of one bounced recipient, by the rules a DSN is read by."""
    kind, sub = text(get(bounce, "bounceType")), text(get(bounce, "bounceSubType"))
    email, status, diagnostic = (text(recipient.get("emailAddress"), 400), text(recipient.get("status")),
                                 text(recipient.get("diagnosticCode")))
    if kind == "Permanent":
        # SES's own refusals carry no DSN: NoEmail is the address gone; Suppressed, an earlier hard bounce.
        return classify(text(recipient.get("action")) or "failed", status or ("5.1.1" if sub == "NoEmail" else ""),
                        diagnostic or f"SES: {sub or 'permanent bounce'}", email)
    if kind == "Transient":
        return classify("delayed", status, diagnostic or f"SES: {sub or 'transient bounce'}", email)
    return Finding(IGNORED, email, "", status, diagnostic, f"SES bounce type {kind[:50] or 'missing'}: not counted")


def _complained(complaint: Any, recipient: dict[str, Any]) -> Finding:
    """Return what SES says of one complaining recipient: only an abuse report by the reader is a complaint."""
    email = text(recipient.get("emailAddress"), 400)
    feedback, sub = text(get(complaint, "complaintFeedbackType"), 100) or "abuse", text(get(complaint, "complaintSubType"))
    agent = text(get(complaint, "userAgent"))
    if sub:
        return Finding(IGNORED, email, "", feedback, agent, f"SES complaint subtype {sub[:50]}: not the reader's own")
    if feedback != "abuse":
        return Finding(IGNORED, email, "", feedback, agent, f"feedback type {feedback}: not a complaint")
    return Finding(COMPLAINT, email, "", feedback, agent)


def _verify(message: Any, kind: str, settings: BouncesSettings, fetcher: SnsFetcher, now: datetime) -> None:
    """Check the message's signature under Amazon's certificate and its age, or raise WebhookRefused."""
    url = text(get(message, "SigningCertURL"), 2000)
    if not trusted(url, settings.sns_cert_hosts) or not urlsplit(url).path.endswith(".pem"):
        raise WebhookRefused(403, f"SigningCertURL {url[:200]!r} is not a .pem on a host of bounces.sns_cert_hosts")
    version = text(get(message, "SignatureVersion"))
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if digest is None:
        raise WebhookRefused(403, f"unknown SignatureVersion {version[:20]!r}")
    fields = [name for name in _SIGNED[kind] if not (name == "Subject" and message.get(name) is None)]
    values = [message.get(name) for name in fields]
    if not all(isinstance(v, str) for v in values):
        raise WebhookRefused(403, "an SNS message without every field its signature covers")
    signed = "".join(f"{name}\n{value}\n" for name, value in zip(fields, values, strict=True)).encode()
    given = text(get(message, "Signature"), 2000)
    if not given:
        raise WebhookRefused(403, "an unsigned SNS message: no Signature")
    try:
        signature = base64.b64decode(given, validate=True)
    except binascii.Error:
        raise WebhookRefused(403, "the Signature is not base64") from None
    certificate = fetcher.certificate(url)
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookRefused(403, "the signing certificate's key is not RSA")
    if not certificate.not_valid_before_utc <= now.astimezone(UTC) <= certificate.not_valid_after_utc:
        raise WebhookRefused(403, "the signing certificate is not valid now")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), digest)
    except InvalidSignature:
        raise WebhookRefused(403, "the SNS signature does not match the message: tampered or not from SNS") from None
    try:
        signed_at = datetime.fromisoformat(text(get(message, "Timestamp"), 40))
    except ValueError:
        raise WebhookRefused(403, "an SNS message without a valid Timestamp") from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    fresh(signed_at, now, settings.max_age, "the SNS message")


def trusted(url: str, hosts: list[str]) -> bool:
    """Return whether ``url`` is https on one of ``hosts`` (``*``: one region name), with no user in it."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        return False
    return any(re.fullmatch(r"\.".join(_REGION if label == "*" else re.escape(label)
                                       for label in host.lower().split(".")), parts.hostname)
               for host in hosts)
