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


def nameserver(value: str) -> tuple[str, int] | None:
    """Return the host and port (53 unless given) of ``[dns] nameserver``; None when empty (the system's).

    Only the form is checked here: a value that is not ``host[:port]`` is a ``ConfigError``.
    """
    if not value:
        return None
    parts = urlsplit("//" + value)
    try:
        port = parts.port or 53
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if not host:
        raise ConfigError(f"dns.nameserver: expected a host name or IP address with an optional :port, "
                          f"got {value!r}")
    return host, port


def resolver(server: tuple[str, int] | None, timeout: float) -> dns.resolver.Resolver:
    """Return a resolver asking ``server`` (from ``nameserver``), or the system's server when None.

    A host name is resolved here, by the system; each address it has is asked in turn, each
    given ``timeout`` to answer. A name that does not resolve is a ``DnsError``.
    """
    if server is None:
        try:
            made = dns.resolver.Resolver()
        except dns.exception.DNSException as e:  # e.g. no /etc/resolv.conf
            raise DnsError(f"cannot use the system's DNS server ({e}); set dns.nameserver") from e
        made.lifetime = made.timeout = timeout
        return made
    host, port = server
    made = dns.resolver.Resolver(configure=False)
    made.nameservers = addresses(host, port)
    made.port = port
    made.timeout = timeout
    made.lifetime = timeout * len(made.nameservers)
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
        raise DnsError(f"dns.nameserver: cannot resolve {host!r} ({reason}); give its IP address "
                       "or a name this machine can resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class Dns:
    """Ask TXT and MX questions; an absent name or record is an empty answer, a failure an error."""

    def __init__(self, settings: DnsSettings) -> None:
        self._server = nameserver(settings.nameserver)  # a malformed value fails here, before any check
        self._timeout = settings.timeout
        self._made: dns.resolver.Resolver | DnsError | None = None
        self.server = settings.nameserver or "the system's DNS server"

    def _resolver(self) -> dns.resolver.Resolver:
        """Return the resolver, made on the first question; a name that did not resolve fails every question."""
        if self._made is None:
            try:
                self._made = resolver(self._server, self._timeout)
            except DnsError as e:
                self._made = e  # asked once: the next checks fail at once with the same line
        if isinstance(self._made, DnsError):
            raise DnsError(str(self._made))
        return self._made

    def _ask(self, name: str, kind: str) -> list[dns.rdata.Rdata]:
        made = self._resolver()
        try:
            return list(made.resolve(name, kind, search=False))
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
