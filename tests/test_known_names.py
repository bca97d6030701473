"""Known names: the built-in list of the region's organisations and projects, as placement and clustering read it."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config import parse
from newsletter.edit import known
from newsletter.edit.cluster import find
from newsletter.edit.facts import Reader
from newsletter.edit.keywords import fold, written
from newsletter.edit.sections import Sorter
from newsletter.item import Item


def item(title: str, body: str = "") -> Item:
    moment = datetime(2026, 11, 2, 8, tzinfo=UTC)
    return Item(id=1, source_id=1, source_name="Wire", uid=title, title=title, body=body, summary=body,
                link=None, label=None, published_at=moment, gathered_at=moment)


def sorter(tmp_path: Path, **newsletter: Any) -> Sorter:
    sections = [
        {"name": "Russia", "place": True, "keywords": ["Russia", "Россия"]},
        {"name": "China", "place": True, "keywords": ["China", "Китай"]},
        {"name": "Central Asia", "place": True, "keywords": ["Tajikistan", "Uzbekistan"]},
        {"name": "Energy", "keywords": ["uranium", "nuclear", "oil", "уран"]},
        {"name": "Economy", "keywords": ["trade", "bank", "loan"]},
    ]
    return Sorter(parse({"newsletter": newsletter, "sections": sections}, root=tmp_path, environ={}))


def test_a_known_name_counts_for_the_topic_it_implies_and_says_so(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    chief = s.place(item("Kazatomprom names a new chief executive", "The board met on Friday."))
    assert (chief.section, chief.reason) == ("Energy", "mentions Kazatomprom (uranium) once in the headline")
    # Russian and Kazakh spellings, inflected, are the same name.
    assert s.place(item("Совет директоров Казатомпрома сменил главу", "Решение принято в пятницу.")).section == "Energy"
    assert s.place(item("Қазатомөнеркәсібінің басшысы ауысты", "Шешім жұма күні қабылданды.")).section == "Energy"
    # Counter-case: without the list the same headline names no section.
    off = sorter(tmp_path, known_names=False)
    assert off.place(item("Kazatomprom names a new chief executive", "The board met on Friday.")).section == "In brief"


def test_a_project_stands_for_its_country(tmp_path: Path) -> None:
    placed = sorter(tmp_path).place(item("Lenders add $300 million for Rogun", "The money pays for the next stage."))
    assert placed.section == "Central Asia"
    assert "Rogun (Tajikistan) once in the headline" in placed.reason


def test_a_hired_companys_country_is_only_a_passing_mention(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    # Rosatom building a plant for a neighbour is the neighbour's nuclear story, not Russia's.
    plant = s.place(item("Rosatom pours concrete for Uzbekistan's nuclear plant", "Work began on Monday."))
    assert plant.section == "Central Asia"
    contractor = item("Rosatom to build a nuclear plant", "Work begins on Monday.")
    assert s.place(contractor).section == "Energy"
    [russia] = [m for m in s.mentions(contractor, contractor.body) if m.section == "Russia"]
    assert (russia.total["Rosatom (Russia)"], russia.headline["Rosatom (Russia)"]) == (1, 0)
    # A company that sells, buys or signs is a party: its country goes first.
    sale = s.place(item("Rosatom sells its stake in a uranium mine", "The buyer was not named."))
    assert (sale.section, sale.reason) == (
        "Russia", "mentions Rosatom (Russia) once in the headline (a place goes before a topic)")
    assert s.place(item("Росатом построит АЭС", "Работы начнутся весной.")).section == "Energy"
    # A repair is work for another; supplying oil is selling it, so the buyer does not take the seller's story.
    assert s.place(item("Rosatom to modernise Uzbekistan's nuclear plant", "Work starts in May.")).section == (
        "Central Asia")
    assert s.place(item("Rosneft to supply more oil to China next year", "Volumes rise by a fifth.")).section == "Energy"


def test_a_place_implies_its_country_but_no_topic(tmp_path: Path) -> None:
    # Khorgos is a trade gateway, but snow there is weather, not trade.
    assert sorter(tmp_path).place(item("Snow shuts the Khorgos crossing", "Lorries wait in line.")).section == "In brief"


def test_a_known_name_is_written_with_a_capital(tmp_path: Path) -> None:
    s = sorter(tmp_path)
    # "путина" is the fishing season, not Putin's genitive; the same word with a capital is Putin.
    assert s.place(item("На Балхаше открылась весенняя путина", "Рыбаки вышли на промысел.")).section == "In brief"
    assert s.place(item("Визит Путина в Астану перенесли", "Новую дату не назвали.")).section == "Russia"
    listed = known.gazetteer()
    assert [f.known.name for f in listed.find(written("Өзбекстан қорғасын экспортын тоқтатты"))] == []  # lead
    assert [f.known.name for f in listed.find(written("Жүк Қорғасқа жетті"))] == ["Khorgos"]
    # "теңіз кен орны": an offshore field, here Kashagan's; "Теңіз кен орны" is the Tengiz field.
    assert [f.known.name for f in listed.find(written("Қашаған теңіз кен орнында өндіріс тоқтады"))] == ["Kashagan"]
    assert [f.known.name for f in listed.find(written("Теңіз кен орнында өндіріс өсті"))] == ["Tengiz"]


def test_a_firms_country_counts_only_for_a_section_about_a_place(tmp_path: Path) -> None:
    sections: list[dict[str, Any]] = [
        {"name": "China", "place": True, "keywords": ["China"]},
        {"name": "Energy", "keywords": ["oil"]},
        {"name": "Economy", "keywords": ["bank", "airline"]},
        {"name": "Diplomacy", "keywords": ["United States", "European Union"]},
    ]
    s = Sorter(parse({"sections": sections}, root=tmp_path, environ={}))
    # Chevron is American and the EIB the EU's lender: no news of their dealings, no tie with the topic.
    assert s.place(item("Chevron to cut 300 jobs in Atyrau", "The expansion project is over.")).section == "Energy"
    assert s.place(item("EIB lends €200 million for Kazakhstan's roads", "The loan runs for 20 years.")).section == (
        "Economy")
    assert s.place(item("Air Astana orders 15 Boeing 787 jets", "Deliveries start in 2028.")).section == "Economy"
    # A government acts for its country: the State Department is the United States' diplomacy.
    assert s.place(item("State Department warns Astana on sanctions", "Banks were named.")).section == "Diplomacy"
    assert s.place(item("CNPC sells its stake in an oilfield", "The buyer was not named.")).section == "China"
    # Where no section is marked as a place, a firm's country counts wherever it is a keyword, as before.
    sections[0]["place"] = False
    plain = Sorter(parse({"sections": sections}, root=tmp_path, environ={}))
    assert plain.place(item("Chevron to cut 300 jobs in Atyrau", "The expansion project is over.")).section == (
        "In brief")


def test_the_national_bank_of_kazakhstan_is_named_with_its_country() -> None:
    listed = known.gazetteer()
    assert [f.known.name for f in listed.find(written("Қазақстан Ұлттық банкі мөлшерлемені өзгертпеді"))] == [
        "National Bank of Kazakhstan"]
    assert listed.find(written("Қырғызстан Ұлттық банкі мөлшерлемені өзгертпеді")) == []  # any country's national bank


def test_a_company_is_one_name_in_every_script() -> None:
    reader = Reader()
    english = reader.read_text("Kazatomprom and Navoiyuran form a venture", "They will explore together.")
    kazakh = reader.read_text("Қазатомөнеркәсіп Өзбекстанда уран іздейді", "Бірлескен кәсіпорын құрылады.")
    assert "=kazatomprom" in english.names & kazakh.names
    # A company named like the field it works ("Тенгизшевройл", Tengiz) is itself: the longest name it begins with.
    assert known.gazetteer().company_of("тенгизшевройлдың") == "Tengizchevroil"
    assert known.gazetteer().company_of("тенгиз") == "Tengiz"
    # A state body keeps one name in every script: no key of the list is added for it.
    assert not any(n.startswith("=") for n in reader.read_text("Kremlin answers Akorda", "No date yet.").names)


def test_a_short_latin_name_is_only_the_whole_word(tmp_path: Path) -> None:
    # "Duman" is a Kazakh first name, "Kasenov" a surname: no Duma, no KASE.
    assert sorter(tmp_path).place(item("Duman Zhaksylyk visits China", "He meets students.")).section == "China"
    listed = known.gazetteer()
    assert [f.known.name for f in listed.find(written("Duman Kasenov met Tapinov"))] == []
    assert [f.known.name for f in listed.find(written("The Duma's vote on TAPI"))] == ["State Duma", "TAPI"]


def test_a_short_cyrillic_name_is_itself_in_its_cases_and_no_longer_word() -> None:
    listed = known.gazetteer()
    # Russian and Kazakh inflect a name: "Рогуна", "Рогунской", "Рогунның" are Rogun, "КЕГОКа" KEGOC.
    for word in ("Рогуна", "Рогунской", "Рогунның"):
        assert [f.known.name for f in listed.find(written(f"Кредит для {word} ГЭС"))] == ["Rogun"], word
        assert listed.company_of(word.casefold()) == "Rogun", word
    assert listed.company_of("кегока") == "KEGOC"
    # ... and the same key as the English name, so a translation meets its original.
    reader = Reader()
    assert reader.read_text("Rogun gets a loan", "").names & reader.read_text("Кредит для Рогуна", "").names
    # Counter-case: a longer word that begins like a short name is another name.
    assert listed.find(written("Тапинов прибыл в Ашхабад")) == [] and listed.company_of("тапинов") is None


def test_placement_reads_a_word_as_the_longest_known_name_it_begins_with() -> None:
    listed = known.gazetteer()
    assert [f.known.name for f in listed.find(written("Газпромбанк выдал кредит"))] == ["Gazprombank"]
    assert [f.known.name for f in listed.find(written("Газпрома выдал кредит"))] == ["Gazprom"]  # counter-case


def test_the_list_is_read_and_its_kinds_are_checked() -> None:
    listed = known.gazetteer()
    assert len({id(e) for e in listed.entries}) >= 300  # entries, not their spellings
    with pytest.raises(ValueError, match="kind 'firm' is not one of"):
        known.parse('[[known]]\nnames = ["Acme"]\nkind = "firm"\n')
    found = known.parse('[[known]]\nnames = ["Bank of China"]\ncountry = "China"\ntopic = "bank"\nkind = "company"\n'
                        '[[known]]\nnames = ["China Eximbank"]\ncountry = "China"\nkind = "company"\n')
    [one] = found.find(written("Bank of China lends more"))
    assert (one.known.name, one.position, one.known.implies) == ("Bank of China", 0, ("China", "bank"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3_000))
def test_any_text_finds_only_listed_names_quickly(text: str) -> None:
    listed = known.gazetteer()
    started = time.perf_counter()
    found = listed.find(written(text))
    assert time.perf_counter() - started < 1.0
    names = {e.name for e in listed.entries}
    tokens = written(text)
    assert all(f.known.name in names and 0 <= f.position < len(tokens) for f in found)


def test_two_stories_of_one_company_in_two_scripts_with_one_round_figure_stay_apart() -> None:
    cut = item("Kazatomprom to cut 2027 output by 10%",
               "Kazatomprom will produce 10% less uranium in 2027 than it planned, because sulphuric acid is short.")
    exports = dataclasses.replace(
        item("Қазатомөнеркәсіп 2027 жылы Қытайға экспортты 10%-ға арттырады",
             "Компания уран жеткізілімін Транскаспий бағыты арқылы ұлғайтады."), id=2, source_id=2,
        published_at=datetime(2026, 11, 3, 8, tzinfo=UTC))
    assert [len(s.items) for s in find([cut, exports], language="en")] == [1, 1]
    # Counter-case: the same company, the same round figure and year, and a precise figure too, is one story.
    again = dataclasses.replace(
        item("Қазатомөнеркәсіп 2027 жылы өндірісті 10%-ға қысқартады",
             "Компания 2027 жылы 25 400 тонна уран өндіреді, 10% аз."), id=3, source_id=2)
    precise = dataclasses.replace(cut, body=cut.body + " It now expects 25,400 tonnes.")
    assert [len(s.items) for s in find([precise, again], language="en")] == [2]


def test_every_one_word_company_is_found_in_its_inflected_forms() -> None:
    listed = known.gazetteer()
    # Clustering reads folded words; an abbreviation ("KMG") is a name only in capitals, so it is left to its keys.
    both = {e.name for e in listed.entries if {any("а" <= c <= "я" for c in fold(s)) for s, x in listed.spellings.items()
                                                if x is e} == {True, False}}
    spellings = [s for s, e in listed.spellings.items()
                 if e.kind in ("company", "project") and e.name in both and len(written(s)) == 1 and not s.isupper()]
    assert len(spellings) >= 150
    for spelling in spellings:
        folded = fold(spelling)  # as clustering reads a word: ё is е
        assert listed.company_of(folded) is not None, spelling
        cyrillic = any("а" <= c <= "я" or c in "әғқңөұүһі" for c in folded)
        if len(folded) >= known.SHORT_NAME:  # a shorter name is only ever the whole word
            assert any(listed.company_of(folded + e) for e in (("а", "ның", "ы") if cyrillic else ("s",))), spelling
        else:
            assert listed.company_of(folded + "ov") is None, spelling  # "Tapinov" is a surname, not TAPI


def test_a_company_listed_in_latin_letters_only_keeps_the_keys_transliteration_finds() -> None:
    reader = Reader()
    english = reader.read_text("Chevron cuts 300 jobs", "The layoffs start in March.")
    russian = reader.read_text("Шеврон сократит 300 человек", "Сокращения начнутся в марте.")
    assert english.entities[0] & russian.entities[0]  # Chevron ~ Шеврон, their only names
    assert not any(n.startswith("=") for n in english.names | russian.names)
