"""Gathering feeds over a real local HTTP server: identity, conditional GET, failures, source health."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from conftest import FeedServer, write_config
from newsletter.config import Config, load
from newsletter.sink import free_port
from newsletter.sources import GatherReport, SourceReport, gather
from newsletter.store import Store


def setup(folder: Path, *urls: str) -> tuple[Config, Store]:
    folder.mkdir(exist_ok=True)
    config = load(write_config(folder, smtp_url="smtp://127.0.0.1:25", sources=[{"url": u} for u in urls]),
                  environ={})
    return config, Store(config.database_url)


def items(store: Store) -> list[sa.RowMapping]:
    with store.begin() as conn:
        return list(conn.execute(sa.select(store.t.items).order_by(store.t.items.c.id)).mappings())


def report_for(report: GatherReport, url: str) -> SourceReport:
    [source] = [s for s in report.sources if s.key == url]
    return source


def test_rss2_items_and_conditional_get(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.feed("rss2.xml")
    config, store = setup(tmp_path / "n", url)
    first = gather(config, store)
    assert (first.new, report_for(first, url).status) == (3, "ok")
    stored = items(store)
    assert [r["uid"] for r in stored] == ["test-energy-0001", "test-energy-0002", "test-energy-0003"]
    assert stored[2]["title"] == "Новый транспортный коридор через Каспий"
    assert stored[1]["body"] == "Moscow hinted at a new gas supply agreement with Uzbekistan."

    second = gather(config, store)
    assert second.new == 0
    assert report_for(second, url).status == "not-modified"
    assert len(items(store)) == 3
    store.close()


def test_items_without_guid(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.feed("noguid.xml")
    uids = []
    for name in ["one", "two"]:
        config, store = setup(tmp_path / name, url)
        gather(config, store)
        uids.append([r["uid"] for r in items(store)])
        store.close()
    assert uids[0][:2] == [
        "https://test-noguid.example/news/tajikistan-rogun-budget",
        "https://test-noguid.example/news/kyrgyzstan-border-protocol",
    ]
    assert uids[0][2].startswith("sha256:") and len(uids[0][2]) > len("sha256:") + 16
    assert uids[0] == uids[1]


def test_malformed_feed_fails_alone(tmp_path: Path, feed_server: FeedServer) -> None:
    bad, good = feed_server.feed("malformed.xml"), feed_server.feed("rss2.xml")
    config, store = setup(tmp_path / "n", bad, good)
    report = gather(config, store)
    failed = report_for(report, bad)
    assert failed.status == "error"
    assert failed.error and "\n" not in failed.error and "feed" in failed.error
    assert report.failed == [failed]
    assert (report_for(report, good).status, report_for(report, good).new) == ("ok", 3)
    assert len(items(store)) == 3
    store.close()


def test_truncated_feed_keeps_only_complete_items(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.feed("broken.xml")
    config, store = setup(tmp_path / "n", url)
    report = report_for(gather(config, store), url)
    stored = items(store)
    assert all(r["title"].strip() for r in stored)
    assert not any(r["title"].startswith("Turkmenistan") for r in stored)
    if report.status == "ok":  # lenient: the complete item survives, the cut-off one is dropped
        assert [(r["uid"], r["title"]) for r in stored] == [
            ("test-broken-0001", "Azerbaijan expands gas exports")
        ]
    else:
        assert report.status == "error" and stored == []
    store.close()


def test_unreachable_source_fails_alone(tmp_path: Path, feed_server: FeedServer) -> None:
    dead, good = f"http://127.0.0.1:{free_port()}/feed.xml", feed_server.feed("atom.xml")
    config, store = setup(tmp_path / "n", dead, good)
    report = gather(config, store)
    assert report_for(report, dead).status == "error"
    assert "\n" not in (report_for(report, dead).error or "\n")
    assert report_for(report, good).new == 2
    assert [r["title"] for r in items(store)] == [
        "China opens new freight terminal on the Kazakh border",
        "Uzbekistan completes cotton harvest early",
    ]
    store.close()


def test_source_health(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.feed("later.xml")  # 404 until the file appears

    def health() -> tuple[str, int, str | None]:
        with store.begin() as conn:
            sources = store.t.sources
            row = conn.execute(sa.select(sources).where(sources.c.key == url)).mappings().one()
        return row["last_status"], row["failures"], row["last_error"]

    config, store = setup(tmp_path / "n", url)
    assert report_for(gather(config, store), url).failures == 1
    assert health()[:2] == ("error", 1) and "404" in (health()[2] or "")
    gather(config, store)
    assert health()[:2] == ("error", 2)

    shutil.copy(feed_server.root / "rss2.xml", feed_server.root / "later.xml")
    assert report_for(gather(config, store), url).new == 3
    assert health() == ("ok", 0, None)
    gather(config, store)
    assert health()[1] == 0
    store.close()
