"""Roundups: a briefing paragraph that retells several stories is each one's story, and shows once.

Which sentence of a paragraph retells a feed item (one closed by a comment of the briefing's
does; one that recalls the item and goes on to news of its own does not), which of several
tellings is shown, a story told in a sent roundup as a repeat, splitting a roundup out again,
a rough figure agreeing with a precise one, and reading any paragraph without failing. A
roundup that retells an item written in another language is in ``test_roundups_languages.py``.
"""

from __future__ import annotations

import pytest
from helpers.items import EKIBASTUZ, ENERGY, KARACHAGANAK, KAZATOMPROM, entry, paragraph
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.edit.batch import Batch
from newsletter.edit.cluster import Cluster, find, repeats
from newsletter.edit.editorial import Choice, regroup
from newsletter.edit.facts import Reader
from newsletter.edit.likeness import compare
from newsletter.edit.names import language
from newsletter.edit.quantities import figures, near
from newsletter.edit.roundups import telling


def test_a_paragraph_that_retells_three_stories_shows_once_with_each_of_them() -> None:
    energy = paragraph("Energy", ENERGY)
    told = [entry(*KARACHAGANAK, source=1), entry(*EKIBASTUZ, source=1), entry(*KAZATOMPROM, source=2)]
    [story] = find([*told, energy], language="en")
    assert story.first is energy  # the paragraph tells them all; two of them come from one wire
    assert story.told == {i.id for i in told}
    assert "told in a briefing paragraph" in story.reason


def test_a_paragraph_that_names_the_same_places_but_tells_another_story_stays_apart() -> None:
    oil = paragraph("Oil", "A drone hit the CPC terminal at Novorossiysk on Monday and put one of its three moorings "
                    "out of action. Exports of Kazakh crude will run about 30% below normal for two weeks.")
    storm = entry("Storm delays tanker loading at CPC terminal", "Loadings at the CPC terminal near Novorossiysk were "
                  "suspended for three days because of a storm in the Black Sea, pushing some cargoes into December.")
    assert len(find([oil, storm])) == 2
    batch = Batch([storm, oil])
    how = telling(batch, 0, 1)
    assert how is None or not how.within  # the same places, not what happened in the same words


# A roundup sentence that retells a feed item and closes with a comment of its own. The item spells the pipeline with
# hyphens and abbreviates it, the roundup with dashes and never; the lookalike is another story about the same pipeline,
# company and year ("stop shipments", not "triple" them).
GAS = ("Gas output at the Amangeldy field rose 4% in October after maintenance ended. The regulator approved higher "
       "tariffs for households from January. Saryarka Gas will also triple shipments through the Tobol–Ishim–Irtysh "
       "pipeline next year, a modest but welcome relief for the north.")
TRIPLE = ("Tobol-Ishim-Irtysh to carry more gas under new contract",
          ("Saryarka Gas will ship up to 3.1 billion cubic metres through the TII pipeline in 2027, triple this year's "
           "volume, under a contract signed in Kostanay. The gas will reach Petropavl by spring."))
REPAIRS = ("Saryarka Gas to shut TII pipeline for repairs",
           ("Saryarka Gas will stop shipments through the Tobol-Ishim-Irtysh (TII) pipeline for six weeks in 2027 "
            "while compressors near Kostanay are replaced, the company said."))


def test_a_roundup_sentence_that_closes_with_a_comment_retells_the_item() -> None:
    gas, triple = paragraph("Gas", GAS), entry(*TRIPLE, source=1)
    how = telling(Batch([triple, gas]), 0, 1)
    assert how is not None and how.within and how.sentences == (2, 3) and how.particulars >= 3
    assert how.words == 1.0  # "triple shipments through the … pipeline"; the whole sentence: 4 of its 8 words
    assert Reader().stem("shipments", "en") == Reader().stem("ship", "en")
    [story] = find([triple, gas], language="en")
    assert story.items == (gas, triple) and story.reason.startswith("told in a briefing paragraph (sentence 3)")


def test_another_story_about_the_same_pipeline_company_and_year_stays_apart() -> None:
    gas, repairs = paragraph("Gas", GAS), entry(*REPAIRS, source=1)
    how = telling(Batch([repairs, gas]), 0, 1)
    assert how is None or not how.within  # "stop shipments through the … pipeline": a word of its own in four
    stories = find([repairs, gas, entry(*TRIPLE, source=2)], language="en")
    assert [s.items for s in stories if repairs in s.items] == [(repairs,)]


# A sentence that recalls an item in a clause, then other news with a day of its own: no comment of the briefing's.
HALT = ("Kazatomprom halts Inkai", "Kazatomprom halted production at its Inkai mine on Monday over a permit dispute.")
HALT_RU = ("«Казатомпром» остановил Инкай", "«Казатомпром» в понедельник остановил добычу на Инкае из-за спора о разрешении.")
RECALLS = [(HALT, ("Kazatomprom, which halted production at Inkai on Monday over a permit dispute, named Meirzhan "
                   "Yussupov, a former deputy energy minister, its new chief executive on Thursday.")),
           (HALT_RU, ("«Казатомпром», который в понедельник остановил добычу на Инкае из-за спора о разрешении, в четверг "
                      "назначил главой компании бывшего вице-министра Меиржана Юсупова."))]


@pytest.mark.parametrize(("told", "recall"), RECALLS, ids=["English", "Russian"])
def test_a_sentence_that_recalls_an_item_and_goes_on_to_other_news_does_not_retell_it(told: tuple[str, str],
                                                                                       recall: str) -> None:
    halt, uranium = entry(*told, source=1), paragraph("Uranium", f"Uranium prices rose again. {recall}")
    how = telling(Batch([halt, uranium]), 0, 1)
    assert (how is None or not how.within) and len(find([halt, uranium])) == 2  # counter-case: closed by a comment
    comment = paragraph("Uranium", "Uranium prices rose again. Kazatomprom halted production at Inkai on Monday over a "
                        "permit dispute, a worry for buyers.")
    assert (retold := telling(Batch([entry(*HALT, source=1), comment]), 0, 1)) and retold.within


def test_a_closing_clause_with_a_day_and_a_figure_of_its_own_is_news_not_a_comment() -> None:
    # Every name of the sentence is the item's; only its last clause's day and figure tell the news apart.
    halt = entry(*HALT, source=1)
    shares = paragraph("Uranium", "Uranium prices rose again. Kazatomprom halted production at Inkai on Monday over a "
                       "permit dispute, and its shares fell 4% on Tuesday as traders priced in lower output.")
    how = telling(Batch([halt, shares]), 0, 1)
    assert how is None or not how.within


def test_a_paragraph_that_retells_only_a_story_told_in_a_roundup_folds_in_with_it() -> None:
    energy = paragraph("Energy", ENERGY)
    notes = paragraph("Uranium", "Kazatomprom cut its 2027 production target by 10% because sulphuric acid is short "
                      "at its mines. Analysts expect the uranium price to rise.", document="notes.md")
    told = [entry(*KARACHAGANAK, source=1), entry(*KAZATOMPROM, source=2)]
    [story] = find([notes, *told, energy], language="en")
    assert story.first is energy and notes.id in story.told


def test_of_two_paragraphs_that_retell_one_story_each_the_longer_is_shown() -> None:
    feed = entry("Ekibastuz power station's third unit returns", "The Ekibastuz power station returned its third unit "
                 "to service on Monday after a month of repairs, the operator said, easing the shortage of power.")
    long = paragraph("Power", "The Ekibastuz power station returned its third unit to service on Monday after a month "
                     "of repairs. Separately, the regulator fined two distribution companies for overcharging "
                     "households in Pavlodar.")  # retells the entry word for word: the surer telling, found first
    short = paragraph("Ekibastuz", "Ekibastuz restarted its third unit on Monday, easing the shortage.",
                      document="notes.md")
    [story] = find([feed, short, long], language="en")
    assert story.first is long  # its second sentence is news no other item tells


def test_two_roundups_that_each_retell_stories_of_their_own_stay_apart() -> None:
    energy = paragraph("Energy", ENERGY)
    other = paragraph("Mining", "Kazatomprom cut its 2027 production target by 10%, blaming a shortage of sulphuric "
                      "acid at its mines. Separately, ERG agreed to buy a copper mine in Zambia for $1.1 billion, its "
                      "largest deal abroad.", document="notes.md")
    copper = entry("ERG buys Zambian copper mine for $1.1bn", "Eurasian Resources Group agreed to buy a copper mine "
                   "in Zambia for $1.1 billion, its largest deal abroad.", source=3)
    items = [energy, other, copper, entry(*KARACHAGANAK, source=1), entry(*EKIBASTUZ, source=1),
             entry(*KAZATOMPROM, source=2)]
    stories = find(items, language="en")
    shown = {s.first.id for s in stories}
    assert {energy.id, other.id} <= shown  # each shows its own news


def test_a_story_told_in_a_sent_roundup_is_a_repeat_but_a_new_roundup_is_not() -> None:
    energy = paragraph("Energy", ENERGY)
    waiting = entry(*EKIBASTUZ, source=1)
    assert repeats([waiting], [energy])[waiting.id].reason.startswith("told in a briefing paragraph")
    sent = entry(*KAZATOMPROM, source=2)
    assert repeats([paragraph("Energy", ENERGY, document="next.txt")], [sent]) == {}  # it tells new stories too


def test_splitting_the_roundup_out_leaves_each_story_it_told_on_its_own() -> None:
    energy, a, b = paragraph("Energy", ENERGY), entry(*KARACHAGANAK, source=1), entry(*EKIBASTUZ, source=1)
    stories = [Cluster((energy, a, b), "told in a briefing paragraph", frozenset({a.id, b.id}))]
    found = regroup(stories, {energy.id: Choice(energy.id, apart=True)})
    assert [[i.id for i in s.items] for s in found] == [[a.id], [b.id], [energy.id]]


def test_a_figure_given_roughly_agrees_with_the_precise_one() -> None:
    assert figures("output hit just over 2 million barrels a day", "en") == ({"2e+06"}, {"2e+06>"})
    assert figures("около 30% экспорта", "ru") == ({"30%"}, {"30%~"})
    assert figures("2.02 million barrels", "en") == ({"2.02e+06"}, set())
    assert near("2e+06>", "2.02e+06") and not near("2e+06<", "2.02e+06") and not near("2e+06~", "2.4e+06")
    assert not near("30%~", "3e+01") and near("450~", "452") and not near("573~", "577")  # rounded, not nearby
    rough = entry("Kazakh output at record", "Kazakhstan's crude output hit just over 2 million barrels a day in "
                  "October as Tengiz expanded, above the OPEC+ quota.", source=1)
    precise = entry("Tengiz lifts output", "Kazakhstan produced 2.02 million barrels a day in October, the ministry "
                    "said, as Tengiz reached full capacity; Astana is again above its OPEC+ quota.", source=2)
    evidence = compare(Batch([rough, precise]), 0, 1)
    assert not evidence.conflict and evidence.same and "about 2 million" in evidence.reason


def test_a_year_ahead_and_a_month_named_alone_are_particulars_a_past_year_is_not() -> None:
    a = entry("Regions to keep more tax", "Regions will keep a larger share of income tax from 2028, the president "
              "said; the reform was first promised in 2022. A pilot starts in January.", source=1)
    b = entry("More tax for regions", "From 2028 regions keep more of the income tax, as promised in 2022. The pilot "
              "starts on 1 January 2027.", source=2)
    evidence = compare(Batch([a, b]), 0, 1)
    assert set(evidence.times) == {"2028y", "m01"}  # not 2022: a year gone by names no plan


def test_an_english_text_quoting_kazakh_is_english_and_a_summary_of_its_own_is_read() -> None:
    assert language("Tokayev tells «Ұлттық құрылтай» that regions will get more budget power. At the session the "
                    "president promised that akimats would keep more of the income tax, repeated the slogans «Заң мен "
                    "тәртіп» and «Әділетті Қазақстан», and said the өңірлер must stop waiting for Astana.") == "en"
    atom = entry("Uzbekistan sets WTO target", "The chief negotiator said accession should come by the end of 2027.",
                 summary="Tashkent has closed talks with 28 of the 32 members that asked for them.")
    assert {"28", "32", "2027y"} <= Reader().read(atom).quantities


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=600), st.text(max_size=300))
def test_reading_any_paragraph_for_retellings_never_fails(text: str, other: str) -> None:
    batch = Batch([entry(other[:40], other), paragraph("Any", text)])
    how = telling(batch, 0, 1)
    assert how is None or (0 <= how.words <= 1 and 0 <= how.about <= 1 and how.particulars >= 0)
