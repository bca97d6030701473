"""Editorial steering: pin, drop, move and reset items before the next issue; kept in the store.

Also the draft's lead (a briefing's opening summary), the recorded reasons, and summaries.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from helpers.newsletters import FIXTURES, write_config

from newsletter.app import Newsletter
from newsletter.cli import cli
from newsletter.config import load
from newsletter.edit import editorial, issue
from newsletter.edit.issue import Draft, brief
from newsletter.error import EditorialError
from newsletter.item import Item


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A newsletter whose sources are two folders: the fixture briefing and article, and a wire copy."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("briefing.txt", "article.txt"):
        shutil.copyfile(FIXTURES / "documents" / name, inbox / f"2026-11-20-{name}")
    wire = tmp_path / "wire"
    wire.mkdir()
    # The same rail story as article.txt, as another source carried it.
    article = (FIXTURES / "documents" / "article.txt").read_text(encoding="utf-8")
    (wire / "2026-11-21-rail.txt").write_text(article.replace("No comments yet", "Share"), encoding="utf-8")
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:25", sources=[{"path": "inbox"}, {"path": "wire"}])
    return tmp_path


@pytest.fixture
def app(folder: Path) -> Newsletter:
    newsletter = Newsletter(load(folder / "newsletter.toml", environ={}))
    assert not newsletter.gather().failed
    return newsletter


def placed(draft: Draft) -> dict[str, tuple[str, str]]:
    """Return ``title -> (section, reason)`` for every item the draft shows."""
    shown = {p.item.title: (s.name, p.placement.reason) for s in draft.sections for p in s.items}
    if draft.lead:
        shown[draft.lead.item.title] = ("", draft.lead.placement.reason)
    return shown


def item_id(draft: Draft, title: str) -> int:
    return next(p.item.id for p in draft.plan if p.item.title == title)


def test_the_draft_places_every_item_once_with_a_reason(app: Newsletter) -> None:
    draft = app.draft()
    shown = placed(draft)
    assert shown["Russia"] == ("Russia", "inline heading 'Russia'")
    assert shown["Oil"][0] == "Energy"
    assert shown["Oil"][1].startswith("mentions oil")  # the fixture config has no "Oil" alias
    assert shown["China"][0] == "China"
    assert draft.lead is not None and draft.lead.item.title.startswith("Central Asia enters winter")
    assert draft.items[0] is draft.lead.item
    assert [p.status for p in draft.plan].count("duplicate") == 1
    [copy] = [p for p in draft.plan if p.status == "duplicate"]
    story = next(p for s in draft.sections for p in s.items if p.item.title == copy.item.title and p.duplicates)
    assert story.sources == ["inbox", "wire"] or story.sources == ["wire", "inbox"]
    assert copy.note == f"same story as item {story.item.id} (same headline)"


def test_pin_drop_move_are_kept_and_applied_by_the_next_draft(app: Newsletter, folder: Path) -> None:
    draft = app.draft()
    tajikistan, china, rail = (item_id(draft, t) for t in
                               ("Tajikistan", "China", "Tashkent opens new rail link to the border"))
    editorial.move(app.config, app.store, tajikistan, "russia")  # any case
    editorial.pin(app.store, tajikistan)
    editorial.drop(app.store, china)
    rail_copy = next(p.item.id for p in draft.plan if p.status == "duplicate")
    editorial.move(app.config, app.store, rail_copy, "In brief")  # a choice on a copy moves the story
    again = Newsletter(load(folder / "newsletter.toml", environ={}))  # choices live in the store
    draft = again.draft()
    russia = next(s for s in draft.sections if s.name == "Russia")
    assert russia.items[0].item.title == "Tajikistan"
    assert russia.items[0].pinned and russia.items[0].placement.reason == "moved here by an editor"
    assert "China" not in placed(draft)
    assert [p.status for p in draft.plan if p.item.id == china] == ["dropped"]
    assert placed(draft)["Tashkent opens new rail link to the border"][0] == "In brief"
    assert rail in {p.item.id for p in draft.plan if p.section == "In brief"}
    assert editorial.reset(again.store, china) is True
    assert editorial.reset(again.store, china) is False
    assert "China" in placed(again.draft())


def test_choices_name_real_waiting_items_and_sections(app: Newsletter) -> None:
    draft = app.draft()
    with pytest.raises(EditorialError, match="no item with id 9999"):
        editorial.pin(app.store, 9999)
    russia = item_id(draft, "Russia")
    with pytest.raises(EditorialError, match=r"no section named 'Sport'; sections: Russia, China, Energy, In brief"):
        editorial.move(app.config, app.store, russia, "Sport")
    with app.store.begin() as conn:
        issue.record(conn, app.store, draft, html="", text="")
    with pytest.raises(EditorialError, match=f"item {russia} already went out in issue 1"):
        editorial.drop(app.store, russia)
    assert app.draft().empty  # the recorded issue took every item, its duplicate too


def test_the_recorded_issue_keeps_each_items_section_and_reason(app: Newsletter) -> None:
    draft = app.draft()
    with app.store.begin() as conn:
        issue_id = issue.record(conn, app.store, draft, html="", text="")
        t = app.store.t
        rows = conn.execute(sa.select(t.items.c.title, t.issue_items.c.section, t.issue_items.c.reason)
                            .join(t.issue_items, t.issue_items.c.item_id == t.items.c.id)
                            .where(t.issue_items.c.issue_id == issue_id)
                            .order_by(t.issue_items.c.position)).all()
    assert rows[0].section == "" and rows[0].reason == issue.LEAD_REASON
    assert ("Russia", "Russia", "inline heading 'Russia'") in rows
    assert len(rows) == len(draft.plan)
    assert sum(1 for r in rows if r.reason.startswith("same story as item")) == 1


def test_section_limits_and_hidden_sections_from_the_config(folder: Path) -> None:
    path = folder / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('name = "China"', 'name = "China"\nhide_when_empty = false')
    text = text.replace('name = "Russia"', 'name = "Russia"\nlimit = 1')
    path.write_text(text, encoding="utf-8")
    app = Newsletter(load(path, environ={}))
    app.gather()
    editorial.drop(app.store, item_id(app.draft(), "China"))
    draft = app.draft()
    china = next(s for s in draft.sections if s.name == "China")
    assert china.items == () and china.empty == "Nothing new this week."
    russia = next(s for s in draft.sections if s.name == "Russia")
    [waits] = [p for p in draft.plan if p.status == "waiting"]
    assert len(russia.items) == 1 and waits.section == "Russia" and waits.note == "over the section's limit (1 in Russia)"
    assert waits.item.id not in {i.id for i in draft.items}


def test_summaries_are_clean_and_short() -> None:
    from datetime import UTC, datetime

    text = ("<p>Kazakhstan raised <b>oil output</b> to a record in October. The ministry expects more. "
            "Analysts <a href='https://x.example/a'>disagree</a> about how long it can last. " * 4) + "</p>"
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    item = Item(id=1, source_id=1, source_name="Wire", uid="u", title="t", body=text, summary=text,
                link="https://x.example/", label=None, published_at=moment, gathered_at=moment)
    short = brief(item, 120).summary
    assert short == "Kazakhstan raised oil output to a record in October. The ministry expects more."
    cut = brief(item, 45).summary  # the first sentence alone is longer: cut at a word, never in a tag
    assert cut == "Kazakhstan raised oil output to a record in…"
    whole = brief(item, 120, whole=True).summary
    assert whole.startswith("Kazakhstan raised oil output") and len(whole) > 400 and "<" not in whole


def test_items_commands(app: Newsletter, folder: Path) -> None:
    config = str(folder / "newsletter.toml")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--config", config, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    rows = json.loads(run("items", "list", "--json"))
    assert {r["status"] for r in rows} == {"lead", "in issue", "duplicate"}
    russia = next(r for r in rows if r["title"] == "Russia")
    assert (russia["section"], russia["reason"], russia["editor"]) == ("Russia", "inline heading 'Russia'", None)
    assert "pinned" in run("items", "pin", str(russia["id"]))
    assert "moved to Energy" in run("items", "move", str(russia["id"]), "energy")
    listed = run("items", "list")
    assert f"{russia['id']:>5}  in issue    Energy" in listed and "moved here by an editor; pinned; moved to Energy" in listed
    reasons = run("preview", "--reasons")
    assert "(lead)" in reasons and "inline heading 'China'" in reasons and "dropped" not in reasons
    assert "dropped" in run("items", "drop", str(russia["id"]))
    assert next(r for r in json.loads(run("items", "list", "--json")) if r["id"] == russia["id"])["status"] == "dropped"
    assert "forgotten" in run("items", "reset", str(russia["id"]))
    failed = runner.invoke(cli, ["--config", config, "items", "move", str(russia["id"]), "Sport"])
    assert failed.exit_code == 1 and "error: no section named 'Sport'" in failed.output


def test_the_lead_is_the_opening_of_the_main_briefing(folder: Path) -> None:
    (folder / "inbox" / "2026-11-22-notes.txt").write_text(
        "A few notes from the desk before Monday.\nRussia. Moscow was quiet.\nChina. So was Beijing.\n",
        encoding="utf-8")
    app = Newsletter(load(folder / "newsletter.toml", environ={}))
    app.gather()
    draft = app.draft()
    assert draft.lead is not None and draft.lead.item.uid == "2026-11-20-briefing.txt#opening"
    notes = next(p for p in draft.plan if p.item.uid == "2026-11-22-notes.txt#opening")
    assert notes.status == "in issue"  # a smaller briefing's opening is an ordinary item
    editorial.move(app.config, app.store, draft.lead.item.id, "China")  # a moved opening is no longer the lead
    assert app.draft().lead.item.uid == "2026-11-22-notes.txt#opening"


def test_choices_on_postgresql(folder: Path, postgres_url: str) -> None:
    app = Newsletter(load(folder / "newsletter.toml", environ={"NEWSLETTER_DATABASE_URL": postgres_url}))
    assert app.store.engine.dialect.name == "postgresql"
    app.gather()
    draft = app.draft()
    russia, china = item_id(draft, "Russia"), item_id(draft, "China")
    editorial.move(app.config, app.store, russia, "Energy")
    editorial.pin(app.store, russia)
    editorial.drop(app.store, china)
    draft = app.draft()
    energy = next(s for s in draft.sections if s.name == "Energy")
    assert energy.items[0].item.id == russia and energy.items[0].pinned
    assert "China" not in placed(draft)
    with app.store.begin() as conn:
        issue.record(conn, app.store, draft, html="", text="")
    with pytest.raises(EditorialError, match="already went out in issue 1"):
        editorial.reset(app.store, russia)
    app.store.close()
