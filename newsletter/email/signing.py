"""Finishing built messages: a ``Stamp`` (header lines on top, then the DKIM signature), signed in a child process.

A send's threads share one interpreter lock. Signing is most of the CPU a message
costs after it is built, so a long send signs in a ``SigningProcess``: a child
(``python -m newsletter.email.signing``) that loads the key and signs whatever it is
sent, over a pipe, while the sending threads keep this process to themselves
(docs/performance.md measures both ways). The child imports this module and the
signer and nothing else: not the main module of whatever started the send, as a
``multiprocessing`` child would (under a benchmark that cost it 0.7 s of CPU, and a
script without a ``__main__`` guard would run again in it). The key goes down the
pipe, never on the command line. The parent signs by itself until the child says it
is ready, or if the child dies; a child whose parent dies sees its pipe close and ends too.
"""

from __future__ import annotations

import json
import logging
import os
import select
import struct
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import newsletter
from newsletter.email.dkim import Dkim, SigningError

log = logging.getLogger("newsletter.email")

READY = b"ready"
FAILED = b"!"  # an answer starting so carries the reason a message could not be signed
_LENGTH = struct.Struct("!I")  # each message on the pipe: its length, then its bytes


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
        self._broken = False
        # Started in the folder that holds this package, which ``-m`` puts first on the child's
        # path: it imports this very package, never a ``newsletter`` of the folder the send runs in.
        root = Path(newsletter.__file__).resolve().parent.parent
        self._process = subprocess.Popen([sys.executable, "-m", __name__], cwd=root, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, bufsize=0)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to, self._from = self._process.stdin.fileno(), self._process.stdout.fileno()
        fields = {**asdict(dkim), "key": dkim.key.decode("ascii")}  # PEM or base64: ASCII either way
        try:
            _write(self._to, json.dumps(fields).encode())
        except OSError:
            self._broken = True

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to be ready; return whether it is."""
        self._check(timeout)
        return self.ready

    def signature(self, message: bytes) -> bytes:
        """Return the DKIM-Signature field for ``message``: made by the child once it is ready, else here."""
        self._check(0)
        if self.ready:
            try:
                _write(self._to, message)
                answer = _read(self._from)
            except (OSError, EOFError) as e:
                log.warning("the DKIM signing process stopped (%s); signing in this process", e or type(e).__name__)
                self.ready, self._broken = False, True
            else:
                if answer.startswith(FAILED):
                    raise SigningError(answer[len(FAILED):].decode("utf-8", "replace"))
                return answer
        return self.dkim.signature(message)

    @property
    def pid(self) -> int:
        """Return the child's process id."""
        return self._process.pid

    def close(self) -> None:
        """End the child (it sees its pipe close) and wait for it."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()

    def _check(self, timeout: float) -> None:
        if self.ready or self._broken:
            return
        try:
            if select.select([self._from], [], [], timeout)[0]:
                self.ready = _read(self._from) == READY
                self._broken = not self.ready
        except (OSError, EOFError):
            self._broken = True


def _write(fd: int, data: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read(fd: int) -> bytes:
    (size,) = _LENGTH.unpack(_exactly(fd, _LENGTH.size))
    return _exactly(fd, size)


def _exactly(fd: int, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = os.read(fd, left)
        if not part:
            raise EOFError("the pipe closed")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def serve(source: int, sink: int) -> None:
    """Sign every message that comes down ``source`` until it closes, answering on ``sink`` (the child's side)."""
    try:
        fields = json.loads(_read(source))
    except (EOFError, OSError):
        return
    dkim = Dkim(**{**fields, "key": fields["key"].encode("ascii")})
    dkim.signature(b"Subject: warm\r\n\r\n")  # load the key before saying ready
    _write(sink, READY)
    while True:
        try:
            message = _read(source)
        except (EOFError, OSError):
            return
        try:
            answer = dkim.signature(message)
        except SigningError as e:
            answer = FAILED + str(e).encode()
        _write(sink, answer)


if __name__ == "__main__":
    answers = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, not into the answers
    serve(sys.stdin.fileno(), answers)
