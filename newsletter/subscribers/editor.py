"""What an editor does to one reader (command line, desk, API): add them, or change what they chose.

Each checks everything given against what the newsletter offers (``choices``) before
changing anything, so a typo in one field leaves the reader as they were.
"""

from __future__ import annotations

from collections.abc import Iterable

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.subscribers import Subscriber
from newsletter.subscribers.choices import Choices


def add(app: Newsletter, email: str, *, name: str = "", sections: str | Iterable[str] = (), language: str = "",
        timezone: str = "", status: str = "pending", origin: str = "cli") -> Subscriber:
    """Add a reader with checked choices; raise SubscriberError naming the first thing wrong."""
    choices = Choices.of(app.config)
    return subscribers.add(app.store, email, name=name, sections=choices.pick(sections),
                           language=choices.language(language), timezone=choices.timezone(timezone),
                           status=status, origin=origin, moment=app.clock())


def edit(app: Newsletter, subscriber_id: int, *, status: str | None = None, name: str | None = None,
         sections: str | Iterable[str] | None = None, language: str | None = None, timezone: str | None = None,
         origin: str = "desk") -> Subscriber:
    """Change a reader's status (as ``subscribers.edit_status`` allows), name, sections, language or zone.

    None leaves a field as it is. Everything is checked before anything changes.
    """
    choices = Choices.of(app.config)
    picked = None if sections is None else choices.pick(sections)
    language = None if language is None else choices.language(language)
    timezone = None if timezone is None else choices.timezone(timezone)
    if name is not None:
        subscribers.clean_name(name)
    if status is not None:
        subscribers.check_status(status)
        subscribers.edit_status(app.store, subscriber_id, status, origin=origin)
    return subscribers.update(app.store, subscriber_id, name=name, sections=picked, language=language,
                              timezone=timezone, origin=origin, moment=app.clock())
