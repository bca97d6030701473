"""The producer's bound: while the relay is slow, at most ``depth`` messages are built ahead of the connections.

A real aiosmtpd relay holds every message at its final dot until the test lets one
through; the pool's two connections are then both waiting on it, and the producer must
stop once ``depth`` built messages wait. The test counts the messages built through the
pool's ``build`` hook.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from newsletter.config import parse_url
from newsletter.delivery.outbox import SENT, Job
from newsletter.delivery.pool import JobOutcome, Pool
from newsletter.delivery.ratelimit import RateLimit
from newsletter.delivery.smtp import Connection
from newsletter.sink import free_port

READERS, CONNECTIONS = 24, 2


class HeldRelay:
    """Accept each message only when the test releases one; count the messages that reached their final dot."""

    def __init__(self, changed: threading.Condition) -> None:
        self.changed = changed
        self.gate = threading.Semaphore(0)
        self.entered = 0  # messages whose end the relay has and holds, or has accepted
        self.accepted: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.entered += 1
            self.changed.notify_all()
        await asyncio.get_running_loop().run_in_executor(None, self.gate.acquire)
        with self.changed:
            self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


class Counted:
    """The pool's ``build`` hook: makes each message and records how far ahead of the relay it was made."""

    def __init__(self, changed: threading.Condition) -> None:
        self.changed = changed
        self.built: list[str] = []
        self.released = 0  # messages the test has let the relay accept (counted before each release)
        self.most_ahead = 0

    def __call__(self, job: Job) -> bytes:
        with self.changed:
            self.built.append(job.email)
            # The connections can hold at most ``released + CONNECTIONS`` messages, so this many are
            # at least built and not yet taken, this one included.
            self.most_ahead = max(self.most_ahead, len(self.built) - self.released - CONNECTIONS)
            self.changed.notify_all()
        return (f"From: briefing@example.org\r\nTo: {job.email}\r\nSubject: Issue 1\r\n\r\nHello.\r\n").encode()


@pytest.fixture
def relay() -> Iterator[tuple[HeldRelay, str]]:
    relay = HeldRelay(threading.Condition())
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield relay, f"smtp://127.0.0.1:{port}"
    finally:
        relay.gate.release(READERS + CONNECTIONS)  # nobody is left waiting, whatever the test did
        controller.stop()


def test_at_most_depth_messages_are_built_ahead_of_slow_connections(relay: tuple[HeldRelay, str]) -> None:
    held, url = relay
    changed = held.changed
    build = Counted(changed)
    outcomes: list[JobOutcome] = []

    def record(outcome: JobOutcome) -> Any:
        with changed:
            outcomes.append(outcome)
            changed.notify_all()
        return lambda: None  # stored at once

    pool = Pool(lambda: Connection(parse_url(url)), size=CONNECTIONS, sender="briefing@example.org", build=build,
                record=record, limit=RateLimit(1_000_000))
    depth = pool.producer.depth
    assert depth == 2 * CONNECTIONS  # the default: two per connection
    for n in range(READERS):
        pool.put(Job(n + 1, 0, n + 1, f"r{n}@example.org", "", "active", "", 0))
    pool.start()
    try:
        for released in range(READERS):
            # Each connection holds a message at the relay (only one until the relay has accepted a first
            # message: the pool probes with one), and the producer has filled the queue and stopped.
            holding = 1 if released == 0 else min(READERS, released + CONNECTIONS)
            ahead = min(READERS, holding + depth)

            def settled(holding: int = holding, ahead: int = ahead) -> bool:
                return held.entered == holding and len(build.built) >= ahead
            with changed:
                assert changed.wait_for(settled, 30), (
                    f"after {released} accepted: {held.entered} at the relay, {len(build.built)} built")
                assert len(build.built) == ahead  # exactly: the producer stopped at the bound
                build.released = released + 1
            held.gate.release()
        with changed:
            assert changed.wait_for(lambda: len(outcomes) == READERS, 30)
    finally:
        held.gate.release(READERS + CONNECTIONS)
        pool.close()
    assert [o.status for o in outcomes] == [SENT] * READERS
    assert sorted(held.accepted) == sorted(f"r{n}@example.org" for n in range(READERS))
    assert build.built == [f"r{n}@example.org" for n in range(READERS)]  # each built once, in order
    assert build.most_ahead == depth  # reached, never passed, as the build hook saw it
