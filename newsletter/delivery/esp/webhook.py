"""What every ESP webhook shares: the request as posted, its refusal, the events read from it, and their bounds.

Strangers can post anything, so everything read here is bounded: a body over
``LIMIT`` is refused unread, JSON is parsed once (nesting too deep is an error, not
a crash), a request names at most ``EVENTS`` events, and each field is taken only
if it has the expected type (``text``: a string or a number, cut to a length).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsletter.delivery.dsn import DSN, LIMIT, Finding, ParsedReport
from newsletter.error import BounceError

EVENTS = 1000  # events in one request at most (SendGrid batches some hundreds)
TEXT = 1000  # characters of one field kept


@dataclass(frozen=True)
class Posted:
    """A webhook request as it arrived: its body, its headers (names in lower case), whether it came over https."""

    body: bytes
    headers: Mapping[str, str]
    https: bool


class WebhookRefused(BounceError):
    """A request not believed (unsigned, tampered, replayed, not ours) or not answerable now: nothing changed."""

    def __init__(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class EspEvent:
    """One event an ESP reported, read as a report: its receipt key, its name in output, the report."""

    key: str
    name: str
    parsed: ParsedReport


@dataclass(frozen=True)
class EspBatch:
    """What a verified request holds: its events, a key it must not have used before (``once``), a note."""

    events: list[EspEvent] = field(default_factory=list)
    once: str = ""
    note: str = ""


def loads(data: bytes | str, what: str) -> Any:
    """Return the JSON in ``data``, or raise BounceError naming ``what`` is wrong with it."""
    if len(data) > LIMIT:
        raise BounceError(f"{what}: too large: over {LIMIT} bytes (1 MiB)")
    try:
        return json.loads(data)
    except RecursionError:
        raise BounceError(f"{what}: not JSON: nested too deep") from None
    except ValueError as e:  # JSONDecodeError, undecodable bytes, a number too long to convert
        raise BounceError(f"{what}: not JSON: {' '.join(str(e).split())[:200]}") from None


def get(data: Any, *path: str) -> Any:
    """Return ``data[path[0]][path[1]]…``, or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text(value: Any, limit: int = TEXT) -> str:
    """Return a string or number field as text cut to ``limit`` characters; anything else is empty."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)[:limit]


def fresh(signed: datetime, now: datetime, max_age: float, what: str) -> None:
    """Refuse a signature made more than ``max_age`` seconds from now (a replay, or a clock far off)."""
    age = (now - signed).total_seconds()
    if age > max_age:
        raise WebhookRefused(403, f"{what} was signed {age:.0f} s ago, more than bounces.max_age ({max_age:g} s): "
                      "refused as a replay")
    if -age > max_age:
        raise WebhookRefused(403, f"{what} was signed {-age:.0f} s in the future: refused")


def event(provider: str, event_id: str, findings: list[Finding], *, kind: str = DSN,
          message_ids: list[str] | None = None, tokens: list[str] | None = None, data: Any = None) -> EspEvent:
    """Return one event as a report of ``kind``; without an id of the provider's, its key is a digest of ``data``."""
    if not event_id:
        event_id = "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]
    key = f"{provider}:{event_id}"
    return EspEvent(key, f"{provider} {event_id}", ParsedReport(kind, key, findings, (message_ids or [])[:50],
                                                       (tokens or [])[:10]))


def bare_ids(value: Any) -> list[str]:
    """Return a Message-ID given with or without its angle brackets (``a@b`` or ``<a@b>``) as ``<a@b>``."""
    found = text(value).strip()
    if not found or any(c in found for c in " \t\r\n"):
        return []
    return [found if found.startswith("<") else f"<{found}>"]
