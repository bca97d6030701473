"""Likeness: whether two items tell the same story, judged by the facts they share, and why in words.

Two items tell the same story when they state the same particulars. What counts:

* a shared quantity (a number, a share, a date or a time, not a year) is the strongest
  sign: a paraphrase or a translation keeps its numbers; a figure one item gives roughly
  ("just over 2 million") and the other precisely ("2.02 million") is the same figure;
* shared names count once per person, place or body ("Kassym-Jomart Tokayev" is one);
* a month named without a day or a day of the week ("in September", "on Tuesday"), and a
  year still ahead when the items were published ("from 2028"), count as a particular
  beside a shared precise quantity or two quantities, never as one, nor beside one round
  figure ("cut 2027 output by 10%" and "raise 2027 exports by 10%" are two stories); so
  does a month one item names ("in January") and the other dates ("1 January");
* each shared fact is weighed by its rarity in the batch, and what the items share is
  compared with what the shorter of them states (a retelling may add, but keeps most of
  what it retells);
* within one language, the similarity of their stemmed words; across languages, what they
  are about (``lexicon``: "flu" and "school" in "Flu closes Astana schools" and "В Астане из-за
  гриппа закрыли школы"), when two subjects or more are all that either is about.

Two precise figures or more are enough without a name when they are all the figures each
item gives ("harvest hits 26.7 million tonnes, 11 million for export", in English and in
Kazakh); a date, a time, a round figure or a small count is not precise (``precise``): "12
dead, 40 hurt" or "10% from 1 January" are told of many stories.

A story that goes on is a new story: an item published ``FOLLOW_UP_DAYS`` or more after
the other whose headline names someone the earlier item never mentions ("Tokayev dismisses
the energy minister after the Ekibastuz heating failure", three days after the failure)
tells what happened next, however many of the earlier item's figures its text recalls. What
a headline names before a colon is its topic or its speaker ("Аккенженов: Казахстан
построит третий НПЗ"), not who acts; and a headline that gives the story's own figure
("Токаев подписал закон о повышении НДС до 16%") retells it. The rules that need no name
(precise figures alone, subjects across languages) join only items published within
``FOLLOW_UP_DAYS`` of each other: a figure that stands (a price cap, a base rate) and the
same two presidents on the same subject come back in other stories days later.

A place alone, or a person alone, never makes two items one story: two stories about
Khorgos in one week stay two. Merging two different stories hides one of them, which is
worse than showing one story twice, so every rule asks for several particulars at once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.edit.batch import Batch
from newsletter.edit.facts import Facts
from newsletter.edit.quantities import describe, near, precise

# With a shared quantity: this many shared particulars (quantities and names) and this much overlap
# (less with two quantities or more).
MIN_PARTICULARS = 3
MIN_OVERLAP = 0.4
MIN_OVERLAP_TWO = 0.25
# Without one: this many shared names and this much of what each item states.
MIN_NAMES = 4
MIN_NAME_OVERLAP = 0.5
MIN_NAME_COVERAGE = 0.45
# Within one language: this similarity of words, with two shared particulars and ``MIN_OVERLAP``.
MIN_SIMILARITY = 0.7
MIN_WORDS = 8  # ... and each item this many different words: two headlines of two words say too little
MIN_SUBJECTS = 2  # across languages instead: this many subjects (``lexicon``), the same on both sides and no other
APART_DAYS = 5  # items published further apart than this need one more shared quantity
FOLLOW_UP_DAYS = 2  # a later item this many days on, naming someone new in its headline, goes on with the story
_DATE = re.compile(r"\d\d-\d\d")  # a quantity that is a day of a month: "01-15"


@dataclass(frozen=True)
class Evidence:
    """What two items share: quantities, names (one per entity), overlap, word similarity, days apart."""

    quantities: tuple[str, ...]
    names: int
    overlap: float  # the weight of what they share over the weight of what the shorter states
    coverage: float  # ... over the weight of what the longer states
    similarity: float
    days: float
    words: int = 0  # the different words of the shorter item
    times: tuple[str, ...] = ()  # shared months without a day, days of the week and years ahead: "m09", "d2", "2028y"
    conflict: bool = False  # each states figures, and none of them the same: "route 1 opens" is not "route 2 opens"
    follow_up: bool = False  # the later item's headline names someone new, days later: what happened next
    subjects: tuple[str, ...] = ()  # across languages: what both are about, when it is all either is about
    figures_agree: bool = False  # each gives the same figures (years aside) and no other, two of them precise

    @property
    def same(self) -> bool:
        """Return whether the evidence says the two items tell one story."""
        if self.follow_up:
            return False
        needed = 1 + (self.days > APART_DAYS)
        quantities = len(self.quantities)
        # A month or a year ahead adds to a precise figure or two; beside one round figure ("10%") it says little.
        times = len(self.times) if quantities >= 2 or any(map(precise, self.quantities)) else 0
        if quantities >= needed and quantities + self.names + times >= MIN_PARTICULARS + needed - 1:
            return self.overlap >= (MIN_OVERLAP if quantities < 2 else MIN_OVERLAP_TWO)
        close = self.days < FOLLOW_UP_DAYS  # a translation or a paraphrase comes within hours, not a week on
        if close and quantities >= 2 and self.figures_agree and self.overlap >= MIN_OVERLAP:
            return True
        if self.days > APART_DAYS:
            return False
        if self.names >= MIN_NAMES and self.overlap >= MIN_NAME_OVERLAP and self.coverage >= MIN_NAME_COVERAGE:
            return True
        if len(self.quantities) + self.names < 2 or self.overlap < MIN_OVERLAP or self.conflict:
            return False
        return (self.similarity >= MIN_SIMILARITY and self.words >= MIN_WORDS) or (close and len(self.subjects) >= MIN_SUBJECTS)

    @property
    def strength(self) -> tuple[int, int, float]:
        """Return a sort key: more shared quantities, then names, then overlap, say more."""
        return (len(self.quantities), self.names, self.overlap)

    @property
    def reason(self) -> str:
        """Return the evidence in words: "same story: the same figures (1.2 billion, 49%) and 3 of the same names"."""
        parts = []
        if self.quantities:
            parts.append(f"the same figures ({', '.join(describe(q) for q in self.quantities[:3])})")
        if self.names:
            parts.append("the same name" if self.names == 1 else f"{self.names} of the same names")
        if self.times:
            parts.append(f"the same date ({', '.join(describe(t) for t in self.times)})")
        if self.similarity >= MIN_SIMILARITY:
            parts.append(f"the same words ({self.similarity:.2f})")
        elif len(self.subjects) >= MIN_SUBJECTS:
            parts.append(f"the same subjects in another language ({', '.join(self.subjects)})")
        return "same story: " + " and ".join(parts)


def possible(batch: Batch, a: int, b: int) -> bool:
    """Return whether two items share enough to be worth comparing: a figure, or two names."""
    fa, fb = batch.facts[a], batch.facts[b]
    return any(not q.endswith("y") for q in fa.quantities & fb.quantities) or len(fa.names & fb.names) >= 2


def agreeing(rough: Facts, precise: Facts) -> list[tuple[str, str]]:
    """Return the figures ``rough`` gives roughly that ``precise`` states precisely, each with its precise one."""
    found: list[tuple[str, str]] = []
    if not rough.rough:
        return found
    for r in sorted(rough.rough):
        if r[:-1] in precise.quantities:
            continue  # the same figure: shared already
        match = next((p for p in sorted(precise.quantities - rough.quantities) if near(r, p)), None)
        if match is not None:
            found.append((r[:-1], match))
    return found


def dated(times: Iterable[str], quantities: Iterable[str]) -> set[str]:
    """Return the months among ``times`` that ``quantities`` give a day of: "in January" is "1 January" too."""
    if not times:
        return set()
    months = {f"m{q[:2]}" for q in quantities if _DATE.fullmatch(q)}
    return {t for t in times if t in months}


def ahead(keys: frozenset[str], year: int) -> set[str]:
    """Return the years among ``keys`` after ``year``: "2028y" from 2026 is a plan's date, not a year's name."""
    return {k for k in keys if k[-1] == "y" and k[:-1].isdigit() and int(k[:-1]) > year}


def compare(batch: Batch, a: int, b: int) -> Evidence:
    """Return what the items at positions ``a`` and ``b`` of ``batch`` share."""
    fa, fb = batch.facts[a], batch.facts[b]
    shared = fa.keys & fb.keys
    weights = batch.weights
    rough = [*agreeing(fa, fb), *agreeing(fb, fa)] if fa.rough or fb.rough else []  # just over 2 million: 2.02
    quantities = tuple(sorted([*(q for q in fa.quantities & fb.quantities if not q.endswith("y")),
                               *(f"~{r}" for r, _ in rough)]))
    names = min(sum(1 for e in fa.entities if e & fb.names), sum(1 for e in fb.entities if e & fa.names))
    totals = sorted((batch.totals[a], batch.totals[b]))
    common = sum(weights[k] for k in shared) + sum(min(weights[r], weights[p]) for r, p in rough)
    overlap, coverage = (min(1.0, common / totals[0]), common / totals[1]) if totals[0] else (0.0, 0.0)
    ia, ib = batch.items[a], batch.items[b]
    moment_a, moment_b = ia.published_at or ia.gathered_at, ib.published_at or ib.gathered_at
    days = abs((moment_a - moment_b).total_seconds()) / 86400
    conflict = not quantities and all(any(q[-1] != "y" for q in f.quantities) for f in (fa, fb))
    agree = ({q for q in fa.quantities if q[-1] != "y"} == {q for q in fb.quantities if q[-1] != "y"}
             and sum(map(precise, quantities)) >= 2)
    times = fa.times & fb.times
    if any(k[-1] == "y" for k in shared):
        times |= ahead(shared, max(moment_a.year, moment_b.year))
    if fa.times or fb.times:
        times |= dated(fa.times, fb.quantities) | dated(fb.times, fa.quantities)
    evidence = Evidence(quantities, names, overlap, coverage, 0.0, days, times=tuple(sorted(times)), conflict=conflict,
                        figures_agree=agree)
    # The words are read only where they could decide: one language, close in time, sharing particulars.
    if not (evidence.same or fa.lang != fb.lang or days > APART_DAYS or len(quantities) + names < 2
            or overlap < MIN_OVERLAP):
        words = min(len(batch.words(a)), len(batch.words(b)))
        evidence = dataclasses.replace(evidence, similarity=batch.similarity(a, b), words=words)
    if not evidence.same and fa.lang != fb.lang and len(quantities) + names >= 2 and overlap >= MIN_OVERLAP:
        mine, theirs = batch.subjects(a), batch.subjects(b)
        if mine == theirs:  # across languages, the words of what happened: the same subjects, and no other
            evidence = dataclasses.replace(evidence, subjects=tuple(sorted(mine)))
    if evidence.same and days >= FOLLOW_UP_DAYS:  # the headline is read only when it could undo a merge
        later = a if moment_a > moment_b else b
        named, figures = batch.headline(later)
        recalled = figures & {*quantities, *evidence.times}  # a retelling's headline gives the story's own figure
        if not recalled and any(not e & batch.facts[a + b - later].names for e in named):
            evidence = dataclasses.replace(evidence, follow_up=True)
    return evidence
