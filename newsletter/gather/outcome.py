"""What gathering found: each source's outcome and report, and the rule for a source failing too long."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from newsletter.config import SourceSettings
from newsletter.gather.fetch import Fetched
from newsletter.item import Parsed


def failing_too_long(since: datetime | None, moment: datetime, warn_after_hours: float) -> bool:
    """Return whether a source failing since ``since`` has been failing too long at ``moment``."""
    return since is not None and moment - since >= timedelta(hours=warn_after_hours)


def alarm_message(name: str, since: datetime | None, failures: int, error: str | None) -> str:
    """Return the loud line for a source that has been failing too long."""
    when = since.strftime("%Y-%m-%d %H:%M UTC") if since else "?"
    return f"source {name} has been failing since {when} ({failures} attempts in a row): {error}; fix or remove it"


@dataclass(frozen=True)
class SourceReport:
    """What gathering one source did."""

    key: str
    name: str
    kind: str  # rss | atom | json | page | documents, or the configured kind when reading failed
    status: str  # ok | not-modified | error
    new: int = 0
    updated: int = 0
    entries: int = 0
    error: str | None = None
    failures: int = 0  # consecutive failures, this one included
    warning: str | None = None  # something was wrong but the source was read (e.g. recovered XML)
    http_status: int | None = None
    fetched_from: str | None = None  # the address fetched, when it is not the configured one
    moved_to: str | None = None  # a permanent redirect pointed here; update the config
    failing_since: datetime | None = None
    alarm: bool = False  # failing for longer than gather.warn_after_hours

    @property
    def alarm_message(self) -> str:
        """Return the loud line for a source that has been failing too long."""
        return alarm_message(self.name, self.failing_since, self.failures, self.error)


@dataclass(frozen=True)
class GatherReport:
    """What one gather did, source by source."""

    sources: list[SourceReport] = field(default_factory=list)

    @property
    def new(self) -> int:
        """Return how many new items were stored."""
        return sum(s.new for s in self.sources)

    @property
    def failed(self) -> list[SourceReport]:
        """Return the sources that failed."""
        return [s for s in self.sources if s.status == "error"]

    @property
    def alarms(self) -> list[SourceReport]:
        """Return the sources failing for longer than the configured warning threshold."""
        return [s for s in self.sources if s.alarm]

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain data for ``--json``."""
        return {"new": self.new, "failed": len(self.failed), "alarms": [s.key for s in self.alarms],
                "sources": [asdict(s) for s in self.sources]}


@dataclass(frozen=True)
class FetchOutcome:
    """What fetching and reading one source gave, before it is recorded."""

    settings: SourceSettings
    kind: str  # what reading found; unread, what the source is configured or expected to be
    parsed: Parsed | None = None  # None: not modified, or failed
    fetched: Fetched | None = None
    content_hash: str | None = None
    error: str | None = None
    http_status: int | None = None
    forget_permanent: bool = False

    @property
    def title(self) -> str:
        """Return the title reading the source found ("" when it was not read)."""
        return self.parsed.title if self.parsed is not None else ""
