"""A local SMTP sink: a server that accepts every message and keeps it, for the mail view.

``newsletter demo`` sends into one; ``newsletter sink`` runs one for any newsletter
(``serve``), where its ``smtp.url`` points, so a first send can be tried on this machine.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from newsletter.config import Config, parse_url
from newsletter.error import NewsletterError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 1025


@dataclass(frozen=True)
class Received:
    """One message the sink accepted."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes

    def parse(self) -> EmailMessage:
        """Return the message parsed with the modern email API."""
        return message_from_bytes(self.data, policy=policy.default)


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.sink._keep(Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), data))
        return "250 Message accepted for delivery"


class Sink:
    """Accept every message on ``host:port`` (a free port if 0); optionally write each to ``folder``.

    Messages already in ``folder`` (from an earlier run) are kept and numbered on from.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.folder = folder
        self.messages: list[Received] = []
        self._controller = Controller(_Handler(self), hostname=host, port=self.port,
                                      data_size_limit=50_000_000)

    @property
    def url(self) -> str:
        """Return the ``smtp://`` URL of the sink."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> Sink:
        """Start serving in a background thread."""
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.messages.extend(Received("", (), p.read_bytes()) for p in sorted(self.folder.glob("*.eml")))
        try:
            self._controller.start()
        except OSError as e:
            reason = "the port is taken (another sink?)" if e.errno == errno.EADDRINUSE else str(e)
            raise NewsletterError(f"cannot listen on {self.host}:{self.port}: {reason}") from None
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._controller.stop()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _keep(self, received: Received) -> None:
        self.messages.append(received)  # only the server's one event loop thread appends
        n = len(self.messages)
        if self.folder is not None:
            who = re.sub(r"[^\w.@-]+", "_", received.recipients[0] if received.recipients else "unknown")
            stem = str(self.folder / f"{n:04d}-{who}")
            Path(stem + ".eml").write_bytes(received.data)
            html = received.parse().get_body(preferencelist=("html",))
            if html is not None:
                Path(stem + ".html").write_text(html.get_content(), encoding="utf-8")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def address_of(config: Config) -> tuple[str, int, str | None]:
    """Return where a sink for ``config`` listens: where ``smtp.url`` points, if that is this machine.

    The third value says why mail sent by ``config`` will not reach a sink there (None: it will).
    """
    url = parse_url(config.smtp.url, where="smtp.url")
    if not _local(url.host):
        return DEFAULT_HOST, DEFAULT_PORT, f"smtp.url points at {url.host}, not this machine"
    if url.security != "plain":
        return url.host, url.port, f"smtp.url asks for TLS ({url}), which the sink does not speak"
    return url.host, url.port, None


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
