"""Entities: where a run of capitalised words is split into several names (``edit.entities``), each with a counter-case."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.edit.entities import entities
from newsletter.edit.facts import STOP, Reader
from newsletter.edit.names import language, oblique


def names(text: str, lowercase: frozenset[str] = frozenset()) -> list[set[str]]:
    """Return the keys of each name ``text`` writes, as ``facts`` reads them, in a batch writing ``lowercase``."""
    reader = Reader(lowercase)
    lang = language(text)
    return entities(text, 0, lang, lowercase=lowercase, stop=STOP[lang], name=reader.name, group=reader.group)


@pytest.mark.parametrize(("text", "expected"), [
    ("Uzbek President Shavkat Mirziyoyev arrived.", [{"uzbekistan"}, {"svkt", "mrsv"}]),
    ("Президент Узбекистана Шавкат Мирзиёев прибыл.", [{"uzbekistan"}, {"svkt", "mrsv"}]),
    ("Өзбекстан Президенті Шавкат Мирзиёев келді.", [{"uzbekistan"}, {"svkt", "mrsv"}]),
    ("Kazakh Prime Minister Olzhas Bektenov spoke.", [{"kazakhstan"}, {"aljs", "bktnv"}]),
])
def test_a_title_is_no_part_of_a_name_and_ends_the_one_before_it(text: str, expected: list[set[str]]) -> None:
    assert names(text) == expected


def test_a_word_that_opens_like_a_title_is_a_name() -> None:
    """Counter-case: a ministry, a president's adjective and a surname begin as titles do, and are kept."""
    assert names("Министерство Цифрового Развития объявило.") != []  # "министерство" is no "министр"
    assert names("Сергей Акимов прибыл.") == [{"srk", "akmv"}]  # "Акимов" is no "аким"
    assert names("The Presidential Administration said.") != []


@pytest.mark.parametrize(("text", "expected"), [
    ("В Пекине Касым-Жомарт Токаев обсудил транзит.", [{"beijing"}, {"ks", "jmrt", "tkv"}]),
    ("Глава Евросоюза Урсула фон дер Ляйен прибыла.", [{"eu"}, {"arsl"}]),
    ("В Казахстане Алихан Смаилов открыл завод.", [{"kazakhstan"}, {"alkn", "smlv"}]),
])
def test_a_russian_place_in_an_oblique_case_ends_a_name(text: str, expected: list[set[str]]) -> None:
    assert names(text)[:2] == expected


def test_a_place_in_the_nominative_or_an_adjective_keeps_the_name_whole() -> None:
    """Counter-case: "Европейского Союза" is one body (the EU); in English a country opens a body's name."""
    assert names("Глава Европейского Союза прибыла.", frozenset({"прибыла"})) == [{"eu"}]
    assert names("Европейский Союз и Казахстан подписали.")[0] == {"eu"}
    assert names("Kazakhstan Temir Zholy opened a line.") == [{"ktz"}]
    assert names("Uzbekistan signed with the European Union.") == [{"uzbekistan"}, {"eu"}]


@pytest.mark.parametrize(("word", "expected"), [
    ("узбекистана", True), ("пекине", True), ("китая", True), ("евросоюза", True), ("россии", True),
    ("узбекистан", False), ("москва", False), ("китай", False), ("европейского", False), ("токаева", False),
])
def test_oblique_knows_the_case_of_a_place_noun(word: str, expected: bool) -> None:
    assert oblique(word, "ru") is expected
    assert not oblique(word, "en")  # English has no case to mark a boundary


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Президент", "Узбекистана", "Пекине", "Евросоюза", "Европейского", "Союза",
                                 "Шавкат", "President", "Uzbek", "Төраға", "В", "и", "министрінің", "-", ", ", ". "]),
                max_size=40), st.sampled_from(["en", "ru", "kk"]))
def test_splitting_any_run_of_titles_places_and_names_never_fails(words: list[str], lang: str) -> None:
    text = " ".join(words)
    reader = Reader()
    found = entities(text, 0, lang, lowercase=set(), stop=STOP[lang], name=reader.name, group=reader.group)
    capitalised = sum(1 for w in text.split() if w[:1].isupper() and len(w) >= 2)
    assert len(found) <= capitalised and all(len(k) >= 2 for e in found for k in e)


def test_splitting_is_bounded_in_time() -> None:
    text = "Президент Узбекистана Шавкат Мирзиёев и Глава Евросоюза " * 2_000
    reader = Reader()
    started = time.perf_counter()
    found = entities(text, 0, "ru", lowercase=set(), stop=STOP["ru"], name=reader.name, group=reader.group)
    assert time.perf_counter() - started < 1.0 and len(found) == 3 * 2_000
