"""Property tests of every gather-side parser of strangers' input: feeds, JSON Feeds, documents, OPML.

Whatever the bytes, a reader raises nothing but the project's own errors, returns within
the item limits, and finishes within the deadline. The example budget is fixed and the
examples derandomised, so CI runs the same cases every time in a few seconds each.
"""

from __future__ import annotations

import json
import xml.parsers.expat
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from helpers.damage import damaged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import item
from newsletter.error import NewsletterError
from newsletter.gather import opml, prolog, readers
from newsletter.gather.readers import document, jsonfeed
from newsletter.item import Parsed

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = sorted([*(FIXTURES / "feeds").iterdir(), *(FIXTURES / "hostile").iterdir()])
BOUNDED = settings(max_examples=200, derandomize=True, database=None, deadline=timedelta(seconds=2),
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BASE = "https://feeds.example/feed.xml"
XML_PIECES = [b"<", b">", b"&", b"&amp;", b"&#0;", b"&#x110000;", b"]]>", b"<![CDATA[", b"<!--", b"-->", b"<?x ?>",
              b"<!DOCTYPE rss [", b"]>", b'<!ENTITY a "b">', b"&a;", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
              b"<item>", b"</item>", b"<entry>", b"</channel>", b"<title>", b"{", b'"', b"<script>", b"\xd0",
              b'xmlns:x="urn:x"', b"<x:y>", b'href="javascript:alert(1)"', b"<div>" * 50]


def within_limits(parsed: Parsed, size: int) -> None:
    """Assert that what a reader returned fits the item limits and is no larger than its input allows."""
    assert len(parsed.title) <= item.TITLE_LIMIT
    assert len(parsed.entries) <= min(item.ENTRY_LIMIT, size)
    for entry in parsed.entries:
        assert len(entry.uid) <= item.UID_LIMIT and len(entry.title) <= item.TITLE_LIMIT
        assert len(entry.body) <= item.TEXT_LIMIT and len(entry.summary) <= item.TEXT_LIMIT
        assert len(entry.html) <= item.HTML_LIMIT and len(entry.link or "") <= item.LINK_LIMIT
        assert len(entry.author or "") <= item.TITLE_LIMIT and len(entry.label or "") <= item.TITLE_LIMIT
    assert "\n" not in (parsed.warning or "")


def read(content: bytes, hint: str | None = None) -> None:
    try:
        parsed = readers.read(content, base_url=BASE, hint=hint)
    except NewsletterError as e:
        assert str(e) and "\n" not in str(e)
    else:
        within_limits(parsed, len(content))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """Return a real feed, page or JSON Feed of the fixtures with a few bytes inserted, cut or replaced."""
    return damaged(draw, draw(st.sampled_from(SAMPLES)).read_bytes(), XML_PIECES)


HINTS = st.sampled_from([None, "feed", "json", "page"])


@BOUNDED
@given(st.binary(max_size=4096), HINTS)
def test_any_bytes_as_a_feed(content: bytes, hint: str | None) -> None:
    read(content, hint)


@BOUNDED
@given(mutated(), HINTS)
def test_real_feeds_with_damage(content: bytes, hint: str | None) -> None:
    read(content, hint)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
ITEM_KEYS = st.sampled_from(["id", "url", "external_url", "title", "content_html", "content_text", "summary",
                             "date_published", "date_modified", "author", "authors", "name"])
ITEM = st.dictionaries(ITEM_KEYS, JSON | st.text(max_size=200) | st.sampled_from(
    ["javascript:alert(1)", "<script>x</script><p>t</p>", "2026-11-20T08:00:00Z", "9999-99-99", "/relative"]),
    max_size=8)
JSON_FEED = st.fixed_dictionaries({
    "version": st.sampled_from([jsonfeed.VERSION_PREFIX + "1.1", jsonfeed.VERSION_PREFIX + "1", 1, None]),
    "title": JSON, "home_page_url": JSON, "items": st.lists(ITEM | JSON, max_size=6) | JSON})


@BOUNDED
@given(JSON_FEED)
def test_any_json_feed(data: dict[str, object]) -> None:
    read(json.dumps(data).encode(), None)


@BOUNDED
@given(st.text(max_size=3000), st.sampled_from(["a.txt", "2026-11-20-b.md", "2026-02-30-c.html", "d.markdown"]))
def test_any_document(text: str, name: str) -> None:
    try:
        entries = document.read(text, name)
    except NewsletterError:
        return
    assert len(entries) <= len(text)
    assert len({e.uid for e in entries}) == len(entries)
    for entry in entries:
        assert len(entry.body) <= len(text) and len(entry.title) <= max(len(text), 120)


OPML = st.builds(
    lambda outlines, junk: b"<opml><body>" + b"".join(outlines) + junk + b"</body></opml>",
    st.lists(st.builds(lambda url, text, nested: b'<outline text="%s" xmlUrl="%s">%s</outline>' % (text, url, nested),
                       st.text(max_size=30).map(lambda t: t.encode("utf-8", "replace")).filter(lambda b: b'"' not in b),
                       st.binary(max_size=10).filter(lambda b: b'"' not in b),
                       st.sampled_from([b"", b'<outline xmlUrl="https://x.example/"/>', b"<x>"])), max_size=5),
    st.sampled_from(XML_PIECES + [b""]))


@BOUNDED
@given(st.binary(max_size=2048) | OPML)
def test_any_opml(content: bytes) -> None:
    try:
        outlines = opml.parse(content)
    except NewsletterError:
        return
    assert len(outlines) <= len(content)
    assert all(len(o.url) + len(o.name) + len(o.folder) <= 3 * len(content) for o in outlines)


# Prologs made of what a guard that reads too little, or too naively, gets wrong.
TRICKS = [b"", b"<rss", b"<feed>", b"]>", b'"', b"'", b"<!ENTITY e 'EXPANDED'>", b"<!DOCTYPE x [", b"<x", b"-->"]
DECLARATIONS = st.sampled_from([b'<!ENTITY e "EXPANDED">', b"<!ENTITY % p 'x'>", b'<!ATTLIST rss a CDATA "]>">',
                                b"<!-- ]> -->", b"<!ELEMENT rss ANY>", b"<?pi ]> ?>"])
DOCTYPES = st.builds(
    lambda name, subset: b"<!DOCTYPE " + name + (b" [" + b"".join(subset) + b"]" if subset else b"") + b">",
    st.sampled_from([b"rss", b"feed", b"x"]), st.none() | st.lists(DECLARATIONS, max_size=3))
FRAGMENTS = st.one_of(
    st.builds(lambda body, pad: b"<!--" + body.replace(b"-->", b"") + b"c" * pad + b"-->",
              st.sampled_from(TRICKS), st.sampled_from([0, 70_000])),
    st.builds(lambda body: b"<?pi " + body + b"?>", st.sampled_from(TRICKS)),
    st.sampled_from([b"\n", b"junk", b"<", b"]]>"]),
    DOCTYPES,
)
PROLOGS = st.builds(lambda before, doctype, after: b'<?xml version="1.0"?>' + b"".join(before) + doctype
                    + b"".join(after),
                    st.lists(FRAGMENTS, max_size=4), DOCTYPES, st.lists(FRAGMENTS, max_size=2))
ROOTS = st.sampled_from([
    (b'<rss version="2.0"><channel><title>t</title><item><guid>g</guid><title>&e;</title>'
     b"<description>&e; &e;</description></item></channel></rss>"),
    b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>g</id><title>&e;</title></entry></feed>',
])


@BOUNDED
@given(PROLOGS, ROOTS)
def test_no_parser_ever_expands_a_declared_entity(prolog_bytes: bytes, root: bytes) -> None:
    content = prolog_bytes + root
    declared: list[object] = []
    strict = xml.parsers.expat.ParserCreate()
    strict.EntityDeclHandler = lambda *declaration: declared.append(declaration)
    try:
        strict.Parse(content, True)
    except xml.parsers.expat.ExpatError:
        pass
    _, _, loose = feedparser.sanitizer.replace_doctype(content)
    if declared or loose:  # what expat, or feedparser's recovering parser, would have expanded
        assert prolog.declares_entities(content)
    try:
        parsed = readers.read(content, base_url=BASE, hint="feed")
    except NewsletterError:
        return
    assert not any("EXPANDED" in e.title + e.body + e.summary for e in parsed.entries)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_reads_or_fails_cleanly(path: Path) -> None:
    read(path.read_bytes())
