"""The ``newsletter`` command: each command calls one library function.

A command's module is imported when that command runs, not before: ``base.COMMANDS``
says which module holds each command (add a row there with a new command).
"""

from __future__ import annotations

from newsletter.cli.base import cli


def main() -> None:
    """Run the command line."""
    cli(prog_name="newsletter")


__all__ = ["cli", "main"]
