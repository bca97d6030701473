"""Sections: which rule places an item, in what order sections come, and the recorded reason."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import parse
from newsletter.edit.keywords import Matcher, written
from newsletter.edit.sections import Placed, Placement, Sorter
from newsletter.error import ConfigError
from newsletter.item import Item

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
    placement = sorter(tmp_path).place(item("Tajikistan", "Moscow sent aid. The Kremlin said so.", label="Tajikistan"))
    assert (placement.section, placement.reason) == ("Russia", "mentions Moscow once and Kremlin once")
    placement = sorter(tmp_path).place(item("Pipelines", "Moscow sent aid.", label="Pipelines"))
    assert (placement.section, placement.reason) == ("Energy", "mentions pipeline once in the headline")


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
    return bool(Matcher([keyword]).find(written(text)))


def test_short_keyword_matches_exactly() -> None:
    assert found("EU", "The EU summit") and not found("EU", "Europe") and not found("EU", "EUR")
    assert found("oil", "OIL and gas") and found("Oil", "the oil price")  # a word in any case
    # An abbreviation of capitals matches only capitals: "US" is not the word "us".
    assert found("US", "a US firm") and not found("US", "tell us") and not found("US", "Us and them")
    assert found("АҚШ", "АҚШ-тың елшісі") and found("АҚШ", "АҚШтың") and not found("АҚШ", "ақш")
    assert found("Xi Jinping", "President Xi  Jinping said")
    assert not found("Xi Jinping", "Xi met Jinping's aide") and not found("Xi Jinping", "Jinping Xi")


def test_a_section_needs_real_evidence_and_a_clear_margin(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    assert s.place(item("Beijing", "Moscow. Moscow. Moscow. Moscow.")).section == "Russia"  # 4 against 3
    assert s.place(item("Beijing", "Moscow. Moscow.")).section == "China"  # 3 against 2
    tie = s.place(item("Beijing", "Moscow. Moscow. Moscow."))  # 3 against 3: no clear section
    assert (tie.section, tie.reason) == (
        "In brief", ("no clear section, as many mentions of another: Moscow 3 times (Russia); "
                     "Beijing once in the headline (China)"))
    once = s.place(item("Talks in the capital", "Officials from Beijing attended."))  # one passing mention
    assert (once.section, once.reason) == ("In brief", "only passing mentions: Beijing once (China)")
    assert s.place(item("Talks in the capital", "Beijing hosted them; Beijing paid.")).section == "China"  # twice
    assert s.place(item("Beijing and Moscow")).section == "In brief"  # 3 against 3 in the headline


def test_a_paragraph_of_passing_mentions_goes_to_the_catch_all(tmp_path: Path) -> None:
    outlook = ("The national focus will stay at home. Moscow will keep its pressure on the banks, Beijing its "
               "weight in trade, and the pipeline to Europe will need repairs before the winter.")
    placement = sorter(tmp_path).place(item(outlook[:60] + "…", outlook))
    assert placement.section == "In brief" and placement.reason.startswith("only passing mentions: ")


def test_a_headline_mention_weighs_more_and_the_reason_counts_in_words(tmp_path: Path) -> None:
    placement = sorter(tmp_path).place(item("Beijing hosts summit", "Beijing and China welcomed envoys from Moscow."))
    assert placement.section == "China"
    assert placement.reason == "mentions Beijing twice (once in the headline) and China once"
    placement = sorter(tmp_path).place(item("Summit", "Moscow, the Kremlin and Moscow again, Moscow."))
    assert placement.reason == "mentions Moscow 3 times and Kremlin once"
    # A paragraph without a heading: its opening sentence stands for the headline.
    text = "Moscow wants a new payments network. Banks are cautious and the central bank will study it."
    assert sorter(tmp_path).place(item(text[:40] + "…", text)).reason == "mentions Moscow once in the headline"


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


def test_a_catch_all_with_keywords_of_its_own_competes_with_the_topics(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Security", "keywords": ["police"]},
               {"name": "In brief", "keywords": ["snowstorm", "blizzard"]})
    snow = s.place(item("Snowstorm closes highways", "Police closed the roads as a blizzard came."))
    assert (snow.section, snow.reason) == ("In brief", "mentions snowstorm once in the headline and blizzard once")
    assert s.place(item("Police close highways", "A blizzard came.")).section == "Security"  # 3 against 1


def test_custom_catch_all_and_intro(tmp_path: Path) -> None:
    config = parse({"newsletter": {"catch_all": "Elsewhere"},
                    "sections": [{"name": "Russia", "keywords": ["Moscow"], "intro": "From the Kremlin."}]},
                   root=tmp_path, environ={})
    sections = Sorter(config).group([item("Moscow votes"), item("Rain")])
    assert [(x.name, x.intro) for x in sections] == [("Russia", "From the Kremlin."), ("Elsewhere", "")]


@pytest.mark.parametrize(("keyword", "text"), [
    ("Россия", "Санкции против России"),
    ("Россия", "с Россией"),
    ("Россия", "российский рубль"),
    ("Москва", "переговоры в Москве"),
    ("Китай", "экспорт из Китая"),
    ("Китай", "китайские компании"),
    ("газ", "поставки газа"),
    ("нефть", "добыча нефти"),
    ("Ёлка", "новогодняя елка"),
    ("Қазақстан", "Қазақстанның экспорты"),
    ("заң", "заңды қабылдады"),
    ("Ресей", "Ресейдің ұсынысы"),
    ("Putin", "PUTIN'S envoy"),
    ("министрлік", "министрлігі құрылды"),  # Kazakh к, қ, п turn voiced before an ending
    ("жарлық", "жарлығына қол қойды"),
    ("войска", "проверка войск"),  # a stem of four letters or more with no ending
    ("газ", "газоперерабатывающий завод"),  # a compound that begins with the stem and a linking vowel
    ("нефть", "нефтегазовый сектор"),
    ("военный", "погиб военнослужащий"),
])
def test_inflected_forms_match(keyword: str, text: str) -> None:
    assert found(keyword, text)


@pytest.mark.parametrize(("keyword", "text"), [
    ("Азия", "аз"),  # a bare stem is not a form of the word
    ("Россия", "Роспечать"),
    ("газ", "газета"),
    ("Китай", "кит"),
    ("oil", "oiled"),
    ("EU", "Europe"),
    ("министрлік", "министрге"),
    ("газ", "газон"),  # too short a second part for a compound
    ("газ", "газетный киоск"),
    ("грузы", "в грузовике"),  # a suffix (-ов-), not a second word
    ("Грузия", "грузооборот вырос"),  # a name begins no compound: Georgia is no cargo
    ("Грузия", "грузоперевозки"),
    ("Индия", "Индонезия"),
])
def test_unrelated_words_do_not_match(keyword: str, text: str) -> None:
    assert not found(keyword, text)


def test_inflected_russian_places_the_item(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Russia", "keywords": ["Россия", "Москва"]},
               {"name": "China", "keywords": ["Китай", "Пекин"]})
    placement = s.place(item("Новые санкции против России", "Москве предложили скидку."))
    assert placement.section == "Russia"
    assert placement.reason == "mentions Россия once in the headline and Москва once"
    assert s.place(item("Экспорт из Китая вырос", "В Пекине довольны.")).section == "China"


def test_a_word_counts_once_per_section(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Russia", "keywords": ["Russia", "Russian"]},
               {"name": "Energy", "keywords": ["oil", "gas"]})
    placement = s.place(item("Talks", "Russian oil and gas, Russian gas."))
    assert placement.section == "Energy"  # 3 words beat 2, though two keywords matched each "Russian"
    assert placement.reason == "mentions gas twice and oil once"


def test_heading_matches_in_any_case_and_with_yo(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Всё о нефти", "aliases": ["Energy"]})
    assert s.place(item("x", "text", label="ВСЕ О НЕФТИ")).reason == "inline heading 'ВСЕ О НЕФТИ'"
    assert s.place(item("x", "text", label="energy")).section == "Всё о нефти"


def placed(title: str, *, day: int = 1, pinned: bool = False, copies: int = 0, section: str = "Russia") -> Placed:
    first = item(title, day=day)
    others = tuple(dataclasses.replace(item(f"{title} {n}", day=day), source_name=f"Wire {n}")
                   for n in range(copies))
    return Placed(first, Placement(section, "test"), others, pinned)


def test_items_within_a_section_pinned_then_more_sources_then_newest(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    arranged = s.arrange([placed("old", day=1), placed("new", day=9), placed("pinned", day=2, pinned=True),
                          placed("widely carried", day=3, copies=2), placed("same day first", day=9)])
    [russia] = arranged.sections
    assert [p.item.title for p in russia.items] == ["pinned", "widely carried", "new", "same day first", "old"]
    assert russia.items[1].sources == ["Wire", "Wire 0", "Wire 1"]


def test_section_limit_and_issue_limit_leave_the_rest_waiting(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Russia", "limit": 2}, {"name": "China"})
    russia = [placed("r-old", day=1), placed("r-new", day=5), placed("r-pinned", day=2, pinned=True)]
    china = [placed("c1", day=3, section="China"), placed("c2", day=4, section="China")]
    arranged = s.arrange(russia + china)
    assert [[p.item.title for p in x.items] for x in arranged.sections] == [["r-pinned", "r-new"], ["c2", "c1"]]
    assert arranged.waiting == {russia[0].item.id: "over the section's limit (2 in Russia)"}
    capped = s.arrange(russia + china, max_items=3)
    assert [[p.item.title for p in x.items] for x in capped.sections] == [["r-pinned", "r-new"], ["c2"]]
    assert capped.waiting[china[0].item.id] == "over the issue's limit (3 items)"


def test_empty_sections_hidden_unless_configured(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Russia", "hide_when_empty": False, "intro": "From Moscow."},
               {"name": "China"}, {"name": "Energy", "hide_when_empty": False, "empty_text": "Тихо."})
    sections = s.arrange([placed("Beijing", section="China")]).sections
    assert [(x.name, x.intro, len(x.items), x.empty) for x in sections] == [
        ("Russia", "From Moscow.", 0, "Nothing new this week."), ("China", "", 1, ""), ("Energy", "", 0, "Тихо.")]


def test_section_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sections\[1\].limit must be 0"):
        parse({"sections": [{"name": "Russia", "limit": -1}]}, root=tmp_path, environ={})
    with pytest.raises(ConfigError, match="hide_when_empty must be true or false"):
        parse({"sections": [{"name": "Russia", "hide_when_empty": "no"}]}, root=tmp_path, environ={})


@pytest.mark.parametrize("text", [
    "Looking ahead, the Senate will vote on the budget and OPEC+ meets in Vienna.",
    "Next week: the OPEC+ meeting, the CSTO summit in Moscow and the reopening of the highways.",
    "В ближайшие недели ожидается решение Нацбанка по ставке; Москва будет ждать ответа.",
    "Алдағы аптада Ұлттық банк мөлшерлеме туралы шешім қабылдайды, сарапшылар өсуін күтуде.",
])
def test_a_closing_outlook_goes_under_its_own_heading(tmp_path: Path, text: str) -> None:
    s = sorter(tmp_path)
    placement = s.place(item(text[:40] + "…", text), closing=True)
    assert placement.section == "Outlook"
    assert placement.reason.startswith("the closing outlook of a briefing (it looks ahead: “")
    assert s.place(item(text[:40] + "…", text)).section != "Outlook"  # not a briefing's last paragraph
    assert s.place(item("x", text, label="Oil"), closing=True).section == "Energy"  # a heading decides


def test_a_closing_story_is_not_an_outlook_and_the_outlook_heading_can_be_turned_off(tmp_path: Path) -> None:
    story = "Moscow and the Kremlin signed the gas deal on Monday; Moscow paid in advance."
    assert sorter(tmp_path).place(item(story[:40] + "…", story), closing=True).section == "Russia"
    config = parse({"newsletter": {"outlook": ""}, "sections": [{"name": "Russia", "keywords": ["Moscow"]}]},
                   root=tmp_path, environ={})
    ahead = "Next week Moscow will decide; expect Moscow to say no."
    placement = Sorter(config).place(item(ahead[:30] + "…", ahead), closing=True)
    assert placement.section == "In brief"  # never placed by keywords, though Moscow is mentioned twice


def test_the_outlook_is_shown_last_after_the_catch_all(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    arranged = s.arrange([placed("ahead", section="Outlook"), placed("misc", section="In brief"),
                          placed("Beijing", section="China")])
    assert [x.name for x in arranged.sections] == ["China", "In brief", "Outlook"]


def test_the_same_story_from_other_sources_adds_its_mentions(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Russia", "keywords": ["Россия", "Russia"]}, {"name": "China", "keywords": ["Китай"]})
    shown = item("Переводы в Таджикистан сократились", "Объём переводов уменьшился на 15%.")
    other = item("Remittances from Russia fall 15%", "Transfers from Russia fell.")
    assert s.place(shown).section == "In brief"
    placement = s.place(shown, also=(other,))
    assert (placement.section, placement.reason) == ("Russia", "mentions Russia twice (once in the headline)")


def places(tmp_path: Path) -> Sorter:
    return sorter(tmp_path, {"name": "Russia", "place": True, "keywords": ["Russia", "Moscow"]},
                  {"name": "China", "place": True, "keywords": ["China", "Chinese"]},
                  {"name": "Energy", "keywords": ["oil", "electricity", "pipeline"]},
                  {"name": "Economy", "keywords": ["trade", "imports", "investment"]})


def test_a_place_named_in_the_headline_goes_before_a_topic(tmp_path: Path) -> None:
    s = places(tmp_path)
    wheat = s.place(item("Russia suspends imports of wheat", "The ban on imports starts on Monday."))
    assert (wheat.section, wheat.reason) == ("Russia", "mentions Russia once in the headline (a place goes before a topic)")
    power = item("Russia offers more electricity", "Electricity exports would rise; electricity prices too.")
    assert s.place(power).section == "Russia"
    topics = sorter(tmp_path, {"name": "Russia", "keywords": ["Russia"]},  # not a place
                    {"name": "Energy", "keywords": ["electricity"]})
    assert topics.place(power).section == "Energy"  # 5 against 3
    # Two places in the headline: neither goes first, the usual rule decides.
    assert s.place(item("Russia and China talk trade", "Trade grew; trade fell.")).section == "Economy"
    # A place only in the text of a story whose headline names a topic: the topic keeps it.
    assert s.place(item("Pipeline reaches the border", "Russia and Russia's firms built it.")).section == "Energy"


def test_a_place_in_the_text_decides_when_the_headline_names_no_section(tmp_path: Path) -> None:
    s = places(tmp_path)
    plant = s.place(item("Carmaker to build a plant", "China's biggest carmaker promised investment."),
                    also=(item("Завод построят к 2028 году", "Chinese engineers arrived with the investment."),))
    assert plant.section == "China"  # 2 against 2: the place goes first
    assert s.place(item("Carmaker to build a plant", "China's carmaker will build it.")).section == "In brief"  # once


def test_evidence_spread_over_many_sections_is_passing_mentions(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Russia", "keywords": ["Moscow"]}, {"name": "China", "keywords": ["Beijing"]},
               {"name": "Energy", "keywords": ["oil"]}, {"name": "Economy", "keywords": ["trade"]})
    notes = "Oil, oil, oil and oil; trade, trade and trade; Beijing, Beijing, Beijing; Moscow, Moscow."
    placement = s.place(item("Weekly notes", notes))
    assert placement.section == "In brief"  # Energy's 4 of 12, a clear lead but no more than a third
    assert placement.reason.startswith("only passing mentions, spread over several sections: oil 4 times (Energy)")
    assert s.place(item("Weekly notes", notes.replace("Moscow, Moscow.", ""))).section == "Energy"  # 4 of 10


def test_a_keyword_given_again_as_an_alias_still_begins_compounds(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Energy", "aliases": ["Газ"], "keywords": ["газ"]},
               {"name": "Georgia", "keywords": ["Грузия"]})
    assert s.place(item("Построят газоперерабатывающий завод", "Стройка начнётся весной.")).section == "Energy"
    # Counter-case: a name begins no compound, so cargo is no news of Georgia.
    assert s.place(item("Грузооборот вырос", "Грузоперевозки растут.")).section != "Georgia"


def test_a_keyword_two_sections_share_counts_for_both_and_the_rest_stay_theirs(tmp_path: Path) -> None:
    s = sorter(tmp_path, {"name": "Energy", "keywords": ["gas", "oil"]}, {"name": "Economy", "keywords": ["gas", "trade"]},
               {"name": "Politics", "keywords": ["law"]})
    news = item("Gas law passed", "Trade in gas opens to all.")
    found = {m.section: dict(m.total) for m in s.mentions(news, news.body)}
    assert found == {"Energy": {"gas": 2}, "Economy": {"gas": 2, "trade": 1}, "Politics": {"law": 1}}
