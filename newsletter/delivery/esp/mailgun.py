"""Mailgun's webhooks: an HMAC of the signature's timestamp and token, then ``failed`` and ``complained`` events.

Mailgun posts ``{"signature": {"timestamp", "token", "signature"}, "event-data": {…}}``;
the signature is the hex HMAC-SHA256 of the timestamp and token, keyed with the
HTTP webhook signing key (``bounces.mailgun_key``). The HMAC does not cover the
event, so a token is accepted once only (Mailgun's advice), and a timestamp older
than ``bounces.max_age`` is a replay. The original's Message-ID comes back in
``message.headers["message-id"]``; its List-Unsubscribe link does not, so a
complaint through Mailgun stays unverified, by the same rule as a report by mail.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from newsletter.delivery.dsn import ARF, COMPLAINT, Finding, classify
from newsletter.delivery.esp.webhook import (
    EspBatch,
    Posted,
    WebhookRefused,
    bare_ids,
    event,
    fresh,
    get,
    loads,
    text,
)
from newsletter.settings import BouncesSettings


def read(posted: Posted, settings: BouncesSettings, now: datetime) -> EspBatch:
    """Verify a Mailgun webhook and return its event (none for events other than failures and complaints)."""
    if not settings.mailgun_key:
        raise WebhookRefused(404, "the Mailgun webhook is off: bounces.mailgun_key is empty")
    payload = loads(posted.body, "Mailgun webhook")
    signature = get(payload, "signature")
    timestamp, token, given = (text(get(signature, "timestamp"), 20), text(get(signature, "token"), 200),
                               text(get(signature, "signature"), 200))
    if not (timestamp and token and given):
        raise WebhookRefused(403, "an unsigned Mailgun webhook: no signature with its timestamp and token")
    expected = hmac.new(settings.mailgun_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise WebhookRefused(403, "the Mailgun signature does not match: tampered, or another signing key")
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookRefused(403, f"the Mailgun signature's timestamp {timestamp!r} is not a time") from None
    fresh(signed_at, now, settings.max_age, "the Mailgun webhook")
    data = get(payload, "event-data")
    found = _event(data)
    return EspBatch([found] if found else [], once=f"mailgun-token:{token}",
                 note="" if found else f"event {text(get(data, 'event'), 50)!r}: nothing to do")


def _event(data: Any) -> Any:
    kind, email = text(get(data, "event"), 50), text(get(data, "recipient"), 400)
    ids = bare_ids(get(data, "message", "headers", "message-id"))
    if kind == "failed":
        status = get(data, "delivery-status")
        diagnostic = " ".join(x for x in (text(get(status, "code"), 10), text(get(status, "message")),
                                          text(get(status, "description"))) if x)
        action = "failed" if text(get(data, "severity")) == "permanent" else "delayed"
        finding = classify(action, text(get(status, "enhanced-code"), 20), diagnostic or "Mailgun: failed", email)
        return event("mailgun", text(get(data, "id"), 100), [finding], message_ids=ids, data=data)
    if kind == "complained":
        return event("mailgun", text(get(data, "id"), 100), [Finding(COMPLAINT, email, "", "abuse", "Mailgun")],
                     kind=ARF, message_ids=ids, data=data)
    return None
