"""Sections: decide which section each item belongs to and why, then order and limit each section."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from newsletter.config import Config, SectionSettings
from newsletter.edit.keywords import Matcher, fold, words
from newsletter.item import Item

# How much a keyword counts where it is found: a headline or heading says more than the text.
WEIGHTS = (("label", 3), ("title", 3), ("body", 1))


@dataclass(frozen=True)
class Placement:
    """The section an item landed in and the rule that put it there."""

    section: str
    reason: str


@dataclass(frozen=True)
class Placed:
    """An item with its placement, the same story from other sources, and an editor's pin."""

    item: Item
    placement: Placement
    duplicates: tuple[Item, ...] = ()
    pinned: bool = False

    @property
    def members(self) -> tuple[Item, ...]:
        """Return the item and its duplicates, the item first."""
        return (self.item, *self.duplicates)

    @property
    def sources(self) -> list[str]:
        """Return the names of every source that carried this story, the shown item's first."""
        return list(dict.fromkeys(i.source_name for i in self.members))


@dataclass(frozen=True)
class Section:
    """One section of an issue: a heading, an optional intro and its items in order.

    ``empty`` is the line to show when a section that is never hidden has no items.
    """

    name: str
    intro: str = ""
    items: tuple[Placed, ...] = field(default_factory=tuple)
    empty: str = ""


@dataclass(frozen=True)
class Arrangement:
    """Sections as the issue shows them, and what waits for a later issue and why."""

    sections: list[Section]
    waiting: dict[int, str]  # item id -> why it waits (a section's limit, the max_items)


class Sorter:
    """Place items by the configured rules, strongest first.

    1. the item's source is pinned to a section;
    2. the item's inline heading names a section or one of its aliases;
    3. keyword scoring over heading and title (counted three times) and text; ties go to the
       earlier section;
    4. the catch-all section.
    """

    def __init__(self, config: Config) -> None:
        self.catch_all = config.newsletter.catch_all
        self.max_items = config.newsletter.max_items
        self.settings: dict[str, SectionSettings] = {s.name: s for s in config.sections}
        self.order = [s.name for s in config.sections]
        self.names = {fold(s.name): s.name for s in config.sections}
        for s in config.sections:
            for alias in s.aliases:
                self.names.setdefault(fold(alias), s.name)
        # One matcher for every section's keywords (name and aliases count too): one pass per text.
        pairs = [(k, s.name) for s in config.sections
                 for k in {fold(k.strip()): k.strip() for k in [*s.keywords, *s.aliases, s.name]}.values() if k]
        self._owners = [owner for _, owner in pairs]
        self.matcher = Matcher(k for k, _ in pairs)

    def place(self, item: Item) -> Placement:
        """Return the section for ``item`` and the reason."""
        if item.forced_section:
            return Placement(item.forced_section, f"source {item.source_name!r} is pinned to this section")
        if item.label and fold(item.label).strip() in self.names:
            return Placement(self.names[fold(item.label).strip()], f"inline heading {item.label!r}")
        scores: Counter[str] = Counter()
        hits: dict[str, Counter[str]] = {}
        for key, weight in WEIGHTS:
            text = item.label if key == "label" else item.title if key == "title" else item.body
            positions: set[tuple[str, int]] = set()
            for index, position in self.matcher.find(words(text or "")):
                owner = self._owners[index]
                hits.setdefault(owner, Counter())[self.matcher.keywords[index]] += weight
                positions.add((owner, position))  # a word counts once per section
            for owner, _ in positions:
                scores[owner] += weight
        if scores:
            top = max(scores.values())
            name = next(n for n in self.order if scores[n] == top)  # ties go to the earlier section
            matched = ", ".join(f"{k} ×{n}" for k, n in hits[name].most_common())
            return Placement(name, f"keywords: {matched} (score {top})")
        return Placement(self.catch_all, "no section matched")

    def group(self, items: list[Item]) -> list[Section]:
        """Place ``items`` and return the sections an issue shows (see ``arrange``)."""
        return self.arrange([Placed(i, self.place(i)) for i in items]).sections

    def arrange(self, placed: list[Placed], *, max_items: int | None = None) -> Arrangement:
        """Order sections (configured order, catch-all last) and their items, and apply limits.

        Within a section: pinned items first, then stories more sources carried, then newest
        first. A section keeps at most its ``limit`` items and the issue at most ``max_items``
        (the most important across sections); the rest wait. Empty sections are left out
        unless ``hide_when_empty`` is false.
        """
        buckets: dict[str, list[Placed]] = {}
        for p in placed:
            buckets.setdefault(p.placement.section, []).append(p)
        # The catch-all goes last even when it is also configured, and only once.
        order = [*(n for n in self.order if n != self.catch_all),
                 *(n for n in buckets if n not in self.order and n != self.catch_all), self.catch_all]
        waiting: dict[int, str] = {}
        for name, members in buckets.items():
            members.sort(key=importance)
            limit = self.settings[name].limit if name in self.settings else 0
            if limit:
                for p in members[limit:]:
                    waiting[p.item.id] = f"over the section's limit ({limit} in {name})"
                del members[limit:]
        shown = sorted((p for members in buckets.values() for p in members), key=importance)
        cap = self.max_items if max_items is None else max_items
        for p in shown[cap:]:
            waiting[p.item.id] = f"over the issue's limit ({cap} items)"
        sections = []
        for name in order:
            members = [p for p in buckets.get(name, []) if p.item.id not in waiting]
            settings = self.settings.get(name)
            if members or (settings is not None and not settings.hide_when_empty):
                sections.append(Section(name, settings.intro if settings else "", tuple(members),
                                        "" if members or settings is None else settings.empty_text))
        return Arrangement(sections, waiting)


def importance(placed: Placed) -> tuple[bool, int, float, int]:
    """Return the sort key of an item within a section: pinned, more sources, newer, then document order."""
    item = placed.item
    return (not placed.pinned, -len(placed.sources), -(item.published_at or item.gathered_at).timestamp(),
            item.id)

