"""The sources table: what each source last did (validators, health), written after each gather.

This module is the one owner of the table: ``states`` reads the validators a gather
sends, ``record_all`` stores each outcome (state advances only after the source was
read), ``health`` reads it back for ``sources list``, ``status`` and the desk, and
``labelled_items`` gives the items with their source's name, key and kind for the issue
and the archive. ``display_name`` is what a source is called everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config, SourceSettings
from newsletter.error import StoreError
from newsletter.gather.intake import store_entries
from newsletter.gather.outcome import (
    FetchOutcome,
    SourceReport,
    alarm_message,
    failing_too_long,
)
from newsletter.store import Store, now, to_db

log = logging.getLogger("newsletter.gather")


@dataclass(frozen=True)
class State:
    """What the store remembers about a source between runs: the validators a gather sends."""

    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    content_hash: str | None = None


def display_name(source: SourceSettings, found: str | None = None) -> str:
    """Return what a source is called: its configured name, else the title ``found`` reading it, else its address."""
    return source.name or found or source.url or source.path or ""


def labelled_items(store: Store) -> sa.Select[Any]:
    """Return a query of every item with its source's ``source_name``, ``source_key`` and ``source_kind``.

    The caller narrows it (``.where``, ``.join``, ``.add_columns``) and runs it.
    """
    t = store.t
    return (sa.select(t.items, t.sources.c.name.label("source_name"), t.sources.c.key.label("source_key"),
                      t.sources.c.kind.label("source_kind"))
            .join(t.sources, t.sources.c.id == t.items.c.source_id))


def states(store: Store) -> dict[str, State]:
    """Return what the store remembers of every source, by key."""
    c = store.t.sources.c
    with store.begin() as conn:
        return {r.key: State(r.etag, r.last_modified, r.permanent_url, r.content_hash)
                for r in conn.execute(sa.select(c.key, c.etag, c.last_modified, c.permanent_url, c.content_hash))}


def record_all(store: Store, outcomes: list[FetchOutcome], moment: datetime, warn_after_hours: float
               ) -> list[SourceReport]:
    """Record outcomes in one transaction; if a concurrent gather got in the way, one by one."""
    try:
        with store.begin() as conn:
            return [_record_in(conn, store, outcome, moment, warn_after_hours) for outcome in outcomes]
    except sa.exc.IntegrityError:
        return [_record_safely(store, outcome, moment, warn_after_hours) for outcome in outcomes]


def _record_safely(store: Store, outcome: FetchOutcome, moment: datetime, warn_after_hours: float) -> SourceReport:
    """Record an outcome; a gather running at the same time in another process may win a race once."""
    for attempt in (1, 2):
        try:
            return _record(store, outcome, moment, warn_after_hours)
        except sa.exc.IntegrityError as e:
            name = display_name(outcome.settings, outcome.title)
            if attempt == 2:
                raise StoreError(f"source {name}: cannot record what was gathered: {e.orig}") from e
            log.info("source %s: stored by a concurrent gather meanwhile; recording again", name)
    raise AssertionError("unreachable")


def _record(store: Store, outcome: FetchOutcome, moment: datetime, warn_after_hours: float) -> SourceReport:
    """Store the outcome of one source in one transaction and return its report."""
    with store.begin() as conn:
        return _record_in(conn, store, outcome, moment, warn_after_hours)


def _record_in(conn: sa.Connection, store: Store, outcome: FetchOutcome, moment: datetime,
               warn_after_hours: float) -> SourceReport:
    """Store the outcome of one source in the caller's transaction and return its report."""
    t = store.t
    key = outcome.settings.key
    row: Mapping[Any, Any] | None = conn.execute(
        sa.select(t.sources).where(t.sources.c.key == key)).mappings().first()
    if row is None:  # first seen: created with its first outcome, in one statement
        row = {"id": None, "failures": 0, "failing_since": None, "permanent_url": None, "name": "", "kind": ""}

    known: int | None = row["id"]
    # Unread (failed or unchanged), a source keeps the title and kind its last reading found.
    unread = outcome.parsed is None and outcome.kind != "documents"
    name = display_name(outcome.settings, row["name"] if unread else outcome.title)
    kind = row["kind"] if unread and row["kind"] else outcome.kind

    def save(values: dict[str, Any]) -> int:
        # The values go as parameters of the execution, not into the statement (``.values()``),
        # which would make a bound parameter and a cache key of each: a fifth of the writer's time.
        if known is None:
            created = conn.execute(t.sources.insert(), {
                "key": key, "created_at": moment, "kind": outcome.kind, "name": name, **values})
            assert created.inserted_primary_key is not None
            return int(created.inserted_primary_key[0])
        conn.execute(t.sources.update().where(t.sources.c.id == known), values)
        return known
    base = SourceReport(key, name, kind, "error", http_status=outcome.http_status,
                        fetched_from=row["permanent_url"])
    if outcome.error is not None:
        failures = row["failures"] + 1
        since = row["failing_since"] or moment
        values: dict[str, Any] = dict(
            last_status="error", last_error=outcome.error, failures=failures, last_attempt_at=moment,
            failing_since=since, last_http_status=outcome.http_status)
        if outcome.forget_permanent:
            values["permanent_url"] = None
        save(values)
        alarm = failing_too_long(since, moment, warn_after_hours)
        return replace(base, error=outcome.error, failures=failures, failing_since=since, alarm=alarm)
    fetched = outcome.fetched
    values = dict(name=name, kind=kind, last_error=None, failures=0, failing_since=None,
                  last_attempt_at=moment, last_success_at=moment, last_http_status=outcome.http_status)
    if outcome.parsed is not None:
        values["last_warning"] = outcome.parsed.warning
    moved = None
    if fetched is not None:
        values.update(etag=fetched.etag, last_modified=fetched.last_modified,
                      content_hash=outcome.content_hash)
        if fetched.permanent_url and fetched.permanent_url != outcome.settings.url:
            values["permanent_url"] = moved = fetched.permanent_url
    if outcome.parsed is None:
        save({"last_status": "not-modified", **values})
        return replace(base, status="not-modified", moved_to=moved,
                       fetched_from=values.get("permanent_url", row["permanent_url"]))
    source_id = save({"last_status": "ok", **values})
    new, updated = store_entries(store, conn, source_id, outcome.parsed.entries, moment, first=known is None)
    return replace(base, status="ok", new=new, updated=updated, entries=len(outcome.parsed.entries),
                   warning=outcome.parsed.warning, moved_to=moved,
                   fetched_from=values.get("permanent_url", row["permanent_url"]))


@dataclass(frozen=True)
class SourceHealth:
    """One configured source as the store remembers it."""

    key: str
    name: str
    kind: str
    url: str | None
    path: str | None
    section: str | None
    status: str  # ok | not-modified | error | never (not gathered yet)
    failures: int = 0  # consecutive failures
    last_error: str | None = None
    last_warning: str | None = None
    last_http_status: int | None = None
    fetched_from: str | None = None  # a permanent redirect's target, used instead of url
    failing_since: datetime | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    items: int = 0
    alarm: bool = False  # failing for longer than gather.warn_after_hours

    @property
    def alarm_message(self) -> str:
        """Return the loud line for a source that has been failing too long."""
        return alarm_message(self.name, self.failing_since, self.failures, self.last_error)

    @property
    def flag(self) -> str:
        """Return the status as one word, shouting when the source has been failing too long."""
        return "FAILING" if self.alarm else self.status

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        data = asdict(self)
        data["flag"] = self.flag
        return data


def health(config: Config, store: Store, *, moment: datetime | None = None) -> list[SourceHealth]:
    """Return the health of every configured source, in config order."""
    moment = to_db(moment) or now()
    t = store.t
    counts = sa.select(t.items.c.source_id, sa.func.count().label("n")).group_by(t.items.c.source_id).subquery()
    with store.begin() as conn:
        rows = {r["key"]: r for r in conn.execute(
            sa.select(t.sources, sa.func.coalesce(counts.c.n, 0).label("items"))
            .select_from(t.sources.outerjoin(counts, counts.c.source_id == t.sources.c.id))
        ).mappings()}
    out = []
    for source in config.sources:
        row = rows.get(source.key)
        name = display_name(source, row["name"] if row else None)
        if row is None:
            out.append(SourceHealth(source.key, name, source.kind or "", source.url, source.path, source.section,
                                    "never"))
            continue
        since = row["failing_since"]
        out.append(SourceHealth(
            key=source.key, name=name, kind=row["kind"], url=source.url, path=source.path,
            section=source.section, status=row["last_status"] or "never", failures=row["failures"],
            last_error=row["last_error"], last_warning=row["last_warning"],
            last_http_status=row["last_http_status"], fetched_from=row["permanent_url"],
            failing_since=since, last_attempt_at=row["last_attempt_at"], last_success_at=row["last_success_at"],
            items=row["items"], alarm=failing_too_long(since, moment, config.gather.warn_after_hours),
        ))
    return out


def describe_age(moment: datetime | None, *, reference: datetime | None = None) -> str:
    """Return how long ago ``moment`` was, roughly: ``3 days ago``, ``5 hours ago``, ``never``."""
    if moment is None:
        return "never"
    seconds = max(0, int(((reference or now()) - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"
