"""The settings schema: every key of ``newsletter.toml``, declared once with its default and help.

Here: the newsletter, schedule, SMTP, storage, theme and web tables, the list of tables, the
environment variables, ``Config`` and the Markdown reference. The tables of what is read
(``reading``) and of what surrounds a send (``mailing``) live beside it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.settings.declare import setting
from newsletter.settings.mailing import (
    BouncesSettings,
    DkimSettings,
    DnsSettings,
    MetricsSettings,
    TrackingSettings,
    WebhookSettings,
)
from newsletter.settings.reading import GatherSettings, SectionSettings, SourceSettings


@dataclass(frozen=True)
class NewsletterSettings:
    title: str = setting("Briefing", "Name of the newsletter, shown in the header and subject.")
    sender: str = setting(
        "Briefing <briefing@example.org>", "From address, with an optional display name.", key="from"
    )
    reply_to: str = setting("", "Reply-To address; empty for none.")
    base_url: str = setting(
        "http://127.0.0.1:8000", "Public address of the web app (unsubscribe and archive links)."
    )
    timezone: str = setting("UTC", "IANA time zone for dates in the issue and the schedule.")
    language: str = setting("en", "Language of the newsletter's own words for readers who chose none (BCP 47 tag).")
    languages: list[str] = setting(
        ["en"], "Languages offered to readers on the sign-up and preferences pages."
    )
    subject: str = setting(
        "{title} #{number}: {headline}",
        "Subject line; fields {title}, {number}, {date}, {headline}: the first headline of the reader's own "
        "copy (an editor's subject set on the desk wins for everyone).",
    )
    postal_address: str = setting("", "Sender's postal or contact line shown in the footer.")
    catch_all: str = setting("In brief", "Name of the last section, for items no section claims.")
    outlook: str = setting(
        "Outlook", "Heading of a briefing's closing look ahead, shown after every other section; "
        "empty: no such heading, the outlook goes to the catch-all."
    )
    max_items: int = setting(60, "Most items one issue carries; the rest wait for the next.")
    known_names: bool = setting(
        True, "Read the built-in list of the region's organisations, projects and leaders (CNPC is Chinese, "
        "Kazatomprom mines uranium) as mentions of the country and topic each implies; false: keywords only."
    )
    repeat_days: float = setting(
        14.0, "Days a sent story is remembered: a later copy from another source is left out of the next issue; "
        "0: never."
    )
    summary_length: int = setting(
        300, "Longest item summary in characters: whole first sentences, never cut mid-word."
    )
    templates: str = setting("templates", "Folder of user templates, searched before the built-in ones.")
    secret_key: str = setting(
        "", "Key that signs unsubscribe tokens (prefer NEWSLETTER_SECRET_KEY); empty: generated and stored."
    )
    greeting: str = setting(
        "Hello {first_name},", "Greeting that opens each reader's copy; {first_name} or {name} (the whole name); "
        "empty: no greeting. The default is said in each reader's language."
    )
    greeting_anonymous: str = setting(
        "Hello,", "Greeting for readers whose name is not known; empty: none. The default is translated too."
    )
    welcome: bool = setting(
        True, "Mail a welcome (in the reader's language, with the latest issue and their preferences link) "
        "when a reader confirms their subscription."
    )


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str = setting("0 8 * * mon", "When `newsletter run` sends, as cron with day names.")
    skip_if_empty: bool = setting(True, "Send nothing when no new items are waiting.")
    min_items: int = setting(1, "Send only when at least this many items are waiting.")
    gather_cron: str = setting(
        "", "When `newsletter run` gathers between sends (cron with day names); empty: only before sending."
    )
    grace_minutes: int = setting(
        360, "A send missed while the daemon was down runs once on restart if it is at most this late."
    )
    approve: bool = setting(
        False, "Hold each scheduled issue as a draft until an editor sends it (desk or `newsletter send`)."
    )
    doctor: bool = setting(
        True, "When `newsletter run` starts, log `newsletter doctor`'s checks (a failing one warns, never stops a send)."
    )
    local_time: str = setting(
        "", "Deliver each issue at this hour on each reader's own clock, as \"07:00\" (their time zone, else "
        "the newsletter's); empty: everyone at once."
    )


@dataclass(frozen=True)
class SmtpSettings:
    url: str = setting(
        "smtp://127.0.0.1:1025",
        "smtp://user:pass@host:port, smtp+starttls://… or smtps://… (prefer NEWSLETTER_SMTP_URL).",
    )
    max_rate: float = setting(50.0, "Most messages per second, across all connections of all workers.")
    connections: int = setting(4, "SMTP connections opened in parallel.")
    timeout: float = setting(30.0, "Seconds to wait for the SMTP server before giving up on a command.")
    data_timeout: float = setting(
        600.0, "Seconds to wait for the server to accept a message once sent (RFC 5321: 10 minutes); "
        "giving up sooner can deliver it twice."
    )
    max_attempts: int = setting(5, "Attempts per recipient before a deferred delivery is marked failed.")
    retry_delay: float = setting(
        30.0, "Seconds before a deferred delivery (4xx, dropped connection) is retried; doubles each attempt."
    )
    retry_window: float = setting(
        300.0, "Seconds one send keeps retrying deferred deliveries; later retries wait for the next send."
    )
    bounce_limit: int = setting(
        2, "Permanent refusals (5xx) of a recipient in a row after which the subscriber is marked bounced."
    )
    pipelining: bool = setting(True, "Pipeline each message's commands when the server offers PIPELINING.")
    ca_file: str = setting("", "PEM file of CA certificates to trust instead of the system's (private relays).")
    lease: float = setting(
        120.0, "Seconds a worker's claim on deliveries lasts unless renewed; a dead worker's rows are retaken after."
    )
    oauth_token_command: str = setting(
        "", "Command that prints an OAuth access token: AUTH XOAUTH2 (Gmail, Microsoft 365) as the URL's user, "
        "run again when the token expires or is refused."
    )
    oauth_token_file: str = setting(
        "", "File holding an OAuth access token that another program keeps fresh (instead of the command), "
        "relative to the config."
    )


@dataclass(frozen=True)
class StorageSettings:
    url: str = setting(
        "sqlite:///newsletter.db",
        "Database URL: sqlite:///relative/or/absolute.db or postgresql://… (NEWSLETTER_DATABASE_URL).",
    )


@dataclass(frozen=True)
class ThemeSettings:
    brand_colour: str = setting("#0b2e4f", "Colour of the header band and headlines (#rrggbb).")
    accent_colour: str = setting("#8a5a00", "Colour of section headings and their rules (#rrggbb).")
    link_colour: str = setting("#0b4f8a", "Colour of links (#rrggbb).")
    background_colour: str = setting("#f3f1ec", "Colour around the email's column (#rrggbb).")
    dark_link_colour: str = setting("#8cc4ff", "Colour of links when the reader's mail app is in dark mode.")
    logo_url: str = setting("", "Address (https) of a logo image shown in the header; empty for none.")
    logo_width: int = setting(0, "Logo width in pixels as displayed (required with logo_url).")
    logo_height: int = setting(0, "Logo height in pixels as displayed (required with logo_url).")
    logo_alt: str = setting("", "Text shown instead of the logo when images are off; empty: the title.")
    font_family: str = setting("Georgia, 'Times New Roman', serif", "CSS font stack of the text.")
    heading_font_family: str = setting("", "CSS font stack of headings; empty: the text's font stack.")
    font_url: str = setting("", "Web font stylesheet (https) for the first font of font_family; empty for none.")


@dataclass(frozen=True)
class WebSettings:
    host: str = setting("127.0.0.1", "Address `newsletter serve` listens on (0.0.0.0: every interface).")
    port: int = setting(8000, "Port `newsletter serve` listens on.")
    admin_token: str = setting(
        "", "Token that opens the editor's desk and the admin API (prefer NEWSLETTER_ADMIN_TOKEN); "
        "empty: the desk stays closed."
    )
    session_hours: float = setting(12.0, "Hours an editor's desk login lasts.")
    confirm_hours: float = setting(48.0, "Hours a sign-up's confirmation link stays valid.")
    resend_minutes: float = setting(
        10.0, "Least minutes between two confirmation emails to one address (repeated sign-ups send no more)."
    )
    signups_per_hour: int = setting(
        10, "Most sign-ups one client address may make in an hour (form and API together); 0: no limit."
    )
    trusted_proxies: list[str] = setting(
        [], "Addresses or networks of your reverse proxies; only from these is X-Forwarded-For "
        "(and X-Forwarded-Proto) believed."
    )
    login_attempts: int = setting(
        10, "Most wrong admin tokens (desk login or API) one client address may try in 15 minutes; "
        "then 429 until the oldest is 15 minutes old; 0: no limit."
    )
    pending_days: float = setting(
        7.0, "Days after which a web sign-up never confirmed is deleted (counted from its last change "
        "or confirmation email); purged at each sign-up and each tick of `newsletter run`."
    )


TABLES: dict[str, type] = {
    "newsletter": NewsletterSettings,
    "schedule": ScheduleSettings,
    "smtp": SmtpSettings,
    "storage": StorageSettings,
    "gather": GatherSettings,
    "theme": ThemeSettings,
    "dkim": DkimSettings,
    "web": WebSettings,
    "dns": DnsSettings,
    "bounces": BouncesSettings,
    "tracking": TrackingSettings,
    "metrics": MetricsSettings,
}
ARRAYS: dict[str, type] = {"sources": SourceSettings, "sections": SectionSettings, "webhooks": WebhookSettings}
SOURCE_KINDS = ("feed", "json", "page", "documents")
WEBHOOK_EVENTS = ("subscriber.created", "subscriber.confirmed", "subscriber.unsubscribed", "subscriber.bounced",
                  "subscriber.complained", "issue.sent")

ENVIRONMENT = {
    "NEWSLETTER_SMTP_URL": ("smtp", "url"),
    "NEWSLETTER_DATABASE_URL": ("storage", "url"),
    "NEWSLETTER_SECRET_KEY": ("newsletter", "secret_key"),
    "NEWSLETTER_BASE_URL": ("newsletter", "base_url"),
    "NEWSLETTER_ADMIN_TOKEN": ("web", "admin_token"),
    "NEWSLETTER_IMAP_URL": ("bounces", "imap_url"),
    "NEWSLETTER_MAILGUN_KEY": ("bounces", "mailgun_key"),
    "NEWSLETTER_POSTMARK_PASSWORD": ("bounces", "postmark_password"),
    "NEWSLETTER_METRICS_TOKEN": ("metrics", "token"),
}


def describe() -> list[tuple[str, str, Any, str]]:
    """Return every setting as ``(table, key, default, help)``, for docs and tests."""
    rows = []
    for table, cls in {**TABLES, **ARRAYS}.items():
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
            rows.append((table, f.metadata.get("key") or f.name, default, f.metadata["help"]))
    return rows


def reference() -> str:
    """Render the Markdown reference of every setting: ``docs/settings.md`` is its output."""
    types = {"str": "string", "str | None": "string", "int": "integer", "float": "number", "bool": "boolean",
             "list[str]": "list of strings", "dict[str, str]": "table of strings"}
    overrides = {where: name for name, where in ENVIRONMENT.items()}

    def cell(text: str) -> str:
        # A pipe would end the table cell; a bare <word> would be read as an HTML tag.
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from the schema in newsletter/settings/; do not edit by hand. Regenerate with:",
        "python -c \"from newsletter import settings; print(settings.reference(), end='')\" > docs/settings.md -->",
        "",
        "Every key of `newsletter.toml`, with its type, its default and what it does. The file is",
        "validated at startup: an unknown key or a value of the wrong type stops the command with one",
        "line naming the key and the file. Relative paths are relative to the config file's folder.",
        "Precedence: defaults < file < environment < command-line flags.",
    ]
    kinds = [str(f.type) for cls in {**TABLES, **ARRAYS}.values() for f in dataclasses.fields(cls)]
    heading = ""
    for (table, key, default, help_text), kind in zip(describe(), kinds, strict=True):
        if table != heading:
            heading = table
            lines += ["", f"## `[[{table}]]`" if table in ARRAYS else f"## `[{table}]`", ""]
            if table in ARRAYS:
                lines += [f"A list: one `[[{table}]]` table per entry.", ""]
            lines += ["| key | type | default | environment | meaning |", "|---|---|---|---|---|"]
        toml = json.dumps(default, ensure_ascii=False).replace("|", "\\|")  # JSON scalars and lists read as TOML
        shown = "—" if default is None else f"`{toml}`"
        env = f"`{overrides[table, key]}`" if (table, key) in overrides else ""
        lines.append(f"| `{key}` | {types.get(kind, kind)} | {shown} | {env} | {cell(help_text)} |")
    lines += ["", "## Environment", "", "Secrets belong here; each variable overrides the file's key.", ""]
    lines += ["| variable | overrides |", "|---|---|"]
    lines += [f"| `{name}` | `{table}.{key}` |" for name, (table, key) in ENVIRONMENT.items()]
    lines.append("| `NEWSLETTER_CONFIG` | the config file when `--config` is not given (else `./newsletter.toml`) |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Config:
    """The whole configuration of one newsletter, paths resolved against ``root``."""

    root: Path
    file: Path | None = None
    newsletter: NewsletterSettings = NewsletterSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    smtp: SmtpSettings = SmtpSettings()
    storage: StorageSettings = StorageSettings()
    gather: GatherSettings = GatherSettings()
    theme: ThemeSettings = ThemeSettings()
    dkim: DkimSettings = DkimSettings()
    web: WebSettings = WebSettings()
    dns: DnsSettings = DnsSettings()
    bounces: BouncesSettings = BouncesSettings()
    tracking: TrackingSettings = TrackingSettings()
    metrics: MetricsSettings = MetricsSettings()
    sources: tuple[SourceSettings, ...] = ()
    sections: tuple[SectionSettings, ...] = ()
    webhooks: tuple[WebhookSettings, ...] = ()

    @property
    def database_url(self) -> str:
        """Return the storage URL with a relative SQLite path made absolute."""
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and url != "sqlite:///:memory:":
            path = Path(url[len(prefix):])
            if not path.is_absolute():
                return prefix + str((self.root / path).resolve())
        return url

    @property
    def templates_dir(self) -> Path:
        """Return the folder of the user's templates."""
        return self.root / self.newsletter.templates

    @property
    def zone(self) -> ZoneInfo:
        """Return the newsletter's time zone."""
        return ZoneInfo(self.newsletter.timezone)

    def resolve(self, path: str) -> Path:
        """Return ``path`` made absolute against the config's folder."""
        return (self.root / path).resolve()

    def replace(self, **tables: Any) -> Config:
        """Return a copy with the given settings changed, e.g. ``smtp={"url": ...}``."""
        changes: dict[str, Any] = {}
        for name, values in tables.items():
            current = getattr(self, name)
            if isinstance(values, Mapping):
                changes[name] = dataclasses.replace(current, **values)
            else:
                changes[name] = values
        return dataclasses.replace(self, **changes)
