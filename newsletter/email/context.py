"""What the email templates see: the newsletter, the theme, and the issue in one reader's language.

The issue's own words (section titles, dates, the newsletter's default lines) are given in
the copy's language; items, their titles and summaries, are never translated. A section's
title in a language comes from its ``titles`` setting (``{ ru = "Россия" }``); the default
catch-all and empty-section lines, which the project wrote, come from the catalogs.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from newsletter import i18n
from newsletter.config import Config
from newsletter.edit.issue import Draft
from newsletter.i18n import N_
from newsletter.item import full_text
from newsletter.settings import NewsletterSettings, SectionSettings

# The project's own defaults for lines an editor may set; only these are translated.
DEFAULT_CATCH_ALL = NewsletterSettings().catch_all
DEFAULT_EMPTY = SectionSettings().empty_text
N_("In brief")  # the catalogs' copy of DEFAULT_CATCH_ALL
N_("Nothing new this week.")  # and of DEFAULT_EMPTY


def archive_url(config: Config, number: int | None = None) -> str:
    """Return the web archive's address: its index, or one issue's page."""
    base = config.newsletter.base_url.rstrip("/") + "/archive/"
    return base if number is None else f"{base}{number}.html"


def headline(item: Any) -> str:
    """Return the title to print above an item, or "" when it would only repeat the text.

    A briefing paragraph has its inline heading instead (see ``lead``), and a title
    made from the opening words of the text adds nothing.
    """
    if item.label or item.body.startswith(item.title.rstrip("…").rstrip()):
        return ""
    return str(item.title)


def lead(item: Any, section: str) -> str:
    """Return the inline heading to print before an item's text, unless the section says it."""
    if item.label and item.label.casefold() != section.casefold():
        return str(item.label)
    return ""


def section_title(config: Config, name: str, language: str) -> str:
    """Return the heading of section ``name`` in ``language``: its ``titles`` entry, else its name."""
    for settings in config.sections:
        if settings.name == name and settings.titles:
            chosen = i18n.choose(language, list(settings.titles), "")
            if chosen:
                return settings.titles[chosen]
    if name == DEFAULT_CATCH_ALL:
        return i18n.translations(language).gettext(DEFAULT_CATCH_ALL)
    return name


def also_reported(placed: Any) -> list[dict[str, Any]]:
    """Return the other sources of a merged story with a link to each of their copies: "also reported by …".

    One entry a source, in the order they come, with its first copy's ``link`` and every
    copy's ``title`` and ``link`` in ``stories``: a briefing paragraph that retells two items
    of one wire links to both. The shown item's own source is left out when it has no other copy.
    """
    found: dict[str, dict[str, Any]] = {}
    shown = placed.item.link
    for other in getattr(placed, "duplicates", ()):
        if not other.link or other.link == shown:
            continue
        if other.source_name == placed.item.source_name and other.title == placed.item.title:
            continue  # the same copy again: nothing new to read there
        entry = found.setdefault(other.source_name, {"source": other.source_name, "link": other.link, "stories": []})
        if all(s["link"] != other.link for s in entry["stories"]):
            entry["stories"].append({"title": other.title, "link": other.link})
    return list(found.values())


def context(config: Config, issue: Draft, language: str) -> dict[str, Any]:
    """Return what the templates see of ``issue`` in ``language``: every section, no personal parts."""
    page = archive_url(config, issue.number)
    gettext = i18n.translations(language).gettext

    def entry(p: Any, section: str, position: int) -> dict[str, Any]:
        return {
            **_fields(p.item), "headline": headline(p.item), "lead": lead(p.item, section),
            "source": p.item.source_name, "sources": list(getattr(p, "sources", None) or [p.item.source_name]),
            "also": also_reported(p),
            "reason": p.placement.reason, "number": position, "anchor": f"item-{position}",
            "url": f"{page}#item-{position}", "full_text": full_text(p.item),  # on the archive page; the email links
            "date": i18n.format_date(p.item.published_at, language) if p.item.published_at else "",
        }

    position = 0
    sections = []
    for i, s in enumerate(issue.sections):
        items = []
        for p in s.items:
            position += 1
            items.append(entry(p, s.name, position))
        empty = getattr(s, "empty", "")
        sections.append({
            "name": s.name, "title": section_title(config, s.name, language), "intro": s.intro,
            "empty": gettext(empty) if empty == DEFAULT_EMPTY else empty, "items": items,
            "anchor": "s-" + (re.sub(r"[^\w]+", "-", s.name.casefold()).strip("-") or str(i)),
        })
    return {
        **site(config, language),
        "issue": {**_fields(issue), "number": issue.number, "subject": issue.subject,
                  "preheader": issue.preheader, "date": i18n.format_date(issue.date, language), "url": page,
                  "intro": getattr(issue, "intro", ""),
                  "lead": Lead(entry(issue.lead, "", 0)) if getattr(issue, "lead", None) else None,
                  "sections": sections,
                  "count": position, "omitted": [], "trimmed": []},
        "archive": False,
        "preview": False,
    }


class Lead(dict[str, Any]):
    """The issue's lead item for templates: its fields, and its summary when printed whole."""

    def __str__(self) -> str:
        return str(self.get("summary", ""))


def site(config: Config, language: str | None = None) -> dict[str, Any]:
    """Return the newsletter and theme parts of the context in ``language`` (default: the newsletter's).

    ``gettext`` and ``ngettext`` come along, so every template speaks that language.
    """
    n, theme = config.newsletter, config.theme
    language = language or n.language
    rtl = i18n.direction(language) == "rtl"
    dark_brand = luminance(theme.brand_colour) < 0.179  # where white text contrasts better than black
    return {
        "newsletter": {"title": n.title, "base_url": n.base_url.rstrip("/"), "language": language,
                       "direction": "rtl" if rtl else "ltr", "align": "right" if rtl else "left",
                       "align_end": "left" if rtl else "right",
                       "postal_address": n.postal_address, "sender": n.sender,
                       "subscribe_url": n.base_url.rstrip("/") + "/",
                       "archive_url": archive_url(config), "feed_url": archive_url(config) + "feed.atom"},
        "theme": {**dataclasses.asdict(theme), "logo_alt": theme.logo_alt or n.title,
                  "font_family": theme.font_family or "Georgia, serif",
                  "heading_font_family": theme.heading_font_family or theme.font_family or "Georgia, serif",
                  "font_name": (theme.font_family.split(",")[0].strip(" '") if theme.font_url else ""),
                  "on_brand_colour": "#ffffff" if dark_brand else "#111111",
                  "on_brand_muted": "#d5dee8" if dark_brand else "#333333",
                  "dark_accent_colour": lighten(theme.accent_colour, 0.5)},
        **i18n.gettext_for(language),
    }


def _fields(obj: Any) -> dict[str, Any]:
    """Return a dataclass's fields (whatever other parts of the pipeline add flows through)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name not in ("sections", "plan")}


def _channels(colour: str) -> list[int]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return [int(digits[i:i + 2], 16) for i in (0, 2, 4)]


def lighten(colour: str, amount: float) -> str:
    """Return ``colour`` (#rgb or #rrggbb) mixed with white by ``amount`` (0 to 1)."""
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in _channels(colour))


def luminance(colour: str) -> float:
    """Return the relative luminance of ``colour`` (WCAG), 0 for black to 1 for white."""
    linear = [(c / 255 / 12.92) if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in _channels(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
