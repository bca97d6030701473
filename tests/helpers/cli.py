"""The command line as a user runs it: ``python -m newsletter`` in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
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
