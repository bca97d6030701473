"""The root of the ``newsletter`` command: library errors become one line on stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import click

from newsletter import __version__, config
from newsletter.app import Newsletter, SendReport
from newsletter.config import Config
from newsletter.edit.issue import Planned
from newsletter.error import ConfigError, NewsletterError
from newsletter.gather import GatherReport


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


def _config(ctx: click.Context) -> Config:
    """Return the loaded configuration: cheap, so a command can look at it before opening the app."""

    obj = ctx.find_root().obj
    if "loaded" not in obj:
        path = config.find(obj["config"])
        if obj["config"] is None and os.environ.get(config.CONFIG_ENV) and not path.exists():
            raise ConfigError(f"{config.CONFIG_ENV}: config file not found: {path}")  # say where the path came from
        obj["loaded"] = config.load(path)
    loaded: Config = obj["loaded"]
    return loaded


def _app(ctx: click.Context) -> Newsletter:

    obj = ctx.find_root().obj
    if "app" not in obj:
        obj["app"] = Newsletter(_config(ctx))
        ctx.find_root().call_on_close(obj["app"].close)
    app: Newsletter = obj["app"]
    return app


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
"""The ``--json`` flag every listing and report command takes; its output goes through ``_json``."""


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


def _print_source_notes(report: GatherReport) -> None:
    """Warn on stderr about sources failing too long and sources that moved."""
    for s in report.alarms:
        click.echo(f"warning: {s.alarm_message}", err=True)
    for s in report.sources:
        if s.moved_to:
            click.echo(f"note: source {s.name} moved permanently to {s.moved_to}; "
                       "update its url in the config", err=True)


def _print_plan(rows: list[Planned], *, status: bool = False) -> None:
    """Print items as ``id  [status]  section  title  (source)`` with the reason indented below."""
    for p in rows:
        section = p.section or ("(lead)" if p.status == "lead" else "-")
        head = f"{p.item.id:>5}  " + (f"{p.status:<11} " if status else "") + f"{section:<16} {p.item.title}"
        click.echo(f"{head}  ({p.item.source_name})")
        why = "; ".join(x for x in [p.reason, p.note, *(p.choice.actions if p.choice else [])] if x)
        click.echo(f"       {why}")
