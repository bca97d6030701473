"""Bare newsletters for the gathering tests: feeds by URL, the report by source, the stored items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config, parse
from newsletter.gather import GatherReport, SourceReport
from newsletter.store import Store

HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile"  # feeds and pages made to break a reader


def newsletter(root: Path, urls: list[str], **gather_settings: Any) -> tuple[Config, Store]:
    """Return the config and store of a newsletter in ``root`` that reads the feeds at ``urls``."""
    data = {"storage": {"url": "sqlite:///state.db"}, "gather": {"timeout": 5, **gather_settings},
            "sources": [{"url": u} for u in urls]}
    config = parse(data, root=root, environ={})
    return config, Store(config.database_url)


def by_url(report: GatherReport) -> dict[str, SourceReport]:
    """Return the report's sources by their key (the URL)."""
    return {s.key: s for s in report.sources}


def stored(store: Store) -> list[dict[str, Any]]:
    """Return every stored item, oldest first."""
    with store.begin() as conn:
        return [dict(r) for r in conn.execute(sa.select(store.t.items).order_by(store.t.items.c.id)).mappings()]
