"""Facts: what an item states that survives a paraphrase or a translation.

An item's facts are its names (``names``: the same key in any script), its quantities
(``quantities``: numbers, shares, dates and times) and its looser times (``quantities.when``:
a month without a day, a day of the week). For comparing with items in the same
language, its words reduced to their stems (Snowball for English and Russian, the Kazakh
endings of ``names`` for Kazakh; an English noun in "-ment" is its verb's stem, "shipment"
"ship", as Snowball makes "development" "develop" but not a short word), without the
little words every text has, are read when a comparison needs them; for comparing across
languages, the international words it writes in lower case ("протокол", "protocol":
``cognates``) and the subjects it is about ("flu", "school": ``lexicon``).

Its names are read from the words it writes with capitals (``entities``: "Officials
said…" is no name, "European Union" is the EU); months and days of the week are times.

``Reader`` reads items into ``Facts``; how rare each fact is among a batch of items is
``batch``'s.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from newsletter.edit import cognates
from newsletter.edit.entities import entities as capitalised_names
from newsletter.edit.entities import joined
from newsletter.edit.keywords import fold
from newsletter.edit.known import gazetteer
from newsletter.edit.names import exonym, exonym_forms, kazakh_root, keys, language
from newsletter.edit.quantities import figures, when
from newsletter.item import Item

TEXT_LIMIT = 3_000  # characters of text read: a retelling states its facts early
SUMMARY_PROBE = 60  # characters of a summary looked for in the text, to tell whether the text repeats it

_TOKEN = re.compile(r"[^\W\d_]+")
_STOP = {
    "en": """the and for with from that this which who will would said says after before than more also but not
        are was were been has have had its their they his her about over into per all new year last next
        first one two three four five six seven eight nine ten some most such other while when where what
        there here them then only just being under between since during against among within""",
    "ru": """и в во на с со по за к о об от до из у не что как это а но для при же ли его ее её их он она они
        был была были было будет будут также уже ещё еще году года год сообщил сообщили заявил более
        менее после около через этом этого который которая которые которых так там тут или если чем
        между без над под всех все всё при этой свой своей её них""",
    "kk": """және мен бен пен да де та те бұл ол осы үшін деп жылы жыл бойынша арқылы туралы бар жоқ болды
        болып еді екі бір оның олар сол соң кейін дейін ретінде тағы әрі бірақ алайда сондай""",
}
STOP = {lang: frozenset(words.split()) for lang, words in _STOP.items()}


@dataclass(frozen=True)
class Facts:
    """What one item states that other languages state alike: its language, names and quantities."""

    lang: str
    names: frozenset[str]
    quantities: frozenset[str]
    entities: tuple[frozenset[str], ...] = ()  # one each person, place or body ("Tokayev", "Kassym-Jomart Tokayev")
    times: frozenset[str] = frozenset()  # months without a day and days of the week (``quantities.when``)
    keys: frozenset[str] = frozenset()  # the facts that compare across languages: names, quantities, times
    rough: frozenset[str] = frozenset()  # the quantities given roughly, and which way: "2e+06>" (just over 2 million)

    def __post_init__(self) -> None:
        if not self.keys:
            object.__setattr__(self, "keys", self.names | self.quantities | self.times)


@lru_cache(maxsize=2)
def _stemmer(lang: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("russian" if lang == "ru" else "english")


class Reader:
    """Read items into facts, caching what is the same for a word wherever it occurs."""

    def __init__(self, lowercase: Collection[str] | None = None) -> None:
        self.lowercase = lowercase if lowercase is not None else set()  # words the batch writes in lower case
        self._stems: dict[tuple[str, str], str] = {}
        self._names: dict[tuple[str, str], tuple[str, ...]] = {}
        self._groups: dict[tuple[str, str], str | None] = {}

    def stem(self, word: str, lang: str) -> str:
        """Return the stem of a folded word in ``lang``."""
        key = (word, lang)
        found = self._stems.get(key)
        if found is None:
            found = kazakh_root(word) if lang == "kk" else str(_stemmer(lang).stemWord(word))
            if lang == "en" and len(found) >= 8 and found.endswith("ment"):  # "shipment" → "ship", "agreement" → "agre"
                found = str(_stemmer(lang).stemWord(found[:-4]))
            self._stems[key] = found
        return found

    def name(self, word: str, lang: str) -> tuple[str, ...]:
        """Return the keys of a folded name."""
        key = (word, lang)
        found = self._names.get(key)
        if found is None:
            # "Казатомпром", "Қазатомөнеркәсіп": a known company's one key in any script, instead of its spellings'
            known = gazetteer().company_of(word)
            found = self._names[key] = (f"={fold(known)}",) if known else keys(word, lang)
        return found

    def group(self, word: str, lang: str) -> str | None:
        """Return the exonym group of a folded word in lower case ("российских" → "russia"), else None."""
        key = (word, lang)
        if key not in self._groups:
            self._groups[key] = exonym(word, lang)
        return self._groups[key]

    def read(self, item: Item) -> Facts:
        """Return the facts of ``item`` (its words are read apart, by ``words``, when needed)."""
        return self.read_text(item.title, text_of(item), year=year_of(item))

    def read_text(self, title: str, body: str, lang: str | None = None, year: int | None = None) -> Facts:
        """Return the facts of a headline and a text, in ``lang`` (by default the language of their letters).

        Given the ``year`` it was published, "next year" is read as that year and one.
        """
        text = f"{title}\n{body}"
        lang = lang or language(text)
        entities = capitalised_names(text, len(title), lang, lowercase=self.lowercase, stop=STOP[lang],
                                     name=self.name, group=self.group)
        if lang != "en":  # "российских", "қытайлық": Russian and Kazakh write them in lower case
            for match in _exonym_words().finditer(text.casefold()):
                if (group := self.group(match.group(), lang)) is not None:
                    entities.append({group})
        stated, rough = figures(text, lang, year)
        return Facts(lang, frozenset().union(*entities), frozenset(stated),
                     joined(entities), frozenset(when(text)),
                     rough=frozenset(rough))

    def words(self, item: Item, lang: str) -> dict[str, int]:
        """Return the stems of ``item``'s words in ``lang`` with their counts, little words left out."""
        return self._stems_of(_TOKEN.findall(f"{item.title}\n{text_of(item)}".casefold()), lang)

    def plain(self, text: str, lang: str) -> dict[str, int]:
        """Return the stems of the words ``text`` writes in lower case (what it says, not whom it names)."""
        return self._stems_of([w for w in _TOKEN.findall(text) if w.islower()], lang)

    def cognates(self, text: str, lang: str) -> dict[str, str]:
        """Return the cognate keys of the words ``text`` writes in lower case, each with its word (``cognates``)."""
        stop = STOP[lang]
        return cognates.keys(w.replace("ё", "е") for w in _TOKEN.findall(text) if w.islower() and w not in stop)

    def _stems_of(self, tokens: list[str], lang: str) -> dict[str, int]:
        stop = STOP[lang]
        found: Counter[str] = Counter()
        for word, n in Counter(tokens).items():
            word = word.replace("ё", "е")
            if len(word) >= 3 and word not in stop:
                found[self.stem(word, lang)] += n
        return dict(found)


@lru_cache(maxsize=1)
def _exonym_words() -> re.Pattern[str]:
    """Return a pattern for the lower-case words that may be the adjective of a country ("российских")."""
    starts = {form[:4] for form in exonym_forms() if form.islower() and len(form) >= 4}
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(sorted(starts)) + r")[^\W\d_]*")


def text_of(item: Item) -> str:
    """Return the text of ``item`` that is read: its summary when its text does not open with it, then its text.

    A feed entry may carry a standfirst of its own beside its text ("Tashkent has closed talks
    with 28 of the 32 members…"): it is the story's too.
    """
    body = item.body[:TEXT_LIMIT]
    if not item.summary or body.startswith(item.summary[:SUMMARY_PROBE]):
        return body
    opening = " ".join(item.summary[:SUMMARY_PROBE].split())
    if not opening or opening in " ".join(body[:2 * SUMMARY_PROBE].split()):
        return body
    return f"{item.summary[:TEXT_LIMIT]}\n{body}"[:TEXT_LIMIT]


def year_of(item: Item) -> int:
    """Return the year ``item`` was published (gathered, when it does not say): what "next year" counts from."""
    return (item.published_at or item.gathered_at).year


def lowercase_words(items: Iterable[Item]) -> Counter[str]:
    """Return the words the items write in lower case somewhere (folded as names are), each with how many do."""
    found: Counter[str] = Counter()
    for item in items:
        found.update(set(_TOKEN.findall(f"{item.title}\n{text_of(item)}")))
    lowercase: Counter[str] = Counter()
    for word, n in found.items():
        if word.islower():
            lowercase[word.replace("ё", "е")] += n
    return lowercase
