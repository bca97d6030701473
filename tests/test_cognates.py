"""Cognates: an international word has one key in English, Russian and Kazakh; other words do not share it."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.edit.cognates import EVERYDAY, EVERYDAY_WORDS, PREFIX, Common, key, keys

SAME = [
    ("протокол", "protocol"), ("регистрации", "registration"), ("миграционных", "migration"),
    ("документ", "document"), ("официальный", "official"), ("социальных", "social"), ("конференции", "conference"),
    ("санкциями", "sanctions"), ("экспорт", "exports"), ("технологии", "technology"), ("гибридный", "hybrid"),
    ("коридор", "corridor"), ("консорциума", "consortium"), ("министрлігі", "ministry"), ("консорциумын", "консорциум"),
    ("электрификации", "electrification"), ("демаркации", "demarcation"), ("терроризм", "terrorism"),
]
DIFFERENT = [("протокол", "document"), ("миграционных", "migrants"), ("регистрации", "regional"),
             ("санкциями", "sanatorium"), ("консорциум", "consulate"), ("подписали", "signed")]


@pytest.mark.parametrize(("one", "other"), SAME)
def test_a_word_and_its_cognate_in_another_alphabet_share_a_key(one: str, other: str) -> None:
    assert key(one) is not None and key(one) == key(other)


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_other_words_have_other_keys(one: str, other: str) -> None:
    assert key(one) != key(other)


def test_a_short_word_has_no_key_and_a_text_keeps_the_first_word_of_each_key() -> None:
    assert key("мир") is None and key("bank") is None and key("ёлка") is None
    assert keys(["protocol", "protocols", "signed", "registration"]) == {"protok": "protocol", "signed": "signed",
                                                                          "regist": "registration"}


def test_a_cognate_is_common_when_more_than_a_few_percent_of_the_batch_write_it() -> None:
    common = Common({"terminal": 30, "терминал": 10, "protocol": 2, "протокол": 1}, documents=1_000)
    assert "termin" in common and "protok" not in common
    assert common.shared({"termin": "terminal", "protok": "protocol"}, {"termin": "терминала", "protok": "протокол"}) \
        == ["protocol"]
    small = Common({"terminal": 12}, documents=20)  # in a small batch every word is rare
    assert "termin" not in small


@pytest.mark.parametrize("word", ["президент", "инвестиции", "программа", "меморандум", "контракт", "модернизации",
                                  "транзит", "экспорт", "реформа", "министр", "инфраструктура", "инвестиция"])
def test_an_everyday_word_of_politics_and_business_is_common_in_any_batch(word: str) -> None:
    mine = key(word)
    assert mine is not None and mine in EVERYDAY and mine in Common({}, documents=2)
    assert Common({}, documents=2).shared({mine: word, "protok": "протокол"}, keys(["protocol", "president",
                                          "investment", "programme", "memorandum", "contract", "modernisation",
                                          "transit", "exports", "reform", "minister", "infrastructure"])) \
        == ["протокол"]  # it meets its English cognate, and says nothing all the same


def test_the_everyday_words_are_keys_and_the_demo_protocols_words_are_not_among_them() -> None:
    assert len(EVERYDAY) == len({key(w) for w in EVERYDAY_WORDS.split()}) >= 30
    assert not {key("протокол"), key("регистрации"), key("миграционных"), key("консорциум")} & EVERYDAY


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_word_has_a_key_of_latin_letters_or_none(word: str) -> None:
    found = key(word.casefold())
    assert found is None or re.fullmatch(f"[a-z]{{{PREFIX}}}", found)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), max_size=50))
def test_the_keys_of_any_words_are_keys_of_those_words(words: list[str]) -> None:
    found = keys(words)
    assert all(word in words and key(word) == k for k, word in found.items())


def test_a_huge_word_is_read_in_bounded_time() -> None:
    huge = "протокол" * 200_000
    started = time.perf_counter()
    assert key(huge) == "protok" == key(huge[:64])  # only the opening of a word is read
    assert time.perf_counter() - started < 1.0
