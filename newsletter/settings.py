"""The settings schema: every key of ``newsletter.toml``, declared once with its default and help."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


def setting(default: Any, help: str, *, key: str | None = None) -> Any:
    """Declare one setting with its default and help text (and its TOML key if it differs)."""
    meta = {"help": help, "key": key}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


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
        "Subject line; fields {title}, {number}, {date}, {headline} (first item's title).",
    )
    postal_address: str = setting("", "Sender's postal or contact line shown in the footer.")
    catch_all: str = setting("In brief", "Name of the last section, for items no section claims.")
    max_items: int = setting(60, "Most items one issue carries; the rest wait for the next.")
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
    greeting: str = setting("Hello {name},", "Greeting that opens each reader's copy; {name} is their name.")
    greeting_anonymous: str = setting("Hello,", "Greeting for readers whose name is not known.")


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


@dataclass(frozen=True)
class StorageSettings:
    url: str = setting(
        "sqlite:///newsletter.db",
        "Database URL: sqlite:///relative/or/absolute.db or postgresql://… (NEWSLETTER_DATABASE_URL).",
    )


@dataclass(frozen=True)
class GatherSettings:
    timeout: float = setting(20.0, "Seconds allowed for one HTTP request, body included, before it is abandoned.")
    concurrency: int = setting(64, "Requests in flight at the same time, across all hosts.")
    per_host: int = setting(2, "Requests in flight at the same time to one host (politeness).")
    max_bytes: int = setting(10_000_000, "Largest response, document or OPML file read, in bytes (after gzip).")
    user_agent: str = setting(
        "newsletter/0.1 (+https://github.com/newsletter)", "User-Agent sent with every request."
    )
    warn_after_hours: float = setting(
        48.0, "A source failing for longer than this is reported loudly by every gather, send and sources list."
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
class SourceSettings:
    url: str | None = setting(None, "Address of an RSS/Atom feed (http, https or file).")
    path: str | None = setting(
        None, "A feed file, or a folder of briefing documents (.txt .md), relative to the config."
    )
    section: str | None = setting(None, "Put every item of this source in this section.")
    name: str | None = setting(None, "Display name; defaults to the feed's title or the folder name.")
    kind: str | None = setting(
        None, "What the source is: feed (RSS/Atom), json (JSON Feed), page (one article on a web page) "
        "or documents (a folder); empty: detected from the content."
    )

    @property
    def key(self) -> str:
        """Return the identity of this source in the store."""
        return self.url or f"path:{self.path}"


@dataclass(frozen=True)
class SectionSettings:
    name: str = setting("", "Section heading, e.g. a country or topic.")
    keywords: list[str] = setting([], "Words that place an item here (whole words, any case, with endings).")
    aliases: list[str] = setting([], "Other names an inline heading may use for this section.")
    intro: str = setting("", "Optional line shown under the section heading.")
    limit: int = setting(0, "Most items shown in this section (0: no limit); the rest wait for the next issue.")
    hide_when_empty: bool = setting(True, "Leave the section out of an issue that has nothing for it.")
    empty_text: str = setting(
        "Nothing new this week.", "Line shown in a section with no items when hide_when_empty is false."
    )


@dataclass(frozen=True)
class DkimSettings:
    selector: str = setting("", "DKIM selector: the key is published at <selector>._domainkey.<domain>.")
    domain: str = setting("", "Signing domain (d=), usually the From address's domain.")
    key_file: str = setting(
        "", "RSA or Ed25519 private key (PEM, or dknewkey's base64 file), relative to the config; empty: no DKIM."
    )


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
}
ARRAYS: dict[str, type] = {"sources": SourceSettings, "sections": SectionSettings}
SOURCE_KINDS = ("feed", "json", "page", "documents")

ENVIRONMENT = {
    "NEWSLETTER_SMTP_URL": ("smtp", "url"),
    "NEWSLETTER_DATABASE_URL": ("storage", "url"),
    "NEWSLETTER_SECRET_KEY": ("newsletter", "secret_key"),
    "NEWSLETTER_BASE_URL": ("newsletter", "base_url"),
    "NEWSLETTER_ADMIN_TOKEN": ("web", "admin_token"),
}


def describe() -> list[tuple[str, str, Any, str]]:
    """Return every setting as ``(table, key, default, help)``, for docs and tests."""
    rows = []
    for table, cls in {**TABLES, **ARRAYS}.items():
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            rows.append((table, f.metadata.get("key") or f.name, default, f.metadata["help"]))
    return rows


def reference() -> str:
    """Render the Markdown reference of every setting: ``docs/settings.md`` is its output."""
    types = {"str": "string", "str | None": "string", "int": "integer", "float": "number", "bool": "boolean",
             "list[str]": "list of strings"}
    overrides = {where: name for name, where in ENVIRONMENT.items()}

    def cell(text: str) -> str:
        # A pipe would end the table cell; a bare <word> would be read as an HTML tag.
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from the schema in newsletter/settings.py; do not edit by hand. Regenerate with:",
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
    sources: tuple[SourceSettings, ...] = ()
    sections: tuple[SectionSettings, ...] = ()

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
