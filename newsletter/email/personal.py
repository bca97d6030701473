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
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

PERSONAL = ("greeting", "unsubscribe_url", "preferences_url", "email")


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
