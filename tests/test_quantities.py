"""Quantities: amounts of money keep their currency, and "next year" is read as the year it is."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.edit.batch import Batch
from newsletter.edit.cluster import find
from newsletter.edit.quantities import describe, figures, near, quantities
from newsletter.edit.roundups import telling
from newsletter.item import Item

_ids = count(1)


def item(title: str, body: str, *, source: int, label: str | None = None) -> Item:
    n = next(_ids)
    moment = datetime(2026, 11, 20, 8, tzinfo=UTC)
    return Item(id=n, source_id=source, source_name=f"Wire {source}", uid=f"uid-{n}", title=title, body=body,
                summary=body, link=None, label=label, published_at=moment, gathered_at=moment,
                source_key=f"wire-{source}")


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("$1.2bn, US$1.2 billion, USD 1.2 billion, 1.2 billion US dollars", "en", {"1.2e+09 USD"}),
    ("1,2 млрд долларов, 1,2 млрд. долл. США", "ru", {"1.2e+09 USD"}), ("1,2 млрд долларға", "kk", {"1.2e+09 USD"}),
    ("1.2 billion yuan, ¥1.2bn", "en", {"1.2e+09 CNY"}), ("1,2 млрд юаней", "ru", {"1.2e+09 CNY"}),
    ("€5m, 5 million euros, EUR 5 million", "en", {"5e+06 EUR"}), ("5 млн евро", "ru", {"5e+06 EUR"}),
    ("500 тенге, 500 ₸, ₸500", "ru", {"500 KZT"}), ("500 млрд теңгеден", "kk", {"5e+11 KZT"}),
    ("3 billion tenge", "en", {"3e+09 KZT"}), ("8 млрд рублей, 8 млрд ₽", "ru", {"8e+09 RUB"}),
    ("18 млрд сумов", "ru", {"1.8e+10 UZS"}), ("18 млрд сомов", "ru", {"1.8e+10 KGS"}),
    ("5 млн сомони", "ru", {"5e+06 TJS"}), ("1 млн манатов", "ru", {"1e+06 MANAT"}),
    ("$2000", "en", {"2e+03 USD"}),  # an amount, not a year
    ("1.2 billion", "en", {"1.2e+09"}),  # no currency: a bare number, as "30" is not "30%"
    ("in 2025. Dollar deposits fell", "en", {"2025y"}),  # a currency of the next sentence is not the year's
])
def test_an_amount_of_money_carries_its_currency(text: str, lang: str, expected: set[str]) -> None:
    assert quantities(text, lang) == expected


def test_an_amount_reads_with_its_currency_and_a_rough_one_agrees_only_in_it() -> None:
    assert describe("1.2e+09 CNY") == "1.2 billion yuan" and describe("3.5e+08 USD") == "350 million dollars"
    _, rough = figures("about US$2 million", "en")
    assert rough == {"2e+06 USD~"}
    assert near("2e+06 USD~", "2.02e+06 USD") and not near("2e+06 USD~", "2.02e+06 KZT")
    assert not near("2e+06 USD~", "2.02e+06")


_SPELLINGS = {  # how each currency is written before ("$") or after ("долларов") an amount in millions
    "USD": (("$", ""), ("US$", ""), ("USD ", ""), ("", " dollars"), ("", " долларов")),
    "EUR": (("€", ""), ("", " euros"), ("", " евро")),
    "CNY": (("¥", ""), ("", " yuan"), ("", " юаней")),
    "KZT": (("₸", ""), ("", " tenge"), ("", " тенге"), ("", " теңге"), ("KZT ", "")),
    "RUB": (("₽", ""), ("", " рублей"), ("", " rubles")),
}


@settings(max_examples=200, deadline=None)
@given(st.integers(10, 999), st.sampled_from(sorted(_SPELLINGS)), st.sampled_from(sorted(_SPELLINGS)),
       st.data())
def test_two_amounts_in_two_currencies_are_never_the_same_figure(amount: int, one: str, other: str,
                                                                 data: st.DataObject) -> None:
    keys = []
    for code in (one, other):
        before, after = data.draw(st.sampled_from(_SPELLINGS[code]))
        found = quantities(f"worth {before}{amount} million{after}.", "en")
        assert found == {f"{amount * 1e6:.3g} {code}"}
        keys.append(found)
    assert (keys[0] == keys[1]) == (one == other)


def test_reading_currencies_is_bounded_in_time() -> None:
    text = ("US$1.2bn, 1,2 млрд долларов США и 500 ₸ в следующем году; " * 50_000)[:3_000_000]
    started = time.perf_counter()
    found = quantities(text, "ru", 2026)
    assert time.perf_counter() - started < 10.0 and {"1.2e+09 USD", "500 KZT", "2027y"} <= found


def test_the_same_amount_in_yuan_and_in_dollars_is_two_stories() -> None:
    port = item("COSCO buys into Khorgos dry port", "China's COSCO Shipping will pay 1.2 billion yuan for a quarter of "
                "the Khorgos Gateway dry port on the Kazakh border with China.", source=1)
    tunnels = item("Chinese firms win CKU railway tunnels", "Chinese state firms won the tunnels of the "
                   "China–Kyrgyzstan–Uzbekistan railway, worth $1.2 billion; the line will take cargo that now "
                   "crosses from China into Kazakhstan at Khorgos.", source=2)
    assert len(find([port, tunnels])) == 2  # one figure and three names, but 1.2 billion yuan is no $1.2 billion


@pytest.mark.parametrize(("text", "expected"), [
    ("double shipments next year", {"2027y"}), ("в следующем году", {"2027y"}), ("до конца следующего года", {"2027y"}),
    ("келесі жылы", {"2027y"}), ("double this year's volume", {"2026y"}), ("в этом году", {"2026y"}),
    ("биыл", {"2026y"}), ("last year", {"2025y"}), ("в прошлом году", {"2025y"}), ("over the next year", set()),
])
def test_a_year_named_by_its_distance_is_read_from_the_year_of_publication(text: str, expected: set[str]) -> None:
    assert quantities(text, "en", 2026) == expected
    assert quantities(text, "en") == set()  # without the year of publication, nothing to count from


@pytest.mark.parametrize(("when", "merged"), [("в следующем году", True), ("в этом году", False)])
def test_next_year_is_a_year_ahead_like_the_year_written_out(when: str, merged: bool) -> None:
    english = item("Uranium output to fall", "Kazakhstan will cut uranium output by 12% in 2027, blaming a shortage "
                   "of sulphuric acid.", source=1)
    russian = item("Добыча урана снизится", f"Казахстан {when} сократит добычу урана на 12% из-за нехватки серной "
                   "кислоты.", source=2)
    stories = find([english, russian])
    assert len(stories) == (1 if merged else 2)
    if merged:
        assert stories[0].reason.endswith("and the same date (2027)")


@pytest.mark.parametrize(("when", "within"), [("next year's", True), ("this year's", False)])
def test_a_briefing_sentence_saying_next_year_retells_an_item_dated_the_year_after(when: str, within: bool) -> None:
    feed = item("Kazatomprom trims 2027 output plan", "Kazatomprom cut its production target for 2027, citing a "
                "shortage of sulphuric acid at its mines.", source=1)
    briefing = item("Energy", "The Ekibastuz power station returned its third unit to service after repairs. "
                    f"Kazatomprom cut {when} production target, blaming a shortage of sulphuric acid at its mines.",
                    source=9, label="Energy")
    told = telling(Batch([feed, briefing]), 0, 1)
    assert told is not None and told.within is within and told.sentences == (1, 2)
