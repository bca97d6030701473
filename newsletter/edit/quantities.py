"""Quantities: the numbers, shares and dates a text states, equal however a language writes them.

"1.2 billion", "$1.2bn", "1,2 млрд" and "1 200 млн" are all ``1.2e+09``; "30%", "30 per
cent", "30 процентов" and "30 пайыз" are ``30%``; "15 March", "March 15", "15 марта" and
"15 наурызда" are ``03-15``; "2:14" is a time, "4–3" or "4:3" a score. English writes "1,006" for a thousand and six
and Russian and Kazakh "1,2" for one point two, so the comma is read by the text's
language. Bare numbers under ten say too little to compare stories by, and are left out;
a year stands alone, marked as one ("2027y"), so that it is not taken for a count.
"""

from __future__ import annotations

import re

_MONTHS = {
    1: "january jan января январе январь қаңтар",
    2: "february feb февраля феврале февраль ақпан",
    3: "march mar марта марте март наурыз",
    4: "april apr апреля апреле апрель сәуір",
    5: "may мая мае май мамыр",
    6: "june jun июня июне июнь маусым",
    7: "july jul июля июле июль шілде",
    8: "august aug августа августе август тамыз",
    9: "september sep sept сентября сентябре сентябрь қыркүйек",
    10: "october oct октября октябре октябрь қазан",
    11: "november nov ноября ноябре ноябрь қараша",
    12: "december dec декабря декабре декабрь желтоқсан",
}
MONTHS = {name: number for number, names in _MONTHS.items() for name in names.split()}

# How much a word after a number multiplies it (a prefix of the word is enough: "млрд", "миллиарда").
_SCALES = (
    ("trillion", 1e12), ("trn", 1e12), ("трлн", 1e12), ("триллион", 1e12),
    ("billion", 1e9), ("bn", 1e9), ("млрд", 1e9), ("миллиард", 1e9),
    ("million", 1e6), ("mln", 1e6), ("mn", 1e6), ("млн", 1e6), ("миллион", 1e6),
    ("thousand", 1e3), ("тыс", 1e3), ("тысяч", 1e3), ("мың", 1e3),
)
_PERCENT = ("%", "percent", "per cent", "процент", "пайыз")  # a number followed by one of these is a share
_NUMBER = re.compile(
    r"(?<![\w.,:])(?P<number>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?!:\d)(?:(?P<sep>[.,])(?P<fraction>\d+))?"
    r"(?:\s*(?:-|–)?\s*(?P<unit>%|per cent|percent|[^\W\d_]+))?",
)
_ANY = re.compile(r"(?<![\w.,:])\d")  # a number starts here: one quick look before the others
_TIME = re.compile(r"(?<![\d:.,])([012]?\d):([0-5]\d)(?![\d:])")
_SCORE = re.compile(r"(?<![\d:.,–-])(\d{1,2})\s?[–:-]\s?(\d{1,2})(?![\d:.,–-])")  # "4–3", "4:3"
_AFTER = re.compile(r"(?:st|nd|rd|th)?(?:-?(?:го|е))?\s+([^\W\d_]+)")  # the word after a day
_BEFORE = re.compile(r"([^\W\d_]+)\s+$")  # the word before it


_STARTS = tuple(word for word, _ in _SCALES)


def _scale(unit: str) -> float | None:
    if not unit.startswith(_STARTS):
        return None
    for word, factor in _SCALES:
        if unit == word or (len(word) >= 3 and unit.startswith(word)):
            return factor
    return None


def _value(match: re.Match[str], lang: str) -> float:
    number = re.sub(r"\D", "", match.group("number"))
    sep, fraction = match.group("sep"), match.group("fraction")
    if sep is None:
        return float(number)
    if sep == "," and lang == "en" and len(fraction) == 3:  # "1,006": a thousand and six
        return float(number + fraction)
    if sep == "." and lang != "en" and len(fraction) == 3 and not match.group("unit"):  # "1.006" in Russian
        return float(number + fraction)
    return float(f"{number}.{fraction}")


def _month(word: str) -> int | None:
    """Return the month a word names ("марта", "наурызда": Kazakh adds endings), else None."""
    word = word.casefold().rstrip(".")
    found = MONTHS.get(word)
    if found is None and len(word) > 5:
        found = next((MONTHS[word[:n]] for n in (9, 8, 6, 5) if word[:n] in MONTHS), None)
    return found


def quantities(text: str, lang: str) -> set[str]:
    """Return the quantities ``text`` states, as keys equal across languages and spellings."""
    found: set[str] = set()
    if not _ANY.search(text):
        return found
    times = set()
    for m in _TIME.finditer(text):
        if int(m.group(1)) < 24:
            found.add(f"{int(m.group(1))}:{m.group(2)}")
            times.add(m.span())
    for m in _SCORE.finditer(text):
        if m.span() not in times:
            found.add(f"{m.group(1)}–{m.group(2)}")
    for m in _NUMBER.finditer(text):
        if m.group("sep") is None and len(m.group("number")) <= 2 and 1 <= int(m.group("number")) <= 31:
            after = _AFTER.match(text, m.end("number"))
            before = _BEFORE.search(text, max(0, m.start() - 12), m.start())
            month = (after and _month(after.group(1))) or (before and _month(before.group(1)))
            if month:  # "15 марта", "15 наурызда", "March 15"
                found.add(f"{month:02d}-{int(m.group('number')):02d}")
                continue
        value = _value(m, lang)
        unit = (m.group("unit") or "").casefold()
        if unit.startswith(_PERCENT):
            found.add(f"{value:g}%")
            continue
        factor = _scale(unit) if unit else None
        if factor is not None:
            found.add(f"{value * factor:.3g}")
        elif m.group("sep") is None and 1900 <= value <= 2100:
            found.add(f"{value:g}y")
        elif value >= 10 or m.group("sep"):
            found.add(f"{value:.3g}")
    return found


_NAMES = {1e12: "trillion", 1e9: "billion", 1e6: "million"}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")


def describe(key: str) -> str:
    """Return a quantity key as a reader writes it: "1.2e+09" → "1.2 billion", "03-15" → "15 March"."""
    if re.fullmatch(r"\d\d-\d\d", key):
        return f"{int(key[3:])} {_MONTH_NAMES[int(key[:2]) - 1]}"
    if key.endswith("y"):
        return key[:-1]
    if key.endswith("%") or not re.fullmatch(r"[\d.e+]+", key):
        return key
    value = float(key)
    for factor, name in _NAMES.items():
        if value >= factor:
            return f"{value / factor:g} {name}"
    return f"{value:,g}"
