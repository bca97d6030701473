"""Commands for the lists an editor keeps: subscribers, sources, items."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click

from newsletter import subscribers
from newsletter.cli.app import open_app, print_plan
from newsletter.cli.base import Group, cli, json_option, print_json
from newsletter.edit import editorial
from newsletter.gather import opml, sources
from newsletter.progress import for_terminal
from newsletter.subscribers import STATUSES, csvfile, editor
from newsletter.subscribers.choices import Choices
from newsletter.times import shown


@cli.group("subscribers", cls=Group)
def subscribers_group() -> None:
    """Manage the subscriber list."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name, used in the greeting.")
@click.option("--sections", default="", metavar="A,B", help="Only these sections (default: all).")
@click.option("--language", default="", metavar="TAG", help="Their language, one of [newsletter] languages "
              "(default: the newsletter's).")
@click.option("--timezone", default="", metavar="ZONE", help="Their IANA time zone, e.g. Asia/Almaty "
              "(default: the newsletter's).")
@click.option("--confirmed", is_flag=True, help="They already agreed: make them active without opt-in.")
@click.pass_context
def subscribers_add(ctx: click.Context, email: str, name: str, sections: str, language: str, timezone: str,
                    confirmed: bool) -> None:
    """Add a subscriber (pending until confirmed, unless --confirmed)."""
    s = editor.add(open_app(ctx), email, name=name, sections=sections, language=language, timezone=timezone,
                   status="active" if confirmed else "pending")
    click.echo(f"added {s.email} ({s.status})")


@subscribers_group.command("remove")
@click.argument("email")
@click.pass_context
def subscribers_remove(ctx: click.Context, email: str) -> None:
    """Unsubscribe EMAIL (kept on the suppression list)."""
    s = subscribers.remove(open_app(ctx).store, email)
    click.echo(f"removed {s.email} (now {s.status})")


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--search", metavar="TEXT", help="Only addresses or names containing TEXT (any case, any script).")
@click.option("--section", metavar="NAME", help="Only readers who receive section NAME.")
@click.option("--sort", type=click.Choice(["id", "name"]), default="id", show_default=True,
              help="In the order they were added, or by name (any case; readers without a name last).")
@json_option
@click.pass_context
def subscribers_list(ctx: click.Context, status: str | None, search: str | None, section: str | None, sort: str,
                     as_json: bool) -> None:
    """List subscribers (filter by status, a search, a section)."""
    app = open_app(ctx)
    choices = Choices.of(app.config)
    if section:
        choices.pick([section])  # an unknown section is an error that names the nearest real one
        section = choices.meaning(section)[0]
    rows = subscribers.iterate(app.store, status=status, search=search, section=section, choices=choices, sort=sort)
    if as_json:
        print_json([s.to_json() for s in rows])
        return
    for s in rows:
        click.echo(f"{s.email}\t{s.status}\t{s.name}\t{','.join(s.sections)}\t{s.language}\t{s.timezone}".rstrip())


@subscribers_group.command("check")
@json_option
@click.pass_context
def subscribers_check(ctx: click.Context, as_json: bool) -> None:
    """List readers whose sections name no section of the config (nor a former name); exit 1 if any."""
    app = open_app(ctx)
    found = subscribers.strays(app.store, Choices.of(app.config))
    if as_json:
        print_json([stray.to_json() for stray in found])
    else:
        for stray in found:
            names = ", ".join(f"{name!r}" + (f" (did you mean {stray.suggestions[name]!r}?)"
                                             if stray.suggestions[name] else "") for name in stray.unknown)
            click.echo(f"{stray.subscriber.email}\t{stray.subscriber.status}\tunknown section {names}")
        if found:
            click.echo(f"{len(found)} reader{'s' if len(found) > 1 else ''} chose sections the config does not have: "
                       "give the section they became `formerly = [\"old name\"]`, or change their sections "
                       "(desk, API or a CSV import)", err=True)
        else:
            click.echo("every reader's sections are in the config")
    if found:
        sys.exit(1)


@subscribers_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@json_option
@click.pass_context
def subscribers_import(ctx: click.Context, file: Any, as_json: bool) -> None:
    """Import a CSV (ours, or a Mailchimp, listmonk, Buttondown or Substack export); exits 1 if a row was rejected."""
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    app = open_app(ctx)
    with progress:
        report = csvfile.import_csv(app.store, file, choices=Choices.of(app.config), progress=progress)
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(f"{report.added} added, {report.updated} updated, {report.skipped} unchanged, "
                   f"{len(report.rejected)} rejected")
        if report.note:
            click.echo(f"note: {report.note}")
        for line, reason in report.rejected:
            click.echo(f"{file.name}:{line}: {reason}", err=True)
    if report.rejected:
        sys.exit(1)


export_file = click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))


def _export(file: Path | None, write: Callable[[TextIO], int], what: str) -> None:
    """Write to FILE, or standard output without one; after a file, say on stderr how many WHAT it holds."""
    if file is None:
        write(sys.stdout)
        return
    with file.open("w", encoding="utf-8", newline="") as stream:
        written = write(stream)
    click.echo(f"exported {written} {what} to {file}", err=True)


@subscribers_group.command("export")
@export_file
@click.pass_context
def subscribers_export(ctx: click.Context, file: Path | None) -> None:
    """Write every subscriber as CSV to FILE (default: standard output)."""
    store = open_app(ctx).store
    _export(file, lambda stream: csvfile.export_csv(store, stream), "subscribers")


@cli.group("sources", cls=Group)
def sources_group() -> None:
    """List sources with their health; import and export OPML."""


@sources_group.command("list")
@json_option
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """Show each source's last status, error, consecutive failures and last success."""
    app = open_app(ctx)
    rows = sources.health(app.config, app.store, moment=app.clock())
    if as_json:
        print_json([h.to_json() for h in rows])
    else:
        for h in rows:
            detail = f"{h.failures} failures since {shown(h.failing_since, app.config.zone)}: {h.last_error}" \
                if h.failing_since else (h.last_warning or "")
            click.echo(f"{h.flag:<12} {h.name}\t{h.url or h.path}\t{h.items} items\t"
                       f"last success {sources.describe_age(h.last_success_at)}\t{detail}".rstrip())
    for h in rows:
        if h.alarm:
            click.echo(f"warning: {h.alarm_message}", err=True)


@sources_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
@click.pass_context
def sources_import(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Add the feeds of an OPML file to the config as [[sources]]; URLs already there are skipped."""
    report = opml.import_file(open_app(ctx).config, file)
    if as_json:
        print_json(report.to_json())
        return
    for outline in report.added:
        click.echo(f"added   {outline.url}  {outline.name}".rstrip())
    for outline, reason in report.skipped:
        click.echo(f"skipped {outline.url}  ({reason})")
    click.echo(f"{len(report.added)} added, {len(report.skipped)} skipped")


@sources_group.command("export")
@export_file
@click.pass_context
def sources_export(ctx: click.Context, file: Path | None) -> None:
    """Write the feed sources as OPML to FILE (default: standard output)."""
    app = open_app(ctx)
    names = {h.key: h.name for h in sources.health(app.config, app.store)}
    document = opml.export(app.config, names)

    def write(stream: TextIO) -> int:
        stream.write(document)
        return document.count("xmlUrl=")

    _export(file, write, "sources")


@cli.group("items", cls=Group)
def items_group() -> None:
    """List the waiting items; pin, drop or move one for the next issue."""


def item_command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """Declare ``newsletter items NAME ID``: a command about one waiting item, given the context and its id."""
    def declare(function: Callable[..., None]) -> click.Command:
        command: click.Command = items_group.command(name)(
            click.argument("item_id", metavar="ID", type=int)(click.pass_context(function)))
        return command
    return declare


@items_group.command("list")
@json_option
@click.pass_context
def items_list(ctx: click.Context, as_json: bool) -> None:
    """List every waiting item with its section, the reason, and what the next issue does with it."""
    plan = open_app(ctx).draft().plan
    if as_json:
        print_json([p.to_json() for p in plan])
    else:
        print_plan(list(plan), status=True)


@item_command("pin")
def items_pin(ctx: click.Context, item_id: int) -> None:
    """Put item ID first in its section in the next issue."""
    editorial.pin(open_app(ctx).store, item_id)
    click.echo(f"item {item_id} pinned: it comes first in its section")


@item_command("drop")
def items_drop(ctx: click.Context, item_id: int) -> None:
    """Leave item ID (and the same story from other sources) out of every issue."""
    editorial.drop(open_app(ctx).store, item_id)
    click.echo(f"item {item_id} dropped: no issue will carry it (undo with `newsletter items reset {item_id}`)")


@item_command("move")
@click.argument("section")
def items_move(ctx: click.Context, item_id: int, section: str) -> None:
    """Put item ID in SECTION, whatever the section rules say."""
    app = open_app(ctx)
    choice = editorial.move(app.config, app.store, item_id, section)
    click.echo(f"item {item_id} moved to {choice.section}")


@item_command("reset")
def items_reset(ctx: click.Context, item_id: int) -> None:
    """Forget the editor's choice for item ID: the section rules place it again."""
    had = editorial.reset(open_app(ctx).store, item_id)
    click.echo(f"item {item_id}: " + ("choice forgotten" if had else "there was no choice to forget"))
