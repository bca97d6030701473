"""Facts: what an item states that survives a paraphrase or a translation, and how rare each fact is.

An item's facts are its names (``names``: the same key in any script), its quantities
(``quantities``: numbers, shares, dates and times) and its looser times (``quantities.when``:
a month without a day, a day of the week). For comparing with items in the same
language, its words reduced to their stems (Snowball for English and Russian, the Kazakh
endings of ``names`` for Kazakh; an English noun in "-ment" is its verb's stem, "shipment"
"ship", as Snowball makes "development" "develop" but not a short word), without the
little words every text has, are read when a comparison needs them; for comparing across
languages, the international words it writes in lower case ("протокол", "protocol": ``cognates``) and the subjects it is about
("flu", "school": ``lexicon``).

Its names are read from the words it writes with capitals (``entities``: "Officials
said…" is no name, "European Union" is the EU); months and days of the week are times.

``Batch`` reads a list of items once and says how rare each fact is among them (a name
every item carries tells nothing), and which cognates they write too often to tell
anything (``Batch.common``). ``Batch.candidates`` pairs items that share two rare
facts, found through an index from each rare fact to the items that state it, looked up
for an item's ``RAREST`` rarest facts: an item meets only the few items that share a rare
fact with it, never every other item, so the cost grows with the batch, not its square.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import snowballstemmer

from newsletter.edit import cognates
from newsletter.edit.entities import entities as capitalised_names
from newsletter.edit.entities import joined
from newsletter.edit.keywords import fold
from newsletter.edit.known import gazetteer
from newsletter.edit.lexicon import subjects
from newsletter.edit.names import exonym, exonym_forms, kazakh_root, keys, language
from newsletter.edit.quantities import figures, when
from newsletter.edit.stories import is_paragraph
from newsletter.gather.readers.document import sentences
from newsletter.item import Item

K = TypeVar("K")
V = TypeVar("V")

TEXT_LIMIT = 3_000  # characters of text read: a retelling states its facts early
SUMMARY_PROBE = 60  # characters of a summary looked for in the text, to tell whether the text repeats it
RAREST = 6  # an item looks for partners through this many of its rarest facts
CROWD = 0.01  # a fact more than this share of the batch carries is not a way to find partners
MIN_CROWD = 40
SAMPLE = 1_000  # items read to learn which words the batch writes in lower case

_TOKEN = re.compile(r"[^\W\d_]+")
_CLAUSE = re.compile(r"[,;:]\s+|\s+[—–-]\s+")  # between the clauses of a sentence ("2,000" is one figure)
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


def sample(items: Sequence[Item]) -> Sequence[Item]:
    """Return ``SAMPLE`` items spread over ``items``, or all when fewer: common words are common everywhere."""
    return items[::max(1, len(items) // SAMPLE)]


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


class Batch:
    """The facts of a list of items and how many of them state each fact."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        sampled = sample(items)
        lowercase = lowercase_words(sampled)
        reader = Reader(lowercase)
        self.facts = [reader.read(i) for i in items]
        self.counts: Counter[str] = Counter(k for f in self.facts for k in f.keys)
        size = len(self.facts) + 1
        # How much sharing a fact says: the rarer in the batch, the more.
        self.weights = {k: math.log(size / n) + 1 for k, n in self.counts.items()}
        self.totals = [sum(self.weights[k] for k in f.keys) for f in self.facts]  # what each item states, weighed
        self._reader = reader
        self.common = cognates.Common(lowercase, len(sampled))  # the cognates that sharing one tells nothing
        self._cognates: dict[int, dict[str, str]] = {}
        self._subjects: dict[int, frozenset[str]] = {}
        self._sentence_cognates: dict[tuple[int, int], dict[str, str]] = {}
        self._words: dict[int, dict[str, int]] = {}
        self._plain: dict[int, dict[str, int]] = {}
        self._sentences: dict[int, list[str]] = {}
        self._sentence_words: dict[int, list[dict[str, int]]] = {}
        self._sentence_facts: dict[tuple[int, int], frozenset[str]] = {}
        self._clauses: dict[tuple[int, int], list[tuple[dict[str, int], Facts]]] = {}
        self._headlines: dict[int, tuple[tuple[frozenset[str], ...], frozenset[str]]] = {}

    def weight(self, key: str) -> float:
        """Return how much sharing ``key`` says: the rarer in the batch, the more."""
        return self.weights[key]

    def words(self, position: int) -> dict[str, int]:
        """Return the stemmed words of the item at ``position`` with their counts (read once, when first asked)."""
        return _once(self._words, position, lambda: self._reader.words(self.items[position], self.facts[position].lang))

    def plain(self, position: int) -> dict[str, int]:
        """Return the stems of the words the item at ``position`` writes in lower case, with their counts."""
        return _once(self._plain, position, lambda: self._reader.plain(self._whole(position), self.facts[position].lang))

    def sentences(self, position: int) -> list[dict[str, int]]:
        """Return the plain words (``Reader.plain``) of each sentence of the text of the item at ``position``."""
        found = self._sentence_words.get(position)
        if found is None:
            texts = self._sentences[position] = sentences(" ".join(self.items[position].body[:TEXT_LIMIT].split()))
            lang = self.facts[position].lang
            found = self._sentence_words[position] = [self._reader.plain(text, lang) for text in texts]
        return found

    def sentence_facts(self, position: int, index: int) -> frozenset[str]:
        """Return the facts of sentence ``index`` of the item at ``position`` (``sentences`` first), read once."""
        found = self._sentence_facts.get((position, index))
        if found is None:
            text, lang = self._sentences[position][index], self.facts[position].lang
            year = year_of(self.items[position])
            found = self._sentence_facts[(position, index)] = self._reader.read_text("", text, lang, year).keys
        return found

    def clauses(self, position: int, index: int) -> list[tuple[dict[str, int], Facts]]:
        """Return the plain words and the facts of each clause of sentence ``index`` of the item at ``position``
        (``sentences`` first): its pieces between commas, semicolons, colons and dashes."""
        text, lang, year = self._sentences[position][index], self.facts[position].lang, year_of(self.items[position])
        return _once(self._clauses, (position, index), lambda: [
            (self._reader.plain(c, lang), self._reader.read_text("", c, lang, year)) for c in _CLAUSE.split(text)])

    def cognates(self, position: int) -> dict[str, str]:
        """Return the cognate keys of the words the item at ``position`` writes in lower case, each with its word."""
        return _once(self._cognates, position,
                     lambda: self._reader.cognates(self._whole(position), self.facts[position].lang))

    def subjects(self, position: int) -> frozenset[str]:
        """Return what the item at ``position`` is about ("flu", "school": ``lexicon``), in any of its languages."""
        return _once(self._subjects, position, lambda: subjects(self._whole(position)))

    def sentence_cognates(self, position: int, index: int) -> dict[str, str]:
        """Return the cognates (``cognates``) of sentence ``index`` of the item at ``position`` (``sentences`` first)."""
        found = self._sentence_cognates.get((position, index))
        if found is None:
            text, lang = self._sentences[position][index], self.facts[position].lang
            found = self._sentence_cognates[(position, index)] = self._reader.cognates(text, lang)
        return found

    def _whole(self, position: int) -> str:
        """Return the headline and the text read (``text_of``) of the item at ``position``."""
        item = self.items[position]
        return f"{item.title}\n{text_of(item)}"

    def heading(self, position: int) -> frozenset[str]:
        """Return the facts of the inline heading of the item at ``position`` ("Tajikistan."), if it has one."""
        label = self.items[position].label
        lang, year = self.facts[position].lang, year_of(self.items[position])
        return self._reader.read_text(label, "", lang, year).keys if label else frozenset()

    def headline(self, position: int) -> tuple[tuple[frozenset[str], ...], frozenset[str]]:
        """Return the names of the headline of the item at ``position`` that its text names too (one per
        entity), and the headline's figures; none for a paragraph.

        A capitalised word of a headline alone may be no name ("Thousands Shiver in Temirtau",
        "Мороз и ни капли горячей воды"); what comes before a colon is the headline's topic or
        speaker ("Аккенженов: …"), and a briefing paragraph's heading names its topic
        ("Politics."): neither says who acts.
        """
        item = self.items[position]
        title = "" if is_paragraph(item) else item.title.rpartition(":")[2]
        lang, year = self.facts[position].lang, year_of(self.items[position])

        def read() -> tuple[tuple[frozenset[str], ...], frozenset[str]]:
            if not title.strip():
                return (), frozenset()
            text = self._reader.read_text("", text_of(item), lang, year).names  # a name the text confirms
            said = self._reader.read_text(title, "", lang, year)
            return tuple(e for e in said.entities if e & text), said.quantities

        return _once(self._headlines, position, read)

    def similarity(self, a: int, b: int) -> float:
        """Return the cosine similarity of two items' stemmed words (0 across languages)."""
        if self.facts[a].lang != self.facts[b].lang:
            return 0.0
        wa, wb = self.words(a), self.words(b)
        small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
        dot = sum(n * large[w] for w, n in small.items() if w in large)
        norms = math.sqrt(sum(n * n for n in wa.values()) * sum(n * n for n in wb.values()))
        return dot / norms if norms else 0.0

    def candidates(self) -> Iterator[tuple[int, int]]:
        """Yield each pair of positions ``(i, j)``, ``i < j``, that shares one of either's rarest facts.

        Facts are names and quantities; one that more than ``CROWD`` of the batch states
        (``MIN_CROWD`` items at least) is not rare, and a pair must share two rare facts.
        """
        crowd = max(MIN_CROWD, int(CROWD * len(self.facts)))
        counts = self.counts
        index: defaultdict[str, list[int]] = defaultdict(list)  # each rare fact's positions, in order
        chosen: list[list[str]] = []
        keys: list[frozenset[str]] = []  # each item's rare facts
        for position, facts in enumerate(self.facts):
            rare = [k for k in facts.keys if 1 < counts[k] <= crowd]
            for key in rare:
                index[key].append(position)
            keys.append(frozenset(rare))
            if len(rare) > RAREST:  # else it looks up all of them, in any order
                rare.sort(key=lambda k: (counts[k], k))
            chosen.append(rare[:RAREST])
        # An item with no more rare facts than it looks up meets every item it shares two with: it
        # looks up all of them. Only an item with more may share two with one that never meets it.
        many = {position for position, rare in enumerate(keys) if len(rare) > RAREST}
        for position, rare in enumerate(chosen):
            mine = keys[position]
            later: set[int] = set()  # the items after this one it meets
            twice: set[int] = set()  # ... through two of its rarest facts, which is enough
            earlier: set[int] = set()  # the items before it that it meets and that may not meet it
            for key in rare:
                found = index[key]
                cut = bisect_left(found, position)
                after = found[cut + 1:]  # the lists are in order, and hold ``position`` itself at ``cut``
                twice.update(later.intersection(after))
                later.update(after)
                if many:
                    earlier.update(many.intersection(found[:cut]))
            if len(mine) > len(rare):  # some of its rare facts were not looked up: one of those may be a second
                twice.update(other for other in later - twice if len(mine & keys[other]) >= 2)
            pairs = [(position, other) for other in twice]
            # An earlier item that did not meet this one (none of its rarest facts is one of this one's).
            pairs.extend((other, position) for other in earlier
                         if mine.isdisjoint(chosen[other]) and len(mine & keys[other]) >= 2)
            yield from sorted(pairs)


def _once(cache: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """Return ``cache[key]``, made by ``make`` and kept the first time it is asked for."""
    found = cache.get(key)
    if found is None:
        found = cache[key] = make()
    return found
