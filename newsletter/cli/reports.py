"""The ``bounces`` command: read bounce and complaint reports from files, folders or standard input."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsletter.cli.base import _app, _json, cli, json_option
from newsletter.delivery import bounces


@cli.command("bounces")
@click.argument("paths", nargs=-1, metavar="[PATH ...]")
@json_option
@click.pass_context
def bounces_command(ctx: click.Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Apply bounce (DSN) and complaint (ARF) reports: files, folders (maildirs too), or one on stdin.

    Without PATH, or with `-`, one message is read from standard input, so a mail
    alias can pipe bounces here. Exits 1 if a message could not be read (the
    others are still applied).
    """
    if not paths and sys.stdin.isatty():
        raise click.UsageError("give a PATH, or pipe one message in")
    messages: list[tuple[str, bytes | Path]] = []
    for name in paths or ("-",):
        if name == "-":
            messages.append(("(stdin)", sys.stdin.buffer.read(bounces.LIMIT + 1)))  # more is refused anyway
        else:
            messages += bounces.files([name])
    report = _app(ctx).process_reports(messages)
    if as_json:
        _json(report.to_json())
    else:
        for result in report.results:
            click.echo(result.line(), err=bool(result.error))
    if report.failed:
        sys.exit(1)
