"""Briefing documents: read a file an editor dropped in a folder and split it into entries.

Two shapes are recognised. A *briefing* is a run of paragraphs most of which open
with an inline heading ("Russia. Putin may have …"); each paragraph becomes an
entry, the heading kept as its label. An *article* (headline line, standfirst,
body) becomes one entry. Site boilerplate at the end is dropped either way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from newsletter.error import DocumentError
from newsletter.item import Entry, html_to_text, normalise, summarise

Reader = Callable[[str], list[str]]

# One-line boilerplate that news sites append, in the languages our sources use.
BOILERPLATE = re.compile(
    r"^(?:"
    r"комментариев пока нет|нет комментариев|комментарии|поделиться|читать (?:далее|также)"
    r"|подпишитесь.*|все права защищены.*"
    r"|no comments yet|be the first to comment.*|\d+ comments?|comments?|leave a (?:comment|reply)"
    r"|share(?: this(?: article| story)?)?(?: on .*)?|read more.*|continue reading.*|related articles?"
    r"|subscribe to .*|this (?:site|website) uses cookies.*|we use cookies.*|accept (?:all )?cookies"
    r"|advertisement|реклама|пікірлер жоқ|пікір жоқ"
    r"|(?:©|\(c\)|copyright)\s.*|all rights reserved.*"
    r")[.!]?$",
    re.IGNORECASE,
)

# "Russia. Putin …", "Central Asia. …", "Россия. …": up to four capitalised words, a full stop.
HEADING = re.compile(
    r"^(?P<label>[^\W\d_][\w’'&/-]*(?:\s[\w’'&/-]+){0,3})\.\s+(?P<rest>[\"“«‘(\[]?[^\W_].*)$",
    re.DOTALL,
)
# Words that end in a full stop without being a heading: "Mr. Smith went to Astana."
ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr prof sir st mt gen col maj capt lt sgt adm gov sen rep pres rev fr hon jr sr"
    " no nos vol fig art ch sec inc ltd co corp bros dept est approx vs etc".split()
)
_MARKDOWN_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])"), r"\2"),
    (re.compile(r"`([^`]+)`"), r"\1"),
]


def read_text(path: Path) -> list[str]:
    """Return the paragraphs of a plain-text document."""
    return paragraphs(decode(path.read_bytes()))


def read_markdown(path: Path) -> list[str]:
    """Return the paragraphs of a Markdown document, markup removed."""
    out = []
    for block in paragraphs(decode(path.read_bytes())):
        block = re.sub(r"^\s{0,3}#{1,6}\s+", "", block)
        block = re.sub(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+", "", block)
        block = re.sub(r"^\s{0,3}>\s?", "", block)
        for pattern, replacement in _MARKDOWN_INLINE:
            block = pattern.sub(replacement, block)
        if block.strip() and not re.fullmatch(r"[-*_\s]{3,}", block):
            out.append(block.strip())
    return out


def read_html(path: Path) -> list[str]:
    """Return the paragraphs of an HTML document."""
    return paragraphs(html_to_text(decode(path.read_bytes())))


READERS: dict[str, Callable[[Path], list[str]]] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
}


def decode(data: bytes) -> str:
    """Return ``data`` as text: UTF-8 (with or without BOM), else Windows-1251, else Latin-1."""
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def paragraphs(text: str) -> list[str]:
    """Split text into paragraphs: blank-line separated if it has blank lines, else one per line."""
    text = normalise(text.replace("\r\n", "\n").replace("\r", "\n"))
    if "\n\n" in text:
        blocks = [" ".join(b.split("\n")) for b in text.split("\n\n")]
    else:
        blocks = text.split("\n")
    return [b.strip() for b in blocks if b.strip()]


def strip_boilerplate(blocks: list[str]) -> list[str]:
    """Drop site boilerplate lines, and text glued to the end of the last paragraph."""
    kept = [b for b in blocks if not BOILERPLATE.match(b.strip())]
    if kept:
        # Copy-paste often glues the comment counter to the last line: "…in 2024.Комментариев пока нет"
        last = re.sub(r"(?<=[.!?…»”])\s*(?:Комментариев пока нет|No comments yet)\.?$", "", kept[-1],
                      flags=re.IGNORECASE)
        kept[-1] = last.strip()
    return [b for b in kept if b]


def split_heading(paragraph: str) -> tuple[str | None, str]:
    """Return ``(label, rest)`` for a paragraph that opens with an inline heading."""
    match = HEADING.match(paragraph)
    if not match:
        return None, paragraph
    label = match.group("label")
    if len(label) == 1 or label.casefold() in ABBREVIATIONS:
        return None, paragraph
    if not all(w[0].isupper() or not w[0].isalpha() for w in label.split()):
        return None, paragraph
    return label, match.group("rest")


def entries(path: Path, *, relative_to: Path) -> list[Entry]:
    """Return the entries of one document, in document order."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DocumentError(f"{path.name}: unsupported document type {path.suffix!r}")
    try:
        blocks = strip_boilerplate(reader(path))
    except OSError as e:
        raise DocumentError(f"{path}: cannot read: {e.strerror or e}") from e
    if not blocks:
        return []
    name = path.relative_to(relative_to).as_posix()
    published = _date_of(path)
    headed = [split_heading(b) for b in blocks]
    count = sum(1 for label, _ in headed if label)
    if count >= 2 and count * 3 >= len(blocks):
        if headed[0][0] is None and _is_title(headed[0][1]):
            headed = headed[1:]  # "# Weekly briefing" names the document; it is not an entry
        return list(_briefing(name, headed, published))
    return [_article(name, blocks, published)]


def _briefing(name: str, headed: list[tuple[str | None, str]], published: datetime | None) -> Iterator[Entry]:
    seen: set[str] = set()
    for label, text in headed:
        key = _slug(label) if label else "p-" + hashlib.sha256(text.encode()).hexdigest()[:12]
        while key in seen:
            key += "-2"
        seen.add(key)
        title = label or summarise(text, 90)
        yield Entry(uid=f"{name}#{key}", title=title, label=label, body=text, summary=text,
                    published_at=published)


def _article(name: str, blocks: list[str], published: datetime | None) -> Entry:
    title = blocks[0]
    rest = blocks[1:]
    if len(title) > 200:  # no headline line: the first sentence stands in
        title, rest = summarise(blocks[0], 120), blocks
    body = "\n\n".join(rest)
    standfirst = rest[0] if rest else ""
    return Entry(uid=name, title=title, body=body, summary=summarise(standfirst or body),
                 published_at=published)


def _is_title(block: str) -> bool:
    """Return whether ``block`` reads as a title line rather than a paragraph."""
    return len(block) <= 120 and "\n" not in block and not re.search(r"[.!?…:;]$", block)


def _slug(label: str) -> str:
    return re.sub(r"[^\w]+", "-", label.casefold()).strip("-") or "x"


def _date_of(path: Path) -> datetime | None:
    """Return the date an editor put at the start of the file name (2026-11-20-…), if any."""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", path.name)
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC)
        except ValueError:
            pass
    return None


def scan(folder: Path) -> Iterator[Path]:
    """Yield the documents in ``folder`` and its subfolders, hidden files skipped, sorted."""
    if not folder.is_dir():
        raise DocumentError(f"folder not found: {folder}")
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in READERS and not any(
            part.startswith(".") for part in path.relative_to(folder).parts
        ):
            yield path
