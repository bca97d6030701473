"""newsletter: gather briefing sources, group them by section, email one issue to every subscriber."""

from newsletter.app import Newsletter
from newsletter.config import Config, load
from newsletter.error import NewsletterError
from newsletter.store import Store

__version__ = "0.1.0"
__all__ = ["Config", "Newsletter", "NewsletterError", "Store", "__version__", "load"]
