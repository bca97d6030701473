"""Fetching over real local HTTP servers: validators, gzip, redirects, politeness, User-Agent."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.gathering import by_url, newsletter, stored
from helpers.http import Handler, Web, serve

from newsletter.app import Newsletter
from newsletter.config import parse
from newsletter.error import FeedError, StoreError
from newsletter.gather import gather, sources
from newsletter.gather.fetch import Fetched, Fetcher
from newsletter.gather.sources import health
from newsletter.settings import GatherSettings

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
RSS2 = (FEEDS / "rss2.xml").read_bytes()
ETAG = '"' + hashlib.sha256(RSS2).hexdigest()[:16] + '"'  # as web.static tags it


@pytest.fixture
def web() -> Iterator[Web]:
    with serve() as server:
        yield server


def test_etag_gzip_and_user_agent(tmp_path: Path, web: Web) -> None:
    url = web.static("/feed.xml", RSS2, compress=True)
    config, store = newsletter(tmp_path, [url], user_agent="test-agent/1.0 (+https://agent.example)")
    first = by_url(gather(config, store))[url]
    assert (first.status, first.new, first.http_status) == ("ok", 3, 200)
    [request] = web.requests
    assert request.headers["user-agent"] == "test-agent/1.0 (+https://agent.example)"
    assert "gzip" in request.headers["accept-encoding"]
    assert "if-none-match" not in request.headers

    second = by_url(gather(config, store))[url]
    assert (second.status, second.new, second.http_status) == ("not-modified", 0, 304)
    assert web.requests[1].headers["if-none-match"].startswith('"')
    assert len(stored(store)) == 3
    store.close()


def test_unchanged_content_without_validators_is_not_read_again(tmp_path: Path, web: Web) -> None:
    url = web.static("/plain.xml", RSS2, etag=False)
    config, store = newsletter(tmp_path, [url])
    assert by_url(gather(config, store))[url].new == 3
    again = by_url(gather(config, store))[url]
    assert (again.status, again.http_status) == ("not-modified", 200)

    web.static("/plain.xml", RSS2.replace(b"test-energy-0003", b"test-energy-0004")
               .replace(b"novyi-koridor", b"novyi-port"), etag=False)
    changed = by_url(gather(config, store))[url]
    assert (changed.status, changed.new) == ("ok", 1)
    store.close()


def test_a_permanent_redirect_is_remembered_until_its_target_fails(tmp_path: Path, web: Web) -> None:
    url = web.redirect("/old.xml", "/moved.xml", 301)
    target = web.static("/moved.xml", RSS2)
    config, store = newsletter(tmp_path, [url])
    first = by_url(gather(config, store))[url]
    assert (first.status, first.new, first.moved_to) == ("ok", 3, target)

    second = by_url(gather(config, store))[url]
    assert (second.status, second.fetched_from, second.moved_to) == ("not-modified", target, None)
    assert len(web.hits("/old.xml")) == 1  # went straight to the new address
    [row] = health(config, store)
    assert (row.fetched_from, row.status) == (target, "not-modified")

    del web.routes["/moved.xml"]
    gone = by_url(gather(config, store))[url]
    assert (gone.status, gone.http_status) == ("error", 404)
    assert health(config, store)[0].fetched_from is None
    gather(config, store)
    assert len(web.hits("/old.xml")) == 2  # the configured address is tried again
    store.close()


def test_a_temporary_redirect_is_followed_but_not_remembered(tmp_path: Path, web: Web) -> None:
    url = web.redirect("/today.xml", "/2026-11-26.xml", 302)
    web.static("/2026-11-26.xml", RSS2)
    config, store = newsletter(tmp_path, [url])
    first = by_url(gather(config, store))[url]
    assert (first.status, first.new, first.moved_to) == ("ok", 3, None)
    gather(config, store)
    assert len(web.hits("/today.xml")) == 2
    store.close()


def test_redirect_loops_and_gone_sources_fail_with_a_clear_line(tmp_path: Path, web: Web) -> None:
    loop = web.redirect("/a.xml", "/b.xml", 302)
    web.redirect("/b.xml", "/a.xml", 302)
    web.routes["/gone.xml"] = lambda h: h.answer(410, b"gone", "text/plain")
    gone = web.url("/gone.xml")
    config, store = newsletter(tmp_path, [loop, gone])
    report = by_url(gather(config, store))
    assert report[loop].error == "too many redirects (more than 5)"
    assert report[gone].error == "HTTP 410 Gone: the source was removed; delete it from the config"
    assert report[gone].http_status == 410
    store.close()


def test_requests_run_concurrently_within_the_per_host_limit(tmp_path: Path) -> None:
    # Each answer waits until four requests are in flight at once: two per host. Were requests
    # serialised, the barrier would break; were the per-host limit ignored, a host would see more.
    barrier = threading.Barrier(4, timeout=10)

    def meet_then_answer(h: Handler) -> None:
        barrier.wait()
        h.answer(200, RSS2.replace(b"test-energy-", h.path.encode()), "application/rss+xml")

    with serve() as one, serve() as two:
        urls = []
        for web in (one, two):
            for n in range(4):
                web.routes[f"/feed-{n}.xml"] = meet_then_answer
                urls.append(web.url(f"/feed-{n}.xml"))
        config, store = newsletter(tmp_path, urls, per_host=2, concurrency=8)
        report = gather(config, store)
        assert [s.status for s in report.sources] == ["ok"] * 8
        assert report.new == 24
        assert (one.most_in_flight, two.most_in_flight) == (2, 2)
    with store.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.t.items)).scalar() == 24
    store.close()


def test_an_unchanged_source_keeps_its_title_kind_and_warning(tmp_path: Path, web: Web) -> None:
    sloppy = (Path(__file__).parent / "fixtures" / "hostile" / "malformed-recoverable.xml").read_bytes()
    url = web.static("/sloppy.xml", sloppy)
    config, store = newsletter(tmp_path, [url])
    first = by_url(gather(config, store))[url]
    assert (first.name, first.kind, first.status) == ("Sloppy Wire & Co", "rss", "ok")
    second = by_url(gather(config, store))[url]
    assert (second.name, second.kind, second.status) == ("Sloppy Wire & Co", "rss", "not-modified")
    [row] = health(config, store)
    assert (row.name, row.kind) == ("Sloppy Wire & Co", "rss")
    assert row.last_warning and "recovered 2 entries" in row.last_warning
    store.close()


def test_https_feeds_are_verified_against_the_trusted_authorities(
        certificates: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The CA store loads on the first TLS connection, not before; it is loaded, and it is used."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates[1], certificates[2])

    async def fetch(url: str) -> Fetched:
        async with Fetcher(GatherSettings(timeout=10)) as fetcher:
            return await fetcher.fetch(url)

    with serve(tls=context) as web:
        url = web.static("/feed.xml", RSS2)
        with pytest.raises(FeedError, match="certificate verify failed"):
            asyncio.run(fetch(url))  # signed by a private CA the system does not trust
        monkeypatch.setenv("SSL_CERT_FILE", str(certificates[0]))  # OpenSSL's default store: our CA only
        fetched = asyncio.run(fetch(url))
    assert (fetched.status, fetched.content) == (200, RSS2)


def test_the_validators_carry_from_one_run_to_the_next(tmp_path: Path, web: Web) -> None:
    """What the store remembers of a source (ETag) goes out with the next run's request."""
    url = web.static("/feed.xml", RSS2)
    config = parse({"storage": {"url": "sqlite:///state.db"}, "sources": [{"url": url}]}, root=tmp_path, environ={})
    first = Newsletter(config).gather()
    assert (first.sources[0].status, first.new) == ("ok", 3)
    app = Newsletter(config)
    remembered = sources.states(app.store)
    assert list(remembered) == [url] and remembered[url].etag == ETAG
    app.close()

    fresh = Newsletter(config)
    second = fresh.gather()
    assert (second.sources[0].status, second.new) == ("not-modified", 0)
    assert web.requests[1].headers["if-none-match"] == ETAG
    assert len(stored(fresh.store)) == 3


def test_a_store_that_fails_to_open_is_one_error_before_any_request(tmp_path: Path, web: Web) -> None:
    """The schema cannot be brought up to date: nothing is fetched and nothing is recorded."""
    url = web.static("/feed.xml", RSS2)
    config = parse({"storage": {"url": "sqlite:///state.db"}, "sources": [{"url": url}]}, root=tmp_path, environ={})
    with sqlite3.connect(tmp_path / "state.db") as db:  # someone else's table of the same name
        db.execute("CREATE TABLE sources (key, etag, last_modified, permanent_url, content_hash)")
    with pytest.raises(StoreError, match="cannot open database"):
        Newsletter(config).gather()
    assert web.requests == []
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM sources").fetchone() == (0,)
