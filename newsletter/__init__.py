"""newsletter: gather briefing sources, group them by section, email one issue to every subscriber."""

from __future__ import annotations

import importlib.util
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
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'newsletter' has no attribute {name!r}")


def lazy(name: str) -> ModuleType:
    """Return module ``name``, executed on first attribute access: callers pay only for what they use."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
