"""newsletter: gather briefing sources, group them by section, email one issue to every subscriber."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Config", "Newsletter", "NewsletterError", "Store", "__version__", "load"]

if TYPE_CHECKING:
    from newsletter.app import Newsletter
    from newsletter.config import Config, load
    from newsletter.error import NewsletterError
    from newsletter.store import Store

_HOMES = {"Newsletter": "newsletter.app", "Config": "newsletter.config", "load": "newsletter.config",
          "NewsletterError": "newsletter.error", "Store": "newsletter.store"}


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import newsletter.x` does not load the whole package.
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'newsletter' has no attribute {name!r}")
