"""Reading a subscriber CSV, whoever wrote it: our export, a spreadsheet, Mailchimp, listmonk, Buttondown, Substack.

The first line tells the delimiter (comma, semicolon or tab, whichever splits it into
the most fields; an Excel ``sep=;`` line says it outright). It is a header when one of
its cells names the address column, in any case and spelling this module knows
(``COLUMNS``: ours, and those of the exports people bring; a first and a last name are
joined); otherwise, when its first cell holds an address, the file has no header and
its columns are ours in order: email, name, sections, status, language, timezone.

Each row becomes a ``Row`` or a rejection: its line and one reason. Sections, language
and time zone are checked against what the newsletter offers (``choices``). The status
words of other tools are read as ours (``STATUS_WORDS``); a row without one has no
status, which the import decides about. Nothing here touches the store.

A cell a spreadsheet would take for a formula (one starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is exported with a quote before it, as OWASP advises
against CSV injection; reading removes exactly that quote, so our own export reads back
unchanged.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from newsletter.error import SubscriberError
from newsletter.subscribers.choices import Choices
from newsletter.subscribers.rules import check_status, clean_name, normalise_email

FIRST_LINE_LIMIT = 1 << 20  # characters: the first line is read whole to find the delimiter
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula
OURS = ("email", "name", "sections", "status", "language", "timezone")  # also the columns of a file without header
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}

# A header cell, folded (any case; spaces, "_" and "-" alike) -> the field it holds.
COLUMNS = {
    **{name: name for name in OURS},
    "e mail": "email", "email address": "email", "e mail address": "email", "mail": "email",  # Mailchimp
    "full name": "name", "display name": "name",
    "first name": "first_name", "firstname": "first_name", "fname": "first_name", "given name": "first_name",
    "last name": "last_name", "lastname": "last_name", "lname": "last_name", "surname": "last_name",
    "family name": "last_name",
    "section": "sections", "time zone": "timezone", "tz": "timezone", "lang": "language",
    "subscriber type": "status",  # Buttondown: regular, unactivated, unsubscribed, ...
    "email disabled": "disabled",  # Substack: true when the reader gets no email
    "unsub time": "unsubscribed_at", "clean time": "cleaned_at",  # Mailchimp's unsubscribed and cleaned files
}
# Status words of other tools (folded) -> ours.
STATUS_WORDS = {
    "subscribed": "active", "enabled": "active", "confirmed": "active", "regular": "active", "premium": "active",
    "paid": "active", "free": "active", "gifted": "active", "trialed": "active", "churning": "active",
    "unpaid": "active", "comp": "active",
    "unconfirmed": "pending", "unactivated": "pending",
    "removed": "unsubscribed", "disabled": "unsubscribed", "blocklisted": "unsubscribed", "blacklisted": "unsubscribed",
    "cleaned": "bounced", "undeliverable": "bounced",
}
TRUE = {"true", "yes", "y", "1", "t"}


class Unreadable(SubscriberError):
    """The file cannot be read past a line (a field over the csv module's limit): keep nothing of it."""


@dataclass(frozen=True)
class Row:
    """One reader as a row gives them; None: the file does not say (keep what is stored)."""

    line: int
    email: str
    name: str
    sections: str | None
    status: str | None
    language: str | None
    timezone: str | None


@dataclass(frozen=True)
class Layout:
    """How a file is laid out: its delimiter, the field of each column, whether line 1 is a header."""

    delimiter: str
    fields: tuple[str | None, ...]
    header: bool


def neutralise(cell: str) -> str:
    """Return ``cell`` so that a spreadsheet shows it as text: a quote before a leading formula character.

    A cell that already starts with quotes before one gets one more, so ``restore`` can
    undo exactly what this did.
    """
    return "'" + cell if cell.lstrip("'").startswith(FORMULA) else cell


def restore(cell: str) -> str:
    """Undo ``neutralise``: drop the quote it put before a formula character."""
    return cell[1:] if cell.startswith("'") and cell[1:].lstrip("'").startswith(FORMULA) else cell


def fold_header(cell: str) -> str:
    """Return a header cell folded for ``COLUMNS``: any case, ``_`` and ``-`` read as spaces."""
    return " ".join(re.sub(r"[_\-]", " ", cell.replace("\ufeff", "").casefold()).split())


def read(stream: TextIO, choices: Choices) -> tuple[Layout, Iterator[Row | tuple[int, str]]]:
    """Return the file's layout and its rows, each a ``Row`` or ``(line, reason)``; raise SubscriberError if unreadable.

    An address twice in the file is rejected the second time.
    """
    first = stream.readline(FIRST_LINE_LIMIT)
    skipped = 0
    if len(first) >= FIRST_LINE_LIMIT and not first.endswith("\n"):
        raise SubscriberError(f"line 1 is longer than {FIRST_LINE_LIMIT:,} characters: not a CSV file of readers")
    explicit = re.fullmatch(r"\ufeff?sep=(.)\r?\n?", first)
    if explicit:  # Excel's hint line: the delimiter, then the real first line
        delimiter, skipped, first = explicit.group(1), 1, stream.readline(FIRST_LINE_LIMIT)
    else:
        delimiter = sniff(first)
    layout = lay_out(first, delimiter)
    lines = itertools.chain([first], stream)
    reader = csv.reader(lines, delimiter=delimiter)
    if layout.header:
        next(reader, None)
    return layout, _rows(reader, layout, choices, skipped)


def sniff(line: str) -> str:
    """Return the delimiter that splits ``line`` into the most fields (a comma when none does)."""
    best, most = ",", 1
    for delimiter in DELIMITERS:
        try:
            fields = len(next(csv.reader([line], delimiter=delimiter), []))
        except csv.Error:
            continue
        if fields > most:
            best, most = delimiter, fields
    return best


def lay_out(first: str, delimiter: str) -> Layout:
    """Return the layout the first line shows; raise SubscriberError if it has no email column and no address."""
    try:
        cells = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as e:
        raise SubscriberError(f"line 1: {e}") from None
    fields = tuple(COLUMNS.get(fold_header(c)) for c in cells)
    if "email" in fields:
        # A column named twice counts once, the first time.
        return Layout(delimiter, tuple(f if f not in fields[:i] else None for i, f in enumerate(fields)), True)
    if cells and "@" in cells[0]:
        return Layout(delimiter, OURS, False)
    raise SubscriberError("CSV has no 'email' column (expected a header such as email,name,sections,status, "
                          "or addresses in the first column)")


def _rows(reader: Iterator[list[str]], layout: Layout, choices: Choices,
          skipped: int) -> Iterator[Row | tuple[int, str]]:
    seen: dict[str, int] = {}
    width = len(layout.fields)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise Unreadable(f"line {reader.line_num + skipped}: {e}") from None  # type: ignore[attr-defined]
        line = reader.line_num + skipped  # type: ignore[attr-defined]
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > width:
            what = f"the header has {width}" if layout.header else f"a file without a header has at most {width}"
            yield line, (f"{len(cells)} fields where {what} "
                         f"(quote values that contain {DELIMITERS.get(layout.delimiter, 'delimiters')})")
            continue
        row = {field: restore(cell) for field, cell in zip(layout.fields, cells, strict=False) if field}
        try:
            found = _reader(line, row, choices)
        except SubscriberError as e:
            yield line, str(e)
            continue
        key = found.email.casefold()
        if key in seen:
            yield line, f"{found.email} is already on line {seen[key]} of this file"
            continue
        seen[key] = line
        yield found


def _reader(line: int, row: dict[str, str], choices: Choices) -> Row:
    """Return the reader one row describes; raise SubscriberError naming the first thing wrong with it."""
    address = normalise_email(row.get("email", ""))
    name = row.get("name", "").strip() or " ".join(
        part for part in (row.get("first_name", "").strip(), row.get("last_name", "").strip()) if part)
    # A column the file lacks, or a row too short to reach, gives nothing: what is stored stays.
    return Row(
        line=line, email=address, name=clean_name(name),
        sections=",".join(choices.pick(row["sections"])) if "sections" in row else None,
        status=status_of(row),
        language=choices.language(row["language"]) if "language" in row else None,
        timezone=choices.timezone(row["timezone"]) if "timezone" in row else None,
    )


def status_of(row: dict[str, str]) -> str | None:
    """Return the status a row gives (ours, or another tool's word for it), or None if it gives none."""
    if row.get("unsubscribed_at", "").strip():
        return "unsubscribed"
    if row.get("cleaned_at", "").strip():
        return "bounced"
    if row.get("disabled", "").strip().casefold() in TRUE:
        return "unsubscribed"
    word = row.get("status", "").strip()
    if not word:
        return None
    return STATUS_WORDS.get(word.casefold()) or check_status(word)
