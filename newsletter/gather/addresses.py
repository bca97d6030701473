"""Addresses: where a redirect may send gathering, and where it may not.

The owner of a newsletter may configure any address, a feed on this machine or the
office network included: that is their choice. A redirect is the feed's choice, and
a stranger's feed must not turn gathering into a way to read what only this machine
can reach. So, hop by hop (``allowed_redirect`` is the whole rule):

* a redirect to the host the owner configured is always followed;
* a redirect to a link-local address (169.254.0.0/16, fe80::/10, where cloud metadata
  services answer), an unspecified, multicast or reserved one is always refused;
* a redirect from a public address to a loopback, private or otherwise non-public one
  (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7, ::1)
  is refused;
* any other is followed: public to public, and between non-public addresses when the
  owner configured a non-public source.

Host names are resolved before deciding, and a host counts by every address it has: a
redirect is refused if any pair of its origin's and target's addresses is. The check
runs on each hop, and on a permanent redirect remembered from an earlier run before it
is used. The name is resolved again when connecting, so a name whose addresses change
between the two (DNS rebinding) is not stopped here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

from newsletter.error import FeedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[Sequence[IPAddress]]]


class RedirectRefused(FeedError):
    """A redirect led to an address a source's redirects may not reach."""


def allowed_redirect(origin: IPAddress, target: IPAddress) -> bool:
    """Return whether a redirect may lead from a server at ``origin`` to one at ``target``."""
    if _never(_plain(target)):
        return False
    return not (public(origin) and not public(target))


def public(address: IPAddress) -> bool:
    """Return whether ``address`` is an ordinary internet address (not loopback, private, multicast, ...)."""
    plain = _plain(address)
    return plain.is_global and not _never(plain)


def kind(address: IPAddress) -> str:
    """Return what ``address`` is, in words: public, loopback, private, or link-local or reserved."""
    plain = _plain(address)
    if _never(plain):
        return "link-local or reserved"
    if plain.is_loopback:
        return "loopback"
    return "public" if public(plain) else "private"


async def check(origin_host: str, target_host: str, configured_host: str, resolve: Resolver) -> None:
    """Raise RedirectRefused unless a redirect from ``origin_host`` to ``target_host`` may be followed."""
    if target_host.lower() == configured_host.lower():
        return
    origins = await _addresses(origin_host, resolve)
    targets = await _addresses(target_host, resolve)
    for target in targets:
        for origin in origins:
            if not allowed_redirect(origin, target):
                where = "" if target_host == str(target) else f" ({target})"
                raise RedirectRefused(
                    f"refused a redirect from {origin_host} to {target_host}{where}, a {kind(target)} address: "
                    "a source's redirects may not lead there (configure the address itself if it is yours)")


async def resolve(host: str) -> list[IPAddress]:
    """Return every address ``host`` has, looked up in a thread (the system resolver blocks)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FeedError(f"cannot resolve {host}: {getattr(e, 'strerror', None) or e}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


async def _addresses(host: str, resolver: Resolver) -> Sequence[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        return await resolver(host)


def _never(plain: IPAddress) -> bool:
    return plain.is_link_local or plain.is_unspecified or plain.is_multicast or plain.is_reserved


def _plain(address: IPAddress) -> IPAddress:
    """Return an IPv4-mapped IPv6 address (::ffff:127.0.0.1) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
