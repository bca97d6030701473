"""Store what gathering found: each source's validators and health, and its new items.

The other half of ``sources``, and the only part of gathering that needs the database
layer, so that ``sources`` can send its requests before that layer has even loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from newsletter.error import StoreError
from newsletter.intake import store_entries
from newsletter.sources import Outcome, SourceReport, State
from newsletter.store import Store

log = logging.getLogger("newsletter.sources")


def states(store: Store) -> dict[str, State]:
    """Return what the store remembers of every source, by key."""
    c = store.t.sources.c
    with store.begin() as conn:
        return {r.key: State(r.etag, r.last_modified, r.permanent_url, r.content_hash)
                for r in conn.execute(sa.select(c.key, c.etag, c.last_modified, c.permanent_url, c.content_hash))}


def record_all(store: Store, outcomes: list[Outcome], moment: datetime, warn_after_hours: float
               ) -> list[SourceReport]:
    """Record outcomes in one transaction; if a concurrent gather got in the way, one by one."""
    try:
        with store.begin() as conn:
            return [_record_in(conn, store, outcome, moment, warn_after_hours) for outcome in outcomes]
    except sa.exc.IntegrityError:
        return [_record_safely(store, outcome, moment, warn_after_hours) for outcome in outcomes]


def _record_safely(store: Store, outcome: Outcome, moment: datetime, warn_after_hours: float) -> SourceReport:
    """Record an outcome; a gather running at the same time in another process may win a race once."""
    for attempt in (1, 2):
        try:
            return _record(store, outcome, moment, warn_after_hours)
        except sa.exc.IntegrityError as e:
            if attempt == 2:
                raise StoreError(f"source {outcome.name}: cannot record what was gathered: {e.orig}") from e
            log.info("source %s: stored by a concurrent gather meanwhile; recording again", outcome.name)
    raise AssertionError("unreachable")


def _record(store: Store, outcome: Outcome, moment: datetime, warn_after_hours: float) -> SourceReport:
    """Store the outcome of one source in one transaction and return its report."""
    with store.begin() as conn:
        return _record_in(conn, store, outcome, moment, warn_after_hours)


def _record_in(conn: sa.Connection, store: Store, outcome: Outcome, moment: datetime,
               warn_after_hours: float) -> SourceReport:
    """Store the outcome of one source in the caller's transaction and return its report."""
    t = store.t
    key = outcome.settings.key
    row: Mapping[Any, Any] | None = conn.execute(
        sa.select(t.sources).where(t.sources.c.key == key)).mappings().first()
    if row is None:  # first seen: created with its first outcome, in one statement
        row = {"id": None, "failures": 0, "failing_since": None, "permanent_url": None, "name": "", "kind": ""}

    known: int | None = row["id"]

    def save(values: dict[str, Any]) -> int:
        if known is None:
            created = conn.execute(t.sources.insert().values(
                key=key, created_at=moment, **{"kind": outcome.kind, "name": outcome.name, **values}))
            assert created.inserted_primary_key is not None
            return int(created.inserted_primary_key[0])
        conn.execute(t.sources.update().where(t.sources.c.id == known).values(**values))
        return known

    # Unread (failed or unchanged), a source keeps the title and kind its last reading found.
    unread = outcome.parsed is None and outcome.kind != "documents"
    name = outcome.settings.name or (row["name"] if unread and row["name"] else outcome.name)
    kind = row["kind"] if unread and row["kind"] else outcome.kind
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
        alarm = moment - since >= timedelta(hours=warn_after_hours)
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
