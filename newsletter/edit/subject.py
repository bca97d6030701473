"""The subject line and preheader: one documented rule, for the whole issue and for each reader's copy.

The subject is the ``[newsletter] subject`` pattern with ``{title}``, ``{number}``,
``{date}`` (in the copy's language) and ``{headline}``: the first real headline (a feed
entry or an article, not a briefing paragraph) among the stories of the copy's sections,
else its first story, else the issue's lead. A story shown by a briefing paragraph lends
the headline of a copy that retells it in the same language. A reader who chose sections gets the
headline of a story their copy has. An editor's subject (set on the desk) wins for
everyone. The preheader lists the titles of the copy's first four stories.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newsletter import i18n
from newsletter.config import Config
from newsletter.edit.names import language
from newsletter.item import Item

PREHEADER_LIMIT = 140  # characters; mail apps show about this much after the subject


def stories(sections: Sequence[Any], lead: Any | None) -> list[Item]:
    """Return the items a subject is chosen from: those of ``sections`` in order, else the lead.

    Each story stands by its shown item, or by a copy with a real headline in the same
    language when the shown item is a briefing paragraph.
    """
    items = [_titled(p) for s in sections for p in s.items]
    return items or ([lead.item] if lead is not None else [])


def headline(items: Sequence[Item]) -> str:
    """Return the subject's headline: the first real headline among ``items``, else the first item's title."""
    titled = [i for i in items if _real(i)]
    return (titled or list(items))[0].title if items else ""


def _real(item: Item) -> bool:
    """Return whether ``item`` has a headline of its own (not a paragraph's heading or its opening words)."""
    return not item.label and not item.body.startswith(item.title.rstrip("…").rstrip())


def _titled(placed: Any) -> Item:
    shown: Item = placed.item
    if _real(shown):
        return shown
    tongue = language(f"{shown.title} {shown.body[:300]}")
    members = getattr(placed, "members", (shown,))[1:]
    return next((m for m in members if _real(m) and language(f"{m.title} {m.body[:300]}") == tongue), shown)


def subject(config: Config, *, number: int, moment: datetime, items: Sequence[Item],
            language: str | None = None) -> str:
    """Return the subject line the ``[newsletter] subject`` pattern makes for a copy showing ``items``."""
    line = config.newsletter.subject.format_map(_Fields(
        title=config.newsletter.title, number=number,
        date=i18n.format_date(moment, language or config.newsletter.language), headline=headline(items),
    ))
    return " ".join(line.split()).strip(" :—-")


def preheader(items: Sequence[Item]) -> str:
    """Return the preheader for a copy showing ``items``: its first titles, at most 140 characters."""
    text = " · ".join(i.title for i in items[:4])
    if len(text) > PREHEADER_LIMIT:
        text = text[:PREHEADER_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return text


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
