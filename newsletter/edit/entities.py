"""Entities: the names a text writes with capitals, one set of keys for each person, place or body.

A capitalised word is a name unless it opens a sentence and the batch also writes it in
lower case ("Officials said…", "Депутаты…"); a word in capitals ("CPC", "КТК") always is.
Capitalised words written together are one name. When their initials are a name the
exonym table knows ("European Union": the EU, "Caspian Pipeline Consortium": the CPC) they
are that name; two initials only when one of the words is a common word or the name of a
country or region ("European"): "Ulan Sarbanov" is no "US". When their initials are an
abbreviation the same text writes in capitals ("World Trade Organization … WTO"), they are
that abbreviation as well as their words, which another text may write without it
("Baku-Tbilisi-Ceyhan … BTC" and "Baku–Tbilisi–Ceyhan"). When the batch writes every one
of them in lower case they are a title ("the Ministry of Digital Development"), not a name.
Months and days of the week are times (``quantities.when``), not names. Countries joined by
a hyphen ("China-Kyrgyzstan-Uzbekistan") are one name each. In Kazakh a word with a case
ending ends a name
("Тоқаев Мирзиёевке Түркістанда": Tokayev, to Mirziyoyev, in Turkistan).

Where a language marks a boundary inside a run of capitalised words, the run is split there:

* a title ("President", "Prime Minister", "Президент", "Премьер", "Министр", "Төраға") is no
  part of a name and ends the one before it: "Uzbek President Shavkat Mirziyoyev" is
  Uzbekistan and Shavkat Mirziyoyev;
* in Russian, a place or body of the exonym table in an oblique case (``names.oblique``:
  "Узбекистана", "Пекине", "Евросоюза") ends a name: "Президент Узбекистана Шавкат
  Мирзиёев" and "В Пекине Касым-Жомарт Токаев" are two names each. A noun in the nominative
  ("Казахстан Темир Жолы") and an adjective, which agrees with the noun after it ("Европейского
  Союза": the EU), do not, nor does anything in English ("Kazakhstan Temir Zholy": the KTZ).

``facts`` reads an item's entities with this module, and its own caches of each word's keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from functools import lru_cache

from newsletter.edit.names import oblique
from newsletter.edit.quantities import time_word

_TOKEN = re.compile(r"[^\W\d_]+")
_UPPER = "A-ZÀ-ÖØ-ÞА-ЯЁІЇЄЎҐӘҒҚҢӨҰҮҺ"
_CAPITALISED = re.compile(rf"[{_UPPER}][^\W\d_]*")  # a word from its first capital (see ``_capitalised``)
_LETTER = re.compile(r"[^\W\d_]")
_JOINED = re.compile(r"[ \u00a0-]+")  # what lies between the words of one name
_SENTENCE_END = re.compile(r"[.!?…:;»\"“”\n—–-]\s*$")
# Titles, which precede a name and are no part of it: English words as written ("presidents" too),
# Russian and Kazakh stems with their case endings (``_TITLE_ENDING``), never a ministry ("министерство",
# "министрлігі") nor a surname ("Акимов": no "-ов").
_TITLE_WORDS = """president presidents vice prime minister ministers chancellor king queen prince emir chairman
    chairwoman governor mayor ambassador envoy senator secretary spokesman spokeswoman spokesperson deputy akim
    foreign commissioner pope patriarch"""
_TITLES = frozenset(_TITLE_WORDS.split())
_TITLE_STEMS = ("президент", "премьер", "министр", "вице", "глав", "председател", "губернатор", "мэр", "аким", "посол",
                "посл", "спикер", "генсек", "канцлер", "сенатор", "депутат", "төраға", "әкім", "елші")
_TITLE_ENDING = re.compile(r"(?:а|я|у|ю|ом|ем|ой|ей|е|ы|и|ь|ам|ям|ами|ями|ах|ях|і|сы|сі)?"
                           r"(?:нің|ның|не|на|н|мен|ге|ға|де|да)?")
# A Kazakh case ending ends a name (Kazakh marks the case on a name's last word only): "Тоқаев Мирзиёевке
# Түркістанда" is three. Where it is, at to, with, from, of; the bare "-ды", "-на" endings, which names end in
# too ("Алматы", "Астана"), are left out.
_KAZAKH_CASE = re.compile(r"[^\W\d_]{3}(?:[^\W\d_]н?д[ае]|[вкқпстфхцчшщ]т[ае]|[^вкқпстфхцчшщ]г[ае]|[^вкқпстфхцчшщ]ғ[ае]"
                          r"|[вкқпстфхцчшщ][кқ][ае]|[^\W\d_][мбп]ен|[^\W\d_][дтн][ае]н|[^\W\d_][ндт][ыі]ң)$")


def entities(text: str, title_end: int, lang: str, *, lowercase: Collection[str], stop: Collection[str],
             name: Callable[[str, str], tuple[str, ...]], group: Callable[[str, str], str | None]) -> list[set[str]]:
    """Return the keys of each name ``text`` writes with capitals, in order (empty for a title of common words).

    ``text`` opens with a headline of ``title_end`` characters; ``lowercase`` holds the words the
    batch writes in lower case, ``stop`` the little words of ``lang``; ``name`` gives a folded
    word's keys and ``group`` its exonym group (``names``).
    """
    found: list[set[str]] = []
    initials: list[str] = []  # each entity's initials: "European Union" is the EU
    common: list[bool] = []  # whether each entity is only words the batch writes in lower case
    some: list[bool] = []  # ... has one, or a country's name: "European Union" may be the EU, "Ulan Sarbanov" no "US"
    abbreviations: set[str] = set()  # the keys of the words written in capitals: "WTO"
    last = -1  # where the last name ended
    previous: str | None = None  # the country the last word named, if it named one
    titled = _title_case(text[:title_end])
    for start, end in _capitalised(text):  # "Kaspi", "КТК", "eGov"
        token = text[start:end]
        folded = token.casefold().replace("ё", "е")
        if time_word(folded):
            continue  # "September", "Tuesday": a time (``when``), not a name
        if _title(folded) and not token.isupper():
            last, previous = -1, None  # "Uzbek President Shavkat Mirziyoyev": a title, between two names
            continue
        plain = (folded in lowercase or folded in stop) and not token.isupper()
        if plain and (start == 0 or (titled and start < title_end)
                      or _SENTENCE_END.search(text, max(0, start - 3), start)):
            continue  # "Officials said…": a common word that opens a sentence
        keys = name(folded, lang)
        if token.isupper():
            abbreviations.update(keys)
        country = group(folded, lang)
        if country is not None and last >= 0 and previous is not None and "-" in text[last:start]:
            last = -1  # "China-Kyrgyzstan-Uzbekistan railway": three countries, not one name
        previous = country
        if found and last >= 0 and _JOINED.fullmatch(text, last, start):
            found[-1].update(keys)
            initials[-1] += folded[0]
            common[-1] = common[-1] and plain
            some[-1] = some[-1] or plain or country is not None
        else:
            found.append(set(keys))
            initials.append(folded[0])
            common.append(plain)
            some.append(plain or country is not None)
        # "Тоқаев Мирзиёевке": two names; "Президент Узбекистана Шавкат Мирзиёев" too
        ended = _KAZAKH_CASE.search(folded) if lang == "kk" else country is not None and oblique(folded, lang)
        last = -1 if ended else end
    for n, letters in enumerate(initials):
        if len(letters) < 2 or (len(letters) == 2 and not some[n]):
            known = None
        elif (known := group(letters, lang)) is None and len(letters) >= 3 and abbreviations:
            known = next((k for k in name(letters, lang) if k in abbreviations), None)  # "World Trade Organization"
            if known is not None and not common[n]:
                found[n].add(known)  # its words too: another text may spell it out and never abbreviate it
                continue
        if known is not None:
            found[n] = {known}  # "Caspian Pipeline Consortium" is the CPC, "КТК" in Russian
        elif common[n]:
            found[n] = set()  # "the Ministry of Digital Development": a title of common words
    return found


@lru_cache(maxsize=1 << 16)
def _title(folded: str) -> bool:
    """Return whether a folded word is a title ("president", "президента", "министрінің"), not a name.

    Asked of every capitalised word of every item, and names recur: each word is tried once.
    """
    if folded in _TITLES:
        return True
    return any(folded.startswith(stem) and _TITLE_ENDING.fullmatch(folded, len(stem)) for stem in _TITLE_STEMS)


def _capitalised(text: str) -> Iterator[tuple[int, int]]:
    """Yield where each word with a capital starts and ends ("Kaspi", "КТК", "eGov"), words of one letter left out.

    A search for the capital first is fast; the rare word with a capital inside ("eGov")
    is then taken from its first letter (a match runs to the word's end, so a word is found once).
    """
    for match in _CAPITALISED.finditer(text):
        start, end = match.span()
        while start and _LETTER.match(text, start - 1):
            start -= 1
        if end - start >= 2:
            yield start, end


def _title_case(title: str) -> bool:
    """Return whether a headline capitalises its words ("Tenge Weakens Past 540"), so capitals say nothing."""
    long = [w for w in _TOKEN.findall(title) if len(w) > 3]
    return len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.6 * len(long)


def joined(groups: Iterable[Collection[str]]) -> tuple[frozenset[str], ...]:
    """Return ``groups`` with every two that share a key made one, in order of first mention, empty ones left out.

    A text names a person, a place or a body more than once and not always alike: "Tokayev" in
    the headline and "Kassym-Jomart Tokayev" in the text are one person, so one name.
    """
    found: list[set[str]] = []
    for group in groups:
        if not group:
            continue
        merged = set(group)
        first = len(found)
        for n in range(len(found) - 1, -1, -1):
            if found[n] & merged:
                merged |= found.pop(n)
                first = n
        found.insert(min(first, len(found)), merged)
    return tuple(frozenset(g) for g in found)
