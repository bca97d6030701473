"""An SMTP sink that does as little work per message as SMTP allows, for the send benchmark and tests."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from newsletter.sink import Received, free_port


class FastSink:
    """Accept every message on ``host:port`` with as little work per message as SMTP allows.

    One asyncio loop in a background thread answers each batch of pipelined
    commands with one write. It counts messages and, with ``keep``, keeps them.
    ``pipelining=False`` stops it from offering PIPELINING. With ``delay`` it answers
    the end of each message that many seconds late, as a busy relay does, reading
    nothing more from that session meanwhile. With ``rtt`` every answer leaves that
    many seconds late, as if the relay were across a network.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, keep: bool = False,
                 pipelining: bool = True, delay: float = 0.0, rtt: float = 0.0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.keep = keep
        self.pipelining = pipelining
        self.delay = delay
        self.rtt = rtt
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
        self._answer()

    def _answer(self) -> None:
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
                if self.sink.delay and self.transport is not None:  # answer later; read on after that
                    self._reply(b"".join(replies))
                    self.transport.pause_reading()
                    asyncio.get_running_loop().call_later(self.sink.delay, self._accepted)
                    return
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
            self._reply(b"".join(replies))

    def _accepted(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._reply(b"250 OK queued\r\n")
        self.transport.resume_reading()
        self._answer()

    def _reply(self, data: bytes) -> None:
        if self.sink.rtt:
            asyncio.get_running_loop().call_later(self.sink.rtt, self._write, data)
        else:
            self._write(data)

    def _write(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

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
