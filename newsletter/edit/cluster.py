"""Clusters: find the same story carried by several sources, so an issue shows it once.

Two items are the same story when they link to the same page (whatever their language),
when they carry the same headline, when their text is nearly the same, or when they state
the same particulars — figures, dates and names, compared across English, Russian and
Kazakh (``facts`` reads them, ``likeness`` weighs them): a paraphrase by another outlet,
a translation, a briefing paragraph that retells a feed item.

Nearly the same text is found with MinHash and locality-sensitive hashing (``minhash``),
the same particulars through an index from each rare fact to the items that state it
(``batch.Batch.candidates``): each item is compared only with the few items that share a
hash band or a rare fact with it, never with every other item, so clustering stays fast at
tens of thousands of items.

Only items of different sources (or different documents of one folder) are merged by
headline, text or particulars: a feed repeats its own headlines, and the paragraphs of
one briefing are different stories. Nor does a story ever take in two items that could
not be merged directly: a chain of likenesses (A like B, B like C) stops there. The
strongest likenesses are joined first.

A briefing paragraph that retells several stories, a sentence or two each, in its language
or another (``roundups``), is the story of each item it retells: those items are *told
within* it and fold into its story, even several items of one feed, and the issue shows
the paragraph first. A paragraph that retells only a story already told within another
paragraph folds in there too; two paragraphs that each retell stories of their own stay
apart.

``repeats`` applies the same rules to tell which waiting items repeat a story an issue
already sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import parse_qsl, urlencode, urlsplit

from newsletter.edit import minhash
from newsletter.edit.batch import Batch
from newsletter.edit.keywords import words
from newsletter.edit.likeness import Evidence, compare, possible
from newsletter.edit.names import language as language_of
from newsletter.edit.roundups import Telling, telling
from newsletter.edit.stories import Stories, apart, is_paragraph, origin, separate
from newsletter.item import Item

THRESHOLD = 0.5  # Jaccard similarity of word pairs above which two texts tell the same story
LEAD_WORDS = 80  # compare the opening of the text: copies differ most in what they append
MIN_PAIRS = 8  # texts shorter than this are compared by link and headline only
MIN_TITLE_WORDS = 4
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|yclid|mc_cid|mc_eid|ref|ref_src|cmpid|at_medium|at_campaign)$")


@dataclass(frozen=True)
class Cluster:
    """One story: the item to show first, then the same story from elsewhere, and why."""

    items: tuple[Item, ...]
    reason: str = ""  # "same link", "same headline", "nearly the same text (0.83)"; "" when alone
    told: frozenset[int] = frozenset()  # the ids of the other stories that the first (a briefing paragraph) retells

    @property
    def first(self) -> Item:
        """Return the item that represents the story."""
        return self.items[0]


def canonical_link(url: str | None) -> str | None:
    """Return ``url`` in a form that is equal for the same page: no scheme, ``www.``, tracking or fragment."""
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return url.strip()
    host = parts.netloc.lower().removeprefix("www.")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k.lower())))
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{query}" if query else "")


def pairs(item: Item) -> set[str]:
    """Return the word pairs of an item's headline and the opening of its text."""
    tokens = words(item.title[:300])[:30] + words(item.body[:LEAD_WORDS * 25])[:LEAD_WORDS]
    return {f"{a} {b}" for a, b in pairwise(tokens)}


def find(items: Iterable[Item], *, threshold: float = THRESHOLD, language: str | None = None,
         sources: Sequence[str] = ()) -> list[Cluster]:
    """Return the stories among ``items``, in the order of their first item.

    A shared link merges any two items; a shared headline, nearly the same text or the
    same particulars merge only items of different sources; an item told within a briefing
    paragraph of another origin joins the paragraph's story. Each story shows first the
    item with the most text, preferring one in ``language`` (the newsletter's); between
    equals, the one whose source comes first in ``sources`` (the configured order, so the
    choice does not depend on which source happened to answer first). A story told within a
    paragraph shows the paragraph first (in ``language``, when it retells only this story);
    when the paragraph retells other stories too, those follow its own copies.
    """
    items = list(items)
    by_id = {i.id: i for i in items}
    stories = Stories(items)
    reasons: dict[int, str] = {}

    def join(a: Item, b: Item, reason: str, *, force: bool = False) -> None:
        if stories.join(a, b, force=force):
            reasons.setdefault(a.id, reason)
            reasons.setdefault(b.id, reason)

    for group in _same(items, lambda i: canonical_link(i.link)):
        for other in group[1:]:
            join(group[0], other, "same link", force=True)
    for group in _same((i for i in items if not i.label), _headline):
        for other in group[1:]:
            if separate(group[0], other):
                join(group[0], other, "same headline")
    _join_similar(items, threshold, join)
    alike, retold = _related(items)
    for a, b, evidence in alike:
        join(a, b, evidence.reason)
    stories.expect((item, paragraph) for item, paragraph, _ in retold)
    for item, paragraph, how in retold:
        if stories.tell(item, paragraph):
            reasons.setdefault(item.id, how.reason)
            reasons.setdefault(paragraph.id, how.reason)
    clusters = []
    prefer = preference(language, sources)
    for subset in sorted(stories.subsets(), key=min):
        members = sorted((by_id[i] for i in subset), key=prefer) if len(subset) > 1 else [by_id[min(subset)]]
        shown, tells = stories.paragraph(min(subset))
        told = frozenset(subset & stories.told) if tells > 1 else frozenset()  # of one story, they are its copies
        if tells > 1:  # the paragraph that tells them all, its copies, then the stories it tells
            members.sort(key=lambda m: (m.id != shown, m.id in told))
        elif shown is not None:  # the editor's paragraph may say more: first in the newsletter's language
            members.sort(key=lambda m: (prefer(m)[0], m.id != shown))
        kinds: dict[str, str] = {}  # one reason of each kind: "same link", "nearly the same text (0.8)"
        for m in members:
            if m.id in reasons:
                kinds.setdefault(re.split(r" \(|:", reasons[m.id])[0], reasons[m.id])
        reason = ", ".join(kinds.values())
        clusters.append(Cluster(tuple(members), reason if len(members) > 1 else "", told))
    return clusters


@dataclass(frozen=True)
class Repeat:
    """A waiting item that tells a story already sent, the sent item it repeats, and why."""

    item: Item
    sent: Item
    reason: str  # "same link", "same headline", "nearly the same text (0.83)", "same story: …"


def repeats(items: Iterable[Item], sent: Iterable[Item], *, threshold: float = THRESHOLD) -> dict[int, Repeat]:
    """Return, by item id, the items of ``items`` that tell a story one of ``sent`` told.

    "The same story" means what it means in ``find``: a shared link from any source, a
    shared headline, nearly the same text or the same particulars from another source. The
    sent items' MinHashes and facts are indexed with the waiting ones: no item meets every
    sent one.
    """
    items, sent = list(items), list(sent)
    found: dict[int, Repeat] = {}
    if not items or not sent:
        return found
    links: dict[str, Item] = {}
    headlines: dict[str, list[Item]] = {}
    for s in sent:
        if (link := canonical_link(s.link)) is not None:
            links.setdefault(link, s)
        if not s.label and (headline := _headline(s)):
            headlines.setdefault(headline, []).append(s)
    for item in items:
        if (link := canonical_link(item.link)) in links:
            found[item.id] = Repeat(item, links[link], "same link")
        elif not item.label and (same := [s for s in headlines.get(_headline(item) or "", []) if separate(item, s)]):
            found[item.id] = Repeat(item, same[0], "same headline")
    known = _shingled(sent)
    rest = _shingled(i for i in items if i.id not in found)
    if known and rest:
        matches: dict[int, list[int]] = {}
        for a, b in minhash.candidates([minhash.signature(p) for _, p in (*known, *rest)]):
            if a < len(known) <= b:  # a sent story and a waiting item
                matches.setdefault(b - len(known), []).append(a)
        for n, (item, mine) in enumerate(rest):
            scored = [(_jaccard(mine, theirs), s) for s, theirs in (known[k] for k in matches.get(n, []))
                      if separate(item, s)]
            similarity, best = max(scored, key=lambda x: (x[0], -x[1].id), default=(0.0, None))
            if best is not None and similarity >= threshold:
                found[item.id] = Repeat(item, best, f"nearly the same text ({similarity:.2f})")
    waiting = [i for i in items if i.id not in found]
    sent_ids = {s.id for s in sent}
    alike, retold = _related([*sent, *waiting])
    for x, y, evidence in alike:
        if (x.id in sent_ids) != (y.id in sent_ids):
            old, new = (x, y) if x.id in sent_ids else (y, x)
            if new.id not in found:  # the strongest likeness comes first
                found[new.id] = Repeat(new, old, evidence.reason)
    for item, paragraph, how in retold:  # a paragraph that retells a sent story may tell new ones too
        if item.id not in sent_ids and paragraph.id in sent_ids and item.id not in found:
            found[item.id] = Repeat(item, paragraph, how.reason)
    return found


def _related(items: list[Item]) -> tuple[list[tuple[Item, Item, Evidence]], list[tuple[Item, Item, Telling]]]:
    """Return the pairs of items of other origins that state the same particulars, strongest first, and the
    items told within a briefing paragraph of another origin, each with the paragraph, surest first.

    An item told within a paragraph is that, whatever else they share: the paragraph may tell
    other stories too. Of two paragraphs, the one that states less may be told within the other.
    """
    if len(items) < 2:
        return [], []
    batch = Batch(items)
    origins = [origin(i) for i in items]
    paragraphs = [is_paragraph(i) for i in items]
    alike, told = [], []
    for i, j in batch.candidates():
        if not apart(origins[i], origins[j]):
            continue
        s, p = (j, i) if paragraphs[i] and (not paragraphs[j] or batch.totals[j] < batch.totals[i]) else (i, j)
        if paragraphs[p] and (how := telling(batch, s, p)) is not None and how.within:
            told.append((items[s], items[p], how))
        elif possible(batch, i, j) and (evidence := compare(batch, i, j)).same:
            alike.append((items[i], items[j], evidence))
    alike.sort(key=lambda x: (x[0].id, x[1].id))
    alike.sort(key=lambda x: x[2].strength, reverse=True)
    told.sort(key=lambda x: (x[0].id, x[1].id))
    told.sort(key=lambda x: x[2].strength, reverse=True)
    return alike, told


def _join_similar(items: list[Item], threshold: float, join: Callable[[Item, Item, str], None]) -> None:
    """Merge items whose texts are nearly the same, using MinHash LSH to find candidates."""
    shingled = _shingled(items)
    if len(shingled) < 2:
        return
    signatures = [minhash.signature(p) for _, p in shingled]
    origins = [origin(item) for item, _ in shingled]
    scored = []
    for index, other in minhash.candidates(signatures):
        if not apart(origins[index], origins[other]):
            continue  # items of one origin never merge by text: a cheaper test than the similarity, failed by most
        (item, mine), (candidate, theirs) = shingled[index], shingled[other]
        similarity = _jaccard(mine, theirs)
        if similarity >= threshold:
            scored.append((-similarity, index, other, item, candidate))
    for similarity, _, _, item, candidate in sorted(scored, key=lambda x: x[:3]):
        join(item, candidate, f"nearly the same text ({-similarity:.2f})")


def _shingled(items: Iterable[Item]) -> list[tuple[Item, set[str]]]:
    """Return the items long enough to compare by text, each with its word pairs."""
    return [(item, p) for item in items if len(p := pairs(item)) >= MIN_PAIRS]


def _jaccard(a: set[str], b: set[str]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def _same(items: Iterable[Item], key: Callable[[Item], str | None]) -> list[list[Item]]:
    """Return the groups of two or more items that share a non-empty ``key``."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        value = key(item)
        if value:
            groups.setdefault(value, []).append(item)
    return [g for g in groups.values() if len(g) > 1]


def _headline(item: Item) -> str | None:
    tokens = words(item.title)
    return " ".join(tokens) if len(tokens) >= MIN_TITLE_WORDS else None


def preference(language: str | None, sources: Sequence[str] = ()) -> Callable[[Item], tuple[bool, int, bool, int, int]]:
    """Return the sort key that puts the best item of a story first.

    In ``language``, the most text, a link, then the source listed first in ``sources``, then earlier.
    """
    position = {key: n for n, key in enumerate(sources)}

    def key(item: Item) -> tuple[bool, int, bool, int, int]:
        foreign = language is not None and language_of(f"{item.title} {item.body[:300]}") != language.split("-")[0]
        return (foreign, -len(item.body.split()), not item.link, position.get(item.source_key, len(position)), item.id)
    return key
