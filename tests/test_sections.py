"""Sections: which rule places an item, in what order sections come, and the recorded reason."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import parse
from newsletter.item import Item
from newsletter.keywords import Matcher, words
from newsletter.sections import Sorter

_ids = count(1)


def item(title: str, body: str = "", *, label: str | None = None, forced: str | None = None,
         day: int = 1) -> Item:
    moment = datetime(2026, 11, day, 8, tzinfo=UTC)
    return Item(id=next(_ids), source_id=1, source_name="Wire", uid=title, title=title, body=body,
                summary=body, link=None, label=label, published_at=moment, gathered_at=moment,
                forced_section=forced)


def sorter(tmp_path: Path, *sections: dict[str, Any]) -> Sorter:
    default = (
        {"name": "Russia", "keywords": ["Russia", "Kremlin", "Moscow"]},
        {"name": "China", "keywords": ["China", "Beijing"]},
        {"name": "Energy", "aliases": ["Oil", "Gas"], "keywords": ["oil", "gas", "pipeline"]},
    )
    return Sorter(parse({"sections": list(sections or default)}, root=tmp_path, environ={}))


def test_pinned_source_wins(tmp_path: Path) -> None:
    placement = sorter(tmp_path).place(item("Kremlin and Beijing talk oil", label="China", forced="Energy"))
    assert placement.section == "Energy"
    assert "pinned" in placement.reason and "Wire" in placement.reason


def test_inline_heading_wins_over_keywords(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    placement = s.place(item("Russia", "Moscow and the Kremlin talk to Beijing.", label="China"))
    assert (placement.section, placement.reason) == ("China", "inline heading 'China'")
    assert s.place(item("Oil", "Moscow raised output.", label="oil")).section == "Energy"  # alias, any case


def test_unknown_heading_falls_back_to_keywords(tmp_path: Path) -> None:
    placement = sorter(tmp_path).place(item("Tajikistan", "Moscow sent aid.", label="Tajikistan"))
    assert placement.section == "Russia"


@pytest.mark.parametrize(("text", "section"), [
    ("Russian banks refuse the new network", "Russia"),
    ("RUSSIA'S exports fall", "Russia"),
    ("Kremlin's envoy arrives", "Russia"),
    ("Oil output rises", "Energy"),
    ("Political turmoil in the region", "In brief"),
    ("The oiled machinery of state", "In brief"),
    ("Gasoline prices hold", "In brief"),
    ("A pipelines review", "Energy"),
    ("Chinatown festival", "China"),  # long keywords admit endings, by design
    ("Indochina history", "In brief"),
])
def test_keywords_are_whole_words(tmp_path: Path, text: str, section: str) -> None:
    assert sorter(tmp_path).place(item(text)).section == section


def found(keyword: str, text: str) -> bool:
    return bool(Matcher([keyword]).find(words(text)))


def test_short_keyword_matches_exactly() -> None:
    assert found("EU", "The eu summit") and not found("EU", "Europe") and not found("EU", "EUR")
    assert found("Xi Jinping", "President Xi  Jinping said")
    assert not found("Xi Jinping", "Xi met Jinping's aide") and not found("Xi Jinping", "Jinping Xi")


def test_highest_score_wins_and_ties_go_to_earlier_section(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    assert s.place(item("Beijing", "Moscow. Moscow. Moscow.")).section == "Russia"  # 3 == 3: the earlier
    assert s.place(item("Beijing", "Moscow. Moscow.")).section == "China"  # 3 > 2
    assert s.place(item("Beijing and Moscow")).section == "Russia"
    assert s.place(item("Talks", "Beijing and Moscow")).section == "Russia"
    assert s.place(item("Beijing and China", "Moscow")).section == "China"
    reversed_order = sorter(tmp_path, {"name": "China", "keywords": ["Beijing"]},
                            {"name": "Russia", "keywords": ["Moscow"]})
    assert reversed_order.place(item("Beijing and Moscow")).section == "China"


def test_title_counts_three_times(tmp_path: Path) -> None:
    placement = sorter(tmp_path).place(item("Beijing hosts summit", "Moscow and the Kremlin sent envoys."))
    assert placement.section == "China"
    assert placement.reason == "keywords: Beijing ×3 (score 3)"
    placement = sorter(tmp_path).place(item("Summit", "Moscow, the Kremlin and Moscow again."))
    assert placement.reason == "keywords: Moscow ×2, Kremlin ×1 (score 3)"


def test_group_orders_sections_and_drops_empty_ones(tmp_path: Path) -> None:
    items = [
        item("Weather is mild", day=1),
        item("Gas prices rise", day=2),
        item("Kremlin reshuffle", day=3),
        item("Oil output rises", day=4),
        item("Beijing and Moscow", forced="Pinned elsewhere", day=5),
    ]
    sections = sorter(tmp_path).group(items)
    assert [s.name for s in sections] == ["Russia", "Energy", "Pinned elsewhere", "In brief"]
    energy = sections[1]
    assert [p.item.title for p in energy.items] == ["Oil output rises", "Gas prices rise"]  # newest first
    assert sections[-1].items[0].placement.reason == "no section matched"
    assert all(p.placement.section == s.name for s in sections for p in s.items)


def test_catch_all_is_last_even_when_configured_as_a_section(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "In brief", "keywords": ["weather"]},
               {"name": "Russia", "keywords": ["Moscow"]})
    sections = s.group([item("Weather is mild"), item("Moscow votes"), item("Nothing here")])
    assert [x.name for x in sections] == ["Russia", "In brief"]
    assert len(sections[1].items) == 2


def test_custom_catch_all_and_intro(tmp_path: Path) -> None:
    config = parse({"newsletter": {"catch_all": "Elsewhere"},
                    "sections": [{"name": "Russia", "keywords": ["Moscow"], "intro": "From the Kremlin."}]},
                   root=tmp_path, environ={})
    sections = Sorter(config).group([item("Moscow votes"), item("Rain")])
    assert [(x.name, x.intro) for x in sections] == [("Russia", "From the Kremlin."), ("Elsewhere", "")]
