"""The ``newsletter`` command: each command opens the app and calls one library function."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from newsletter import __version__, bundle, demo, editorial, health, opml, roster, subscribers
from newsletter.app import Newsletter, SendReport
from newsletter.error import NewsletterError
from newsletter.issue import Draft, Planned
from newsletter.progress import for_terminal
from newsletter.sources import GatherReport


class Group(click.Group):
    """Turn library errors into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def _app(ctx: click.Context) -> Newsletter:
    obj = ctx.find_root().obj
    if "app" not in obj:
        obj["app"] = Newsletter.open(obj["config"])
    app: Newsletter = obj["app"]
    return app


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $NEWSLETTER_CONFIG, else ./newsletter.toml).")
@click.option("-q", "--quiet", is_flag=True, help="Only print errors and results.")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config: str | None, quiet: bool) -> None:
    """Gather briefing sources, build an issue and email it to every subscriber."""
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s",
                        stream=sys.stderr)
    for noisy in ("mail.log", "httpx", "httpcore", "apscheduler"):  # the embedded sink and the HTTP client chat at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = {"config": config, "quiet": quiet}


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Create a working newsletter in FOLDER: config, sources/ and templates/."""
    for path in bundle.scaffold(folder):
        click.echo(f"created {path}")
    click.echo(f"next: cd {folder} && newsletter demo")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def gather(ctx: click.Context, as_json: bool) -> None:
    """Fetch every source and store new items; exits 1 if any source failed."""
    app = _app(ctx)
    report = app.gather(progress=for_terminal(quiet=as_json or ctx.obj["quiet"]))
    if as_json:
        _json(report.to_json())
    else:
        for s in report.sources:
            detail = s.error if s.error else f"{s.new} new, {s.entries} in source"
            click.echo(f"{s.status:<12} {s.name}: {detail}")
        click.echo(f"{report.new} new items from {len(report.sources)} sources")
    _print_source_notes(report)
    if report.failed:
        if not as_json:
            click.echo(f"error: {len(report.failed)} source(s) failed (see above)", err=True)
        sys.exit(1)


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--text", is_flag=True, help="The plain-text part instead of the HTML.")
@click.option("--reasons", is_flag=True, help="Print each item with its section and why it is there.")
@click.pass_context
def preview(ctx: click.Context, out: Path | None, text: bool, reasons: bool) -> None:
    """Render the next issue from waiting items; nothing is consumed or sent."""
    app = _app(ctx)
    draft, rendered = app.preview()
    content = rendered.text if text else rendered.html
    if draft.empty:
        click.echo("note: no items are waiting; the next issue would be empty", err=True)
    if reasons:
        _print_plan([p for p in draft.plan if p.status in ("lead", "in issue", "duplicate")])
        if out is None:
            return
    if out is None and text:
        click.echo(content, nl=False)
        return
    out = out or Path("preview.html")
    out.write_text(content, encoding="utf-8")
    click.echo(f"issue {draft.number}: {draft.subject!r}, {len(draft.items)} items → {out}")


@cli.command()
@click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (served as {base_url}/archive/).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def archive(ctx: click.Context, folder: Path, as_json: bool) -> None:
    """Write the web archive: a page per sent issue, index.html and feed.atom."""
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress if hasattr(progress, "__enter__") else _Null():
        report = _app(ctx).archive(folder, progress=progress)
    if as_json:
        _json(report.to_json())
    else:
        click.echo(f"wrote {len(report.files)} files to {folder} ({len(report.files) - 2} issues, index.html, feed.atom)")


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Build every message, send nothing.")
@click.option("--to", "to", metavar="EMAIL", help="Send a test copy to EMAIL only; the outbox is untouched.")
@click.option("--no-gather", is_flag=True, help="Send what is already stored without fetching.")
@click.option("--retry-failed", is_flag=True, help="Only re-send the latest issue's failed deliveries.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def send(ctx: click.Context, yes: bool, dry_run: bool, to: str | None, no_gather: bool, retry_failed: bool,
         as_json: bool) -> None:
    """Gather, build the next issue and deliver it; resumes an unfinished issue first."""
    app = _app(ctx)

    def confirm(draft: Draft, recipients: int) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise NewsletterError("refusing to send without --yes when not on a terminal")
        return click.confirm(f"Send issue {draft.number} {draft.subject!r} to {recipients} subscribers?",
                             err=True)

    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress if hasattr(progress, "__enter__") else _Null():
        report = app.send(dry_run=dry_run, to=to, fetch=not no_gather, confirm=confirm, progress=progress,
                          retry_failed=retry_failed)
    _print_send(report, as_json)


@cli.command()
@click.argument("number", metavar="ISSUE", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def deliveries(ctx: click.Context, number: int, as_json: bool) -> None:
    """Show how the deliveries of issue ISSUE went: counts, then each failed or deferred reader."""
    summary = _app(ctx).deliveries(number)
    if as_json:
        _json(summary.to_json())
        return
    c = summary.counts
    click.echo(f"issue {summary.number} ({summary.status}): {c.sent} sent, {c.pending} pending, "
               f"{c.deferred} deferred, {c.failed} failed, {c.skipped} skipped of {c.total}")
    for f in summary.failures:
        retry = f" (next try {f['next_attempt_at']:%Y-%m-%d %H:%M} UTC)" if f["next_attempt_at"] else ""
        click.echo(f"{f['status']:<9} {f['email']}  after {f['attempts']} attempt(s): {f['last_error']}{retry}")


@cli.command()
@click.option("--follow", is_flag=True, help="Keep running and deliver new issues as they are queued.")
@click.option("--poll", type=float, default=5.0, show_default=True, help="Seconds between looks for new issues.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def worker(ctx: click.Context, follow: bool, poll: float, as_json: bool) -> None:
    """Deliver unfinished issues, sharing them with other workers (PostgreSQL: on any number of hosts)."""
    import signal
    import threading

    app = _app(ctx)
    stop = threading.Event()  # SIGTERM: finish the messages in flight, give back the rest, exit
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress if hasattr(progress, "__enter__") else _Null():
        reports = app.work(follow=follow, poll=poll, progress=progress, stop=stop)
    _print_send(SendReport("sent" if reports else "idle", reports, message="no unfinished issue"), as_json)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _print_send(report: SendReport, as_json: bool) -> None:
    if report.gather is not None:
        _print_source_notes(report.gather)
    if as_json:
        _json(report.to_json())
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


@cli.group(cls=Group)
def subscribers_group() -> None:
    """Manage the subscriber list."""


cli.add_command(subscribers_group, name="subscribers")


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name, used in the greeting.")
@click.option("--sections", default="", metavar="A,B", help="Only these sections (default: all).")
@click.option("--confirmed", is_flag=True, help="They already agreed: make them active without opt-in.")
@click.pass_context
def subscribers_add(ctx: click.Context, email: str, name: str, sections: str, confirmed: bool) -> None:
    """Add a subscriber (pending until confirmed, unless --confirmed)."""
    s = subscribers.add(_app(ctx).store, email, name=name, sections=subscribers.parse_sections(sections),
                        status="active" if confirmed else "pending")
    click.echo(f"added {s.email} ({s.status})")


@subscribers_group.command("remove")
@click.argument("email")
@click.pass_context
def subscribers_remove(ctx: click.Context, email: str) -> None:
    """Unsubscribe EMAIL (kept on the suppression list)."""
    s = subscribers.remove(_app(ctx).store, email)
    click.echo(f"removed {s.email} (now {s.status})")


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(subscribers.STATUSES), help="Only this status.")
@click.option("--search", metavar="TEXT", help="Only addresses or names containing TEXT (any case).")
@click.option("--section", metavar="NAME", help="Only readers who receive section NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def subscribers_list(ctx: click.Context, status: str | None, search: str | None, section: str | None,
                     as_json: bool) -> None:
    """List subscribers (filter by status, a search, a section)."""
    rows = subscribers.iterate(_app(ctx).store, status=status, search=search, section=section)
    if as_json:
        _json([s.to_json() for s in rows])
        return
    for s in rows:
        click.echo(f"{s.email}\t{s.status}\t{s.name}\t{','.join(s.sections)}")


@subscribers_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def subscribers_import(ctx: click.Context, file: Any, as_json: bool) -> None:
    """Import a CSV with the header email,name,sections,status; exits 1 if a row was rejected."""
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress if hasattr(progress, "__enter__") else _Null():
        report = roster.import_csv(_app(ctx).store, file, progress=progress)
    if as_json:
        _json(report.to_json())
    else:
        click.echo(f"{report.added} added, {report.updated} updated, {report.skipped} unchanged, "
                   f"{len(report.rejected)} rejected")
        for line, reason in report.rejected:
            click.echo(f"{file.name}:{line}: {reason}", err=True)
    if report.rejected:
        sys.exit(1)


@subscribers_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def subscribers_export(ctx: click.Context, file: Path | None) -> None:
    """Write every subscriber as CSV to FILE (default: standard output)."""
    store = _app(ctx).store
    if file is None:
        roster.export_csv(store, sys.stdout)
        return
    with file.open("w", encoding="utf-8", newline="") as stream:
        written = roster.export_csv(store, stream)
    click.echo(f"exported {written} subscribers to {file}", err=True)


def _print_source_notes(report: GatherReport) -> None:
    """Warn on stderr about sources failing too long and sources that moved."""
    for s in report.alarms:
        click.echo(f"warning: {s.alarm_message}", err=True)
    for s in report.sources:
        if s.moved_to:
            click.echo(f"note: source {s.name} moved permanently to {s.moved_to}; "
                       "update its url in the config", err=True)


@cli.group(cls=Group)
def sources_group() -> None:
    """List sources with their health; import and export OPML."""


cli.add_command(sources_group, name="sources")


@sources_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """Show each source's last status, error, consecutive failures and last success."""
    app = _app(ctx)
    rows = health.health(app.config, app.store, moment=app.clock())
    if as_json:
        _json([h.to_json() for h in rows])
    else:
        for h in rows:
            detail = f"{h.failures} failures since {h.failing_since:%Y-%m-%d %H:%M}: {h.last_error}" \
                if h.failing_since else (h.last_warning or "")
            click.echo(f"{h.flag:<12} {h.name}\t{h.url or h.path}\t{h.items} items\t"
                       f"last success {health.describe_age(h.last_success_at)}\t{detail}".rstrip())
    for h in rows:
        if h.alarm:
            click.echo(f"warning: source {h.name} has been failing since {h.failing_since:%Y-%m-%d %H:%M} UTC "
                       f"({h.failures} attempts in a row): {h.last_error}", err=True)


@sources_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def sources_import(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Add the feeds of an OPML file to the config as [[sources]]; URLs already there are skipped."""
    report = opml.import_file(_app(ctx).config, file)
    if as_json:
        _json(report.to_json())
        return
    for outline in report.added:
        click.echo(f"added   {outline.url}  {outline.name}".rstrip())
    for outline, reason in report.skipped:
        click.echo(f"skipped {outline.url}  ({reason})")
    click.echo(f"{len(report.added)} added, {len(report.skipped)} skipped")


@sources_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def sources_export(ctx: click.Context, file: Path | None) -> None:
    """Write the feed sources as OPML to FILE (default: standard output)."""
    app = _app(ctx)
    names = {h.key: h.name for h in health.health(app.config, app.store)}
    document = opml.export(app.config, names)
    if file is None:
        click.echo(document, nl=False)
        return
    file.write_text(document, encoding="utf-8")
    click.echo(f"exported {document.count('xmlUrl=')} sources to {file}", err=True)


@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Folder for the demo's database and delivered mail.")
@click.option("--serve", "keep_serving", is_flag=True,
              help="Then keep the SMTP sink and the web app (with a mail view) running until Ctrl-C.")
@click.option("--host", default=None, help="With --serve: address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="With --serve: port (default: web.port; 0: any free one).")
@click.pass_context
def demo_command(ctx: click.Context, out: Path, keep_serving: bool, host: str | None, port: int | None) -> None:
    """Send one issue of this newsletter to demo readers through an embedded SMTP sink."""
    app = _app(ctx)
    progress = for_terminal(quiet=ctx.obj["quiet"])

    def announce(result: demo.DemoResult) -> None:
        _print_send(result.report, False)
        click.echo(f"delivered mail: {result.folder / 'mail'} ({len(result.messages)} messages, .eml and .html)")
        click.echo(f"open in a browser: {result.index.resolve().as_uri()}")

    if keep_serving:
        web = app.config.web
        printed: list[bool] = []

        def ready(result: demo.DemoResult, line: str) -> None:
            if not printed:
                printed.append(True)
                announce(result)
            click.echo(line)

        demo.serve(app.config, out, host=host or web.host, port=web.port if port is None else port, ready=ready)
        return
    with progress if hasattr(progress, "__enter__") else _Null():
        result = demo.run(app.config, out, progress=progress)
    announce(result)


@cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.port, 8000; 0: any free one).")
@click.pass_context
def serve_command(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the web app: sign-up, confirm, preferences, unsubscribe, archive, editor's desk, JSON API."""
    from newsletter.web import server

    app = _app(ctx)
    web = app.config.web
    server.run(app, host or web.host, web.port if port is None else port, announce=click.echo)


@cli.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Run the scheduler daemon: send (and gather) on the configured schedule until stopped."""
    from newsletter.daemon import Daemon

    Daemon(_app(ctx)).run_forever()


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Show the next scheduled runs, the last issue and its deliveries, and source health."""
    from newsletter import status
    from newsletter.daemon import Daemon

    data = status.report(Daemon(_app(ctx)))
    if as_json:
        _json(data)
        return
    for job, when in data["next_runs"].items():
        click.echo(f"next {job}: {when or 'never'}")
    daemon = data["daemon"]
    click.echo(f"daemon: {daemon['holder']} (lease until {daemon['lease_expires_at']})" if daemon
               else "daemon: not running")
    for run in data["recent_runs"]:
        click.echo(f"  {run['job']} {run['due_at']}: {run['status']} {run['note']}")
    last = data["last_issue"]
    if last:
        d = last["deliveries"]
        click.echo(f"last issue: #{last['number']} {last['subject']!r} ({last['status']}): {d['sent']} sent, "
                   f"{d['pending']} pending, {d['deferred']} deferred, {d['failed']} failed")
    else:
        click.echo("last issue: none yet")
    if data["awaiting_approval"]:
        click.echo(f"awaiting approval: {data['awaiting_approval']['note']}")
    click.echo(f"waiting items: {data['waiting_items']}")
    for s in data["sources"]:
        health = f"failing ({s['failures']}×): {s['error']}" if s["failures"] else s["status"] or "never fetched"
        click.echo(f"  source {s['name']}: {health}")


@cli.group(cls=Group)
def items_group() -> None:
    """List the waiting items; pin, drop or move one for the next issue."""


cli.add_command(items_group, name="items")


@items_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def items_list(ctx: click.Context, as_json: bool) -> None:
    """List every waiting item with its section, the reason, and what the next issue does with it."""
    plan = _app(ctx).draft().plan
    if as_json:
        _json([p.to_json() for p in plan])
    else:
        _print_plan(list(plan), status=True)


def _print_plan(rows: list[Planned], *, status: bool = False) -> None:
    """Print items as ``id  [status]  section  title  (source)`` with the reason indented below."""
    for p in rows:
        section = p.section or ("(lead)" if p.status == "lead" else "-")
        head = f"{p.item.id:>5}  " + (f"{p.status:<9} " if status else "") + f"{section:<16} {p.item.title}"
        click.echo(f"{head}  ({p.item.source_name})")
        why = "; ".join(x for x in [p.reason, p.note, *(p.choice.actions if p.choice else [])] if x)
        click.echo(f"       {why}")


@items_group.command("pin")
@click.argument("item_id", metavar="ID", type=int)
@click.pass_context
def items_pin(ctx: click.Context, item_id: int) -> None:
    """Put item ID first in its section in the next issue."""
    editorial.pin(_app(ctx).store, item_id)
    click.echo(f"item {item_id} pinned: it comes first in its section")


@items_group.command("drop")
@click.argument("item_id", metavar="ID", type=int)
@click.pass_context
def items_drop(ctx: click.Context, item_id: int) -> None:
    """Leave item ID (and the same story from other sources) out of every issue."""
    editorial.drop(_app(ctx).store, item_id)
    click.echo(f"item {item_id} dropped: no issue will carry it (undo with `newsletter items reset {item_id}`)")


@items_group.command("move")
@click.argument("item_id", metavar="ID", type=int)
@click.argument("section")
@click.pass_context
def items_move(ctx: click.Context, item_id: int, section: str) -> None:
    """Put item ID in SECTION, whatever the section rules say."""
    app = _app(ctx)
    choice = editorial.move(app.config, app.store, item_id, section)
    click.echo(f"item {item_id} moved to {choice.section}")


@items_group.command("reset")
@click.argument("item_id", metavar="ID", type=int)
@click.pass_context
def items_reset(ctx: click.Context, item_id: int) -> None:
    """Forget the editor's choice for item ID: the section rules place it again."""
    had = editorial.reset(_app(ctx).store, item_id)
    click.echo(f"item {item_id}: " + ("choice forgotten" if had else "there was no choice to forget"))


def main() -> None:
    """Run the command line."""
    cli(prog_name="newsletter")
