"""The ``bounces`` command: read bounce and complaint reports from files, folders, standard input or IMAP."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsletter.cli.app import open_app
from newsletter.cli.base import cli, json_option, print_json
from newsletter.delivery import bounces, mailbox


@cli.command("bounces")
@click.argument("paths", nargs=-1, metavar="[PATH ...]")
@click.option("--imap", is_flag=True, help="Read the bounce mailbox of bounces.imap_url instead, moving each "
              "message read to bounces.imap_folder.")
@json_option
@click.pass_context
def bounces_command(ctx: click.Context, paths: tuple[str, ...], imap: bool, as_json: bool) -> None:
    """Apply bounce (DSN) and complaint (ARF) reports: files, folders (maildirs too), one on stdin, or a mailbox.

    Without PATH, or with `-`, one message is read from standard input, so a mail
    alias can pipe bounces here. With --imap, the messages of the IMAP mailbox in
    bounces.imap_url are read (once each) and moved. Exits 1 if a message could
    not be read (the others are still applied).
    """
    if imap and paths:
        raise click.UsageError("--imap reads the mailbox of bounces.imap_url: give no PATH with it")
    if imap:
        report = mailbox.collect(open_app(ctx))
    else:
        if not paths and sys.stdin.isatty():
            raise click.UsageError("give a PATH, or pipe one message in, or read the mailbox with --imap")
        messages: list[tuple[str, bytes | Path]] = []
        for name in paths or ("-",):
            if name == "-":
                messages.append(("(stdin)", sys.stdin.buffer.read(bounces.LIMIT + 1)))  # more is refused anyway
            else:
                messages += bounces.files([name])
        report = open_app(ctx).process_reports(messages)
    if as_json:
        print_json(report.to_json())
    else:
        for result in report.results:
            click.echo(result.line(), err=bool(result.error))
    if report.failed:
        sys.exit(1)
