"""Lexicon: what a story is about, read alike in English, Russian and Kazakh, and what it lets clustering join."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.edit.cluster import find
from newsletter.edit.lexicon import CONCEPTS, subjects
from newsletter.item import Item


def item(n: int, title: str, body: str) -> Item:
    moment = datetime(2026, 11, 20, 8, tzinfo=UTC)
    return Item(id=n, source_id=n, source_name=f"Wire {n}", uid=f"u{n}", title=title, body=body, summary=body,
                link=None, label=None, published_at=moment, gathered_at=moment, source_key=f"wire-{n}")


@pytest.mark.parametrize(("text", "expected"), [
    ("Flu closes Astana schools for a week", {"flu", "school"}),
    ("В Астане из-за гриппа закрыли школы", {"flu", "school"}),
    ("Астанада тұмауға байланысты мектептер жабылды", {"flu", "school"}),
    ("Kazakhstan creates a ministry of artificial intelligence", {"artificial_intelligence"}),
    ("Жасанды интеллект министрлігі құрылды", {"artificial_intelligence"}),
    ("Tokayev and Putin spoke by phone", set()),  # what every story says is no subject
])
def test_a_subject_is_read_alike_in_each_language(text: str, expected: set[str]) -> None:
    assert subjects(text) == expected


@pytest.mark.parametrize(("english", "russian", "reason"), [
    # a translation: the same names and every subject the same
    (("Kazakhstan creates a ministry of artificial intelligence",
      "Tokayev signed a decree turning the digital development ministry into the Ministry of Artificial "
      "Intelligence and Digital Development. Zhaslan Madiyev stays on as minister."),
     ("В Казахстане появится министерство искусственного интеллекта",
      "Токаев подписал указ о преобразовании Министерства цифрового развития в Министерство искусственного "
      "интеллекта и цифрового развития. Министром остаётся Жаслан Мадиев."),
     "same story: 3 of the same names and the same subjects in another language (artificial_intelligence, digital)"),
    # the same three names, and a subject on each side that the other has not: police, budget
    (("Mazhilis approves police reform",
      "Kazakhstan's Mazhilis approved the police reform and a programme for patrol officers, Interior Minister "
      "Yerzhan Sadenov said."),
     ("Мажилис одобрил бюджет на 2027 год",
      "Мажилис Казахстана одобрил республиканский бюджет и программу для регионов, заявил министр финансов. "
      "Министр внутренних дел Ержан Саденов выступил с докладом."),
     None),
], ids=["one story", "another subject"])
def test_across_languages_the_same_names_and_the_same_subjects_are_one_story(
        english: tuple[str, str], russian: tuple[str, str], reason: str | None) -> None:
    stories = find([item(1, *english), item(2, *russian)], language="en")
    assert [s.reason for s in stories if len(s.items) > 1] == ([reason] if reason else [])


def test_every_concept_has_words_in_each_language() -> None:
    for concept, languages in CONCEPTS.items():
        assert len(languages) == 3 and all(languages), concept


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3_000))
def test_any_text_gives_known_subjects(text: str) -> None:
    assert subjects(text) <= CONCEPTS.keys()
