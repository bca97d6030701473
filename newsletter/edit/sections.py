"""Sections: decide which section each item belongs to and why, then order and limit each section.

An item goes where the strongest rule that applies puts it:

1. its source is pinned to a section;
2. its inline heading names a section or one of its aliases;
3. it is the closing outlook of a briefing (``outlook``): under the outlook heading, last;
4. keywords, with real evidence only: a section's keywords must score at least ``MIN_SCORE``
   (each mention counts once, a mention in the headline or heading ``HEADLINE`` times, and in
   a paragraph with neither, its opening sentence stands for the headline), and clearly more
   than any other section's (by ``MARGIN`` and by ``RATIO``), and hold more than ``SHARE`` of
   all the sections' score together; the same story from other sources adds its mentions.
   Sections about a place (``place = true``: a country, a region) go before topics: a place
   that is the only one its headline names, with a score of ``MIN_SCORE``, takes the story
   whatever topic the headline also names ("Russia bans Kazakh wheat imports" is Russia's,
   not Economy's); when the headline names no section at all, a place with that score and
   clearly ahead of the other places takes it too. A place the headline names only as an
   origin, a route or the other side of a border ("Remittances from Russia to Tajikistan",
   "on the Kyrgyz border": ``parties.bystander``) is no party to its event: that mention
   counts as a passing one, not the headline's. A name on the built-in list (``known``:
   "CNPC", "Kazatomprom") counts as a mention of the country and topic it implies;
5. the catch-all section: nothing matched, only passing mentions, or no clear winner. It may
   also be configured with keywords of its own (weather, culture, sport), and then wins
   like any section when those are the clear evidence.

Each rule leaves its reason in plain words: "mentions China 3 times (once in the headline)".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from newsletter.config import Config, SectionSettings
from newsletter.edit.keywords import Matcher, fold, words, written
from newsletter.edit.known import Found, Known, as_listed, gazetteer, outermost
from newsletter.edit.outlook import cues, is_outlook
from newsletter.edit.parties import bystander, hired
from newsletter.item import Item, body_text

_FIRST_SENTENCE = re.compile(r".*?(?:[.!?…](?=\s|$)|$)", re.DOTALL)
HEADLINE = 3  # a mention in the headline, heading or opening sentence counts this many times
MIN_SCORE = 2  # least score a section needs: one mention in the headline, or two in the text
MARGIN = 1  # ... and at least this much more than the runner-up
RATIO = 1.0  # ... and at least this many times the runner-up's score
SHARE = 1 / 3  # ... and more than this share of every section's score together (else: passing mentions)
# Known names whose country is the country acting (a government, its leaders, its undertakings: Rogun, Global
# Gateway), for any section that names it; a firm's, a lender's or a place's country is only where it is from, which
# only a place section is about: Chevron is American, but no news of the United States' dealings.
OWN_COUNTRY = ("state", "person", "project")


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


@dataclass
class Mentions:
    """How often one section's keywords occur in an item: per keyword, in the headline and in all."""

    section: str
    headline: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)

    @property
    def score(self) -> int:
        """Return the evidence: every mention once, a headline mention ``HEADLINE`` times."""
        return sum(self.total.values()) + (HEADLINE - 1) * sum(self.headline.values())

    def describe(self) -> str:
        """Return the mentions in words: "Beijing 3 times (once in the headline) and Chinese once"."""
        parts = []
        for keyword, n in self.total.most_common():
            h = self.headline[keyword]
            parts.append(f"{keyword} {times(n)}" + (f" ({times(h)} in the headline)" if h and h < n
                                                     else " in the headline" if h else ""))
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _added(mine: list[Mentions], theirs: list[Mentions]) -> list[Mentions]:
    """Return two items' mentions added up, section by section."""
    found = {m.section: Mentions(m.section, Counter(m.headline), Counter(m.total)) for m in mine}
    for m in theirs:
        into = found.setdefault(m.section, Mentions(m.section))
        into.headline.update(m.headline)
        into.total.update(m.total)
    return list(found.values())


def _clear(ranked: list[Mentions]) -> bool:
    """Return whether the first of ``ranked`` has clearly more evidence than the runner-up."""
    runner = ranked[1].score if len(ranked) > 1 else 0
    return ranked[0].score - runner >= MARGIN and ranked[0].score >= RATIO * runner


def times(n: int) -> str:
    """Return a count in words: once, twice, 3 times."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


class Sorter:
    """Place items by the configured rules, strongest first (see the module's docstring)."""

    def __init__(self, config: Config) -> None:
        self.catch_all = config.newsletter.catch_all
        self.outlook = config.newsletter.outlook.strip()
        self.max_items = config.newsletter.max_items
        self.settings: dict[str, SectionSettings] = {s.name: s for s in config.sections}
        self.order = [s.name for s in config.sections]
        self.places = {s.name for s in config.sections if s.place}
        self.names = {fold(s.name): s.name for s in config.sections}
        for s in config.sections:
            for alias in s.aliases:
                self.names.setdefault(fold(alias), s.name)
        # One matcher for every section's keywords (name and aliases count too) and the known names: one pass a text.
        owners: dict[str, list[str]] = {}
        for s in config.sections:
            for keyword in _spellings([*s.keywords, *s.aliases, s.name]):
                owners.setdefault(keyword.strip(), []).append(s.name)
        known = gazetteer().spellings if config.newsletter.known_names else {}
        self.matcher = Matcher([*owners, *known])
        self._owners = [tuple(owners.get(k, ())) for k in self.matcher.keywords]  # the sections of each keyword
        self._known = [known.get(k) for k in self.matcher.keywords]  # the known name each keyword spells, if any
        self._implied: dict[str, set[str]] = {}  # a word a known name implies -> the sections it finds

    def _sections_of(self, word: str) -> set[str]:
        """Return the sections whose keywords find ``word`` (a country or topic a known name implies)."""
        found = self._implied.get(word)
        if found is None:
            found = self._implied[word] = {o for i, _ in self.matcher.find(written(word)) for o in self._owners[i]}
        return found

    def place(self, item: Item, *, closing: bool = False, also: tuple[Item, ...] = ()) -> Placement:
        """Return the section for ``item`` and the reason.

        ``closing``: the item ends a briefing, unheaded. ``also``: the same story from other
        sources, whose mentions count too.
        """
        if item.forced_section:
            return Placement(item.forced_section, f"source {item.source_name!r} is pinned to this section")
        if item.label and fold(item.label).strip() in self.names:
            return Placement(self.names[fold(item.label).strip()], f"inline heading {item.label!r}")
        text = body_text(item)
        if closing and not item.label and is_outlook(text):
            said = ", ".join(f"“{c}”" for c in dict.fromkeys(c.casefold() for c in cues(text)))
            where = self.outlook or self.catch_all
            return Placement(where, f"the closing outlook of a briefing (it looks ahead: {said})")
        found = self.mentions(item, text)
        for other in also:
            found = _added(found, self.mentions(other, body_text(other)))
        ranked = sorted(found, key=lambda m: (-m.score, self.order.index(m.section)))
        if not ranked:
            return Placement(self.catch_all, "no section matched")
        place = self._place_first(ranked)
        if place is not None:
            return Placement(place.section, f"mentions {place.describe()} (a place goes before a topic)")
        top = ranked[0]
        if top.score >= MIN_SCORE and _clear(ranked) and top.score > SHARE * sum(m.score for m in ranked):
            return Placement(top.section, f"mentions {top.describe()}")
        seen = "; ".join(f"{m.describe()} ({m.section})" for m in ranked[:3])
        if top.score < MIN_SCORE:
            return Placement(self.catch_all, f"only passing mentions: {seen}")
        if not _clear(ranked):
            return Placement(self.catch_all, f"no clear section, as many mentions of another: {seen}")
        return Placement(self.catch_all, f"only passing mentions, spread over several sections: {seen}")

    def _place_first(self, ranked: list[Mentions]) -> Mentions | None:
        """Return the place section that goes before any topic, if one does (see the module's docstring)."""
        places = [m for m in ranked if m.section in self.places and m.score >= MIN_SCORE]
        named = [m for m in ranked if m.headline]
        if named:  # the headline names sections: a place goes first only when it is the one place named
            places = [m for m in places if m.headline]
            return places[0] if len(places) == 1 and sum(m.section in self.places for m in named) == 1 else None
        return places[0] if places and _clear(places) else None

    def mentions(self, item: Item, text: str) -> list[Mentions]:
        """Return, for each section whose keywords occur in ``item``, how often and where."""
        found: dict[str, Mentions] = {}
        headline = [item.label or ""]
        if item.title != item.label and not text.startswith(item.title.rstrip("…").rstrip()):
            headline.append(item.title)
        elif not item.label:  # a paragraph with no heading: its opening sentence says what it is about
            opening = _FIRST_SENTENCE.match(text).group()  # type: ignore[union-attr]
            headline.append(opening)
            text = text[len(opening):]
        for part, tokens in [*(("headline", written(h)) for h in headline if h), ("text", written(text))]:
            taken: set[tuple[str, int]] = set()  # a word counts once per section
            names: list[tuple[Known, str, int]] = []
            for index, position in self.matcher.find(tokens):
                keyword = self.matcher.keywords[index]
                if (known := self._known[index]) is not None and as_listed(keyword, tokens, position):
                    names.append((known, keyword, position))
                for owner in self._owners[index]:
                    if (owner, position) in taken:
                        continue
                    taken.add((owner, position))
                    mentions = found.setdefault(owner, Mentions(owner))
                    mentions.total[keyword] += 1
                    if part == "headline" and not (owner in self.places and bystander(tokens, position, keyword)):
                        mentions.headline[keyword] += 1
            for name in outermost(names):
                self._count_known(name, tokens, part == "headline", taken, found)
        return list(found.values())

    def _count_known(self, name: Found, tokens: list[str], headline: bool, taken: set[tuple[str, int]],
                     found: dict[str, Mentions]) -> None:
        """Count a known name as a mention of each section its country or topic finds ("CNPC (China)")."""
        span = range(name.position, name.position + len(words(name.spelling)))
        known = name.known
        for word in known.implies:
            # A hired company's country is a passing mention: Rosatom building a plant for Kazakhstan.
            said = headline and (word != known.country or known.kind != "company" or not hired(tokens))
            for owner in self._sections_of(word):
                if any((owner, p) in taken for p in span):  # a section's own keyword said it already
                    continue
                if word == known.country and known.kind not in OWN_COUNTRY and self.places and owner not in self.places:
                    continue  # a firm's country, in a section not about a place (OWN_COUNTRY)
                taken.add((owner, name.position))
                keyword = f"{name.known.name} ({word})"
                mentions = found.setdefault(owner, Mentions(owner))
                mentions.total[keyword] += 1
                if said and not (owner in self.places and bystander(tokens, name.position, name.spelling)):
                    mentions.headline[keyword] += 1

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
        # The catch-all goes last even when it is also configured, and only once; then the outlook.
        ends = [self.catch_all, *([self.outlook] if self.outlook and self.outlook not in self.order else [])]
        order = [*(n for n in self.order if n not in ends),
                 *(n for n in buckets if n not in self.order and n not in ends), *dict.fromkeys(ends)]
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


def _spellings(words: list[str]) -> list[str]:
    """Return one spelling of each word (the last given), but a lower-case one over a capital.

    A keyword in lower case is a common word, which may begin a compound ("газ" finds
    "газопровод"); the same word given again as an alias ("Газ") must not make it a name.
    """
    chosen: dict[str, str] = {}
    for word in (w.strip() for w in words):
        key = fold(word)
        if word and not (chosen.get(key, "")[:1].islower() and word[:1].isupper()):
            chosen[key] = word
    return list(chosen.values())
