"""The ``newsletter`` command: each command opens the app and calls one library function."""

from __future__ import annotations

from newsletter.cli import lists, local, reports, work  # noqa: F401 - importing them registers their commands
from newsletter.cli.base import cli


def main() -> None:
    """Run the command line."""
    cli(prog_name="newsletter")


__all__ = ["cli", "main"]
