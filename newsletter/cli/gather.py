"""The ``gather`` command, and the notes on sources that every gathering command prints.

The command loads the config, the store and ``newsletter.gather``, and nothing else: it
opens the store itself rather than the whole application (``newsletter.app``), so a
gather never imports rendering, delivery, the subscriber list or the web app.
"""

from __future__ import annotations

import sys

import click

from newsletter.cli.base import cli, json_option, load_config, print_json
from newsletter.gather import GatherReport, gather, processes, sources
from newsletter.progress import for_terminal
from newsletter.store import Store


@cli.command("gather")
@json_option
@click.pass_context
def gather_command(ctx: click.Context, as_json: bool) -> None:
    """Fetch every source and store new items; exits 1 if any source failed."""
    config = load_config(ctx)
    # Fork the reader processes before the gather starts any thread (``processes``).
    readers = processes.pool(processes.feeds(config))
    try:
        store = Store(config.database_url)
        ctx.call_on_close(store.close)
        with for_terminal(quiet=as_json or ctx.obj["quiet"]) as progress:
            report = gather(config, store, progress=progress, readers=readers)
    finally:
        if readers is not None:
            readers.shutdown()
    if as_json:
        print_json(report.to_json())
    else:
        # A 304 reads nothing: what counts is what the source already has in store.
        unchanged = any(s.status == "not-modified" for s in report.sources)
        stored = {h.key: h.items for h in sources.health(config, store)} if unchanged else {}
        for s in report.sources:
            detail = s.error if s.error else f"{s.new} new, {s.entries} in source"
            if s.status == "not-modified":
                n = stored.get(s.key, 0)
                detail = f"not modified ({n} item{'' if n == 1 else 's'} stored)"
            click.echo(f"{s.status:<12} {s.name}: {detail}")
        click.echo(f"{report.new} new items from {len(report.sources)} sources")
    print_source_notes(report)
    if report.failed:
        if not as_json:
            click.echo(f"error: {len(report.failed)} source(s) failed (see above)", err=True)
        sys.exit(1)


def print_source_notes(report: GatherReport) -> None:
    """Warn on stderr about sources failing too long and sources that moved."""
    for s in report.alarms:
        click.echo(f"warning: {s.alarm_message}", err=True)
    for s in report.sources:
        if s.moved_to:
            click.echo(f"note: source {s.name} moved permanently to {s.moved_to}; "
                       "update its url in the config", err=True)
