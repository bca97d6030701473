"""Issues built in memory for the rendering and message tests: no gathering, no store."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from newsletter.edit.issue import Draft
from newsletter.edit.sections import Placed, Placement, Section
from newsletter.item import Item

MOMENT = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Almaty"))

STORIES = {
    "Russia": [
        ("Kremlin signals new gas deal", ("Moscow hinted at a new gas supply agreement with Uzbekistan, "
          "its second in a year, as winter demand rises across the region.")),
        ("Банки под давлением", ("Москва требует от региональных банков подключиться к альтернативной "
          "платёжной сети; несколько казахстанских банков отказались.")),
    ],
    "China": [
        ("China opens new freight terminal on the Kazakh border", ("The terminal at Khorgos can handle "
          "ten trains a day and cuts the wait for containers bound for Europe.")),
    ],
    "Energy": [
        ("Kazakhstan raises oil output", ("Kazakhstan increased crude production to 2 million barrels per "
          "day in October, well above the country's OPEC+ quota.")),
        ("Caspian pipeline repairs finish early", ("The consortium said the moorings damaged in the "
          "storm were back in service on Friday.")),
    ],
    "In brief": [
        ("Tashkent hosts regional water talks", ("Ministers from five countries met to share the "
          "Amu Darya's flow for the coming season.")),
    ],
}


def item(number: int, title: str, body: str, source: str = "Test Wire", link: bool = True,
         label: str | None = None) -> Item:
    """Return one stored item."""
    return Item(
        id=number, source_id=1, source_name=source, uid=f"uid-{number}", title=title, body=body,
        summary=body, link=f"https://news.example.com/story/{number}?ref=rss&a=1" if link else None,
        label=label, published_at=MOMENT - timedelta(days=number), gathered_at=MOMENT,
    )


def draft(stories: dict[str, list[tuple[str, str]]] | None = None, *, number: int = 1,
          subject: str = "Test Briefing #1: Kremlin signals new gas deal") -> Draft:
    """Return an issue with the given ``{section: [(title, body), ...]}``."""
    sections, n = [], 0
    for name, entries in (stories or STORIES).items():
        placed = []
        for title, body in entries:
            n += 1
            placed.append(Placed(item(n, title, body), Placement(name, f"keywords: {name} ×1 (score 1)")))
        sections.append(Section(name, "", tuple(placed)))
    preheader = " · ".join(t for entries in (stories or STORIES).values() for t, _ in entries)[:139]
    return Draft(number, subject, preheader, MOMENT, tuple(sections))


def big_draft(items: int, words: int = 120) -> Draft:
    """Return an issue of ``items`` long items spread over four sections (to test trimming)."""
    text = " ".join(f"word{i % 37}" for i in range(words)) + "."
    names = ["Russia", "China", "Energy", "In brief"]
    stories: dict[str, list[tuple[str, str]]] = {name: [] for name in names}
    for i in range(items):
        stories[names[i % 4]].append((f"Story number {i + 1} about the region", f"Paragraph {i + 1}: {text}"))
    return draft(stories)
