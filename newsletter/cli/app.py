"""The commands that need the whole application open it here, and print what it reports.

``open_app`` opens one ``Newsletter`` per command line (its store on first use, closed when
the command ends). Only the command modules that render, deliver or edit import this
module, so ``newsletter gather`` and ``newsletter --help`` never load ``newsletter.app``.
"""

from __future__ import annotations

import click

from newsletter.app import Newsletter, SendReport
from newsletter.cli.base import load_config, print_json
from newsletter.cli.gather import print_source_notes
from newsletter.edit.issue import Planned


def open_app(ctx: click.Context) -> Newsletter:
    """Return the application over the command line's config, opened once and closed when the command ends."""
    obj = ctx.find_root().obj
    if "app" not in obj:
        obj["app"] = Newsletter(load_config(ctx))
        ctx.find_root().call_on_close(obj["app"].close)
    app: Newsletter = obj["app"]
    return app


def print_send(report: SendReport, as_json: bool) -> None:
    """Print what a send did: one line an issue, or its JSON; source warnings on stderr."""
    if report.gather is not None:
        print_source_notes(report.gather)
    if as_json:
        print_json(report.to_json())
        return
    if report.gather is not None:
        for s in report.gather.failed:
            if not s.alarm:
                click.echo(f"warning: source {s.name} failed: {s.error}", err=True)
    for i in report.issues:
        c = i.counts
        verb = "resumed" if i.resumed else "sent"
        click.echo(f"issue {i.number} {verb}: {c.sent} sent, {c.deferred} deferred, {c.failed} failed, "
                   f"{c.skipped} skipped of {c.total}")
    if report.status != "sent":
        click.echo(report.message)


def print_plan(rows: list[Planned], *, status: bool = False) -> None:
    """Print items as ``id  [status]  section  title  (source)`` with the reason indented below."""
    for p in rows:
        section = p.section or ("(lead)" if p.status == "lead" else "-")
        head = f"{p.item.id:>5}  " + (f"{p.status:<11} " if status else "") + f"{section:<16} {p.item.title}"
        click.echo(f"{head}  ({p.item.source_name})")
        why = "; ".join(x for x in [p.reason, p.note, *(p.choice.actions if p.choice else [])] if x)
        click.echo(f"       {why}")
