"""The subscriber list as CSV: import (batched, every row accounted for) and export.

An import reads rows in chunks; per chunk it looks up every known address with one
query and writes new readers, changes and history rows with one statement each, so
100,000 rows take seconds. A bad row is reported with its line number and reason and
never stops the others.

A cell a spreadsheet would take for a formula (one starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is exported with a quote before it, as OWASP advises
against CSV injection; the import removes exactly that quote, so our own export
imports unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import sqlalchemy as sa

from newsletter.error import SubscriberError
from newsletter.progress import Progress, Silent
from newsletter.store import Store, now, to_db
from newsletter.subscribers import (
    CSV_FIELDS,
    STAMPS,
    SUPPRESSED,
    check_status,
    clean_name,
    event_row,
    insert_many,
    iterate,
    normalise_email,
    parse_sections,
    record_events,
    status_values,
    update_many,
)

CHUNK = 2000
UNSTAMPED = dict.fromkeys(STAMPS.values())  # every row of one INSERT names the same columns
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


@dataclass
class ImportReport:
    """What an import did, with the line and reason for every rejected row."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"added": self.added, "updated": self.updated, "skipped": self.skipped,
                "rejected": [{"line": line, "reason": reason} for line, reason in self.rejected]}


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    name: str
    sections: str | None  # None: the file has no sections column, keep what is stored
    status: str


def import_csv(store: Store, stream: TextIO, *, origin: str = "import", progress: Progress | None = None,
               moment: datetime | None = None) -> ImportReport:
    """Import ``email,name,sections,status`` rows; a bad row is reported, never fatal.

    New addresses are added (status defaults to active: an imported list is one the
    editor already holds consent for). Known addresses get their name, sections and
    status updated, except that an unsubscribed, bounced or complained address is never
    reactivated by an import. An address twice in the file is rejected the second time.
    """
    report = ImportReport()
    lines = _lines(stream)
    reader = csv.DictReader(stream)
    progress = progress or Silent()
    moment = to_db(moment) or now()
    seen: dict[str, int] = {}
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        if "email" not in header:
            raise SubscriberError("CSV has no 'email' column (expected header: email,name,sections,status)")
        reader.fieldnames = header
        progress.start(f"import ({CHUNK} rows a step)", -(-lines // CHUNK))
        with store.begin() as conn:
            for chunk in _chunks(reader, report, seen, "sections" in header):
                _write(conn, store, chunk, report, origin, moment)
                progress.advance()
    except csv.Error as e:  # e.g. a field over the csv module's size limit: nothing is imported
        raise SubscriberError(f"line {reader.line_num + 1}: {e}; nothing was imported") from None
    return report


def neutralise(cell: str) -> str:
    """Return ``cell`` so that a spreadsheet shows it as text: a quote before a leading formula character.

    A cell that already starts with quotes before one gets one more, so ``restore`` can
    undo exactly what this did.
    """
    return "'" + cell if cell.lstrip("'").startswith(FORMULA) else cell


def restore(cell: str) -> str:
    """Undo ``neutralise``: drop the quote it put before a formula character."""
    return cell[1:] if cell.startswith("'") and cell[1:].lstrip("'").startswith(FORMULA) else cell


def _lines(stream: TextIO) -> int:
    """Return how many lines are left in ``stream`` (for progress; 0 if it cannot be re-read)."""
    try:
        if not stream.seekable():
            return 0
        start = stream.tell()
        lines = sum(1 for _ in stream)
        stream.seek(start)
    except (OSError, ValueError):
        return 0
    return lines


def _chunks(reader: csv.DictReader[str], report: ImportReport, seen: dict[str, int],
            has_sections: bool) -> Iterator[list[_Row]]:
    header = list(reader.fieldnames or [])
    chunk: list[_Row] = []
    for row in reader:
        line = reader.line_num
        try:
            if None in row:
                extra = len(row[None])  # type: ignore[index]
                raise SubscriberError(f"{len(header) + extra} fields where the header has {len(header)} "
                                      "(quote values that contain commas)")
            address = normalise_email(restore(row.get("email") or ""))
            status = check_status(restore(row.get("status") or "active"))
            name = clean_name(restore(row.get("name") or ""))
        except SubscriberError as e:
            report.rejected.append((line, str(e)))
            continue
        key = address.casefold()
        if key in seen:
            report.rejected.append((line, f"{address} is already on line {seen[key]} of this file"))
            continue
        seen[key] = line
        sections = ",".join(parse_sections(restore(row.get("sections") or ""))) if has_sections else None
        chunk.append(_Row(line, address, name, sections, status))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write(conn: sa.Connection, store: Store, chunk: list[_Row], report: ImportReport, origin: str,
           moment: datetime) -> None:
    s = store.t.subscribers
    keys = [r.email.casefold() for r in chunk]
    existing = {row["email_key"]: row for row in conn.execute(
        sa.select(s.c.id, s.c.email_key, s.c.name, s.c.sections, s.c.status).where(s.c.email_key.in_(keys))
    ).mappings()}
    new: list[dict[str, Any]] = []
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # one executemany per set of changed columns
    history: list[dict[str, Any]] = []
    for r in chunk:
        old = existing.get(r.email.casefold())
        if old is None:
            new.append({"email": r.email, "email_key": r.email.casefold(), "name": r.name,
                        "sections": r.sections or "", "origin": origin, "created_at": moment,
                        **UNSTAMPED, **status_values(r.status, moment)})
            continue
        values: dict[str, Any] = {}
        if r.name and r.name != old["name"]:
            values["name"] = r.name
        if r.sections is not None and r.sections != old["sections"]:
            values["sections"] = r.sections
        if old["status"] not in SUPPRESSED and r.status != old["status"]:
            values.update(status_values(r.status, moment))
            history.append(event_row(old["id"], r.status, r.status, origin, moment, f"line {r.line}"))
        if not values:
            report.skipped += 1
            continue
        values["updated_at"] = moment
        changes.setdefault(tuple(sorted(values)), []).append({"id": old["id"], **values})
        report.updated += 1
    if new:
        ids = insert_many(conn, store, new)
        report.added += len(new)
        history += [event_row(ids[n["email_key"]], "imported", n["status"], origin, moment) for n in new]
    for columns, rows in changes.items():
        update_many(conn, store, columns, rows)
    if history:
        record_events(conn, store, history)


def export_csv(store: Store, stream: TextIO, *, status: str | None = None, search: str | None = None) -> int:
    """Write subscribers as CSV with the header ``email,name,sections,status``; return the count."""
    # CRLF ends rows (RFC 4180); it also makes the csv module quote a field holding a lone CR.
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    written = 0
    for s in iterate(store, status=status, search=search, batch=5000):
        writer.writerow([neutralise(cell) for cell in (s.email, s.name, ",".join(s.sections), s.status)])
        written += 1
    return written


def export_text(store: Store, *, status: str | None = None, search: str | None = None) -> str:
    """Return the CSV export as a string."""
    buffer = io.StringIO()
    export_csv(store, buffer, status=status, search=search)
    return buffer.getvalue()
