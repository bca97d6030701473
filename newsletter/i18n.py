"""The newsletter's own words in each reader's language: gettext catalogs, language choice, CLDR dates.

The catalogs live in ``newsletter/locale/<language>/LC_MESSAGES/messages.po`` (the source,
written by translators) beside the ``messages.mo`` that Babel compiles from it; both are
committed and ship in the wheel (docs/development.md says how to extract, update and
compile them). Templates use Jinja's i18n extension (``{% trans %}``, ``_()``): a
template renders in one language when ``gettext_for(language)`` is in its context, so a
user's own template override uses the same machinery. Items (titles, summaries) are
never translated; dates and month names come from CLDR through Babel.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any

import babel
import babel.dates
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SHIPPED = ("en", "ru", "kk")  # complete catalogs; a test fails on a missing or stale message in any
RTL_LANGUAGES = {"ar", "arc", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"}
# A bare "en" writes dates as the newsletter always has ("6 December 2026"): CLDR's world English.
_CLDR = {"en": "en_001"}


def N_(message: str) -> str:  # the name is the gettext convention Babel's extractor knows
    """Mark ``message`` for the catalogs without translating it here (it is translated where shown)."""
    return message


def parse(tag: str) -> babel.Locale:
    """Return the Babel locale of a BCP 47 tag (``ru``, ``kk``, ``pt-BR``); raise ValueError if unknown."""
    try:
        return babel.Locale.parse(tag.strip().replace("-", "_"))
    except (babel.UnknownLocaleError, ValueError, TypeError) as e:
        raise ValueError(f"{tag!r} is not a language tag Babel knows (e.g. en, ru, kk, pt-BR)") from e


def check(tag: str) -> None:
    """Raise ValueError with one line if ``tag`` is not a known language."""
    if not tag.strip():
        raise ValueError("a language tag may not be empty")
    parse(tag)


def choose(tag: str | None, offered: list[str] | tuple[str, ...], default: str) -> str:
    """Return the offered language a reader with ``tag`` gets: the same tag, else the same language, else ``default``.

    ``ru-RU`` gets ``ru`` where only ``ru`` is offered; an empty or unknown tag gets the default.
    """
    wanted = (tag or "").strip().replace("_", "-").casefold()
    if not wanted:
        return default
    choices = [default, *offered]
    for choice in choices:
        if choice.casefold() == wanted:
            return choice
    primary = wanted.split("-")[0]
    for choice in choices:
        if choice.split("-")[0].casefold() == primary:
            return choice
    return default


def negotiate(accept_language: str, offered: list[str] | tuple[str, ...], default: str) -> str:
    """Return the offered language a browser's ``Accept-Language`` header prefers most, else ``default``."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):  # a header is small; a long one is noise
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        chosen = choose(tag, offered, "")
        if chosen:
            return chosen
    return default


@functools.cache
def translations(language: str) -> NullTranslations:
    """Return the compiled catalog of ``language`` (its region's, else its language's), else English as written."""
    tag = language.replace("-", "_")
    wanted = [tag, tag.split("_")[0]] if "_" in tag else [tag]
    found = Translations.load(str(LOCALE_DIR), locales=wanted, domain=DOMAIN)
    return found


def gettext_for(language: str) -> dict[str, Any]:
    """Return what a template needs to speak ``language``: ``gettext`` and ``ngettext`` for ``{% trans %}``."""
    t = translations(language)
    return {"gettext": t.gettext, "ngettext": t.ngettext}


def locale(language: str) -> babel.Locale:
    """Return the CLDR locale whose formats a reader of ``language`` gets."""
    tag = language.strip()
    return parse(_CLDR.get(tag.casefold(), tag))


def format_date(moment: date | datetime, language: str) -> str:
    """Return a date as CLDR writes it in ``language``: 6 December 2026, 6 декабря 2026 г., 2026 ж. 6 желтоқсан."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return babel.dates.format_date(day, format="long", locale=locale(language))


def direction(language: str) -> str:
    """Return ``rtl`` for a language written right to left, else ``ltr``."""
    return "rtl" if language.split("-")[0].casefold() in RTL_LANGUAGES else "ltr"


def name(language: str) -> str:
    """Return a language's name in itself, as a reader looks for it in a list: Русский, Қазақ тілі, English."""
    try:
        shown = parse(language).get_display_name(parse(language)) or language
    except ValueError:
        return language
    return shown[:1].upper() + shown[1:]
