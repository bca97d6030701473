"""Items: what a source yields, their identity, and their text made clean and short.

Whatever a source sent and whatever a parser made of it (a recovering parser, an entity,
a ten-megabyte line), an item leaves reading within fixed limits, applied by ``cap``:

* a title, label or author, and a source's title: ``TITLE_LIMIT`` (1,000) characters;
* an item's text and its summary: ``TEXT_LIMIT`` (100,000) characters, about 15,000 words;
* its sanitised HTML: ``HTML_LIMIT`` (300,000) characters; longer HTML is dropped and the
  text kept;
* its link: ``LINK_LIMIT`` (8,000) characters; a longer link is dropped;
* its uid: ``UID_LIMIT`` (1,000) characters, the store's column; a longer guid or link
  is replaced by its hash (``identify``).

Text over a limit is cut at a word and ends with "…". A feed of more than
``ENTRY_LIMIT`` (10,000) items is refused by its reader before they are built.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
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


TITLE_LIMIT = 1_000
TEXT_LIMIT = 100_000
HTML_LIMIT = 300_000
LINK_LIMIT = 8_000
UID_LIMIT = 1_000
ENTRY_LIMIT = 10_000


def too_many(entries: int) -> str | None:
    """Return why a source offering ``entries`` items is refused (more than ``ENTRY_LIMIT``), or None."""
    return f"the feed has {entries:,} items (limit {ENTRY_LIMIT:,})" if entries > ENTRY_LIMIT else None


def cap(parsed: Parsed) -> Parsed:
    """Return ``parsed`` with its title and every entry within the limits, saying so in its warning."""
    entries = [_cap_entry(e) for e in parsed.entries]
    cut = sum(1 for before, after in zip(parsed.entries, entries, strict=True) if before is not after)
    title = clip(parsed.title, TITLE_LIMIT)
    if not cut and title is parsed.title:
        return parsed
    notes = [parsed.warning] if parsed.warning else []
    if cut:
        notes.append(f"{cut} {'entry' if cut == 1 else 'entries'} cut to the size limits (title {TITLE_LIMIT:,}, "
                     f"text {TEXT_LIMIT:,}, HTML {HTML_LIMIT:,} characters)")
    if title is not parsed.title:
        notes.append(f"the source's title cut to {TITLE_LIMIT:,} characters")
    return replace(parsed, title=title, entries=entries, warning="; ".join(notes))


def _cap_entry(entry: Entry) -> Entry:
    changes: dict[str, str | None] = {}
    for name, limit in (("title", TITLE_LIMIT), ("label", TITLE_LIMIT), ("author", TITLE_LIMIT),
                        ("body", TEXT_LIMIT), ("summary", TEXT_LIMIT)):
        value = getattr(entry, name)
        if value is not None and len(value) > limit:
            changes[name] = clip(value, limit)
    if len(entry.html) > HTML_LIMIT:
        changes["html"] = ""
    if entry.link is not None and len(entry.link) > LINK_LIMIT:
        changes["link"] = None
    if len(entry.uid) > UID_LIMIT:
        changes["uid"] = identify(entry.uid, None)
    return replace(entry, **changes) if changes else entry  # type: ignore[arg-type]


def clip(text: str, limit: int) -> str:
    """Return ``text`` if it fits in ``limit`` characters, else its start cut at a word and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit * 9 // 10:
        cut = cut[:space]
    return cut[:limit - 1].rstrip() + "…"


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
    source_key: str = ""  # the configured source's key: where it stands in the config decides ties


def full_text(item: Item) -> list[str]:
    """Return the paragraphs of ``item``'s whole text when the issue is the only place to read it, else [].

    That is an item with no link (a single-article document) whose summary leaves part of its
    text out: the archive page shows the paragraphs, and the email links there.
    """
    if item.link:
        return []
    text = body_text(item)
    if len(text.split()) <= len(item.summary.split()):
        return []
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def identify(guid: str | None, link: str | None, *content: str | None) -> str:
    """Return an item's stable uid: its guid, else its link, else a hash of its content.

    The hash is of the normalised ``content`` parts, so whitespace or Unicode form
    changes between runs do not make an old item look new. A guid or link longer than
    ``UID_LIMIT`` is replaced by its own hash, so it still fits the store and still matches.
    """
    for given in (guid, link):
        if given and given.strip():
            given = given.strip()
            if len(given) <= UID_LIMIT:
                return given
            return "sha256:" + hashlib.sha256(given.encode("utf-8", "surrogatepass")).hexdigest()[:32]
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


def body_text(item: Item) -> str:
    """Return the plain text of an item's body: its markup's text, or the body as it is when it has none."""
    return html_to_text(item.body) if "<" in item.body else item.body


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
