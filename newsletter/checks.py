"""The rules a configuration keeps beyond its types; each broken rule names the key it is about.

``config.parse`` turns a ``Problem`` into one line that says where the value came from:
the environment variable that set it, else the file and line (``newsletter.toml:42``).
Entries of ``[[sources]]`` and ``[[sections]]`` are counted from 1, as a reader counts
them in the file.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter import i18n
from newsletter.error import ConfigError
from newsletter.schedule import local_time, trigger
from newsletter.settings import SOURCE_KINDS, WEBHOOK_EVENTS, Config, ScheduleSettings
from newsletter.webhooks.signature import key_of


class Problem(Exception):
    """A setting that breaks a rule: ``key`` (``web.admin_token``, ``sections[7].name``) and what is wrong."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(text)
        self.key = key


def check(config: Config) -> None:
    """Reject combinations that the types alone allow, or raise ``Problem`` naming the key."""
    try:
        ZoneInfo(config.newsletter.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Problem("newsletter.timezone",
                      f"newsletter.timezone: unknown time zone {config.newsletter.timezone!r}") from None
    _check_languages(config)
    _check_sources(config)
    _check_sections(config)
    for key in ("cron", "gather_cron"):
        cron = getattr(config.schedule, key)
        # The default is known good, and APScheduler loads slowly; an empty gather_cron means "none".
        if cron and cron != getattr(ScheduleSettings(), key):
            try:
                trigger(cron, config.zone, key=f"schedule.{key}")
            except ConfigError as e:
                raise Problem(f"schedule.{key}", str(e)) from None
    try:
        local_time(config.schedule.local_time)
    except ConfigError as e:
        raise Problem("schedule.local_time", str(e)) from None
    _check_theme(config)
    for key in ("concurrency", "per_host", "max_bytes"):
        if getattr(config.gather, key) < 1:
            raise Problem(f"gather.{key}", f"gather.{key} must be at least 1")
    if config.gather.timeout <= 0:
        raise Problem("gather.timeout", "gather.timeout must be greater than 0")
    if config.smtp.connections < 1:
        raise Problem("smtp.connections", "smtp.connections must be at least 1")
    if config.smtp.max_rate <= 0:
        raise Problem("smtp.max_rate", "smtp.max_rate must be greater than 0")
    _check_delivery(config)
    if config.newsletter.max_items < 1:
        raise Problem("newsletter.max_items", "newsletter.max_items must be at least 1")
    if config.newsletter.summary_length < 40:
        raise Problem("newsletter.summary_length", "newsletter.summary_length must be at least 40")
    if not re.fullmatch(r"https?://[^\s/?#]+(/\S*)?", config.newsletter.base_url):
        raise Problem("newsletter.base_url", "newsletter.base_url must be an http(s) address like "
                      f"https://briefing.example.org, got {config.newsletter.base_url!r}")
    if not re.match(r"(sqlite|postgresql)(\+\w+)?://", config.storage.url):
        raise Problem("storage.url", "storage.url must be sqlite:///PATH or postgresql://USER@HOST/DATABASE, "
                      f"got {config.storage.url.split('://')[0]!r}")
    _check_web(config)
    _check_insight(config)


def _check_languages(config: Config) -> None:
    """Reject a language Babel does not know, and a default language that is not offered."""
    n = config.newsletter
    for key, tags in (("language", [n.language]), ("languages", n.languages)):
        for tag in tags:
            try:
                i18n.check(tag)
            except ValueError as e:
                raise Problem(f"newsletter.{key}", f"newsletter.{key}: {e}") from None
    if n.language.casefold() not in {tag.casefold() for tag in n.languages}:
        raise Problem("newsletter.language", f"newsletter.language {n.language!r} is not among newsletter.languages "
                      f"({', '.join(n.languages)}); add it there")
    for number, section in enumerate(config.sections, start=1):
        for tag in section.titles:
            try:
                i18n.check(tag)
            except ValueError as e:
                raise Problem(f"sections[{number}].titles", f"sections[{number}].titles: {e}") from None


def _check_sources(config: Config) -> None:
    known = {s.name for s in config.sections} | {config.newsletter.catch_all}
    for n, source in enumerate(config.sources, start=1):
        key = f"sources[{n}]"
        if bool(source.url) == bool(source.path):
            raise Problem(key, f"{key} needs exactly one of 'url' or 'path'")
        keys = [s.key for s in config.sources[:n - 1]]
        if source.key in keys:
            raise Problem(key, f"{key} repeats sources[{keys.index(source.key) + 1}] ({source.url or source.path})")
        if source.kind is not None and source.kind not in SOURCE_KINDS:
            raise Problem(f"{key}.kind", f"{key}.kind must be one of {', '.join(SOURCE_KINDS)}, got {source.kind!r}")
        if source.kind == "documents" and source.url:
            raise Problem(f"{key}.kind", f"{key}.kind = \"documents\" needs a 'path' to a folder")
        if source.section is not None and source.section not in known:
            raise Problem(f"{key}.section", f"{key}.section {source.section!r} is not a configured section"
                          + suggestion(source.section, sorted(known)))


def _check_sections(config: Config) -> None:
    names = [s.name for s in config.sections]
    for n, section in enumerate(config.sections, start=1):
        key = f"sections[{n}]"
        if not section.name.strip():
            raise Problem(f"{key}.name", f"{key}.name is required")
        if section.name in names[:n - 1]:
            raise Problem(f"{key}.name", f"{key}.name {section.name!r} appears twice")
        if section.limit < 0:
            raise Problem(f"{key}.limit", f"{key}.limit must be 0 (no limit) or more")


def _check_web(config: Config) -> None:
    if not 0 < config.web.port < 65536:
        raise Problem("web.port", "web.port must be between 1 and 65535")
    for key in ("session_hours", "confirm_hours", "pending_days"):
        if getattr(config.web, key) <= 0:
            raise Problem(f"web.{key}", f"web.{key} must be greater than 0")
    if config.web.resend_minutes < 0:
        raise Problem("web.resend_minutes", "web.resend_minutes must be 0 or more")
    for key in ("signups_per_hour", "login_attempts"):
        if getattr(config.web, key) < 0:
            raise Problem(f"web.{key}", f"web.{key} must be 0 or more")
    for proxy in config.web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            raise Problem("web.trusted_proxies",
                          f"web.trusted_proxies: {proxy!r} is not an IP address or network") from None
    if config.web.admin_token and len(config.web.admin_token) < 16:
        raise Problem("web.admin_token", "web.admin_token must be at least 16 characters (a long random string)")


def _check_insight(config: Config) -> None:
    """Reject click tracking, metrics and webhook settings that could never work."""
    if config.tracking.scanner_seconds < 0:
        raise Problem("tracking.scanner_seconds", "tracking.scanner_seconds must be 0 or more")
    if config.metrics.token and len(config.metrics.token) < 16:
        raise Problem("metrics.token", "metrics.token must be at least 16 characters (a long random string)")
    if config.metrics.textfile and not config.metrics.textfile.endswith(".prom"):
        raise Problem("metrics.textfile", "metrics.textfile must end in .prom (node_exporter reads only those)")
    for n, hook in enumerate(config.webhooks, start=1):
        key = f"webhooks[{n}]"
        if not re.fullmatch(r"https?://[^\s/?#]+(/\S*)?", hook.url):
            raise Problem(f"{key}.url", f"{key}.url must be an http(s) address, got {hook.url!r}")
        earlier = [h.url for h in config.webhooks[:n - 1]]
        if hook.url in earlier:
            raise Problem(f"{key}.url", f"{key}.url repeats webhooks[{earlier.index(hook.url) + 1}]")
        for event in hook.events:
            if event not in WEBHOOK_EVENTS:
                raise Problem(f"{key}.events", f"{key}.events: unknown event {event!r}"
                              + suggestion(event, list(WEBHOOK_EVENTS)))
        if hook.secret and not 24 <= len(key_of(hook.secret)) <= 64:
            raise Problem(f"{key}.secret", f"{key}.secret must be whsec_ followed by the base64 of 24 to 64 "
                          "random bytes (`newsletter webhooks secret --new` makes one)")


def _check_delivery(config: Config) -> None:
    """Reject delivery settings that could never work."""
    for key in ("max_attempts", "bounce_limit"):
        if getattr(config.smtp, key) < 1:
            raise Problem(f"smtp.{key}", f"smtp.{key} must be at least 1")
    for key in ("retry_delay", "retry_window"):
        if getattr(config.smtp, key) < 0:
            raise Problem(f"smtp.{key}", f"smtp.{key} must be 0 or more")
    for key in ("lease", "timeout"):
        if getattr(config.smtp, key) <= 0:
            raise Problem(f"smtp.{key}", f"smtp.{key} must be greater than 0")
    dkim = config.dkim
    if any((dkim.selector, dkim.domain, dkim.key_file)) and not all((dkim.selector, dkim.domain, dkim.key_file)):
        missing = [k for k in ("selector", "domain", "key_file") if not getattr(dkim, k)]
        raise Problem(f"dkim.{missing[0]}", f"dkim.{missing[0]} is required when DKIM signing is configured")
    _check_oauth(config)


def _check_oauth(config: Config) -> None:
    """XOAUTH2 takes one token source, and the account from the URL's user instead of a password."""
    smtp = config.smtp
    if not (smtp.oauth_token_command or smtp.oauth_token_file):
        return
    if smtp.oauth_token_command and smtp.oauth_token_file:
        raise Problem("smtp.oauth_token_file", "smtp.oauth_token_command and smtp.oauth_token_file: set one, not both")
    parts = urlsplit(smtp.url)
    if not parts.username:
        raise Problem("smtp.url", "smtp.url must name the account for XOAUTH2, with @ written %40: "
                      "smtp+starttls://you%40example.com@smtp.gmail.com:587")
    if parts.password:
        raise Problem("smtp.url", "smtp.url has a password and an OAuth token is configured: "
                      "leave the password out (XOAUTH2 signs in with the token)")


def _check_theme(config: Config) -> None:
    """Reject theme values that would break the email's markup or CSS."""
    theme = config.theme
    for key in ("brand_colour", "accent_colour", "link_colour", "background_colour", "dark_link_colour"):
        if not re.fullmatch(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?", getattr(theme, key)):
            raise Problem(f"theme.{key}", f"theme.{key} must be a colour like #0b2e4f, got {getattr(theme, key)!r}")
    for key in ("font_family", "heading_font_family"):
        if not re.fullmatch(r"[\w ,.'-]*", getattr(theme, key)):
            raise Problem(f"theme.{key}", f"theme.{key} must be a CSS font stack like \"Georgia, serif\"")
    for key in ("logo_url", "font_url"):
        value = getattr(theme, key)
        if value and not re.fullmatch(r"https?://[^\s\"'<>]+", value):
            raise Problem(f"theme.{key}", f"theme.{key} must be an http(s) address, got {value!r}")
    if theme.logo_url and (theme.logo_width <= 0 or theme.logo_height <= 0):
        raise Problem("theme.logo_width", "theme.logo_width and theme.logo_height are required with theme.logo_url")
    for key in ("greeting", "greeting_anonymous"):
        try:
            getattr(config.newsletter, key).format(name="", first_name="")
        except (KeyError, IndexError, ValueError) as e:
            raise Problem(f"newsletter.{key}", f"newsletter.{key}: only the fields {{first_name}} and {{name}} "
                          f"are allowed ({e})") from None


def suggestion(wrong: str, choices: list[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the choice closest to ``wrong``, or nothing when none is close."""
    close = difflib.get_close_matches(wrong, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
