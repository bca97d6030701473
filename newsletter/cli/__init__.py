"""The ``newsletter`` command: each command opens the app and calls one library function."""

from __future__ import annotations

import atexit
import os
import sys
import threading

from newsletter.cli import lists, local, reports, work  # noqa: F401 - importing them registers their commands
from newsletter.cli.base import cli


def main() -> None:
    """Run the command line."""
    try:
        cli(prog_name="newsletter")
    except SystemExit as e:
        leave(e.code)


def leave(code: object) -> None:
    """Exit with ``code``, skipping the interpreter's teardown when nothing else is running.

    Freeing every loaded module object by object takes 60-120 ms (SQLAlchemy alone 40 ms),
    a tenth of a whole ``gather``. Nothing of ours needs it: exit handlers still run,
    output is flushed and the store was closed with the command. With other threads
    alive, or a message for an exit status, the usual way out is taken.
    """
    if threading.active_count() > 1 or not (code is None or isinstance(code, int)):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)


__all__ = ["cli", "main"]
