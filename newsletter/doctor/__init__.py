"""``newsletter doctor``: check, before a send, what decides whether the mail is delivered.

Six checks, each one line with its fix: the relay (reachable, TLS as configured, login, the
sender accepted), the From domain's SPF, DKIM and DMARC records, the MX of the domain bounces
return to (the envelope sender is the From address), and whether the unsubscribe links are
https. DNS questions go through ``lookup.Dns``; records are read by ``records``.
"""

from __future__ import annotations

import base64
import ipaddress
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization

from newsletter.config import Config
from newsletter.delivery.smtp import Connection, Refused
from newsletter.doctor.lookup import Dns, DnsError
from newsletter.doctor.records import (
    RecordError,
    Spf,
    aligned,
    is_spf,
    organisational,
    parse_dkim,
    parse_dmarc,
    parse_spf,
)
from newsletter.email.dkim import Dkim
from newsletter.email.message import sender_address
from newsletter.error import NewsletterError, SmtpError

NAMES = ("relay", "spf", "dkim", "dmarc", "mx", "unsubscribe")
SPF_LOOKUPS = 10  # RFC 7208 4.6.4: more and receivers must fail the check (permerror)


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``detail`` says what was found and, when it failed, what to do."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """Return the check as one line for people: ``✓ spf: …`` or ``✗ spf: …``."""
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


@dataclass(frozen=True)
class Diagnosis:
    """Every check, in the order of ``NAMES``."""

    checks: list[Check]

    @property
    def ok(self) -> bool:
        """Return whether every check passed."""
        return all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"ok": self.ok, "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


def examine(config: Config, connection: Connection, dkim: Dkim | None, dns: Dns | None = None) -> Diagnosis:
    """Run every check; none stops the others.

    Only a malformed ``[dns] nameserver`` raises (``ConfigError``), before any check runs; a
    nameserver whose name does not resolve fails the four DNS checks, each saying so.
    """
    dns = dns or Dns(config.dns)
    _, address = sender_address(config)
    domain = address.rpartition("@")[2].lower()
    checks: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("relay", lambda: relay(connection, address)),
        ("spf", lambda: spf(dns, domain)),
        ("dkim", lambda: dkim_record(dns, dkim)),
        ("dmarc", lambda: dmarc(dns, domain, dkim)),
        ("mx", lambda: mx(dns, address)),
        ("unsubscribe", lambda: unsubscribe(config.newsletter.base_url)),
    ]
    results = []
    for name, run in checks:
        try:
            ok, detail = run()
        except (NewsletterError, RecordError) as e:  # DnsError and SmtpError are NewsletterErrors
            ok, detail = False, str(e)
        results.append(Check(name, ok, detail))
    return Diagnosis(results)


def relay(connection: Connection, sender: str) -> tuple[bool, str]:
    """Connect, secure and log in as configured, and offer the sender; take nothing further.

    A failure says what to change: the words of ``Connection`` for reaching and securing the
    relay, and here the fix for a refused password or sender.
    """
    try:
        connection.probe(sender)
    except Refused as e:  # the session opened; MAIL FROM was refused
        return False, (f"{connection.url} refused the sender {sender}: {e}; set newsletter.from to an address "
                       "this relay lets its login send as")
    except SmtpError as e:
        if isinstance(e.__cause__, smtplib.SMTPAuthenticationError) and connection.token is None:
            return False, (f"{e}; check the user name and password in smtp.url (or NEWSLETTER_SMTP_URL); "
                           "some providers want an app password")
        raise
    finally:
        connection.close()
    security = {"plain": "no TLS", "starttls": "STARTTLS", "tls": "TLS"}[connection.url.security]
    login = f", login {connection.url.username!r} accepted" if connection.url.username else ""
    return True, f"{connection.url} answered ({security}{login}); sender {sender} accepted"


def spf(dns: Dns, domain: str) -> tuple[bool, str]:
    """The From domain has one SPF record that parses, stays within 10 lookups and ends in -all or ~all."""
    record, why = _one_spf(dns, domain)
    if record is None:
        return False, why
    parsed = parse_spf(record)
    lookups, ending = _evaluate(dns, domain, parsed.lookups, parsed, depth=0)
    if lookups > SPF_LOOKUPS:
        return False, (f"{domain}'s SPF needs {lookups} DNS lookups, over the limit of {SPF_LOOKUPS}: "
                       "receivers reject it; flatten includes or drop unused ones")
    if ending not in ("-all", "~all"):
        shown = ending or "no all"
        return False, f"{domain}'s SPF ends in {shown}: anyone may send as you; end it with ~all or -all"
    counted = f"{lookups} DNS lookup" + ("" if lookups == 1 else "s")
    return True, f"{domain}: {record!r} ({counted}, ends in {ending})"


def _one_spf(dns: Dns, domain: str) -> tuple[str | None, str]:
    records = [r for r in dns.txt(domain) if is_spf(r)]
    if not records:
        return None, f"no SPF record at {domain}: publish a TXT record such as 'v=spf1 include:<your relay> -all'"
    if len(records) > 1:
        return None, f"{domain} has {len(records)} SPF records: receivers reject them all; merge them into one"
    return records[0], ""


def _evaluate(dns: Dns, domain: str, lookups: int, parsed: Spf, depth: int) -> tuple[int, str]:
    """Return the lookups the whole record tree costs and how it ends, following include and redirect."""
    ending = parsed.ending
    for target in [*parsed.includes, *([parsed.redirect] if parsed.redirect else [])]:
        if lookups > SPF_LOOKUPS or depth >= SPF_LOOKUPS:
            break  # already over: no need to walk further (and no loop can run forever)
        record, why = _one_spf(dns, target)
        if record is None:
            raise RecordError(f"{domain}'s SPF names {target}, but {why.split(':')[0]}")
        inner = parse_spf(record)
        lookups, inner_ending = _evaluate(dns, target, lookups + inner.lookups, inner, depth + 1)
        if target == parsed.redirect and not ending:
            ending = inner_ending  # a redirect's record decides how this one ends
    return lookups, ending


def dkim_record(dns: Dns, dkim: Dkim | None) -> tuple[bool, str]:
    """The key at ``<selector>._domainkey.<domain>`` exists and matches the configured private key."""
    if dkim is None:
        return False, ("DKIM is off: large mailbox providers expect signed mail; set [dkim] selector, "
                       "domain and key_file (docs/production.md)")
    name = f"{dkim.selector}._domainkey.{dkim.domain}"
    records = [r for r in dns.txt(name) if "p=" in r]
    if not records:
        return False, f"no DKIM key at {name}: publish the TXT record {dkim.public!r}"
    published = parse_dkim(records[0])
    ours = parse_dkim(dkim.public)
    if published.algorithm != ours.algorithm or _key(published.public) != _key(ours.public):
        return False, (f"the key at {name} ({published.algorithm}) is not the public half of dkim.key_file "
                       f"({ours.algorithm}): publish {dkim.public!r}")
    return True, f"{name} publishes the public half of dkim.key_file ({ours.algorithm})"


def _key(public: str) -> bytes:
    """Return a public key in one comparable form: raw for Ed25519, SubjectPublicKeyInfo DER for RSA."""
    try:
        data = base64.b64decode(public, validate=True)
    except ValueError:
        raise RecordError("DKIM record's p= is not base64") from None
    if len(data) == 32:
        return data
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, TypeError):
        raise RecordError("DKIM record's p= is not a public key") from None
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def dmarc(dns: Dns, domain: str, dkim: Dkim | None) -> tuple[bool, str]:
    """A DMARC record exists for the From domain (or its organisation), and DKIM's d= aligns with it."""
    for where in dict.fromkeys([domain, organisational(domain)]):
        records = [r for r in dns.txt(f"_dmarc.{where}") if r.strip().upper().startswith("V=DMARC1")]
        if len(records) > 1:
            return False, f"_dmarc.{where} has {len(records)} DMARC records: receivers ignore them all; keep one"
        if records:
            break
    else:
        return False, (f"no DMARC record at _dmarc.{domain}: publish e.g. 'v=DMARC1; p=none; "
                       f"rua=mailto:dmarc@{domain}' and tighten p= once reports look right")
    policy = parse_dmarc(records[0])
    said = f"_dmarc.{where}: p={policy.policy}"
    if dkim is not None:
        if not aligned(dkim.domain, domain, policy.adkim):
            mode = "strict" if policy.adkim == "s" else "relaxed"
            return False, (f"{said}, but DKIM d={dkim.domain} is not aligned with From {domain} ({mode}): "
                           f"sign with dkim.domain = {domain!r}")
        said += f"; DKIM d={dkim.domain} aligned with From {domain}"
    else:
        said += f"; only SPF can align (the envelope sender is {domain})"
    return True, said + ("; p=none only monitors" if policy.policy == "none" else "")


def mx(dns: Dns, address: str) -> tuple[bool, str]:
    """The domain bounces return to (the envelope sender's) receives mail."""
    domain = address.rpartition("@")[2]
    records = dns.mx(domain)
    if not records:
        return False, f"{domain} has no MX record: bounces to {address} cannot arrive; add MX records"
    if [host for _, host in records] in (["."], [""]):
        return False, f"{domain} publishes a null MX (accepts no mail): bounces to {address} are lost"
    return True, f"{domain} receives mail at " + ", ".join(host for _, host in records[:3])


def unsubscribe(base_url: str) -> tuple[bool, str]:
    """One-click unsubscribe links are https, unless the web app is only on this machine (trying out)."""
    parts = urlsplit(base_url)
    if _local(parts.hostname or ""):
        return True, f"{base_url} is this machine: fine for trying out; readers need a public https address"
    if parts.scheme != "https":
        return False, (f"newsletter.base_url is {base_url}: mail apps want https for one-click unsubscribe "
                       "(RFC 8058); serve the web app over https and set base_url to it")
    return True, f"unsubscribe links go to {base_url} over https"


def _local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["NAMES", "Check", "Diagnosis", "DnsError", "examine"]
