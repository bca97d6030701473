"""The root of the ``newsletter`` command: which module holds each command, and what every command shares.

Library errors become one line on stderr here. A command's module is imported only when
that command runs or shows its own help (click's lazily loaded subcommands): ``COMMANDS``
names the module of each command and the line ``newsletter --help`` shows for it. So
this module imports no stage of the library, only the config; commands that need the
whole application open it through ``newsletter.cli.app``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from typing import Any

import click

from newsletter import __version__, config
from newsletter.config import Config
from newsletter.error import ConfigError, NewsletterError


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


COMMANDS: dict[str, tuple[str, str]] = {
    "archive": ("newsletter.cli.work", "Write the web archive: a page per sent issue, index.html and feed.atom."),
    "bounces": ("newsletter.cli.reports", ("Apply bounce (DSN) and complaint (ARF) reports: files, folders (maildirs "
                                            "too), one on stdin, or a mailbox.")),
    "deliveries": ("newsletter.cli.work", ("Show how the deliveries of issue ISSUE went: counts, the waves still to "
                                            "come, each failed or deferred reader.")),
    "demo": ("newsletter.cli.local", "Send one issue of this newsletter to demo readers through an embedded SMTP sink."),
    "doctor": ("newsletter.cli.doctor", "Check the relay, SPF, DKIM, DMARC, MX and unsubscribe links before sending."),
    "gather": ("newsletter.cli.gather", "Fetch every source and store new items; exits 1 if any source failed."),
    "init": ("newsletter.cli.work", ("Create a newsletter in FOLDER: a commented newsletter.toml with one source and "
                                      "one section.")),
    "items": ("newsletter.cli.lists", "List the waiting items; pin, drop or move one for the next issue."),
    "preview": ("newsletter.cli.work", "Render the next issue from waiting items; nothing is consumed or sent."),
    "report": ("newsletter.cli.insight", ("Show issue ISSUE's figures: deliveries by outcome and answer, unsubscribes, "
                                           "complaints, clicks, earlier ones.")),
    "run": ("newsletter.cli.work", ("Run the scheduler daemon: send (and gather) on the configured schedule until "
                                     "stopped.")),
    "send": ("newsletter.cli.work", "Gather, build the next issue and deliver it; resumes an unfinished issue first."),
    "serve": ("newsletter.cli.local", ("Run the web app: sign-up, confirm, preferences, unsubscribe, archive, "
                                        "editor's desk, JSON API.")),
    "sink": ("newsletter.cli.local", ("Catch this newsletter's mail on this machine: an SMTP sink where smtp.url "
                                       "points, and a mail view.")),
    "sources": ("newsletter.cli.lists", "List sources with their health; import and export OPML."),
    "status": ("newsletter.cli.work", ("Show the next scheduled runs, the last issue and its deliveries, and source "
                                        "health.")),
    "subscribers": ("newsletter.cli.lists", "Manage the subscriber list."),
    "webhooks": ("newsletter.cli.insight", "Outbound webhooks: recent attempts, and the endpoints' signing secrets."),
    "worker": ("newsletter.cli.work", ("Deliver unfinished issues, sharing them with other workers (PostgreSQL: on any "
                                        "number of hosts).")),
}
"""Each command: the module that defines it (with ``@cli.command``), and the first line of its help.

A new command gets a row here; ``tests/test_cli_startup.py`` fails when a command is
missing or its line differs from the command's own help.
"""


class Commands(Group):
    """The root group: import a command's module only when the command is asked for (``COMMANDS``).

    This is click's documented lazy loading (``list_commands`` and ``get_command``
    overridden); the listing of ``--help`` comes from the table, so it imports nothing.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return every command's name, loaded or not."""
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command ``cmd_name``, importing its module first; None if there is no such command."""
        if cmd_name not in self.commands:
            # An unknown name loads every command, so that click can suggest the nearest one.
            wanted = [COMMANDS[cmd_name][0]] if cmd_name in COMMANDS else [m for m, _ in COMMANDS.values()]
            for module in dict.fromkeys(wanted):
                importlib.import_module(module)  # its decorators register its commands on ``cli``
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the Commands section of ``--help`` from ``COMMANDS``, as click would from the commands themselves."""
        listed = {name: click.Command(name, help=line) for name, (_, line) in COMMANDS.items()}
        click.Group(commands={**listed, **self.commands}).format_commands(ctx, formatter)


def load_config(ctx: click.Context) -> Config:
    """Return the loaded configuration: cheap, so a command can look at it before opening the app."""

    obj = ctx.find_root().obj
    if "loaded" not in obj:
        path = config.find(obj["config"])
        if obj["config"] is None and os.environ.get(config.CONFIG_ENV) and not path.exists():
            raise ConfigError(f"{config.CONFIG_ENV}: config file not found: {path}")  # say where the path came from
        obj["loaded"] = config.load(path)
    loaded: Config = obj["loaded"]
    return loaded


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
"""The ``--json`` flag every listing and report command takes; its output goes through ``print_json``."""


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
