"""The sign-up limit: at most ``web.signups_per_hour`` sign-ups from one client address.

Double opt-in mails whatever address is typed, so one client submitting thousands of
different addresses would make this server mail strangers ("list bombing"). Each
sign-up that passes the form's checks asks ``admit`` first: it counts the client's
admitted sign-ups of the last hour and, under the limit, records one more. A refused
sign-up records nothing (so the Retry-After it gets is exact) and sends nothing.

The same mechanism limits logins: a client may try at most ``web.login_attempts`` wrong
admin tokens in 15 minutes (``LOGINS``); a right one is not counted.

The count lives in the database (``signup_attempts``, a row per attempt and its kind),
so it holds across web workers and restarts. A client is kept as an HMAC of its address under the app's secret,
never the address itself; rows older than a day are deleted as new ones arrive.
An IPv6 client counts by its /64 network (one host usually holds the whole /64).

The client address is the connection's peer. Behind a reverse proxy every peer is the
proxy: list it in ``web.trusted_proxies`` and, for requests it passes on, the client
is the right-most ``X-Forwarded-For`` address that is not itself a trusted proxy. From
any other peer the header is ignored, so a client cannot name itself someone else.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from newsletter.app import Newsletter
from newsletter.store import to_db

WINDOW = timedelta(hours=1)
KEEP = timedelta(days=1)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Limit:
    """A kind of attempt, and the setting that says how many of them one client may make in ``window``."""

    kind: str
    setting: str  # a key of ``[web]``; its value 0 means no limit
    window: timedelta


SIGNUPS = Limit("signup", "signups_per_hour", WINDOW)
LOGINS = Limit("login", "login_attempts", timedelta(minutes=15))


@dataclass(frozen=True)
class Admission:
    """Whether an attempt may go ahead, and if not, in how many seconds one from its client will.

    ``counted``: the attempt was recorded (a sign-up; a wrong admin token).
    """

    allowed: bool
    retry_after: int = 0
    counted: bool = False


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """Return the address a request comes from: its peer, or behind a trusted proxy the client it names.

    ``forwarded_for`` is the ``X-Forwarded-For`` value (several headers joined by commas).
    Walking it from the right, skip trusted proxies; the first other address is the client.
    """
    networks = _networks(trusted)
    address = (peer or "").strip()
    if not forwarded_for or not _within(address, networks):
        return address
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if not hop:
            continue
        address = hop
        if not _within(hop, networks):
            break
    return address  # every hop trusted: the left-most one is as near the client as is known


def is_trusted(peer: str, trusted: Iterable[str]) -> bool:
    """Return whether ``peer`` is one of the ``trusted`` proxies, whose forwarded headers are believed."""
    return _within(peer.strip(), _networks(trusted))


def client_key(app: Newsletter, address: str) -> str:
    """Return what the store keeps for a client: an HMAC of its address (its /64 for IPv6), hex."""
    secret = app.store.secret(app.config.newsletter.secret_key).encode()
    return hmac.new(secret, f"signup-client:{_group(address)}".encode(), hashlib.sha256).hexdigest()


def admit(app: Newsletter, peer: str | None, forwarded_for: str | None = None, *, limit: Limit = SIGNUPS,
          counts: Callable[[], bool] = lambda: True) -> Admission:
    """Count an attempt from the request's client against ``limit``; refuse one too many.

    Admitted: the attempt is recorded if ``counts()`` says so (asked only then, in the
    same transaction, so concurrent attempts cannot pass together). Refused: nothing is
    recorded or asked, and ``retry_after`` is the seconds until the client's oldest
    counted attempt leaves the window.
    """
    most = getattr(app.config.web, limit.setting)
    if most == 0:
        return Admission(True, counted=counts())
    key = client_key(app, client_address(peer, forwarded_for, app.config.web.trusted_proxies))
    moment = to_db(app.clock())
    assert moment is not None
    t = app.store.t.signup_attempts
    with app.store.begin() as conn:
        _serialise(conn, key)
        conn.execute(t.delete().where(t.c.at < moment - KEEP))
        recent = conn.execute(sa.select(t.c.at).where(t.c.kind == limit.kind, t.c.client == key,
                                                      t.c.at > moment - limit.window)
                              .order_by(t.c.at.desc()).limit(most)).scalars().all()
        if len(recent) >= most:
            wait = recent[-1] + limit.window - moment  # the oldest of the last ``most`` leaves the window
            return Admission(False, max(1, math.ceil(wait.total_seconds())))
        if not counts():
            return Admission(True)
        conn.execute(t.insert().values(client=key, at=moment, kind=limit.kind))
    return Admission(True, counted=True)


def _serialise(conn: sa.Connection, key: str) -> None:
    """Let one transaction at a time count and record for ``key``, so concurrent sign-ups cannot both pass.

    SQLite writers already take the database lock at BEGIN; PostgreSQL takes a lock on the key.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                     {"k": int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)})


def _networks(trusted: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted]


def _within(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _group(address: str) -> str:
    """Return the unit a limit applies to: an IPv4 address, an IPv6 /64; anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
