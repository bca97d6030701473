"""Quantities: the numbers, shares and dates a text states, equal however a language writes them.

"1.2 billion", "$1.2bn", "1,2 млрд" and "1 200 млн" are all ``1.2e+09``; "30%", "30 per
cent", "30 процентов" and "30 пайыз" are ``30%``; "15 March", "March 15", "15 марта" and
"15 наурызда" (or "15-наурызда") are ``03-15`` (and "17.11.2026" is ``11-17`` with its year); "2:14" is a time, "4–3" or "4:3" a
score; "50 basis points" and "0,5 п.п." are ``0.5%``; "$350m" is 350 million. English writes "1,006" for a thousand
and six and Russian and Kazakh "1,2" for one point two, so the comma is read by the text's
language ("1,200,000" is a million and more in any). Bare numbers under ten say too little to compare stories by,
and are left out; a year stands alone, marked as one ("2027y"), so that it is not taken for a count.
An amount of money keeps the currency it is given in ("1.2 billion yuan" is ``1.2e+09 CNY``,
"$1.2bn", "1,2 млрд долларов" and "1,2 млрд АҚШ доллары" ``1.2e+09 USD``): two currencies are two figures. Given the
year a text was published, "next year", "в следующем году" and "келесі жылы" are the year after
("2027y"), "this year" and "биыл" that year.
A figure given roughly ("just over 2 million", "about 450", "около 30%") is noted as rough
(``figures``), and ``near`` says whether a precise figure agrees with it ("2.02 million").

``when`` reads the looser times: a month named without a day ("in March", "с сентября":
``m03``, ``m09``) and a day of the week ("on Tuesday", "во вторник", "сейсенбіде": ``d2``).
"""

from __future__ import annotations

import re

_MONTHS = {
    1: "january января январе январь қаңтар",
    2: "february февраля феврале февраль ақпан",
    3: "march марта марте март наурыз",
    4: "april апреля апреле апрель сәуір",
    5: "may мая мае май мамыр",
    6: "june июня июне июнь маусым",
    7: "july июля июле июль шілде",
    8: "august августа августе август тамыз",
    9: "september сентября сентябре сентябрь қыркүйек",
    10: "october октября октябре октябрь қазан",
    11: "november ноября ноябре ноябрь қараша",
    12: "december декабря декабре декабрь желтоқсан",
}
_SHORT = {1: "jan", 2: "feb", 3: "mar", 4: "apr", 6: "jun", 7: "jul", 8: "aug", 9: "sep sept", 10: "oct", 11: "nov",
          12: "dec"}  # read only beside a day: "Mar 15"
MONTHS = {name: number for table in (_MONTHS, _SHORT) for number, names in table.items() for name in names.split()}

# How much a word after a number multiplies it (a prefix of the word is enough: "млрд", "миллиарда").
_SCALES = (
    ("trillion", 1e12), ("trn", 1e12), ("трлн", 1e12), ("триллион", 1e12),
    ("billion", 1e9), ("bn", 1e9), ("млрд", 1e9), ("миллиард", 1e9),
    ("million", 1e6), ("mln", 1e6), ("mn", 1e6), ("млн", 1e6), ("миллион", 1e6),
    ("thousand", 1e3), ("тыс", 1e3), ("тысяч", 1e3), ("мың", 1e3),
)
_PERCENT = ("%", "percent", "per cent", "процент", "пайыз")  # a number followed by one of these is a share
_BASIS = re.compile(r"bps?|basis|базис\w*")  # ... these, a hundredth of one: "50 basis points" are 0.5%
_CURRENCY = "$€£₸¥₽"  # "$350m": after a currency sign, "m" is a million and "k" a thousand
_NUMBER = re.compile(
    r"(?<![\w.,:])(?P<number>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d{1,3}(?:,\d{3}){2,}|\d{1,3}(?:\.\d{3}){2,}|\d+)"
    r"(?!:\d)(?:(?P<sep>[.,])(?P<fraction>\d+))?"
    r"(?:\s*(?:-|–)?\s*(?P<unit>%|per cent|percent|[^\W\d_]+))?",
)
# Amounts of money carry their currency when one is stated, before the figure ("$1.2bn", "US$", "USD 5m", "€",
# "₸500") or after it ("1.2 billion yuan", "1,2 млрд. долларов", "500 тенге", "500 ₸"): "1.2e+09 CNY" is never
# "1.2e+09 USD". A figure with no currency is a bare number, as "30" is not "30%".
_MONEY = {
    "USD": ("$", "us$", "usd", "dollar", "dollars"),
    "EUR": ("€", "eur", "euro", "euros", "евро"),
    "CNY": ("¥", "cny", "yuan"),
    "KZT": ("₸", "kzt", "tenge"),
    "RUB": ("₽", "rub", "rouble", "roubles", "ruble", "rubles"),
    "GBP": ("£", "gbp"),
    "UZS": ("uzs", "sum", "sums", "сум", "сума", "сумов", "сумы", "сумға"),
    "KGS": ("kgs", "som", "soms", "сом", "сома", "сомов", "сомы", "сомға"),
    "TJS": ("tjs", "somoni", "сомони"),
    "MANAT": ("manat", "manats"),
}
MONEY = {spelling: code for code, spellings in _MONEY.items() for spelling in spellings}
# ... and the Russian and Kazakh words by their stem, whatever their ending: "долларов", "долларға", "теңгеден".
_MONEY_STEMS = (("долл", "USD"), ("юан", "CNY"), ("рубл", "RUB"), ("тенге", "KZT"), ("теңге", "KZT"),
                ("манат", "MANAT"), ("сомони", "TJS"))
_MONEY_BEFORE = re.compile(r"(?:(?<![^\W\d_])(?:US\$|USD|EUR|CNY|KZT|RUB|GBP|UZS|KGS|TJS)|[$€£₸¥₽])[ \u00a0]?$",
                           re.IGNORECASE)
_MONEY_AFTER = re.compile(r"\.?[ \u00a0]*(?:(?:US|U\.S\.|АҚШ)[ \u00a0])?([$€£₸¥₽]|[^\W\d_]+)")
_DIGIT = re.compile(r"\d")  # one quick look before the others
# Each of these begins with a look behind, which makes the search try every position: they
# run only where a quick look (a digit first) finds what they need.
_HINTS = (re.compile(r"\d:\d"), re.compile(r"\d\s?[–:-]\s?\d"), re.compile(r"\d\.\d\d?\.\d"))
_TIME = re.compile(r"(?<![\d:.,])([012]?\d):([0-5]\d)(?![\d:])")
_SCORE = re.compile(r"(?<![\d:.,–-])(\d{1,2})\s?[–:-]\s?(\d{1,2})(?![\d:.,–-])")  # "4–3", "4:3"
_DATE = re.compile(r"(?<![\d.,])([0-3]?\d)\.([01]?\d)\.((?:19|20)\d\d)(?![\d.]\d)")  # "17.11.2026"
_POINTS = re.compile(r"\.\s?п\.")  # "0,5 п.п.": percentage points
# A day's ordinal ending: "15th", "15-го", "15-е", "15-ші" (Kazakh); Kazakh may join the month with a hyphen too
# ("15-қарашада").
_ORDINAL = r"(?:st|nd|rd|th)?(?:-?(?:го|е|ші|шы|нші|ншы))?"
_AFTER = re.compile(_ORDINAL + r"(?:\s+|-)([^\W\d_]+)")  # the word after a day
_BEFORE = re.compile(r"([^\W\d_]+)(\.?)\s+$")  # the word before it: "March 15", "Nov. 15" (not "in May. 15 people")
_DOTTED = frozenset(word for words in _SHORT.values() for word in words.split())


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


def quantities(text: str, lang: str, year: int | None = None) -> set[str]:
    """Return the quantities ``text`` states, as keys equal across languages and spellings."""
    return figures(text, lang, year)[0]


# A year named by its distance from the text's own ("next year", "в следующем году", "келесі жылы", "this year",
# "биыл", "last year"): read, when the year the text was published is known, as the year it is ("2027y").
_RELATIVE = re.compile(
    r"(?=[ntlвнсбкэпөт])"  # the letters they begin with: a quick look, where the search tries every position
    r"(?<!the )\b(?:(?P<next>next year|(?:в |на )?(?:следующ|будущ)(?:ем|его|ий) год\w*|келесі жыл\w*)"
    r"|(?P<this>this year|(?:в )?(?:этом|этого|текущ(?:ем|его)|нынешн(?:ем|его)) год\w*|биыл\w*)"
    r"|(?P<last>last year|(?:в )?прошл(?:ом|ого) год\w*|былтыр\w*|өткен жыл\w*))\b",
    re.IGNORECASE,
)
_STEPS = {"next": 1, "this": 0, "last": -1}


_YEAR_WORDS = re.compile(r"(?=[yгжб])(?:year|год|жыл|биыл|былтыр)", re.IGNORECASE)  # what every form above writes


def relative_years(text: str, year: int) -> set[str]:
    """Return the years ``text`` names by their distance from ``year``: "next year" in 2026 is "2027y"."""
    if not _YEAR_WORDS.search(text):  # most texts name no year so; this is a quicker search
        return set()
    return {f"{year + _STEPS[m.lastgroup or 'this']}y" for m in _RELATIVE.finditer(text)}


def figures(text: str, lang: str, year: int | None = None) -> tuple[set[str], set[str]]:
    """Return the quantities ``text`` states and the figures it gives roughly, each with which way it rounds.

    "more than 450" is "450>", "almost 30%" "30%<", "около 2 млн" "2e+06~". Given the ``year`` the
    text was published, "next year" is that year and one ("2027y"), as if written out.
    """
    found: set[str] = relative_years(text, year) if year is not None else set()
    rough: set[str] = set()
    if not _DIGIT.search(text):
        return found, rough
    clock, score, date = (hint.search(text) is not None for hint in _HINTS)
    times = set()
    for m in _TIME.finditer(text) if clock else ():
        if int(m.group(1)) < 24:
            found.add(f"{int(m.group(1))}:{m.group(2)}")
            times.add(m.span())
    for m in _SCORE.finditer(text) if score else ():
        if m.span() not in times:
            found.add(f"{m.group(1)}–{m.group(2)}")
    dates = []
    for m in _DATE.finditer(text) if date else ():
        day, of = int(m.group(1)), int(m.group(2))
        if 1 <= day <= 31 and 1 <= of <= 12:
            found.update((f"{of:02d}-{day:02d}", f"{m.group(3)}y"))
            dates.append(m.span())
    for m in _NUMBER.finditer(text):
        if dates and any(start <= m.start() < end for start, end in dates):
            continue
        if m.group("sep") is None and len(m.group("number")) <= 2 and 1 <= int(m.group("number")) <= 31:
            after = _AFTER.match(text, m.end("number"))
            before = _BEFORE.search(text, max(0, m.start() - 12), m.start())
            month = (after and _month(after.group(1))) or (
                before and (not before.group(2) or before.group(1).casefold() in _DOTTED) and _month(before.group(1)))
            if month:  # "15 марта", "15 наурызда", "March 15"
                found.add(f"{month:02d}-{int(m.group('number')):02d}")
                continue
        value = _value(m, lang)
        unit = (m.group("unit") or "").casefold()
        factor = None
        if unit.startswith(_PERCENT) or (unit == "п" and _POINTS.match(text, m.end())):
            key = f"{value:g}%"
        elif _BASIS.fullmatch(unit):
            key = f"{value / 100:g}%"
        elif (factor := _scale(unit) if unit else None) is None and unit in ("m", "k") and m.start() \
                and text[m.start() - 1] in _CURRENCY:
            key = f"{value * (1e6 if unit == 'm' else 1e3):.3g}" + _money(text, m, scaled=True)
        elif factor is not None:
            key = f"{value * factor:.3g}" + _money(text, m, scaled=True)
        elif money := _money(text, m, scaled=False):  # "$2000", "500 тенге": an amount, not a year
            key = f"{value:.3g}{money}"
        elif m.group("sep") is None and 1900 <= value <= 2100:
            found.add(f"{value:g}y")
            continue
        elif value >= 10 or m.group("sep"):
            key = f"{value:.3g}"
        else:
            continue
        found.add(key)
        if way := _rough(text, m.start()):
            rough.add(key + way)
    return found, rough


def _money(text: str, m: re.Match[str], *, scaled: bool) -> str:
    """Return the currency of the figure ``m`` as a key's ending (" USD": "$1.2bn", "1,2 млрд долларов"), else "".

    When the word after the number is a scale ("billion", "млрд."), the currency may follow it.
    """
    before = _MONEY_BEFORE.search(text, max(0, m.start() - 4), m.start())
    if before:
        return _currency(before.group().strip(" \u00a0"))
    unit = m.group("unit")
    if unit and not scaled:
        return _currency(unit)
    after = _MONEY_AFTER.match(text, m.end())
    if after is None or (after.group().startswith(".") and not unit):  # "in 2025. Dollar…": another sentence
        return ""
    return _currency(after.group(1))


def _currency(word: str) -> str:
    """Return the currency a word or sign names as a key's ending (" USD": "$", "долларов", "теңгеден"), else ""."""
    word = word.casefold()
    code = MONEY.get(word) or next((code for stem, code in _MONEY_STEMS if word.startswith(stem)), None)
    return f" {code}" if code else ""


# Words before a figure that say it is rounded: "just over 2 million", "about 450", "около 30".
# ... and which way the true figure lies: ">" at or above it, "<" at or below it, "~" either way.
_HEDGES = {f" {w}": way for way, words in ((">", "over|more than|более|свыше|больше"),
                                           ("<", "under|less than|up to|nearly|almost|почти|менее|меньше"),
                                           ("~", "about|around|roughly|approximately|some|около|примерно|порядка"))
           for w in words.split("|")}
_HEDGE_ENDS = tuple(_HEDGES)


def _rough(text: str, start: int) -> str:
    """Return which way a word before the figure at ``start`` rounds it (">": "just over"; "~": "около"), else ""."""
    before = text[max(0, start - 16):start]
    if money := _MONEY_BEFORE.search(before):  # "about US$2 million"
        before = before[:money.start()]
    before = " " + before.rstrip(" \u00a0").casefold()
    if not before.endswith(_HEDGE_ENDS):
        return ""
    return next(way for hedge, way in _HEDGES.items() if before.endswith(hedge))


def near(rough: str, precise: str) -> bool:
    """Return whether a figure given roughly agrees with a precise one: "2e+06>" (just over 2 million) and "2.02e+06".

    ``rough`` is a key of ``figures``' second set: the figure's key, then which way it rounds.
    They agree when the precise figure, rounded to as many digits as the rough one gives,
    is the rough one, lies within ``NEAR`` of it, and on the side the words say ("just
    over", "almost").
    """
    key, way = rough[:-1], rough[-1:]
    (key, _, money), (precise, _, other) = key.partition(" "), precise.partition(" ")
    if key.endswith("%") != precise.endswith("%") or money != other:  # "about 2 billion tenge" is no $2.02 billion
        return False
    try:
        a, b = float(key.rstrip("%")), float(precise.rstrip("%"))
    except ValueError:  # a date, a time or a score: never rough
        return False
    digits = len(f"{a:e}".partition("e")[0].replace(".", "").rstrip("0")) or 1  # "2e+06": 1, "573": 3
    return (a > 0 and float(f"{b:.{digits}g}") == a and abs(a - b) <= NEAR * a
            and (way == "~" or (b >= a if way == ">" else b <= a)))


NEAR = 0.05  # ... and within this share of it: "about 2 million" is not 2.4 million


_DAY_KEY = re.compile(r"\d\d-\d\d")  # the key of a day of a month: "01-15"


def precise(quantity: str) -> bool:
    """Return whether a quantity's key is a precise figure: not a date, a time, a rough or round figure, nor a count under 100.

    "26.7 million tonnes" (2.67e+07) and "15%" are; "1 January", "10:00", "10%", "$100 million" and "12 dead" are not.
    """
    if _DAY_KEY.fullmatch(quantity) or ":" in quantity or quantity.startswith("~"):
        return False
    number = quantity.split()[0].rstrip("%")
    digits = number.split("e")[0].replace(".", "").strip("0")
    if len(digits) < 2:
        return False
    return not (number.isdigit() and int(number) < 100 and not quantity.endswith("%"))


# A month named without a day ("in March", "с сентября", "наурызда") and a day of the week
# ("on Tuesday", "во вторник", "сейсенбіде"): a date too loose to be a figure, but a
# particular all the same (``when``). English writes them with a capital ("may" is a verb).
_WEEKDAY_WORDS = {
    1: "monday понедельник понедельника понедельнику дүйсенбі", 2: "tuesday вторник вторника вторнику сейсенбі",
    3: "wednesday среду сәрсенбі", 4: "thursday четверг четверга четвергу бейсенбі",
    5: "friday пятница пятницу пятницы жұма", 6: "saturday суббота субботу субботы сенбі",
    7: "sunday воскресенье воскресенья жексенбі",
}
_WHEN_KEYS = {word: f"m{number:02d}" for number, words in _MONTHS.items() for word in words.split()} | {
    word: f"d{number}" for number, words in _WEEKDAY_WORDS.items() for word in words.split()}
_KAZAKH_CASE = ("", "да", "де", "та", "те", "ға", "ге", "қа", "ке", "дан", "ден", "тан", "тен", "нан", "нен", "ның", "нің",
                "ы", "і", "сы", "сі", "ғы", "гі")
_WHEN_FORMS = {word + ending: key for word, key in _WHEN_KEYS.items() for ending in _KAZAKH_CASE}  # "наурызда"
_WORD = re.compile(r"[^\W\d_]{3,}")
_DAY_BEFORE = re.compile(r"\d" + _ORDINAL + r"(?:\s+|-)$")
_DAY_AFTER = re.compile(r"\s+\d{1,2}(?!\d)")


def time_word(folded: str) -> bool:
    """Return whether a folded word names a month or a day of the week ("september", "сейсенбіде")."""
    return folded in _WHEN_FORMS


def when(text: str) -> set[str]:
    """Return the months named without a day ("m09") and the days of the week ("d2": Tuesday) ``text`` states."""
    found: set[str] = set()
    forms = _WHEN_FORMS
    if forms.keys().isdisjoint(_WORD.findall(text.lower())):  # most texts name no month and no day
        return found
    for m in _WORD.finditer(text):
        word = m.group()
        key = forms.get(word.lower())
        if key is None or (word.isascii() and not word[0].isupper()):
            continue  # "may", "march on": English capitalises months and days
        if key[0] == "m" and (_DAY_BEFORE.search(text, max(0, m.start() - 8), m.start())
                              or _DAY_AFTER.match(text, m.end())):
            continue  # "15 March", "March 15": a date, one of the quantities
        found.add(key)
    return found


_NAMES = {1e12: "trillion", 1e9: "billion", 1e6: "million"}
_MONEY_NAMES = {"USD": "dollars", "EUR": "euros", "CNY": "yuan", "KZT": "tenge", "RUB": "roubles", "GBP": "pounds",
                "UZS": "sum", "KGS": "som", "TJS": "somoni", "MANAT": "manat"}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe(key: str) -> str:
    """Return a quantity key as a reader writes it: "1.2e+09" → "1.2 billion", "03-15" → "15 March", "d2" → "Tuesday".

    A rough figure ("~2e+06", ``likeness``) is "about 2 million".
    """
    if re.fullmatch(r"m\d\d", key):
        return _MONTH_NAMES[int(key[1:]) - 1]
    if re.fullmatch(r"d\d", key):
        return _WEEKDAY_NAMES[int(key[1:]) - 1]
    if re.fullmatch(r"\d\d-\d\d", key):
        return f"{int(key[3:])} {_MONTH_NAMES[int(key[:2]) - 1]}"
    if key.startswith("~"):
        return f"about {describe(key[1:])}"
    if key.endswith("y"):
        return key[:-1]
    if " " in key:  # "1.2e+09 CNY": an amount of money
        amount, _, code = key.partition(" ")
        return f"{describe(amount)} {_MONEY_NAMES.get(code, code)}"
    if key.endswith("%") or not re.fullmatch(r"[\d.e+]+", key):
        return key
    value = float(key)
    for factor, name in _NAMES.items():
        if value >= factor:
            return f"{value / factor:g} {name}"
    return f"{value:,g}"
