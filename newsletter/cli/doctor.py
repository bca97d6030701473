"""The ``doctor`` command: the deliverability checks of ``newsletter.doctor``, one line each."""

from __future__ import annotations

import sys

import click

from newsletter import doctor
from newsletter.cli.app import open_app
from newsletter.cli.base import cli, json_option, print_json


@cli.command("doctor")
@json_option
@click.pass_context
def doctor_command(ctx: click.Context, as_json: bool) -> None:
    """Check the relay, SPF, DKIM, DMARC, MX and unsubscribe links before sending.

    Each check prints one line, with the fix when it fails. Exits 1 if any fails.
    """
    app = open_app(ctx)
    diagnosis = doctor.examine(app.config, app.connection(), app.dkim)
    if as_json:
        print_json(diagnosis.to_json())
    else:
        for check in diagnosis.checks:
            click.echo(check.line())
    if not diagnosis.ok:
        sys.exit(1)
