"""Docs are tested: every command has help and is in the README, every setting is documented.

The settings reference in docs/settings.md is generated from the settings schema; a
test fails when the file is stale and says how to regenerate it (or run pytest with
``--update-golden``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsletter import settings
from newsletter.cli import cli
from newsletter.config import describe, parse

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS_MD = ROOT / "docs" / "settings.md"
REGENERATE = "python -c \"from newsletter import settings; print(settings.reference(), end='')\" > docs/settings.md"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):  # the root group loads a command's module only when asked
        command = group.get_command(context, name)
        assert command is not None, f"{prefix}{name} is listed but cannot be loaded"
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


def test_settings_reference_is_generated_from_the_schema(request: pytest.FixtureRequest) -> None:
    expected = settings.reference()
    if request.config.getoption("--update-golden", default=False):
        SETTINGS_MD.write_text(expected, encoding="utf-8")
    actual = SETTINGS_MD.read_text(encoding="utf-8") if SETTINGS_MD.exists() else ""
    assert actual == expected, (
        f"docs/settings.md is stale: regenerate it from the schema with\n    {REGENERATE}\n"
        "or run pytest with --update-golden"
    )


def test_every_setting_is_documented_in_the_reference() -> None:
    reference = SETTINGS_MD.read_text(encoding="utf-8")
    for table, key, _default, help_text in describe():
        assert help_text, f"{table}.{key} has no help"
        heading = f"[[{table}]]" if table in settings.ARRAYS else f"[{table}]"
        section = reference.split(f"## `{heading}`", 1)
        assert len(section) == 2, f"no section for {heading} in docs/settings.md"
        body = section[1].split("\n## ", 1)[0]
        assert re.search(rf"^\| `{re.escape(key)}` \|", body, re.M), f"{table}.{key} is not in docs/settings.md"
    for variable in settings.ENVIRONMENT:
        assert f"`{variable}`" in reference, f"{variable} is not in docs/settings.md"


def test_readme_is_short_and_its_configuration_is_valid(tmp_path: Path) -> None:
    assert len(README.splitlines()) <= 300, "README.md is over 300 lines: move the detail into docs/"
    configuration = README.split("## Configuration", 1)[1]
    example = re.search(r"```toml\n(.*?)```", configuration, re.S)
    assert example, "the README has no configuration example"
    parse(tomllib.loads(example.group(1)), root=tmp_path, environ={})


def test_every_link_into_the_docs_leads_somewhere() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).is_file(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_quick_start_has_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert len(blocks) == 2
    assert "newsletter demo" in blocks[0]
    assert blocks[1].strip() == "bash .ci/run"
