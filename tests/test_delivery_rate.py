"""The global rate limit, counted on a clock the test controls: exact, shared by every connection."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.newsletters import queue_issue, write_config
from helpers.ratelimits import Counting, FakeClock, SharedCounting, most_in_one_second
from helpers.smtp import ScriptedServer

from newsletter import delivery, subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.delivery.ratelimit import RateLimit
from newsletter.settings import SmtpSettings
from newsletter.store import Store


def test_slots_are_spaced_exactly_across_threads() -> None:
    limit = Counting(8, FakeClock())  # 1/8 s is exact in binary, so equality below is exact
    threads = [threading.Thread(target=lambda: [limit.acquire() for _ in range(25)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(limit.granted) == [k / 8 for k in range(100)]
    assert most_in_one_second(limit.granted) == 8


def test_an_idle_limit_does_not_save_up_a_burst() -> None:
    clock = FakeClock()
    limit = RateLimit(4, clock)
    assert [limit.acquire() for _ in range(3)] == [0.0, 0.25, 0.5]
    clock.at = 10.0  # a long pause
    assert [limit.acquire() for _ in range(3)] == [10.0, 10.25, 10.5]


def test_a_slow_rate_waits_between_every_message() -> None:
    clock = FakeClock()
    limit = RateLimit(0.5, clock)  # one message every two seconds
    assert [limit.acquire() for _ in range(3)] == [0.0, 2.0, 4.0]
    assert clock.at == 4.0


def test_the_pool_sends_no_faster_than_the_limit(tmp_path: Path, documents: Path,
                                                 scripted_smtp: ScriptedServer) -> None:
    write_config(tmp_path, smtp_url=scripted_smtp.url, sources=[{"path": "inbox"}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
    emails = [f"r{i}@example.org" for i in range(24)]
    for email in emails:
        subscribers.add(app.store, email, status="active")
    issue_id, composer = queue_issue(app)
    clock = FakeClock()
    limit = Counting(8, clock)
    counts = delivery.deliver(app.store, composer, app.connection, issue_id=issue_id, limit=limit,
                              smtp=SmtpSettings(connections=4))
    assert counts.sent == 24 and sorted(m.recipients[0] for m in scripted_smtp.script.accepted) == sorted(emails)
    assert sorted(limit.granted) == [k / 8 for k in range(24)]  # four connections, one shared schedule
    assert most_in_one_second(limit.granted) == 8
    assert clock.at == 23 / 8


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_workers_on_one_database_never_send_in_the_same_slot(tmp_path: Path, request: pytest.FixtureRequest,
                                                             database: str) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    clock = FakeClock()
    workers = [SharedCounting(Store(url), 8, clock) for _ in range(3)]  # three processes' stores, one database
    threads = [threading.Thread(target=lambda w=w: [w.acquire() for _ in range(20)]) for w in workers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted = sorted(slot for w in workers for slot in w.granted)
    assert len(granted) == 120 and all(w.granted for w in workers)
    assert all(later - earlier >= 1 / 8 for earlier, later in zip(granted, granted[1:]))  # never closer, whoever sends
    assert most_in_one_second(granted) == 8


def test_the_next_stretch_is_reserved_ahead_so_no_connection_waits_for_the_database(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    limit = SharedCounting(store, 64, FakeClock())  # six slots a stretch, 1/64 s apart: exact in binary

    def series_end() -> float:
        t = store.t.send_rate
        with store.begin() as conn:
            return float(conn.execute(sa.select(t.c.next_at)).scalar_one())

    limit.prepare()  # nothing handed out yet: the first stretch is reserved ahead
    assert series_end() == 6 / 64
    for _ in range(3):
        limit.acquire()
    limit.prepare()  # half of it is handed out: the next stretch is reserved
    limit.prepare()  # one is ready: nothing more
    assert series_end() == 12 / 64
    for _ in range(9):
        limit.acquire()  # the rest of this stretch, then the one reserved ahead, without the database
    assert series_end() == 12 / 64 and limit.granted == [k / 64 for k in range(12)]
    limit.acquire()  # nothing reserved ahead: this one reserves the next stretch itself
    assert series_end() == 18 / 64 and limit.granted[-1] == 12 / 64
    store.close()
