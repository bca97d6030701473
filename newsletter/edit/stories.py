"""Stories being built: which items have been merged into one story, and which may be.

Items of one source are different stories, unless they are documents of a folder (two
briefings may tell one story, the paragraphs of one briefing never do): ``apart`` says
which origins (source, document) may share a story. ``Stories`` merges the stories of
two items only when every item of one may share a story with every item of the other, so
a chain of likenesses (A like B, B like C) never puts one feed's two stories together,
except for the items told within a briefing paragraph (``roundups``): several items of one
feed may be told within one paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsletter.item import Item

# A document's uid: its path in the folder ("2026/briefing.md"), then "#" and the paragraph's key.
_DOCUMENT = re.compile(r"^([^:#]+\.(?:txt|text|md|markdown|html?))(?:#|$)", re.IGNORECASE)


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
    """Stories being built: sets of items, each knowing the origins (source, document) of its items.

    A story may hold items told within one of its paragraphs (``tell``): their origins are
    kept apart, since several of them may come from one feed.
    """

    def __init__(self, items: Iterable[Item]) -> None:
        items = list(items)
        super().__init__(i.id for i in items)
        self._origins: dict[int, set[tuple[int, str | None]]] = {i.id: {origin(i)} for i in items}
        self._told: dict[int, set[tuple[int, str | None]]] = {}  # ... of the items told within a paragraph
        self._members: dict[int, list[int]] = {}  # of each story of two items or more, by its root
        self._paragraphs: dict[int, int] = {}  # the paragraph that the told items of a story are told within
        self._retells: dict[int, tuple[int, int]] = {}  # how many stories each paragraph retells, and its length
        self.told: set[int] = set()  # the ids of the items told within a paragraph of their story

    def paragraph(self, item_id: int) -> tuple[int | None, int]:
        """Return the paragraph that retells the story of ``item_id`` (if one does) and how many stories it retells."""
        shown = self._paragraphs.get(self._root(item_id))
        return shown, self._retells.get(shown, (0, 0))[0] if shown is not None else 0

    def expect(self, told: Iterable[tuple[Item, Item]]) -> None:
        """Note how many stories (as merged so far) each paragraph retells, from ``(item, paragraph)`` pairs."""
        found: dict[int, set[int]] = {}
        length: dict[int, int] = {}
        for item, paragraph in told:
            found.setdefault(paragraph.id, set()).add(self._root(item.id))
            length[paragraph.id] = len(paragraph.body)
        self._retells = {p: (len(roots), length[p]) for p, roots in found.items()}

    def join(self, a: Item, b: Item, *, force: bool = False) -> bool:
        """Merge the stories of ``a`` and ``b`` unless they hold items that may not be merged; return whether done.

        ``force`` merges them whatever they hold (one link: one page, one story).
        """
        ra, rb = self._root(a.id), self._root(b.id)
        if ra == rb:
            return False
        mine, theirs = self._origins[ra] | self._told.get(ra, set()), self._origins[rb] | self._told.get(rb, set())
        if not force and (any(not apart(x, y) for x in mine for y in theirs if x[0] == y[0])
                          or (ra in self._paragraphs and rb in self._paragraphs)):
            return False
        self._combine(ra, rb, told=False)
        return True

    def tell(self, item: Item, paragraph: Item) -> bool:
        """Fold the story of ``item`` into that of ``paragraph``, which retells it; return whether done.

        When ``item``'s story is already told within another paragraph, the paragraph that
        retells more stories (``expect``; of two that retell one each, the longer, which may
        say more) takes in the other one's story whole: a paragraph that retells only this
        story is this story. Two paragraphs that each retell several stories stay apart, and
        so do two paragraphs of one document.
        """
        host, guest = self._root(paragraph.id), self._root(item.id)
        shown, other = self._paragraphs.get(host, paragraph.id), self._paragraphs.get(guest)
        if host == guest:  # merged already, as the same story: it is told within the paragraph all the same
            if item.id in self.told or item.id == paragraph.id or shown != paragraph.id:
                return False
            self.told.add(item.id)
            self._paragraphs[host] = paragraph.id
            return True
        retells = self._retells.get(shown, (0, 0)), self._retells.get(other, (0, 0)) if other is not None else (0, 0)
        if min(retells)[0] > 1:
            return False
        if other is not None and retells[1] > retells[0]:  # of two retelling one story each, the longer
            host, guest, shown = guest, host, other
        documents = [x for x in self._origins[host] if x[1] is not None]
        folded = self._origins[guest] | self._told.get(guest, set())
        if any(not apart(x, y) for x in documents for y in folded if x[0] == y[0]):
            return False
        self.told.update(self._members.get(guest, [guest]))
        self._paragraphs.pop(host, None)
        self._paragraphs.pop(guest, None)
        self._combine(host, guest, told=True)
        self._paragraphs[self._root(host)] = shown
        return True

    def _combine(self, a: int, b: int, *, told: bool) -> None:
        """Merge the stories with roots ``a`` and ``b``; with ``told``, ``b``'s items are told within ``a``'s."""
        self.merge(a, b)
        root = self._root(a)
        core = self._origins.pop(a) | (set() if told else self._origins[b])
        within = self._told.pop(a, set()) | self._told.pop(b, set()) | (self._origins[b] if told else set())
        self._origins.pop(b)
        self._origins[root] = core
        if within:
            self._told[root] = within
        self._members[root] = self._members.pop(a, [a]) + self._members.pop(b, [b])
        if (kept := self._paragraphs.pop(a, None) or self._paragraphs.pop(b, None)) is not None:
            self._paragraphs[root] = kept  # a join takes one story's paragraph (``join`` allows no two)


def origin(item: Item) -> tuple[int, str | None]:
    """Return where an item comes from: its source, and for a document its path in the folder."""
    document = _DOCUMENT.match(item.uid)
    return item.source_id, document.group(1) if document else None


def apart(x: tuple[int, str | None], y: tuple[int, str | None]) -> bool:
    """Return whether items of these origins may be one story: other sources, or two documents of one folder."""
    return x[0] != y[0] or (x[1] is not None and y[1] is not None and x[1] != y[1])


def separate(a: Item, b: Item) -> bool:
    """Return whether two items may be one story by headline, text or particulars (see ``apart``)."""
    return apart(origin(a), origin(b))


def is_paragraph(item: Item) -> bool:
    """Return whether ``item`` is a paragraph of a briefing document (not a feed entry, not a whole article)."""
    return "#" in item.uid and _DOCUMENT.match(item.uid) is not None
