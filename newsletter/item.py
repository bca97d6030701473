"""Items: what a source yields, their identity, and their text made clean and short."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser


@dataclass(frozen=True)
class Entry:
    """One item as a source reader produced it, before it is stored."""

    uid: str
    title: str
    body: str
    link: str | None = None
    label: str | None = None  # inline heading of a briefing paragraph, e.g. "Russia"
    author: str | None = None
    published_at: datetime | None = None
    summary: str = ""
    html: str = ""  # the content as sanitised HTML (links absolute, nothing executable); may be empty


@dataclass(frozen=True)
class Parsed:
    """What reading one source gave: its title, its entries, and what was wrong but recovered."""

    title: str
    entries: list[Entry]
    kind: str = "feed"  # rss | atom | json | page | documents
    warning: str | None = None


@dataclass(frozen=True)
class Item:
    """A stored item, as grouping and rendering see it."""

    id: int
    source_id: int
    source_name: str
    uid: str
    title: str
    body: str
    summary: str
    link: str | None
    label: str | None
    published_at: datetime | None
    gathered_at: datetime
    forced_section: str | None = None


def identify(guid: str | None, link: str | None, *content: str | None) -> str:
    """Return an item's stable uid: its guid, else its link, else a hash of its content.

    The hash is of the normalised ``content`` parts, so whitespace or Unicode form
    changes between runs do not make an old item look new.
    """
    if guid and guid.strip():
        return guid.strip()
    if link and link.strip():
        return link.strip()
    digest = hashlib.sha256("\x1f".join(normalise(c or "") for c in content).encode("utf-8"))
    return "sha256:" + digest.hexdigest()[:32]


def fingerprint(title: str, published: datetime | None, body: str) -> tuple[str, ...]:
    """Return what identifies an entry that has neither guid nor link.

    A title with its date survives edits to the body; without a date the body must
    take part, or every undated "Daily update" would be one item.
    """
    if title and published is not None:
        return (title, published.isoformat())
    return (title, body)


_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_SPLIT_ONLY = re.compile("[\x85\u1680\u2028\u2029]")  # spaces to str.split, kept inside lines here


def normalise(text: str) -> str:
    """Return ``text`` in NFC with control characters dropped and runs of spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if _SPLIT_ONLY.search(text):
        lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    else:  # the same result, twice as fast: str.split knows every other character of _SPACE but one
        lines = [" ".join(line.split()) for line in text.replace("\u200b", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
              "blockquote", "tr", "table", "section", "article", "pre", "hr"}
    SKIP = {"script", "style", "head", "template", "noscript", "iframe", "object", "svg"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data.replace("\n", " "))


def html_to_text(markup: str) -> str:
    """Return the readable text of an HTML fragment: paragraphs kept, tags and scripts gone."""
    if "<" not in markup and "&" not in markup:
        return normalise(markup)
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return normalise("".join(parser.parts))


_SENTENCE_END = re.compile(r"(?<=[.!?…。])[\"'»”’)]?(?=\s)")


def summarise(text: str, limit: int = 300) -> str:
    """Return the first sentences of ``text`` up to ``limit`` characters, never cut mid-word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    summary = ""
    for match in _SENTENCE_END.finditer(text):
        if match.end() > limit:
            break
        summary = text[: match.end()]
    if len(summary) >= limit // 3:
        return summary
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 3 else text[:limit]
    return cut.rstrip(" ,;:—–-") + "…"
