"""Parties: tell a place that acts in a headline from one named only as an origin, a route or a border.

An editor files a story under a country when that country is a *party* to the headline's
event (it signs, owns, invests, bans, visits), not when it is only where something came
from, the way it went, or the other side of a border: "Remittances from Russia to
Tajikistan fall" is Tajikistan's story, "Border guards seize hashish on the Kyrgyz
border" a story of the border guards. ``bystander`` reads the words around a mention of a
place, in English, Russian and Kazakh:

* an origin or a route: "from Russia", "via China", "through Kazakhstan", "из России",
  "через Китай", "Ресейден" (Kazakh's ablative ending: -дан, -ден, -тан, -тен, -нан,
  -нен), "Қытай арқылы";
* the other side of a border: "on the border with Kyrgyzstan", "the Kyrgyz border",
  "Kyrgyzstan's border", "на границе с Кыргызстаном", "на кыргызской границе",
  "Қырғызстанмен шекарада", "Қытай шекарасында"; but "Kyrgyz border guards" and
  "Қырғызстан шекарашылары" act, and are a party.

Such a mention still counts as a mention, but a passing one, not the headline's.

``hired`` tells a headline about work done for someone else (building, repairing, supplying
goods): a company named in it is a contractor, so its country is no party ("Rosatom to build
Uzbekistan's nuclear plant" is Uzbekistan's story; "CNPC sells its stake" is China's).
Supplying a commodity is selling it: "Gazprom to supply more gas to China" is no work for China.
"""

from __future__ import annotations

from newsletter.edit.keywords import fold, words

_ORIGIN = frozenset({"from", "via", "through", "из", "через"})  # the word before: "from Russia", "через Китай"
_VIA = frozenset({"арқылы"})  # the word after: "Қытай арқылы" (via China)
_ABLATIVE = frozenset({"дан", "ден", "тан", "тен", "нан", "нен"})  # Kazakh "from": "Ресейден", "Қытайдан"
_BORDER = ("border", "границ", "шекара")  # a border, as a word begins: "borders", "границе", "шекарасында"
_GUARDS = ("guard", "шекарашы")  # the people who guard one: "Kyrgyz border guards" act, so they are a party
_BORDER_WITH = frozenset({"with", "с"})  # "border with Kyrgyzstan", "границе с Кыргызстаном"
# Where a border is a place ("on the Kyrgyz border", "на кыргызской границе"): "China border trade grows",
# "Kazakhstan borders China" and "Kyrgyz-Tajik border clash" name parties, not the other side of a border.
_AT = frozenset({"on", "at", "near", "along", "across", "the", "на", "у", "вдоль", "возле", "близ"})
_KAZAKH_BORDER = ("шекара",)
# Work done for another, as a word begins: build, construction, install, pour (concrete), modernise, repair.
_HIRED = ("build", "built", "construction", "constructing", "constructed", "contractor", "install", "pour", "moderni",
          "repair", "rehabilit",
          "строит", "строил", "постро", "подрядчик", "монтаж", "модерниз", "ремонт", "реконструк",
          "салад", "салын", "құрылыс", "мердігер", "жаңғырт", "жөнде")
# Supplying is work for another too ("CRRC to supply 40 trains"), but supplying a commodity is selling it: "Gazprom to
# supply more gas to China" is the seller's story, not the buyer's.
_SUPPLY = ("supplie", "supply", "deliver", "поставк", "поставит", "поставля", "поставщик", "жеткіз")
_COMMODITY = ("gas", "oil", "crude", "uranium", "coal", "electricity", "grain", "wheat",
              "газ", "нефт", "уран", "угол", "угл", "электроэнерг", "зерн", "пшениц", "мұнай", "көмір", "астық", "бидай")


def bystander(tokens: list[str], start: int, keyword: str) -> bool:
    """Return whether the place that ``keyword`` found at ``tokens[start]`` is only an origin, a route or a border.

    ``tokens`` are the words of one headline, as written.
    """
    end = start + len(words(keyword))
    before = [fold(t) for t in tokens[max(0, start - 2):start]]
    following = [fold(t) for t in tokens[end:end + 3]]
    if following[:1] == ["s"]:  # "Kyrgyzstan's border"
        following = following[1:]
    after, after_next = (following + ["", ""])[:2]
    last, stem = fold(tokens[end - 1]), words(keyword)[-1]
    ending = last[len(stem):] if last.startswith(stem) else ""  # the Kazakh case ending: "Ресей|ден"
    if (before and before[-1] in _ORIGIN) or after in _VIA or ending in _ABLATIVE:
        return True
    at = bool(before) and before[-1] in _AT or after.startswith(_KAZAKH_BORDER)  # Kazakh marks it by case
    if at and after.startswith(_BORDER) and not after.startswith(_GUARDS) and not after_next.startswith(_GUARDS):
        return True  # "on the Kyrgyz border", "Қытаймен шекарада"; not "Kyrgyz border guards", "шекарашылары"
    return len(before) == 2 and before[0].startswith(_BORDER) and before[1] in _BORDER_WITH


def hired(tokens: list[str]) -> bool:
    """Return whether a headline (its words as written) tells of work done for another: building, supplying goods.

    Supplying a commodity (gas, oil, uranium, coal, grain) is selling it, not work for another.
    """
    folded = [fold(t) for t in tokens]
    return any(t.startswith(_HIRED) for t in folded) or (
        any(t.startswith(_SUPPLY) for t in folded) and not any(t.startswith(_COMMODITY) for t in folded))
