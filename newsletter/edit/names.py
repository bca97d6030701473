"""Names across scripts: a key that is equal for one name written in English, Russian or Kazakh.

"Токаев", "Тоқаевтың" and "Tokayev's" are one person; "Хоргос", "Қорғас" and "Khorgos"
one place. A name's key is made in three steps:

1. its ending goes: a Russian case ending ("Токаевым" → "токаев", "Новороссийском" →
   "новороссийск", "Рогунской" → "рогун", "Алматинской" → "алмат") or a Kazakh suffix ("Тоқаевтың" → "тоқаев",
   "Астанада" → "астана"); never the "-стан" of a country;
2. Cyrillic becomes Latin letters (Kazakh letters too: "қ" → "k", "ң" → "ng");
3. the Latin spelling becomes a skeleton of consonant sounds: vowels, "y" and soft signs
   go (an opening vowel leaves one mark), spellings of one sound become one letter ("kh",
   "h", "q", "g" → "k"; "zh", "dzh", "dj" → "j"; "sh", "ch", "z", "ts" → "s"; "d" → "t";
   "p" → "b"; "f", "w" → "v") and doubled letters one.

So "Tokayev" and "Токаев" are both ``tkv``, "Mirziyoyev" and "Мирзиёев" ``mrsv``. Names a
language spells differently ("Китай", "Қытай", "China", "Chinese") meet through a short
table of exonyms; the same table knows the adjectives of countries, which Russian and
Kazakh write in lower case ("российских", "қытайлық").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
KAZAKH = re.compile(r"[әғқңөұүһі]")  # letters of Kazakh that Russian does not use
_CYRILLIC_RUNS = re.compile(r"[\u0400-\u04ff]+")  # counted by runs: one match a word, not one a letter
_KAZAKH_RUNS = re.compile(r"[әғқңөұүһі]+")
_LATIN_RUNS = re.compile(r"[A-Za-z]+")

_LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ғ": "g", "қ": "k", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
})
# Spellings of one sound, longest first; "\x01" holds "ch" while a lone "c" becomes "k".
_SOUNDS = (("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "k"), ("gh", "k"), ("sh", "s"), ("ch", "\x01"),
           ("ph", "v"), ("ts", "s"), ("c", "k"), ("\x01", "s"), ("x", "ks"), ("q", "k"), ("h", "k"),
           ("g", "k"), ("z", "s"), ("d", "t"), ("p", "b"), ("f", "v"), ("w", "v"))
_VOWELS = frozenset("aeiouy")
_DOUBLE = re.compile(r"(.)\1+")

# Kazakh endings of case, number, possession and adjective that carry a consonant (a vowel
# ending changes no skeleton), longest first; at most two are taken off.
_KAZAKH_ENDINGS = sorted((
    "ның", "нің", "дың", "дің", "тың", "тің", "ға", "ге", "қа", "ке", "да", "де", "та", "те", "ны",
    "ні", "ды", "ді", "ты", "ті", "мен", "бен", "пен", "дан", "ден", "тан", "тен", "нан", "нен",
    "дағы", "дегі", "тағы", "тегі", "ндағы", "ндегі", "лар", "лер", "дар", "дер", "тар", "тер",
    "сы", "сі", "сын", "сін", "сына", "сіне", "сында", "сінде", "сынан", "сінен", "лық", "лік",
    "дық", "дік", "тық", "тік",
), key=len, reverse=True)
# ... of which these also end many names ("Алматы", "Ақорда", "Қарағанды", "Достық"): a name
# may keep them, so both are tried.
_KAZAKH_AMBIGUOUS = frozenset(("ды", "ді", "ты", "ті", "ны", "ні", "да", "де", "та", "те", "сы", "сі", "лық", "лік",
                               "дық", "дік", "тық", "тік"))
# Russian: a surname keeps its "-ов", "-ин" ("Токаевым" → "токаев"); adjectives of places
# ("Рогунской", "российских") lose "-ский"; other case endings with a consonant go.
_SURNAME = re.compile(r"^(.{2,}?(?:ов|ев|ёв|ин|ын))(?:а|у|ым|ом|е|ой|ы|ых|ыми|им|ой)?$")
_ADJECTIVE = re.compile(r"(?:ский|ской|ского|скому|ским|ская|скую|ские|ских|ское|скими)$")
_CASE = re.compile(r"(?:ами|ями|ыми|ими|ом|ём|ем|ам|ям|ах|ях|ым|им)$")
_TRAILING = re.compile(r"[aeiouyаеёиоуыэюяйьәөұүі]+$")
_NOUN_CASE = re.compile(r"[аяуюеиы]|[ое]й|[ое]ю|ом|ем")  # what a Russian noun's oblique case puts after its stem
MIN_ROOT = 3

# Names each language spells its own way (and the adjectives of countries), one group a line.
EXONYMS = """
kazakhstan: Kazakhstan Kazakh Kazakhs Казахстан казахстанский казахский Қазақстан қазақстандық қазақ
russia: Russia Russian Russians Россия российский русский РФ Ресей ресейлік
china: China Chinese PRC Китай китайский КНР Қытай қытайлық ҚХР
beijing: Beijing Пекин Бейжің
moscow: Moscow Москва московский Мәскеу
kyrgyzstan: Kyrgyzstan Kyrgyz Кыргызстан Киргизия кыргызский киргизский кыргызстанский Қырғызстан қырғыз
tajikistan: Tajikistan Tajik Таджикистан таджикский Тәжікстан тәжік
uzbekistan: Uzbekistan Uzbek Узбекистан узбекский Өзбекстан өзбек
turkmenistan: Turkmenistan Turkmen Туркменистан туркменский Түрікменстан түрікмен
ukraine: Ukraine Ukrainian Украина украинский Украина украиналық
turkey: Turkey Turkish Турция турецкий Түркия түрік
europe: Europe European Европа европейский Еуропа
us: US USA America American США американский Америка АҚШ американдық
eu: EU Евросоюз ЕС Еуроодақ ЕО
un: UN ООН БҰҰ
cis: CIS СНГ ТМД
csto: CSTO ОДКБ ҰҚШҰ
sco: SCO ШОС ШЫҰ
eaeu: EAEU ЕАЭС ЕАЭО
cpc: CPC КТК
ktz: KTZ КТЖ ҚТЖ
osce: OSCE ОБСЕ ЕҚЫҰ
xi: Xi Си
iss: ISS МКС ХҒС
"""


def language(text: str) -> str:
    """Return the language of ``text`` by its letters: "kk" with Kazakh letters, "ru" Cyrillic, else "en"."""
    cyrillic = sum(map(len, _CYRILLIC_RUNS.findall(text)))
    # Mostly Latin letters: a Russian text quoting an English name stays Russian, an English
    # one quoting Kazakh slogans («Заң мен тәртіп») stays English.
    if cyrillic * 4 < len(text) // 2 or sum(map(len, _LATIN_RUNS.findall(text))) >= 2 * cyrillic:
        return "en"
    return "kk" if sum(map(len, _KAZAKH_RUNS.findall(text.casefold()))) * 60 >= cyrillic else "ru"


def kazakh_root(word: str) -> str:
    """Return a folded Kazakh word without its endings (at most two), never shorter than ``MIN_ROOT``."""
    return kazakh_roots(word)[-1]


def kazakh_roots(word: str) -> tuple[str, ...]:
    """Return what a folded Kazakh word may be without its endings, the barest last.

    "тоқаевтың" is "тоқаев"; "алматыда" may be "алматы" or "алма", since "-ты" ends
    names as well as words: each ending that may belong to the name keeps the word before it too.
    """
    found = []
    for _ in range(2):
        if word.endswith("стан"):
            break
        ending = next((e for e in _KAZAKH_ENDINGS if word.endswith(e) and len(word) - len(e) >= MIN_ROOT), None)
        if ending is None:
            break
        if ending in _KAZAKH_AMBIGUOUS:
            found.append(word)
        word = word[:-len(ending)]
    found.append(word)
    return tuple(dict.fromkeys(found))


def root(word: str, lang: str) -> str:
    """Return a folded word without the ending its language adds ("токаевым" → "токаев")."""
    if not CYRILLIC.search(word):
        return word
    if lang == "kk" or KAZAKH.search(word):
        return kazakh_root(word)
    if (surname := _SURNAME.match(word)) is not None:
        return surname.group(1)
    stripped = _ADJECTIVE.sub("", word)
    if stripped != word and len(stripped) >= MIN_ROOT:
        # "Алматинской" is of Алматы, "Карагандинской" of Караганда: "-ин-" joins a vowel to "-ский".
        return stripped[:-2] if stripped.endswith("ин") and len(stripped) >= 6 else stripped
    stripped = _CASE.sub("", word)
    return stripped if len(stripped) >= MIN_ROOT else word


def latin(word: str) -> str:
    """Return a folded word in any script in the Latin letters a–z ("қорғас" → "korgas", "café" → "cafe")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.translate(_LATIN)) if "a" <= c <= "z")


def skeleton(word: str) -> str:
    """Return the consonant skeleton of a folded word in any script ("токаев" → "tkv")."""
    letters = latin(word)
    if not letters:
        return ""
    for spelling, sound in _SOUNDS:
        letters = letters.replace(spelling, sound)
    opening = "a" if letters[0] in _VOWELS else ""
    return opening + _DOUBLE.sub(r"\1", "".join(c for c in letters if c not in _VOWELS))


@lru_cache(maxsize=1)
def _exonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in EXONYMS.strip().splitlines():
        group, _, forms = line.partition(":")
        for form in forms.split():
            folded = form.casefold()
            lang = language(form)
            table[folded] = group
            if len(bare := _TRAILING.sub("", root(folded, lang))) >= 2:
                table[bare] = group
    return table


def exonym_forms() -> list[str]:
    """Return every form the exonym table lists, folded ("российский", "қытайлық", "china")."""
    return [form.casefold() for line in EXONYMS.strip().splitlines() for form in line.partition(":")[2].split()]


def exonym(folded: str, lang: str) -> str | None:
    """Return the group of a folded word the exonym table knows ("қытайлық" → "china"), else None."""
    table = _exonyms()
    return table.get(folded) or table.get(_TRAILING.sub("", root(folded, lang)))


@lru_cache(maxsize=1)
def _nominatives() -> dict[str, tuple[str, ...]]:
    """Return each exonym group's Russian nouns without their last vowel ("узбекистан", "пекин", "москв", "кита")."""
    found: dict[str, list[str]] = {}
    for line in EXONYMS.strip().splitlines():
        group, _, forms = line.partition(":")
        for form in forms.split():
            if form[0].isupper() and not form.isupper() and language(form) == "ru" and len(form) > MIN_ROOT:
                folded = form.casefold()
                found.setdefault(group, []).append(folded[:-1] if _TRAILING.search(folded) else folded)
    return {group: tuple(stems) for group, stems in found.items()}


def oblique(folded: str, lang: str) -> bool:
    """Return whether a folded Russian word is a place or body of the exonym table in a case other than the nominative.

    "узбекистана", "пекине", "китая", "евросоюза" are; "узбекистан" is not, nor the adjective
    "европейского" (an adjective agrees with the noun after it: "Европейского Союза" is one name).
    """
    if lang != "ru" or (group := exonym(folded, lang)) is None:
        return False
    return folded not in _exonym_set() and any(folded.startswith(stem) and _NOUN_CASE.fullmatch(folded, len(stem))
                                               for stem in _nominatives().get(group, ()))


@lru_cache(maxsize=1)
def _exonym_set() -> frozenset[str]:
    return frozenset(exonym_forms())


def keys(folded: str, lang: str) -> tuple[str, ...]:
    """Return the keys of a folded name: its exonym group, else its skeletons.

    Two or more when a Kazakh ending may belong to the name (``kazakh_roots``) or "ң" may be
    "n" or "ng"; a key of two letters is then left out.
    """
    group = exonym(folded, lang)
    if group is not None:
        return (group,)
    bases = kazakh_roots(folded) if CYRILLIC.search(folded) and (lang == "kk" or KAZAKH.search(folded)) else (
        root(folded, lang),)
    found = {skeleton(base) for base in bases} | {skeleton(base.replace("ң", "н")) for base in bases if "ң" in base}
    if len(found) > 1 and any(len(k) >= 3 for k in found):
        return tuple(sorted(k for k in found if len(k) >= 3))  # "достық": "tstk", not a "ts" shared with "DDoS"
    return tuple(k for k in found if len(k) >= 2)
