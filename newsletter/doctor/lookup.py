"""DNS questions the checks ask, through dnspython, at the configured server or the system's."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import dns.exception
import dns.rdata
import dns.resolver

from newsletter.error import ConfigError, NewsletterError
from newsletter.settings import DnsSettings


class DnsError(NewsletterError):
    """A DNS question got no usable answer (timeout, refused, server failure)."""


def resolver(settings: DnsSettings) -> dns.resolver.Resolver:
    """Return a resolver for ``[dns] nameserver`` (an IP address, with ``:port``), or the system's when empty."""
    if not settings.nameserver:
        made = dns.resolver.Resolver()
    else:
        parts = urlsplit("//" + settings.nameserver)
        try:
            port = parts.port or 53
            ipaddress.ip_address(parts.hostname or "")
        except ValueError:
            raise ConfigError(
                f"dns.nameserver: expected an IP address with an optional :port, got {settings.nameserver!r}"
            ) from None
        made = dns.resolver.Resolver(configure=False)
        made.nameservers = [parts.hostname or ""]
        made.port = port
    made.lifetime = made.timeout = settings.timeout
    return made


class Dns:
    """Ask TXT and MX questions; an absent name or record is an empty answer, a failure an error."""

    def __init__(self, settings: DnsSettings) -> None:
        self._resolver = resolver(settings)
        self.server = settings.nameserver or "the system's DNS server"

    def _ask(self, name: str, kind: str) -> list[dns.rdata.Rdata]:
        try:
            return list(self._resolver.resolve(name, kind, search=False))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.resolver.NoNameservers as e:
            raise DnsError(f"{self.server} could not answer for {name} ({kind}): {e.msg}") from e
        except dns.exception.Timeout as e:
            raise DnsError(f"{self.server} did not answer for {name} ({kind}) in time") from e
        except dns.exception.DNSException as e:
            raise DnsError(f"cannot look up {name} ({kind}): {e}") from e

    def txt(self, name: str) -> list[str]:
        """Return the TXT records at ``name``, each one's strings joined (RFC 7208 3.3)."""
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._ask(name, "TXT")]  # type: ignore[attr-defined]

    def mx(self, name: str) -> list[tuple[int, str]]:
        """Return ``(preference, host)`` for each MX record at ``name``, best first."""
        found = [(r.preference, r.exchange.to_text(omit_final_dot=True)) for r in self._ask(name, "MX")]  # type: ignore[attr-defined]
        return sorted(found)
