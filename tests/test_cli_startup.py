"""Start-up: `newsletter --help` and `newsletter gather` load only what they use, and every command still loads.

A command's module is imported only when that command runs (``newsletter.cli.base.COMMANDS``),
and ``gather`` opens the store without the whole application. These tests run the real
command (``newsletter.cli.main``, the console script) in a fresh interpreter that lists
every module it loaded as it exits, and check which ones. Correctness only: no timing is
asserted.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

import newsletter.cli
from newsletter.cli import cli
from newsletter.cli.base import COMMANDS

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
LIST_MODULES = ("import atexit, sys\n"
                "atexit.register(lambda: print('modules:', *sorted(sys.modules), file=sys.stderr))\n"
                "from newsletter.cli import main\n"
                "sys.argv[0] = 'newsletter'\n"
                "main()\n")
"""``python -c`` code that runs the command line, then names every module loaded (on stderr)."""
SEND_PATH = ("newsletter.app", "newsletter.edit", "newsletter.email", "newsletter.delivery",
             "newsletter.subscribers", "newsletter.web")
"""What rendering, delivering and the web app load; a gather needs none of it."""


def _run(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``newsletter ARGS`` in a fresh interpreter; return the result and the modules it had loaded at exit."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    result = subprocess.run([sys.executable, "-c", LIST_MODULES, *args], cwd=cwd, env=environ, capture_output=True,
                            text=True, timeout=120, check=False)
    listed = re.findall(r"^modules: (.*)$", result.stderr, re.MULTILINE)
    assert len(listed) == 1, result.stderr
    return result, set(listed[0].split())


def _among(imported: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imported if any(m == p or m.startswith(f"{p}.") for p in packages))


def _errors(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(line for line in result.stderr.splitlines() if not line.startswith("modules: "))


def _readme_commands() -> set[str]:
    """Return the commands of the README's command table: ``gather``, ``items pin``, …"""
    return set(re.findall(r"^\| `newsletter ([a-z]+(?: [a-z]+)?)", README, re.MULTILINE))


def test_help_lists_every_command_without_importing_one(tmp_path: Path) -> None:
    result, imported = _run(["--help"], tmp_path)
    assert result.returncode == 0, _errors(result)
    assert "newsletter.cli.base" in imported  # the list was read
    commands = tuple(module for module, _ in COMMANDS.values())
    assert _among(imported, (*SEND_PATH, "newsletter.gather", "newsletter.store", *commands)) == []
    listing = result.stdout.split("Commands:", 1)[1]
    listed = set(re.findall(r"^  ([a-z]+)\s", listing, re.MULTILINE))
    assert listed == {name.split()[0] for name in _readme_commands()}
    assert "  gather       Fetch every source and store new items; exits 1 if any..." in listing


def test_gather_loads_neither_the_application_nor_the_send_path(newsletter_dir: Path) -> None:
    config = newsletter_dir / "newsletter.toml"
    result, imported = _run(["--config", str(config), "gather", "--json"], newsletter_dir)
    assert result.returncode == 0, _errors(result)
    report = json.loads(result.stdout)
    assert report["failed"] == 0 and len(report["sources"]) == 3 and report["new"] > 0  # it really gathered
    assert {"newsletter.cli.gather", "newsletter.gather", "newsletter.store"} <= imported
    assert _among(imported, SEND_PATH) == []
    assert _among(imported, tuple(m for m, _ in COMMANDS.values() if m != "newsletter.cli.gather")) == []


def test_every_command_of_the_readme_answers_help() -> None:
    runner = CliRunner()
    for name in sorted(_readme_commands()):
        result = runner.invoke(cli, [*name.split(), "--help"], prog_name="newsletter")
        assert result.exit_code == 0, f"newsletter {name} --help: {result.output}"
        assert f"Usage: newsletter {name} " in result.output, result.output


def test_the_table_names_every_command_where_it_is_defined() -> None:
    for module in pkgutil.iter_modules(newsletter.cli.__path__):
        importlib.import_module(f"newsletter.cli.{module.name}")  # each registers its commands on `cli`
    where = {name: command.callback.__module__ for name, command in cli.commands.items() if command.callback}
    assert where == {name: module for name, (module, _) in COMMANDS.items()}, (
        "newsletter/cli/base.py's COMMANDS must name every command and the module that defines it")


def test_the_listing_says_what_each_command_says_of_itself() -> None:
    context = click.Context(cli)
    for name, (_, line) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None, name
        for limit in (45, 63, 1000):
            assert click.Command(name, help=line).get_short_help_str(limit) == command.get_short_help_str(limit), (
                f"COMMANDS[{name!r}] differs from the first paragraph of the command's help")


def test_a_mistyped_command_is_told_the_nearest_one() -> None:
    result = CliRunner().invoke(cli, ["gahter"], prog_name="newsletter")
    assert result.exit_code == 2
    assert "No such command 'gahter'. Did you mean 'gather'?" in result.output  # every command was loaded to suggest
