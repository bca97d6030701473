"""Lexicon: what a story is about, in English, Russian and Kazakh words, one concept for each.

Names and figures compare across languages by themselves; the words that say what a story
is about ("harvest", "урожай", "астық") do not, and most of them are no cognates. This is a
small dictionary of such subjects in the three languages: the harvest, a flu outbreak, a
rocket launch, a school, a loan, a pipeline. ``subjects`` reads the subjects a text names,
with the keyword rules of ``keywords`` (endings, Russian stems, Kazakh cases), so that
"Flu closes Astana schools" and "В Астане из-за гриппа закрыли школы" share "flu" and
"school".

Only subjects are listed: the words every story uses whatever it is about ("said",
"signed", "met", "talks", "agreement", "president") are not, so two different phone
calls between the same two presidents share none. A concept tells what a story is about,
never which story: ``likeness`` asks for names or figures beside it.
"""

from __future__ import annotations

from functools import lru_cache

from newsletter.edit.keywords import Matcher, written

# concept: English words | Russian words | Kazakh words (lower case: common words, whose endings vary)
_TABLE = """
harvest: harvest, crop, grain, wheat | урожай, зерно, пшеница | астық, өнім жина, бидай
flu: flu, influenza, epidemic | грипп, эпидемия | тұмау, індет
school: school, pupil, student, university | школа, школьник, ученик, студент, университет | мектеп, оқушы, студент, университет
holiday: holiday, vacation | каникулы, отпуск | демалыс
launch: launch, rocket, spacecraft, satellite | пуск, запуск, ракета, спутник | ұшыру, зымыран, спутник
space: space, cosmodrome | космос, космодром | ғарыш
aircraft: aircraft, plane, airliner, jet | самолет, лайнер | ұшақ
airline: airline, flight | авиакомпания, рейс | әуе компания, рейс
military: military, army, troops, drill, exercise | военный, армия, войска, учения | әскер, жаттығу
weapon: weapon, drone, missile | оружие, беспилотник, дрон | қару, дрон
uranium: uranium, nuclear | уран, атомный, ядерный | уран, атом
oil: oil, crude, barrel, oilfield | нефть, баррель, месторождение | мұнай, баррель, кен орн
gas: gas | газ | газ
pipeline: pipeline | трубопровод, газопровод, нефтепровод | құбыр
power: electricity, power plant, power station, blackout, outage | электроэнергия, электростанция, энергоблок, отключение | электр
heating: heating, hot water, boiler | отопление, теплоснабжение, горячая вода, котельная | жылу, ыстық су
coal: coal, mine, miner | уголь, шахта, шахтер | көмір, шахта
gold: gold, copper, tungsten, lithium, metal | золото, медь, вольфрам, литий, металл | алтын, мыс, вольфрам, литий, металл
water: water, river, irrigation, dam, reservoir | вода, река, орошение, плотина, водохранилище | су, өзен, суару, бөген
railway: railway, railroad, train, rail | железная дорога, поезд, вагон | теміржол, пойыз, вагон
road: road, highway, motorway | дорога, трасса, шоссе | жол, тасжол
port: port, ferry, shipping | порт, паром | порт, паром
tariff: tariff, price | тариф, цена | тариф, баға
inflation: inflation | инфляция | инфляция
rate: base rate, interest rate, policy rate | базовая ставка, ставка | базалық мөлшерлеме, мөлшерлеме
tax: tax, excise, vat | налог, акциз, ндс | салық, акциз, ққс
budget: budget | бюджет | бюджет
loan: loan, credit, lend | кредит, заем, займ | несие, қарыз
bond: bond, eurobond | облигация, еврооблигация | облигация
bank: bank | банк | банк
currency: tenge, currency, exchange rate, dollar | тенге, валюта, курс, доллар | теңге, валюта, бағам, доллар
trade: export, import, trade, customs | экспорт, импорт, торговля, товарооборот, таможня | экспорт, импорт, сауда, кеден
investment: investment, investor, stake, shares | инвестиция, инвестор, доля, акции | инвестиция, инвестор, үлес, акция
election: election, vote, ballot, referendum | выборы, голосование, референдум | сайлау, дауыс, референдум
parliament: parliament, senate, lawmaker, law | парламент, сенат, мажилис, депутат, законопроект, закон | парламент, сенат, мәжіліс, депутат, заң
court: court, trial, judge, sentence, arbitration | суд, приговор, судья, арбитраж | сот, үкім, төреші, арбитраж
police: police, arrest, detained, investigation | полиция, задержан, арест, расследование | полиция, ұстал, тергеу
fraud: fraud, corruption, bribe | мошенничество, коррупция, взятка | алаяқтық, сыбайлас, пара
border: border, checkpoint, crossing | граница, пограничный, пункт пропуска, погранпереход | шекара, өткізу пункті
migrant: migrant, migration, remittance | мигрант, миграционный, перевод | мигрант, көші-қон, аударым
earthquake: earthquake, quake, tremor | землетрясение, толчок | жер сілкінісі
flood: flood, mudflow, avalanche | паводок, наводнение, сель, лавина | су тасқыны, сел, көшкін
storm: storm, snowstorm, blizzard, snow | буран, метель, шторм, снег | боран, дауыл, қар
smog: smog, pollution, emissions | смог, загрязнение, выбросы | түтін, ластану, шығарынды
fire: fire, blaze | пожар, возгорание | өрт
accident: crash, accident, collision | авария, крушение, столкновение, дтп | апат, жол-көлік оқиғасы
health: hospital, doctor, vaccine, disease | больница, врач, вакцина, болезнь | аурухана, дәрігер, вакцина, ауру
artificial_intelligence: artificial intelligence | искусственный интеллект | жасанды интеллект
digital: digital, internet, data | цифровой, интернет, данные | цифрлық, интернет, деректер
telecom: mobile, telecom, broadband | мобильный, оператор связи | ұялы байланыс
car: car, vehicle, automobile | автомобиль, машина | автокөлік, көлік
fuel: petrol, diesel, fuel | бензин, дизель, топливо | бензин, дизель, жанармай
food: food, sugar, meat, flour, eggs | продовольствие, сахар, мясо, мука, яйца | азық-түлік, қант, ет, ұн, жұмыртқа
sport: football, match, championship, olympic, boxing | футбол, матч, чемпионат, олимпийский, бокс | футбол, матч, чемпионат, олимпиада, бокс
culture: film, festival, museum, concert, theatre | фильм, фестиваль, музей, концерт, театр | фильм, фестиваль, мұражай, концерт, театр
tourism: tourist, tourism, visa | турист, туризм, виза | турист, туризм, виза
housing: housing, apartment, mortgage | жилье, квартира, ипотека | тұрғын үй, пәтер, ипотека
pension: pension, wage, salary | пенсия, зарплата, заработная плата | зейнетақы, жалақы
population: population, census, birth rate | население, перепись, рождаемость | халық саны, санақ
"""


def _parse(table: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Return each concept of ``table`` with its words in English, Russian and Kazakh."""
    found = {}
    for line in table.strip().splitlines():
        concept, _, rest = line.partition(":")
        found[concept.strip()] = tuple(tuple(w.strip() for w in part.split(",") if w.strip()) for part in rest.split("|"))
    return found


CONCEPTS = _parse(_TABLE)


@lru_cache(maxsize=1)
def _matcher() -> tuple[Matcher, list[str]]:
    """Return one matcher for every word of the table, and the concept of each of its keywords."""
    concept_of = {w: concept for concept, languages in CONCEPTS.items() for words in languages for w in words}
    matcher = Matcher(concept_of)
    return matcher, [concept_of[k] for k in matcher.keywords]


def subjects(text: str) -> frozenset[str]:
    """Return the concepts ``text`` names ("flu", "school"), in any of the three languages."""
    matcher, owners = _matcher()
    return frozenset(owners[index] for index, _ in matcher.find(written(text)))
