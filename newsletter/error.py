"""Errors the library raises; the CLI turns each into one line on stderr."""

from __future__ import annotations


class NewsletterError(Exception):
    """Base class for every error a user can act on."""


class ConfigError(NewsletterError):
    """The configuration file or environment is missing or invalid."""


class StoreError(NewsletterError):
    """The state store cannot be opened or migrated."""


class SourceError(NewsletterError):
    """A source could not be fetched or parsed."""


class FeedError(SourceError):
    """A feed could not be fetched or is not a feed."""


class DocumentError(SourceError):
    """A briefing document could not be read."""


class TemplateError(NewsletterError):
    """An email template is missing or fails to render."""


class SmtpError(NewsletterError):
    """The SMTP server cannot be reached or refused the session."""


class EditorialError(NewsletterError):
    """An editor's choice names an unknown item or section, or an item already sent."""


class SubscriberError(NewsletterError):
    """A subscriber operation got bad input (address, CSV row, unknown email)."""


class OpmlError(NewsletterError):
    """An OPML file cannot be read, or its sources cannot be added to the config."""


class BounceError(NewsletterError):
    """A message meant as a bounce or complaint report cannot be read (not mail, or a broken report)."""
