"""Load and validate ``newsletter.toml``: one schema, defaults < file < environment."""

from __future__ import annotations

import dataclasses
import functools
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

from newsletter.checks import Problem, check, suggestion
from newsletter.error import ConfigError
from newsletter.settings import (  # noqa: F401 - re-exported: the schema is part of the config's API
    ARRAYS,
    ENVIRONMENT,
    SOURCE_KINDS,
    TABLES,
    Config,
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
        at = re.search(r" \(at line (\d+), column (\d+)\)$", str(e))
        if at is None:
            raise ConfigError(f"{file}: invalid TOML: {e}") from e
        raise ConfigError(f"{file}:{at[1]}: invalid TOML: {str(e)[:at.start()]} (column {at[2]})") from e
    return parse(data, root=file.resolve().parent, file=file, environ=environ, text=text)


def parse(
    data: Mapping[str, Any],
    *,
    root: Path,
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Config:
    """Validate a decoded TOML document and return the configuration it describes.

    An error names where the wrong value came from: the environment variable that set
    it, else ``file`` and the line in ``text`` (the file's content) that holds it.
    """
    environ = os.environ if environ is None else environ
    overrides = {f"{table}.{_toml_key(TABLES[table], key)}": variable
                 for variable, (table, key) in ENVIRONMENT.items() if environ.get(variable)}
    try:
        return _parse(data, root, file, environ)
    except Problem as problem:
        if problem.key in overrides:
            where = overrides[problem.key]
        else:
            line = locate(text, problem.key) if text is not None else None
            where = f"{file}:{line}" if file and line else str(file) if file else "config"
        raise ConfigError(f"{where}: {problem}") from None


def _parse(data: Mapping[str, Any], root: Path, file: Path | None, environ: Mapping[str, str]) -> Config:
    tables: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if key in TABLES:
            if not isinstance(value, Mapping):
                raise Problem(key, f"[{key}] must be a table")
            tables[key] = dict(value)
        elif key in ARRAYS:
            if not isinstance(value, list):
                raise Problem(key, f"{key} must be an array of tables ([[{key}]])")
        else:
            raise Problem(key, f"unknown key '{key}'" + suggestion(key, [*TABLES, *ARRAYS]))
    for variable, (table, key) in ENVIRONMENT.items():
        if environ.get(variable):
            tables.setdefault(table, {})[_toml_key(TABLES[table], key)] = environ[variable]
    built: dict[str, Any] = {name: _build(cls, tables.get(name, {}), name) for name, cls in TABLES.items()}
    for name, cls in ARRAYS.items():
        built[name] = tuple(
            _build(cls, entry, f"{name}[{n}]") for n, entry in enumerate(data.get(name, []), start=1)
        )
    config = Config(root=root, file=file, **built)
    check(config)
    try:
        parse_url(config.smtp.url, where="smtp.url")
    except ConfigError as e:
        raise Problem("smtp.url", str(e)) from None
    return config


def _toml_key(cls: type, attribute: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == attribute:
            return f.metadata.get("key") or f.name
    raise KeyError(attribute)


def _build(cls: type, table: Any, name: str) -> Any:
    if not isinstance(table, Mapping):
        raise Problem(name, f"{name} must be a table")
    fields, hints = _schema(cls)
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise Problem(f"{name}.{key}", f"unknown key '{name}.{key}'" + suggestion(key, list(fields)))
        f = fields[key]
        values[f.name] = _coerce(value, hints[f.name], f"{name}.{key}")
    return cls(**values)


@functools.cache
def _schema(cls: type) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]:
    """Return a settings class's fields by TOML key, and its resolved type hints (once per class)."""
    return {f.metadata.get("key") or f.name: f for f in dataclasses.fields(cls)}, typing.get_type_hints(cls)


def _coerce(value: Any, hint: Any, key: str) -> Any:
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
            raise Problem(key, f"{key} must be a list of strings")
        if typing.get_origin(kind) is dict and isinstance(value, Mapping):
            for name, text in value.items():
                if not isinstance(text, str):
                    raise Problem(f"{key}.{name}", f"{key}.{name} must be a string, got {text!r}")
            return dict(value)
    names = " or ".join(_type_name(k) for k in allowed if k is not type(None))
    raise Problem(key, f"{key} must be {names}, got {value!r}")


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is list:
        return "a list of strings"
    if typing.get_origin(kind) is dict:
        return "a table of strings"
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}[
        kind.__name__
    ]


_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def locate(text: str, key: str) -> int | None:
    """Return the line (from 1) of ``text`` that sets ``key``, else of its nearest enclosing table.

    ``key`` is written as errors write it: ``web.admin_token``, ``sections[7].keywords``
    (the 7th ``[[sections]]`` table). tomllib keeps no positions, so the text is scanned
    for table headers and ``key =`` lines; None when the file holds none of the key.
    """
    wanted: tuple[str | int, ...] = tuple(
        int(part[1:-1]) if part.startswith("[") else part for part in re.findall(r"\[\d+\]|[^.\[\]]+", key))
    lines: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    counts: dict[tuple[str, ...], int] = {}
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string or line.count('"""') % 2 or line.count("'''") % 2:
            in_string ^= bool(line.count('"""') % 2 or line.count("'''") % 2)
            continue  # inside a multi-line string a "key = value" line is only text
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            names = tuple(_unquote(p) for p in _split_dotted(header[2]))
            if header[1] == "[[":
                counts[names] = counts.get(names, 0) + 1
                table = (*names, counts[names])
                lines.setdefault(names, number)
            else:
                table = names
            lines.setdefault(table, number)
            continue
        assignment = _KEY.match(line)
        if assignment:
            lines.setdefault((*table, *(_unquote(p) for p in _split_dotted(assignment[1]))), number)
    while wanted:
        if wanted in lines:
            return lines[wanted]
        wanted = wanted[:-1]
    return None


def _split_dotted(key: str) -> list[str]:
    return [p.strip() for p in re.findall(r"""\s*("[^"]*"|'[^']*'|[^.]+)\s*(?:\.|$)""", key) if p.strip()]


def _unquote(part: str) -> str:
    return part[1:-1] if part[:1] in "\"'" and part[-1:] == part[:1] else part


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


@dataclass(frozen=True)
class ServerUrl:
    """A mail server's URL taken apart: host, port (the scheme's default if none), security, login, path."""

    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None
    password: str | None
    path: str


def split_server_url(url: str, schemes: Mapping[str, tuple[int, str]], *, where: str) -> ServerUrl:
    """Return the parts of ``scheme://user:pass@host:port/path`` for one of ``schemes``, or raise ConfigError."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise ConfigError(f"{where}: scheme must be one of {', '.join(schemes)}, got {url.split(':')[0]!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port in {_redact(url)!r}") from None
    if not parts.hostname:
        raise ConfigError(f"{where}: missing host in {_redact(url)!r}")
    default_port, security = schemes[parts.scheme]
    return ServerUrl(parts.hostname, port or default_port, security,
                     unquote(parts.username) if parts.username else None,
                     unquote(parts.password) if parts.password is not None else None,
                     unquote(parts.path.lstrip("/")))


def parse_url(url: str, *, where: str = "SMTP URL") -> SmtpUrl:
    """Return the parts of ``smtp://user:pass@host:port`` (also ``smtp+starttls``, ``smtps``)."""
    server = split_server_url(url, SCHEMES, where=where)
    return SmtpUrl(server.host, server.port, server.security, server.username, server.password or None)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
