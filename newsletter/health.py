"""Source health: what each configured source last did, and which have been failing too long."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config
from newsletter.store import Store, now, to_db


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
    limit = timedelta(hours=config.gather.warn_after_hours)
    out = []
    for source in config.sources:
        row = rows.get(source.key)
        name = source.name or (row["name"] if row and row["name"] else source.url or source.path or "")
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
            items=row["items"], alarm=since is not None and moment - since >= limit,
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
