"""Errors in words: the errors the library raises, and what a failed connection means.

Each error a user can act on is a ``NewsletterError``; the CLI turns it into one line on
stderr. Network failures are said in words too: what a refused, unknown, silent or
mismatched connection means, and what to do. The SMTP session (``delivery/smtp.py``)
and the HTTP client of gathering (``gather/fetch.py``) both say a failed connection this
way, naming the host and port they tried, instead of the library's wording (``[SSL: WRONG_VERSION_NUMBER]``, ``All
connection attempts failed``). The cause is looked for along the exception's chain
(``__cause__``, ``__context__`` and the members of an exception group), where httpx
and anyio keep the socket's own error.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator


class NewsletterError(Exception):
    """Base class for every error a user can act on."""


class ConfigError(NewsletterError):
    """The configuration file or environment is missing or invalid."""


class StoreError(NewsletterError):
    """The state store cannot be opened or migrated."""


class SourceError(NewsletterError):
    """A source could not be fetched or parsed."""


class FeedError(SourceError):
    """A feed could not be fetched or is not a feed."""


class DocumentError(SourceError):
    """A briefing document could not be read."""


class TemplateError(NewsletterError):
    """An email template is missing or fails to render."""


class SmtpError(NewsletterError):
    """The SMTP server cannot be reached or refused the session."""


class EditorialError(NewsletterError):
    """An editor's choice names an unknown item or section, or an item already sent."""


class SubscriberError(NewsletterError):
    """A subscriber operation got bad input (address, CSV row, unknown email)."""


class OpmlError(NewsletterError):
    """An OPML file cannot be read, or its sources cannot be added to the config."""


class BounceError(NewsletterError):
    """A message meant as a bounce or complaint report cannot be read (not mail, or a broken report)."""


# OpenSSL's reasons when the other side answered, but not in TLS (a plain-text greeting or page).
NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "RECORD_LAYER_FAILURE",
                     "PACKET_LENGTH_TOO_LONG"})
UNREACHABLE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})


def address(host: str, port: int) -> str:
    """Return ``host:port`` as people write it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def causes(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and every error behind it: causes, contexts and the members of exception groups."""
    todo, seen = [error], set()
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)


def describe(error: BaseException, host: str, port: int, *, not_tls: str, untrusted: str,
             timeout: float | None = None) -> str | None:
    """Return what a failed connection to ``host:port`` means, or None when its cause is none of these.

    ``not_tls`` is the advice when the server answered but not in TLS, ``untrusted`` when
    its certificate was not trusted; ``timeout`` is the wait that ran out, if one did.
    """
    where = address(host, port)
    found = list(causes(error))
    for e in found:
        if isinstance(e, ssl.SSLCertVerificationError):
            return certificate(e, host, where, untrusted)
        if isinstance(e, ssl.SSLError) and e.reason in NOT_TLS:
            return f"the server at {where} does not speak TLS on this port; {not_tls}"
        if isinstance(e, socket.gaierror):
            return f"cannot find host {host} ({e.strerror or e}); check the name for typos"
    oserrors = [e for e in found if isinstance(e, OSError) and not isinstance(e, BaseExceptionGroup)]
    if any(isinstance(e, ConnectionRefusedError) for e in oserrors):
        return f"nothing is listening at {where}; check the host and port, and that the server is running"
    if any(e.errno in UNREACHABLE for e in oserrors):
        return f"cannot reach {where} (no route to it from this machine)"
    if timeout is not None and any(isinstance(e, TimeoutError) for e in found):
        return f"no answer from {where} within {timeout:g} s (a firewall dropping the connection, or a wrong port?)"
    return None


def certificate(e: ssl.SSLCertVerificationError, host: str, where: str, untrusted: str) -> str:
    """Return why the certificate of the server at ``where`` was refused, and what to do."""
    text = f"certificate verify failed: {e.verify_message}" if e.verify_message else str(e.reason or e)
    if e.verify_code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
        return (f"the certificate of the server at {where} is not valid for {host} ({text}); "
                "connect by the name its certificate carries")
    if e.verify_code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        return f"the certificate of the server at {where} has expired ({text}); its owner must renew it"
    return f"the certificate of the server at {where} is not trusted ({text}); {untrusted}"
