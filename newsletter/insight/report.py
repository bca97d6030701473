"""An issue's figures: deliveries by outcome and reason, what readers did after it, clicks, the issues before it.

``report(config, store, number)`` is what ``newsletter report N`` prints and the desk shows:

* deliveries by outcome as ``delivery.tally`` counts them (``bounced`` are the failed ones
  a bounce closed, at sending or reported later), and per outcome the relay's answers
  grouped: addresses and queue ids are masked, so one answer given to many readers is one
  line with a count;
* unsubscribes and complaints attributed to the issue: those of readers it reached, made
  after it reached them and before their next issue did (a complaint report that names its
  issue counts for that one);
* clicks per item and per section, when click counting is on (``insight.clicks``: counts,
  not readers), with the scanners' fetches apart;
* the same figures for up to ``PREVIOUS`` issues before it, for comparison.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.delivery import outbox, tally
from newsletter.error import NewsletterError
from newsletter.insight import clicks
from newsletter.settings import Config
from newsletter.store import Store, from_db

PREVIOUS = 7
_ADDRESS = re.compile(r"<?[^\s<>@,;]+@[^\s<>,;]+>?")
_ID = re.compile(r"\b(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{10,}\b|\b[0-9]{5,}\b")
_NAMED_ISSUE = re.compile(r"\bissue (\d+)\b")


@dataclass(frozen=True)
class Answer:
    """One answer of the relay (or reason of ours) and how many deliveries of an outcome got it."""

    outcome: str
    answer: str
    count: int


@dataclass(frozen=True)
class ItemClicks:
    """One item the issue showed, with its clicks."""

    item_id: int
    title: str
    section: str
    link: str
    clicks: int
    discounted: int


@dataclass(frozen=True)
class SectionClicks:
    """One section's clicks: the sum of its items'."""

    name: str
    clicks: int
    discounted: int


@dataclass(frozen=True)
class Figures:
    """One issue's headline figures, for the comparison."""

    number: int
    subject: str
    sent: int
    failed: int  # failed and bounced
    unsubscribes: int
    complaints: int
    clicks: int


@dataclass(frozen=True)
class Report:
    """Everything ``report`` found about one issue."""

    number: int
    subject: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    deliveries: dict[str, int]
    answers: list[Answer]
    unsubscribes: dict[str, int]  # by origin: web, cli, desk, …
    complaints: int
    tracking: bool
    items: list[ItemClicks] = field(default_factory=list)
    sections: list[SectionClicks] = field(default_factory=list)
    history: list[Figures] = field(default_factory=list)  # oldest first, this issue last

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        data["unsubscribes"] = {"total": sum(self.unsubscribes.values()), "by_origin": self.unsubscribes}
        return data


def mask(answer: str) -> str:
    """Return a relay's answer with what differs per message (addresses, queue ids) masked, on one line."""
    text = _ID.sub("…", _ADDRESS.sub("<address>", answer or ""))
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "") or "(no answer recorded)"


def report(config: Config, store: Store, number: int, *, previous: int = PREVIOUS) -> Report:
    """Return the figures of issue ``number``, or raise NewsletterError if there is none."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(sa.select(t.issues).where(t.issues.c.number == number)).mappings().first()
        if row is None:
            raise NewsletterError(f"no issue number {number}")
        earlier = conn.execute(sa.select(t.issues.c.id, t.issues.c.number, t.issues.c.subject)
                               .where(t.issues.c.number < number).order_by(t.issues.c.number.desc())
                               .limit(previous)).all()
        counts = _deliveries(conn, store, row["id"])
        answers = _answers(conn, store, row["id"])
        unsubscribes, complaints = _after(conn, store, row["id"], number)
        items = _items(conn, store, row["id"])
        history = [_figures(conn, store, i.id, i.number, i.subject) for i in reversed(earlier)]
        history.append(_headline(number, row["subject"], counts, unsubscribes, complaints,
                                 sum(i.clicks for i in items)))
    sections: dict[str, list[ItemClicks]] = {}
    for item in items:
        sections.setdefault(item.section, []).append(item)
    return Report(number, row["subject"], row["status"], from_db(row["created_at"]),
                  from_db(row["sent_at"]), counts, answers, unsubscribes, complaints, config.tracking.clicks,
                  items, [SectionClicks(name, sum(i.clicks for i in found), sum(i.discounted for i in found))
                          for name, found in sections.items()], history)


def _deliveries(conn: sa.Connection, store: Store, issue_id: int) -> dict[str, int]:
    counts = tally.by_outcome(conn, store, issue_id)
    return {**counts, "total": sum(counts.values())}


def _answers(conn: sa.Connection, store: Store, issue_id: int) -> list[Answer]:
    d = store.t.deliveries
    grouped: dict[tuple[str, str], int] = {}
    for status, bounced, error, n in conn.execute(
            sa.select(d.c.status, d.c.bounced, d.c.last_error, sa.func.count())
            .where(d.c.issue_id == issue_id, d.c.status.in_([outbox.DEFERRED, outbox.FAILED, outbox.SKIPPED]))
            .group_by(d.c.status, d.c.bounced, d.c.last_error)):
        key = (tally.outcome(status, bounced), mask(error))
        grouped[key] = grouped.get(key, 0) + int(n)
    order = {name: i for i, name in enumerate(tally.OUTCOMES)}
    return [Answer(outcome, answer, n) for (outcome, answer), n in
            sorted(grouped.items(), key=lambda kv: (order[kv[0][0]], -kv[1], kv[0][1]))]


def _after(conn: sa.Connection, store: Store, issue_id: int, number: int) -> tuple[dict[str, int], int]:
    """Return the unsubscribes (by origin) and complaints attributed to the issue."""
    t = store.t
    d, e = t.deliveries, t.subscriber_events
    rows = conn.execute(
        sa.select(e.c.id, e.c.subscriber_id, e.c.event, e.c.origin, e.c.detail, e.c.at)
        .join(d, sa.and_(d.c.subscriber_id == e.c.subscriber_id, d.c.issue_id == issue_id))
        .where(d.c.sent_at.is_not(None), e.c.at >= d.c.sent_at, e.c.event.in_(["unsubscribed", "complained"]))
    ).all()
    readers = sorted({r.subscriber_id for r in rows})
    later = dict(conn.execute(
        sa.select(d.c.subscriber_id, sa.func.min(d.c.sent_at)).join(t.issues, t.issues.c.id == d.c.issue_id)
        .where(d.c.subscriber_id.in_(readers), t.issues.c.number > number, d.c.sent_at.is_not(None))
        .group_by(d.c.subscriber_id)).all()) if readers else {}
    named = conn.execute(sa.select(e.c.id, e.c.subscriber_id, e.c.event, e.c.origin, e.c.detail, e.c.at).where(
        e.c.event == "complained", e.c.detail.like(f"%issue {number}%"))).all()
    unsubscribes: dict[str, int] = {}
    complained: set[int] = set()
    for r in rows:
        nxt = later.get(r.subscriber_id)
        if nxt is not None and r.at >= nxt:
            continue  # after a later issue reached them: that one's
        if r.event == "unsubscribed":
            unsubscribes[r.origin or "unknown"] = unsubscribes.get(r.origin or "unknown", 0) + 1
        elif (found := _NAMED_ISSUE.search(r.detail or "")) is None or int(found[1]) == number:
            complained.add(r.id)
    complained |= {r.id for r in named if (found := _NAMED_ISSUE.search(r.detail)) and int(found[1]) == number}
    return unsubscribes, len(complained)


def _items(conn: sa.Connection, store: Store, issue_id: int) -> list[ItemClicks]:
    """Return the items the issue showed with a link of their own (not the copies of a story), in order."""
    t = store.t
    ii = t.issue_items
    rows = conn.execute(
        sa.select(ii.c.item_id, ii.c.section, ii.c.reason, t.items.c.title, t.items.c.link)
        .join(t.items, t.items.c.id == ii.c.item_id)
        .where(ii.c.issue_id == issue_id, ii.c.shown).order_by(ii.c.position)).all()
    counted = clicks.per_item(conn, store, issue_id)
    found = []
    for r in rows:
        if r.reason.startswith("same story as item") or not re.match(r"https?://", r.link or "", re.I):
            continue
        c = counted.get(r.item_id)
        found.append(ItemClicks(r.item_id, r.title, r.section or "(lead)", r.link,
                                c.clicks if c else 0, c.discounted if c else 0))
    return found


def _figures(conn: sa.Connection, store: Store, issue_id: int, number: int, subject: str) -> Figures:
    counts = _deliveries(conn, store, issue_id)
    unsubscribes, complaints = _after(conn, store, issue_id, number)
    counted = sum(c.clicks for c in clicks.per_item(conn, store, issue_id).values())
    return _headline(number, subject, counts, unsubscribes, complaints, counted)


def _headline(number: int, subject: str, deliveries: dict[str, int], unsubscribes: dict[str, int],
              complaints: int, counted: int) -> Figures:
    """Return an issue's headline figures from its deliveries by outcome and what readers did after it."""
    return Figures(number, subject, deliveries[outbox.SENT], deliveries[outbox.FAILED] + deliveries[tally.BOUNCED],
                   sum(unsubscribes.values()), complaints, counted)
