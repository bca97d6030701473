"""Subscribers: add, remove, list, import and export the people an issue goes to."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TextIO

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from newsletter.error import SubscriberError
from newsletter.store import Store, from_db, now

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
SUPPRESSED = ("unsubscribed", "bounced", "complained")
CSV_FIELDS = ("email", "name", "sections", "status")


@dataclass(frozen=True)
class Subscriber:
    """One reader."""

    id: int
    email: str
    name: str
    status: str
    sections: tuple[str, ...]
    origin: str
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        data = asdict(self)
        data["sections"] = list(self.sections)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


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


def normalise_email(email: str) -> str:
    """Return ``email`` validated and normalised, or raise SubscriberError naming the problem."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as e:
        raise SubscriberError(f"invalid email address {email.strip()!r}: {e}") from None


def parse_sections(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return section names from ``"A,B"`` or a list, blanks removed."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(dict.fromkeys(s.strip() for s in items if s.strip()))


def _check_status(status: str) -> str:
    status = status.strip().lower()
    if status not in STATUSES:
        raise SubscriberError(f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
    return status


def add(store: Store, email: str, *, name: str = "", sections: Iterable[str] = (), status: str = "pending",
        origin: str = "cli") -> Subscriber:
    """Add a subscriber; raise SubscriberError if the address is invalid or already listed."""
    address = normalise_email(email)
    status = _check_status(status)
    t = store.t
    moment = now()
    with store.begin() as conn:
        if conn.execute(sa.select(t.subscribers.c.id).where(t.subscribers.c.email_key == address.casefold())).first():
            raise SubscriberError(f"{address} is already a subscriber")
        conn.execute(t.subscribers.insert().values(
            email=address, email_key=address.casefold(), name=" ".join(name.split()), status=status,
            sections=",".join(parse_sections(sections)), origin=origin, created_at=moment, updated_at=moment,
        ))
    return get(store, address)


def get(store: Store, email: str) -> Subscriber:
    """Return the subscriber with this address, or raise SubscriberError."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(sa.select(t.subscribers).where(
            t.subscribers.c.email_key == email.strip().casefold())).mappings().first()
    if row is None:
        raise SubscriberError(f"no subscriber {email.strip()!r}")
    return _subscriber(row)


def remove(store: Store, email: str) -> Subscriber:
    """Mark a subscriber unsubscribed (kept, so a re-import cannot mail them again)."""
    return set_status(store, email, "unsubscribed")


def set_status(store: Store, email: str, status: str) -> Subscriber:
    """Change a subscriber's status."""
    subscriber = get(store, email)
    t = store.t
    with store.begin() as conn:
        conn.execute(t.subscribers.update().where(t.subscribers.c.id == subscriber.id)
                     .values(status=_check_status(status), updated_at=now()))
    return get(store, email)


def iterate(store: Store, *, status: str | None = None, batch: int = 1000) -> Iterator[Subscriber]:
    """Yield subscribers in id order, a batch at a time so memory stays flat."""
    t = store.t
    last = 0
    while True:
        query = sa.select(t.subscribers).where(t.subscribers.c.id > last).order_by(t.subscribers.c.id).limit(batch)
        if status:
            query = query.where(t.subscribers.c.status == _check_status(status))
        with store.begin() as conn:
            rows = conn.execute(query).mappings().all()
        if not rows:
            return
        for row in rows:
            yield _subscriber(row)
        last = rows[-1]["id"]


def count(store: Store, status: str | None = None) -> int:
    """Return how many subscribers there are (with ``status``)."""
    t = store.t
    query = sa.select(sa.func.count()).select_from(t.subscribers)
    if status:
        query = query.where(t.subscribers.c.status == status)
    with store.begin() as conn:
        return conn.execute(query).scalar() or 0


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        id=row["id"], email=row["email"], name=row["name"], status=row["status"],
        sections=parse_sections(row["sections"]), origin=row["origin"],
        created_at=from_db(row["created_at"]), updated_at=from_db(row["updated_at"]),  # type: ignore[arg-type]
    )


def import_csv(store: Store, stream: TextIO, *, origin: str = "import") -> ImportReport:
    """Import ``email,name,sections,status`` rows; a bad row is reported, never fatal.

    New addresses are added (status defaults to active: an imported list is one the
    editor already holds consent for). Known addresses get their name and sections
    updated; an unsubscribed, bounced or complained address is never reactivated.
    """
    report = ImportReport()
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise SubscriberError("CSV has no 'email' column (expected header: email,name,sections,status)")
    reader.fieldnames = header
    t = store.t
    moment = now()
    with store.begin() as conn:
        for row in reader:
            line = reader.line_num
            try:
                address = normalise_email(row.get("email") or "")
                status = _check_status(row.get("status") or "active")
            except SubscriberError as e:
                report.rejected.append((line, str(e)))
                continue
            name = " ".join((row.get("name") or "").split())
            sections = ",".join(parse_sections(row.get("sections")))
            existing = conn.execute(sa.select(t.subscribers).where(
                t.subscribers.c.email_key == address.casefold())).mappings().first()
            if existing is None:
                conn.execute(t.subscribers.insert().values(
                    email=address, email_key=address.casefold(), name=name, status=status, sections=sections,
                    origin=origin, created_at=moment, updated_at=moment))
                report.added += 1
                continue
            values: dict[str, Any] = {}
            if name and name != existing["name"]:
                values["name"] = name
            if row.get("sections") is not None and sections != existing["sections"]:
                values["sections"] = sections
            if existing["status"] not in SUPPRESSED and status != existing["status"]:
                values["status"] = status
            if values:
                conn.execute(t.subscribers.update().where(t.subscribers.c.id == existing["id"])
                             .values(updated_at=moment, **values))
                report.updated += 1
            else:
                report.skipped += 1
    return report


def export_csv(store: Store, stream: TextIO) -> int:
    """Write every subscriber as CSV with the header ``email,name,sections,status``; return the count."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    written = 0
    for s in iterate(store):
        writer.writerow([s.email, s.name, ",".join(s.sections), s.status])
        written += 1
    return written


def export_text(store: Store) -> str:
    """Return the CSV export as a string."""
    buffer = io.StringIO()
    export_csv(store, buffer)
    return buffer.getvalue()
