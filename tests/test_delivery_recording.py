"""What a crash can repeat: no connection ends a message before its previous outcome is committed.

A server accepts a message at its final dot, so this is what bounds the messages a
``kill -9`` repeats to one per connection (tests/test_delivery_crash.py kills real sends).
Here a real aiosmtpd server looks in the store as each message ends, and a connection
whose claim lapsed takes its message back before the end.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from helpers.newsletters import add_readers, queue_issue, write_config
from helpers.smtp import Script, ScriptedHandler, serve_script

from newsletter import delivery
from newsletter.app import Newsletter
from newsletter.config import load, parse_url
from newsletter.delivery import outbox
from newsletter.delivery.outbox import DEFERRED, FAILED, PENDING, SENT, Closer, Job
from newsletter.delivery.pool import LAPSED, JobOutcome, Pool
from newsletter.delivery.ratelimit import RateLimit
from newsletter.delivery.smtp import Connection
from newsletter.settings import SmtpSettings
from newsletter.sink import free_port
from newsletter.store import now


class Auditor(ScriptedHandler):
    """Accepts ``readers`` messages on one connection and reads the store as each one ends.

    After accepting a message it holds the database's write lock until the client starts
    the next message (its MAIL FROM), so the previous outcome cannot be committed before
    then: a client that ended the next message without waiting for that commit may be seen
    here with the previous delivery still pending (whether it is depends on who wins the lock
    first; the pool's own wait is checked deterministically by the ``Watcher`` test below).
    While the lock is held the client must write nothing else before its MAIL FROM, or the
    two wait for each other: so the send takes its rate limit from memory, not the store.
    """

    def __init__(self, script: Script, app: Newsletter, readers: int) -> None:
        super().__init__(script)
        self.app = app
        self.readers = readers
        self.previous = ""
        self.seen: list[tuple[str, str]] = []  # (the previous recipient, its status when the next message ended)
        self.hold: sa.Connection | None = None

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.hold is not None:
            self.hold.rollback()
            self.hold.close()
            self.hold = None
        return await super().handle_MAIL(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.previous:
            self.seen.append((self.previous, self._status(self.previous)))
        self.previous = envelope.rcpt_tos[0]
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.script.accepted) < self.readers:  # the last outcome is waited for with nothing after it
            self.hold = self.app.store.engine.connect()
            self.hold.begin()  # BEGIN IMMEDIATE: the write lock
        return answer

    def _status(self, email: str) -> str:
        d, s = self.app.store.t.deliveries, self.app.store.t.subscribers
        with self.app.store.begin() as conn:
            return str(conn.execute(sa.select(d.c.status).join(s, s.c.id == d.c.subscriber_id)
                                    .where(s.c.email == email)).scalar_one())


@pytest.mark.parametrize("pipelining", [True, False])
def test_no_message_ends_before_its_connections_previous_one_is_recorded(tmp_path: Path, documents: Path,
                                                                          pipelining: bool) -> None:
    script = Script(pipelining=pipelining)
    port = free_port()
    write_config(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}", sources=[{"path": "inbox"}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
    readers = add_readers(app, 12)
    issue_id, composer = queue_issue(app)
    auditor = Auditor(script, app, len(readers))
    controller = Controller(auditor, hostname="127.0.0.1", port=port)
    controller.start()
    try:  # RateLimit, not the store's SharedRateLimit: see Auditor
        counts = delivery.deliver(app.store, composer, app.connection, issue_id=issue_id, limit=RateLimit(10_000),
                                  smtp=SmtpSettings(connections=1, max_rate=10_000, pipelining=pipelining))
    finally:
        controller.stop()
    assert counts.sent == 12 and sorted(m.recipients[0] for m in script.accepted) == sorted(readers)
    assert len(auditor.seen) == 11 and [email for email, status in auditor.seen if status != SENT] == []


class Watcher(ScriptedHandler):
    """Notes, as each message ends, whether the pool had waited for its connection's previous outcome."""

    def __init__(self, script: Script, awaited: set[str]) -> None:
        super().__init__(script)
        self.awaited = awaited
        self.previous = ""
        self.early: list[str] = []  # previous recipients whose outcome was not yet waited for

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.previous and self.previous not in self.awaited:
            self.early.append(self.previous)
        self.previous = envelope.rcpt_tos[0]
        return await super().handle_DATA(server, session, envelope)


def jobs(*names: str) -> list[Job]:
    return [Job(i, 0, i, f"{name}@example.org", name, "active", "", 0) for i, name in enumerate(names)]


@pytest.mark.parametrize("pipelining", [True, False])
def test_the_pool_ends_a_message_only_after_waiting_for_the_previous_outcome(pipelining: bool) -> None:
    queued = jobs(*(f"r{i}" for i in range(10)))
    awaited: set[str] = set()
    recorded = threading.Semaphore(0)

    def record(outcome: JobOutcome) -> Any:
        recorded.release()
        return lambda: awaited.add(outcome.job.email)  # "committed": the pool waits for it here

    script = Script(pipelining=True)
    watcher = Watcher(script, awaited)
    port = free_port()
    controller = Controller(watcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        pool = Pool(lambda: Connection(parse_url(f"smtp://127.0.0.1:{port}"), pipelining=pipelining), size=1,
                    sender="briefing@example.org", build=lambda job: b"Subject: hi\r\n\r\nhello\r\n",
                    record=record, limit=RateLimit(10_000))
        pool.start()
        for job in queued:
            pool.put(job)
        for _ in queued:
            assert recorded.acquire(timeout=60)
        pool.close()
    finally:
        controller.stop()
    assert len(script.accepted) == 10 and watcher.early == []


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_message_whose_claim_lapsed_is_taken_back_before_its_end(pipelining: bool) -> None:
    queued = jobs("ann", "bek", "cy")
    outcomes: list[JobOutcome] = []
    done = threading.Event()

    def record(outcome: JobOutcome) -> Any:
        outcomes.append(outcome)
        if len(outcomes) == len(queued):
            done.set()
        return lambda: None

    with serve_script(Script(pipelining=True)) as server:  # the server offers PIPELINING; the client decides
        pool = Pool(lambda: Connection(parse_url(server.url), pipelining=pipelining), size=1,
                    sender="briefing@example.org", build=lambda job: b"Subject: hi\r\n\r\nhello\r\n",
                    record=record, limit=RateLimit(10_000), held=lambda job: job.email != "bek@example.org")
        pool.start()
        for job in queued:
            pool.put(job)
        assert done.wait(timeout=60)
        pool.close()
        assert [m.recipients[0] for m in server.messages] == ["ann@example.org", "cy@example.org"]
        assert server.script.sessions == 2  # the session was closed mid-message, and opened again for the next
    assert [(o.job.email, o.status, o.error) for o in outcomes] == [
        ("ann@example.org", SENT, None), ("bek@example.org", PENDING, LAPSED), ("cy@example.org", SENT, None)]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_closing_writes_each_outcome_whole_and_only_on_rows_this_worker_holds(
        tmp_path: Path, documents: Path, request: pytest.FixtureRequest, database: str) -> None:
    environ = {} if database == "sqlite" else {"NEWSLETTER_DATABASE_URL": request.getfixturevalue("postgres_url")}
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:9", sources=[{"path": "inbox"}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ=environ))
    add_readers(app, 4)
    issue_id, _ = queue_issue(app)
    mine = outbox.claim(app.store, issue_id, "host:1:1:a", limit=3, lease=60)
    theirs = outbox.claim(app.store, issue_id, "host:2:2:b", limit=1, lease=60)
    moment = now().replace(microsecond=0)  # a whole second: the tricky case for stored timestamps
    later = moment + timedelta(seconds=90, microseconds=250)
    with app.store.begin() as conn:
        Closer(app.store, "host:1:1:a").close(conn, [
            Closer.row(mine[0].delivery_id, SENT, 1, None, moment, None, moment, False),
            Closer.row(mine[1].delivery_id, DEFERRED, 1, "451 try later", None, later, moment, False),
            Closer.row(mine[2].delivery_id, FAILED, 1, "550 5.1.1 no such user", None, None, moment, True),
            Closer.row(theirs[0].delivery_id, SENT, 1, None, moment, None, moment, False),  # not ours: untouched
        ])
    d = app.store.t.deliveries
    with app.store.begin() as conn:
        found = {r.id: r for r in conn.execute(sa.select(d).where(d.c.issue_id == issue_id))}
    columns = [(r.status, r.attempts, r.last_error, r.sent_at, r.next_attempt_at, r.updated_at, bool(r.bounced),
                r.claimed_by) for r in (found[job.delivery_id] for job in [*mine, *theirs])]
    assert columns == [
        (SENT, 1, None, moment, None, moment, False, None),
        (DEFERRED, 1, "451 try later", None, later, moment, False, None),
        (FAILED, 1, "550 5.1.1 no such user", None, None, moment, True, None),
        (PENDING, 0, None, None, None, found[theirs[0].delivery_id].updated_at, False, "host:2:2:b"),
    ]
    with app.store.begin() as conn:  # a stored time compares with the times later queries pass
        assert conn.execute(sa.select(sa.func.count()).where(d.c.next_attempt_at > moment)).scalar() == 1
    app.store.close()
