"""The facts of a batch of items: how rare each fact is among them, and which items may tell the same story.

``Batch`` reads a list of items once (``facts.Reader``) and says how rare each fact is among
them (a name every item carries tells nothing), and which cognates they write too often to
tell anything (``Batch.common``). ``Batch.candidates`` pairs items that share two rare
facts, found through an index from each rare fact to the items that state it, looked up
for an item's ``RAREST`` rarest facts: an item meets only the few items that share a rare
fact with it, never every other item, so the cost grows with the batch, not its square.
The rest of an item (its words, sentences, clauses, cognates, subjects and headline) is
read when a comparison first asks for it, and kept.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from newsletter.edit import cognates
from newsletter.edit.facts import (
    TEXT_LIMIT,
    Facts,
    Reader,
    lowercase_words,
    text_of,
    year_of,
)
from newsletter.edit.lexicon import subjects
from newsletter.edit.stories import is_paragraph
from newsletter.gather.readers.document import sentences
from newsletter.item import Item

K = TypeVar("K")
V = TypeVar("V")

RAREST = 6  # an item looks for partners through this many of its rarest facts
CROWD = 0.01  # a fact more than this share of the batch carries is not a way to find partners
MIN_CROWD = 40
SAMPLE = 1_000  # items read to learn which words the batch writes in lower case

_CLAUSE = re.compile(r"[,;:]\s+|\s+[—–-]\s+")  # between the clauses of a sentence ("2,000" is one figure)


def sample(items: Sequence[Item]) -> Sequence[Item]:
    """Return ``SAMPLE`` items spread over ``items``, or all when fewer: common words are common everywhere."""
    return items[::max(1, len(items) // SAMPLE)]


class Batch:
    """The facts of a list of items and how many of them state each fact."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        sampled = sample(items)
        lowercase = lowercase_words(sampled)
        reader = Reader(lowercase)
        self.facts = [reader.read(i) for i in items]
        self.counts: Counter[str] = Counter(k for f in self.facts for k in f.keys)
        size = len(self.facts) + 1
        # How much sharing a fact says: the rarer in the batch, the more.
        self.weights = {k: math.log(size / n) + 1 for k, n in self.counts.items()}
        self.totals = [sum(self.weights[k] for k in f.keys) for f in self.facts]  # what each item states, weighed
        self._reader = reader
        self.common = cognates.Common(lowercase, len(sampled))  # the cognates that sharing one tells nothing
        self._cognates: dict[int, dict[str, str]] = {}
        self._subjects: dict[int, frozenset[str]] = {}
        self._sentence_cognates: dict[tuple[int, int], dict[str, str]] = {}
        self._words: dict[int, dict[str, int]] = {}
        self._plain: dict[int, dict[str, int]] = {}
        self._sentences: dict[int, list[str]] = {}
        self._sentence_words: dict[int, list[dict[str, int]]] = {}
        self._sentence_facts: dict[tuple[int, int], frozenset[str]] = {}
        self._clauses: dict[tuple[int, int], list[tuple[dict[str, int], Facts]]] = {}
        self._headlines: dict[int, tuple[tuple[frozenset[str], ...], frozenset[str]]] = {}

    def weight(self, key: str) -> float:
        """Return how much sharing ``key`` says: the rarer in the batch, the more."""
        return self.weights[key]

    def words(self, position: int) -> dict[str, int]:
        """Return the stemmed words of the item at ``position`` with their counts (read once, when first asked)."""
        return _once(self._words, position, lambda: self._reader.words(self.items[position], self.facts[position].lang))

    def plain(self, position: int) -> dict[str, int]:
        """Return the stems of the words the item at ``position`` writes in lower case, with their counts."""
        return _once(self._plain, position,
                     lambda: self._reader.plain(self._whole(position), self.facts[position].lang))

    def sentences(self, position: int) -> list[dict[str, int]]:
        """Return the plain words (``Reader.plain``) of each sentence of the text of the item at ``position``."""
        found = self._sentence_words.get(position)
        if found is None:
            texts = self._sentences[position] = sentences(" ".join(self.items[position].body[:TEXT_LIMIT].split()))
            lang = self.facts[position].lang
            found = self._sentence_words[position] = [self._reader.plain(text, lang) for text in texts]
        return found

    def sentence_facts(self, position: int, index: int) -> frozenset[str]:
        """Return the facts of sentence ``index`` of the item at ``position`` (``sentences`` first), read once."""
        found = self._sentence_facts.get((position, index))
        if found is None:
            text, lang = self._sentences[position][index], self.facts[position].lang
            year = year_of(self.items[position])
            found = self._sentence_facts[(position, index)] = self._reader.read_text("", text, lang, year).keys
        return found

    def clauses(self, position: int, index: int) -> list[tuple[dict[str, int], Facts]]:
        """Return the plain words and the facts of each clause of sentence ``index`` of the item at ``position``
        (``sentences`` first): its pieces between commas, semicolons, colons and dashes."""
        text, lang, year = self._sentences[position][index], self.facts[position].lang, year_of(self.items[position])
        return _once(self._clauses, (position, index), lambda: [
            (self._reader.plain(c, lang), self._reader.read_text("", c, lang, year)) for c in _CLAUSE.split(text)])

    def cognates(self, position: int) -> dict[str, str]:
        """Return the cognate keys of the words the item at ``position`` writes in lower case, each with its word."""
        return _once(self._cognates, position,
                     lambda: self._reader.cognates(self._whole(position), self.facts[position].lang))

    def subjects(self, position: int) -> frozenset[str]:
        """Return what the item at ``position`` is about ("flu", "school": ``lexicon``), in any of its languages."""
        return _once(self._subjects, position, lambda: subjects(self._whole(position)))

    def sentence_cognates(self, position: int, index: int) -> dict[str, str]:
        """Return the cognates (``cognates``) of sentence ``index`` of the item at ``position``.

        Call ``sentences`` first.
        """
        found = self._sentence_cognates.get((position, index))
        if found is None:
            text, lang = self._sentences[position][index], self.facts[position].lang
            found = self._sentence_cognates[(position, index)] = self._reader.cognates(text, lang)
        return found

    def _whole(self, position: int) -> str:
        """Return the headline and the text read (``text_of``) of the item at ``position``."""
        item = self.items[position]
        return f"{item.title}\n{text_of(item)}"

    def heading(self, position: int) -> frozenset[str]:
        """Return the facts of the inline heading of the item at ``position`` ("Tajikistan."), if it has one."""
        label = self.items[position].label
        lang, year = self.facts[position].lang, year_of(self.items[position])
        return self._reader.read_text(label, "", lang, year).keys if label else frozenset()

    def headline(self, position: int) -> tuple[tuple[frozenset[str], ...], frozenset[str]]:
        """Return the names of the headline of the item at ``position`` that its text names too (one per
        entity), and the headline's figures; none for a paragraph.

        A capitalised word of a headline alone may be no name ("Thousands Shiver in Temirtau",
        "Мороз и ни капли горячей воды"); what comes before a colon is the headline's topic or
        speaker ("Аккенженов: …"), and a briefing paragraph's heading names its topic
        ("Politics."): neither says who acts.
        """
        item = self.items[position]
        title = "" if is_paragraph(item) else item.title.rpartition(":")[2]
        lang, year = self.facts[position].lang, year_of(self.items[position])

        def read() -> tuple[tuple[frozenset[str], ...], frozenset[str]]:
            if not title.strip():
                return (), frozenset()
            text = self._reader.read_text("", text_of(item), lang, year).names  # a name the text confirms
            said = self._reader.read_text(title, "", lang, year)
            return tuple(e for e in said.entities if e & text), said.quantities

        return _once(self._headlines, position, read)

    def similarity(self, a: int, b: int) -> float:
        """Return the cosine similarity of two items' stemmed words (0 across languages)."""
        if self.facts[a].lang != self.facts[b].lang:
            return 0.0
        wa, wb = self.words(a), self.words(b)
        small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
        dot = sum(n * large[w] for w, n in small.items() if w in large)
        norms = math.sqrt(sum(n * n for n in wa.values()) * sum(n * n for n in wb.values()))
        return dot / norms if norms else 0.0

    def candidates(self) -> Iterator[tuple[int, int]]:
        """Yield each pair of positions ``(i, j)``, ``i < j``, that shares one of either's rarest facts.

        Facts are names and quantities; one that more than ``CROWD`` of the batch states
        (``MIN_CROWD`` items at least) is not rare, and a pair must share two rare facts.
        """
        crowd = max(MIN_CROWD, int(CROWD * len(self.facts)))
        counts = self.counts
        index: defaultdict[str, list[int]] = defaultdict(list)  # each rare fact's positions, in order
        chosen: list[list[str]] = []
        keys: list[frozenset[str]] = []  # each item's rare facts
        for position, facts in enumerate(self.facts):
            rare = [k for k in facts.keys if 1 < counts[k] <= crowd]
            for key in rare:
                index[key].append(position)
            keys.append(frozenset(rare))
            if len(rare) > RAREST:  # else it looks up all of them, in any order
                rare.sort(key=lambda k: (counts[k], k))
            chosen.append(rare[:RAREST])
        # An item with no more rare facts than it looks up meets every item it shares two with: it
        # looks up all of them. Only an item with more may share two with one that never meets it.
        many = {position for position, rare in enumerate(keys) if len(rare) > RAREST}
        for position, rare in enumerate(chosen):
            mine = keys[position]
            later: set[int] = set()  # the items after this one it meets
            twice: set[int] = set()  # ... through two of its rarest facts, which is enough
            earlier: set[int] = set()  # the items before it that it meets and that may not meet it
            for key in rare:
                found = index[key]
                cut = bisect_left(found, position)
                after = found[cut + 1:]  # the lists are in order, and hold ``position`` itself at ``cut``
                twice.update(later.intersection(after))
                later.update(after)
                if many:
                    earlier.update(many.intersection(found[:cut]))
            if len(mine) > len(rare):  # some of its rare facts were not looked up: one of those may be a second
                twice.update(other for other in later - twice if len(mine & keys[other]) >= 2)
            pairs = [(position, other) for other in twice]
            # An earlier item that did not meet this one (none of its rarest facts is one of this one's).
            pairs.extend((other, position) for other in earlier
                         if mine.isdisjoint(chosen[other]) and len(mine & keys[other]) >= 2)
            yield from sorted(pairs)


def _once(cache: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """Return ``cache[key]``, made by ``make`` and kept the first time it is asked for."""
    found = cache.get(key)
    if found is None:
        found = cache[key] = make()
    return found
