"""The editor's changes to the next issue: headline and summary, order, split and merge; and the issue they make."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from helpers.newsletters import FIXTURES, write_config

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.archive import Archive
from newsletter.config import load
from newsletter.edit import editorial, issue
from newsletter.edit.cluster import Cluster
from newsletter.edit.editorial import Choice
from newsletter.edit.issue import Draft
from newsletter.error import EditorialError
from newsletter.item import Item
from newsletter.sink import Sink

KREMLIN = "Kremlin signals new gas deal"


def item_id(draft: Draft, title: str) -> int:
    return next(p.item.id for p in draft.plan if p.item.title == title)


def section_of(draft: Draft, item: int) -> list[int]:
    """Return the ids of the stories of the section that shows ``item``, in order."""
    return next([p.item.id for p in s.items] for s in draft.sections if item in {p.item.id for p in s.items})


def story_of(draft: Draft, item: int) -> list[int]:
    """Return the ids of the members of the story that holds ``item``, the shown one first."""
    return next([m.id for m in p.members] for s in draft.sections for p in s.items if item in {m.id for m in p.members})


def parts(sink: Sink) -> tuple[str, str]:
    message = message_from_bytes(sink.messages[0].data, policy=policy.default)
    text, html = (p.get_content().replace("\r\n", "\n") for p in message.iter_parts())
    return text, html


def test_an_edited_headline_and_summary_and_the_original_back(app: Newsletter) -> None:
    app.gather()
    kremlin = item_id(app.draft(), KREMLIN)
    choice = editorial.edit(app.store, kremlin, title="  Moscow offers   a gas deal ", summary="An editor's\nsummary.")
    assert (choice.title, choice.summary) == ("Moscow offers a gas deal", "An editor's\nsummary.")
    draft = app.draft()
    shown = next(p for s in draft.sections for p in s.items if p.item.id == kremlin)
    assert (shown.item.title, shown.item.summary) == ("Moscow offers a gas deal", "An editor's\nsummary.")
    planned = next(p for p in draft.plan if p.item.id == kremlin)
    assert {"headline edited", "summary edited"} <= set(planned.choice.actions)  # type: ignore[union-attr]
    assert editorial.source_text(app.store, kremlin)[0] == KREMLIN  # the source's headline is kept
    editorial.edit(app.store, kremlin, summary="Only the summary changes now.")
    assert editorial.choices(app.store)[kremlin].title == "Moscow offers a gas deal"
    editorial.restore(app.store, kremlin)
    shown = next(p for s in app.draft().sections for p in s.items if p.item.id == kremlin)
    assert shown.item.title == KREMLIN and "Moscow hinted at a new gas supply agreement" in shown.item.summary
    for bad, message in [({"title": "  "}, "a headline cannot be empty"), ({"summary": ""}, "a summary cannot be"),
                         ({}, "nothing to change"), ({"title": "x" * 1001}, "limit 1,000")]:
        with pytest.raises(EditorialError, match=message):
            editorial.edit(app.store, kremlin, **bad)
    with pytest.raises(EditorialError, match="no item with id 999999"):
        editorial.edit(app.store, 999999, title="Nothing")


def test_an_edited_briefing_paragraph_shows_its_new_headline(app: Newsletter) -> None:
    app.gather()
    russia = next(p.item for p in app.draft().plan if p.item.label == "Russia")
    editorial.edit(app.store, russia.id, title="Moscow presses the region's banks")
    shown = next(p.item for s in app.draft().sections for p in s.items if p.item.id == russia.id)
    assert (shown.title, shown.label) == ("Moscow presses the region's banks", None)
    _, rendered = app.preview()
    assert "Moscow presses the region&#39;s banks</h3>" in rendered.html or \
        "Moscow presses the region's banks</h3>" in rendered.html


def test_reorder_within_a_section_by_order_and_by_steps(app: Newsletter) -> None:
    app.gather()
    draft = app.draft()
    ids = max((section_of(draft, p.item.id) for s in draft.sections for p in s.items), key=len)
    assert len(ids) >= 3
    editorial.order(app.store, list(reversed(ids)))
    assert section_of(app.draft(), ids[0]) == list(reversed(ids))
    editorial.shift(app.store, list(reversed(ids)), ids[0], -1)  # the last one goes up one place
    assert section_of(app.draft(), ids[0]) == [*reversed(ids[2:]), ids[0], ids[1]]
    editorial.shift(app.store, section_of(app.draft(), ids[0]), ids[-1], -1)  # already first: stays
    assert section_of(app.draft(), ids[0])[0] == ids[-1]
    with pytest.raises(EditorialError, match="named twice"):
        editorial.order(app.store, [ids[0], ids[0]])
    with pytest.raises(EditorialError, match="is not shown in that section"):
        editorial.shift(app.store, ids[1:], ids[0], 1)
    editorial.order(app.store, [ids[1]])  # named items first, the others after in their order
    assert section_of(app.draft(), ids[0])[0] == ids[1]
    assert editorial.reset(app.store, ids[1]) is False  # reset forgets pins, drops and moves, not the order
    assert section_of(app.draft(), ids[0])[0] == ids[1]


@pytest.fixture
def twice(tmp_path: Path, smtp_port: int) -> Iterator[Newsletter]:
    """A newsletter whose two folders carry the same article (one story, two sources), and a feed."""
    for folder in ("desk-a", "desk-b"):
        (tmp_path / folder).mkdir()
        shutil.copy(FIXTURES / "documents" / "article.txt", tmp_path / folder / "article.txt")
    shutil.copytree(FIXTURES / "feeds", tmp_path / "www")
    write_config(tmp_path, smtp_url=f"smtp://127.0.0.1:{smtp_port}",
                 sources=[{"path": "desk-a"}, {"path": "desk-b"}, {"path": "www/rss2.xml"}])
    newsletter = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
    subscribers.add(newsletter.store, "ann@example.org", name="Ann", status="active")
    newsletter.gather()
    yield newsletter
    newsletter.store.close()


def test_split_a_wrong_merge_and_merge_a_missed_one(twice: Newsletter) -> None:
    draft = twice.draft()
    rail = item_id(draft, "Tashkent opens new rail link to the border")
    first, copy = story_of(draft, rail)
    kremlin = item_id(draft, KREMLIN)
    editorial.split(twice.store, copy)
    draft = twice.draft()
    assert story_of(draft, first) == [first] and story_of(draft, copy) == [copy]
    assert "split from its story" in next(p.choice.actions for p in draft.plan if p.item.id == copy)  # type: ignore[union-attr]
    editorial.join(twice.store, kremlin, copy)  # a chain: the feed item joins the copy, the copy joins back
    editorial.join(twice.store, copy, first)
    draft = twice.draft()
    assert story_of(draft, first) == [first, copy, kremlin]
    assert sum(1 for s in draft.sections for p in s.items if p.item.id in (first, copy, kremlin)) == 1
    assert [p.status for p in draft.plan if p.item.id in (copy, kremlin)] == ["duplicate", "duplicate"]
    for bad, message in [((first, first), "cannot be merged with itself"), ((first, 999999), "no item with id")]:
        with pytest.raises(EditorialError, match=message):
            editorial.join(twice.store, *bad)
    editorial.split(twice.store, kremlin)
    assert story_of(twice.draft(), kremlin) == [kremlin]


def test_regroup_keeps_order_and_ignores_merges_into_items_not_waiting() -> None:
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    a, b, c, d = (Item(n, n, f"s{n}", f"u{n}", f"T{n}", f"body {n}", "", None, None, None, moment) for n in range(1, 5))
    stories = [Cluster((a, b), "same link"), Cluster((c,)), Cluster((d,))]
    assert editorial.regroup(stories, {}) == stories
    chosen = {b.id: Choice(b.id, apart=True), d.id: Choice(d.id, joined_to=a.id), c.id: Choice(c.id, joined_to=99)}
    found = editorial.regroup(stories, chosen)
    assert [[i.id for i in s.items] for s in found] == [[1, 4], [2], [3]]
    assert [s.reason for s in found] == [editorial.MERGED, "", ""]
    loop = {a.id: Choice(a.id, joined_to=c.id), c.id: Choice(c.id, joined_to=a.id)}  # a loop: a and c together
    assert [[i.id for i in s.items] for s in editorial.regroup(stories, loop)] == [[2], [3, 1], [4]]


def test_the_issue_made_at_the_desk_goes_out_as_edited(twice: Newsletter, sink: Sink) -> None:
    draft = twice.draft()
    kremlin = item_id(draft, KREMLIN)
    rail = item_id(draft, "Tashkent opens new rail link to the border")
    _, copy = story_of(draft, rail)
    editorial.edit(twice.store, kremlin, title="Moscow offers Tashkent a gas deal", summary="The editor's words.")
    editorial.split(twice.store, copy)
    editorial.edit(twice.store, copy, title="A second look at the rail link")
    editorial.move(twice.config, twice.store, copy, "Russia")
    editorial.move(twice.config, twice.store, kremlin, "Russia")
    order = section_of(twice.draft(), kremlin)
    editorial.order(twice.store, [copy, *(i for i in order if i != copy)])
    corridor = item_id(draft, "Новый транспортный коридор через Каспий")
    editorial.join(twice.store, corridor, rail)  # a story the rules missed: one story, two sources
    report = twice.send()
    assert report.status == "sent"
    text, html = parts(sink)
    for part in (text, html):
        assert "Moscow offers Tashkent a gas deal" in part and "The editor's words." in part.replace("&#39;", "'")
        assert KREMLIN not in part and "Moscow hinted" not in part
        assert part.index("A second look at the rail link") < part.index("Moscow offers Tashkent a gas deal")
    assert text.count("Tashkent opens new rail link to the border") == 1  # the split copy is a story of its own
    assert "Новый транспортный коридор" not in text and "Новый транспортный коридор" not in html
    assert re.search(r"Tashkent opens new rail link to the border\n(?:  .*\n|\n)*?  -- desk-a, Test Energy Wire\n", text)
    page = Archive(twice.config, twice.store).page(1)
    assert page is not None and "Moscow offers Tashkent a gas deal" in page and KREMLIN not in page
    assert page.index("A second look at the rail link") < page.index("Moscow offers Tashkent a gas deal")
    stored = issue.get(twice.store, 1)
    assert stored is not None
    resumed = Archive(twice.config, twice.store).renderer(stored).render()  # what resuming the send renders
    assert resumed.text.count("Moscow offers Tashkent a gas deal") == 1 and KREMLIN not in resumed.text
    with pytest.raises(EditorialError, match="already went out in issue 1"):
        editorial.restore(twice.store, kremlin)

