"""The subscriber list as CSV: import (batched, every row accounted for) and export.

An import reads rows in chunks (``csvrows`` reads the file, whoever wrote it); per chunk
it looks up every known address with one query and writes new readers, changes and
history rows with one statement each, so 100,000 rows take seconds. A bad row is
reported with its line number and reason and never stops the others.

A row without a status adds a new reader as ``active``: an imported list is one the
editor already holds consent for, and a ``pending`` reader gets no issue and no
confirmation mail unless someone asks them one by one. The report says how many rows
that applied to (``ImportReport.note``). A known reader keeps their status then.
The export writes the formula-safe cells ``csvrows.neutralise`` makes.
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
    event_row,
    insert_many,
    iterate,
    name_values,
    record_events,
    status_values,
    update_many,
)
from newsletter.subscribers.choices import Choices
from newsletter.subscribers.csvrows import (  # noqa: F401 - FORMULA and restore: callers use them through here
    FORMULA,
    Row,
    Unreadable,
    neutralise,
    read,
    restore,
)

CHUNK = 2000
UNSTAMPED = dict.fromkeys(STAMPS.values())  # every row of one INSERT names the same columns
DEFAULT_STATUS = "active"  # of a new reader whose row gives no status (see the module's docstring)
WHY_DEFAULT = ("an imported list is one you already have consent for; write pending in a status column "
               "to hold a row's reader until they confirm")


@dataclass
class ImportReport:
    """What an import did, with the line and reason for every rejected row."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    defaulted: int = 0  # new readers whose row gave no status, added as DEFAULT_STATUS

    @property
    def note(self) -> str:
        """Return the line that says what an empty status meant, and why; empty when no row had one."""
        if not self.defaulted:
            return ""
        rows = "1 row" if self.defaulted == 1 else f"{self.defaulted:,} rows"
        return f"{rows} had no status: imported as {DEFAULT_STATUS}, because {WHY_DEFAULT}"

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"added": self.added, "updated": self.updated, "skipped": self.skipped,
                "rejected": [{"line": line, "reason": reason} for line, reason in self.rejected],
                "no_status": self.defaulted, "note": self.note}


def import_csv(store: Store, stream: TextIO, *, choices: Choices, origin: str = "import",
               progress: Progress | None = None, moment: datetime | None = None) -> ImportReport:
    """Import reader rows (see ``csvrows``), checking sections and languages against ``choices``.

    New addresses are added (without a status: ``DEFAULT_STATUS``). Known addresses get
    their name, sections, language, time zone and status updated as the file gives
    them, except that an unsubscribed, bounced or complained address is never
    reactivated by an import. A bad row is reported, never fatal.
    """
    report = ImportReport()
    progress = progress or Silent()
    moment = to_db(moment) or now()
    try:
        lines = _lines(stream)
        _, rows = read(stream, choices)
        progress.start(f"import ({CHUNK} rows a step)", -(-lines // CHUNK))
        with store.begin() as conn:
            for chunk in _chunks(rows, report):
                _write(conn, store, chunk, report, origin, moment)
                progress.advance()
    except Unreadable as e:  # e.g. a field over the csv module's size limit: nothing is imported
        raise SubscriberError(f"{e}; nothing was imported") from None
    except UnicodeDecodeError as e:
        raise SubscriberError(f"the file is not UTF-8 text ({e.reason}); save it as "
                              "\"CSV UTF-8\" and import it again; nothing was imported") from None
    return report


def _lines(stream: TextIO) -> int:
    """Return how many lines are left in ``stream`` (for progress; 0 if it cannot be re-read)."""
    try:
        if not stream.seekable():
            return 0
        start = stream.tell()
    except (OSError, ValueError):
        return 0
    try:
        return sum(1 for _ in stream)
    except ValueError:  # e.g. bytes that are not UTF-8: reading the rows says so
        return 0
    finally:
        stream.seek(start)


def _chunks(rows: Iterator[Row | tuple[int, str]], report: ImportReport) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        if isinstance(row, tuple):
            report.rejected.append(row)
            continue
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write(conn: sa.Connection, store: Store, chunk: list[Row], report: ImportReport, origin: str,
           moment: datetime) -> None:
    s = store.t.subscribers
    keys = [r.email.casefold() for r in chunk]
    existing = {row["email_key"]: row for row in conn.execute(
        sa.select(s.c.id, s.c.email_key, s.c.name, s.c.sections, s.c.status, s.c.language, s.c.timezone)
        .where(s.c.email_key.in_(keys))
    ).mappings()}
    new: list[dict[str, Any]] = []
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # one executemany per set of changed columns
    history: list[dict[str, Any]] = []
    for r in chunk:
        old = existing.get(r.email.casefold())
        if old is None:
            report.defaulted += r.status is None
            new.append({"email": r.email, "email_key": r.email.casefold(), **name_values(r.name),
                        "sections": r.sections or "", "language": r.language or "", "timezone": r.timezone or "",
                        "origin": origin, "created_at": moment,
                        **UNSTAMPED, **status_values(r.status or DEFAULT_STATUS, moment)})
            continue
        values: dict[str, Any] = {}
        if r.name and r.name != old["name"]:
            values.update(name_values(r.name))
        for column in ("sections", "language", "timezone"):
            given = getattr(r, column)
            if given is not None and given != old[column]:
                values[column] = given
        if r.status is not None and old["status"] not in SUPPRESSED and r.status != old["status"]:
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
    """Write subscribers as CSV with the header ``email,name,sections,status,language,timezone``; return the count."""
    # CRLF ends rows (RFC 4180); it also makes the csv module quote a field holding a lone CR.
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    written = 0
    for s in iterate(store, status=status, search=search, batch=5000):
        writer.writerow([neutralise(cell) for cell in (s.email, s.name, ",".join(s.sections), s.status, s.language,
                                                       s.timezone)])
        written += 1
    return written


def export_text(store: Store, *, status: str | None = None, search: str | None = None) -> str:
    """Return the CSV export as a string."""
    buffer = io.StringIO()
    export_csv(store, buffer, status=status, search=search)
    return buffer.getvalue()
