"""The web archive: every sent issue as a page, an index of them, and an Atom feed.

The same pages are served by the web app at ``{base_url}/archive/`` (index),
``{base_url}/archive/{number}.html`` (one issue) and ``{base_url}/archive/feed.atom``,
and written as static files by ``newsletter archive --out DIR``. A page shows the
issue as sent, without anything personal (no greeting, no reader's links), with the
editor's headlines and summaries (``editorial.edited``), and the whole text of each item that
has no other home (a single-article document: the email links to it, see ``item.full_text``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsletter import i18n
from newsletter.config import Config
from newsletter.edit import editorial, words
from newsletter.edit import issue as issues
from newsletter.edit.issue import Draft, Stored
from newsletter.edit.sections import Placed, Placement, Section
from newsletter.email.links import Rewrite
from newsletter.email.render import Renderer, archive_url, render_template
from newsletter.gather.sources import labelled_items
from newsletter.item import Item
from newsletter.progress import Progress, Silent
from newsletter.store import Store, from_db, now

INDEX = "archive.html"
FEED = "feed.atom"
SHOWN = ("sending", "sent")  # an issue is on the web as soon as its first copy may be in an inbox
FEED_ENTRIES = 50
_DUPLICATE = re.compile(r"same story as item (\d+)")


@dataclass(frozen=True)
class ArchiveReport:
    """What ``newsletter archive`` wrote."""

    folder: Path
    files: list[Path] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"folder": str(self.folder), "files": [str(p) for p in self.files]}


def published(store: Store) -> list[Stored]:
    """Return the issues that went out (or are going out), newest first."""
    t = store.t
    with store.begin() as conn:
        rows = conn.execute(sa.select(t.issues.c.number).where(t.issues.c.status.in_(SHOWN))
                            .order_by(t.issues.c.number.desc())).scalars().all()
    return [stored for n in rows if (stored := issues.get(store, n)) is not None]


def stored_draft(config: Config, store: Store, stored: Stored) -> Draft:
    """Return a recorded issue as a Draft again, from the items it took (see ``issue.record``).

    Sections come back in the recorded order; a row with an empty section is the lead;
    a row recorded as "same story as item N" is a duplicate of item N.
    """
    t = store.t
    with store.begin() as conn:
        rows = conn.execute(
            labelled_items(store).add_columns(t.issue_items.c.section, t.issue_items.c.reason)
            .join(t.issue_items, t.issue_items.c.item_id == t.items.c.id)
            .where(t.issue_items.c.issue_id == stored.id, t.issue_items.c.shown)
            .order_by(t.issue_items.c.position)
        ).mappings().all()
    limit = getattr(config.newsletter, "summary_length", 0)
    placed: dict[int, Placed] = {}
    order: dict[str, list[int]] = {}
    lead: int | None = None
    for row in rows:
        item = _item(row, limit)
        duplicate = _DUPLICATE.fullmatch(row["reason"] or "")
        if duplicate and int(duplicate.group(1)) in placed:
            first = placed[int(duplicate.group(1))]
            placed[first.item.id] = dataclasses.replace(first, duplicates=(*first.duplicates, item))
            continue
        placed[item.id] = Placed(item, Placement(row["section"], row["reason"] or ""))
        if row["section"]:
            order.setdefault(row["section"], []).append(item.id)
        elif lead is None:
            lead = item.id
    edits = editorial.choices(store, [r["id"] for r in rows])  # frozen once the item went out
    for item_id, p in placed.items():
        choice = editorial.merge([edits[m.id] for m in p.members if m.id in edits])
        if choice is not None:
            placed[item_id] = dataclasses.replace(p, item=editorial.edited(p.item, choice))
    intros = {s.name: s.intro for s in config.sections}
    sections = tuple(Section(name, intros.get(name, ""), tuple(placed[i] for i in ids)) for name, ids in order.items())
    moment = (stored.created_at or now()).astimezone(config.zone)
    chosen = words.get(store, stored.number)  # the editor's words stay with the issue they were written for
    return Draft(stored.number, stored.subject, stored.preheader, moment, sections,
                 lead=placed[lead] if lead is not None else None, intro=chosen.intro,
                 editor_subject=chosen.subject)


def _item(row: Any, limit: int) -> Item:
    item = Item(
        id=row["id"], source_id=row["source_id"], source_name=row["source_name"], uid=row["uid"],
        title=row["title"], body=row["body"], summary=row["summary"], link=row["link"], label=row["label"],
        published_at=from_db(row["published_at"]), gathered_at=from_db(row["gathered_at"]) or now(),
    )
    if limit and hasattr(issues, "brief"):  # summaries as the issue showed them
        document = row["source_kind"] == "documents"
        item = issues.brief(item, limit, whole=document and "#" in row["uid"],
                            article=document and "#" not in row["uid"])
    return item


class Archive:
    """The archive's pages and feed, rendered from the store."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def renderer(self, stored: Stored, *, links: Rewrite | None = None) -> Renderer:
        """Return the renderer of a recorded issue (also what resuming a send uses, with its ``links``)."""
        return Renderer(self.config, stored_draft(self.config, self.store, stored), links=links)

    def page(self, number: int) -> str | None:
        """Return the HTML page of issue ``number``, or None if it has not been sent."""
        stored = issues.get(self.store, number)
        if stored is None or stored.status not in SHOWN:
            return None
        return self.renderer(stored).page()

    def index(self, found: list[Stored] | None = None) -> str:
        """Return the index page: every sent issue, newest first."""
        rows = [self._entry(s) for s in (published(self.store) if found is None else found)]
        return render_template(self.config, INDEX, {"issues": rows})[0]

    def feed(self, found: list[Stored] | None = None) -> str:
        """Return the Atom feed of the latest issues, each with its sections and items."""
        latest = (published(self.store) if found is None else found)[:FEED_ENTRIES]
        entries = []
        for stored in latest:
            draft = stored_draft(self.config, self.store, stored)
            entries.append({**self._entry(stored), "issue": Renderer(self.config, draft).data["issue"]})
        updated = max((e["updated"] for e in entries), default=_rfc3339(datetime(1970, 1, 1, tzinfo=UTC)))
        return render_template(self.config, FEED, {"entries": entries, "updated": updated})[0]

    def write(self, folder: Path, *, progress: Progress | None = None) -> ArchiveReport:
        """Write the index, the feed and one page per sent issue into ``folder``."""
        progress = progress or Silent()
        found = published(self.store)
        folder.mkdir(parents=True, exist_ok=True)
        progress.start("archive", len(found) + 2)
        report = ArchiveReport(folder)
        for stored in found:
            report.files.append(_write(folder / f"{stored.number}.html", self.renderer(stored).page()))
            progress.advance()
        report.files.append(_write(folder / "index.html", self.index(found)))
        progress.advance()
        report.files.append(_write(folder / "feed.atom", self.feed(found)))
        progress.advance()
        return report

    def _entry(self, stored: Stored) -> dict[str, Any]:
        moment = stored.sent_at or stored.created_at
        return {"number": stored.number, "subject": stored.subject, "preheader": stored.preheader,
                "url": archive_url(self.config, stored.number), "updated": _rfc3339(moment),
                "published": _rfc3339(stored.created_at),
                "date": i18n.format_date(moment.astimezone(self.config.zone), self.config.newsletter.language)}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path: Path, content: str) -> Path:
    """Write ``content`` to ``path`` atomically: a reader never sees half a page."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)
    return path
