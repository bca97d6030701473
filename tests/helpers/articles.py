"""A single-article document in the shape editors drop into a folder: a news site's page copied as text.

Headline line, a one-sentence standfirst, the body one paragraph a line, and the site's
comment counter at the end, glued to the last sentence as copy and paste leaves it. Written
for the tests, in the shape of the real ones the project's seeds hold.
"""

from __future__ import annotations

HEADLINE = "Kazakhstan steers between a weakened Kremlin and a restless world"
STANDFIRST = "President Tokayev kept a crowded diplomatic calendar all year."
BODY = [
    ("His aim was to keep Kazakhstan out of the crossfire of the conflicts around it, and to turn them to its "
     "advantage where it could."),
    ("He visited sixteen countries, met the leaders of the United States and China, saw Putin several times and "
     "received the French president in Astana."),
    "Russia remained the hardest partner, and the war in Ukraine made it harder still.",
    "Europe's search for new suppliers and for routes that bypass Russia opened doors for Kazakhstan.",
    "Trade with China grew steadily, and since November citizens of both countries travel without visas.",
    "The Middle Corridor across the Caspian was high on the agenda of every visit.",
    "Next year is unlikely to give the president a quieter calendar.",
]
TAIL = "Комментариев пока нет"
ARTICLE = "\n".join([HEADLINE, STANDFIRST, *BODY[:-1], BODY[-1] + TAIL]) + "\n"
# The same article with its headline line missing: it opens with a sentence.
HEADLESS = "\n".join([STANDFIRST, *BODY, TAIL]) + "\n"
