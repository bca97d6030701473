"""SMTP servers in processes of their own, for the benchmarks: the FastSink, and a relay slow to accept.

A server in its own process shares no interpreter with the sender it measures. Each
says, when stopped, how many messages it accepted and how much CPU it spent, so a
benchmark can say where the time went.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import resource
from typing import Any

from aiosmtpd.controller import Controller
from helpers.fastsink import FastSink

from newsletter.sink import free_port


class SlowRelay:
    """An aiosmtpd handler that accepts every message after ``delay`` seconds, as a busy real relay does."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        self.count += 1
        return "250 2.0.0 Ok: queued"


def _serve(port: int, pipe: Any, delay: float | None, kind: str, rtt: float) -> None:
    if delay is None or kind == "fast":
        with FastSink(port=port, delay=delay or 0.0, rtt=rtt) as sink:
            pipe.send("ready")
            pipe.recv()
            count = sink.count
    else:
        handler = SlowRelay(delay)
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        pipe.send("ready")
        pipe.recv()
        controller.stop()
        count = handler.count
    used = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send((count, used.ru_utime + used.ru_stime))


class RemoteSink:
    """A FastSink in a child process; with ``delay``, a relay that answers each message that late.

    The slow relay is aiosmtpd (``kind="aiosmtpd"``, which spends some CPU of its own on
    every message) or the FastSink answering late (``kind="fast"``, which can also answer
    every command ``rtt`` seconds late). ``stop`` returns how many messages it accepted;
    ``cpu`` is then the CPU seconds it spent.
    """

    def __init__(self, delay: float | None = None, kind: str = "aiosmtpd", rtt: float = 0.0) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.cpu = 0.0
        self._pipe, child = mp.Pipe()
        self._process = mp.Process(target=_serve, args=(self.port, child, delay, kind, rtt), daemon=True)
        self._process.start()
        assert self._pipe.recv() == "ready"

    def stop(self) -> int:
        """Stop the server; return how many messages it accepted."""
        self._pipe.send("stop")
        count, self.cpu = self._pipe.recv()
        self._process.join()
        return int(count)
