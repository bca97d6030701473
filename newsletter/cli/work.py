"""Commands that start, preview, send and schedule issues (``gather`` has a module of its own)."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import nullcontext
from pathlib import Path

import click

from newsletter import bundle, status
from newsletter.app import SendReport
from newsletter.cli.app import open_app, print_plan, print_send
from newsletter.cli.base import cli, json_option, print_json
from newsletter.daemon import Daemon
from newsletter.delivery.waves import Wave
from newsletter.edit.issue import SENT_BEFORE, Draft
from newsletter.error import NewsletterError
from newsletter.progress import Bar, for_terminal
from newsletter.times import shown


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--demo", is_flag=True, help="Copy the whole demo instead: its config, sources/ and templates/.")
def init(folder: Path, demo: bool) -> None:
    """Create a newsletter in FOLDER: a commented newsletter.toml with one source and one section.

    The built-in templates apply; to change one, add a templates/ folder later (see
    docs/templates.md). With --demo, FOLDER gets a copy of the demo newsletter.
    """
    for path in bundle.scaffold(folder, demo=demo):
        click.echo(f"created {path}")
    cd = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && "
    if demo:
        click.echo(f"next: {cd}newsletter demo")
        return
    click.echo("next:")
    click.echo(f"  1. edit {folder / 'newsletter.toml'}: your title, sources and sections")
    click.echo(f"  2. in another terminal: {cd}newsletter sink   (catches the mail; shows it at /mail/)")
    click.echo(f"  3. {cd}newsletter subscribers add you@example.org --confirmed && newsletter send --yes")


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--text", is_flag=True, help="The plain-text part instead of the HTML.")
@click.option("--reasons", is_flag=True, help="Print each item with its section and why it is there.")
@click.pass_context
def preview(ctx: click.Context, out: Path | None, text: bool, reasons: bool) -> None:
    """Render the next issue from waiting items; nothing is consumed or sent."""
    app = open_app(ctx)
    draft, rendered = app.preview()
    content = rendered.text if text else rendered.html
    if draft.empty:
        click.echo("note: no items are waiting; the next issue would be empty", err=True)
    if reasons:

        print_plan([p for p in draft.plan if p.status in ("lead", "in issue", "duplicate", SENT_BEFORE)])
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
@json_option
@click.pass_context
def archive(ctx: click.Context, folder: Path, as_json: bool) -> None:
    """Write the web archive: a page per sent issue, index.html and feed.atom."""
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress:
        report = open_app(ctx).archive(folder, progress=progress)
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(f"wrote {len(report.files)} files to {folder} ({len(report.files) - 2} issues, index.html, feed.atom)")


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Build every message, send nothing.")
@click.option("--to", "to", metavar="EMAIL", help="Send a test copy to EMAIL only; the outbox is untouched.")
@click.option("--no-gather", is_flag=True, help="Send what is already stored without fetching.")
@click.option("--retry-failed", is_flag=True, help="Only re-send the latest issue's failed deliveries.")
@click.option("--now", is_flag=True,
              help="Send to every reader now, ignoring [schedule] local_time (an unfinished issue's waves too).")
@json_option
@click.pass_context
def send(ctx: click.Context, yes: bool, dry_run: bool, to: str | None, no_gather: bool, retry_failed: bool,
         now: bool, as_json: bool) -> None:
    """Gather, build the next issue and deliver it; resumes an unfinished issue first.

    With [schedule] local_time, only the readers whose hour has come get it now; `newsletter
    run` or `newsletter worker --follow` sends the others at their hour (or use --now).
    """
    asks = not (yes or dry_run or to or retry_failed)  # only a new issue to every reader is asked about
    if asks and not sys.stdin.isatty():  # nobody could answer: say so before fetching or opening anything
        raise NewsletterError("not on a terminal, so nobody can confirm: run `newsletter send --yes` to send")
    app = open_app(ctx)

    def confirm(draft: Draft, recipients: int) -> bool:
        if not asks:
            return True
        with progress.paused() if isinstance(progress, Bar) else nullcontext():
            hour = app.config.schedule.local_time
            when = f", each at {hour} on their own clock" if hour and not now else ""
            return click.confirm(f"Send issue {draft.number} {draft.subject!r} to {recipients} subscribers{when}?",
                                 default=False, err=True)

    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress:
        report = app.send(dry_run=dry_run, to=to, fetch=not no_gather, confirm=confirm, progress=progress,
                          retry_failed=retry_failed, now=now)
    print_send(report, as_json)
    _print_waiting(report, as_json)


def _print_waiting(report: SendReport, as_json: bool) -> None:
    """Say which issues have readers whose local hour has not come, and what sends their copies."""
    for i in report.issues:
        if i.counts.scheduled and not as_json:
            readers = "1 reader waits" if i.counts.scheduled == 1 else f"{i.counts.scheduled} readers wait"
            click.echo(f"issue {i.number}: {readers} for their local hour; "
                       "`newsletter run` or `newsletter worker --follow` sends them then "
                       f"(`newsletter deliveries {i.number}` lists the waves)")


@cli.command()
@click.argument("number", metavar="ISSUE", type=int)
@json_option
@click.pass_context
def deliveries(ctx: click.Context, number: int, as_json: bool) -> None:
    """Show how the deliveries of issue ISSUE went: counts, the waves still to come, each failed or deferred reader.

    With --json, `scheduled` lists each reader not yet due with their due time (ISO 8601, on their clock).
    """
    app = open_app(ctx)
    summary = app.deliveries(number)
    if as_json:
        print_json(summary.to_json())
        return
    c = summary.counts
    later = f" ({c.scheduled} not yet due)" if c.scheduled else ""
    click.echo(f"issue {summary.number} ({summary.status}): {c.sent} sent, {c.pending} pending{later}, "
               f"{c.deferred} deferred, {c.failed} failed, {c.skipped} skipped of {c.total}")
    for wave in summary.waves:
        click.echo(f"wave      {wave.line(app.config.zone)}")
    for f in summary.failures:
        retry = f" (next try {shown(f['next_attempt_at'], app.config.zone)})" if f["next_attempt_at"] else ""
        click.echo(f"{f['status']:<9} {f['email']}  after {f['attempts']} attempt(s): {f['last_error']}{retry}")


@cli.command()
@click.option("--follow", is_flag=True, help="Keep running and deliver new issues as they are queued.")
@click.option("--poll", type=float, default=5.0, show_default=True, help="Seconds between looks for new issues.")
@json_option
@click.pass_context
def worker(ctx: click.Context, follow: bool, poll: float, as_json: bool) -> None:
    """Deliver unfinished issues, sharing them with other workers (PostgreSQL: on any number of hosts)."""

    app = open_app(ctx)
    stop = threading.Event()  # SIGTERM: finish the messages in flight, give back the rest, exit
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    progress = for_terminal(quiet=as_json or ctx.obj["quiet"])
    with progress:
        reports = app.work(follow=follow, poll=poll, progress=progress, stop=stop)

    report = SendReport("sent" if reports else "idle", reports, message="no unfinished issue")
    print_send(report, as_json)
    _print_waiting(report, as_json)


@cli.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Run the scheduler daemon: send (and gather) on the configured schedule until stopped."""

    Daemon(open_app(ctx)).run_forever()


@cli.command("status")
@json_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Show the next scheduled runs, the last issue and its deliveries, and source health."""

    app = open_app(ctx)
    data = status.report(Daemon(app))
    if as_json:
        print_json(data)
        return
    zone = app.config.zone
    for job, when in data["next_runs"].items():
        click.echo(f"next {job}: {shown(when, zone) or 'never'}")
    daemon = data["daemon"]
    click.echo(f"daemon: {daemon['holder']} (lease until {shown(daemon['lease_expires_at'], zone)})" if daemon
               else "daemon: not running")
    for run in data["recent_runs"]:
        click.echo(f"  {run['job']} {shown(run['due_at'], zone)}: {run['status']} {run['note']}".rstrip())
    last = data["last_issue"]
    if last:
        d = last["deliveries"]
        click.echo(f"last issue: #{last['number']} {last['subject']!r} ({last['status']}): {d['sent']} sent, "
                   f"{d['pending']} pending, {d['deferred']} deferred, {d['failed']} failed")
    else:
        click.echo("last issue: none yet")
    for wave in data["waves"]:
        click.echo(f"  issue {wave['issue']} waits: {Wave.from_json(wave).line(zone)}")
    if data["awaiting_approval"]:
        click.echo(f"awaiting approval: {data['awaiting_approval']['note']}")
    click.echo(f"waiting items: {data['waiting_items']}")
    for s in data["sources"]:
        health = f"failing ({s['failures']}×): {s['error']}" if s["failures"] else s["status"] or "never fetched"
        click.echo(f"  source {s['name']}: {health}")
