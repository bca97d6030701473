"""What a valid reader is: an address, a name, sections, a status and a time zone, each checked by one rule.

What depends on the newsletter's config (which sections and languages exist) is
``choices``; these rules hold for any list.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable

import email_validator

from newsletter.error import SubscriberError

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
SUPPRESSED = ("unsubscribed", "bounced", "complained")  # an import never lifts these
NAME_LIMIT = 100  # characters: a name is for the greeting, never room for a message
_SEPARATOR = re.compile(r"[,;]")  # between sections: a comma, or the semicolon spreadsheets in many locales use
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
    """Return section names from ``"A,B"``, ``"A;B"`` or a list, blanks and repeats removed."""
    if value is None:
        return ()
    items = _SEPARATOR.split(value) if isinstance(value, str) else value
    return tuple(dict.fromkeys(s.strip() for s in items if s.strip()))


def search_key(text: str) -> str:
    """Return ``text`` folded for searching and sorting: any case in any script, ``ё`` read as ``е``.

    Stored beside each name (``subscribers.name_key``) so that SQLite and PostgreSQL
    match and sort alike: their ``LIKE`` and ``lower`` fold ASCII only, or by locale.
    """
    return unicodedata.normalize("NFKC", text.casefold()).replace("ё", "е")


def check_timezone(zone: str) -> str:
    """Return ``zone`` as the IANA time zone database spells it (any case accepted); empty stays empty.

    Raise SubscriberError naming the value and the nearest real zone.
    """
    zone = zone.strip()
    if not zone:
        return ""
    found = _zones().get(zone.casefold())
    if found is None:
        nearest = _nearest_zone(zone.casefold())
        hint = f"; did you mean {nearest!r}?" if nearest else " (e.g. 'Europe/London', 'Asia/Almaty')"
        raise SubscriberError(f"timezone {zone!r} is not an IANA time zone{hint}")
    return found


@functools.lru_cache(maxsize=4096)
def _nearest_zone(folded: str) -> str | None:
    """Return the zone of the same area (``Asia/…``) nearest to ``folded``, if any is near (files repeat typos)."""
    area = folded.partition("/")[0] + "/"
    candidates = [key for key in _zones() if key.startswith(area)] if "/" in folded else []
    close = difflib.get_close_matches(folded[:64], candidates, n=1, cutoff=0.75)
    return _zones()[close[0]] if close else None


def zone_names() -> list[str]:
    """Return every IANA time zone name, sorted (what a form offers to choose from)."""
    return sorted(_zones().values())


@functools.cache
def _zones() -> dict[str, str]:
    """Return every IANA zone name by its folded spelling (read once: it walks the zone database)."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


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
