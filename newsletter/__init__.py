"""newsletter: gather briefing sources, group them by section, email one issue to every subscriber.

The stages, in the order an issue flows through them: ``gather`` (sources to items),
``edit`` (items to an issue's sections), ``email`` (the issue rendered and built into
messages), ``delivery`` (the outbox emptied over SMTP) and ``subscribers`` (who the
issue goes to). ``app.Newsletter`` opens them all over one config and one store.
"""

from __future__ import annotations

__version__ = "0.1.0"

from newsletter.app import Newsletter  # noqa: E402 - the version first: modules below read it
from newsletter.config import Config, load  # noqa: E402
from newsletter.error import NewsletterError  # noqa: E402
from newsletter.store import Store  # noqa: E402

__all__ = ["Config", "Newsletter", "NewsletterError", "Store", "__version__", "load"]
