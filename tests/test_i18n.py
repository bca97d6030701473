"""The catalogs: complete and current in every shipped language; languages chosen and dates written by CLDR.

The messages are extracted with Babel from the templates and the code exactly as a
developer does (``pybabel extract -F pyproject.toml``), then compared with each shipped
``.po``: a message missing from a catalog, or one a catalog keeps that nothing uses,
fails, and so does an untranslated, fuzzy or placeholder-breaking Russian or Kazakh one.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from newsletter import i18n
from newsletter.config import parse
from newsletter.email import personal
from newsletter.error import ConfigError
from newsletter.settings import NewsletterSettings

ROOT = Path(__file__).parent.parent
TRANSLATED = ("ru", "kk")  # en is the source language: its catalog repeats the English


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "pyproject.toml",
                    "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True, timeout=120)
    with pot.open("rb") as f:
        return read_po(f)


def shipped(language: str) -> Catalog:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def ids(catalog: Catalog) -> set[Any]:
    return {m.id for m in catalog if m.id}


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_a_shipped_catalog_has_every_message_and_no_stale_one(extracted: Catalog, language: str) -> None:
    catalog = shipped(language)
    missing, stale = ids(extracted) - ids(catalog), ids(catalog) - ids(extracted)
    assert not missing, f"{language}: messages not in the catalog (docs/development.md, Translations): {missing}"
    assert not stale, f"{language}: messages nothing uses any more: {stale}"
    assert len(ids(extracted)) > 80  # the email, the text part, the reader pages, the confirmation and welcome


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    catalog = shipped(language)
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(f.strip() for f in forms) and len(forms) == (catalog.num_plurals if message.pluralizable else 1), \
            f"{language}: untranslated: {message.id!r}"
        assert not message.fuzzy, f"{language}: fuzzy: {message.id!r}"
        assert list(message.check(catalog)) == [], f"{language}: {message.id!r}: placeholders differ"
        for marker in ("{first_name}", "{email}", "{title}", "<strong>", "<a href="):
            first = message.id[0] if isinstance(message.id, tuple) else message.id
            assert (marker in first) == all(marker in f for f in forms), f"{language}: {marker} in {message.id!r}"


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_the_compiled_catalog_is_the_current_po(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, shipped(language))
    mo = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.mo"
    assert mo.read_bytes() == compiled.getvalue(), f"{mo} is stale: pybabel compile -d newsletter/locale"


def test_the_default_greetings_are_the_catalogs_messages() -> None:
    defaults = NewsletterSettings()
    assert (defaults.greeting, defaults.greeting_anonymous) == (personal.DEFAULT_GREETING, personal.DEFAULT_ANONYMOUS)


def test_dates_and_month_names_come_from_cldr_in_the_readers_language() -> None:
    moment = datetime(2026, 12, 6, 9, 0)
    assert i18n.format_date(moment, "ru") == "6 декабря 2026\u202fг."  # CLDR keeps "г." with its number
    assert i18n.format_date(moment, "kk") == "2026\u202fж. 6 желтоқсан"
    assert i18n.format_date(moment, "en") == "6 December 2026"  # as the newsletter always wrote it
    assert i18n.format_date(moment, "en-US") == "December 6, 2026"


@pytest.mark.parametrize(("tag", "expected"), [
    ("", "en"), ("ru", "ru"), ("RU", "ru"), ("ru-RU", "ru"), ("ru_KZ", "ru"), ("kk-Cyrl-KZ", "kk"), ("de", "en"),
])
def test_a_reader_gets_the_nearest_offered_language(tag: str, expected: str) -> None:
    assert i18n.choose(tag, ["en", "ru", "kk"], "en") == expected


@pytest.mark.parametrize(("header", "expected"), [
    ("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("de-DE, kk;q=0.5, ru;q=0.4", "kk"), ("fr, de", "en"), ("", "en"),
    ("ru;q=0, kk", "kk"), ("ru;q=bad", "en"), ("*", "en"),
])
def test_a_browser_gets_the_offered_language_it_prefers(header: str, expected: str) -> None:
    assert i18n.negotiate(header, ["en", "ru", "kk"], "en") == expected


def test_a_translation_is_used_and_an_unknown_language_says_english() -> None:
    assert i18n.translations("ru").gettext("View in browser") == "Открыть в браузере"
    assert i18n.translations("kk-KZ").gettext("View in browser") == "Браузерде ашу"
    assert i18n.translations("de").gettext("View in browser") == "View in browser"


@pytest.mark.parametrize(("name", "first"), [
    ("Aigerim Sadykova", "Aigerim"), ("Бекзат Нурланов", "Бекзат"), ("Lee, Ann", "Ann"), ("Cher", "Cher"),
    ("  Zhanna   Ömirzaq ", "Zhanna"), ("李小龙", "李小龙"), ("Dr. Who", "Dr"), ("", ""),
])
def test_the_first_name(name: str, first: str) -> None:
    assert personal.first_name(name) == first


def test_greetings_use_the_first_name_in_the_readers_language_or_the_editors_words() -> None:
    default = NewsletterSettings()
    assert personal.greeting(default, "Aigerim Sadykova", "en") == "Hello Aigerim,"
    assert personal.greeting(default, "Aigerim Sadykova", "ru") == "Здравствуйте, Aigerim!"
    assert personal.greeting(default, "Бекзат Нурланов", "kk") == "Сәлеметсіз бе, Бекзат!"
    assert personal.greeting(default, "", "ru") == "Здравствуйте!"
    whole = NewsletterSettings(greeting="Dear {name},", greeting_anonymous="Dear reader,")
    assert personal.greeting(whole, "Aigerim Sadykova", "ru") == "Dear Aigerim Sadykova,"  # as written, every language
    assert personal.greeting(whole, "", "kk") == "Dear reader,"
    assert personal.greeting(NewsletterSettings(greeting=""), "Aigerim", "en") == ""  # none at all


def config(tmp_path: Path, **newsletter: Any) -> Any:
    return parse({"newsletter": newsletter, "sections": [{"name": "Russia", "titles": {"ru": "Россия"}}]},
                 root=tmp_path, environ={})


@pytest.mark.parametrize(("settings", "wrong"), [
    ({"language": "ru"}, "newsletter.language 'ru' is not among newsletter.languages (en)"),
    ({"languages": ["en", "xx-nonsense"]}, "newsletter.languages: 'xx-nonsense' is not a language tag"),
    ({"greeting": "Hello {surname},"}, "newsletter.greeting: only the fields {first_name} and {name}"),
])
def test_bad_language_settings_get_one_line_naming_the_key(tmp_path: Path, settings: dict[str, Any],
                                                           wrong: str) -> None:
    with pytest.raises(ConfigError, match=wrong.replace("(", r"\(").replace(")", r"\)")):
        config(tmp_path, **settings)


def test_section_titles_are_a_table_of_strings(tmp_path: Path) -> None:
    assert config(tmp_path).sections[0].titles == {"ru": "Россия"}
    with pytest.raises(ConfigError, match=r"sections\[1\]\.titles\.ru must be a string"):
        parse({"sections": [{"name": "Russia", "titles": {"ru": 7}}]}, root=tmp_path, environ={})
    with pytest.raises(ConfigError, match=r"sections\[1\]\.titles must be a table of strings"):
        parse({"sections": [{"name": "Russia", "titles": "Россия"}]}, root=tmp_path, environ={})
