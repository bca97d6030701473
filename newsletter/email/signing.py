"""Finishing built messages: a ``Stamp`` (header lines on top, then the DKIM signature), signed in a child process.

A send's threads share one interpreter lock. Signing is most of the CPU a message
costs after it is built, so a long send signs in a ``SigningProcess``: a child that
loads the key and signs whatever it is sent, over a pipe, while the sending threads
keep this process to themselves (docs/performance.md measures both ways). The child
starts at once and the parent signs by itself until the child says it is ready, or
if the child dies; a child whose parent dies sees its pipe close and ends too.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection

from newsletter.email.dkim import Dkim, SigningError

log = logging.getLogger("newsletter.email")

READY = b"ready"
FAILED = b"!"  # an answer starting so carries the reason a message could not be signed


@dataclass(frozen=True)
class Stamp:
    """What finishes each built message: ``header`` (ready-made lines) on top, then the DKIM signature if any."""

    header: bytes
    dkim: Dkim | None = None

    def __call__(self, message: bytes) -> bytes:
        message = self.header + message
        return message if self.dkim is None else self.dkim.sign(message)


class SigningProcess:
    """Make DKIM signatures in a child process; use from one thread at a time, and ``close`` when done."""

    def __init__(self, dkim: Dkim) -> None:
        self.dkim = dkim
        self.ready = False  # the child has loaded its key and answers
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._conn, child = context.Pipe()
        fresh = dataclasses.replace(dkim)  # without the key object the parent may hold loaded: it cannot be pickled
        self._process = context.Process(target=_serve, args=(child, fresh), name="dkim-signer", daemon=True)
        self._process.start()
        child.close()
        self._broken = False

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to be ready; return whether it is."""
        self._check(timeout)
        return self.ready

    def signature(self, message: bytes) -> bytes:
        """Return the DKIM-Signature field for ``message``: made by the child once it is ready, else here."""
        self._check(0)
        if self.ready:
            try:
                self._conn.send_bytes(message)
                answer = self._conn.recv_bytes()
            except (OSError, EOFError) as e:
                log.warning("the DKIM signing process stopped (%s); signing in this process", e or type(e).__name__)
                self.ready, self._broken = False, True
            else:
                if answer.startswith(FAILED):
                    raise SigningError(answer[len(FAILED):].decode("utf-8", "replace"))
                return answer
        return self.dkim.signature(message)

    def close(self) -> None:
        """End the child (it sees its pipe close) and wait for it."""
        self._conn.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()

    def _check(self, timeout: float) -> None:
        if self.ready or self._broken:
            return
        try:
            if self._conn.poll(timeout):
                self.ready = self._conn.recv_bytes() == READY
                self._broken = not self.ready
        except (OSError, EOFError):
            self._broken = True


def _serve(conn: Connection, dkim: Dkim) -> None:
    """Sign every message that comes down ``conn`` until it closes (the child's side)."""
    dkim.signature(b"Subject: warm\r\n\r\n")  # load the key before saying ready
    conn.send_bytes(READY)
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            answer = dkim.signature(message)
        except SigningError as e:
            answer = FAILED + str(e).encode()
        conn.send_bytes(answer)
