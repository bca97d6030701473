"""A scripted SMTP server on loopback (aiosmtpd) whose answers a test chooses, and a wait on a sink."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

from newsletter.sink import Received, Sink, free_port


@dataclass
class Script:
    """How the scripted SMTP server answers: per-recipient codes, and a drop after N messages.

    ``rcpt`` answers may be a list, used up one attempt at a time (then the address is
    accepted); ``data`` answers the end of a message to that recipient; ``mail`` answers
    MAIL FROM; ``drop`` closes the connection at that recipient's DATA, ``stall`` never
    answers it; ``pipelining`` offers PIPELINING; ``gate`` holds every message until that
    many sessions have started; ``sessions`` counts EHLOs; ``smtputf8`` holds, per accepted
    recipient, whether its MAIL FROM asked for SMTPUTF8; ``accepting`` is told each count of
    accepted messages before the server answers the message it counts.
    """

    rcpt: dict[str, Any] = field(default_factory=dict)  # address -> "550 5.1.1 No such user" or a list
    drop_after: int | None = None  # close the connection instead of accepting message N+1
    accepted: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    data: dict[str, str] = field(default_factory=dict)
    mail: str | None = None
    drop: set[str] = field(default_factory=set)
    stall: set[str] = field(default_factory=set)
    pipelining: bool = False
    gate: int = 0
    sessions: int = 0
    attempts: dict[str, int] = field(default_factory=dict)  # address -> RCPT commands seen
    stalled: threading.Event = field(default_factory=threading.Event)  # set when a stall begins
    peers: list[Any] = field(default_factory=list)  # the client address of each accepted message
    smtputf8: dict[str, bool] = field(default_factory=dict)
    accepting: Callable[[int], None] | None = None  # called with the count after each message accepted


class ScriptedHandler:
    """The aiosmtpd handler that answers as its ``Script`` says."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.opened: asyncio.Event | None = None

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.script.lock:
            self.script.sessions += 1
            if self.opened is None:
                self.opened = asyncio.Event()
            if self.script.sessions >= self.script.gate:
                self.opened.set()
        return responses[:-1] + ["250-PIPELINING"] * self.script.pipelining + responses[-1:]

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.script.mail:
            return self.script.mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.script.lock:
            self.script.attempts[address] = self.script.attempts.get(address, 0) + 1
            answer = self.script.rcpt.get(address)
            if isinstance(answer, list):
                answer = answer.pop(0) if answer else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        if self.script.gate and self.opened is not None:
            await self.opened.wait()
        if rcpt in self.script.stall:
            self.script.stalled.set()
            await asyncio.Event().wait()  # never answers; the client must time out
        if rcpt in self.script.drop:
            server.transport.close()
            return "421 closing"
        if rcpt in self.script.data:
            return self.script.data[rcpt]
        with self.script.lock:
            if self.script.drop_after is not None and len(self.script.accepted) >= self.script.drop_after:
                server.transport.close()
                return "421 closing"
            self.script.accepted.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                                 envelope.original_content))
            self.script.peers.append(session.peer)
            for address in envelope.rcpt_tos:
                self.script.smtputf8[address] = bool(envelope.smtp_utf8)
            accepted = len(self.script.accepted)
        if self.script.accepting is not None:
            self.script.accepting(accepted)
        return "250 OK"


@dataclass
class ScriptedServer:
    """A running scripted server: its ``smtp://`` URL and the script it follows."""

    url: str
    script: Script
    controller: Any = None

    @property
    def messages(self) -> list[Received]:
        """Return what the server accepted, as a ``Sink`` holds it."""
        return self.script.accepted


@contextmanager
def serve_script(script: Script | None = None, *, smtputf8: bool = True) -> Iterator[ScriptedServer]:
    """Run a scripted aiosmtpd server on a free loopback port until the block ends.

    Like aiosmtpd's Controller (and so the ``sink``), it offers SMTPUTF8 unless ``smtputf8`` is False.
    """
    script = script or Script()
    port = free_port()
    controller = Controller(ScriptedHandler(script), hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield ScriptedServer(f"smtp://127.0.0.1:{port}", script, controller)
    finally:
        controller.stop()


def wait_for_messages(sink: Sink | ScriptedServer, count: int, timeout: float = 60.0) -> bool:
    """Wait until ``sink`` holds at least ``count`` messages; return False if ``timeout`` passed first."""
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
