"""Quality: the share of labelled items that the real pipeline puts where an editor would.

Two labelled sets. The first week (tests/fixtures/labelled/, see its README) is gathered like
any newsletter's sources — briefing documents from a folder, feed entries from RSS files — and
drafted; each item's place in the draft (a section, the lead, the outlook, or merged into
another source's story) is compared with the editor's label.

The editorial set (tests/fixtures/editorial/, see its README) has briefings in three languages
— each drafted alone, so its opening is the lead and its closing outlook goes under "Outlook" —
and feed stories, placed as a draft places them: the stories found by clustering, each by
its shown item with the mentions of its copies. A quarter of it is held out (never used to
tune); both parts are reported and both must pass. The figures are printed with the output.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from helpers.editorial import briefings, place_briefing, sections_settings, stories
from helpers.newsletters import FIXTURES

from newsletter.app import Newsletter
from newsletter.config import parse
from newsletter.edit import cluster
from newsletter.edit.issue import Planned, brief
from newsletter.edit.names import language
from newsletter.edit.sections import Sorter

LABELLED = FIXTURES / "labelled"
THRESHOLD = 0.85  # the share of the first week placed right may not fall below this
WHOLE = 0.9  # nor the share of the whole editorial set (paragraphs and feed stories, both parts): the issue's floor
BRIEFINGS = 0.9  # nor the share of its briefing paragraphs, in either part
STORIES = 0.82  # nor the share of its feed stories, in either part (the goal is 0.95; two annotators agree on 92%)


def write_feeds(folder: Path) -> list[dict[str, str]]:
    """Write each wire of feeds.toml as an RSS 2.0 file; return the sources and the expected labels."""
    data = tomllib.loads((LABELLED / "feeds.toml").read_text(encoding="utf-8"))
    sources = []
    for n, wire in enumerate(data["feeds"]):
        entries = "".join(
            f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
            f"<guid isPermaLink=\"false\">wire{n}-{k}</guid>"
            f"<pubDate>Mon, 16 Nov 2026 {8 + k % 10:02d}:00:00 +0000</pubDate>"
            f"<description>{escape(i['summary'])}</description></item>"
            for k, i in enumerate(wire["items"])
        )
        path = folder / f"wire{n}.xml"
        path.write_text(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                        f"<title>{escape(wire['name'])}</title><link>https://wire{n}.example/</link>"
                        f"<language>{wire['language']}</language>{entries}</channel></rss>", encoding="utf-8")
        sources.append({"path": path.name, "name": wire["name"]})
    return sources


def expected_feeds() -> dict[str, dict[str, str]]:
    data = tomllib.loads((LABELLED / "feeds.toml").read_text(encoding="utf-8"))
    return {i["title"]: i for wire in data["feeds"] for i in wire["items"]}


def rule_name(reason: str) -> str:
    """Return the name of the rule a reason gives: "keywords", "inline heading", "outlook"…"""
    for start, name in (("mentions ", "keywords"), ("inline heading", "inline heading"), ("the closing outlook", "outlook"),
                        ("only passing", "passing mentions"), ("no clear section", "no clear section"),
                        ("no section matched", "no section matched")):
        if reason.startswith(start):
            return name
    return reason.split(":")[0]


def outcome(p: Planned) -> str:
    return {"lead": "lead", "duplicate": "duplicate"}.get(p.status, p.section)


def judge_feeds(plan: list[Planned]) -> list[tuple[str, str, str]]:
    """Return ``(title, expected, actual)`` per feed entry; a story's copies are judged together."""
    labels = expected_feeds()
    placed = {p.item.title: p for p in plan if p.item.title in labels and p.item.source_name != "Editors"}
    assert set(placed) == set(labels)
    stories: dict[str, list[str]] = {}
    for title, label in labels.items():
        stories.setdefault(label.get("same_as", title), []).append(title)
    results = []
    for original, story in stories.items():
        expected = labels[original]["expected"]
        shown = [t for t in story if placed[t].status == "in issue"]
        if len(story) == 1:
            actual = outcome(placed[original])
        elif len(shown) == 1 and all(placed[t].status == "duplicate" for t in story if t not in shown):
            actual = placed[shown[0]].section
        else:
            actual = f"not merged: {[outcome(placed[t]) for t in story]}"
        results += [(t, expected, actual) for t in story]
    return results


@pytest.fixture
def plan(tmp_path: Path) -> list[Planned]:
    import shutil

    shutil.copytree(LABELLED / "documents", tmp_path / "inbox")
    settings = tomllib.loads((LABELLED / "sections.toml").read_text(encoding="utf-8"))
    settings["sources"] = [*write_feeds(tmp_path), {"path": "inbox", "name": "Editors"}]
    settings["storage"] = {"url": "sqlite:///state.db"}
    app = Newsletter(parse(settings, root=tmp_path, environ={}))
    report = app.gather()
    assert not report.failed, [s.error for s in report.failed]
    try:
        return list(app.draft().plan)
    finally:
        app.store.close()


def test_share_placed_in_the_right_section(plan: list[Planned], capsys: pytest.CaptureFixture[str]) -> None:
    documents = tomllib.loads((LABELLED / "documents.toml").read_text(encoding="utf-8"))
    results = judge_feeds(plan)  # (item, expected, actual)
    by_document: dict[str, list[Planned]] = {}
    for p in plan:
        if p.item.source_name == "Editors":
            by_document.setdefault(p.item.uid.partition("#")[0], []).append(p)
    for name, labels in documents.items():
        found = sorted(by_document.pop(name, []), key=lambda p: p.item.id)
        assert len(found) == len(labels), f"{name}: {len(found)} entries, {len(labels)} labels"
        results += [(f"{name}: {p.item.title}", label, outcome(p)) for p, label in zip(found, labels, strict=True)]
    assert not by_document, f"entries without a label: {list(by_document)}"
    assert len(results) >= 50
    right = sum(1 for _, expected, actual in results if expected == actual)
    share = right / len(results)
    wrong = [r for r in results if r[1] != r[2]]
    rules = {p.item.title: rule_name(p.reason) for p in plan if p.status == "in issue"}
    by_rule: Counter[str] = Counter()
    right_by_rule: Counter[str] = Counter()
    for title, expected, actual in results:
        rule = rules.get(title.split(": ", 1)[-1], "lead or duplicate")
        by_rule[rule] += 1
        right_by_rule[rule] += expected == actual
    with capsys.disabled():
        print(f"\nquality: {right} of {len(results)} labelled items placed right ({share:.1%}); by rule: "
              + ", ".join(f"{rule} {right_by_rule[rule]}/{n}" for rule, n in by_rule.most_common()))
        for title, expected, actual in wrong:
            print(f"  misplaced: {title[:70]!r}: expected {expected}, got {actual}")
    assert share >= THRESHOLD, f"only {share:.1%} placed right"


def test_duplicates_are_merged_and_noted(plan: list[Planned]) -> None:
    notes = {p.item.title: p.note for p in plan if p.status == "duplicate"}
    assert notes["Инфляция в Казахстане замедлилась"].endswith("(same link)")  # the same page, in Russian
    drills = {"Army holds exercises on the Caspian coast", "Army holds exercises near the Caspian coast"}
    [same_text] = [n for t, n in notes.items() if t in drills]
    assert "nearly the same text" in same_text
    # The Russian wire's own story of the 7.9% states too little to be told from another
    # (one figure and one name): it may stay apart, and then counts as misplaced above.
    assert set(notes) <= {"Инфляция в Казахстане замедлилась", "Инфляция в Казахстане замедлилась до 7,9%",
                          "Kazakhstan's inflation slows to 7.9%", *drills}


def briefing_results(folder: Path, part: bool) -> list[tuple[str, str, str]]:
    """Return ``(paragraph, expected, placed)`` for every paragraph of the editorial briefings of ``part``."""
    results = []
    for n, b in enumerate(x for x in briefings() if x.held_out == part):
        placed = place_briefing(folder / str(n), b)
        results += [(f"{b.name}: {(h or '')[:12]} {t[:40]}", e, p) for (e, h, t), p in zip(b.paragraphs, placed,
                                                                                          strict=True)]
    return results


def story_results(folder: Path, part: bool) -> list[tuple[str, str, str]]:
    """Return ``(item, expected, placed)`` for every feed-story item of ``part``, placed as a draft would."""
    labelled = stories()
    by_id = {x.item.id: x for x in labelled}
    sorter = Sorter(parse(sections_settings(), root=folder, environ={}))
    results = []
    for story in cluster.find([x.item for x in labelled], language="en"):
        if by_id[story.first.id].held_out != part:
            continue
        placement = sorter.place(brief(story.first, 300), also=story.items[1:])
        results += [(f"{by_id[i.id].story}: {i.title[:40]}", by_id[i.id].section, placement.section)
                    for i in story.items]
    return results


def report(name: str, results: list[tuple[str, str, str]], capsys: pytest.CaptureFixture[str]) -> float:
    right = sum(1 for _, expected, actual in results if expected == actual)
    with capsys.disabled():
        print(f"\n{name}: {right} of {len(results)} placed as labelled ({right / len(results):.1%})")
    return right / len(results)


@pytest.mark.parametrize("part", [False, True], ids=["tuning", "held-out"])
def test_editorial_briefings_are_placed_as_an_editor_would(tmp_path: Path, part: bool,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    results = briefing_results(tmp_path, part)
    assert len(results) >= 30
    kinds = {e for _, e, _ in results}
    assert {"lead", "Outlook", "In brief"} <= kinds  # openings, outlooks and passing mentions are all there
    assert report(f"editorial briefings ({'held out' if part else 'tuning'})", results, capsys) >= BRIEFINGS


@pytest.mark.parametrize("part", [False, True], ids=["tuning", "held-out"])
def test_editorial_stories_are_placed_as_an_editor_would(tmp_path: Path, part: bool,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    results = story_results(tmp_path, part)
    assert len(results) >= 80
    assert report(f"editorial feed stories ({'held out' if part else 'tuning'})", results, capsys) >= STORIES


def test_the_placement_set_is_large_and_varied() -> None:
    labelled = stories()
    paragraphs = [(e, h) for b in briefings() for e, h, _ in b.paragraphs]
    assert len(labelled) + len(paragraphs) >= 200
    assert sum(1 for _, h in paragraphs if h) >= 50 and sum(1 for e, h in paragraphs if not h and e != "lead") >= 30
    assert sum(1 for e, _ in paragraphs if e == "Outlook") >= 10
    assert {language(t) for b in briefings() for _, _, t in b.paragraphs} == {"en", "ru", "kk"}


def test_the_whole_editorial_set_is_placed_as_an_editor_would(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    results = [r for part in (False, True) for r in (*briefing_results(tmp_path / str(part), part),
                                                     *story_results(tmp_path, part))]
    assert len(results) >= 400
    assert report("editorial set, all of it", results, capsys) >= WHOLE
