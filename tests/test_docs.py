"""Docs are tested: every command has help and is in the README, every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import describe

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    runner = CliRunner()
    for name, command in _commands(cli):
        assert command.help, f"{name} has no help text"
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        assert f"newsletter {name}" in README, f"`newsletter {name}` is not in the README"


def test_every_setting_is_documented_in_the_readme() -> None:
    for table, key, _default, help_text in describe():
        assert help_text, f"{table}.{key} has no help"
        heading = f"[[{table}]]" if table in ("sources", "sections") else f"[{table}]"
        section = README.split(f"`{heading}`", 1)
        assert len(section) == 2, f"no README section for {heading}"
        body = section[1].split("####", 1)[0]
        assert re.search(rf"^\| `{re.escape(key)}` \|", body, re.M), f"{table}.{key} is not documented"


def test_quick_start_has_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert len(blocks) == 2
    assert "newsletter demo" in blocks[0]
    assert blocks[1].strip() == "bash .ci/run"
