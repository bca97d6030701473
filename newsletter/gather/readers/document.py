"""Briefing documents: read a file an editor dropped in a folder and split it into entries.

Two shapes are recognised. A *briefing* is a run of paragraphs most of which open
with an inline heading ("Russia. Putin may have …"); each paragraph becomes an
entry, the heading kept as its label. An *article* (headline line, standfirst,
body) becomes one entry: its whole text is kept as the body (the archive page shows
it), and its summary is whole sentences from the top, at least ``SUMMARY_WORDS``.
The first line is its headline only when it reads as one (short, one line, no full
stop at its end); a file that opens with a sentence has no headline, and its title
is made from its opening words, so it is never mistaken for a real headline (such as
the one an issue's subject may carry). Site boilerplate at the end is dropped either way.
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
OPENING = "opening"  # uid fragment of a briefing's un-headed opening paragraph
SUMMARY_WORDS = 40  # an article's summary: whole sentences from its top, at least this many words
HEADLINE_LIMIT = 200  # a longer first line is a paragraph, not a headline

# Whole lines that news sites add around an article, in the languages our sources use
# (English, Russian, Kazakh): comment counters, share prompts, cookie notices, "read more",
# subscription prompts, tags, photo credits, copyright lines. Matched case-insensitively.
_MORE = r"(?:\s*[:»›>…→|-].*)?"  # "Read more", "Read more: <headline>", "Подробнее »"
_BOILERPLATE_LINES = [
    # English
    r"no comments(?: yet)?", r"be the first to comment.*", r"\d+ comments?", r"comments?(?: \(\d+\))?",
    r"leave a (?:comment|reply)", r"add (?:a )?comment", r"loading comments.*", r"show comments",
    r"share(?: this)?(?: article| story| post)?(?: on \w+| via \w+)?",
    r"(?:tweet|print|email)(?: this)?(?: article| story)?", r"follow us on .*", r"click here to .*",
    r"read (?:more|also|next|the full story)" + _MORE, r"continue reading" + _MORE, r"related (?:articles?|stories|news)" + _MORE,
    r"(?:more|recommended) (?:stories|articles|news)", r"you may also like" + _MORE, r"advertisement",
    r"subscribe to .*", r"sign up (?:for|to) .*", r"(?:this|our) (?:site|website) uses cookies.*",
    r"we use cookies.*", r"accept (?:all )?cookies", r"cookie (?:policy|settings)",
    r"tags?: .*", r"(?:photo|image|picture)(?: credit)?: .{1,80}", r"source: .{1,80}",
    r"all rights reserved.*", r"(?:©|\(c\)|copyright)\s.*",
    # Russian
    r"комментариев пока нет", r"нет комментариев", r"комментари(?:и|ев)?(?: \(\d+\))?", r"\d+ комментари\w*",
    r"оставить комментарий", r"добавить комментарий", r"поделиться(?: в \w+)?", r"читать (?:далее|также|еще|ещё)" + _MORE,
    r"читайте (?:также|еще|ещё)" + _MORE, r"подробнее" + _MORE, r"смотрите также" + _MORE,
    r"похожие (?:новости|статьи|материалы)" + _MORE,
    r"подпишитесь.*", r"все права защищены.*", r"(?:мы используем|сайт использует) (?:файлы )?cookie.*",
    r"реклама", r"теги: .*", r"фото: .{1,80}", r"источник: .{1,80}", r"нашли ошибку.*",
    r"если вы нашли ошибку.*",
    # Kazakh
    r"пікірлер(?: \(\d+\))?", r"пікір(?:лер)? жоқ", r"пікір қалдыру", r"пікір жазу", r"бөлісу",
    r"толығырақ" + _MORE, r"тағы оқыңыз" + _MORE, r"ұқсас жаңалықтар" + _MORE, r"жазылыңыз.*", r"жарнама",
    r"барлық құқықтар қорғалған.*", r"сайт cookie.*", r"тегтер: .*", r"сурет: .{1,80}", r"фото: .{1,80}",
    # Share buttons left as a row of network names
    (r"(?:share:?\s*|поделиться:?\s*|бөлісу:?\s*)?"
     r"(?:(?:facebook|twitter|x|telegram|whatsapp|vk|вконтакте|одноклассники|ok|linkedin|email|e-mail)[\s,|·•]*){2,}"),
]
# A line of at most 200 characters that is nothing but one of the phrases above.
BOILERPLATE = re.compile(r"^(?=.{1,200}$)(?:" + "|".join(_BOILERPLATE_LINES) + r")[.!:]?$", re.IGNORECASE)
# Lines after which a page only lists other articles or comments: everything after them goes.
_TAIL = re.compile(
    r"^(?:related (?:articles?|stories|news)|more (?:stories|articles|news)|you may also like|comments?"
    r"|читайте также|похожие (?:новости|статьи|материалы)|комментарии|тағы оқыңыз|ұқсас жаңалықтар|пікірлер)"
    r"(?: \(\d+\))?:?$",
    re.IGNORECASE,
)
# The same phrases glued to the end of a paragraph by copy-paste: "…in 2024.Комментариев пока нет"
_GLUED = re.compile(
    r"(?<=[.!?…»”])\s*(?:комментариев пока нет|no comments yet|пікірлер жоқ|поделиться|share|бөлісу)\.?$",
    re.IGNORECASE,
)
# A line that is only a date and time, as sites print above or below an article.
_DATELINE = re.compile(
    r"^(?:\w+,\s*)?(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+\w+\s+\d{4}(?:\s*(?:г\.|ж\.))?"
    r"|\w+\s+\d{1,2},\s+\d{4})(?:[,\s|–-]+\d{1,2}:\d{2}(?:\s*[ap]m)?)?$",
    re.IGNORECASE,
)
# Page furniture in HTML documents: none of it is the article.
_HTML_FURNITURE = re.compile(r"<(nav|footer|aside|form|button|noscript)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)

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


def read_text(text: str) -> list[str]:
    """Return the paragraphs of a plain-text document."""
    return paragraphs(text)


def read_markdown(text: str) -> list[str]:
    """Return the paragraphs of a Markdown document, markup removed."""
    out = []
    for block in paragraphs(text):
        block = re.sub(r"^\s{0,3}#{1,6}\s+", "", block)
        block = re.sub(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+", "", block)
        block = re.sub(r"^\s{0,3}>\s?", "", block)
        for pattern, replacement in _MARKDOWN_INLINE:
            block = pattern.sub(replacement, block)
        if block.strip() and not re.fullmatch(r"[-*_\s]{3,}", block):
            out.append(block.strip())
    return out


def read_html(text: str) -> list[str]:
    """Return the paragraphs of an HTML document, page furniture (nav, footer, forms) left out.

    When the page has a top heading (``<h1>``), what comes before it is the site's masthead.
    """
    markup = _HTML_FURNITURE.sub(" ", text)
    top = re.search(r"<h1[\s>]", markup, re.IGNORECASE)
    return paragraphs(html_to_text(markup[top.start():] if top else markup))


READERS: dict[str, Reader] = {
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
    """Drop site boilerplate: furniture lines, date lines, lists of other articles, glued counters."""
    for i, block in enumerate(blocks):
        if i >= 2 and _TAIL.match(block.strip()):
            blocks = blocks[:i]  # "Related articles", "Комментарии (3)": the article ended above
            break
    kept = [b for b in blocks if not BOILERPLATE.match(b.strip()) and not _DATELINE.match(b.strip())]
    if kept:
        kept[-1] = _GLUED.sub("", kept[-1]).strip()
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


def entries(path: Path, *, relative_to: Path, max_bytes: int | None = None) -> list[Entry]:
    """Return the entries of one document, in document order; refuse one over ``max_bytes``."""
    if path.suffix.lower() not in READERS:
        raise DocumentError(f"{path.name}: unsupported document type {path.suffix!r}")
    try:
        with path.open("rb") as stream:
            data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    except OSError as e:
        raise DocumentError(f"{path}: cannot read: {e.strerror or e}") from e
    if max_bytes is not None and len(data) > max_bytes:  # it grew after the folder was scanned
        raise DocumentError(f"{path.name}: larger than {max_bytes:,} bytes")
    return read(decode(data), path.relative_to(relative_to).as_posix())


def read(text: str, name: str) -> list[Entry]:
    """Return the entries of the document ``name`` (a path in its folder) whose text is ``text``."""
    reader = READERS.get(Path(name).suffix.lower())
    if reader is None:
        raise DocumentError(f"{name}: unsupported document type {Path(name).suffix!r}")
    blocks = strip_boilerplate(reader(text))
    if not blocks:
        return []
    published = _date_of(Path(name))
    headed = [split_heading(b) for b in blocks]
    count = sum(1 for label, _ in headed if label)
    if count >= 2 and count * 3 >= len(blocks):
        if headed[0][0] is None and _is_title(headed[0][1]):
            headed = headed[1:]  # "# Weekly briefing" names the document; it is not an entry
        return list(_briefing(name, headed, published))
    return [_article(name, blocks, published)]


def is_opening(uid: str) -> bool:
    """Return whether ``uid`` names the un-headed opening paragraph of a briefing (its summary)."""
    return uid.endswith("#" + OPENING)


def _briefing(name: str, headed: list[tuple[str | None, str]], published: datetime | None) -> Iterator[Entry]:
    seen: set[str] = set()
    for index, (label, text) in enumerate(headed):
        # The opening keeps its uid when an editor rewrites it; other un-headed paragraphs are
        # told apart by their text.
        key = (_slug(label) if label else OPENING if index == 0
               else "p-" + hashlib.sha256(text.encode()).hexdigest()[:12])
        while key in seen:
            key += "-2"
        seen.add(key)
        title = label or summarise(text, 90)
        yield Entry(uid=f"{name}#{key}", title=title, label=label, body=text, summary=text,
                    published_at=published)


def _article(name: str, blocks: list[str], published: datetime | None) -> Entry:
    title, rest = blocks[0], blocks[1:]
    if not rest or not is_headline(title):  # no headline line: the opening words stand in
        title, rest = summarise(blocks[0], 120), blocks
    body = "\n\n".join(rest)
    return Entry(uid=name, title=title, body=body, summary=lead_sentences(body), published_at=published)


def is_headline(line: str) -> bool:
    """Return whether the first line of an article reads as its headline rather than its first sentence.

    A headline is one short line that does not end as a sentence ends (a question or an
    exclamation may) and has no sentence break inside.
    """
    line = line.strip()
    return (0 < len(line) <= HEADLINE_LIMIT and "\n" not in line and not re.search(r"[.…:;,]$", line)
            and len(sentences(line)) == 1)


# A sentence's end: its stop, any closing quotes or brackets, then a space before the next one's start.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”’)\]]*(?=\s+[\"'«“‘(\[]?(\w))")


def sentences(text: str) -> list[str]:
    """Return the sentences of ``text``, not broken after an abbreviation ("Mr. Smith", "U.S.") or an initial.

    A sentence ends at a stop followed by a space and a capital letter or a digit.
    """
    found: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        following = match.group(1)
        before = text[start:match.start()].rsplit(None, 1)
        word = before[-1].casefold() if before else ""
        if not (following.isupper() or following.isdigit()) or len(word) == 1 or word in ABBREVIATIONS \
                or "." in word:
            continue
        found.append(text[start:match.end()].strip())
        start = match.end()
    found.append(text[start:].strip())
    return [s for s in found if s]


def lead_sentences(text: str, words: int = SUMMARY_WORDS) -> str:
    """Return whole sentences from the start of ``text`` until they hold at least ``words`` words."""
    taken: list[str] = []
    count = 0
    for paragraph in text.split("\n\n"):
        for sentence in sentences(" ".join(paragraph.split())):
            taken.append(sentence)
            count += len(sentence.split())
            if count >= words:
                return " ".join(taken)
    return " ".join(taken)


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
            year, month, day = map(int, match.groups())
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            pass
    return None


def scan(folder: Path, *, max_bytes: int) -> tuple[list[Path], list[str]]:
    """Return the documents in ``folder`` and its subfolders, sorted, and why any others were skipped.

    Hidden files are left out silently. A link that leads out of the folder, and a file
    over ``max_bytes``, are skipped with a warning: the folder's owner decides what is in
    it, not whoever can place a link there.
    """
    if not folder.is_dir():
        raise DocumentError(f"folder not found: {folder}")
    home = folder.resolve()
    found: list[Path] = []
    skipped: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.suffix.lower() not in READERS or any(part.startswith(".") for part in relative.parts):
            continue
        try:
            inside = path.resolve(strict=True).is_relative_to(home)
            if inside and not path.is_file():
                continue
            size = path.stat().st_size
        except (OSError, RuntimeError):  # a broken link or a loop of links
            skipped.append(f"{relative.as_posix()}: skipped: a link that leads nowhere")
            continue
        if not inside:
            skipped.append(f"{relative.as_posix()}: skipped: a link to outside the folder")
        elif size > max_bytes:
            skipped.append(f"{relative.as_posix()}: skipped: {size:,} bytes (limit {max_bytes:,})")
        else:
            found.append(path)
    return found, skipped
