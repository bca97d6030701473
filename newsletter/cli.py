"""The ``newsletter`` command: each command opens the app and calls one library function."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from newsletter import __version__, bundle, demo, subscribers
from newsletter.app import Newsletter, SendReport
from newsletter.error import NewsletterError
from newsletter.issue import Draft
from newsletter.progress import for_terminal


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
    for noisy in ("mail.log", "httpx", "httpcore"):  # the embedded sink and the HTTP client chat at INFO
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
    if report.failed:
        if not as_json:
            click.echo(f"error: {len(report.failed)} source(s) failed (see above)", err=True)
        sys.exit(1)


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--text", is_flag=True, help="The plain-text part instead of the HTML.")
@click.pass_context
def preview(ctx: click.Context, out: Path | None, text: bool) -> None:
    """Render the next issue from waiting items; nothing is consumed or sent."""
    app = _app(ctx)
    draft, rendered = app.preview()
    content = rendered.text if text else rendered.html
    if draft.empty:
        click.echo("note: no items are waiting; the next issue would be empty", err=True)
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
    app = _app(ctx)
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress if hasattr(progress, "__enter__") else _Null():
        reports = app.work(follow=follow, poll=poll, progress=progress)
    _print_send(SendReport("sent" if reports else "idle", reports, message="no unfinished issue"), as_json)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _print_send(report: SendReport, as_json: bool) -> None:
    if as_json:
        _json(report.to_json())
        return
    if report.gather is not None:
        for s in report.gather.failed:
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def subscribers_list(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List subscribers."""
    rows = subscribers.iterate(_app(ctx).store, status=status)
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
    report = subscribers.import_csv(_app(ctx).store, file)
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
        subscribers.export_csv(store, sys.stdout)
        return
    with file.open("w", encoding="utf-8", newline="") as stream:
        written = subscribers.export_csv(store, stream)
    click.echo(f"exported {written} subscribers to {file}", err=True)


@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Folder for the demo's database and delivered mail.")
@click.pass_context
def demo_command(ctx: click.Context, out: Path) -> None:
    """Send one issue of this newsletter to demo readers through an embedded SMTP sink."""
    app = _app(ctx)
    progress = for_terminal(quiet=ctx.obj["quiet"])
    with progress if hasattr(progress, "__enter__") else _Null():
        result = demo.run(app.config, out, progress=progress)
    _print_send(result.report, False)
    click.echo(f"delivered mail: {result.folder / 'mail'} ({len(result.messages)} messages, .eml and .html)")
    click.echo(f"open in a browser: {result.index.resolve().as_uri()}")


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
    click.echo(f"waiting items: {data['waiting_items']}")
    for s in data["sources"]:
        health = f"failing ({s['failures']}×): {s['error']}" if s["failures"] else s["status"] or "never fetched"
        click.echo(f"  source {s['name']}: {health}")


def main() -> None:
    """Run the command line."""
    cli(prog_name="newsletter")
