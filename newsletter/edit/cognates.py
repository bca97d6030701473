"""Cognates: the international words English, Russian and Kazakh share, and a key equal for each.

"протокол" and "protocol", "регистрации" and "registration", "миграционных" and
"migration", "документ" and "document" are one word in two alphabets. What happened
in a story is told in such words as often as in words of a language's own ("signed",
"подписали"), and they are the only everyday words that can be compared across languages
without a dictionary. A word's key is made in four steps:

1. its letters become Latin ones, as names' do (``names.latin``: "миграционных" →
   "migratsionnykh");
2. spellings of one sound that the two languages write differently become one, in the
   same way on both sides: "kh" and "ch" are "k" ("технология", "technology"), "ph" "f",
   "th" "t", "x" "ks", "qu" "kv"; "-tsi-" and "ci" before a vowel are "ti" ("регистрации",
   "registration"; "социальный", "social"), another "ts" and "c" are "k" ("протокол",
   "protocol"); "h" is "g" ("гибрид", "hybrid"), "y" "i", "w" "v", "z" "s";
3. doubled letters become one ("коридор", "corridor");
4. its first ``PREFIX`` letters are the key: endings differ ("-ции", "-tion", case
   endings), the opening of the stem does not. A shorter word has no key: short words
   meet by chance.

A key is no translation: "промышленность" (industry) and "promise" share one. So one
shared cognate says little; ``roundups`` asks for several, none of them a word the batch
writes often (``Common``) nor one of the ``EVERYDAY`` words of politics and business news
("president", "investment", "programme", "memorandum"): every story about two countries'
dealings writes those, so sharing them says nothing of which dealing. A batch cannot tell
these itself: a week's news writes each in a few items in a hundred, as it does a rare word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

from newsletter.edit.names import latin

PREFIX = 6  # letters of a word's key
SHORTEST = PREFIX - 1  # characters of the shortest word that may have a key ("щ" is "sh")
LONGEST = 64  # characters of a word read: its key is in its opening
COMMON = 0.03  # a cognate that more than this share of a batch writes tells nothing ...
MIN_COMMON = 12  # ... nor one written by this many items or fewer: in a small batch, every word is rare

# The international words of everyday politics and business news, in English: any batch of it writes them.
# (Those whose Russian has another key, "бюджет" or "проект", never meet across languages anyway.)
EVERYDAY_WORDS = """
    president presidential minister ministry government official administration delegation commission committee
    organisation national international political politics region regional programme investment investor economy
    economic industry industrial reform modernisation infrastructure cooperation contract memorandum export import
    transit billion million company strategy initiative partner partnership energy
"""

# Spellings of one sound, applied in order to both languages' words (see the module's docstring).
_SPELLINGS = (("kh", "k"), ("ch", "k"), ("ph", "f"), ("th", "t"), ("tsi", "ti"), ("ts", "k"), ("c", "k"),
              ("qu", "kv"), ("x", "ks"), ("h", "g"), ("y", "i"), ("w", "v"), ("z", "s"))
_SOFT_C = re.compile(r"c(?=i[aeiou])")  # "ci" before a vowel, first: "social", "official", "special"
_DOUBLE = re.compile(r"(.)\1+")


def key(word: str) -> str | None:
    """Return the cognate key of a folded word in any script ("регистрации" → "regist"), None when it is short."""
    return _key(word[:LONGEST]) if len(word) >= SHORTEST else None


@lru_cache(maxsize=1 << 16)
def _key(word: str) -> str | None:
    letters = _SOFT_C.sub("t", latin(word))
    for spelling, sound in _SPELLINGS:
        letters = letters.replace(spelling, sound)
    letters = _DOUBLE.sub(r"\1", letters)
    return letters[:PREFIX] if len(letters) >= PREFIX else None


def keys(words: Iterable[str]) -> dict[str, str]:
    """Return the cognate keys of folded ``words``, each with the first of the words that has it."""
    found: dict[str, str] = {}
    for word in words:
        if (k := key(word)) is not None:
            found.setdefault(k, word)
    return found


EVERYDAY = frozenset(k for word in EVERYDAY_WORDS.split() if (k := key(word)) is not None)


class Common:
    """The cognates a batch writes so often that sharing one tells nothing ("region"), and the ``EVERYDAY`` ones.

    ``counts`` says, for each word written in lower case, how many of ``documents`` items
    read write it. An item that writes two words of one key ("protocol", "protocols") counts
    twice: a cognate may only seem more common than it is, never rarer. Worked out when first asked.
    """

    def __init__(self, counts: Mapping[str, int], documents: int) -> None:
        self._counts = counts
        self._crowd = max(MIN_COMMON, int(COMMON * documents))
        self._common: frozenset[str] | None = None

    def __contains__(self, cognate: object) -> bool:
        if self._common is None:
            found: Counter[str] = Counter()
            for word, n in self._counts.items():
                if (k := key(word)) is not None:
                    found[k] += n
            self._common = frozenset(k for k, n in found.items() if n > self._crowd)
        return cognate in self._common or cognate in EVERYDAY

    def shared(self, a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
        """Return the words of ``a`` (keys and words, from ``keys``) whose rare cognate ``b`` writes too."""
        small, large = (a, b) if len(a) <= len(b) else (b, a)
        return sorted(a[k] for k in small if k in large and k not in self)
