"""Outlooks: tell a briefing's closing look ahead from a closing story, in English, Russian and Kazakh.

A briefing often ends with an un-headed paragraph about what comes next ("Next week the
Senate votes on the budget; expect the tenge to stay under pressure"). It names several
topics in passing, so keywords would place it anywhere; it belongs at the end of the issue,
under its own heading.

A paragraph looks ahead when its cues add up to ``ENOUGH``: a phrase that names a time
to come ("next week", "looking ahead", "в ближайшие недели", "алдағы аптада") counts two,
a word of the future ("will", "expected", "ожидается", "будет", "күтілуде") one each time.
``is_outlook`` is asked only about the closing paragraph of a briefing.
"""

from __future__ import annotations

import re

ENOUGH = 2
_STRONG_PHRASES = (
    # English
    r"\b(?:next|coming|following) (?:week|weeks|month|months|year|days)\b", r"\blooking ahead\b",
    r"\blook ahead\b", r"\boutlook\b", r"\bin the (?:days|weeks|months|year|years) (?:ahead|to come)\b",
    r"\bwhat to watch\b", r"\bin (?:the )?years to come\b",
    # Russian
    r"\bна (?:следующей|будущей|предстоящей) неделе\b", r"\bв ближайш\w+", r"\bвпереди\b",
    r"\bв (?:следующем|будущем|предстоящем) (?:месяце|году)\b", r"\bв предстоящ\w+", r"\bпрогноз\w*",
    r"\bв (?:ближайшие|следующие) (?:дни|недели|месяцы)\b",
    # Kazakh
    r"\bалдағы\b", r"\bкелесі (?:апта|ай|жыл)\w*", r"\bболжам\w*", r"\bжақын (?:арада|күндері)\b",
)
_FUTURE_WORDS = (
    r"\bwill\b", r"\bexpect\w*", r"\blikely\b", r"\bis set to\b", r"\bare set to\b", r"\bto come\b",
    r"\bбуд(?:ет|ут)\b", r"\bожида\w*", r"\bвероятно\b", r"\bскорее всего\b", r"\bпредстоит\b",
    r"\bостан(?:ется|утся)\b", r"\bпродолж(?:ит|ат)\b",
    r"\bкүтіл\w*", r"\bкүту\w*", r"\bболады\b", r"\bболмақ\b", r"\bжалғас(?:ады|а береді)\b",
    r"\bқала береді\b", r"\bмүмкін\b",
)
_STRONG = re.compile("|".join(_STRONG_PHRASES), re.IGNORECASE)
_FUTURE = re.compile("|".join(_FUTURE_WORDS), re.IGNORECASE)


def cues(text: str) -> list[str]:
    """Return the phrases of ``text`` that look ahead, in order."""
    found = [(m.start(), m.group()) for m in _STRONG.finditer(text)]
    found += [(m.start(), m.group()) for m in _FUTURE.finditer(text)]
    return [phrase for _, phrase in sorted(found)]


def is_outlook(text: str) -> bool:
    """Return whether a briefing's closing paragraph looks ahead (see the module's docstring)."""
    score = 2 * len(_STRONG.findall(text)) + len(_FUTURE.findall(text))
    return score >= ENOUGH
