"""What a valid reader is: an address, a name, sections and a status, each checked by one rule."""

from __future__ import annotations

from collections.abc import Iterable

import email_validator

from newsletter.error import SubscriberError

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
SUPPRESSED = ("unsubscribed", "bounced", "complained")  # an import never lifts these
NAME_LIMIT = 100  # characters: a name is for the greeting, never room for a message
# Control characters become spaces; bidirectional overrides and isolates (which reorder what follows) go.
_CONTROLS = {**{c: " " for c in (*range(0x20), *range(0x7F, 0xA0))},
             **dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A)))}


def normalise_email(email: str) -> str:
    """Return ``email`` validated and normalised, or raise SubscriberError naming the problem.

    No DNS lookups: an address is checked for its form only, so imports stay fast and
    work offline.
    """
    try:
        return email_validator.validate_email(email.strip(), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as e:
        raise SubscriberError(f"invalid email address {email.strip()!r}: {e}") from None


def parse_sections(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return section names from ``"A,B"`` or a list, blanks removed."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(dict.fromkeys(s.strip() for s in items if s.strip()))


def check_status(status: str) -> str:
    """Return ``status`` lower-cased, or raise SubscriberError if it is not one of STATUSES."""
    status = status.strip().lower()
    if status not in STATUSES:
        raise SubscriberError(f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
    return status


def clean_name(name: str) -> str:
    """Return ``name`` on one line with single spaces, without control characters; refuse a long one.

    The one rule for a reader's name, whatever path it comes by (form, API, CSV, desk,
    CLI): raise SubscriberError if it is longer than ``NAME_LIMIT`` characters.
    """
    cleaned = " ".join(name.translate(_CONTROLS).split())
    if len(cleaned) > NAME_LIMIT:
        raise SubscriberError(f"the name is {len(cleaned):,} characters long; the most is {NAME_LIMIT}")
    return cleaned
