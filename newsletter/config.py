"""Load and validate ``newsletter.toml``: one schema, defaults < file < environment."""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.error import ConfigError
from newsletter.schedule import trigger
from newsletter.settings import (  # noqa: F401 - re-exported: the schema is part of the config's API
    ARRAYS,
    ENVIRONMENT,
    SOURCE_KINDS,
    TABLES,
    DkimSettings,
    GatherSettings,
    NewsletterSettings,
    ScheduleSettings,
    SectionSettings,
    SmtpSettings,
    SourceSettings,
    StorageSettings,
    ThemeSettings,
    WebSettings,
    describe,
    setting,
)

CONFIG_ENV = "NEWSLETTER_CONFIG"
DEFAULT_CONFIG = "newsletter.toml"


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


def find(path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path:
    """Return the config file to use: ``path``, else ``$NEWSLETTER_CONFIG``, else ``./newsletter.toml``."""
    environ = os.environ if environ is None else environ
    return Path(path or environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and return the configuration in ``path`` with environment overrides."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {file} (create one with `newsletter init DIR`)"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {file}: {e}") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: invalid TOML: {e}") from e
    return parse(data, root=file.resolve().parent, file=file, environ=environ)


def parse(
    data: Mapping[str, Any],
    *,
    root: Path,
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate a decoded TOML document and return the configuration it describes."""
    where = str(file) if file else "config"
    environ = os.environ if environ is None else environ
    tables: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if key in TABLES:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: [{key}] must be a table")
            tables[key] = dict(value)
        elif key in ARRAYS:
            if not isinstance(value, list):
                raise ConfigError(f"{where}: {key} must be an array of tables ([[{key}]])")
        else:
            raise ConfigError(f"{where}: unknown key '{key}'")
    for variable, (table, key) in ENVIRONMENT.items():
        if environ.get(variable):
            tables.setdefault(table, {})[_toml_key(TABLES[table], key)] = environ[variable]
    built: dict[str, Any] = {
        name: _build(cls, tables.get(name, {}), name, where) for name, cls in TABLES.items()
    }
    for name, cls in ARRAYS.items():
        built[name] = tuple(
            _build(cls, entry, f"{name}[{i}]", where) for i, entry in enumerate(data.get(name, []))
        )
    config = Config(root=root, file=file, **built)
    _check(config, where)
    return config


def _toml_key(cls: type, attribute: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == attribute:
            return f.metadata.get("key") or f.name
    raise KeyError(attribute)


def _build(cls: type, table: Any, name: str, where: str) -> Any:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: {name} must be a table")
    fields, hints = _schema(cls)
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown key '{name}.{key}'")
        f = fields[key]
        values[f.name] = _coerce(value, hints[f.name], f"{name}.{key}", where)
    return cls(**values)


@functools.cache
def _schema(cls: type) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]:
    """Return a settings class's fields by TOML key, and its resolved type hints (once per class)."""
    return {f.metadata.get("key") or f.name: f for f in dataclasses.fields(cls)}, typing.get_type_hints(cls)


def _coerce(value: Any, hint: Any, key: str, where: str) -> Any:
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for kind in allowed:
        if kind is type(None):
            continue
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if kind is str and isinstance(value, str):
            return value
        if typing.get_origin(kind) is list and isinstance(value, list):
            if all(isinstance(v, str) for v in value):
                return list(value)
            raise ConfigError(f"{where}: {key} must be a list of strings")
    names = " or ".join(_type_name(k) for k in allowed if k is not type(None))
    raise ConfigError(f"{where}: {key} must be {names}, got {value!r}")


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is list:
        return "a list of strings"
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}[
        kind.__name__
    ]


def _check(config: Config, where: str) -> None:
    """Reject combinations that the types alone allow."""
    try:
        ZoneInfo(config.newsletter.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: newsletter.timezone: unknown time zone {config.newsletter.timezone!r}"
        ) from None
    known = {s.name for s in config.sections} | {config.newsletter.catch_all}
    for i, source in enumerate(config.sources):
        if bool(source.url) == bool(source.path):
            raise ConfigError(f"{where}: sources[{i}] needs exactly one of 'url' or 'path'")
        keys = [s.key for s in config.sources[:i]]
        if source.key in keys:
            raise ConfigError(f"{where}: sources[{i}] repeats sources[{keys.index(source.key)}] ({source.url or source.path})")
        if source.kind is not None and source.kind not in SOURCE_KINDS:
            raise ConfigError(f"{where}: sources[{i}].kind must be one of {', '.join(SOURCE_KINDS)}, "
                              f"got {source.kind!r}")
        if source.kind == "documents" and source.url:
            raise ConfigError(f"{where}: sources[{i}].kind = \"documents\" needs a 'path' to a folder")
        if source.section is not None and source.section not in known:
            raise ConfigError(f"{where}: sources[{i}].section {source.section!r} is not a configured section")
    names = [s.name for s in config.sections]
    for i, section in enumerate(config.sections):
        if not section.name.strip():
            raise ConfigError(f"{where}: sections[{i}].name is required")
        if section.name in names[:i]:
            raise ConfigError(f"{where}: sections[{i}].name {section.name!r} appears twice")
        if section.limit < 0:
            raise ConfigError(f"{where}: sections[{i}].limit must be 0 (no limit) or more")
    if config.schedule.cron != ScheduleSettings().cron:  # the default is known good; APScheduler loads slowly
        trigger(config.schedule.cron, config.zone, key=f"{where}: schedule.cron")
    if config.schedule.gather_cron:
        trigger(config.schedule.gather_cron, config.zone, key=f"{where}: schedule.gather_cron")
    _check_theme(config, where)
    for key in ("concurrency", "per_host", "max_bytes"):
        if getattr(config.gather, key) < 1:
            raise ConfigError(f"{where}: gather.{key} must be at least 1")
    if config.gather.timeout <= 0:
        raise ConfigError(f"{where}: gather.timeout must be greater than 0")
    if config.smtp.connections < 1:
        raise ConfigError(f"{where}: smtp.connections must be at least 1")
    if config.smtp.max_rate <= 0:
        raise ConfigError(f"{where}: smtp.max_rate must be greater than 0")
    _check_delivery(config, where)
    if config.newsletter.max_items < 1:
        raise ConfigError(f"{where}: newsletter.max_items must be at least 1")
    if config.newsletter.summary_length < 40:
        raise ConfigError(f"{where}: newsletter.summary_length must be at least 40")
    parse_url(config.smtp.url, where=f"{where}: smtp.url")
    _check_web(config, where)


def _check_web(config: Config, where: str) -> None:
    if not 0 < config.web.port < 65536:
        raise ConfigError(f"{where}: web.port must be between 1 and 65535")
    for key in ("session_hours", "confirm_hours"):
        if getattr(config.web, key) <= 0:
            raise ConfigError(f"{where}: web.{key} must be greater than 0")
    if config.web.resend_minutes < 0:
        raise ConfigError(f"{where}: web.resend_minutes must be 0 or more")
    if config.web.signups_per_hour < 0:
        raise ConfigError(f"{where}: web.signups_per_hour must be 0 or more")
    for proxy in config.web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            raise ConfigError(f"{where}: web.trusted_proxies: {proxy!r} is not an IP address or network") from None
    if config.web.admin_token and len(config.web.admin_token) < 16:
        raise ConfigError(f"{where}: web.admin_token must be at least 16 characters (a long random string)")


def _check_delivery(config: Config, where: str) -> None:
    """Reject delivery settings that could never work."""
    for key in ("max_attempts", "bounce_limit"):
        if getattr(config.smtp, key) < 1:
            raise ConfigError(f"{where}: smtp.{key} must be at least 1")
    for key in ("retry_delay", "retry_window"):
        if getattr(config.smtp, key) < 0:
            raise ConfigError(f"{where}: smtp.{key} must be 0 or more")
    if config.smtp.lease <= 0 or config.smtp.timeout <= 0:
        raise ConfigError(f"{where}: smtp.{'lease' if config.smtp.lease <= 0 else 'timeout'} must be greater than 0")
    dkim = config.dkim
    if any((dkim.selector, dkim.domain, dkim.key_file)) and not all((dkim.selector, dkim.domain, dkim.key_file)):
        missing = [k for k in ("selector", "domain", "key_file") if not getattr(dkim, k)]
        raise ConfigError(f"{where}: dkim.{missing[0]} is required when DKIM signing is configured")


def _check_theme(config: Config, where: str) -> None:
    """Reject theme values that would break the email's markup or CSS."""
    theme = config.theme
    for key in ("brand_colour", "accent_colour", "link_colour", "background_colour", "dark_link_colour"):
        if not re.fullmatch(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?", getattr(theme, key)):
            raise ConfigError(f"{where}: theme.{key} must be a colour like #0b2e4f, got {getattr(theme, key)!r}")
    for key in ("font_family", "heading_font_family"):
        if not re.fullmatch(r"[\w ,.'-]*", getattr(theme, key)):
            raise ConfigError(f"{where}: theme.{key} must be a CSS font stack like \"Georgia, serif\"")
    for key in ("logo_url", "font_url"):
        value = getattr(theme, key)
        if value and not re.fullmatch(r"https?://[^\s\"'<>]+", value):
            raise ConfigError(f"{where}: theme.{key} must be an http(s) address, got {value!r}")
    if theme.logo_url and (theme.logo_width <= 0 or theme.logo_height <= 0):
        raise ConfigError(f"{where}: theme.logo_width and theme.logo_height are required with theme.logo_url")
    for key in ("greeting", "greeting_anonymous"):
        try:
            getattr(config.newsletter, key).format(name="")
        except (KeyError, IndexError, ValueError) as e:
            raise ConfigError(f"{where}: newsletter.{key}: only the field {{name}} is allowed ({e})") from None


def kind_of(config: Config, source: SourceSettings) -> str:
    """Return ``url`` (over HTTP), ``file`` (a feed, JSON Feed or page on disk) or ``documents`` (a folder)."""
    if source.kind == "documents":
        return "documents"
    if source.url:
        return "file" if source.url.startswith("file:") else "url"
    path = config.resolve(source.path or "")
    return "documents" if path.is_dir() or not path.suffix else "file"


SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


@dataclass(frozen=True)
class SmtpUrl:
    """Where and how to connect: host, port, security and optional credentials."""

    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        scheme = {v[1]: k for k, v in SCHEMES.items()}[self.security]
        return f"{scheme}://{self.host}:{self.port}"


def parse_url(url: str, *, where: str = "SMTP URL") -> SmtpUrl:
    """Return the parts of ``smtp://user:pass@host:port`` (also ``smtp+starttls``, ``smtps``)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            f"{where}: scheme must be one of {', '.join(SCHEMES)}, got {url.split(':')[0]!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port in {_redact(url)!r}") from None
    if not parts.hostname:
        raise ConfigError(f"{where}: missing host in {_redact(url)!r}")
    default_port, security = SCHEMES[parts.scheme]
    return SmtpUrl(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
