"""Gathering feeds over a real local HTTP server: identity, conditional GET, failures, source health."""

from __future__ import annotations

import random
import re
import shutil
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.gathering import HOSTILE, by_url
from helpers.gathering import newsletter as hostile_newsletter
from helpers.http import FeedServer, serve
from helpers.newsletters import FIXTURES, write_config

from newsletter import item
from newsletter.config import Config, load, parse
from newsletter.error import ConfigError
from newsletter.gather import GatherReport, SourceReport, gather
from newsletter.gather.readers import feed
from newsletter.gather.sources import health
from newsletter.sink import free_port
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


# --- identity: what counts as the same item across runs ------------------------------------------

def _rss(*items: tuple[str, str, str]) -> bytes:
    """An RSS 2.0 feed of (guid, link, title) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid>"
        f"<description>{title}: the story.</description></item>" for guid, link, title in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Ids</title>{body}</channel></rss>'.encode()


def _mark_sent(store: Store, uid: str) -> None:
    """Put the item with ``uid`` in a sent issue, as delivering an issue does."""
    t = store.t
    with store.begin() as conn:
        item_id = conn.execute(sa.select(t.items.c.id).where(t.items.c.uid == uid)).scalar_one()
        issue_id = conn.execute(t.issues.insert().values(
            number=1, status="sent", subject="s", html="", text="", created_at=datetime(2026, 11, 1))
        ).inserted_primary_key[0]
        conn.execute(t.issue_items.insert().values(issue_id=issue_id, item_id=item_id, section="x", position=0))


def test_a_new_guid_for_a_known_link_is_the_same_item(tmp_path: Path) -> None:
    with serve() as web:
        url = web.static("/ids.xml", _rss(("g1", "https://ids.example/1", "One"),
                                          ("g2", "https://ids.example/2", "Two")))
        config, store = hostile_newsletter(tmp_path, [url])
        assert by_url(gather(config, store))[url].new == 2
        _mark_sent(store, "g1")
        # The CMS re-issued every guid; item 2 was also retitled, item 3 is really new.
        web.static("/ids.xml", _rss(("new-g1", "https://ids.example/1", "One, edited"),
                                    ("new-g2", "https://ids.example/2", "Two, edited"),
                                    ("new-g3", "https://ids.example/3", "Three")))
        report = by_url(gather(config, store))[url]
        assert (report.new, report.updated) == (1, 1)
        rows = {r["uid"]: r for r in items(store)}
        assert set(rows) == {"g1", "g2", "new-g3"}  # the first identity is kept
        assert rows["g1"]["title"] == "One"  # sent: never touched again
        assert rows["g2"]["title"] == "Two, edited"  # waiting: refreshed in place
    store.close()


def test_entries_sharing_a_link_keep_their_own_guids(tmp_path: Path) -> None:
    with serve() as web:
        url = web.static("/shared.xml", _rss(("a", "https://ids.example/", "Alpha")))
        config, store = hostile_newsletter(tmp_path, [url])
        gather(config, store)
        web.static("/shared.xml", _rss(("a", "https://ids.example/", "Alpha"), ("b", "https://ids.example/", "Beta"),
                                       ("c", "https://ids.example/", "Gamma")))
        assert by_url(gather(config, store))[url].new == 2
        assert [r["uid"] for r in items(store)] == ["a", "b", "c"]
    store.close()


def test_an_edited_entry_refreshes_while_waiting_and_never_returns_once_sent(tmp_path: Path) -> None:
    with serve() as web:
        url = web.static("/edit.xml", _rss(("e1", "https://ids.example/e1", "Draft title")))
        config, store = hostile_newsletter(tmp_path, [url])
        gather(config, store)
        web.static("/edit.xml", _rss(("e1", "https://ids.example/e1", "Final title")))
        assert (by_url(gather(config, store))[url].updated, items(store)[0]["title"]) == (1, "Final title")
        _mark_sent(store, "e1")
        web.static("/edit.xml", _rss(("e1", "https://ids.example/e1", "Corrected title")))
        report = by_url(gather(config, store))[url]
        assert (report.new, report.updated) == (0, 0)
        assert [r["title"] for r in items(store)] == ["Final title"]
    store.close()


def test_uids_do_not_change_when_a_feed_moves(tmp_path: Path) -> None:
    # feedparser resolves a guid against the feed's address as if it were a link; we must not.
    body = b'<rss version="2.0"><channel><title>T</title><item><title>A</title><guid>item-1</guid></item></channel></rss>'
    with serve() as web:
        urls = [web.static("/one/feed.xml", body), web.static("/two/feed.xml", body)]
        config, store = hostile_newsletter(tmp_path, urls)
        gather(config, store)
        rows = items(store)
        assert [(r["uid"], r["link"]) for r in rows] == [("item-1", None), ("item-1", None)]
    store.close()


# --- health: a source failing for days is loud ---------------------------------------------------

def test_a_source_failing_for_days_raises_an_alarm_until_it_recovers(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.feed("later.xml")
    config, store = hostile_newsletter(tmp_path, [url], warn_after_hours=48)
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    def at(hours: float) -> SourceReport:
        return report_for(gather(config, store, clock=lambda: start + timedelta(hours=hours)), url)

    first = at(0)
    assert (first.failures, first.alarm, first.failing_since) == (1, False, datetime(2026, 11, 20, 8, 0))
    assert at(24).alarm is False
    late = at(72)
    assert (late.failures, late.alarm) == (3, True)
    assert late.alarm_message == ("source " + url + " has been failing since 2026-11-20 08:00 UTC (3 attempts in "
                                  "a row): HTTP 404 File not found; fix or remove it")
    [row] = health(config, store, moment=start + timedelta(hours=73))
    assert (row.flag, row.status, row.failures, row.last_http_status) == ("FAILING", "error", 3, 404)
    assert health(config, store, moment=start + timedelta(hours=1))[0].flag == "error"

    shutil.copy(feed_server.root / "rss2.xml", feed_server.root / "later.xml")
    healed = at(73)
    assert (healed.status, healed.alarm, healed.failing_since) == ("ok", False, None)
    [row] = health(config, store, moment=start + timedelta(hours=74))
    assert (row.flag, row.failures, row.failing_since, row.items) == ("ok", 0, None, 3)
    store.close()


# --- kinds of source on disk ---------------------------------------------------------------------

def test_files_on_disk_of_every_kind(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    shutil.copy(HOSTILE / "jsonfeed.json", folder / "wire.json")
    shutil.copy(HOSTILE / "article.html", folder / "saved-article.html")
    shutil.copy(FIXTURES / "feeds" / "atom.xml", folder / "atom.xml")
    shutil.copy(HOSTILE / "article.html", folder / "not-a-feed.html")
    sources = [
        {"path": "files/wire.json"},
        {"path": "files/saved-article.html", "kind": "page"},
        {"url": (folder / "atom.xml").as_uri()},
        {"path": "files/not-a-feed.html", "kind": "feed", "name": "Forced feed"},
    ]
    config = parse({"storage": {"url": "sqlite:///state.db"}, "sources": sources}, root=tmp_path, environ={})
    store = Store(config.database_url)
    report = gather(config, store).sources
    assert [(s.kind, s.status, s.new) for s in report] == [
        ("json", "ok", 2), ("page", "ok", 1), ("atom", "ok", 2), ("feed", "error", 0)]
    assert report[3].error == "not a valid feed: the address returned an HTML page"
    assert {r["title"] for r in items(store)} >= {"Tashkent opens new rail link to the border",
                                                  "Uzbekistan completes cotton harvest early"}
    store.close()


def test_a_source_kind_must_be_known_and_a_source_listed_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[1\]\.kind must be one of feed, json, page, documents, got 'rss'"):
        parse({"sources": [{"url": "https://x.example/feed", "kind": "rss"}]}, root=tmp_path, environ={})
    with pytest.raises(ConfigError, match=r"sources\[3\] repeats sources\[1\] \(https://x.example/feed\)"):
        parse({"sources": [{"url": "https://x.example/feed"}, {"path": "inbox"}, {"url": "https://x.example/feed"}]},
              root=tmp_path, environ={})


def test_rss_091_with_its_dtd_and_rss_10(tmp_path: Path) -> None:
    rss091 = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS '
              '0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel><title>Old'
              '</title><link>https://old.example/</link><description>d</description><item><title>Café &amp; crème in '
              'Astana</title><link>https://old.example/1</link><description>Old été item.</description></item>'
              '</channel></rss>').encode("latin-1")
    rss10 = b'''<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://rdf.example/"><title>RDF Wire</title><link>https://rdf.example/</link>
        <description>d</description></channel>
      <item rdf:about="https://rdf.example/a"><title>Baku port expands</title><link>https://rdf.example/a</link>
        <description>The port grows.</description><dc:date>2026-11-20T08:00:00Z</dc:date></item></rdf:RDF>'''
    with serve() as web:
        old, rdf = web.static("/old.xml", rss091), web.static("/rdf.xml", rss10)
        config, store = hostile_newsletter(tmp_path, [old, rdf])
        report = by_url(gather(config, store))
        assert (report[old].status, report[old].kind, report[rdf].kind) == ("ok", "rss", "rss")
        assert sorted((r["uid"], r["title"], r["body"]) for r in items(store)) == [
            ("https://old.example/1", "Café & crème in Astana", "Old été item."),
            ("https://rdf.example/a", "Baku port expands", "The port grows."),
        ]
    store.close()


def test_text_normalisation_collapses_every_kind_of_space_and_keeps_paragraphs() -> None:
    assert item.normalise("  Астана\u00a0\u2003 mid\u200bday \t\r\n\n\n\n铁路\x00 霍尔果斯 \u3000\n") == "Астана mid day\n\n铁路 霍尔果斯"
    assert item.normalise("e\u0301 \u2028 line\x85") == "é \u2028 line"  # NFC; separators kept inside a line
    # The fast path agrees with the definition: each line's runs of _SPACE made one space, then stripped.
    alphabet = [" ", "\t", "\r", "\n", "\x0b", "\x0c", "\xa0", "\u2003", "\u3000", "\x00", "\x1f", "\x7f", "a",
                "Ж", "e\u0301", "铁", "\u200b", "\u2028", "\x85", "\x1c", "\u1680", "\u202f", "\u205f", "\u2029"]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        plain = item._CONTROL.sub("", unicodedata.normalize("NFC", text))
        lines = [item._SPACE.sub(" ", line).strip() for line in plain.split("\n")]
        assert item.normalise(text) == re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), repr(text)


def test_cp1252_characters_and_other_scripts_read_right() -> None:
    """Numeric references to cp1252's 0x80-0x9F mean the Windows characters; other scripts pass unchanged."""
    xml = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><item>'
           '<title>Price &#128;5 &#150; Қазақстан 铁路 Ünïcode</title><guid>g1</guid>'
           '<description><![CDATA[<p>Астана &#128; <b>bold</b></p>]]></description></item></channel></rss>')
    [entry] = feed.parse(xml.encode(), base_url="https://x.example/feed.xml").entries
    assert entry.title == "Price €5 – Қазақстан 铁路 Ünïcode"
    assert entry.body == "Астана € bold"
