"""SendGrid's signed event webhook: an ECDSA signature of the timestamp and body, then bounce and spam events.

SendGrid signs the timestamp (``X-Twilio-Email-Event-Webhook-Timestamp``) followed by
the raw body with ECDSA P-256 and SHA-256, and sends the signature in base64 in
``X-Twilio-Email-Event-Webhook-Signature``; the public key is the base64 "verification
key" SendGrid shows (``bounces.sendgrid_key``). The body is checked before it is
read, and a timestamp older than ``bounces.max_age`` is a replay. The body is a list
of events: ``bounce`` (and ``blocked``), ``deferred``, ``dropped`` and ``spamreport``
are read; the original's Message-ID is each event's ``smtp-id``. Its List-Unsubscribe
link does not come back, so a spam report stays unverified, by the same rule as a
report by mail.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from newsletter.delivery.dsn import ARF, COMPLAINT, IGNORED, Finding, classify
from newsletter.delivery.esp.webhook import (
    EVENTS,
    EspBatch,
    EspEvent,
    Posted,
    WebhookRefused,
    bare_ids,
    event,
    fresh,
    loads,
    text,
)
from newsletter.error import BounceError, ConfigError
from newsletter.settings import BouncesSettings

SIGNATURE, TIMESTAMP = "x-twilio-email-event-webhook-signature", "x-twilio-email-event-webhook-timestamp"


def read(posted: Posted, settings: BouncesSettings, now: datetime) -> EspBatch:
    """Verify a SendGrid event post and return its bounce and spam events."""
    if not settings.sendgrid_key:
        raise WebhookRefused(404, "the SendGrid webhook is off: bounces.sendgrid_key is empty")
    key = _key(settings.sendgrid_key)
    signature, timestamp = posted.headers.get(SIGNATURE, ""), posted.headers.get(TIMESTAMP, "")
    if not signature or not timestamp:
        raise WebhookRefused(403, "an unsigned SendGrid webhook: no signature and timestamp headers")
    try:
        key.verify(base64.b64decode(signature[:400], validate=True), timestamp.encode() + posted.body,
                   ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature, ValueError):
        raise WebhookRefused(403, "the SendGrid signature does not match: tampered, or another key") from None
    try:
        signed_at = datetime.fromtimestamp(int(timestamp[:20]), UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookRefused(403, f"the SendGrid timestamp {timestamp[:20]!r} is not a time") from None
    fresh(signed_at, now, settings.max_age, "the SendGrid webhook")
    posted_events = loads(posted.body, "SendGrid webhook")
    if not isinstance(posted_events, list):
        raise BounceError("SendGrid webhook: not a list of events")
    if len(posted_events) > EVENTS:
        raise BounceError(f"SendGrid webhook: more than {EVENTS} events in one request")
    found = [e for e in (_event(data) for data in posted_events) if e is not None]
    return EspBatch(found, note="" if found else "no bounce or spam report in it: nothing to do")


def _key(configured: str) -> ec.EllipticCurvePublicKey:
    try:
        key = load_der_public_key(base64.b64decode(configured.strip(), validate=True))
    except (binascii.Error, ValueError, TypeError):
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ConfigError("bounces.sendgrid_key: not SendGrid's verification key (base64 of an ECDSA public key)")
    return key


def _event(data: Any) -> EspEvent | None:
    if not isinstance(data, dict):
        return None
    kind, email = text(data.get("event"), 50), text(data.get("email"), 400)
    ids, key = bare_ids(data.get("smtp-id")), text(data.get("sg_event_id"), 100)
    status, reason = text(data.get("status"), 20), text(data.get("reason")) or text(data.get("response"))
    if kind == "bounce":
        finding = classify("failed", status, reason or f"SendGrid: {text(data.get('type'), 20) or 'bounce'}", email)
    elif kind == "deferred":
        finding = classify("delayed", status, reason or "SendGrid: deferred", email)
    elif kind == "dropped":
        finding = Finding(IGNORED, email, "", status, reason, f"dropped by SendGrid ({reason[:100] or 'no reason'}): "
                          "never sent, not counted")
    elif kind == "spamreport":
        return event("sendgrid", key, [Finding(COMPLAINT, email, "", "abuse", "SendGrid")], kind=ARF,
                     message_ids=ids, data=data)
    else:
        return None
    return event("sendgrid", key, [finding], message_ids=ids, data=data)
