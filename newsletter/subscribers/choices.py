"""What a reader may choose in this newsletter: its sections, one of its languages, a time zone.

Every path that sets a reader's choices (``subscribers add``, CSV import, the API, the
sign-up and preferences pages, the desk) checks them here, so a typo gets the same one
line everywhere, with the nearest real name: "unknown section 'Sport'; did you mean
'Sports'?". A section is known by its name, its ``aliases`` and the names it had before a
rename (``formerly``), in any case; what a reader chose under an older name still means
that section (``current``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from newsletter.error import SubscriberError
from newsletter.settings import Config
from newsletter.subscribers.rules import check_timezone, parse_sections


@dataclass(frozen=True)
class Choices:
    """The sections and languages offered to readers, and every other name a section answers to."""

    sections: tuple[str, ...]  # in issue order, the catch-all last
    languages: tuple[str, ...] = ("en",)
    # A folded earlier name or alias -> the current sections it stands for (a split section: several).
    known_as: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config) -> Choices:
        """Return the choices ``config`` offers."""
        n = config.newsletter
        sections = tuple(dict.fromkeys([*(s.name for s in config.sections), n.catch_all]))
        known_as: dict[str, tuple[str, ...]] = {}
        for s in config.sections:
            for other in (*s.formerly, *s.aliases):
                key = other.strip().casefold()
                if key and key not in known_as.get(key, ()):
                    known_as[key] = (*known_as.get(key, ()), s.name)
        return cls(sections, tuple(dict.fromkeys([*n.languages, n.language])), known_as)

    def pick(self, chosen: str | Iterable[str] | None) -> tuple[str, ...]:
        """Return the sections a reader chose, by their current names; every section (or none) is ``()``.

        ``chosen`` is a list or a field like ``"Russia; China"``. Raise SubscriberError for a
        name that is no section.
        """
        picked: list[str] = []
        for name in parse_sections(chosen):
            found = self.meaning(name)
            if not found:
                raise SubscriberError(self._unknown(name))
            picked += found
        unique = tuple(dict.fromkeys(picked))
        return () if set(unique) == set(self.sections) else unique

    def meaning(self, name: str) -> tuple[str, ...]:
        """Return the current sections ``name`` stands for (any case; empty if it is none)."""
        key = name.strip().casefold()
        for section in self.sections:
            if section.casefold() == key:
                return (section,)
        return self.known_as.get(key, ())

    def current(self, stored: Iterable[str]) -> tuple[str, ...]:
        """Return a stored choice with earlier names replaced by the current ones; unknown names are kept.

        Kept, not dropped: a choice naming only sections that no longer exist must not
        turn into "every section".
        """
        names: list[str] = []
        for name in stored:
            names += self.meaning(name) or (name,)
        return tuple(dict.fromkeys(names))

    def unknown(self, stored: Iterable[str]) -> list[str]:
        """Return the names in a stored choice that are no section, earlier name or alias."""
        return [name for name in stored if not self.meaning(name)]

    def suggest(self, name: str) -> str | None:
        """Return the current section whose name (or earlier name) is nearest to ``name``, if any is near."""
        names = {s.casefold(): s for s in self.sections}
        names.update({key: found[0] for key, found in self.known_as.items() if key not in names})
        close = difflib.get_close_matches(name.strip().casefold(), names, n=1, cutoff=0.6)
        return names[close[0]] if close else None

    def language(self, tag: str) -> str:
        """Return ``tag`` as the offered language it names (any case, ``_`` for ``-``); empty stays empty."""
        tag = tag.strip()
        if not tag:
            return ""
        key = tag.replace("_", "-").casefold()
        for offered in self.languages:
            if offered.casefold() == key:
                return offered
        raise SubscriberError(f"language {tag!r} is not offered (offered: {', '.join(self.languages)})")

    def timezone(self, zone: str) -> str:
        """Return ``zone`` as an IANA time zone name; empty stays empty (see ``rules.check_timezone``)."""
        return check_timezone(zone)

    def reported_timezone(self, zone: str) -> str:
        """Return the zone a browser reported, or empty when it is none this server knows.

        A browser's zone database may be newer than the server's; the reader never saw
        the hidden field, so an unknown zone is left out rather than refused.
        """
        try:
            return check_timezone(zone[:64])
        except SubscriberError:
            return ""

    def _unknown(self, name: str) -> str:
        nearest = self.suggest(name)
        if nearest:
            return f"unknown section {name!r}; did you mean {nearest!r}?"
        return f"unknown section {name!r} (sections: {', '.join(self.sections)})"
