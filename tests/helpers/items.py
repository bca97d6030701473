"""Items built in memory for the clustering and roundup tests, and a briefing's energy roundup.

``item`` is a feed item of a numbered wire (``test_cluster*``); ``entry`` and ``paragraph``
are a wire's feed entry and a paragraph of a briefing in the editors' folder under an inline
heading (``test_roundups*``). ``ENERGY`` is a roundup paragraph that retells three wire
stories, ``KARACHAGANAK``, ``EKIBASTUZ`` and ``KAZATOMPROM``, as ``(headline, text)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from newsletter.item import Item

_ids = count(1)


def item(title: str, body: str = "", *, source: int = 1, link: str | None = None, label: str | None = None,
         uid: str | None = None) -> Item:
    """Return an item of wire ``source``, published on 20 November 2026."""
    moment = datetime(2026, 11, 20, 8, tzinfo=UTC)
    n = next(_ids)
    return Item(id=n, source_id=source, source_name=f"Wire {source}", uid=uid or f"uid-{n}", title=title,
                body=body, summary=body, link=link, label=label, published_at=moment, gathered_at=moment,
                source_key=f"wire-{source}")


ENERGY = ("Karachaganak's operators agreed to pay a $1.3 billion settlement to end the cost-recovery dispute with "
          "the government. The Ekibastuz power station returned its third unit to service on Monday after a month "
          "of repairs, easing the winter shortage. Kazatomprom cut its 2027 production target by 10%, blaming a "
          "shortage of sulphuric acid at its mines.")
KARACHAGANAK = ("Karachaganak partners settle cost-recovery dispute for $1.3bn",
                ("The consortium operating the Karachaganak field agreed to pay $1.3 billion to settle the "
                 "long-running cost-recovery dispute, the energy ministry said."))
EKIBASTUZ = ("Third unit back at Ekibastuz power station",
             ("The Ekibastuz power station returned its third unit to service on Monday after a month of repairs, "
              "the operator said, easing the power shortage this winter."))
KAZATOMPROM = ("Kazatomprom trims 2027 output plan by 10%",
               "Kazatomprom cut its production target for 2027 by 10%, citing a shortage of sulphuric acid at its mines.")


def entry(title: str, body: str, *, source: int = 1, summary: str | None = None) -> Item:
    """Return a feed entry of wire ``source``."""
    n = next(_ids)
    moment = datetime(2026, 11, 19, 8, tzinfo=UTC)
    return Item(id=n, source_id=source, source_name=f"Wire {source}", uid=f"wire-{n}", title=title, body=body,
                summary=summary if summary is not None else body, link=f"https://wire{source}.example/{n}",
                label=None, published_at=moment, gathered_at=moment, source_key=f"wire-{source}")


def paragraph(heading: str, body: str, document: str = "weekly.txt") -> Item:
    """Return a paragraph of a briefing in the editors' folder (source 9), under an inline heading."""
    n = next(_ids)
    moment = datetime(2026, 11, 20, 8, tzinfo=UTC)
    return Item(id=n, source_id=9, source_name="Editors", uid=f"{document}#{heading.casefold()}", title=heading,
                body=body, summary=body, link=None, label=heading, published_at=moment, gathered_at=moment)
