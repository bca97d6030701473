"""Click counts that identify nobody: off by default; on, every item link goes through /r/ and lands home.

The mail goes through a real SMTP sink; the links are followed through the real web app (in-process).
"""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from helpers.asgi import InProcess
from helpers.clock import Clock
from helpers.newsletters import write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.edit import issue
from newsletter.email.render import render
from newsletter.insight import clicks
from newsletter.sink import Sink
from newsletter.tokens import LinkError, Signer
from newsletter.web import create_app

BASE = "https://news.example.org"


def tracked(app: Newsletter, clock: Clock | None = None) -> Newsletter:
    """Return ``app`` (same store) with click counting on."""
    return Newsletter(app.config.replace(tracking={"clicks": True}), store=app.store, clock=clock)


def parts(sink: Sink) -> list[tuple[str, str]]:
    """Return the (text, html) of every message the sink got."""
    found = []
    for received in sink.messages:
        message: EmailMessage = message_from_bytes(received.data, policy=policy.default)  # type: ignore[assignment]
        text, markup = (p.get_content() for p in message.iter_parts())
        found.append((text, markup))
    return found


def links(text: str, markup: str) -> tuple[set[str], set[str]]:
    """Return the addresses in the text part and the hrefs of the HTML part."""
    return (set(re.findall(r"https?://[^\s\]>]+", text)),
            {html.unescape(h) for h in re.findall(r'href="([^"]+)"', markup)})


def item_links(app: Newsletter) -> dict[int, str]:
    """Return the http(s) link of every item the first issue showed, by item id."""
    t = app.store.t
    with app.store.begin() as conn:
        rows = conn.execute(sa.select(t.items.c.id, t.items.c.link).join(t.issue_items)
                            .where(t.issue_items.c.shown)).all()
    return {r.id: r.link for r in rows if (r.link or "").startswith(("http://", "https://"))}


def test_with_tracking_off_sent_mail_holds_no_r_links(app: Newsletter, sink: Sink) -> None:
    assert app.config.tracking.clicks is False  # the default
    app.send()
    own = set(item_links(app).values())
    assert own and len(sink.messages) == 3
    for text, markup in parts(sink):
        assert "/r/" not in text and "/r/" not in markup
        plain, hrefs = links(text, markup)
        assert own & plain and own & hrefs  # the items' own links, as they are
    item_id, link = next(iter(item_links(app).items()))  # a link sent while counting was on still works, uncounted
    response = InProcess(create_app(app)).get("/r/" + clicks.token(app.signer(), 1, item_id), follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (302, link)
    with app.store.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(app.store.t.clicks)).scalar() == 0


def test_with_tracking_on_every_link_in_a_sent_issue_lands_on_its_items_own_url(app: Newsletter, sink: Sink) -> None:
    on = tracked(app)
    on.send()
    web = InProcess(create_app(on))
    own = item_links(on)
    landed: dict[str, str] = {}
    for text, markup in parts(sink):
        plain, hrefs = links(text, markup)
        tracked_text = {u for u in plain if u.startswith(f"{BASE}/r/")}
        tracked_html = {u for u in hrefs if u.startswith(f"{BASE}/r/")}
        assert tracked_text == tracked_html and tracked_html  # the text part's links work the same way
        assert not (set(own.values()) & (plain | hrefs))  # no item link escapes counting
        for url in sorted(tracked_html):
            response = web.get(urlsplit(url).path, follow_redirects=False)
            assert response.status_code == 302, url
            landed[url] = response.headers["location"]
        others = {u for u in plain | hrefs if not u.startswith(f"{BASE}/r/") and not u.startswith("#")}
        assert all(u.startswith(BASE) for u in others), others  # archive, preferences, unsubscribe: ours
    for url, location in landed.items():
        number, item_id = clicks.read(on.signer(), url.rsplit("/", 1)[1])
        assert number == 1 and location == own[item_id]
    assert set(landed.values()) == set(own.values())


def test_a_click_counts_once_per_connection_item_and_ten_minutes(app: Newsletter, sink: Sink) -> None:
    clock = Clock(datetime.now(UTC) + timedelta(hours=2))  # long after the issue went out
    on = tracked(app, clock)
    on.send()
    item_id = next(iter(item_links(on)))
    path = "/r/" + clicks.token(on.signer(), 1, item_id)
    asgi = create_app(on)
    ann, bek = InProcess(asgi, client=("203.0.113.7", 4000)), InProcess(asgi, client=("198.51.100.9", 4000))
    for _ in range(3):
        assert ann.get(path, follow_redirects=False).status_code == 302
    bek.get(path, follow_redirects=False)
    bek.get(path, headers={"User-Agent": "another browser"}, follow_redirects=False)
    ann.request("HEAD", path)  # a link checker's HEAD: redirected, not counted
    clock.advance(minutes=10)
    ann.get(path, follow_redirects=False)
    with on.store.begin() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(on.store.t.clicks).order_by("bucket")).mappings()]
    assert [(r["clicks"], r["discounted"]) for r in rows] == [(3, 1), (1, 0)]
    assert set(rows[0]) == {"issue_id", "item_id", "bucket", "clicks", "discounted"}  # nothing about who
    assert all(r["bucket"].minute % 10 == 0 and r["bucket"].second == 0 for r in rows)
    assert rows[1]["bucket"] - rows[0]["bucket"] == timedelta(minutes=10)


def test_clicks_as_an_issue_goes_out_are_taken_for_mail_scanners(app: Newsletter, sink: Sink) -> None:
    clock = Clock(datetime.now(UTC))
    on = tracked(app, clock)
    on.send()
    path = "/r/" + clicks.token(on.signer(), 1, next(iter(item_links(on))))
    web = InProcess(create_app(on))
    assert web.get(path, follow_redirects=False).status_code == 302  # a scanner, seconds after delivery
    clock.advance(seconds=on.config.tracking.scanner_seconds + 1)
    web.get(path, headers={"User-Agent": "a reader"}, follow_redirects=False)
    with on.store.begin() as conn:
        counted = conn.execute(sa.select(sa.func.sum(on.store.t.clicks.c.clicks),
                                         sa.func.sum(on.store.t.clicks.c.discounted))).one()
    assert tuple(counted) == (1, 1)


def test_a_tampered_or_unknown_token_gets_400_and_never_a_redirect(app: Newsletter, sink: Sink) -> None:
    on = tracked(app)
    on.send()
    item_id = next(iter(item_links(on)))
    signer = on.signer()
    good = clicks.token(signer, 1, item_id)
    digest = good.rsplit("-", 1)[1]
    wrong = ("a" if digest[0] != "a" else "b") + digest[1:]
    web = InProcess(create_app(on))
    for token in (f"1-{item_id}-{wrong}", clicks.token(signer, 2, item_id), clicks.token(signer, 1, 999_999),
                  clicks.token(Signer("another key"), 1, item_id), f"1-{item_id}", "..%2F..%2Fevil.example"):
        response = web.get(f"/r/{token}", follow_redirects=False)
        assert response.status_code == 400, token
        assert "location" not in response.headers
    assert web.get(f"/r/{good}", follow_redirects=False).headers["location"] == item_links(on)[item_id]


@pytest.fixture
def issued(app: Newsletter, sink: Sink) -> tuple[Newsletter, InProcess, list[str]]:
    """A sent issue with tracking on, its web app, and its real tokens."""
    on = tracked(app)
    on.send()
    tokens = [clicks.token(on.signer(), 1, i) for i in item_links(on)]
    return on, InProcess(create_app(on)), tokens


def _mutated(tokens: list[str]) -> st.SearchStrategy[str]:
    """Real tokens with one character changed, dropped or added, or cut short, or with a tail."""
    token = st.sampled_from(tokens)
    position = st.integers(min_value=0, max_value=40)
    char = st.characters(codec="utf-8", exclude_categories=("Cs",))
    return st.one_of(
        st.builds(lambda t, i, c: t[:i % len(t)] + c + t[i % len(t) + 1:], token, position, char),
        st.builds(lambda t, i: t[:i % len(t)] + t[i % len(t) + 1:], token, position),
        st.builds(lambda t, i, c: t[:i % len(t)] + c + t[i % len(t):], token, position, char),
        st.builds(lambda t, s: t + s, token, st.text(min_size=1, max_size=30)),
        st.text(max_size=120),
        st.builds(lambda n, i, d: f"{n}-{i}-{d}", st.integers(0, 10**10), st.integers(0, 10**19),
                  st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567", min_size=20, max_size=30)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_fuzzed_token_never_redirects_anywhere_but_an_items_own_link(
        issued: tuple[Newsletter, InProcess, list[str]], data: st.DataObject) -> None:
    on, web, tokens = issued
    token = data.draw(_mutated(tokens))
    response = web.get("/r/" + quote(token, safe=""), follow_redirects=False)
    if token in tokens:
        assert response.headers["location"] in item_links(on).values()
        return
    # A path with a line break inside may match no route (Starlette's "path" is ".*"): not found, equally no redirect.
    assert response.status_code == 400 or ("\n" in token and response.status_code == 404)
    assert "location" not in response.headers


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=10_000))
def test_reading_any_text_as_a_token_fails_cleanly_and_quickly(given_text: str) -> None:
    signer = Signer("key")
    started = datetime.now(UTC)
    with pytest.raises(LinkError):
        clicks.read(signer, given_text)
    assert datetime.now(UTC) - started < timedelta(seconds=0.5)


def test_on_postgresql_clicks_from_many_threads_add_up_exactly(tmp_path: Path, documents: Path,
                                                                postgres_url: str) -> None:
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[{"path": "inbox"}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_DATABASE_URL": postgres_url}))
    app.gather()
    draft = app.draft()
    rendered = render(app.config, draft)
    with app.store.begin() as conn:
        issue_id = issue.record(conn, app.store, draft, html=rendered.html, text=rendered.text)
    item_id = draft.items[0].id
    found = clicks.Target(issue_id, item_id, "https://example.org/story")
    counter = clicks.Counter(scanner_seconds=60)
    moment = datetime(2026, 11, 23, 9, 4)

    def click(n: int) -> str:
        return counter.click(app.store, found, connection=f"198.51.100.{n % 50}\nbrowser {n // 50}", head=False,
                             moment=moment)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(click, range(200)))
    assert outcomes.count(clicks.COUNTED) == 200
    assert counter.click(app.store, found, connection="198.51.100.0\nbrowser 0", head=False,
                         moment=moment) == clicks.REPEATED
    with app.store.begin() as conn:
        rows = conn.execute(sa.select(app.store.t.clicks)).mappings().all()
    assert [(r["bucket"], r["clicks"], r["discounted"]) for r in rows] == [(datetime(2026, 11, 23, 9, 0), 200, 0)]
    app.store.close()
