"""Postmark's webhooks: basic auth over https (Postmark signs nothing), then Bounce and SpamComplaint records.

The webhook's address carries a user name and password
(``https://user:password@news.example.org/bounces/postmark``), which Postmark sends
as basic auth; they must be ``bounces.postmark_user`` and ``bounces.postmark_password``,
and the request must have come over https, or it is refused with 401. Postmark's own
``MessageID`` is not ours: the proof comes from the bounce's ``Content`` (turn on
"include bounce content"), read as the report it is, for the returned original's
Message-ID and List-Unsubscribe link. Postmark sends no timestamp to check: a record
posted again is recognised by its ``ID`` and applied once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime
from typing import Any

from newsletter.delivery.dsn import (
    ARF,
    COMPLAINT,
    IGNORED,
    LIMIT,
    Finding,
    classify,
    parse,
)
from newsletter.delivery.esp.webhook import (
    EspBatch,
    Posted,
    WebhookRefused,
    event,
    get,
    loads,
    text,
)
from newsletter.error import BounceError
from newsletter.settings import BouncesSettings

HARD = {"HardBounce": "", "BadEmailAddress": "5.1.3"}  # Type: the status to assume when the details have none
SOFT = ("SoftBounce", "Transient", "DnsError")
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="newsletter bounces"'}


def read(posted: Posted, settings: BouncesSettings, now: datetime) -> EspBatch:
    """Check the basic auth and return the record's event (none for other records)."""
    if not settings.postmark_password:
        raise WebhookRefused(404, "the Postmark webhook is off: bounces.postmark_password is empty")
    if not posted.https:
        raise WebhookRefused(403, "the Postmark webhook takes its password over https only")
    user, password = _credentials(posted.headers.get("authorization", ""))
    ok_user = hmac.compare_digest(user.encode(), settings.postmark_user.encode())
    if not (hmac.compare_digest(password.encode(), settings.postmark_password.encode()) and ok_user):
        raise WebhookRefused(401, "wrong or missing basic auth for the Postmark webhook", _CHALLENGE)
    record = loads(posted.body, "Postmark webhook")
    found = _event(record)
    return EspBatch([found] if found else [],
                 note="" if found else f"record {text(get(record, 'RecordType'), 50)!r}: nothing to do")


def _credentials(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value.strip()[:1000], validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _event(record: Any) -> Any:
    kind, email = text(get(record, "RecordType"), 50), text(get(record, "Email"), 400)
    key = f"{kind}:{text(get(record, 'ID'), 50)}" if text(get(record, "ID"), 50) else ""
    ids, links = _returned(text(get(record, "Content"), LIMIT))
    if kind == "Bounce":
        bounce = text(get(record, "Type"), 50)
        details = text(get(record, "Details")) or text(get(record, "Description")) or f"Postmark: {bounce}"
        if bounce in HARD:
            finding = classify("failed", HARD[bounce], details, email)
        elif bounce in SOFT:
            finding = classify("delayed", "", details, email)
        else:
            finding = Finding(IGNORED, email, "", "", details, f"Postmark bounce type {bounce or 'missing'}: not counted")
        return event("postmark", key, [finding], message_ids=ids, tokens=links, data=record)
    if kind == "SpamComplaint":
        return event("postmark", key, [Finding(COMPLAINT, email, "", "abuse", "Postmark")], kind=ARF,
                     message_ids=ids, tokens=links, data=record)
    return None


def _returned(content: str) -> tuple[list[str], list[str]]:
    """Return the Message-IDs and unsubscribe tokens of the original a bounce's content returns (none if unreadable)."""
    if not content:
        return [], []
    try:
        parsed = parse(content.encode("utf-8", "replace"))
    except BounceError:
        return [], []
    return parsed.message_ids, parsed.tokens
