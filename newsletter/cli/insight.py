"""The ``report`` and ``webhooks`` commands: an issue's figures, and the webhook endpoints' recent attempts."""

from __future__ import annotations

import click

from newsletter.cli.app import open_app
from newsletter.cli.base import Group, cli, json_option, load_config, print_json
from newsletter.insight import report as reports
from newsletter.times import shown
from newsletter.webhooks import sender
from newsletter.webhooks.signature import new_secret


@cli.command("report")
@click.argument("number", metavar="ISSUE", type=int)
@json_option
@click.pass_context
def report_command(ctx: click.Context, number: int, as_json: bool) -> None:
    """Show issue ISSUE's figures: deliveries by outcome and answer, unsubscribes, complaints, clicks, earlier ones."""
    app = open_app(ctx)
    found = reports.report(app.config, app.store, number)
    if as_json:
        print_json(found.to_json())
        return
    zone = app.config.zone
    click.echo(f"issue {found.number} {found.subject!r} ({found.status}"
               + (f", finished {shown(found.sent_at, zone)})" if found.sent_at else ")"))
    c = found.deliveries
    click.echo(f"deliveries: {c['sent']} sent, {c['pending']} pending, {c['deferred']} deferred, {c['failed']} failed, "
               f"{c['bounced']} bounced, {c['skipped']} skipped of {c['total']}")
    for a in found.answers:
        click.echo(f"  {a.outcome:<9}{a.count:>6}  {a.answer}")
    by_origin = ", ".join(f"{origin} {n}" for origin, n in sorted(found.unsubscribes.items()))
    click.echo(f"after it: {sum(found.unsubscribes.values())} unsubscribed" + (f" ({by_origin})" if by_origin else "")
               + f", {found.complaints} complained")
    if not found.tracking and not any(i.clicks or i.discounted for i in found.items):
        click.echo("clicks: not counted (set [tracking] clicks = true to count them)")
    else:
        scanners = sum(i.discounted for i in found.items)
        click.echo(f"clicks (times clicked, not readers; {scanners} more taken for mail scanners):")
        for section in found.sections:
            click.echo(f"  {section.name}: {section.clicks}")
            for item in (i for i in found.items if i.section == section.name):
                click.echo(f"    {item.clicks:>5}  {item.title}")
    if len(found.history) > 1:
        click.echo("compared with the issues before it:")
        for f in found.history:
            click.echo(f"  #{f.number:<5} {f.sent:>7} sent {f.failed:>5} failed {f.unsubscribes:>4} unsubscribed "
                       f"{f.complaints:>3} complained {f.clicks:>6} clicks")


@cli.group("webhooks", cls=Group)
def webhooks_group() -> None:
    """Outbound webhooks: recent attempts, and the endpoints' signing secrets."""


@webhooks_group.command("list")
@click.option("--limit", type=int, default=50, show_default=True, help="How many recent deliveries to show.")
@json_option
@click.pass_context
def webhooks_list(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show each endpoint's delivered, pending and failed events, then the latest attempts."""
    app = open_app(ctx)
    totals = sender.totals(app.store)
    attempts = sender.attempts(app.store, limit=limit)
    configured = [h.url for h in app.config.webhooks]
    if as_json:
        print_json({"endpoints": [{"url": url, "configured": url in configured, **totals.get(url, {})}
                             for url in dict.fromkeys([*configured, *totals])],
               "attempts": [a.to_json() for a in attempts]})
        return
    if not configured and not totals:
        click.echo("no webhooks: add [[webhooks]] entries to the config")
        return
    for url in dict.fromkeys([*configured, *totals]):
        t = totals.get(url, {})
        note = "" if url in configured else " (no longer configured)"
        click.echo(f"{url}{note}: {t.get('delivered', 0)} delivered, {t.get('pending', 0)} pending, "
                   f"{t.get('failed', 0)} failed")
    zone = app.config.zone
    for a in attempts:
        answer = f"HTTP {a.last_code}" if a.last_code and not a.last_error else a.last_error or "not tried yet"
        retry = f", next try {shown(a.next_attempt_at, zone)}" if a.status == "pending" and a.next_attempt_at else ""
        click.echo(f"{shown(a.updated_at, zone)}  {a.status:<9} {a.type:<24} {a.url}  "
                   f"after {a.attempts} attempt(s): {answer}{retry}")


@webhooks_group.command("secret")
@click.option("--new", "fresh", is_flag=True, help="Print a new random secret to put in the config instead.")
@click.pass_context
def webhooks_secret(ctx: click.Context, fresh: bool) -> None:
    """Print each configured endpoint's signing secret (whsec_…), for its receiver to check signatures."""
    if fresh:
        click.echo(new_secret())
        return
    config = load_config(ctx)
    if not config.webhooks:
        click.echo("no webhooks: add [[webhooks]] entries to the config")
        return
    app = open_app(ctx)
    signing = sender.Sender(config, app.store, clock=app.clock)
    for hook in config.webhooks:
        click.echo(f"{hook.url}  {signing.secret(hook)}")
