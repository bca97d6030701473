"""The demo's own issue, read as its editor would: every story told once, however many sources tell it.

The demo's sources (``sources/`` and ``newsletter.toml`` at the top of the repository) are
the shape of a real week: three wires and a folder of briefings whose paragraphs retell
the wires' stories, often several in one paragraph ("Oil." covers Tengiz, the CPC
terminal and the BTC pipeline). An editor shows each story once.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.edit.issue import Draft
from newsletter.email.render import Rendered

REPO = Path(__file__).resolve().parents[1]
# Each story the demo's week tells, by words only its telling uses. The migration protocol is
# told three times in two languages: a Russian feed item, a Russian briefing paragraph and one
# sentence of the English "Russia." paragraph, which shares with the feed item two countries and
# three international words (protocol, registration, migration). The "Oil." paragraph retells the
# Baku-Tbilisi-Ceyhan deal in one sentence that closes with a comment of its own, and never writes "BTC".
STORIES = {
    "the last markers on the Tajik-Kyrgyz border": r"marker",
    "the CKU railway's tunnel contracts": r"tunnel",
    "the Kurultai and the regions' budgets": r"(?i)kurultai|құрылтай",
    "Tengiz's record output": r"Tengiz",
    "the CPC terminal's loadings": r"\bCPC\b",
    "Kazakh oil through Baku-Tbilisi-Ceyhan": r"Baku.Tbilisi.Ceyhan|\bBTC\b",
    "Khorgos's record trains": r"Khorgos",
    "Uzbek-Kazakh customs data": r"customs (?:data|declarations)",
    "Uzbekistan's WTO target": r"\bWTO\b",
    "the Kyrgyz NGO bill": r"foreign-funded NGOs",
    "the SCO credit line": r"credit line",
    "the Moscow-Bishkek migration protocol": r"migration protocol|протокол",
}


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Draft, Rendered]:
    folder = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "sources", folder / "sources")
    shutil.copy(REPO / "newsletter.toml", folder / "newsletter.toml")
    app = Newsletter(load(folder / "newsletter.toml", environ={}))
    try:
        app.gather()
        return app.preview()
    finally:
        app.store.close()


@pytest.fixture(scope="module")
def draft(preview: tuple[Draft, Rendered]) -> Draft:
    return preview[0]


def shown(draft: Draft) -> list[str]:
    """Return the text of each story the issue shows: its headline (or inline heading) and summary."""
    stories = [*([draft.lead] if draft.lead else []), *(p for s in draft.sections for p in s.items)]
    return [" ".join([p.item.label or "", p.item.title, p.item.summary]) for p in stories]


@pytest.mark.parametrize("story", STORIES)
def test_each_story_of_the_demo_week_is_shown_once(draft: Draft, story: str) -> None:
    telling = [text[:90] for text in shown(draft) if re.search(STORIES[story], text)]
    assert len(telling) == 1, f"{story} is told {len(telling)} times: {telling}"


def test_a_paragraph_that_retells_two_items_of_one_wire_links_to_both(preview: tuple[Draft, Rendered]) -> None:
    draft, rendered = preview
    oil = next(p for s in draft.sections for p in s.items if re.search("Tengiz", p.item.summary) and p.item.label)
    retold = [m for m in oil.members[1:] if m.source_name == "Caspian Energy Monitor"]
    assert len(retold) == 3 and all(m.link for m in retold)  # Tengiz's record, the CPC terminal and the BTC deal
    for m in retold:
        assert f'<a href="{m.link}"' in rendered.html and m.title in rendered.html
    line = next(x for x in rendered.text.replace("\r\n", "\n").split("\n\n") if "Tengiz" in x and "Also reported by" in x)
    refs = re.search(r"Also reported by Caspian Energy Monitor((?: \[\d+\])+)", " ".join(line.split()))
    assert refs is not None and len(refs.group(1).split()) == len(retold), line


def test_the_subject_is_the_first_storys_headline_even_when_a_briefing_tells_it(draft: Draft) -> None:
    first = draft.sections[0].items[0]
    assert first.item.label  # the demo's first story is shown by a briefing paragraph ...
    retold = [m.title for m in first.members[1:] if m.link and m.title in draft.subject]
    assert retold, (draft.subject, [m.title for m in first.members])  # ... and lends a feed's headline
    assert draft.subject.startswith("Central Asia Briefing #1: ")
