"""Hostile input: none crashes gather, none hangs it past its timeouts, none stores executable content."""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.gathering import HOSTILE, by_url, newsletter, stored
from helpers.http import Handler, Web, serve

from newsletter.gather import gather
from newsletter.store import Store

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
EXECUTABLE = re.compile(r"<script|<iframe|<object|<embed|<svg|<style|javascript:|vbscript:|data:text|\son\w+\s*=",
                        re.IGNORECASE)


def _stall(h: Handler) -> None:
    h.start_chunked()
    h.chunk(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Stalled</title>')
    h.server.web.stop.wait(30)


def _endless(h: Handler) -> None:
    h.start_chunked()
    h.chunk(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Endless</title>')
    block = b"<item><title>again</title></item>" * 2000
    while not h.server.web.stop.is_set():
        h.chunk(block)


def _drip(h: Handler) -> None:
    """One byte at a time, each well within the read timeout, forever: only a total deadline stops it."""
    h.start_chunked()
    while not h.server.web.stop.wait(0.05):
        h.chunk(b" ")


def _declared_enormous(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", str(50_000_000_000))
    h.end_headers()
    h.wfile.write(b"<rss>")
    h.server.web.stop.wait(30)


def _silent(h: Handler) -> None:
    h.server.web.stop.wait(30)  # accepts the request, never answers


@pytest.fixture
def web() -> Iterator[Web]:
    with serve() as server:
        yield server


@pytest.fixture
def corpus(web: Web) -> dict[str, str]:
    """Every hostile answer the corpus has, by name, plus one good feed."""
    urls = {}
    for path in sorted(HOSTILE.iterdir()):
        if path.suffix == ".opml":
            continue
        content_type = {".html": "text/html; charset=utf-8", ".json": "application/feed+json"}.get(
            path.suffix, "application/rss+xml")
        urls[path.stem] = web.static(f"/{path.name}", path.read_bytes(), content_type)
    # Lies in the HTTP header too: cp1251 bytes sold as UTF-8, UTF-8 sold as latin-1.
    urls["header-lies-utf8"] = web.static("/lies-utf8.xml", (HOSTILE / "cp1251-undeclared.xml").read_bytes(),
                                          "application/rss+xml; charset=utf-8")
    urls["header-lies-latin1"] = web.static("/lies-latin1.xml", (HOSTILE / "multilingual.xml").read_bytes(),
                                            "text/xml; charset=iso-8859-1")
    urls["good"] = web.static("/good.xml", (FEEDS / "rss2.xml").read_bytes())
    urls["binary"] = web.static("/garbage.png", random.Random(7).randbytes(20_000), "image/png")
    urls["deep-json"] = web.static("/deep.json", b'{"version": "https://jsonfeed.org/version/1.1", "items": '
                                   + b"[" * 200_000 + b"]" * 200_000 + b"}", "application/feed+json")
    urls["html-error-page"] = web.static("/error.xml", (FEEDS / "malformed.xml").read_bytes(), "text/html")
    # A body that names a file on this machine: feedparser given bare bytes would open and parse it.
    urls["local-file-name"] = web.static("/name.xml", str(FEEDS / "rss2.xml").encode(), "application/rss+xml")
    bomb = gzip.compress(b"\0" * 60_000_000, compresslevel=9)
    urls["gzip-bomb"] = web.static("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    for name, route in [("stall", _stall), ("endless", _endless), ("drip", _drip),
                        ("declared-enormous", _declared_enormous), ("silent", _silent)]:
        web.routes[f"/{name}"] = route
        urls[name] = web.url(f"/{name}")
    return urls


def test_the_hostile_corpus_neither_crashes_nor_hangs_gather(tmp_path: Path, corpus: dict[str, str]) -> None:
    config, store = newsletter(tmp_path, list(corpus.values()), timeout=2, max_bytes=2_000_000)
    report = by_url(gather(config, store))
    s = {name: report[url] for name, url in corpus.items()}
    assert all(r.status in ("ok", "error") for r in s.values())
    assert all("\n" not in (r.error or "") for r in s.values())

    refused = "declares XML entities"
    for name in ["billion-laughs", "quadratic-blowup", "external-entity"]:
        assert s[name].status == "error" and refused in (s[name].error or ""), name
    for name in ["stall", "drip", "silent"]:
        assert s[name].status == "error" and s[name].error == "timed out after 2 s", name
    for name in ["endless", "declared-enormous", "gzip-bomb"]:
        assert s[name].status == "error" and "too large" in (s[name].error or ""), name
    assert "binary data (image/png" in (s["binary"].error or "")
    assert s["deep-json"].error == "not a valid JSON Feed: nested too deeply"
    assert s["html-page"].error == ("not a valid feed: the address returned an HTML page; its feed is at "
                                    + corpus["html-page"].rsplit("/", 1)[0] + "/feed.xml")
    assert "not a valid feed" in (s["html-error-page"].error or "")
    assert s["local-file-name"].status == "error"

    assert (s["malformed-recoverable"].status, s["malformed-recoverable"].new) == ("ok", 2)
    assert "recovered 2 entries" in (s["malformed-recoverable"].warning or "")
    assert (s["good"].status, s["good"].new) == ("ok", 3)
    assert (s["article"].status, s["article"].kind, s["article"].new) == ("ok", "page", 1)
    assert (s["jsonfeed"].status, s["jsonfeed"].kind, s["jsonfeed"].new) == ("ok", "json", 2)

    items = stored(store)
    titles = {r["title"] for r in items}
    assert "Tashkent opens metro line" in titles  # control characters dropped, the item kept
    assert not any("lol" in r["title"] or "Leak" in r["title"] for r in items)
    assert not any(r["title"] == "Kazakhstan raises oil output" and r["source_id"] != _source_id(store, corpus["good"])
                   for r in items), "a body naming a local file must not make us read that file"
    store.close()


def _source_id(store: Store, key: str) -> int:
    with store.begin() as conn:
        return conn.execute(sa.select(store.t.sources.c.id).where(store.t.sources.c.key == key)).scalar_one()


def test_nothing_executable_reaches_stored_items(tmp_path: Path, corpus: dict[str, str]) -> None:
    urls = [corpus[n] for n in ["scripts", "article", "jsonfeed", "malformed-recoverable"]]
    config, store = newsletter(tmp_path, urls)
    report = gather(config, store)
    assert not report.failed
    items = stored(store)
    assert len(items) == 7
    for item in items:
        for column in ["title", "summary", "body", "content_html", "link", "author"]:
            assert not EXECUTABLE.search(item[column] or ""), (column, item[column])
        assert item["link"] is None or item["link"].startswith(("http://", "https://"))
    evil = {r["uid"]: r for r in items}["evil-0001"]
    assert evil["link"] is None  # javascript: link dropped, not kept as text
    assert "Real text survives: Алматы, 北京." in evil["body"]
    assert 'href="https://evil.example/news/one"' in evil["content_html"]  # relative link resolved
    second = {r["uid"]: r for r in items}["evil-0002"]
    assert second["link"] is None and 'href="https://evil.example/relative/two"' in second["content_html"]
    store.close()


def test_encodings_declared_wrongly_or_not_at_all(tmp_path: Path, corpus: dict[str, str]) -> None:
    names = ["cp1251-declared-utf8", "utf8-declared-cp1251", "cp1251-undeclared", "utf16-bom",
             "header-lies-utf8", "header-lies-latin1", "multilingual"]
    config, store = newsletter(tmp_path, [corpus[n] for n in names])
    report = by_url(gather(config, store))
    assert all(report[corpus[n]].status == "ok" for n in names)
    items = stored(store)
    russian = [r for r in items if r["title"] == "Казахстан увеличил добычу нефти"]
    assert len(russian) == 5
    assert all(r["body"].startswith("Министерство энергетики сообщило, что в октябре") for r in russian)
    assert report[corpus["cp1251-undeclared"]].name == "Лента новостей"
    by_uid = {r["uid"]: r for r in items}
    assert by_uid["multi-kk"]["title"] == "Қазақстан мен Өзбекстан су туралы келісімге қол қойды"
    assert by_uid["multi-kk"]["body"] == "Екі ел Сырдария суын бөлісу туралы келісті. Үкімет «маңызды қадам» деп атады."
    assert by_uid["multi-zh"]["title"] == "中国与哈萨克斯坦签署铁路协议"
    assert by_uid["multi-zh"]["body"] == "两国同意在霍尔果斯口岸建设新的货运站。项目预计于明年完工。"
    store.close()


def test_json_feed_items(tmp_path: Path, corpus: dict[str, str]) -> None:
    config, store = newsletter(tmp_path, [corpus["jsonfeed"]])
    [report] = gather(config, store).sources
    assert (report.name, report.kind, report.new) == ("Caspian JSON Wire", "json", 2)
    assert report.warning == "2 items without a title or content were skipped"
    first, second = stored(store)
    assert (first["uid"], first["title"], first["link"], first["author"]) == (
        "json-0001", "Turkmenistan signs gas deal with China", "https://json.example/news/turkmen-gas", "Aman Orazov")
    assert first["content_html"].startswith("<p>Ashgabat agreed to ship more gas east.</p>")
    assert str(first["published_at"]) == "2026-11-20 08:00:00"
    assert (second["uid"], second["link"]) == ("2", "https://other.example/kazakh-wheat")
    assert second["body"] == "Қазақстан бидай экспортын арттырды. Kazakhstan increased wheat exports."
    assert str(second["published_at"]) == "2026-11-21 05:30:00"
    store.close()


def test_article_page(tmp_path: Path, web: Web) -> None:
    url = web.static("/2026/11/tashkent-rail-link", (HOSTILE / "article.html").read_bytes(), "text/html")
    config, store = newsletter(tmp_path, [url])
    [report] = gather(config, store).sources
    assert (report.status, report.kind, report.name, report.new) == ("ok", "page", "Silk Road Times", 1)
    [item] = stored(store)
    assert item["uid"] == item["link"] == web.url("/2026/11/tashkent-rail-link")
    assert item["title"] == "Tashkent opens new rail link to the border"
    assert item["author"] == "Dilnoza Karimova"
    assert item["body"].startswith("A 120-kilometre electrified line now connects the Uzbek capital")
    assert "No comments yet" not in item["body"] and "Most read" not in item["body"]
    assert "Home" not in item["body"] and "All rights reserved" not in item["body"]
    assert f'href="{web.url("/2026/11/railway-history")}"' in item["content_html"]
    assert not EXECUTABLE.search(item["content_html"])
    assert json.dumps(item["summary"]) == json.dumps(
        "A 120-kilometre electrified line now connects Tashkent with the Kazakh border.")
    store.close()


def test_an_issue_built_from_hostile_sources_carries_nothing_executable(tmp_path: Path, corpus: dict[str, str]) -> None:
    from newsletter.app import Newsletter

    urls = [corpus[n] for n in ["scripts", "article", "jsonfeed", "multilingual"]]
    config, store = newsletter(tmp_path, urls)
    app = Newsletter(config, store=store)
    assert not app.gather().failed
    draft, rendered = app.preview()
    assert len(draft.items) == 7
    for part in (rendered.html, rendered.text):
        assert not re.search(r"<script|<iframe|<object|<embed|javascript:|vbscript:|\son\w+\s*=", part, re.I)
        assert "alert(" not in part
    assert "Harmless headline" in rendered.html
    assert "Қазақстан мен Өзбекстан су туралы келісімге қол қойды" in rendered.html
    store.close()


def test_markup_allow_list() -> None:
    from newsletter.gather.markup import safe_url, sanitise

    dirty = ('<p style="color:red" onclick="x()">Hi <a href="../up">up</a> <a href="java&#x09;script:alert(1)">j</a>'
             '<img src="/i.png" onerror="x()"><img src="data:image/png;base64,AAAA"></p><form><input></form>'
             '<style>p{}</style><iframe src="https://evil.example/"></iframe><textarea>typed</textarea>'
             '<a href="mailto:desk@news.example">mail</a><!-- comment -->')
    assert sanitise(dirty, "https://news.example/a/b/") == (
        '<p>Hi <a href="https://news.example/a/up" rel="noopener noreferrer">up</a> '
        '<a rel="noopener noreferrer">j</a><img src="https://news.example/i.png"><img></p>'
        '<a href="mailto:desk@news.example" rel="noopener noreferrer">mail</a>')
    assert safe_url(" java\tscript:alert(1)") is None
    assert safe_url("mailto:desk@news.example") is None  # an item's own link must be http(s)
    assert safe_url("/x", "https://news.example/feed") == "https://news.example/x"
    assert safe_url("https:///nohost") is None
