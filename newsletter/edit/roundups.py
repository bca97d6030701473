"""Roundups: a briefing paragraph that retells several stories, and whether it retells a given item.

An editor's briefing often gives one paragraph to a topic and tells several stories in it,
a sentence or two each ("Oil." covers an oilfield's record output, a terminal's loadings
and a pipeline deal). Such a paragraph shares too little with any one of the items it
retells to be that item's story by ``likeness``: it states much the item does not. So the
paragraph is read sentence by sentence, and an item is *told within* it when a few
sentences in a row (at most ``SPAN``: the item's *part* of the paragraph) tell what the
item tells:

* they state ``MIN_PARTICULARS`` of the item's particulars (names, figures, dates, a month,
  a year still ahead), never a place alone;
* what they state is mostly the item's (``MIN_ABOUT`` of the weight of their facts), so the
  part is about the item's story, not another one that names the same places;
* and the words they write in lower case — what happened, not whom it names — are mostly
  the item's words too (``MIN_WORDS`` of them, as stems), which tells a retelling from
  another story about the same people.

A roundup often closes a sentence with a comment of its own, or with another story, after a
comma or a dash ("KazMunayGas will also double shipments through the Baku–Tbilisi–Ceyhan
pipeline next year, a small but symbolic step away from the Russian route"). So the words
are also counted up to the end of the last clause of the part's last sentence that states
one of the item's facts. The clauses left then say little: when they write fewer than ``MIN_PLAIN``
words, every one must be the item's, ``MIN_SAME`` at least ("halt shipments through the
… pipeline" is another story about the same pipeline, by one word). Clauses that give a day
or a figure of their own are news, not a comment, and are never left out: "Kazatomprom,
which halted Inkai on Monday, named a new chief on Thursday" recalls the halt and tells
another story.

Across languages (a Russian feed item, an English paragraph) stems cannot be compared; only
the international words both write can (``cognates``: "протокол" and "protocol"). Most
everyday words have none, so a share of them says nothing: the part must write
``MIN_COGNATES`` of the item's cognates instead, none of them one the batch writes often
("region") or one every story of two countries' dealings writes ("investment",
"memorandum": ``cognates.EVERYDAY``), beside the particulars above. And since these words
are few and say little of what happened, two more things are asked:

* the part is one sentence (``SPAN_ACROSS``): three such words gathered from two sentences
  may be two stories, one of them named in passing;
* the part and the item do not disagree on figures: when each states a figure (a year
  aside) and none of the part's is the item's, even roughly, the part tells another story
  ("$500 million" for a terminal is not "12%" less transit through it). Within a language
  the words say it; across, the figures are the words that can.

Two stories about the same countries that share a word or two ("протокол", "мигрантов")
stay apart.

A paragraph of another briefing is told within one only when the part tells most of it
(``MIN_TOLD_PARAGRAPH`` of what it states): two roundups that share one story are not one.

``cluster`` folds such an item into the paragraph's story: the issue shows the paragraph,
with the item's source as "also reported by".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from newsletter.edit.batch import Batch
from newsletter.edit.likeness import APART_DAYS, ahead, dated
from newsletter.edit.quantities import near
from newsletter.edit.stories import is_paragraph

SPAN = 3  # sentences in a row that may tell one story
MIN_PARTICULARS = 2
MIN_ABOUT = 0.5
MIN_WORDS = 0.55
MIN_PLAIN = 5  # ... of a part that writes at least this many words in lower case: "Shares fell." says too little
MIN_SAME = 3  # ... or, of the clauses that tell the item, this many words, all of them the item's
MIN_TOLD_PARAGRAPH = 0.5
MIN_COGNATES = 3  # across languages: rare cognates of the item that the part writes (instead of ``MIN_WORDS``)
SPAN_ACROSS = 1  # ... in this many sentences

Part = tuple[int, int, float, tuple[str, ...]]  # a part that may tell the item: first, end, words, cognates


@dataclass(frozen=True)
class Telling:
    """How a paragraph's best part tells an item: particulars, what it states of the item's, and why."""

    particulars: int  # the item's names, figures and dates that the part states
    told: float  # the weight of those over the weight of all the item states
    about: float  # ... over the weight of all the part states
    words: float  # the share of the part's words in lower case (across languages: of its cognates) the item writes too
    sentences: tuple[int, int]  # the part: from this sentence of the paragraph up to (not with) that one
    days: float = 0.0
    least: float = 0.0  # the least ``told`` that makes a retelling: a paragraph must be mostly told
    cognates: tuple[str, ...] = ()  # across languages: the part's words whose rare cognates the item writes
    across: bool = False  # the item and the paragraph are in two languages
    conflict: bool = False  # across languages: each states figures, and none of the part's is the item's

    @property
    def within(self) -> bool:
        """Return whether the paragraph retells the item."""
        said = len(self.cognates) >= MIN_COGNATES and not self.conflict if self.across else self.words >= MIN_WORDS
        return (self.days <= APART_DAYS and self.particulars >= MIN_PARTICULARS and self.about >= MIN_ABOUT
                and said and self.told >= self.least)

    @property
    def strength(self) -> tuple[int, float]:
        """Return a sort key: more particulars, then more of the same words, say more."""
        return (self.particulars, len(self.cognates) if self.across else self.words)

    @property
    def reason(self) -> str:
        """Return the evidence in words: "told in a briefing paragraph: 3 of the same particulars and words (0.83)"."""
        first, end = self.sentences
        where = f"sentence {first + 1}" if end == first + 1 else f"sentences {first + 1}–{end}"
        said = (f"the same words in another language ({', '.join(self.cognates)})" if self.across
                else f"the same words ({self.words:.2f})")
        return f"told in a briefing paragraph ({where}): {self.particulars} of the same particulars and {said}"


def telling(batch: Batch, item: int, paragraph: int) -> Telling | None:
    """Return how the paragraph at position ``paragraph`` of ``batch`` best tells the item at ``item``.

    None when no part of the paragraph could retell the item: they were published too far
    apart, or no part says it in the item's words (its cognates, across languages). The
    words are looked at first: they are cheap, and rule out most pairs.
    """
    facts = batch.facts[item]
    if not batch.totals[item]:
        return None
    a, b = batch.items[item], batch.items[paragraph]
    moment_a, moment_b = a.published_at or a.gathered_at, b.published_at or b.gathered_at
    days = abs((moment_a - moment_b).total_seconds()) / 86400
    if days > APART_DAYS:
        return None
    across = facts.lang != batch.facts[paragraph].lang
    parts = _cognate_parts(batch, item, paragraph) if across else _word_parts(batch, item, paragraph)
    if not parts:
        return None
    year = max(moment_a.year, moment_b.year)
    least = MIN_TOLD_PARAGRAPH if is_paragraph(a) else 0.0
    total, weights = batch.totals[item], batch.weights
    once = math.log(len(batch.facts) + 1) + 1  # the weight of a fact no other item states
    # The paragraph's heading ("Tajikistan.") is said of each of its sentences: what it names counts when the
    # item names it too.
    heading = batch.heading(paragraph) & facts.keys
    best: tuple[tuple[bool, float, int], Telling] | None = None
    for first, end, said, cognates in parts:
        keys = heading.union(*(batch.sentence_facts(paragraph, n) for n in range(first, end)))
        shared = facts.keys & keys | dated(keys, facts.quantities)  # "in January" tells "1 January"
        common = sum(weights.get(k, once) for k in shared)
        stated = sum(weights.get(k, once) for k in keys)
        particulars = (sum(1 for e in facts.entities if e & keys) + len(shared & facts.times)
                       + sum(1 for q in shared & facts.quantities if not q.endswith("y")) + len(ahead(shared, year))
                       + len(shared - facts.keys))
        conflict = across and _disagree(batch, item, paragraph, keys)
        told = Telling(particulars, common / total, common / stated if stated else 0.0, said, (first, end), days, least,
                       cognates, across, conflict)
        score = (told.within, told.told + told.words, first - end)  # the most of the item, in the fewest sentences
        if best is None or score > best[0]:
            best = (score, told)
    return best[1] if best else None


def _disagree(batch: Batch, item: int, paragraph: int, keys: frozenset[str]) -> bool:
    """Return whether the part of the paragraph stating ``keys`` and the item each state figures, none of them alike.

    Years are left aside ("2027y": a year names a plan, not a figure of the story); a figure
    one gives roughly ("about $500 million") agrees with the other's precise one (``near``).
    """
    facts, told = batch.facts[item], batch.facts[paragraph]
    mine, theirs = _figures(facts.quantities), _figures(keys & told.quantities)
    if not mine or not theirs or mine & theirs:
        return False
    rough = [(r, mine) for r in told.rough if r[:-1] in theirs] + [(r, theirs) for r in facts.rough]
    return not any(near(r, q) for r, others in rough for q in others)


def _word_parts(batch: Batch, item: int, paragraph: int) -> list[Part]:
    """Return the parts of the paragraph that say ``MIN_WORDS`` of what they say in the item's words (as stems)."""
    mine = batch.plain(item)
    sentences = batch.sentences(paragraph)
    parts: list[Part] = []
    for first in range(len(sentences)):
        words: Counter[str] = Counter()
        for end in range(first + 1, min(len(sentences), first + SPAN) + 1):
            words.update(sentences[end - 1])
            plain = sum(words.values())
            said = _shared(words, mine) / plain if plain >= MIN_PLAIN else 0.0
            if said < MIN_WORDS and plain >= MIN_PLAIN:
                said = _told_words(batch, item, paragraph, end - 1, words)
            if said >= MIN_WORDS:
                parts.append((first, end, said, ()))
    return parts


def _told_words(batch: Batch, item: int, paragraph: int, last: int, words: Counter[str]) -> float:
    """Return the share of the item's words among a part's plain ``words`` up to the end of the last clause of its
    last sentence (at ``last``) that states one of the item's facts; 0.0 when no clause is left out, when a clause
    left out gives a day or a figure (a year aside) the item does not, or when fewer than ``MIN_PLAIN`` words are
    left and not all of them (``MIN_SAME`` at least) are the item's.
    """
    clauses = batch.clauses(paragraph, last)
    keys = batch.facts[item].keys
    telling = [n for n, (_, facts) in enumerate(clauses) if facts.keys & keys]
    if not telling or telling[-1] == len(clauses) - 1:
        return 0.0
    left = clauses[telling[-1] + 1:]
    if any((facts.times | _figures(facts.quantities)) - keys for _, facts in left):
        return 0.0  # "…, named a new chief on Thursday": clauses with a day or a figure of their own are news
    told = words.copy()
    for plain, _ in left:
        told.subtract(plain)
    same = _shared(told, batch.plain(item))
    total = sum(n for n in told.values() if n > 0)
    return same / total if total >= MIN_PLAIN or same == total >= MIN_SAME else 0.0


def _shared(words: Mapping[str, int], mine: Mapping[str, int]) -> int:
    """Return how many of ``words`` (stems with their counts) are the item's (``mine``), each at most as often."""
    return sum(min(n, mine[w]) for w, n in words.items() if n > 0 and w in mine)


def _figures(quantities: Iterable[str]) -> set[str]:
    """Return the quantities that are figures of a story: years ("2027y") aside, which name a plan."""
    return {q for q in quantities if q[-1] != "y"}


def _cognate_parts(batch: Batch, item: int, paragraph: int) -> list[Part]:
    """Return the parts of the paragraph (in another language) that write ``MIN_COGNATES`` of the item's rare cognates."""
    mine = batch.cognates(item)
    if len(mine) < MIN_COGNATES:
        return []
    count = len(batch.sentences(paragraph))
    parts: list[Part] = []
    for first in range(count):
        found: dict[str, str] = {}
        for end in range(first + 1, min(count, first + SPAN_ACROSS) + 1):
            for key, word in batch.sentence_cognates(paragraph, end - 1).items():
                found.setdefault(key, word)
            shared = batch.common.shared(found, mine)
            if len(shared) >= MIN_COGNATES:
                parts.append((first, end, len(shared) / len(found), tuple(shared)))
    return parts
