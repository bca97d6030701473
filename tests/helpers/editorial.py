"""The editorial labelled sets (tests/fixtures/editorial/, see its README) as items, and how to score them.

``stories()`` gives every story item as an ``Item`` with the story it belongs to and the
section an editor chose; ``pair_scores`` compares the stories a clustering found with
the labelled ones, pair by pair. ``briefings()`` gives the labelled briefings, and
``place_briefing`` drafts an issue from one of them the way a newsletter would. A story
or briefing is held out (kept for checking, never for tuning) when the CRC-32 of its id or
name is divisible by four: about a quarter of each set.
"""

from __future__ import annotations

import json
import re
import tomllib
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from newsletter.app import Newsletter
from newsletter.config import parse
from newsletter.item import Item, summarise

EDITORIAL = Path(__file__).resolve().parent.parent / "fixtures" / "editorial"


@dataclass(frozen=True)
class Labelled:
    """One item of the set: the item, its story's id, the editor's section, and whether it is held out."""

    item: Item
    story: str
    section: str
    held_out: bool
    kind: str  # "feed" or "briefing"


def held_out(story: str) -> bool:
    """Return whether a story (or a briefing, by its name) belongs to the held-out part."""
    return zlib.crc32(story.encode("utf-8")) % 4 == 0


def _slug(text: str) -> str:
    return re.sub(r"\W+", "-", text.casefold()).strip("-")


def stories(folder: Path = EDITORIAL / "stories") -> list[Labelled]:
    """Return every item of the story set, in file order, with ids from 1."""
    sources: dict[str, int] = {}
    found: list[Labelled] = []
    for path in sorted(folder.glob("*.json")):
        for story in json.loads(path.read_text(encoding="utf-8")):
            for n, entry in enumerate(story["items"]):
                source = entry["source"]
                source_id = sources.setdefault(source, len(sources) + 1)
                moment = datetime(2026, 11, 1, 8, tzinfo=UTC) + timedelta(days=entry["day"] - 1, minutes=len(found))
                briefing = "doc" in entry
                heading = entry.get("heading")
                uid = (f"{entry['doc']}#{_slug(heading) if heading else 'p-' + story['id']}" if briefing
                       else f"{_slug(source)}-{story['id']}")
                title = (heading or summarise(entry["text"], 90)) if briefing else entry["title"]
                link = None if briefing else f"https://{_slug(source)}.example/{story['id']}-{n}"
                item = Item(id=len(found) + 1, source_id=source_id, source_name=source, uid=uid, title=title,
                            body=entry["text"], summary=entry["text"], link=link, label=heading,
                            published_at=moment, gathered_at=moment)
                found.append(Labelled(item, story["id"], story["section"], held_out(story["id"]),
                                      "briefing" if briefing else "feed"))
    return found


@dataclass(frozen=True)
class Scores:
    """Pairwise precision and recall of a clustering against the labels."""

    true_pairs: int
    found_pairs: int
    right_pairs: int
    wrong: list[tuple[Labelled, Labelled]]  # merged, but different stories
    missed: list[tuple[Labelled, Labelled]]  # one story, not merged

    @property
    def precision(self) -> float:
        return self.right_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.right_pairs / self.true_pairs if self.true_pairs else 1.0


def pair_scores(labelled: list[Labelled], clusters: list[set[int]], *, part: bool | None = None) -> Scores:
    """Return the scores of ``clusters`` (sets of item ids) on the pairs of ``labelled``.

    ``part`` True scores only pairs with a held-out item, False only pairs of tuning items,
    None every pair.
    """
    by_id = {x.item.id: x for x in labelled}
    found = {frozenset(p) for c in clusters for p in combinations(sorted(c), 2)}
    wanted = {frozenset((a.item.id, b.item.id)) for a, b in combinations(labelled, 2) if a.story == b.story}

    def counted(pair: frozenset[int]) -> bool:
        return part is None or any(by_id[i].held_out for i in pair) == part

    found = {p for p in found if counted(p)}
    wanted = {p for p in wanted if counted(p)}

    def pairs(chosen: set[frozenset[int]]) -> list[tuple[Labelled, Labelled]]:
        return [(by_id[min(p)], by_id[max(p)]) for p in sorted(chosen, key=sorted)]

    return Scores(len(wanted), len(found), len(found & wanted), pairs(found - wanted), pairs(wanted - found))


@dataclass(frozen=True)
class Briefing:
    """A labelled briefing: its file name and its paragraphs as (expected place, heading or None, text)."""

    name: str
    paragraphs: list[tuple[str, str | None, str]]

    @property
    def held_out(self) -> bool:
        return held_out(self.name)

    def document(self) -> str:
        """Return the briefing as its file holds it: one paragraph a line, or Markdown with bold headings."""
        markdown = self.name.endswith(".md")
        lines = [(f"**{h}.** {t}" if markdown else f"{h}. {t}") if h else t for _, h, t in self.paragraphs]
        return ("\n\n" if markdown else "\n").join(lines) + "\n"


def briefings(folder: Path = EDITORIAL / "briefings") -> list[Briefing]:
    """Return every labelled briefing, in file order."""
    return [Briefing(b["name"], [(e, h, t) for e, h, t in b["paragraphs"]])
            for path in sorted(folder.glob("*.json")) for b in json.loads(path.read_text(encoding="utf-8"))]


def sections_settings() -> dict[str, Any]:
    """Return the settings of the set's sections (tests/fixtures/editorial/sections.toml)."""
    return tomllib.loads((EDITORIAL / "sections.toml").read_text(encoding="utf-8"))


def place_briefing(folder: Path, briefing: Briefing) -> list[str]:
    """Gather ``briefing`` alone into a new newsletter in ``folder`` and return where the draft puts each paragraph.

    A place is "lead" or a section's name, in document order.
    """
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    (inbox / briefing.name).write_text(briefing.document(), encoding="utf-8")
    settings = sections_settings()
    settings["sources"] = [{"path": "inbox", "name": "Editors"}]
    settings["storage"] = {"url": "sqlite:///state.db"}
    app = Newsletter(parse(settings, root=folder, environ={}))
    try:
        report = app.gather()
        assert not report.failed, [s.error for s in report.failed]
        plan = sorted(app.draft().plan, key=lambda p: p.item.id)
    finally:
        app.store.close()
    assert len(plan) == len(briefing.paragraphs), f"{briefing.name}: {len(plan)} entries, {len(briefing.paragraphs)} labels"
    return ["lead" if p.status == "lead" else p.section for p in plan]
