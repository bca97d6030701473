"""The per-client sign-up limit (list-bombing protection), through the web app driven in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from helpers.asgi import InProcess
from helpers.clock import Clock
from helpers.newsletters import write_config

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.error import ConfigError
from newsletter.sink import Sink
from newsletter.store import Store
from newsletter.subscribers.signup_limit import admit, client_address

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BOMBER = ("203.0.113.5", 40000)


def limited(web_app: Newsletter, clock: Callable[[], datetime] | None = None, **web: Any) -> Newsletter:
    return Newsletter(web_app.config.replace(web={"signups_per_hour": 3, **web}), store=web_app.store, clock=clock)


def browser(app: Newsletter, client: tuple[str, int] = BOMBER) -> InProcess:
    from newsletter.web import create_app

    return InProcess(create_app(app), client=client)


def sign_up(web: InProcess, email: str, **headers: str) -> Any:
    return web.post("/subscribe", data={"email": email}, headers=headers)


def known(app: Newsletter, email: str) -> bool:
    return subscribers.find(app.store, email) is not None


def test_one_client_gets_three_sign_ups_an_hour(web_app: Newsletter, sink: Sink) -> None:
    clock = Clock(START)
    app = limited(web_app, clock)
    bomber = browser(app)
    for n in range(3):
        clock.now = START + timedelta(minutes=10 * min(n, 1))  # at 9:00, 9:10, 9:10
        answer = sign_up(bomber, f"victim{n}@example.org")
        assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert sorted(m.recipients[0] for m in sink.messages) == [f"victim{n}@example.org" for n in range(3)]

    clock.now = START + timedelta(minutes=20)
    refused = sign_up(bomber, "victim3@example.org")
    assert refused.status_code == 429 and "Too many sign-ups" in refused.text
    assert "try again in 40 minutes" in refused.text and '<a href="/">Test Briefing</a>' in refused.text
    assert refused.headers["Retry-After"] == str(40 * 60)  # the first of the three leaves the hour then
    assert len(sink.messages) == 3 and not known(app, "victim3@example.org")
    api = bomber.post("/api/subscribe", json={"email": "victim4@example.org"})  # the API shares the count
    assert api.status_code == 429 and api.headers["Retry-After"] == str(40 * 60) and "too many" in api.json()["detail"]
    assert len(sink.messages) == 3 and not known(app, "victim4@example.org")
    again = sign_up(bomber, "victim0@example.org")  # a known address is refused the same way
    assert again.status_code == 429 and len(sink.messages) == 3

    other = browser(app, ("198.51.100.7", 5555))
    assert sign_up(other, "friend@example.org").status_code == 200
    assert sink.messages[-1].recipients == ("friend@example.org",) and known(app, "friend@example.org")

    clock.now = START + timedelta(minutes=60)  # the first sign-up is an hour old: one more fits
    assert sign_up(bomber, "victim3@example.org").status_code == 200
    assert sink.messages[-1].recipients == ("victim3@example.org",)
    assert subscribers.get(app.store, "victim3@example.org").status == "pending"
    late = sign_up(bomber, "victim5@example.org")
    assert late.status_code == 429 and late.headers["Retry-After"] == str(10 * 60) and "10 minutes" in late.text


def test_bad_and_robot_sign_ups_do_not_count(web_app: Newsletter, sink: Sink) -> None:
    bomber = browser(limited(web_app, signups_per_hour=1))
    assert sign_up(bomber, "not an address").status_code == 400
    robot = bomber.post("/subscribe", data={"email": "robot@example.org", "website": "http://spam.example"})
    assert robot.status_code == 200 and not sink.messages
    assert sign_up(bomber, "real@example.org").status_code == 200 and len(sink.messages) == 1
    assert sign_up(bomber, "second@example.org").status_code == 429


def test_zero_means_no_limit(web_app: Newsletter, sink: Sink) -> None:
    app = limited(web_app, signups_per_hour=0)
    bomber = browser(app)
    assert [sign_up(bomber, f"r{n}@example.org").status_code for n in range(6)] == [200] * 6
    assert len(sink.messages) == 6
    with app.store.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(app.store.t.signup_attempts)).scalar() == 0


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(web_app: Newsletter, sink: Sink) -> None:
    bomber = browser(limited(web_app))
    codes = [sign_up(bomber, f"v{n}@example.org", **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code
             for n in range(4)]
    assert codes == [200, 200, 200, 429] and len(sink.messages) == 3


def test_behind_a_trusted_proxy_each_client_counts_alone(web_app: Newsletter, sink: Sink) -> None:
    app = limited(web_app, trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    proxy = browser(app, ("10.1.2.3", 443))
    # A client may put anything left of what the proxies add: the right-most untrusted address counts.
    spoofed = [f"192.0.2.{n}, 203.0.113.5, 127.0.0.1" for n in range(4)]
    codes = [sign_up(proxy, f"v{n}@example.org", **{"X-Forwarded-For": spoofed[n]}).status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert sign_up(proxy, "w@example.org", **{"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    assert len(sink.messages) == 4


def test_client_address() -> None:
    trusted = ["10.0.0.0/8", "::1"]
    assert client_address("203.0.113.5", "192.0.2.1", trusted) == "203.0.113.5"  # untrusted peer
    assert client_address("10.0.0.2", "192.0.2.1, 203.0.113.5", trusted) == "203.0.113.5"
    assert client_address("10.0.0.2", "192.0.2.1, 203.0.113.5, 10.9.9.9", trusted) == "203.0.113.5"
    assert client_address("::1", "2001:db8::7", trusted) == "2001:db8::7"
    assert client_address("10.0.0.2", None, trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", "10.0.0.9", trusted) == "10.0.0.9"  # every hop trusted: the left-most
    assert client_address("10.0.0.2", "192.0.2.1", []) == "10.0.0.2"  # no proxy trusted
    assert client_address(None, "192.0.2.1", trusted) == ""


def test_an_ipv6_client_counts_by_its_network(web_app: Newsletter, sink: Sink) -> None:
    app = limited(web_app)
    codes = [sign_up(browser(app, (f"2001:db8:1:2::{n}", 1)), f"v{n}@example.org").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert sign_up(browser(app, ("2001:db8:1:3::1", 1)), "x@example.org").status_code == 200


def test_the_store_keeps_no_client_address_and_forgets_old_rows(web_app: Newsletter, sink: Sink) -> None:
    clock = Clock(START)
    app = limited(web_app, clock)
    t = app.store.t.signup_attempts
    with app.store.begin() as conn:  # a row from two days ago, as a worker left it
        conn.execute(t.insert().values(client="old", at=(START - timedelta(days=2)).replace(tzinfo=None)))
    assert sign_up(browser(app), "a@example.org").status_code == 200
    assert sign_up(browser(app, ("198.51.100.7", 1)), "b@example.org").status_code == 200
    with app.store.begin() as conn:
        rows = conn.execute(sa.select(t.c.client, t.c.at)).all()
    assert len(rows) == 2 and all(at == START.replace(tzinfo=None) for _, at in rows)
    clients = {client for client, _ in rows}
    assert len(clients) == 2 and all(len(c) == 64 and "203.0.113" not in c and "198.51" not in c for c in clients)


def test_the_count_is_shared_by_workers_and_restarts(web_app: Newsletter, sink: Sink) -> None:
    clock = Clock(START)
    first, second = browser(limited(web_app, clock)), browser(limited(web_app, clock))
    assert [sign_up(first, "a@example.org").status_code, sign_up(second, "b@example.org").status_code,
            sign_up(first, "c@example.org").status_code] == [200, 200, 200]
    store = Store(web_app.store.engine.url.render_as_string(hide_password=False))  # as after a restart
    reopened = Newsletter(web_app.config.replace(web={"signups_per_hour": 3}), store=store, clock=clock)
    assert sign_up(browser(reopened), "d@example.org").status_code == 429
    store.close()


def test_settings_are_checked(tmp_path: Path, sink: Sink) -> None:
    for extra, problem in [("signups_per_hour = -1", "web.signups_per_hour must be 0 or more"),
                           ('trusted_proxies = ["proxy.local"]', "'proxy.local' is not an IP address or network")]:
        write_config(tmp_path, smtp_url=sink.url, sources=[], extra=f"\n[web]\n{extra}\n")
        with pytest.raises(ConfigError, match=problem):
            load(tmp_path / "newsletter.toml", environ={})
    proxies = '\n[web]\ntrusted_proxies = ["127.0.0.1", "fd00::/8"]\n'
    write_config(tmp_path, smtp_url=sink.url, sources=[], extra=proxies)
    config = load(tmp_path / "newsletter.toml", environ={})
    assert (config.web.signups_per_hour, config.web.trusted_proxies) == (10, ["127.0.0.1", "fd00::/8"])


def test_the_limit_on_postgresql(tmp_path: Path, sink: Sink, postgres_url: str) -> None:
    write_config(tmp_path, smtp_url=sink.url, sources=[], extra="\n[web]\nsignups_per_hour = 2\n")
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_DATABASE_URL": postgres_url}),
                     clock=Clock(START))
    assert app.store.engine.dialect.name == "postgresql"
    results = [admit(app, "203.0.113.5") for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False] and results[2].retry_after == 3600
    assert admit(app, "198.51.100.7").allowed
    app.store.close()
