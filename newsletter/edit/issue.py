"""Issues: choose the waiting items, group them, number and title the next issue.

Drafting an issue: load the waiting items, merge the same story from several sources
(``cluster``), apply the editors' choices (``editorial``), take the opening summary of
the main briefing (the one with the most paragraphs waiting) as the issue's lead, place
every other story in a section (``sections``; a briefing's closing outlook goes under the
outlook heading, last), order and limit the sections, and note
for every waiting item what the issue does with it. A story a recent issue already sent
(``newsletter.repeat_days``) is left out, unless an editor pinned it, and the issue that
goes out takes it along unseen so that it does not wait for ever.

This module is the one that writes ``issues`` and ``issue_items``: ``record`` stores an
issue as ``sending``; the outbox moves it to ``sent`` and back through ``mark_sent`` and
``reopen``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from newsletter.config import Config
from newsletter.edit import cluster, editorial, subject, words
from newsletter.edit.editorial import Choice
from newsletter.edit.sections import Placed, Placement, Section, Sorter
from newsletter.gather.readers.document import SUMMARY_WORDS, is_opening, lead_sentences
from newsletter.gather.sources import labelled_items
from newsletter.item import Item, html_to_text, summarise
from newsletter.store import Store, from_db, now, to_db

SENT_BEFORE = "sent before"  # the status of a repeat of a sent story
STATUSES = ("lead", "in issue", "duplicate", "waiting", "dropped", SENT_BEFORE)
SENT_STATUSES = ("sending", "sent")  # issues whose stories readers have (or are getting)
LEAD_REASON = "opening summary of the main briefing: the issue's lead"


@dataclass(frozen=True)
class Planned:
    """One waiting item and what the next issue does with it."""

    item: Item
    section: str  # the section it is in, or would be in if not dropped; "" for the lead and sent-before items
    reason: str  # why that section
    status: str  # one of STATUSES
    note: str = ""  # why it waits, which story it repeats
    choice: Choice | None = None

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``items list --json``."""
        i = self.item
        return {"id": i.id, "title": i.title, "label": i.label, "source": i.source_name, "link": i.link,
                "section": self.section, "reason": self.reason, "status": self.status, "note": self.note,
                "editor": self.choice.to_json() if self.choice else None}


@dataclass(frozen=True)
class Draft:
    """The next issue as it would go out: number, subject, preheader, lead and sections.

    ``plan`` tells, for every waiting item, what this issue does with it. ``intro`` and
    ``editor_subject`` are the editor's words (``edit.words``); the subject of a reader's
    copy is ``editor_subject`` when set, else the rule of ``edit.subject`` for that copy.
    """

    number: int
    subject: str
    preheader: str
    date: datetime
    sections: tuple[Section, ...]
    lead: Placed | None = None
    plan: tuple[Planned, ...] = ()
    intro: str = ""
    editor_subject: str = ""

    @property
    def items(self) -> list[Item]:
        """Return every item the issue shows, in reading order (the lead first)."""
        return [*([self.lead.item] if self.lead else []), *(p.item for s in self.sections for p in s.items)]

    @property
    def empty(self) -> bool:
        """Return whether the issue has no items."""
        return not self.items


@dataclass(frozen=True)
class Stored:
    """An issue already in the store (being sent, or sent)."""

    id: int
    number: int
    status: str
    subject: str
    preheader: str
    html: str
    text: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Waiting:
    """The items no issue has taken yet, and which of them are briefing paragraphs."""

    items: list[Item]
    paragraphs: set[int]  # ids of briefing paragraphs: shown whole, an editor wrote them
    openings: set[int]  # ids of briefing openings: candidates for the lead
    articles: set[int] = dataclasses.field(default_factory=set)  # ids of single-article documents
    closings: set[int] = dataclasses.field(default_factory=set)  # ids of briefings' unheaded last paragraphs


def waiting(config: Config, store: Store, *, limit: int | None = None) -> list[Item]:
    """Return items that no issue has taken yet, oldest first, at most ``limit`` (default: all)."""
    return _waiting(config, store, limit).items


def _waiting(config: Config, store: Store, limit: int | None = None) -> Waiting:
    t = store.t
    pinned = {s.key: s.section for s in config.sources if s.section}
    query = (
        labelled_items(store)
        .outerjoin(t.issue_items, t.issue_items.c.item_id == t.items.c.id)
        .where(t.issue_items.c.item_id.is_(None))
        .order_by(t.items.c.gathered_at, t.items.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    configured = {s.key for s in config.sources}
    with store.begin() as conn:
        rows = [r for r in conn.execute(query).mappings() if r["source_key"] in configured]
    documents = [r for r in rows if r["source_kind"] == "documents" and "#" in r["uid"]]
    last = {r["uid"].partition("#")[0]: r for r in documents}  # each briefing's closing paragraph
    return Waiting([_item(r, pinned.get(r["source_key"])) for r in rows],
                   {r["id"] for r in documents},
                   {r["id"] for r in documents if is_opening(r["uid"]) and not r["label"]},
                   {r["id"] for r in rows if r["source_kind"] == "documents" and "#" not in r["uid"]},
                   {r["id"] for r in last.values() if not r["label"] and not is_opening(r["uid"])})


def _item(row: Any, section: str | None) -> Item:
    return Item(
        id=row["id"], source_id=row["source_id"], source_name=row["source_name"], uid=row["uid"],
        title=row["title"], body=row["body"], summary=row["summary"], link=row["link"],
        label=row["label"], published_at=from_db(row["published_at"]),
        gathered_at=from_db(row["gathered_at"]) or now(), forced_section=section,
        source_key=row["source_key"],
    )


def brief(item: Item, limit: int, *, whole: bool = False, article: bool = False) -> Item:
    """Return ``item`` with a clean summary: markup gone, first sentences up to ``limit`` characters.

    ``whole`` keeps all of the text (a briefing paragraph an editor wrote has nowhere else
    to be read). An ``article`` (a single-article document) gets whole sentences from the top
    of its text, at least ``SUMMARY_WORDS`` words, more when ``limit`` allows.
    """
    if article:
        text = html_to_text(item.body)
        summary = summarise(text, limit)
        if summary.endswith("…") or len(summary.split()) < SUMMARY_WORDS:
            summary = lead_sentences(text)
        return dataclasses.replace(item, summary=summary)
    text = html_to_text(item.summary or item.body)
    return dataclasses.replace(item, summary=text if whole else summarise(text, limit))


def plan(config: Config, store: Store, *, moment: datetime | None = None,
         ) -> tuple[Placed | None, list[Section], list[Planned]]:
    """Return the next issue's lead, its sections, and what it does with every waiting item.

    ``moment`` (default: now) is when the issue goes: stories sent within
    ``newsletter.repeat_days`` before it are not sent again.
    """
    found = _waiting(config, store)
    chosen = editorial.choices(store)
    sent, numbers = _recently_sent(config, store, moment)
    repeated = cluster.repeats(found.items, sent)
    sorter = Sorter(config)
    limit = config.newsletter.summary_length
    stories: list[Placed] = []
    openings: list[Placed] = []
    dropped: list[Planned] = []
    repeats: dict[int, str] = {}  # item id of a story's first item -> why the others repeat it
    language, keys = config.newsletter.language, [s.key for s in config.sources]
    found_stories = cluster.find(found.items, language=language, sources=keys)
    for story in editorial.regroup(found_stories, chosen, cluster.preference(language, keys)):
        choice = editorial.merge([chosen[i.id] for i in story.items if i.id in chosen])
        first = brief(story.first, limit, whole=story.first.id in found.paragraphs,
                      article=story.first.id in found.articles)
        moved_to = choice.section if choice is not None else None
        if moved_to not in (*sorter.settings, sorter.catch_all):
            moved_to = None  # a move to a section the config no longer has is void
        if choice is not None and choice.dropped:
            # Where it would be: the desk's section menu shows it, and "move" puts it back there.
            home = moved_to or sorter.place(first, closing=first.id in found.closings).section
            dropped += [Planned(i, home, "dropped by an editor", "dropped", choice=choice) for i in story.items]
            continue
        # An item told within the story's paragraph is a story of its own: one sent before does not make the
        # paragraph's other news old, and its words do not place the paragraph.
        own = [i for i in story.items if i.id not in story.told]
        repeat = next((repeated[i.id] for i in own if i.id in repeated), None)
        if repeat is not None and not (choice is not None and choice.pinned):
            why = (f"{SENT_BEFORE} in issue {numbers[repeat.sent.id]}: “{repeat.sent.title}” "
                   f"({repeat.sent.source_name}), {repeat.reason}")
            dropped += [Planned(i, "", why, SENT_BEFORE, choice=chosen.get(i.id)) for i in story.items]
            continue
        moved = moved_to is not None
        placement = (Placement(moved_to, "moved here by an editor") if moved_to
                     else sorter.place(first, closing=first.id in found.closings, also=tuple(own[1:])))
        placed = Placed(editorial.edited(first, choice), placement, story.items[1:],
                        pinned=bool(choice and choice.pinned))
        repeats[first.id] = story.reason
        (openings if first.id in found.openings and not moved else stories).append(placed)
    # The lead is the opening of the main briefing: the one with the most waiting paragraphs, else the newest.
    size = Counter(i.uid.partition("#")[0] for i in found.items if i.id in found.paragraphs)
    lead = max(openings, key=lambda p: (size[p.item.uid.partition("#")[0]],
                                        p.item.published_at or p.item.gathered_at, p.item.id), default=None)
    stories += [p for p in openings if p is not lead]
    arrangement = sorter.arrange(stories)
    sections = editorial.reorder(arrangement.sections, chosen)
    planned: list[Planned] = []
    if lead is not None:
        lead = dataclasses.replace(lead, placement=Placement("", LEAD_REASON))
        planned += _planned(lead, "lead", "", repeats, chosen)
    for section in sections:
        for p in section.items:
            planned += _planned(p, "in issue", "", repeats, chosen)
    for p in stories:
        if p.item.id in arrangement.waiting:
            planned += _planned(p, "waiting", arrangement.waiting[p.item.id], repeats, chosen)
    return lead, sections, planned + dropped


def _planned(p: Placed, status: str, note: str, repeats: dict[int, str],
             chosen: dict[int, Choice]) -> list[Planned]:
    first = Planned(p.item, p.placement.section, p.placement.reason, status, note, chosen.get(p.item.id))
    same = f"same story as item {p.item.id} ({repeats.get(p.item.id, '')})"
    return [first, *(Planned(d, p.placement.section, p.placement.reason,
                             "duplicate" if status != "waiting" else status, same, chosen.get(d.id))
                      for d in p.duplicates)]


def _recently_sent(config: Config, store: Store, moment: datetime | None) -> tuple[list[Item], dict[int, int]]:
    """Return the items issues sent within ``repeat_days`` before ``moment``, and each one's issue number.

    Items an issue took along unseen (repeats of an earlier story) are not among them.
    """
    days = config.newsletter.repeat_days
    if days <= 0:
        return [], {}
    t = store.t
    since = (moment or now()) - timedelta(days=days)
    query = (
        labelled_items(store).add_columns(t.issues.c.number)
        .join(t.issue_items, t.issue_items.c.item_id == t.items.c.id)
        .join(t.issues, t.issues.c.id == t.issue_items.c.issue_id)
        .where(t.issues.c.status.in_(SENT_STATUSES), t.issues.c.created_at >= to_db(since),
               t.issue_items.c.shown)
        .order_by(t.issues.c.number, t.issue_items.c.position)
    )
    with store.begin() as conn:
        rows = conn.execute(query).mappings().all()
    return [_item(r, None) for r in rows], {r["id"]: r["number"] for r in rows}


def next_number(store: Store) -> int:
    """Return the number the next issue will carry."""
    with store.begin() as conn:
        return (conn.execute(sa.select(sa.func.max(store.t.issues.c.number))).scalar() or 0) + 1


def draft(config: Config, store: Store, *, moment: datetime | None = None) -> Draft:
    """Build the next issue from waiting items; nothing is stored."""
    moment = (moment or datetime.now(config.zone)).astimezone(config.zone)
    lead, sections, planned = plan(config, store, moment=moment)
    number = next_number(store)
    items = subject.stories(sections, lead)
    chosen = words.get(store, number)
    line = chosen.subject or subject.subject(config, number=number, moment=moment, items=items)
    return Draft(number, line, subject.preheader(items), moment, tuple(sections), lead, tuple(planned),
                 intro=chosen.intro, editor_subject=chosen.subject)


def format_date(moment: datetime) -> str:
    """Return a date as editors write it: 25 November 2026."""
    return f"{moment.day} {moment:%B %Y}"


def unfinished(store: Store) -> Stored | None:
    """Return the oldest issue whose delivery has not finished."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(
            sa.select(t.issues).where(t.issues.c.status == "sending").order_by(t.issues.c.number).limit(1)
        ).mappings().first()
    return _stored(row) if row else None


def get(store: Store, number: int) -> Stored | None:
    """Return the stored issue with this number."""
    with store.begin() as conn:
        row = conn.execute(sa.select(store.t.issues).where(store.t.issues.c.number == number)).mappings().first()
    return _stored(row) if row else None


def latest(store: Store) -> Stored | None:
    """Return the most recent issue."""
    with store.begin() as conn:
        row = conn.execute(
            sa.select(store.t.issues).order_by(store.t.issues.c.number.desc()).limit(1)
        ).mappings().first()
    return _stored(row) if row else None


def _stored(row: Any) -> Stored:
    return Stored(
        id=row["id"], number=row["number"], status=row["status"], subject=row["subject"],
        preheader=row["preheader"], html=row["html"], text=row["text"],
        created_at=from_db(row["created_at"]) or now(), sent_at=from_db(row["sent_at"]),
    )


def record(conn: sa.Connection, store: Store, issue: Draft, *, html: str, text: str) -> int:
    """Store an issue and every item it takes (duplicates too), inside the caller's transaction.

    Return the issue's id. The lead is recorded with an empty section name. Repeats of a
    story sent before are taken too, unseen (``shown`` false, no section), after the items shown.
    """
    t = store.t
    inserted = conn.execute(t.issues.insert().values(
        number=issue.number, status="sending", subject=issue.subject, preheader=issue.preheader,
        html=html, text=text, created_at=to_db(issue.date),  # the app's clock: what the schedule compares
    )).inserted_primary_key
    assert inserted is not None
    issue_id = inserted[0]
    shown = [*([("", issue.lead)] if issue.lead else []), *((s.name, p) for s in issue.sections for p in s.items)]
    rows: list[dict[str, Any]] = []
    for section, placed in shown:
        for member in placed.members:
            reason = placed.placement.reason if member is placed.item else f"same story as item {placed.item.id}"
            rows.append({"issue_id": issue_id, "item_id": member.id, "section": section, "position": len(rows),
                         "reason": reason, "shown": True})
    for p in issue.plan:
        if p.status == SENT_BEFORE:
            rows.append({"issue_id": issue_id, "item_id": p.item.id, "section": "", "position": len(rows),
                         "reason": p.reason, "shown": False})
    if rows:
        conn.execute(t.issue_items.insert(), rows)
    return issue_id


def mark_sent(conn: sa.Connection, store: Store, issue_id: int, *, when: sa.ColumnElement[bool]) -> bool:
    """Mark a sending issue sent if ``when`` holds, in the caller's transaction; return whether it did.

    ``when`` is tested by the same statement, so nothing can change between the test and the write.
    """
    issues = store.t.issues
    return bool(conn.execute(issues.update().where(issues.c.id == issue_id, issues.c.status == "sending", when)
                             .values(status="sent", sent_at=now())).rowcount)


def reopen(conn: sa.Connection, store: Store, issue_id: int) -> None:
    """Mark an issue sending again (some of its deliveries are to be retried), in the caller's transaction."""
    issues = store.t.issues
    conn.execute(issues.update().where(issues.c.id == issue_id).values(status="sending", sent_at=None))
