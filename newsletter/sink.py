"""SMTP sinks on loopback that keep or count what they receive, for the demo, tests and benchmarks."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    """One message the sink accepted."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes

    def parse(self) -> EmailMessage:
        """Return the message parsed with the modern email API."""
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


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
    """Accept every message on ``host:port`` (a free port if 0); optionally write each to ``folder``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.folder = folder
        self.messages: list[Received] = []
        self._lock = threading.Condition()
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
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._controller.stop()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 60.0) -> bool:
        """Block until at least ``count`` messages arrived; return False if ``timeout`` passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.messages) >= count, timeout)

    def _keep(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)
            n = len(self.messages)
            self._lock.notify_all()
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


class FastSink:
    """Accept every message on ``host:port`` with as little work per message as SMTP allows.

    One asyncio loop in a background thread answers each batch of pipelined
    commands with one write. It counts messages and, with ``keep``, keeps them.
    ``pipelining=False`` stops it from offering PIPELINING.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, keep: bool = False,
                 pipelining: bool = True) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.keep = keep
        self.pipelining = pipelining
        self.count = 0
        self.messages: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        """Return the ``smtp://`` URL of the sink."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> FastSink:
        """Start serving in a background thread."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self._loop.create_server(lambda: _FastSession(self), self.host, self.port), self._loop)
        self._server = future.result(10)
        return self

    def stop(self) -> None:
        """Stop serving and end the thread."""
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> FastSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _FastSession(asyncio.Protocol):
    """One SMTP session: parse lines, answer in batches, find the end of DATA with one search."""

    def __init__(self, sink: FastSink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.scanned = 0  # how far DATA has been searched for its end, so no byte is searched twice
        self.in_data = False
        self.sender = ""
        self.recipients: list[str] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(b"220 sink ESMTP\r\n")  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        while self.buffer:
            if self.in_data:
                # The terminator is CRLF.CRLF; the CRLF before the dot may be the DATA line's own.
                if self.buffer.startswith(b".\r\n"):
                    end, skip = 0, 3
                else:
                    end = self.buffer.find(b"\r\n.\r\n", max(0, self.scanned - 4))
                    if end < 0:
                        self.scanned = len(self.buffer)
                        break
                    end, skip = end + 2, end + 5
                self.scanned = 0
                self._received(bytes(self.buffer[:end]))
                del self.buffer[:skip]
                self.in_data = False
                replies.append(b"250 OK queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line = bytes(self.buffer[:end])
            del self.buffer[:end + 2]
            reply = self._command(line)
            if reply is None:
                replies.append(b"221 Bye\r\n")
                assert self.transport is not None
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            replies.append(reply)
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def _command(self, line: bytes) -> bytes | None:
        verb = line[:4].upper()
        if verb == b"MAIL":
            self.sender, self.recipients = _address(line), []
            return b"250 OK\r\n"
        if verb == b"RCPT":
            self.recipients.append(_address(line))
            return b"250 OK\r\n"
        if verb == b"DATA":
            if not self.recipients:
                return b"503 need RCPT first\r\n"
            self.in_data = True
            return b"354 go ahead\r\n"
        if verb == b"EHLO":
            pipelining = b"250-PIPELINING\r\n" if self.sink.pipelining else b""
            return b"250-sink\r\n" + pipelining + b"250-8BITMIME\r\n250 SIZE 52428800\r\n"
        if verb in (b"HELO", b"RSET", b"NOOP"):
            self.recipients = [] if verb == b"RSET" else self.recipients
            return b"250 OK\r\n"
        if verb == b"QUIT":
            return None
        return b"502 not implemented\r\n"

    def _received(self, data: bytes) -> None:
        self.sink.count += 1
        if self.sink.keep:
            data = re.sub(rb"(?m)^\.\.", b".", data)
            self.sink.messages.append(Received(self.sender, tuple(self.recipients), data))
        self.recipients = []


def _address(line: bytes) -> str:
    start, end = line.find(b"<"), line.find(b">")
    return line[start + 1:end].decode("utf-8", "replace") if 0 <= start < end else ""
