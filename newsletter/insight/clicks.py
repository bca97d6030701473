"""Click counts that identify nobody: signed links per issue and item, counted per ten-minute bucket.

With ``[tracking] clicks = true`` an item's link in the email goes to
``base_url/r/<number>-<item>-<digest>``: the digest is a keyed hash (``Signer.digest``) of the
issue number and the item id, nothing about the reader, so every reader's copy carries the same
link. ``/r/`` looks the item up among those the issue took and redirects to the item's own
address as stored; a token that does not verify, or names an item the issue did not show,
gets a 400 and never a redirect, so the link cannot be turned to another address.

What is counted: a click on an item of an issue counts once per connection (address and
browser) in each ten-minute bucket. The connection is remembered only in this process's
memory, as a keyed hash whose key is drawn afresh for each bucket and dropped with it; the
database keeps only ``(issue, item, bucket) -> counts``. A click is ``discounted`` (kept
apart, not in the figure) when it is a HEAD request, or arrives while the issue's messages
are going out or within ``tracking.scanner_seconds`` of its latest one: mail scanners fetch
every link as a message arrives. Several web processes each remember their own connections,
so a repeat that lands on another process counts again.

Only this module writes ``clicks``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.settings import Config
from newsletter.store import Store
from newsletter.tokens import LinkError, Signer

PURPOSE = "click"
BUCKET = timedelta(minutes=10)
REMEMBERED = 200_000  # connections kept per bucket; past this every click counts (memory stays bounded)
_TOKEN = re.compile(r"([1-9][0-9]{0,8})-([1-9][0-9]{0,17})-([a-z2-7]{26})")
COUNTED, DISCOUNTED, REPEATED = "counted", "discounted", "repeated"


def token(signer: Signer, number: int, item_id: int) -> str:
    """Return the token of item ``item_id`` in issue ``number``: both numbers and their keyed digest."""
    return f"{number}-{item_id}-{signer.digest(PURPOSE, f'{number}-{item_id}')}"


def link(config: Config, signer: Signer, number: int, item_id: int) -> str:
    """Return the tracked address of an item's link in issue ``number``."""
    return f"{config.newsletter.base_url.rstrip('/')}/r/{token(signer, number, item_id)}"


def read(signer: Signer, given: str) -> tuple[int, int]:
    """Return ``(issue number, item id)`` of a token, or raise LinkError if it is not one we signed."""
    found = _TOKEN.fullmatch(given)
    if found is None or not signer.verify(PURPOSE, f"{found[1]}-{found[2]}", found[3]):
        raise LinkError("invalid or tampered link")
    return int(found[1]), int(found[2])


@dataclass(frozen=True)
class Target:
    """Where a tracked link leads: the item's own address, in an issue that took it."""

    issue_id: int
    item_id: int
    url: str


def target(store: Store, number: int, item_id: int) -> Target:
    """Return the item's own link in issue ``number``, or raise LinkError if the issue did not show it."""
    t = store.t
    with store.begin() as conn:
        row = conn.execute(
            sa.select(t.issues.c.id, t.items.c.link)
            .join(t.issue_items, t.issue_items.c.issue_id == t.issues.c.id)
            .join(t.items, t.items.c.id == t.issue_items.c.item_id)
            .where(t.issues.c.number == number, t.issue_items.c.item_id == item_id, t.issue_items.c.shown)
        ).first()
    if row is None or not re.match(r"https?://[^\s]+$", row.link or "", re.I):
        raise LinkError("this link does not lead anywhere")
    return Target(row.id, item_id, row.link)


def bucket(moment: datetime) -> datetime:
    """Return the start of the ten-minute bucket ``moment`` (naive UTC) falls in."""
    return moment.replace(minute=moment.minute - moment.minute % 10, second=0, microsecond=0)


class Counter:
    """Count clicks as the module says; one per web app, shared by its threads."""

    def __init__(self, *, scanner_seconds: float) -> None:
        self.scanner = timedelta(seconds=scanner_seconds)
        self._lock = threading.Lock()
        self._bucket: datetime | None = None
        self._key = b""
        self._seen: set[bytes] = set()
        self._latest: dict[int, tuple[float, datetime | None]] = {}  # issue id -> (looked up at, latest send)

    def click(self, store: Store, found: Target, *, connection: str, head: bool, moment: datetime) -> str:
        """Count one click on ``found`` at ``moment`` (naive UTC); return counted, discounted or repeated."""
        start = bucket(moment)
        with self._lock:
            if start != self._bucket:  # a new bucket: a new key, and the old one's connections are forgotten
                self._bucket, self._key, self._seen = start, secrets.token_bytes(32), set()
            mark = hmac.new(self._key, f"{found.issue_id}\n{found.item_id}\n{int(head)}\n{connection}".encode(),
                            hashlib.sha256).digest()[:16]
            if mark in self._seen:
                return REPEATED
            if len(self._seen) < REMEMBERED:
                self._seen.add(mark)
        latest = self._latest_send(store, found.issue_id)
        kind = DISCOUNTED if head or (latest is not None and moment - latest < self.scanner) else COUNTED
        _add(store, found, start, kind)
        return kind

    def _latest_send(self, store: Store, issue_id: int) -> datetime | None:
        """Return when the issue's latest message went out (looked up at most every few seconds)."""
        known = self._latest.get(issue_id)
        if known is not None and time.monotonic() - known[0] < 5:
            return known[1]
        d = store.t.deliveries
        with store.begin() as conn:
            latest = conn.execute(sa.select(sa.func.max(d.c.sent_at)).where(d.c.issue_id == issue_id)).scalar()
        self._latest[issue_id] = (time.monotonic(), latest)
        return latest


def _add(store: Store, found: Target, start: datetime, kind: str) -> None:
    """Add one to the bucket's count of ``kind``: an update, else an insert (a racing insert retries the update)."""
    c = store.t.clicks
    column = "clicks" if kind == COUNTED else "discounted"
    key = (c.c.issue_id == found.issue_id, c.c.item_id == found.item_id, c.c.bucket == start)
    for _ in range(3):
        try:
            with store.begin() as conn:
                if conn.execute(c.update().where(*key).values({column: c.c[column] + 1})).rowcount:
                    return
                conn.execute(c.insert().values(issue_id=found.issue_id, item_id=found.item_id, bucket=start,
                                               clicks=int(kind == COUNTED), discounted=int(kind != COUNTED)))
                return
        except sa.exc.IntegrityError:
            continue  # another process inserted this bucket's row first: add to it


@dataclass(frozen=True)
class ClickCounts:
    """How often one item's link in an issue was followed: counted, and discounted (mail scanners' fetches)."""

    item_id: int
    clicks: int
    discounted: int


def per_item(conn: sa.Connection, store: Store, issue_id: int) -> dict[int, ClickCounts]:
    """Return the clicks of each item of an issue that has any, in the caller's transaction."""
    c = store.t.clicks
    rows = conn.execute(sa.select(c.c.item_id, sa.func.sum(c.c.clicks), sa.func.sum(c.c.discounted))
                        .where(c.c.issue_id == issue_id).group_by(c.c.item_id)).all()
    return {r[0]: ClickCounts(r[0], int(r[1] or 0), int(r[2] or 0)) for r in rows}
