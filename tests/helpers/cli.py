"""The command line as a user runs it: ``python -m newsletter`` in a child process."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run ``newsletter *args`` in ``cwd`` with no NEWSLETTER_ variable but those of ``env``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, input=input, timeout=120)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert that the command failed with exit status 1 and one ``error:`` line, no traceback; return it."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def run_on_terminal(*args: str, cwd: Path, until: str | None = None, answer: str = "", timeout: float = 120
                    ) -> tuple[int, str]:
    """Run ``newsletter *args`` on a pseudo-terminal; once it has printed ``until`` (if given), type ``answer``.

    Returns the exit status and everything it printed (stdout and stderr share the terminal).
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "newsletter", *args], cwd=cwd, env=environ,
                               stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    seen, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal: it has ended
                break
            if not chunk:
                break
            seen += chunk
            if not answered and until is not None and until.encode() in seen:
                os.write(controller, answer.encode())
                answered = True
        return process.wait(timeout=max(1.0, deadline - time.monotonic())), seen.decode(errors="replace")
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
