"""Sections: decide which section each item belongs to, and say why."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from newsletter.config import Config
from newsletter.item import Item


@dataclass(frozen=True)
class Placement:
    """The section an item landed in and the rule that put it there."""

    section: str
    reason: str


@dataclass(frozen=True)
class Placed:
    """An item with its placement."""

    item: Item
    placement: Placement


@dataclass(frozen=True)
class Section:
    """One section of an issue: a heading, an optional intro and its items in order."""

    name: str
    intro: str = ""
    items: tuple[Placed, ...] = field(default_factory=tuple)


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Return a whole-word, case-insensitive pattern for ``keyword`` that admits endings.

    "Russia" matches "Russia", "Russian", "Russia's"; "Россия" matches "России" only if
    given as the stem ("Росси"). Keywords of three letters or fewer must match exactly,
    so "oil" does not match "oiled" but "EU" does not match "Europe" either.
    """
    words = [re.escape(w) for w in keyword.split()]
    body = r"\s+".join(words)
    tail = r"(?!\w)" if len(keyword) <= 3 else r"\w*"
    return re.compile(rf"(?<!\w){body}{tail}", re.IGNORECASE)


class Sorter:
    """Place items by the configured rules, strongest first.

    1. the item's source is pinned to a section;
    2. the item's inline heading names a section or one of its aliases;
    3. keyword scoring over title (counted three times) and text; ties go to the earlier section;
    4. the catch-all section.
    """

    def __init__(self, config: Config) -> None:
        self.catch_all = config.newsletter.catch_all
        self.order = [s.name for s in config.sections]
        self.intros = {s.name: s.intro for s in config.sections}
        self.names = {s.name.casefold(): s.name for s in config.sections}
        for s in config.sections:
            for alias in s.aliases:
                self.names.setdefault(alias.casefold(), s.name)
        self.keywords = [
            (s.name, [(k, keyword_pattern(k)) for k in dict.fromkeys([s.name, *s.aliases, *s.keywords]) if k])
            for s in config.sections
        ]

    def place(self, item: Item) -> Placement:
        """Return the section for ``item`` and the reason."""
        if item.forced_section:
            return Placement(item.forced_section, f"source {item.source_name!r} is pinned to this section")
        if item.label and item.label.casefold() in self.names:
            return Placement(self.names[item.label.casefold()], f"inline heading {item.label!r}")
        best: tuple[int, str, Counter[str]] | None = None
        for name, patterns in self.keywords:
            hits: Counter[str] = Counter()
            for keyword, pattern in patterns:
                count = 3 * len(pattern.findall(item.title)) + len(pattern.findall(item.body))
                if item.label:
                    count += 3 * len(pattern.findall(item.label))
                if count:
                    hits[keyword] = count
            score = sum(hits.values())
            if score and (best is None or score > best[0]):
                best = (score, name, hits)
        if best is not None:
            matched = ", ".join(f"{k} ×{n}" for k, n in best[2].most_common())
            return Placement(best[1], f"keywords: {matched} (score {best[0]})")
        return Placement(self.catch_all, "no section matched")

    def group(self, items: list[Item]) -> list[Section]:
        """Return the non-empty sections in configured order, catch-all last, items newest first."""
        buckets: dict[str, list[Placed]] = {}
        for item in items:
            placement = self.place(item)
            buckets.setdefault(placement.section, []).append(Placed(item, placement))
        # The catch-all goes last even when it is also configured, and only once.
        order = [*(n for n in self.order if n != self.catch_all),
                 *(n for n in buckets if n not in self.order and n != self.catch_all), self.catch_all]
        sections = []
        for name in order:
            placed = buckets.get(name)
            if placed:
                placed.sort(key=lambda p: (-_timestamp(p.item), p.item.id))
                sections.append(Section(name, self.intros.get(name, ""), tuple(placed)))
        return sections


def _timestamp(item: Item) -> float:
    return (item.published_at or item.gathered_at).timestamp()
