"""newsletter: gather briefing sources, group them by section, email one issue to every subscriber."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
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
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'newsletter' has no attribute {name!r}")


def lazy(name: str) -> ModuleType:
    """Return module ``name``, imported on first attribute access: callers pay only for what they use."""
    return sys.modules.get(name) or _Deferred(name)


class _Deferred(ModuleType):
    """Stand in for a module until an attribute is asked for, then import it and answer from it.

    The import goes through the import system, whose per-module locks make a second thread
    wait for a module the first is still executing (importlib's LazyLoader offers no such
    guarantee before Python 3.12.3, and the web app and the delivery pool use threads).
    """

    def __getattr__(self, attribute: str) -> Any:
        module = sys.modules.get(self.__name__)
        if module is None or getattr(module.__spec__, "_initializing", False):
            module = importlib.import_module(self.__name__)
        return getattr(module, attribute)
