"""The newsletter application: one object owns config, store and mail transport."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from newsletter import archive, delivery, subscribers
from newsletter.archive import ArchiveReport
from newsletter.config import Config, parse_url
from newsletter.delivery import oauth, outbox, tally, waves
from newsletter.delivery.bounces import BounceReport, Reports
from newsletter.delivery.smtp import Connection
from newsletter.edit import issue
from newsletter.edit.issue import Draft
from newsletter.email import dkim as dkim_module
from newsletter.email import links, message
from newsletter.email import render as rendering
from newsletter.email.message import Composer
from newsletter.email.render import Rendered, Renderer
from newsletter.error import NewsletterError, SmtpError
from newsletter.gather import GatherReport, gather
from newsletter.progress import Progress, Silent
from newsletter.store import Store
from newsletter.subscribers import iterate, normalise_email
from newsletter.tokens import Signer
from newsletter.webhooks import sender as webhook_sender


@dataclass(frozen=True)
class IssueReport:
    """What happened to one issue during a send."""

    number: int
    subject: str
    resumed: bool
    counts: delivery.Counts

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {"number": self.number, "subject": self.subject, "resumed": self.resumed,
                "deliveries": self.counts.to_json()}


@dataclass(frozen=True)
class SendReport:
    """What ``send`` did: the issues it delivered, or why it sent nothing."""

    status: str  # sent | nothing-new | no-subscribers | dry-run | test | cancelled | retried
    issues: list[IssueReport] = field(default_factory=list)
    gather: GatherReport | None = None
    draft: Draft | None = None
    recipients: int = 0
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return plain data for ``--json``."""
        return {
            "status": self.status, "message": self.message, "recipients": self.recipients,
            "issues": [i.to_json() for i in self.issues],
            "gather": self.gather.to_json() if self.gather else None,
        }




def _sample(sections: tuple[str, ...] = (), language: str = "") -> Any:
    """Return the reader a preview is rendered for (every section, the newsletter's language, unless chosen)."""
    return message.Recipient(id=0, email="reader@example.org", name="Reader", sections=sections, language=language)


class Newsletter:
    """Open with a Config; every command is one method here."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store | None = None,
        connect: Callable[[], Connection] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        if store is not None:
            self.__dict__["store"] = store
        self._connect = connect
        self.clock = clock or (lambda: datetime.now(config.zone))

    @cached_property
    def store(self) -> Store:
        """Return the state store, created and migrated on first use."""

        return Store(self.config.database_url)

    def close(self) -> None:
        """Close the store's connections if it was opened (SQLite then folds its log back into the file)."""
        store = self.__dict__.get("store")
        if store is not None:
            store.engine.dispose()

    def connection(self) -> Connection:
        """Return a new SMTP connection (not yet open)."""
        if self._connect is not None:
            return self._connect()
        smtp = self.config.smtp
        return Connection(parse_url(smtp.url), timeout=smtp.timeout, data_timeout=smtp.data_timeout,
                          pipelining=smtp.pipelining, token=self.oauth_token,
                          ca_file=str(self.config.resolve(smtp.ca_file)) if smtp.ca_file else None)

    @cached_property
    def oauth_token(self) -> oauth.Token | None:
        """Return the OAuth token of ``[smtp]`` for XOAUTH2, shared by every connection; None without one."""
        return oauth.configured(self.config)

    @cached_property
    def dkim(self) -> dkim_module.Dkim | None:
        """Return the DKIM signer of the ``[dkim]`` settings, or None when signing is off."""
        d = self.config.dkim
        return dkim_module.load(d.selector, d.domain, d.key_file, self.config.root)

    def stamp(self, composer: Composer) -> Callable[[bytes], bytes]:
        """Return what finishes each of the issue's messages: Feedback-ID, then DKIM if configured."""
        return delivery.stamper(composer, self.dkim)

    def signer(self) -> Signer:
        """Return the signer for subscriber links."""
        return Signer(self.store.secret(self.config.newsletter.secret_key))

    def gather(self, *, progress: Progress | None = None, readers: Executor | None = None) -> GatherReport:
        """Fetch every source and store new items (reading feeds in ``readers``, see ``processes.pool``)."""
        return gather(self.config, self.store, progress=progress, clock=self.clock, readers=readers)

    def draft(self) -> Draft:
        """Return the next issue built from waiting items; nothing is stored."""
        return issue.draft(self.config, self.store, moment=self.clock())

    def composer(self, draft: Draft, rendered: Rendered | Renderer) -> Composer:
        """Return the message builder for an issue (a Renderer gives readers the sections they chose)."""
        return message.Composer(self.config, number=draft.number, subject=draft.subject, rendered=rendered,
                        signer=self.signer(), date=draft.date)

    def preview(self, *, sections: tuple[str, ...] = (), language: str = "") -> tuple[Draft, Rendered]:
        """Render the next issue as a sample reader would see it (the copy of ``sections`` and ``language``).

        Nothing is consumed.
        """
        draft = self.draft()
        composer = self.composer(draft, rendering.Renderer(self.config, draft, preview=True))
        sample = _sample(sections, language)
        return draft, rendering.personalise(composer.rendered_for(sample), composer.personal(sample))

    def send(
        self,
        *,
        dry_run: bool = False,
        to: str | None = None,
        fetch: bool = True,
        confirm: Callable[[Draft, int], bool] | None = None,
        progress: Progress | None = None,
        retry_failed: bool = False,
        stop: threading.Event | None = None,
        now: bool = False,
    ) -> SendReport:
        """Resume any unfinished issue, gather, then build and deliver the next issue.

        With ``[schedule] local_time`` each reader's copy falls due at that hour on their own
        clock, and only what is due is sent here (``newsletter run`` or a following worker sends
        the rest); ``now`` makes everything due at once, the waves of unfinished issues too.

        ``to`` sends a test copy of the next issue to one address and touches nothing;
        ``dry_run`` renders and builds every message but sends nothing; ``confirm`` is
        asked before a new issue is queued (return False to cancel); ``retry_failed``
        reopens the failed deliveries of the latest issue and sends only those;
        setting ``stop`` ends delivery after the messages in flight.
        """
        progress = progress or Silent()
        if to is not None:
            return self._send_test(to, self.gather(progress=progress) if fetch else None)
        if retry_failed:
            return self._retry_failed(progress, stop)
        resumed = [] if dry_run else self._resume(progress, stop, now=now)
        gathered = self.gather(progress=progress) if fetch else None
        draft = self.draft()
        if draft.empty:
            return SendReport("nothing-new", resumed, gathered, draft,
                              message="nothing new to send: no items are waiting")
        renderer = rendering.Renderer(self.config, draft,
                                      links=links.tracker(self.config, self.signer(), draft.number))
        rendered = renderer.render()
        composer = self.composer(draft, renderer)
        recipients = subscribers.count(self.store, "active")
        if recipients == 0:
            return SendReport("no-subscribers", resumed, gathered, draft,
                              message="no active subscribers: add some with `newsletter subscribers add`")
        if dry_run:

            stamp = self.stamp(composer)
            built = sum(1 for s in iterate(self.store, status="active")
                        if stamp(composer.build(message.Recipient(s.id, s.email, s.name, s.sections, s.language))))
            return SendReport("dry-run", resumed, gathered, draft, built,
                              message=f"dry run: built {built} messages for issue {draft.number}, sent none")
        if confirm is not None and not confirm(draft, recipients):
            return SendReport("cancelled", resumed, gathered, draft, recipients, message="cancelled")
        probe = self.connection()
        probe.open()  # fail before anything is queued if the server is unreachable
        probe.close()

        try:
            with self.store.begin() as conn:
                issue_id = issue.record(conn, self.store, draft, html=rendered.html, text=rendered.text)
                queued = delivery.create_outbox(conn, self.store, issue_id=issue_id, composer=composer,
                                                due=waves.DueTimes(self.config, self.clock(), now=now))
        except IntegrityError:  # another process queued this issue first: help deliver it
            resumed += self._resume(progress, stop, now=now)
            return SendReport("sent", resumed, gathered, draft, message=f"issue {draft.number} was queued by "
                              "another process; delivered its share")
        result = self._deliver(issue_id, composer, progress, stop)
        report = IssueReport(draft.number, draft.subject, False, result)
        later = (f"; {result.scheduled} wait for {self.config.schedule.local_time} on their own clocks"
                 if result.scheduled else "")
        return SendReport("sent", [*resumed, report], gathered, draft, queued,
                          message=f"issue {draft.number} sent to {result.sent} of {queued} subscribers{later}")

    def archive(self, folder: Path, *, progress: Progress | None = None) -> ArchiveReport:
        """Write the web archive into ``folder``: a page per sent issue, an index and an Atom feed."""
        return archive.Archive(self.config, self.store).write(folder, progress=progress)

    def work(self, *, follow: bool = False, poll: float = 5.0, progress: Progress | None = None,
             stop: threading.Event | None = None) -> list[IssueReport]:
        """Deliver the unfinished issues (sharing them with other workers); with ``follow``, wait for more."""
        stop = stop or threading.Event()
        reports = self._resume(progress or Silent(), stop)
        self.deliver_webhooks()
        while follow and not stop.wait(poll):
            reports += self._resume(progress or Silent(), stop)
            self.deliver_webhooks()
        return reports

    def deliver_webhooks(self) -> webhook_sender.Pass:
        """Hand the queued webhook events to their endpoints: one pass, after the mail (``webhooks.sender``)."""
        return webhook_sender.Sender(self.config, self.store, clock=self.clock).run()

    def deliveries(self, number: int, *, limit: int = 50) -> tally.Summary:
        """Return the delivery figures of issue ``number``, its failed or deferred readers and those not yet due."""
        return waves.issue_summary(self.store, number, zone=self.config.zone,
                                   present=waves.clock_reading(self.clock), limit=limit)

    def process_reports(self, messages: Iterable[tuple[str, bytes | Path]]) -> BounceReport:
        """Read bounce and complaint reports (``(name, bytes or file)``) and apply them to the subscribers.

        A message that cannot be read becomes an error in the report; the others are still applied.
        """

        domain = message.sender_address(self.config)[1].rsplit("@", 1)[1]
        return Reports(self.store, domain=domain, signer=self.signer(),
                       bounce_limit=self.config.smtp.bounce_limit).process(messages)

    def _retry_failed(self, progress: Progress, stop: threading.Event | None) -> SendReport:
        latest = issue.latest(self.store)
        if latest is None:
            raise NewsletterError("nothing to retry: no issue has been sent yet")
        reopened, left = outbox.retry_failed(self.store, latest.id)
        reports = self._resume(progress, stop) if reopened else []
        note = f"; {left} failed to readers no longer active" if left else ""
        return SendReport("retried", reports, recipients=reopened,
                          message=f"issue {latest.number}: retried {reopened} failed deliveries{note}")

    def _deliver(self, issue_id: int, composer: Composer, progress: Progress,
                 stop: threading.Event | None = None) -> delivery.Counts:
        try:
            return delivery.deliver(self.store, composer, self.connection, issue_id=issue_id,
                                    smtp=self.config.smtp, stamp=self.stamp(composer),
                                    progress=progress, stop=stop, clock=self.clock)
        except SmtpError as e:
            left = delivery.counts(self.store, issue_id)
            raise SmtpError(f"{e}; issue {composer.number}: {left.sent} sent, {left.pending + left.deferred} "
                            "waiting; run `newsletter send` again to resume") from e

    def _resume(self, progress: Progress, stop: threading.Event | None = None, *,
                now: bool = False) -> list[IssueReport]:
        reports = []
        for number in outbox.unfinished(self.store):
            unfinished = issue.get(self.store, number)
            if unfinished is None or (stop is not None and stop.is_set()):
                continue
            present = waves.clock_reading(self.clock)
            if now:
                outbox.bring_forward(self.store, unfinished.id, present)
            if not waves.ready(self.store, present, issue_id=unfinished.id):
                continue  # only later waves are left: nothing to render or send yet
            rendered = archive.Archive(self.config, self.store).renderer(  # readers' own sections again
                unfinished, links=links.tracker(self.config, self.signer(), unfinished.number))
            composer = message.Composer(self.config, number=unfinished.number, subject=unfinished.subject,
                                rendered=rendered, signer=self.signer(), date=unfinished.created_at)
            result = self._deliver(unfinished.id, composer, progress, stop)
            reports.append(IssueReport(unfinished.number, unfinished.subject, True, result))
        return reports

    def _send_test(self, to: str, gathered: GatherReport | None) -> SendReport:

        address = normalise_email(to)
        draft = self.draft()
        if draft.empty:
            raise NewsletterError("nothing to send: no items are waiting for the next issue")
        composer = self.composer(draft, rendering.render(self.config, draft))
        copy = self.stamp(composer)(composer.build(message.Recipient(0, address, ""), subject_prefix="[TEST] "))
        with self.connection() as connection:
            connection.send(composer.address, address, copy)
        return SendReport("test", [], gathered, draft, 1, message=f"test copy of issue {draft.number} sent to {address}")
