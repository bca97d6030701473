"""OPML: bring a feed reader's (or rss2email's) subscriptions into the config, and take them out.

The config stays the one source of truth: an import appends ``[[sources]]`` entries
to the end of ``newsletter.toml`` as text, so the editor's comments and layout survive,
and the result is validated before it replaces the file.

OPML files come from other programs and other people, so reading one is bounded like
reading a feed: a file over ``gather.max_bytes`` is refused, and so is any DOCTYPE
before the root element, wherever it is (OPML needs none; entity attacks need one).
The nesting of outlines is walked without recursion, however deep it goes.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from newsletter import config as config_module
from newsletter.config import Config
from newsletter.error import ConfigError, OpmlError
from newsletter.gather import charset, prolog
from newsletter.gather.markup import safe_url
from newsletter.gather.sources import display_name


@dataclass(frozen=True)
class Outline:
    """One feed listed in an OPML file."""

    url: str
    name: str = ""
    folder: str = ""  # the outline it was nested in, if any


@dataclass(frozen=True)
class OpmlImport:
    """What an import added to the config and what it left out, with why."""

    added: list[Outline] = field(default_factory=list)
    skipped: list[tuple[Outline, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"added": [o.__dict__ for o in self.added],
                "skipped": [{**o.__dict__, "reason": why} for o, why in self.skipped]}


def parse(content: bytes) -> list[Outline]:
    """Return the feeds an OPML document lists, in document order."""
    document = charset.as_xml(content)  # checked as the parser will read it, UTF-16 included
    if prolog.has_doctype(document) or prolog.declares_entities(document):
        raise OpmlError("refused: the OPML file has a DOCTYPE (OPML needs none; entity attacks do)")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as e:
        raise OpmlError(f"not a valid OPML file: {e}") from None
    body = root.find("body")
    if root.tag.lower() != "opml" or body is None:
        raise OpmlError("not an OPML file (no <opml> with a <body>)")
    found: list[Outline] = []
    # Depth first in document order, with a stack of the outlines still to visit at each level
    # rather than recursion: a hostile file may nest them a million deep.
    levels: list[tuple[Iterator[ET.Element], str]] = [(iter(body.findall("outline")), "")]
    while levels:
        outlines, folder = levels[-1]
        outline = next(outlines, None)
        if outline is None:
            levels.pop()
            continue
        attributes = {k.lower(): v.strip() for k, v in outline.attrib.items()}
        name = attributes.get("title") or attributes.get("text") or ""
        if attributes.get("xmlurl"):
            found.append(Outline(attributes["xmlurl"], name, folder))
        levels.append((iter(outline.findall("outline")), name if not attributes.get("xmlurl") else folder))
    return found


def import_file(config: Config, opml_path: Path) -> OpmlImport:
    """Append the feeds of ``opml_path`` to the config file as ``[[sources]]``; skip known URLs."""
    if config.file is None:
        raise OpmlError("this newsletter has no config file to add sources to")
    limit = config.gather.max_bytes
    try:
        with opml_path.open("rb") as stream:
            content = stream.read(limit + 1)
    except OSError as e:
        raise OpmlError(f"cannot read {opml_path}: {e.strerror or e}") from e
    if len(content) > limit:
        raise OpmlError(f"{opml_path.name} is larger than {limit:,} bytes (gather.max_bytes)")
    outlines = parse(content)
    known = {s.url for s in config.sources if s.url}
    sections = {name.casefold(): s.name for s in config.sections for name in [s.name, *s.aliases]}
    report = OpmlImport()
    blocks = []
    for outline in outlines:
        url = safe_url(outline.url)
        if url is None:
            report.skipped.append((outline, "not an http(s) address"))
        elif url in known:
            report.skipped.append((outline, "already in the config"))
        else:
            known.add(url)
            outline = Outline(url, outline.name, outline.folder)
            report.added.append(outline)
            blocks.append(_toml_source(outline, sections.get(outline.folder.casefold())))
    if blocks:
        header = f"\n# Added by `newsletter sources import {opml_path.name}` on {datetime.now():%Y-%m-%d}\n"
        _append(config, header + "\n".join(blocks))
    return report


def export(config: Config, names: dict[str, str] | None = None) -> str:
    """Return the config's URL sources as an OPML 2.0 document, grouped by forced section."""
    names = names or {}
    groups: dict[str, list[str]] = {}
    for source in config.sources:
        if not source.url:
            continue
        text = display_name(source, names.get(source.key))
        line = f'<outline type="rss" text={quoteattr(text)} title={quoteattr(text)} xmlUrl={quoteattr(source.url)}/>'
        groups.setdefault(source.section or "", []).append(line)
    body = []
    for section, lines in groups.items():
        if section:
            body.append(f"    <outline text={quoteattr(section)}>")
            body += [f"      {line}" for line in lines]
            body.append("    </outline>")
        else:
            body += [f"    {line}" for line in lines]
    return "\n".join([
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_escape(config.newsletter.title)}</title>",
        f"    <dateCreated>{format_datetime(datetime.now().astimezone())}</dateCreated>",
        "  </head>",
        "  <body>",
        *body,
        "  </body>",
        "</opml>",
        "",
    ])


def _toml_source(outline: Outline, section: str | None) -> str:
    lines = ["[[sources]]", f"url = {_toml_string(outline.url)}"]
    if outline.name:
        lines.append(f"name = {_toml_string(outline.name)}")
    if section:
        lines.append(f"section = {_toml_string(section)}")
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string (same quotes and escapes), except that TOML also bans DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _append(config: Config, addition: str) -> None:
    """Append text to the config file atomically, after checking the result is a valid config."""
    path = Path(config.file)  # type: ignore[arg-type]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise OpmlError(f"cannot read {path}: {e.strerror or e}") from e
    updated = text + ("" if text.endswith("\n") or not text else "\n") + addition
    try:
        config_module.parse(tomllib.loads(updated), root=config.root, file=path)
    except (tomllib.TOMLDecodeError, ConfigError) as e:
        raise OpmlError(f"the imported sources would make {path} invalid: {e}") from e
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(updated)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise OpmlError(f"cannot write {path}: {e.strerror or e}") from e


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
