"""newsletter: gather briefing sources, group them by section, email one issue to every subscriber.

The stages, in the order an issue flows through them: ``gather`` (sources to items),
``edit`` (items to an issue's sections), ``email`` (the issue rendered and built into
messages), ``delivery`` (the outbox emptied over SMTP) and ``subscribers`` (who the
issue goes to). ``app.Newsletter`` opens them all over one config and one store.

Importing the package loads nothing else: a command loads only the stages it uses
(``newsletter gather`` neither renders nor delivers). Import from the module that
defines a name: ``from newsletter.app import Newsletter``, ``from newsletter.config
import load``, ``from newsletter.store import Store``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
