"""`newsletter sources`: health listing, loud warnings, OPML import into the config and export."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from helpers.http import FeedServer

from newsletter.config import SourceSettings, load
from newsletter.gather import gather, opml
from newsletter.gather.sources import display_name
from newsletter.store import Store

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"

CONFIG = """\
# Editor's notes: keep this comment.
[newsletter]
title = "Test Briefing"   # inline comment stays too

[storage]
url = "sqlite:///state.db"

[[sources]]
url = "https://energy.example/feed.xml"   # the energy wire

[[sections]]
name = "Russia"
keywords = ["Russia"]
"""


def cli(folder: Path, *args: str) -> Result:
    from newsletter.cli import cli as command

    return CliRunner().invoke(command, ["--config", str(folder / "newsletter.toml"), *args], catch_exceptions=False)


def test_opml_import_appends_sources_to_the_config_and_keeps_it_as_written(tmp_path: Path) -> None:
    (tmp_path / "newsletter.toml").write_text(CONFIG, encoding="utf-8")
    result = cli(tmp_path, "sources", "import", str(HOSTILE / "subscriptions.opml"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "3 added, 3 skipped"
    assert "skipped javascript:alert(1)  (not an http(s) address)" in result.stdout
    assert "skipped https://energy.example/feed.xml  (already in the config)" in result.stdout

    text = (tmp_path / "newsletter.toml").read_text(encoding="utf-8")
    assert text.startswith(CONFIG)  # the editor's file, comments and all, is untouched
    assert "# Added by `newsletter sources import subscriptions.opml`" in text
    config = load(tmp_path / "newsletter.toml", environ={})
    assert [(s.url, s.name, s.section) for s in config.sources] == [
        ("https://energy.example/feed.xml", None, None),
        ("https://kremlin.example/rss", "Kremlin Watch & Co", "Russia"),  # nested under a known section
        ("https://moscow.example/rss.xml", "Москва сегодня", "Russia"),
        ("https://steppe.example/atom.xml", "Steppe Blog", None),  # "Blogs" is no section here
    ]

    again = cli(tmp_path, "sources", "import", "--json", str(HOSTILE / "subscriptions.opml"))
    report = json.loads(again.stdout)
    assert report["added"] == [] and len(report["skipped"]) == 6
    assert (tmp_path / "newsletter.toml").read_text(encoding="utf-8") == text


def test_opml_export_round_trips(tmp_path: Path) -> None:
    (tmp_path / "newsletter.toml").write_text(CONFIG, encoding="utf-8")
    cli(tmp_path, "sources", "import", str(HOSTILE / "subscriptions.opml"))
    result = cli(tmp_path, "sources", "export", str(tmp_path / "out.opml"))
    assert result.exit_code == 0 and "exported 4 sources" in result.stderr
    outlines = opml.parse((tmp_path / "out.opml").read_bytes())
    assert [(o.url, o.name, o.folder) for o in outlines] == [
        ("https://energy.example/feed.xml", "https://energy.example/feed.xml", ""),
        ("https://steppe.example/atom.xml", "Steppe Blog", ""),
        ("https://kremlin.example/rss", "Kremlin Watch & Co", "Russia"),
        ("https://moscow.example/rss.xml", "Москва сегодня", "Russia"),
    ]
    printed = cli(tmp_path, "sources", "export")
    assert _undated(printed.stdout) == _undated((tmp_path / "out.opml").read_text(encoding="utf-8"))


def _undated(document: str) -> str:
    created = document.split("<dateCreated>", 1)[1].split("</dateCreated>", 1)[0]
    return document.replace(created, "")


def test_bad_opml_is_one_clear_line_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "newsletter.toml").write_text(CONFIG, encoding="utf-8")
    bomb = tmp_path / "bomb.opml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body>'
                    '<outline xmlUrl="https://a.example/&a;"/></body></opml>', encoding="utf-8")
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline xmlUrl='https://a.example/'></body>", encoding="utf-8")
    for path, message in [(bomb, "error: refused: the OPML file has a DOCTYPE"),
                          (broken, "error: not a valid OPML file: mismatched tag")]:
        from newsletter.cli import cli as command

        result = CliRunner().invoke(command, ["--config", str(tmp_path / "newsletter.toml"), "sources", "import",
                                              str(path)])
        assert result.exit_code == 1
        assert result.stderr.startswith(message), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "newsletter.toml").read_text(encoding="utf-8") == CONFIG


def test_sources_list_and_gather_shout_about_a_source_failing_for_days(tmp_path: Path,
                                                                       feed_server: FeedServer) -> None:
    failing, good = feed_server.feed("later.xml"), feed_server.feed("rss2.xml")
    (tmp_path / "newsletter.toml").write_text(
        f'[storage]\nurl = "sqlite:///state.db"\n\n[[sources]]\nurl = "{failing}"\n\n'
        f'[[sources]]\nurl = "{good}"\nname = "Energy"\n', encoding="utf-8")
    config = load(tmp_path / "newsletter.toml", environ={})
    store = Store(config.database_url)
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    gather(config, store, clock=lambda: three_days_ago)
    store.close()

    listed = cli(tmp_path, "sources", "list", "--json")
    assert listed.exit_code == 0
    rows = {r["key"]: r for r in json.loads(listed.stdout)}
    assert (rows[failing]["flag"], rows[failing]["alarm"], rows[failing]["failures"]) == ("FAILING", True, 1)
    assert rows[failing]["last_error"] == "HTTP 404 File not found"
    assert (rows[good]["flag"], rows[good]["items"], rows[good]["name"]) == ("ok", 3, "Energy")
    assert f"warning: source {failing} has been failing since" in listed.stderr

    text = cli(tmp_path, "sources", "list")
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"FAILING      {failing}\t{failing}\t0 items\tlast success never\t1 failures since")
    assert lines[1].startswith(f"ok           Energy\t{good}\t3 items\tlast success 3 days ago")

    gathered = cli(tmp_path, "gather", "--json")
    assert gathered.exit_code == 1
    report = json.loads(gathered.stdout)
    assert report["alarms"] == [failing]
    warning = [line for line in gathered.stderr.splitlines() if line.startswith("warning:")]
    assert warning == [f"warning: source {failing} has been failing since "
                       f"{three_days_ago:%Y-%m-%d %H:%M} UTC (2 attempts in a row): HTTP 404 File not found; "
                       "fix or remove it"]

    shutil.copy(feed_server.root / "rss2.xml", feed_server.root / "later.xml")
    healed = cli(tmp_path, "gather")
    assert healed.exit_code == 0 and "warning" not in healed.stderr
    assert json.loads(cli(tmp_path, "sources", "list", "--json").stdout)[0]["flag"] == "ok"


def test_a_source_is_called_by_its_name_else_the_title_found_else_its_address() -> None:
    feed, folder = SourceSettings(url="https://wire.example/feed"), SourceSettings(path="briefings")
    assert display_name(SourceSettings(url="https://wire.example/feed", name="Wire"), "The Wire Feed") == "Wire"
    assert display_name(feed, "The Wire Feed") == "The Wire Feed"
    assert display_name(feed, "") == display_name(feed) == "https://wire.example/feed"
    assert display_name(folder) == "briefings"


def test_only_the_sources_module_touches_the_sources_table() -> None:
    package = Path(__file__).resolve().parents[1] / "newsletter"
    table = re.compile(r"\bt\.sources\b")  # ``store.t.sources`` and ``t = store.t; t.sources``
    touching = {str(path.relative_to(package)) for path in package.rglob("*.py")
                if table.search(path.read_text(encoding="utf-8"))}
    assert touching == {"gather/sources.py"}
