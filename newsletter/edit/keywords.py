"""Keywords: find a section's words in text — whole words, any case, inflected forms, several languages.

A keyword matches a word of the text when, both folded (case, ``ё``→``е``):

* the keyword has three letters or fewer and the word equals it ("EU", "oil");
* the keyword is longer and the word starts with it ("Russia" → "Russian", "Қазақстан" →
  "Қазақстанның": English and Kazakh inflect with endings), unless the word is a number
  word ("bill" does not find "billion"). A Kazakh keyword (one with
  letters only Kazakh uses: ә ғ қ ң ө ұ ү һ і) admits endings however short: "заң" → "заңды";
  and one that ends in к, қ or п also finds the word whose last letter turns voiced before
  an ending, as Kazakh spells it: "министрлік" → "министрлігі", "жарлық" → "жарлығы";
* the keyword is Cyrillic and the word shares its Russian stem: "Россия" → "России",
  "Москва" → "Москве", "Китай" → "Китая", "газ" → "газа". A stem of four letters or more
  also finds the word with a short ending or an adjective made from it, so "Россия" finds
  "российский" and "Китай" "Китая" and "китайские" (but "тенге" does not find "Тенгизе"). Stems come from the Snowball stemmer.
  A Russian keyword also finds a compound that begins with its stem and the linking vowel (о, or е
  after a soft consonant or ж ш ч щ ц) followed by at least ``COMPOUND`` letters: "газ" →
  "газоперерабатывающий", "нефть" → "нефтегазовый", "военный" → "военнослужащий"; not "газон",
  nor "грузовик" for "грузы" (a second part that opens with в is the suffix -ов-/-ев-).

A keyword of several words matches those words in a row, each by the rules above. An
abbreviation of up to three capitals ("US", "EU", "АЭС") matches only a word written in
capitals: "US" finds "US" and "АҚШ" finds "АҚШ-тың", but not the word "us".
Matching works on the text's words, once per text, with a per-distinct-word cache, so it
stays fast with many keywords and many items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_KAZAKH = re.compile(r"[әғқңөұүһі]")  # letters of Kazakh that Russian does not use
MIN_PREFIX = 4  # a keyword or stem shorter than this must match a whole word
COMPOUND = 4  # a compound's second part has at least this many letters: "газопровод", not "газон"
ABBREVIATION = 3  # a keyword word of up to this many capitals matches only capitals: "US", not "us"
_VOICED = {"к": "г", "қ": "ғ", "п": "б"}  # a Kazakh stem's last letter before an ending: "министрлік" → "министрлігі"
# Words a matcher remembers before it forgets them all: the known names' and the lexicon's matchers last as long
# as the process (the daemon, the web app), which reads strangers' words without end.
CACHED_WORDS = 1 << 16
# Words that only ever match a keyword whole: "bill" is not a form of "billion".
WHOLE = frozenset({"million", "millions", "billion", "billions", "trillion", "trillions", "thousand", "thousands"})


def fold(text: str) -> str:
    """Return ``text`` folded for comparison: case-insensitive, ``ё`` read as ``е``."""
    return text.casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    """Return the folded words of ``text`` in order."""
    return _WORD.findall(fold(text))


def written(text: str) -> list[str]:
    """Return the words of ``text`` in order, as written (what ``Matcher.find`` takes)."""
    return _WORD.findall(text)


@lru_cache(maxsize=1)
def _russian() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("russian")


def stem(word: str) -> str:
    """Return the Russian stem of a folded Cyrillic word (other words unchanged)."""
    if not _CYRILLIC.search(word):
        return word
    return str(_russian().stemWord(word))


class Matcher:
    """Find where any of a list of keywords occurs in a text's words."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords: list[str] = list(dict.fromkeys(k.strip() for k in keywords if k.strip()))
        self._sequences: list[tuple[int, ...]] = []  # per keyword: the ids of its words
        self._starts: dict[int, list[int]] = {}  # word id -> keywords that begin with it
        self._exact: dict[str, set[int]] = {}
        self._prefix: dict[str, set[int]] = {}
        self._stems: dict[str, set[int]] = {}
        self._adjectives: dict[str, set[int]] = {}  # Russian stems whose adjectives match: "росс" → "российский"
        self._compounds: dict[str, set[int]] = {}  # a Russian stem and its linking vowel: "газо" → "газопровод"
        self._cache: dict[str, frozenset[int]] = {}  # folded word -> ids
        self._tokens: dict[str, frozenset[int]] = {}  # word as written -> ids, its capitals checked
        self._capitals: dict[int, int] = {}  # word id of an abbreviation -> how many capitals it needs
        next_id = 0
        for index, keyword in enumerate(self.keywords):
            ids = []
            for given in written(keyword):
                if given.isupper() and len(given) <= ABBREVIATION:
                    self._capitals[next_id] = len(given)
                self._add(fold(given), next_id, common=given[:1].islower())
                ids.append(next_id)
                next_id += 1
            if ids:
                self._starts.setdefault(ids[0], []).append(index)
            self._sequences.append(tuple(ids))
        self._short = any(len(p) < MIN_PREFIX for p in self._prefix)  # a short Kazakh keyword

    def _add(self, word: str, word_id: int, *, common: bool) -> None:
        """Index one keyword word; ``common`` (written in lower case) may also begin a compound.

        Only a common noun or adjective ("газ", "военный") begins compounds: a name would
        catch everyday words ("Грузия" is no "грузооборот", "Индия" no "Индонезия").
        """
        self._exact.setdefault(word, set()).add(word_id)
        if len(word) >= MIN_PREFIX or (len(word) > 1 and _KAZAKH.search(word)):
            self._prefix.setdefault(word, set()).add(word_id)
        if len(word) > 2 and word[-1] in _VOICED and _KAZAKH.search(word):
            self._prefix.setdefault(word[:-1] + _VOICED[word[-1]], set()).add(word_id)
        if _CYRILLIC.search(word):
            root = stem(word)
            self._stems.setdefault(root, set()).add(word_id)
            if len(root) >= MIN_PREFIX:
                self._adjectives.setdefault(root, set()).add(word_id)
            if common and len(root) >= 3 and not _KAZAKH.search(word):  # a compound's first part: "газо"
                soft = word[len(root):].startswith("ь") or root[-1] in "жшчщц"
                self._compounds.setdefault(root + ("е" if soft else "о"), set()).add(word_id)
                if word.endswith(("ый", "ий", "ой")) and len(word) > 5:  # an adjective's: "военный" → "военно"
                    self._compounds.setdefault(word[:-2] + "о", set()).add(word_id)

    def _ids(self, word: str) -> frozenset[int]:
        """Return the ids of the keyword words that ``word`` matches (cached per word)."""
        found = self._cache.get(word)
        if found is not None:
            return found
        ids = set(self._exact.get(word, ()))
        for n in range(2 if self._short else MIN_PREFIX, len(word) + 1 if word not in WHOLE else 0):
            ids.update(self._prefix.get(word[:n], ()))
        if self._stems and _CYRILLIC.search(word):
            root = stem(word)
            if root != word or len(root) >= MIN_PREFIX:  # "газа", "войск"; not the bare short root "аз"
                ids.update(self._stems.get(root, ()))
            for n in range(MIN_PREFIX, len(word)):
                rest = word[n:]  # "китая" of "кита", "российский" of "росс"; not "Тенгизе" of "тенг"
                if word[:n] in self._adjectives and (len(rest) <= 2 or "ск" in rest[:5]):
                    ids.update(self._adjectives[word[:n]])
                if len(rest) >= COMPOUND and rest[0] != "в" and word[:n] in self._compounds:  # "газо|перерабатывающий"
                    ids.update(self._compounds[word[:n]])
        if len(self._cache) >= CACHED_WORDS:
            self._cache.clear()
        found = self._cache[word] = frozenset(ids)
        return found

    def _in_capitals(self, token: str, ids: frozenset[int]) -> frozenset[int]:
        """Return ``ids`` less the abbreviations that ``token`` does not write in capitals."""
        if self._capitals.keys().isdisjoint(ids):  # iterates over ``ids``, the few a word matches
            return ids
        return frozenset(i for i in ids if i not in self._capitals or token[:self._capitals[i]].isupper())

    def _token(self, token: str) -> frozenset[int]:
        """Return the ids of the keyword words that a word as written matches, capitals checked (cached per word)."""
        ids = self._ids(fold(token))
        if ids and self._capitals:
            ids = self._in_capitals(token, ids)
        if len(self._tokens) >= CACHED_WORDS:
            self._tokens.clear()
        self._tokens[token] = ids
        return ids

    def find(self, tokens: list[str]) -> list[tuple[int, int]]:
        """Return ``(keyword index, word position)`` for every occurrence in ``tokens`` (words as written)."""
        hits = []
        seen = self._tokens
        matched = [ids if (ids := seen.get(t)) is not None else self._token(t) for t in tokens]
        starts, sequences, count = self._starts, self._sequences, len(matched)
        for position, ids in enumerate(matched):
            for word_id in ids:
                for index in starts.get(word_id, ()):
                    sequence = sequences[index]
                    if len(sequence) == 1 or (position + len(sequence) <= count and all(
                            w in matched[position + k] for k, w in enumerate(sequence[1:], start=1))):
                        hits.append((index, position))
        return hits
