"""The bounce mailbox read over IMAP: each message applied once as a report, then moved to the processed folder.

``read`` logs in to ``bounces.imap_url`` (``imaps://`` TLS, ``imap+starttls://``, or
``imap://`` in the clear, for loopback), takes up to ``BATCH`` messages of its folder,
applies each exactly as ``newsletter bounces FILE`` would (``Reports``: the same rules,
the same proof), and moves them to ``bounces.imap_folder`` (made if missing): with
MOVE when the server offers it, else COPY, ``\\Deleted`` and EXPUNGE (only those
messages when it offers UIDPLUS). Messages are fetched with ``BODY.PEEK`` (left
unread if anything fails) and at most ``LIMIT`` + 1 bytes each, which is enough to
refuse a larger one unread.

Never twice: a receipt (``receipts``: a digest of the message's bytes) is kept after
each message is applied and before any is moved, so a message still there next time
(the move failed, or a crash came first) is only moved. A message whose report could
not be applied for a reason of ours (the database) is neither kept nor moved: it is
read again next time. ``Poller`` reads it every ``bounces.poll_minutes`` for
``newsletter run``.
"""

from __future__ import annotations

import base64
import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.config import split_server_url
from newsletter.delivery import receipts
from newsletter.delivery.bounces import LIMIT, BounceReport, Reports, Result, reports
from newsletter.error import ConfigError, NewsletterError
from newsletter.settings import Config

if TYPE_CHECKING:
    from newsletter.app import Newsletter

log = logging.getLogger("newsletter.bounces")

SCHEMES = {"imaps": (993, "tls"), "imap+starttls": (143, "starttls"), "imap": (143, "plain")}
BATCH = 500  # messages read in one go; the rest wait for the next
ALREADY = "already applied: only moved"


class MailboxError(NewsletterError):
    """The bounce mailbox cannot be reached, logged in to, or read."""


@dataclass(frozen=True)
class BounceMailbox:
    """Where the bounce mailbox is and how to reach it."""

    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str
    password: str
    folder: str  # the one read
    processed: str  # the one read messages are moved to
    timeout: float = 30.0
    ca_file: Path | None = None

    def __str__(self) -> str:
        scheme = {v[1]: k for k, v in SCHEMES.items()}[self.security]
        return f"{scheme}://{self.host}:{self.port}/{self.folder}"


def configured(config: Config) -> BounceMailbox | None:
    """Return the bounce mailbox of ``[bounces]``, None when ``imap_url`` is empty, or raise ConfigError."""
    b = config.bounces
    if not b.imap_url:
        return None
    server = split_server_url(b.imap_url, SCHEMES, where="bounces.imap_url")
    if not server.username or server.password is None:
        raise ConfigError("bounces.imap_url: needs user:password@ before the host (an @ in the user name is %40)")
    if not b.imap_folder.strip():
        raise ConfigError("bounces.imap_folder: must name a folder")
    folder = server.path or "INBOX"
    if folder == b.imap_folder:
        raise ConfigError(f"bounces.imap_folder: {folder!r} is the folder read; name another to move messages to")
    return BounceMailbox(server.host, server.port, server.security, server.username, server.password, folder,
                   b.imap_folder, b.timeout, config.resolve(b.ca_file) if b.ca_file else None)


def read(mailbox: BounceMailbox, applier: Reports, *, limit: int = BATCH) -> BounceReport:
    """Apply up to ``limit`` messages of the mailbox as reports and move them; raise MailboxError if it fails at once.

    A failure after the first message is one error result at the end; what was done stays done.
    """
    conn = _open(mailbox)
    try:
        try:
            capabilities = _capabilities(conn)
            _create(conn, mailbox)
            status, found = conn.uid("SEARCH", None, "ALL")  # type: ignore[arg-type]
            _expect(status, found, f"cannot list the messages of {mailbox.folder}")
        except (OSError, imaplib.IMAP4.error, MailboxError) as e:
            raise MailboxError(f"bounce mailbox {mailbox}: {_say(e)}") from None
        uids = [u.decode() for u in (found[0] or b"").split()][:limit]
        results: list[Result] = []
        handled: list[str] = []
        try:
            for uid in uids:
                result = _one(conn, mailbox, applier, uid)
                if result is not None:
                    results.append(result)
                    if not (result.error and result.kind):  # not applied for a reason of ours: read it again
                        handled.append(uid)
            if handled:
                _move(conn, mailbox, handled, capabilities)
        except (OSError, imaplib.IMAP4.error, MailboxError) as e:
            results.append(Result(str(mailbox), error=f"stopped: {_say(e)}; the rest is read next time"))
        return BounceReport(results)
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


class Poller:
    """Read the bounce mailbox for ``newsletter run`` every ``bounces.poll_minutes``; log, never raise."""

    def __init__(self, mailbox: BounceMailbox | None, applier: Callable[[], Reports], clock: Callable[[], datetime],
                 minutes: float) -> None:
        self.mailbox = mailbox
        self.applier = applier
        self.clock = clock
        self.every = timedelta(minutes=minutes)
        self.next: datetime | None = None

    def tick(self) -> BounceReport | None:
        """Read the mailbox if it is time; return what was done (None: not read)."""
        now = self.clock()
        if self.mailbox is None or self.every <= timedelta(0) or (self.next is not None and now < self.next):
            return None
        self.next = now + self.every
        try:
            report = read(self.mailbox, self.applier())
        except NewsletterError as e:
            log.error("%s", e)
            return None
        except Exception:  # a scheduler job: the daemon outlives any one reading
            log.exception("bounce mailbox %s: unexpected error", self.mailbox)
            return None
        for result in report.results:
            log.log(logging.WARNING if result.error else logging.INFO, "bounce mailbox: %s", result.line())
        return report


def collect(app: Newsletter) -> BounceReport:
    """Read ``app``'s bounce mailbox once (``newsletter bounces --imap``); raise ConfigError when none is set."""
    mailbox = configured(app.config)
    if mailbox is None:
        raise ConfigError("bounces.imap_url is empty: set it (or NEWSLETTER_IMAP_URL) to the bounce mailbox, "
                          "e.g. imaps://user:password@imap.example.org/INBOX")
    return read(mailbox, reports(app.config, app.store, app.signer()))


def poller(app: Newsletter, clock: Callable[[], datetime]) -> Poller:
    """Return the Poller of ``app``'s bounce mailbox (one that does nothing when none is configured)."""
    b = app.config.bounces
    try:
        mailbox = configured(app.config)
    except ConfigError as e:
        log.error("%s: the bounce mailbox is not read", e)
        mailbox = None
    return Poller(mailbox, lambda: reports(app.config, app.store, app.signer()), clock, b.poll_minutes)


def _open(mailbox: BounceMailbox) -> imaplib.IMAP4:
    """Connect, secure and log in; select the folder read."""
    where = f"bounce mailbox {mailbox}"
    context = ssl.create_default_context(cafile=str(mailbox.ca_file) if mailbox.ca_file else None)
    try:
        if mailbox.security == "tls":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context,
                                                    timeout=mailbox.timeout)
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=mailbox.timeout)
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailboxError(f"{where}: cannot connect: {_say(e)}") from None
    try:
        if mailbox.security == "starttls":
            conn.starttls(context)
        conn.login(mailbox.username, mailbox.password)
    except (OSError, imaplib.IMAP4.error) as e:
        _close(conn)
        step = "login refused" if conn.state == "NONAUTH" and isinstance(e, imaplib.IMAP4.error) else "failed"
        raise MailboxError(f"{where}: {step}: {_say(e)}") from None
    try:
        status, data = conn.select(_name(mailbox.folder))
        _expect(status, data, f"no folder {mailbox.folder!r}")
    except (OSError, imaplib.IMAP4.error, MailboxError) as e:
        _close(conn)
        raise MailboxError(f"{where}: {_say(e)}") from None
    return conn


def _close(conn: imaplib.IMAP4) -> None:
    """Drop a connection that failed half-way (a failed TLS handshake leaves its socket unusable)."""
    try:
        conn.shutdown()
    except OSError:
        pass


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    """Return what the server offers once logged in (it may offer more than before)."""
    status, data = conn.capability()
    _expect(status, data, "no capabilities")
    return {c.upper() for c in b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").split()}


def _create(conn: imaplib.IMAP4, mailbox: BounceMailbox) -> None:
    """Make the processed folder unless it is there."""
    status, data = conn.list('""', _name(mailbox.processed))
    if status == "OK" and any(data):
        return
    status, data = conn.create(_name(mailbox.processed))
    _expect(status, data, f"cannot create the folder {mailbox.processed!r}")


def _one(conn: imaplib.IMAP4, mailbox: BounceMailbox, applier: Reports, uid: str) -> Result | None:
    """Apply one message (None: it went away meanwhile) and keep its receipt."""
    status, data = conn.uid("FETCH", uid, f"(BODY.PEEK[]<0.{LIMIT + 1}>)")
    _expect(status, data, f"cannot fetch message {uid}")
    body = next((part[1] for part in data if isinstance(part, tuple) and b"BODY[" in part[0].upper()), None)
    if body is None:
        return None
    name = f"{mailbox.folder}/{uid}"
    receipt = receipts.key("imap", hashlib.sha256(body).hexdigest())
    if receipts.seen(applier.store, [receipt]):
        return Result(name, reason=ALREADY)
    result = applier.one(name, body)
    if not (result.error and result.kind):
        receipts.keep(applier.store, [receipt], "imap")
    return result


def _move(conn: imaplib.IMAP4, mailbox: BounceMailbox, uids: list[str], capabilities: set[str]) -> None:
    """Move messages to the processed folder: MOVE, else COPY then delete them."""
    target, uidset = _name(mailbox.processed), ",".join(uids)
    if "MOVE" in capabilities:
        status, data = conn.uid("MOVE", uidset, target)
        _expect(status, data, f"cannot move messages to {mailbox.processed!r}")
        return
    status, data = conn.uid("COPY", uidset, target)
    _expect(status, data, f"cannot copy messages to {mailbox.processed!r}")
    status, data = conn.uid("STORE", uidset, "+FLAGS.SILENT", r"(\Deleted)")
    _expect(status, data, "cannot mark the copied messages deleted")
    status, data = conn.uid("EXPUNGE", uidset) if "UIDPLUS" in capabilities else conn.expunge()
    _expect(status, data, "cannot expunge the copied messages")


def _expect(status: str, data: Sequence[object], what: str) -> None:
    if status != "OK":
        said = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxError(f"{what}: {status} {said}".strip()[:300])


def _say(e: BaseException) -> str:
    """Return an error in one short line."""
    text = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, OSError) and e.strerror:
        text = e.strerror
    if re.fullmatch(r"b'.*'|b\".*\"", text):  # imaplib says the server's bytes as Python writes them
        text = text[2:-1]
    return text[:300]


def _name(folder: str) -> str:
    """Return a folder name as IMAP wants it: modified UTF-7 (RFC 3501), quoted."""
    out: list[str] = []
    for run in re.findall(r"[\x20-\x7e]+|[^\x20-\x7e]+", folder):
        if "\x20" <= run[0] <= "\x7e":
            out.append(run.replace("&", "&-"))
        else:
            encoded = base64.b64encode(run.encode("utf-16-be")).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{encoded}-")
    text = "".join(out)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
