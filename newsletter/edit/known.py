"""Known names: the region's organisations, projects and people, and the country or topic each implies.

Section keywords are general words ("oil", "China"); they cannot know that CNPC is Chinese,
that Kazatomprom mines uranium or that Rogun is a Tajik dam. ``known.toml`` beside this
module lists such names (in English, Russian and Kazakh spellings), each with its kind (a
state body, a person, a company, a project, a place, a multilateral body), the country it
belongs to and one topic word it implies. The sorter reads an implied word as the
configured sections read any word, so a name counts for whichever section has "China" or
"uranium" among its keywords, and for none when no section has. Some imply less:

* a place implies its country only: Khorgos is a trade gateway, but snow at Khorgos is weather;
* a company hired for work ("Rosatom to build…", ``parties.hired``) is no party to the
  story, so its country is a passing mention there (``sections``);
* a firm's, a lender's or a place's country is where it is from, which only a section about
  a place is about: Chevron is American, but no news for a Diplomacy section that lists
  "United States" (``sections.OWN_COUNTRY``).

A name is matched only where the text writes with a capital each word the list does
(``capitalised``): "путина" (the fishing season) is not Putin, "қорғасын" (lead) not Khorgos;
and a short name only as the whole word or, in Cyrillic, with a case ending (``same_name``):
"Duman" is no Duma, "Рогуна" is Rogun.
Clustering reads a company's or project's names as one key in every script, in place of
its spellings' own (``company_of``): Kazatomprom is Қазатомөнеркәсіп in Kazakh, a
translation, not a transliteration, and one key keeps one company one rare fact. A word is
the longest name it begins with ("Тенгизшевройл" is Tengizchevroil, not the Tengiz field;
"Газпромбанк" Gazprombank, not Gazprom). The list is read once. Editors add their own names
as section keywords; ``newsletter.known_names = false`` turns the list off for placement
(clustering still reads a company's names as one key).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from newsletter.edit.keywords import Matcher, fold, stem, words, written
from newsletter.edit.names import CYRILLIC, KAZAKH, keys

LIST = Path(__file__).with_name("known.toml")
KINDS = ("state", "person", "company", "project", "place", "body")  # body: a multilateral body or lender
_TRANSLATED = ("company", "project")  # kinds whose names are translated, not transliterated (``company_of``)
HEAD = 4  # letters of a word looked at before matching it against every company's name
SHORT_NAME = 6  # a one-word name shorter than this is the whole word or a case of it (``same_name``): Duman is no Duma


@dataclass(frozen=True)
class Known:
    """One known name: how it is written and the words it implies (its country, its topic)."""

    name: str  # the first spelling: how reasons show it
    country: str  # "" for a multilateral body or a project of several countries
    topic: str  # "" when no topic fits (people)
    kind: str  # one of KINDS

    @property
    def implies(self) -> tuple[str, ...]:
        """Return the words this name stands for: its country, and its topic unless it is a place."""
        return tuple(w for w in (self.country, "" if self.kind == "place" else self.topic) if w)


@dataclass(frozen=True)
class Found:
    """One known name in a text: the entry, the spelling matched, and where its words start."""

    known: Known
    spelling: str
    position: int


def capitalised(spelling: str, tokens: list[str], position: int) -> bool:
    """Return whether the text writes with a capital each word that ``spelling`` (found at ``position``) capitalises.

    A name is written with a capital: "путина" (the fishing season) is not Putin, "қорғасын"
    (lead) not Khorgos, "теңіз кен орны" (an offshore field) not Tengiz.
    """
    return all(not given[:1].isupper() or tokens[position + k][:1].isupper()
               for k, given in enumerate(written(spelling)) if position + k < len(tokens))


def same_name(spelling: str, word: str) -> bool:
    """Return whether ``word``, which begins as the one-word name ``spelling`` does, is that name.

    A name of ``SHORT_NAME`` letters or more is, whatever follows it. A shorter one is the whole
    word, or in Cyrillic a form of it: English does not inflect a name ("Rogun's" is "Rogun" and
    "s"), so "Duman" (a Kazakh first name) is no Duma and "Kasenov" no KASE, but Russian and
    Kazakh do: "Рогуна", "Рогунской" and "Рогунның" are Rogun, "Тапинов" is no ТАПИ.
    """
    given, folded = fold(spelling), fold(word)
    if len(given) >= SHORT_NAME or folded == given:
        return True
    if not CYRILLIC.search(folded):
        return False
    # As names compare (``names.keys``: "Рогунской", "Инкая"), or by the Russian stem where a name is too short
    # for a key of its own ("КЕГОКа").
    return stem(folded) == stem(given) or not set(keys(folded, "ru")).isdisjoint(keys(given, "ru"))


def as_listed(spelling: str, tokens: list[str], position: int) -> bool:
    """Return whether the text writes a known name (``spelling``, found at ``position``) as the list does:
    with its capitals (``capitalised``), and a short one-word name whole or with a case ending (``same_name``)."""
    if len(written(spelling)) == 1 and not same_name(spelling, tokens[position]):
        return False
    return capitalised(spelling, tokens, position)


def outermost(hits: Iterable[tuple[Known, str, int]]) -> list[Found]:
    """Return the known names of ``(entry, spelling, position)`` hits in order, none inside a longer one.

    "Bank of China" inside "Exim Bank of China" is the longer name's word, not a name of its own;
    of two one-word names a word begins with, the longer is it ("Газпромбанк" is Gazprombank, not Gazprom).
    """
    found: list[Found] = []
    end = 0
    for known, spelling, position in sorted(hits, key=lambda hit: (hit[2], -len(words(hit[1])), -len(hit[1]))):
        if position >= end:  # the longest name at a word first, then what follows it
            found.append(Found(known, spelling, position))
            end = position + len(words(spelling))
    return found


class Gazetteer:
    """Every known name, matched like keywords (endings, Russian stems, Kazakh cases)."""

    def __init__(self, entries: list[Known], spellings: list[list[str]]) -> None:
        self.spellings = {s: entry for entry, names in zip(entries, spellings, strict=True) for s in names}
        self.matcher = Matcher(self.spellings)
        self.entries = [self.spellings[k] for k in self.matcher.keywords]
        # How each one-word company's spelling begins, however it is inflected: a word that begins otherwise is none.
        # A company is one key only when the list writes it in both alphabets: one it gives in Latin letters only
        # ("Chevron") keeps its spellings' keys, which transliteration finds ("Шеврон").
        scripts: dict[int, set[bool]] = {}
        for s, entry in self.spellings.items():
            scripts.setdefault(id(entry), set()).add(bool(CYRILLIC.search(s)))
        self._translated = {id(e) for e in entries if e.kind in _TRANSLATED and len(scripts.get(id(e), ())) == 2}
        self._heads = {_head(fold(s)) for s, entry in self.spellings.items()
                       if id(entry) in self._translated and len(written(s)) == 1}

    def find(self, tokens: list[str]) -> list[Found]:
        """Return the known names in ``tokens`` (words as written), in order, none inside a longer one."""
        keywords = self.matcher.keywords
        return outermost((self.entries[i], keywords[i], position) for i, position in self.matcher.find(tokens)
                         if as_listed(keywords[i], tokens, position))

    def company_of(self, word: str) -> str | None:
        """Return the company or project that one word names, in any form or script ("Қазатомөнеркәсібі"), else None.

        Only these: their names are often translated, not transliterated (Kazatomprom is
        Қазатомөнеркәсіп in Kazakh), while a state body or a person keeps one name in every script;
        and only those the list writes in both alphabets.
        """
        if not any(word[:n] in self._heads for n in range(1, HEAD + 1)):
            return None  # most words: no company's name begins so
        keywords = self.matcher.keywords
        found = [i for i, _ in self.matcher.find([word]) if id(self.entries[i]) in self._translated
                 and same_name(keywords[i], word)]  # "Tapinov" is a surname, not TAPI's
        # The longest spelling the word begins with: "Тенгизшевройл" is Tengizchevroil, not the Tengiz field.
        return self.entries[max(found, key=lambda i: len(keywords[i]))].name if found else None


def _head(folded: str) -> str:
    """Return the letters every form of a one-word name begins with: its first ``HEAD``, fewer for a short stem.

    A Russian name's forms share its stem ("Газпром", "Газпрома"); a Kazakh name ending in к, қ
    or п voices it before an ending ("Қарашығанақ", "Қарашығанағы").
    """
    n = min(HEAD, len(stem(folded)))
    if KAZAKH.search(folded) and folded[-1] in "кқп":
        n = min(n, len(folded) - 1)
    return folded[:max(n, 1)]


def parse(text: str) -> Gazetteer:
    """Return the gazetteer that a ``known.toml`` text lists."""
    entries, spellings = [], []
    for entry in tomllib.loads(text).get("known", []):
        names = [n.strip() for n in entry.get("names", []) if n.strip()]
        if not names:
            continue
        kind = entry.get("kind", "")
        if kind not in KINDS:
            raise ValueError(f"known name {names[0]!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
        entries.append(Known(names[0], entry.get("country", ""), entry.get("topic", ""), kind))
        spellings.append(names)
    return Gazetteer(entries, spellings)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Return the built-in list of known names (read once)."""
    return parse(LIST.read_text(encoding="utf-8"))
