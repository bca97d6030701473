"""MinHash signatures and a banded LSH index: which texts may be nearly the same, without comparing every pair.

One-permutation hashing (Li, Owen and Zhang, 2012): each shingle is hashed once; the
hash picks one of ``SLOTS`` slots and the rest of it is the value, and a slot keeps the
smallest value it saw. Two sets agree in a slot with a probability close to their
Jaccard similarity, like ``SLOTS`` classic MinHash permutations, for the cost of one.
Empty slots (short texts) borrow the next filled slot's value, with the distance
mixed in, so that two texts agree there only when they agree on the slot they borrowed
(Shrivastava and Li's densification, by rotation). The index then cuts a signature
into ``BANDS`` bands of ``ROWS`` slots: two texts become candidates when any band is
equal, which happens with probability ``1 - (1 - s**ROWS)**BANDS`` at similarity s
(0.64 at 0.5, 0.98 at 0.7, under 0.0001 at 0.05). Candidates are confirmed by the caller with their
exact similarity, so a chance candidate costs a comparison and never a wrong merge.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable
from itertools import combinations

SLOTS = 64
ROWS = 4
BANDS = SLOTS // ROWS  # 16 bands of 4 slots
_EMPTY = 1 << 32


def signature(shingles: Iterable[str]) -> tuple[int, ...]:
    """Return the MinHash signature of a set of shingles (the same in every run and process)."""
    lowest = [_EMPTY] * SLOTS
    crc32 = zlib.crc32
    for shingle in shingles:
        h = crc32(shingle.encode("utf-8"))
        slot = h & (SLOTS - 1)
        if h >> 6 < lowest[slot]:
            lowest[slot] = h >> 6
    if _EMPTY in lowest and min(lowest) != _EMPTY:
        # Walking backwards, each empty slot borrows from the next filled one (the first, past the end).
        donor = next(i for i, v in enumerate(lowest) if v < _EMPTY)
        for i in range(SLOTS - 1, -1, -1):
            if lowest[i] < _EMPTY:
                donor = i
            else:
                lowest[i] = lowest[donor] + ((donor - i) % SLOTS) * _EMPTY
    return tuple(lowest)


def candidates(signatures: list[tuple[int, ...]]) -> set[tuple[int, int]]:
    """Return the pairs of positions ``(i, j)``, ``i < j``, whose signatures share a band."""
    pairs: set[tuple[int, int]] = set()
    # A band is cut from the signature's bytes, and a bucket holds a lone position until a second
    # comes: most buckets keep one, and a tuple and a list for each would wake the garbage collector.
    width = ROWS * array("Q").itemsize  # the bytes of a band
    raws = [array("Q", sig).tobytes() for sig in signatures]
    for start in range(0, BANDS * width, width):
        buckets: dict[bytes, int | list[int]] = {}
        for index, raw in enumerate(raws):
            band = raw[start:start + width]
            found = buckets.get(band)
            if found is None:
                buckets[band] = index
            elif isinstance(found, int):
                buckets[band] = [found, index]
            else:
                found.append(index)
        for members in buckets.values():
            if isinstance(members, list):
                pairs.update(combinations(members, 2))
    return pairs
