"""Known names (newsletter/edit/known.toml): the list's shape, a few facts it must get right, no everyday words."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from newsletter.edit import keywords
from newsletter.edit.keywords import Matcher, written

LIST = Path(__file__).parent.parent / "newsletter" / "edit" / "known.toml"
COUNTRIES = {"Kazakhstan", "Uzbekistan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Russia", "China",
             "Afghanistan", "Iran", "Turkey", "Azerbaijan", "Georgia", "Armenia", "Mongolia", "Pakistan", "India",
             "Japan", "Korea", "United States", "European Union", "United Kingdom", "France", "Germany", "Italy"}
TOPICS = {"oil", "gas", "uranium", "electricity", "coal", "nuclear", "hydropower", "railway", "airline", "bank",
          "investment", "trade", "customs", "budget", "tax", "space", "military", "police", "border", "court",
          "election", "parliament", "health", "education", "agriculture", "grain", "water", "mining", "telecom"}
KINDS = {"state", "person", "company", "project", "place", "body"}


def entries() -> list[dict[str, Any]]:
    data = tomllib.loads(LIST.read_text(encoding="utf-8"))
    assert set(data) == {"known"}
    known: list[dict[str, Any]] = data["known"]
    return known


def names() -> list[str]:
    return [name for entry in entries() for name in entry["names"]]


def test_every_entry_has_names_a_kind_and_only_listed_countries_and_topics() -> None:
    listed = entries()
    assert len(listed) >= 250
    for entry in listed:
        assert set(entry) <= {"names", "kind", "country", "topic"}, entry
        assert entry["names"] and all(isinstance(n, str) and n == n.strip() and n for n in entry["names"]), entry
        assert entry["kind"] in KINDS, entry
        assert entry.get("country", "Kazakhstan") in COUNTRIES, entry
        assert entry.get("topic", "oil") in TOPICS, entry
        if entry["kind"] == "person":
            assert "country" in entry and "topic" not in entry, entry


def test_no_name_is_listed_twice() -> None:
    folded = [name.casefold() for name in names()]
    assert sorted({n for n in folded if folded.count(n) > 1}) == []


def test_a_short_name_is_an_acronym_and_every_name_finds_itself() -> None:
    for name in names():
        assert len(name) >= 3 or name.isupper(), name
        assert Matcher([name]).find(written(name)) == [(0, 0)], name


@pytest.mark.parametrize(("name", "country", "topic"), [
    ("Kazatomprom", "Kazakhstan", "uranium"),
    ("Қазатомөнеркәсіп", "Kazakhstan", "uranium"),
    ("KEGOC", "Kazakhstan", "electricity"),
    ("Rogun", "Tajikistan", "hydropower"),
    ("CNPC", "China", "oil"),
    ("Роскосмос", "Russia", "space"),
    ("Khorgos", "Kazakhstan", "trade"),
    ("Тоқаев", "Kazakhstan", None),
    ("EBRD", None, "bank"),
])
def test_well_known_names_carry_their_country_and_topic(name: str, country: str | None, topic: str | None) -> None:
    entry = next(e for e in entries() if name in e["names"])
    assert (entry.get("country"), entry.get("topic")) == (country, topic)


@pytest.mark.parametrize("text", [
    ("Shelling hit the town. The total cost of the state grid upgrade rose, Kazakh investors said; people in "
    "China, Kyrgyzstan, Uzbekistan and Tajikistan expect prices to rise. Air quality was poor."),
    ("Органы опеки проверили семью. Сбережения граждан растут, антикоррупционная служба начала проверку. "
    "Думаю, что в Баку солдаты живут в казармах; тотальная мобилизация, шеврон на рукаве, канд. экон. наук. "
    "Каспийское море мелеет, много песков, каток во дворе; Китай, Кыргызстан, Узбекистан."),
    ("Каспий теңізі тартылып жатыр. Үкіметтің кеңейтілген мәжілісі өтті. Ұлттық қорғаныс университеті, "
    "ұлттық қорық; Қытай, Қырғызстан, Өзбекстан."),
])
def test_everyday_words_find_no_known_name(text: str) -> None:
    matcher = Matcher(names())
    tokens = written(text)
    assert [(matcher.keywords[i], tokens[p]) for i, p in matcher.find(tokens)] == []


def test_a_matcher_forgets_words_rather_than_grow_without_end(monkeypatch: pytest.MonkeyPatch) -> None:
    # The known names' matcher lives as long as the daemon; strangers' feeds bring new words every day.
    monkeypatch.setattr(keywords, "CACHED_WORDS", 100)
    matcher = Matcher(["Kazatomprom", "uranium"])
    for n in range(1_000):
        assert matcher.find(written(f"Word{n} wordy{n}")) == []
    assert len(matcher._cache) <= 100 and len(matcher._tokens) <= 100
    assert matcher.find(written("Kazatomprom mines uranium")) == [(0, 0), (1, 2)]
