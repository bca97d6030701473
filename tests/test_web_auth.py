"""The desk's sessions and logins, each test written as an attack: a cookie read off plain HTTP, a
copied cookie used after logout, admin tokens guessed as fast as the server answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from helpers.asgi import InProcess, log_in
from helpers.clock import Clock
from helpers.newsletters import ADMIN_TOKEN, write_config

from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.error import ConfigError
from newsletter.web import create_app

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
GUESSER = ("203.0.113.5", 40000)
PROXY = ("10.1.2.3", 443)


def cookie_attributes(response: Any) -> set[str]:
    """Return the lower-cased attributes of the desk cookie a response sets."""
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("newsletter_desk="))
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def plain_http(web_app: Newsletter, **web: Any) -> Newsletter:
    """The newsletter as published at an http:// address (the test newsletters' is https)."""
    return Newsletter(web_app.config.replace(newsletter={"base_url": "http://news.example.org"}, web=web),
                      store=web_app.store)


def login(client: InProcess, token: str = ADMIN_TOKEN, **headers: str) -> Any:
    return client.post("/desk/login", data={"token": token}, headers=headers, follow_redirects=False)


def test_the_cookie_never_travels_in_clear_when_the_site_is_https(web_app: Newsletter) -> None:
    # base_url is https: even a login that reached us over plain HTTP gets a Secure cookie.
    browser = InProcess(create_app(web_app), base_url="http://testserver")
    answer = login(browser)
    assert answer.status_code == 303 and "secure" in cookie_attributes(answer)
    # So a network attacker who lures the browser to http:// sees no cookie: the desk asks for a login.
    assert browser.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"

    # Behind a TLS proxy the app itself speaks plain HTTP; the trusted proxy says what the browser used.
    site = plain_http(web_app, trusted_proxies=["10.0.0.0/8"])
    proxied = InProcess(create_app(site), base_url="http://news.example.org", client=PROXY)
    assert "secure" in cookie_attributes(login(proxied, **{"X-Forwarded-Proto": "https"}))
    assert "secure" in cookie_attributes(login(proxied, **{"X-Forwarded-Proto": "http, https"}))  # the nearest hop
    assert "secure" not in cookie_attributes(login(proxied, **{"X-Forwarded-Proto": "http"}))
    assert "secure" not in cookie_attributes(login(proxied))
    # The header counts only from a trusted proxy; an http:// site reached over https still gets Secure.
    stranger = InProcess(create_app(site), base_url="http://news.example.org", client=GUESSER)
    assert "secure" not in cookie_attributes(login(stranger, **{"X-Forwarded-Proto": "https"}))
    direct = InProcess(create_app(site), base_url="https://news.example.org", client=GUESSER)
    assert {"secure", "httponly", "samesite"} <= cookie_attributes(login(direct))


def test_a_copied_cookie_dies_when_its_session_logs_out(client: InProcess, web_app: Newsletter) -> None:
    csrf = log_in(client)
    thief = InProcess(client.asgi, client=GUESSER)
    thief.cookies = httpx.Cookies(client.cookies)  # the cookie, copied off the editor's machine
    colleague = InProcess(client.asgi)
    log_in(colleague)
    assert thief.get("/desk/", follow_redirects=False).status_code == 200  # it works while the session lasts
    with web_app.store.begin() as conn:  # the store keeps a hash of the session id, never the id
        stored = conn.execute(sa.select(web_app.store.t.desk_sessions.c.id)).scalars().all()
    assert len(stored) == 2 and not any(sid in client.cookies["newsletter_desk"] for sid in stored)

    assert client.post("/desk/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303

    assert thief.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"
    assert thief.get("/api/subscribers").status_code == 401
    refused = thief.post("/desk/gather", data={"csrf": csrf}, follow_redirects=False)
    assert refused.headers["location"] == "/desk/login"
    assert thief.post("/api/items/1/pin", headers={"X-CSRF-Token": csrf}).status_code == 401
    assert colleague.get("/desk/", follow_redirects=False).status_code == 200  # other sessions go on


def test_thirty_wrong_tokens_are_throttled_and_a_right_one_elsewhere_still_works(web_app: Newsletter) -> None:
    clock = Clock(START)
    app = Newsletter(web_app.config, store=web_app.store, clock=clock)
    guesser = InProcess(create_app(app), client=GUESSER)
    answers = [login(guesser, f"guess-{n:04d}-0123456789") for n in range(30)]
    assert [a.status_code for a in answers] == [401] * 10 + [429] * 20
    assert answers[-1].headers["Retry-After"] == str(15 * 60) and "try again in 15 minutes" in answers[-1].text
    # Once throttled, even the right token is not looked at: a guess that hits tells nothing.
    assert login(guesser).status_code == 429
    # Bearer tokens on the API are the same guesses, counted together.
    bearer = guesser.get("/api/subscribers", headers={"Authorization": "Bearer guess-9999-0123456789"})
    assert bearer.status_code == 429 and bearer.headers["Retry-After"] == str(15 * 60)

    editor = InProcess(create_app(app), client=("198.51.100.7", 5555))
    log_in(editor)
    assert editor.get("/api/subscribers", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200

    clock.now += timedelta(minutes=10)
    assert login(guesser).status_code == 429
    clock.now += timedelta(minutes=5)  # the oldest wrong token is 15 minutes old
    assert login(guesser).status_code == 303


def test_guesses_sent_all_at_once_are_counted_all_the_same(web_app: Newsletter) -> None:
    asgi = create_app(web_app)

    async def guess_all() -> list[int]:
        transport = httpx.ASGITransport(app=asgi, client=GUESSER)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            answers = await asyncio.gather(*(
                http.get("/api/subscribers", headers={"Authorization": f"Bearer guess-{n:04d}-0123456789"})
                for n in range(30)))
        return [a.status_code for a in answers]

    codes = asyncio.run(guess_all())
    assert sorted(codes) == [401] * 10 + [429] * 20


def test_right_tokens_are_not_counted(web_app: Newsletter) -> None:
    app = Newsletter(web_app.config.replace(web={"login_attempts": 2}), store=web_app.store)
    editor = InProcess(create_app(app), client=GUESSER)
    for _ in range(5):
        assert editor.get("/api/status", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
    assert login(editor, "typo-" + ADMIN_TOKEN).status_code == 401
    assert login(editor).status_code == 303
    assert login(editor, "typo-" + ADMIN_TOKEN).status_code == 401
    assert login(editor).status_code == 429  # two wrong ones in 15 minutes are all it gets
    with app.store.begin() as conn:
        t = app.store.t.signup_attempts
        assert conn.execute(sa.select(t.c.kind, sa.func.count()).group_by(t.c.kind)).all() == [("login", 2)]


def test_the_new_settings_are_checked(tmp_path: Path) -> None:
    for extra, problem in [("login_attempts = -1", "web.login_attempts must be 0 or more"),
                           ("pending_days = 0", "web.pending_days must be greater than 0")]:
        write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[], extra=f"\n[web]\n{extra}\n")
        with pytest.raises(ConfigError, match=problem):
            load(tmp_path / "newsletter.toml", environ={})
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[], extra="")
    web = load(tmp_path / "newsletter.toml", environ={}).web
    assert (web.login_attempts, web.pending_days) == (10, 7.0)
