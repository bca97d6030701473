"""Roundups across languages: a briefing paragraph retells a feed item written in another language.

Names and cognates (international words such as "protocol" and "консорциум") carry the
retelling from one language to another; a lookalike about the same countries, people and
words that tells another story stays apart, and so does a part whose figures disagree with
the item's. A cognate much of the batch writes tells nothing, and reading a huge paragraph
for retellings, in one language or two, is bounded in time.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import pytest
from helpers.items import ENERGY, KAZATOMPROM, entry, paragraph

from newsletter.edit.batch import Batch
from newsletter.edit.cluster import find
from newsletter.edit.names import language
from newsletter.edit.roundups import telling

# Across languages: a Russian feed item that an English roundup retells in one sentence, and a Russian lookalike
# about the same countries, the same city and migrants too.
PROTOCOL = ("Россия и Узбекистан подписали протокол об упрощённой регистрации мигрантов",
            ("Мигранты из Узбекистана смогут проходить регистрацию через портал госуслуг, а медосмотр — в Ташкенте "
             "до отъезда. Протокол вступит в силу после ратификации."))
CHECKS = ("Россия ужесточила проверки мигрантов из Узбекистана",
          ("С января граждане Узбекистана проходят дактилоскопию в российских центрах, а не в Ташкенте: так требует "
           "новый протокол МВД. Правозащитники говорят об очередях и поборах."))
RUSSIA = ("Moscow keeps pressing Tashkent to join the Eurasian Economic Union before the end of the year. Separately, "
          "Russia and Uzbekistan signed a protocol that lets Uzbek migrants complete their registration online and "
          "pass the medical check in Tashkent before they leave. Officials in both capitals call it a reward for "
          "cooperation.")


def test_a_roundup_in_english_retells_a_russian_item_through_names_and_cognates() -> None:
    roundup, protocol = paragraph("Russia", RUSSIA), entry(*PROTOCOL, source=1)
    [story] = find([protocol, roundup], language="en")
    assert story.items == (roundup, protocol)  # the roundup says more, in the newsletter's language
    assert story.reason == ("told in a briefing paragraph (sentence 2): 3 of the same particulars and the same words "
                            "in another language (migrants, protocol, registration)")  # Russia, Uzbekistan, Tashkent


def test_a_russian_lookalike_about_the_same_countries_and_migrants_stays_apart() -> None:
    roundup, checks = paragraph("Russia", RUSSIA), entry(*CHECKS, source=1)
    # Russia, Uzbekistan and Tashkent, "протокол" and "мигрантов": no part of the roundup writes three of its words
    assert telling(Batch([checks, roundup]), 0, 1) is None
    assert len(find([checks, roundup, entry(*PROTOCOL, source=2)], language="en")) == 2


def test_a_cognate_that_much_of_the_batch_writes_tells_nothing() -> None:
    common = [entry(f"Item {n}", f"The registration of voters in district {n} went smoothly.", source=10 + n)
              for n in range(13)]
    batch = Batch([entry(*PROTOCOL, source=1), paragraph("Russia", RUSSIA), *common])
    assert "regist" in batch.common and "protok" not in batch.common
    assert telling(batch, 0, 1) is None  # "migrants" and "protocol" are left: two rare words are not enough


@pytest.mark.parametrize(("told", "text"), [(KAZATOMPROM, ENERGY), (PROTOCOL, RUSSIA)], ids=["one language", "two"])
def test_reading_a_huge_paragraph_for_retellings_is_bounded(told: tuple[str, str], text: str) -> None:
    huge = (text + " ") * 2_000
    batch = Batch([entry(*told), paragraph("Heading", huge)])
    started = time.perf_counter()
    how = telling(batch, 0, 1)
    assert time.perf_counter() - started < 1.0 and how is not None and how.within  # only TEXT_LIMIT is read


class Lookalike(NamedTuple):
    """A briefing paragraph under an inline heading, and a feed item in another language that tells another story."""

    heading: str
    text: str
    title: str
    body: str


# Lookalikes across languages: the same two countries (or people), a place, and three or more international words
# ("memorandum", "консорциум", "инвестиции"), but another event, other figures, in the same week. Each was told
# within the paragraph by the rule as first written, and hid a story.
LOOKALIKES = {
    "a new terminal, not the transit that fell at the old one": Lookalike(
        "China", "Kazakhstan and China signed a memorandum on a consortium that will build a second container terminal "
        "at Khorgos, with investment put at $500 million. Construction is due to start in spring.",
        "Транзит через Хоргос сократился", "Объём транзита через сухой порт Хоргос в октябре сократился на 12%, "
        "сообщил консорциум-оператор терминала. В Казахстане объясняют спад ремонтом путей на китайской стороне, "
        "инвестиции в модернизацию продолжатся."),
    "an investment programme, not a gas contract": Lookalike(
        "Russia", "Uzbekistan and Russia agreed an investment programme worth $10 billion at a forum in Tashkent, "
        "covering the modernisation of 40 industrial projects and a new transit corridor.",
        "Узбекистан продлил контракт на импорт российского газа", "Ташкент и «Газпром» продлили контракт на транзит "
        "и поставку газа из России в Узбекистан ещё на пять лет. Документ предусматривает модернизацию компрессорных "
        "станций; инвестиции оцениваются в $300 млн, сообщил министр энергетики."),
    "a consortium named in passing after another story": Lookalike(
        "Russia", "Russia and Uzbekistan signed a protocol on the online registration of migrants in Tashkent. The "
        "deal comes a month after Moscow and Tashkent agreed a consortium for a nuclear power plant project.",
        "Росатом и Узбекистан: консорциум АЭС", "Россия и Узбекистан создали консорциум для проекта атомной "
        "электростанции в Джизакской области; протокол о финансировании подпишут в Ташкенте, регистрация компании "
        "завершится в декабре."),
    "a memorandum signed, not a terminal opened (Kazakh)": Lookalike(
        "Kazakhstan", "Kazakhstan and Turkey signed a memorandum on a joint programme of investment in the Middle "
        "Corridor; the project covers a new terminal at Aktau.",
        "Қазақстан мен Түркия контейнер терминалын ашты", "Қазақстан мен Түркия Ақтау портында жаңа терминалды "
        "ашты. Жобаға инвестиция 50 млн доллар, меморандум бойынша транзит көлемі артады."),
    "a shooting and a troop protocol, not the last border markers": Lookalike(
        "Security", "Kyrgyzstan and Tajikistan reported a shooting incident at the border near Batken; the demarcation "
        "commission met and both sides signed a protocol on withdrawing troops.",
        "Киргизия и Таджикистан завершили демаркацию границы", "Правительственные делегации Киргизии и Таджикистана "
        "подписали протокол об окончательной демаркации границы; комиссия установила последние пограничные столбы "
        "под Баткеном."),
    "a state visit, not a telephone call": Lookalike(
        "Uzbekistan", "President Mirziyoyev arrived in Astana for a state visit; Tokayev and he adopted a programme of "
        "investment projects and a memorandum on transit.",
        "Токаев и Мирзиёев обсудили водную программу по телефону", "Президенты Казахстана и Узбекистана Касым-Жомарт "
        "Токаев и Шавкат Мирзиёев по телефону обсудили программу водосбережения, меморандум о транзите "
        "электроэнергии и инвестиции в проекты на Сырдарье."),
    "a budget reform, not a police reform": Lookalike(
        "Politics", "Kazakhstan's parliament approved the budget reform on Wednesday; the Mazhilis also backed a "
        "programme of modernisation for the regions, the finance minister said.",
        "Мажилис одобрил реформу полиции", "Мажилис парламента Казахстана в среду одобрил реформу полиции и программу "
        "модернизации патрульной службы; бюджет не увеличится, заявил министр внутренних дел."),
    "Russian roundup: a new terminal, not the transit that fell": Lookalike(
        "Китай", "Казахстан и Китай подписали меморандум о консорциуме, который построит второй контейнерный терминал "
        "в Хоргосе; инвестиции оцениваются в $500 млн.",
        "Transit through Khorgos falls", "Transit through the Khorgos dry port fell by 12% in October, the consortium "
        "that runs its terminal said; Kazakhstan blames track repairs in China, and investment in modernisation will "
        "go on."),
    "a terminal's new operator, not the fall in its cargo": Lookalike(
        "China", "Kazakhstan and China chose a logistics consortium as the operator of a second terminal at Khorgos, "
        "for $500 million.",
        "Грузооборот терминала в Хоргосе упал на 12%", "В октябре грузооборот упал на 12%, сообщил логистический "
        "консорциум — оператор терминала в Хоргосе; в Казахстане винят ремонт путей в Китае."),
    # These stayed apart under the first rule too; they guard it.
    "a migration amnesty, not the registration protocol": Lookalike(
        "Russia", "Russia and Kyrgyzstan agreed that Kyrgyz migrants whose registration lapsed can leave without a fine "
        "until 1 March; the migration amnesty covers about 40,000 people, the minister said.",
        "Москва и Бишкек подписали протокол о миграции", "Россия и Киргизия подписали протокол об электронной "
        "регистрации трудовых мигрантов. Документ позволит проходить регистрацию через портал, сообщил министр труда "
        "Киргизии."),
    "record exports, not a contract to modernise the terminal": Lookalike(
        "Oil", "Kazakhstan's exports through the CPC terminal at Novorossiysk reached a record 1.7 million barrels a day "
        "in October, the consortium said; Russia has not objected.",
        "КТК заключил контракт на модернизацию терминала", "Каспийский трубопроводный консорциум (КТК) подписал "
        "контракт на модернизацию выносного причала терминала в Новороссийске. Работы займут полтора года; экспорт "
        "казахстанской нефти не прервётся, заверили в консорциуме."),
    "Russian roundup: a hydropower consortium, not the railway": Lookalike(
        "Киргизия", "Киргизия и Узбекистан подписали протокол о совместном проекте Камбаратинской ГЭС-1: инвестиции "
        "составят $5 млрд, консорциум сформируют до конца года.",
        "Kyrgyzstan and Uzbekistan sign railway protocol", "Kyrgyzstan and Uzbekistan signed a protocol on the "
        "China–Kyrgyzstan–Uzbekistan railway project; the consortium expects investment of $4.7 billion from Chinese "
        "lenders."),
    "Russian roundup: a new gas contract, not talks on the price": Lookalike(
        "Туркмения", "Туркмения и Китай подписали контракт на экспорт дополнительных 5 млрд кубометров газа по линии "
        "D; транзит через Таджикистан и Киргизию начнётся после модернизации.",
        "Turkmenistan, China discuss gas price", "Turkmenistan and China began talks on the price of gas under the "
        "existing export contract, with transit through Uzbekistan and Kazakhstan unchanged; the modernisation of "
        "Galkynysh compressors continues."),
    "a pipeline section opened, not a railway memorandum": Lookalike(
        "Turkmenistan", "Turkmenistan and Afghanistan opened a new section of the TAPI gas pipeline project near Herat "
        "this week; the consortium says export deliveries could begin in 2028.",
        "Туркменистан и Афганистан подписали меморандум о железной дороге", "Ашхабад и Кабул подписали меморандум о "
        "строительстве железной дороги Туркменистан — Афганистан до Герата. Консорциум проекта рассчитывает начать "
        "экспорт грузов по новой ветке через два года."),
    "a minister dismissed, not the president's address": Lookalike(
        "Tajikistan", "Tajikistan's president Rahmon dismissed the energy minister after blackouts in Dushanbe; "
        "parliament must confirm a successor within a week.",
        "Рахмон выступил в парламенте", "Президент Таджикистана Эмомали Рахмон выступил с посланием в парламенте в "
        "Душанбе и поручил министру энергетики ускорить строительство Рогуна."),
    "talks on transit, each word in a sentence of its own": Lookalike(
        "Uzbekistan", "Uzbekistan and Kazakhstan held talks in Tashkent on Thursday. Officials discussed the investment "
        "climate. They also reviewed transit tariffs. A consortium of banks attended.",
        "Узбекистан и Казахстан запустили консорциум по транзиту", "В Ташкенте представлен консорциум логистических "
        "компаний Узбекистана и Казахстана; он займётся транзитом грузов в Китай. Инвестиции в проект — $40 млн."),
}


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_roundup_in_another_language_that_tells_another_story_with_the_same_words_stays_apart(lookalike: str) -> None:
    heading, text, title, body = LOOKALIKES[lookalike]
    roundup = paragraph(heading, text, document="ru.txt" if language(text) == "ru" else "weekly.txt")
    item = entry(title, body)
    how = telling(Batch([item, roundup]), 0, 1)
    assert how is None or not how.within, how.reason
    assert len(find([item, roundup], language="en")) == 2


@pytest.mark.parametrize(("amount", "within"), [("$500 млн", True), ("$502 млн", True), ("$800 млн", False)])
def test_across_languages_a_part_whose_figures_disagree_with_the_items_tells_another_story(amount: str,
                                                                                          within: bool) -> None:
    roundup = paragraph("China", "Kazakhstan and China chose a logistics consortium as the operator of a second "
                        "terminal at Khorgos, for about $500 million.")
    item = entry("Консорциум станет оператором второго терминала в Хоргосе", "Казахстан и Китай выбрали "
                 f"логистический консорциум оператором второго терминала в Хоргосе; стоимость проекта — {amount}.")
    how = telling(Batch([item, roundup]), 0, 1)
    assert how is not None and how.cognates == ("consortium", "logistics", "operator", "terminal")
    assert how.within is within and how.conflict is not within  # "about $500 million" is $502 million, not $800 million


def test_the_same_story_in_another_language_without_an_international_word_is_no_retelling() -> None:
    roundup = paragraph("Kazakhstan", "Kazakhstan's central bank kept its base rate at 16.5% on Friday, saying prices "
                        "still rise too fast.")
    item = entry("Нацбанк Казахстана сохранил базовую ставку 16,5%", "Национальный банк Казахстана в пятницу оставил "
                 "ставку без изменений на уровне 16,5%: цены растут слишком быстро.")
    assert telling(Batch([item, roundup]), 0, 1) is None  # a miss here; the figures may still make it one story
