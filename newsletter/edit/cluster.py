"""Clusters: find the same story carried by several sources, so an issue shows it once.

Two items are the same story when they link to the same page (whatever their language),
when they carry the same headline, when their text is nearly the same, or when they state
the same particulars — figures, dates and names, compared across English, Russian and
Kazakh (``facts`` reads them, ``likeness`` weighs them): a paraphrase by another outlet,
a translation, a briefing paragraph that retells a feed item.

Nearly the same text is found with MinHash and locality-sensitive hashing (``minhash``),
the same particulars through an index from each rare fact to the items that state it
(``facts.Batch.candidates``): each item is compared only with the few items that share a
hash band or a rare fact with it, never with every other item, so clustering stays fast at
tens of thousands of items.

Only items of different sources (or different documents of one folder) are merged by
headline, text or particulars: a feed repeats its own headlines, and the paragraphs of
one briefing are different stories. Nor does a story ever take in two items that could
not be merged directly: a chain of likenesses (A like B, B like C) stops there. The
strongest likenesses are joined first.

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
from newsletter.edit.facts import Batch
from newsletter.edit.keywords import words
from newsletter.edit.likeness import Evidence, compare, possible
from newsletter.edit.names import language as language_of
from newsletter.item import Item

THRESHOLD = 0.5  # Jaccard similarity of word pairs above which two texts tell the same story
LEAD_WORDS = 80  # compare the opening of the text: copies differ most in what they append
MIN_PAIRS = 8  # texts shorter than this are compared by link and headline only
MIN_TITLE_WORDS = 4
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|yclid|mc_cid|mc_eid|ref|ref_src|cmpid|at_medium|at_campaign)$")
# A document's uid: its path in the folder ("2026/briefing.md"), then "#" and the paragraph's key.
_DOCUMENT = re.compile(r"^([^:#]+\.(?:txt|text|md|markdown|html?))(?:#|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Cluster:
    """One story: the item to show first, then the same story from elsewhere, and why."""

    items: tuple[Item, ...]
    reason: str = ""  # "same link", "same headline", "nearly the same text (0.83)"; "" when alone

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
    same particulars merge only items of different sources. Each story shows first the
    item with the most text, preferring one in ``language`` (the newsletter's); between
    equals, the one whose source comes first in ``sources`` (the configured order, so the
    choice does not depend on which source happened to answer first).
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
    for a, b, evidence in _alike(items):
        join(a, b, evidence.reason)
    clusters = []
    prefer = preference(language, sources)
    for subset in sorted(stories.subsets(), key=min):
        members = sorted((by_id[i] for i in subset), key=prefer) if len(subset) > 1 else [by_id[min(subset)]]
        kinds: dict[str, str] = {}  # one reason of each kind: "same link", "nearly the same text (0.8)"
        for m in members:
            if m.id in reasons:
                kinds.setdefault(re.split(r" \(|:", reasons[m.id])[0], reasons[m.id])
        reason = ", ".join(kinds.values())
        clusters.append(Cluster(tuple(members), reason if len(members) > 1 else ""))
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
    for x, y, evidence in _alike([*sent, *waiting]):
        if (x.id in sent_ids) != (y.id in sent_ids):
            old, new = (x, y) if x.id in sent_ids else (y, x)
            if new.id not in found:  # the strongest likeness comes first
                found[new.id] = Repeat(new, old, evidence.reason)
    return found


class DisjointSet:
    """Union-find over item ids: which items have been merged into one story."""

    def __init__(self, ids: Iterable[int]) -> None:
        self._parent = {i: i for i in ids}

    def _root(self, i: int) -> int:
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = parent[i]
        return i

    def connected(self, a: int, b: int) -> bool:
        """Return whether ``a`` and ``b`` are in the same set."""
        return self._root(a) == self._root(b)

    def merge(self, a: int, b: int) -> None:
        """Join the sets of ``a`` and ``b``."""
        ra, rb = self._root(a), self._root(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def subsets(self) -> list[set[int]]:
        """Return every set."""
        groups: dict[int, set[int]] = {}
        for i in self._parent:
            groups.setdefault(self._root(i), set()).add(i)
        return list(groups.values())


class Stories(DisjointSet):
    """Stories being built: sets of items, each knowing the origins (source, document) of its items."""

    def __init__(self, items: Iterable[Item]) -> None:
        items = list(items)
        super().__init__(i.id for i in items)
        self._origins: dict[int, set[tuple[int, str | None]]] = {i.id: {origin(i)} for i in items}

    def join(self, a: Item, b: Item, *, force: bool = False) -> bool:
        """Merge the stories of ``a`` and ``b`` unless they hold items that may not be merged; return whether done.

        ``force`` merges them whatever they hold (one link: one page, one story).
        """
        ra, rb = self._root(a.id), self._root(b.id)
        if ra == rb:
            return False
        mine, theirs = self._origins[ra], self._origins[rb]
        if not force and any(not _apart(x, y) for x in mine for y in theirs if x[0] == y[0]):
            return False
        self.merge(ra, rb)
        root = self._root(ra)
        self._origins[root] = mine | theirs
        self._origins.pop(rb if root == ra else ra, None)
        return True


def origin(item: Item) -> tuple[int, str | None]:
    """Return where an item comes from: its source, and for a document its path in the folder."""
    document = _DOCUMENT.match(item.uid)
    return item.source_id, document.group(1) if document else None


def _apart(x: tuple[int, str | None], y: tuple[int, str | None]) -> bool:
    """Return whether items of these origins may be one story: other sources, or two documents of one folder."""
    return x[0] != y[0] or (x[1] is not None and y[1] is not None and x[1] != y[1])


def separate(a: Item, b: Item) -> bool:
    """Return whether two items may be one story by headline, text or particulars (see ``_apart``)."""
    return _apart(origin(a), origin(b))


def _alike(items: list[Item]) -> list[tuple[Item, Item, Evidence]]:
    """Return the pairs of items of other origins that state the same particulars, strongest first."""
    if len(items) < 2:
        return []
    batch = Batch(items)
    origins = [origin(i) for i in items]
    found = []
    for i, j in batch.candidates():
        if _apart(origins[i], origins[j]) and possible(batch, i, j) and (evidence := compare(batch, i, j)).same:
            found.append((items[i], items[j], evidence))
    found.sort(key=lambda x: (x[0].id, x[1].id))
    found.sort(key=lambda x: x[2].strength, reverse=True)
    return found


def _join_similar(items: list[Item], threshold: float, join: Callable[[Item, Item, str], None]) -> None:
    """Merge items whose texts are nearly the same, using MinHash LSH to find candidates."""
    shingled = _shingled(items)
    if len(shingled) < 2:
        return
    signatures = [minhash.signature(p) for _, p in shingled]
    scored = []
    for index, other in minhash.candidates(signatures):
        (item, mine), (candidate, theirs) = shingled[index], shingled[other]
        similarity = _jaccard(mine, theirs)
        if similarity >= threshold and separate(item, candidate):
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
