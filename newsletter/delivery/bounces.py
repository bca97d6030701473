"""Bounce and complaint reports applied to the subscriber list: whose they are, what proves it, what they change.

Most refusals arrive after the send, as mail: a relay accepted the message, the
reader's server refused it, and the relay reports back. ``dsn.parse`` reads one such
message into findings (one per recipient block); ``Reports`` works out whose they
are and applies them. Anyone can send us a report, so a report changes a reader only
with proof that we sent that message to that reader:

* proof: our Message-ID (``<issue{N}.r{id}.{digest}@{domain}>``, the digest an HMAC
  under the secret key, see ``message.message_id``) in the returned original or its
  References, or the signed token of the original's List-Unsubscribe link. If both
  are there they must name the same reader. A token alone names the reader but not
  the issue (unless an unsigned Message-ID of ours names that same reader, as those
  made before Message-IDs were signed do). A bounce must also name the proven reader's
  address (its Final- or Original-Recipient) when it names one.
* weaker evidence (the recipient's address alone, a Message-ID that looks like ours
  but fails its check, a link we did not sign) proves nothing: the finding is
  ``unverified``, kept once per report in the history of the reader the address
  names (event ``unverified report``), and changes nothing.
* a hard bounce (see ``dsn``) counts once per issue and reader, as a refusal at send
  time does: the delivery is flagged ``bounced`` (a ``sent`` one becomes ``failed`` with
  the diagnostic) and the reader's ``bounces`` becomes at least the run of their
  bounced deliveries up to that issue, so a later send that the relay accepted (which
  resets the count) cannot hide refusals in a row. At ``bounce_limit`` an active
  reader becomes ``bounced``; at once when the report says the address is gone
  (``dsn.GONE``: no such user, null MX, no such domain).
* a proven bounce naming no issue (a token alone) counts once per report: the
  report's own Message-ID (else a digest of its bytes) is kept in the reader's
  history, and a report already there is not counted again.
* delays and 4.x.x failures are reported and change nothing; an ARF report of type
  ``abuse`` makes the reader ``complained`` (other types are reported and ignored),
  but only with the original's unsubscribe link signed for that reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsletter import subscribers
from newsletter.delivery.dsn import (
    BOUNCE,
    COMPLAINT,
    IGNORED,
    LIMIT,
    OTHER,
    SOFT,
    Finding,
    ParsedReport,
    parse,
)
from newsletter.delivery.outbox import FAILED, SENT, flag_bounced
from newsletter.email.message import read_message_id, sender_address
from newsletter.error import BounceError, NewsletterError
from newsletter.settings import Config
from newsletter.store import Store, now
from newsletter.tokens import UNSUBSCRIBE, Signer

__all__ = ["LIMIT", "Applied", "BounceReport", "Reports", "Result", "files", "reports"]

EVENT = "bounce report"  # the history row each counted bounce leaves
UNVERIFIED = "unverified report"  # the history row of a report that proves nothing
UNPROVEN = ("only the recipient's address says whose it is: no Message-ID or unsubscribe link we signed, "
            "and anyone can write an address")


@dataclass(frozen=True)
class Applied:
    """What was done for one finding: whose it is (if known), what proves it, and the action taken."""

    kind: str
    email: str
    status: str
    diagnostic: str
    # counted | flagged | already counted | marked bounced | marked complained | already complained
    # | unverified | nothing | ignored
    action: str
    issue: int | None = None
    subscriber_id: int | None = None
    reason: str = ""
    evidence: str = ""  # what proves we sent it to that reader: "Message-ID", "unsubscribe link", both, or ""

    def describe(self) -> str:
        """Return this finding in a few words, for one line of output."""
        about = ", ".join(x for x in (self.status, f"issue {self.issue}" if self.issue else "") if x)
        text = f"{self.kind} {self.email or '(address unknown)'}" + (f" ({about})" if about else "")
        return f"{text}: {self.action}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Result:
    """One message processed: the report's kind and each finding applied, or the error that stopped it."""

    name: str
    kind: str = ""
    applied: list[Applied] = field(default_factory=list)
    reason: str = ""
    error: str = ""

    def line(self) -> str:
        """Return the one line printed for this message."""
        if self.error:
            return f"error: {self.name}: {self.error}"
        if not self.applied:
            return f"{self.name}: " + (f"{self.kind}: " if self.kind else "") + \
                f"skipped ({self.reason or 'nothing in it'})"
        return f"{self.name}: {self.kind}: " + "; ".join(a.describe() for a in self.applied)

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"name": self.name, "kind": self.kind, "reason": self.reason, "error": self.error,
                "findings": [asdict(a) for a in self.applied]}


@dataclass(frozen=True)
class BounceReport:
    """What reading a batch of messages did, message by message."""

    results: list[Result]

    @property
    def failed(self) -> list[Result]:
        """Return the messages that could not be read."""
        return [r for r in self.results if r.error]

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        counted = [a for r in self.results for a in r.applied]
        return {"messages": [r.to_json() for r in self.results], "failed": len(self.failed),
                "bounces": sum(a.kind == BOUNCE and a.action in ("counted", "marked bounced") for a in counted),
                "complaints": sum(a.action == "marked complained" for a in counted),
                "unverified": sum(a.action == "unverified" for a in counted)}


@dataclass(frozen=True)
class _Whose:
    """The reader a report is about, what proves it (empty: nothing), and the issue when the Message-ID says it."""

    subscriber: subscribers.Subscriber | None
    issue: int | None = None
    reason: str = ""
    evidence: str = ""
    subscriber_id: int | None = None  # the id the evidence names, even when no such reader is left


class Reports:
    """Apply reports to the store of a newsletter whose messages come from ``domain``."""

    def __init__(self, store: Store, *, domain: str, signer: Signer, bounce_limit: int) -> None:
        self.store = store
        self.domain = domain.casefold()
        self.signer = signer
        self.bounce_limit = bounce_limit

    def process(self, messages: Iterable[tuple[str, bytes | Path]]) -> BounceReport:
        """Read and apply each ``(name, bytes or file)``; a message that cannot be read is one error result."""
        return BounceReport([self.one(name, data) for name, data in messages])

    def one(self, name: str, data: bytes | Path) -> Result:
        """Read and apply one message; return what was found and done (errors included, never raised)."""
        try:
            if isinstance(data, Path):
                with data.open("rb") as f:
                    data = f.read(LIMIT + 1)  # enough to tell it is too large, never more
        except OSError as e:
            return Result(name, error=f"cannot read: {e.strerror or e}")
        try:
            parsed = parse(data)
        except BounceError as e:
            return Result(name, error=str(e))
        return self.parsed(name, parsed)

    def parsed(self, name: str, parsed: ParsedReport) -> Result:
        """Apply a report already read (from mail, or an ESP's event); return what was done (errors included)."""
        if parsed.kind == OTHER:
            return Result(name, OTHER, reason=parsed.reason)
        try:
            return Result(name, parsed.kind, [self.apply(parsed, f) for f in parsed.findings])
        except NewsletterError as e:
            return Result(name, parsed.kind, error=str(e))

    def apply(self, parsed: ParsedReport, finding: Finding) -> Applied:
        """Apply one finding of ``parsed`` and return what was done."""
        whose = self._whose(parsed, finding)
        reader = whose.subscriber
        done = Applied(finding.kind, reader.email if reader else finding.email, finding.status,
                       finding.diagnostic, "ignored", whose.issue, reader.id if reader else None,
                       finding.reason or whose.reason, whose.evidence)
        if finding.kind == IGNORED or reader is None:
            return done
        if finding.kind == SOFT:
            return replace(done, action="nothing", reason="a temporary failure changes nothing")
        if not whose.evidence:
            return self._unverified(done, reader, parsed.key)
        if finding.kind == COMPLAINT:
            if not self._signed_for(parsed, reader.id):
                return self._unverified(replace(done, reason="a complaint counts only with the original's "
                                                "unsubscribe link signed for that reader"), reader, parsed.key)
            if reader.status == "complained":
                return replace(done, action="already complained")
            detail = f"{finding.status} report" + (f" from {finding.diagnostic}" if finding.diagnostic else "")
            subscribers.change(self.store, reader.id, "complained", origin="feedback report",
                               detail=detail + (f", issue {whose.issue}" if whose.issue else ""))
            return replace(done, action="marked complained")
        return self._bounce(done, reader, parsed.key, suppress=finding.suppress)

    def _whose(self, parsed: ParsedReport, finding: Finding) -> _Whose:
        """Return the reader a finding is about and what proves it, or why it cannot be told."""
        claim, doubt = self._proof(parsed)
        named = [a.casefold() for a in (finding.email, finding.original) if "@" in a]
        if claim is not None and claim.subscriber is not None and finding.kind != COMPLAINT and named \
                and claim.subscriber.email.casefold() not in named:  # ARF reports often redact the address
            claim, doubt = None, (f"the report's recipient {finding.email or finding.original} is not the "
                                  "address of the reader its original was sent to")
        if claim is not None:
            return claim
        for address in named:
            found = subscribers.find(self.store, address)
            if found is not None:
                return _Whose(found, reason=doubt or UNPROVEN)
        if named:
            return _Whose(None, reason=doubt or f"no subscriber {named[0]}")
        return _Whose(None, reason=doubt or "nothing in it says whose it is (no address, Message-ID or link of ours)")

    def _proof(self, parsed: ParsedReport) -> tuple[_Whose | None, str]:
        """Return whose the original was, by our signed Message-ID or unsubscribe link; else None and why not."""
        by_id: _Whose | None = None
        claimed, doubt = None, ""
        for value in parsed.message_ids:
            sent = read_message_id(self.signer, value, self.domain)
            if sent is None:
                continue
            if sent.proven:
                by_id = self._claim(sent.subscriber_id, sent.number, "Message-ID")
                break
            claimed = claimed or sent
            doubt = doubt or (f"Message-ID {value} looks like ours but fails its check: forged, from another "
                              "newsletter, or made before Message-IDs were signed")
        by_token: _Whose | None = None
        for token in parsed.tokens[:1]:
            try:
                subscriber_id = self.signer.check(UNSUBSCRIBE, token)
            except NewsletterError:
                doubt = doubt or "the unsubscribe link in the original is not one we signed"
                continue
            # The token proves the reader; an unsigned Message-ID of ours for that same reader tells the issue.
            number = claimed.number if claimed is not None and claimed.subscriber_id == subscriber_id else None
            by_token = self._claim(subscriber_id, number, "unsubscribe link")
        if by_id is not None and by_token is not None:
            if by_id.subscriber_id != by_token.subscriber_id:
                return None, "the Message-ID and the unsubscribe link name different readers"
            return replace(by_id, evidence="Message-ID and unsubscribe link"), ""
        return by_id or by_token, doubt

    def _claim(self, subscriber_id: int, issue: int | None, evidence: str) -> _Whose:
        """Return the reader that proven evidence names (none for a test copy or a reader no longer there)."""
        if subscriber_id == 0:
            return _Whose(None, issue, "a test copy (`send --to`), not a reader's", evidence, 0)
        try:
            reader = subscribers.get_by_id(self.store, subscriber_id)
        except NewsletterError:
            return _Whose(None, issue, "that reader is no longer in the list", evidence, subscriber_id)
        return _Whose(reader, issue, "", evidence, subscriber_id)

    def _signed_for(self, parsed: ParsedReport, subscriber_id: int) -> bool:
        """Return whether the original carries an unsubscribe link we signed for this reader."""
        for token in parsed.tokens:
            try:
                if self.signer.check(UNSUBSCRIBE, token) == subscriber_id:
                    return True
            except NewsletterError:
                continue
        return False

    def _unverified(self, done: Applied, reader: subscribers.Subscriber, key: str) -> Applied:
        """Keep a report that proves nothing in the reader's history, once per report; change nothing."""
        e = self.store.t.subscriber_events
        mark = f"{key}:"
        origin = "feedback report" if done.kind == COMPLAINT else "bounce report"
        unverified = replace(done, action="unverified")
        with self.store.begin() as conn:
            if conn.execute(sa.select(e.c.id).where(e.c.subscriber_id == reader.id, e.c.event == UNVERIFIED,
                                                    e.c.detail.startswith(mark, autoescape=True))).first():
                return unverified
            detail = f"{mark} {done.kind} {done.status} {done.diagnostic}".strip()
            subscribers.record_events(conn, self.store, [subscribers.event_row(
                reader.id, UNVERIFIED, reader.status, origin, now(), f"{detail[:1500]}; {done.reason}"[:2000])])
        return unverified

    def _bounce(self, done: Applied, reader: subscribers.Subscriber, key: str, *, suppress: bool) -> Applied:
        """Count a proven hard bounce once, then mark the reader bounced if it makes the limit or the address is gone."""
        t = self.store.t
        d, e = t.deliveries, t.subscriber_events
        moment = now()
        mark = f"{key}:" if done.issue is None else f"issue {done.issue}:"
        with self.store.begin() as conn:
            run, counts = 1, True
            if done.issue is not None:
                row = conn.execute(sa.select(d.c.id, d.c.status).select_from(d.join(t.issues)).where(
                    t.issues.c.number == done.issue, d.c.subscriber_id == reader.id)).first()
                if row is None:
                    return replace(done, reason=f"issue {done.issue} was never sent to this reader")
                if not flag_bounced(conn, self.store, row.id, row.status, moment=moment,
                                    error=f"bounced later: {done.status} {done.diagnostic}"):
                    return replace(done, action="already counted")
                run, since = self._run(conn, reader.id)
                counts = since is None or done.issue > since
            elif conn.execute(sa.select(e.c.id).where(e.c.subscriber_id == reader.id, e.c.event == EVENT,
                                                       e.c.detail.startswith(mark, autoescape=True))).first():
                return replace(done, action="already counted")
            bounces = subscribers.record_bounce(conn, self.store, reader, counted=counts, run=run, event=EVENT,
                                                origin="bounce report", moment=moment,
                                                detail=f"{mark} {done.status} {done.diagnostic}".strip()[:2000])
        if not counts:
            return replace(done, action="flagged", reason=f"a later issue reached the reader: not a refusal in a row; "
                           f"{bounces} of {self.bounce_limit}")
        counted = replace(done, action="counted", reason=f"{bounces} of {self.bounce_limit}")
        if reader.status != "active" or not (suppress or bounces >= self.bounce_limit):
            return counted
        if suppress:
            detail, reason = f"the address is gone: {done.status} {done.diagnostic}", "the address is gone"
        else:
            detail = f"{bounces} permanent refusal(s) in a row; last: {done.status} {done.diagnostic}"
            reason = counted.reason
        subscribers.change(self.store, reader.id, "bounced", origin="bounce report", detail=detail[:2000])
        return replace(counted, action="marked bounced", reason=reason)

    def _run(self, conn: sa.Connection, subscriber_id: int) -> tuple[int, int | None]:
        """Return the reader's latest deliveries that bounced in a row, and the issue that broke the run.

        A delivery accepted and not reported since breaks it; one that failed for
        another reason (given up after delays) neither breaks nor extends it.
        """
        t = self.store.t
        d = t.deliveries
        rows = conn.execute(sa.select(t.issues.c.number, d.c.status, d.c.bounced).select_from(d.join(t.issues))
                            .where(d.c.subscriber_id == subscriber_id, d.c.status.in_([SENT, FAILED]))
                            .order_by(t.issues.c.number.desc()).limit(100))
        run = 0
        for number, status, bounced in rows:
            if bounced:
                run += 1
            elif status == SENT:
                return run, number
        return run, None


def reports(config: Config, store: Store, signer: Signer) -> Reports:
    """Return the Reports of a newsletter: its From domain, its signing key, its ``smtp.bounce_limit``."""
    domain = sender_address(config)[1].rsplit("@", 1)[1]
    return Reports(store, domain=domain, signer=signer, bounce_limit=config.smtp.bounce_limit)


def files(paths: Iterable[str]) -> Iterator[tuple[str, Path]]:
    """Yield ``(name, path)`` of every message file: a file itself, every file under a folder.

    In a maildir (a folder with ``cur`` and ``new``) only those two are read: ``tmp``
    holds messages still being written.
    """
    for name in paths:
        path = Path(name)
        if not path.is_dir():
            yield name, path
            continue
        maildir = (path / "cur").is_dir() and (path / "new").is_dir()
        roots = [path / "cur", path / "new"] if maildir else [path]
        for root in roots:
            for found in sorted(root.rglob("*")):
                if found.is_file() and not _in_maildir_tmp(found, path):
                    yield str(found), found


def _in_maildir_tmp(found: Path, top: Path) -> bool:
    """Return whether ``found`` sits in the ``tmp`` of a maildir nested below ``top``."""
    for parent in found.parents:
        if parent == top:
            return False
        if parent.name == "tmp" and (parent.parent / "cur").is_dir() and (parent.parent / "new").is_dir():
            return True
    return False
