"""The personal parts of a reader's copy, and the placeholders that mark them in a rendered issue.

An issue is rendered once with a placeholder wherever a template puts a personal part
(``personal.greeting``, ``.email``, ``.unsubscribe_url``, ``.preferences_url``), and the
message builder fills each reader's values in. The placeholders are made around a random
token drawn for each rendering and checked absent from the issue's content: text from a
source (a feed item's link, say) can never spell one, so a reader's address and links
only ever go where a template puts them.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from newsletter import i18n
from newsletter.i18n import N_
from newsletter.settings import NewsletterSettings

PERSONAL = ("greeting", "unsubscribe_url", "preferences_url", "email")
# The default greetings are the project's words, so each reader gets them in their language;
# a greeting an editor wrote is used as written.
DEFAULT_GREETING = N_("Hello {first_name},")
DEFAULT_ANONYMOUS = N_("Hello,")


def first_name(name: str) -> str:
    """Return the name a reader is greeted by: the first word, or the one after the comma of "Lee, Ann"."""
    family, comma, given = name.partition(",")
    words = (given if comma and given.strip() else family).split()
    return re.sub(r"[,;:.]+$", "", words[0]) if words else ""


def greeting(settings: NewsletterSettings, name: str, language: str) -> str:
    """Return the greeting of a reader called ``name`` (maybe empty) in ``language``; empty: no greeting.

    ``[newsletter] greeting`` may use ``{first_name}`` and ``{name}``; an empty one greets nobody.
    """
    name = " ".join(name.split())
    pattern = settings.greeting if name else settings.greeting_anonymous
    if not settings.greeting or not pattern:
        return ""
    if pattern in (DEFAULT_GREETING, DEFAULT_ANONYMOUS):
        pattern = i18n.translations(language).gettext(pattern)
    return pattern.format(name=name, first_name=first_name(name) or name)


def placeholders(content: str) -> dict[str, str]:
    """Return a placeholder for each personal part, around a random token that ``content`` lacks.

    Placeholders survive HTML escaping, MJML and CSS inlining unchanged (only letters,
    digits and dashes). The token is checked against the content case-insensitively, as
    a template may change the case of what it prints.
    """
    folded = content.casefold()
    while True:
        token = secrets.token_hex(10)  # 80 bits: no one can guess it, and a line with one stays short
        if token not in folded:
            return {name: f"NLPERSONAL-{token}-{name.replace('_', '-')}" for name in PERSONAL}


def strings(value: Any) -> Iterator[str]:
    """Yield every string inside ``value``: mappings (keys too), sequences and dataclasses, recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield from strings(key)
            yield from strings(inner)
    elif isinstance(value, list | tuple | set | frozenset):
        for inner in value:
            yield from strings(inner)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
