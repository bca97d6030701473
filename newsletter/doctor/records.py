"""Read the DNS TXT records that decide delivery: SPF, DKIM and DMARC, as strangers publish them.

Each parser takes one record's text and returns what it says, or raises ``RecordError`` with
one line naming what is wrong. Records longer than ``LIMIT`` are refused unread: no real one
comes near it, and every parser stays linear in its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LIMIT = 4096  # characters; a TXT record's strings joined, far above any real SPF, DKIM or DMARC record

# SPF mechanisms and modifiers that cost a DNS lookup when a receiver evaluates them (RFC 7208 4.6.4).
LOOKUPS = ("include", "a", "mx", "ptr", "exists")
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")


class RecordError(ValueError):
    """A record does not parse; the message says where."""


@dataclass(frozen=True)
class Spf:
    """One SPF record: its mechanisms in order, and its ``redirect`` target if any."""

    terms: tuple[tuple[str, str, str], ...]  # (qualifier, mechanism, argument)
    redirect: str = ""

    @property
    def includes(self) -> list[str]:
        """Return the domains of its ``include:`` mechanisms, in order."""
        return [argument for _, mechanism, argument in self.terms if mechanism == "include" and argument]

    @property
    def lookups(self) -> int:
        """Return the DNS lookups this record itself costs (its includes' own lookups not counted)."""
        return sum(mechanism in LOOKUPS for _, mechanism, _ in self.terms) + bool(self.redirect)

    @property
    def ending(self) -> str:
        """Return the final ``all`` with its qualifier (``-all``, ``~all``, ``?all``, ``+all``), or ""."""
        for qualifier, mechanism, _ in self.terms:
            if mechanism == "all":
                return f"{qualifier}all"
        return ""


def _check(text: str, what: str) -> str:
    if len(text) > LIMIT:
        raise RecordError(f"{what} record is {len(text)} characters long; refused above {LIMIT}")
    return text.strip()


def is_spf(text: str) -> bool:
    """Return whether a TXT record is an SPF record (``v=spf1`` then a space or its end)."""
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def parse_spf(text: str) -> Spf:
    """Parse an SPF record (RFC 7208 4.6.1), or raise RecordError naming the term at fault."""
    text = _check(text, "SPF")
    words = text.split()
    if not words or words[0].lower() != "v=spf1":
        raise RecordError("SPF record does not start with v=spf1")
    terms: list[tuple[str, str, str]] = []
    redirect = ""
    for word in words[1:]:
        name, equals, value = word.partition("=")
        if equals and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", name):
            if name.lower() == "redirect":
                if redirect:
                    raise RecordError("SPF record has two redirect= modifiers")
                redirect = value.lower()
            continue  # exp= and unknown modifiers are allowed and cost nothing here
        qualifier = word[0] if word[0] in "+-~?" else "+"
        body = word[1:] if word[0] in "+-~?" else word
        parts = re.fullmatch(r"([A-Za-z0-9]+)(?::([^/]*))?(/\S*)?", body)
        mechanism = parts.group(1).lower() if parts else ""
        argument = (parts.group(2) or "") if parts else ""
        if mechanism not in MECHANISMS:
            raise RecordError(f"SPF record has an unknown term {word!r}")
        if mechanism in ("include", "exists", "ip4", "ip6") and not argument:
            raise RecordError(f"SPF term {word!r} needs a value after ':'")
        terms.append((qualifier, mechanism, argument.lower() if mechanism != "ip6" else argument))
    return Spf(tuple(terms), redirect)


def tags(text: str, what: str) -> dict[str, str]:
    """Parse a tag list (``k=v; k=v``, RFC 6376 3.2), as DKIM and DMARC records are written."""
    text = _check(text, what)
    found: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise RecordError(f"{what} record has a malformed tag {part.strip()[:60]!r}")
        if name in found:
            raise RecordError(f"{what} record repeats the tag {name}")
        found[name] = re.sub(r"\s+", "", value) if name == "p" else value.strip()
    return found


@dataclass(frozen=True)
class DkimKey:
    """A published DKIM key: its algorithm (``rsa`` or ``ed25519``) and base64 public key (``p=``)."""

    algorithm: str
    public: str


def parse_dkim(text: str) -> DkimKey:
    """Parse a DKIM key record (RFC 6376 3.6.1), or raise RecordError."""
    found = tags(text, "DKIM")
    if found.get("v", "DKIM1") != "DKIM1":
        raise RecordError(f"DKIM record has v={found['v']}, expected DKIM1")
    if "p" not in found:
        raise RecordError("DKIM record has no p= (public key)")
    if not found["p"]:
        raise RecordError("DKIM record has an empty p=: the key is revoked")
    algorithm = found.get("k", "rsa").lower()
    if algorithm not in ("rsa", "ed25519"):
        raise RecordError(f"DKIM record has k={algorithm}, expected rsa or ed25519")
    return DkimKey(algorithm, found["p"])


@dataclass(frozen=True)
class Dmarc:
    """A DMARC policy: what receivers do with failing mail, and how strictly domains must align."""

    policy: str  # none | quarantine | reject
    adkim: str = "r"  # r (relaxed) | s (strict)
    aspf: str = "r"
    extra: dict[str, str] = field(default_factory=dict)


def parse_dmarc(text: str) -> Dmarc:
    """Parse a DMARC record (RFC 7489 6.3), or raise RecordError."""
    stripped = _check(text, "DMARC")
    if not re.match(r"v\s*=\s*DMARC1\s*(;|$)", stripped):
        raise RecordError("DMARC record does not start with v=DMARC1")
    found = tags(stripped, "DMARC")
    policy = found.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        raise RecordError(f"DMARC record has p={found.get('p', '')!r}, expected none, quarantine or reject")
    alignment = {}
    for name in ("adkim", "aspf"):
        value = found.get(name, "r").lower()
        if value not in ("r", "s"):
            raise RecordError(f"DMARC record has {name}={value!r}, expected r or s")
        alignment[name] = value
    rest = {k: v for k, v in found.items() if k not in ("v", "p", "adkim", "aspf")}
    return Dmarc(policy, alignment["adkim"], alignment["aspf"], rest)


def organisational(domain: str) -> str:
    """Return the domain's last two labels: a close stand-in for its organisational domain.

    Without the Public Suffix List this is wrong for names under suffixes such as ``co.uk``;
    the DMARC check only uses it to compare two domains, where both are cut the same way.
    """
    labels = domain.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


def aligned(a: str, b: str, mode: str) -> bool:
    """Return whether two domains align: equal when strict (``s``), same organisation when relaxed."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b if mode == "s" else organisational(a) == organisational(b)
