"""DNS questions the checks ask, through dnspython, at the configured server or the system's."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import dns.exception
import dns.rdata
import dns.resolver

from newsletter.error import ConfigError, NewsletterError
from newsletter.settings import DnsSettings


class DnsError(NewsletterError):
    """A DNS question got no usable answer (timeout, refused, server failure)."""


def resolver(settings: DnsSettings) -> dns.resolver.Resolver:
    """Return a resolver for ``[dns] nameserver`` (a host name or IP address, with ``:port``); empty: the system's.

    A host name is resolved once, here, by the system; each address it has is asked in turn,
    each given ``timeout`` to answer.
    """
    if not settings.nameserver:
        made = dns.resolver.Resolver()
        made.lifetime = made.timeout = settings.timeout
        return made
    parts = urlsplit("//" + settings.nameserver)
    try:
        port = parts.port or 53
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if not host:
        raise ConfigError(f"dns.nameserver: expected a host name or IP address with an optional :port, "
                          f"got {settings.nameserver!r}")
    made = dns.resolver.Resolver(configure=False)
    made.nameservers = addresses(host, port)
    made.port = port
    made.timeout = settings.timeout
    made.lifetime = settings.timeout * len(made.nameservers)
    return made


def addresses(host: str, port: int) -> list[str]:
    """Return the IP addresses of ``host`` (itself, when it is one), in the order the system prefers them."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as e:
        reason = e.strerror if isinstance(e, socket.gaierror) else "not a valid host name"
        raise ConfigError(f"dns.nameserver: cannot resolve {host!r} ({reason}); give its IP address "
                          "or a name this machine can resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


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
