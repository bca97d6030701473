"""Bounded reading (issue 13): each attack that got past the first guards, replayed; and the caps after parsing."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import feedparser
import pytest
from helpers.newsletters import FIXTURES, write_config

from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.error import FeedError, OpmlError
from newsletter.gather import markup, opml, prolog, readers
from newsletter.gather.readers import document
from newsletter.item import (
    ENTRY_LIMIT,
    HTML_LIMIT,
    LINK_LIMIT,
    TEXT_LIMIT,
    TITLE_LIMIT,
    UID_LIMIT,
    Entry,
    Parsed,
    cap,
    clip,
    identify,
)

ENTITY = "x" * 10_000
REFERENCES = "&e;" * 20_000
REFUSED = "refused: the feed declares XML entities (an entity-expansion attack or a broken feed)"


def entity_feed(before: str = "", *, doctype: str = "rss") -> bytes:
    """The feed of the report: 0.18 MB that became 200 M characters, with ``before`` ahead of its DOCTYPE."""
    return (f'<?xml version="1.0"?>\n{before}<!DOCTYPE {doctype} [\n<!ENTITY e "{ENTITY}">\n]>\n'
            '<rss version="2.0"><channel><title>t</title><item><guid>e</guid><title>Entity</title>'
            f"<description>{REFERENCES}</description></item></channel></rss>").encode()


@pytest.mark.parametrize("before", [
    "<!-- " + "c" * 66_000 + " -->\n",  # past the 64 KiB the first guard read
    "<!-- <rss -->\n",  # the first guard cut the prolog at the first "<rss", even inside a comment
    "<!-- <feed> <rdf:RDF> -->\n<?pi <rss ?>\n",
    "<?xml-stylesheet href='<rss'?>\n" * 3000,  # processing instructions, 100 KB of them
    "junk before the root <\n",  # text where none may be: a recovering parser goes on
])
def test_entity_declarations_are_refused_whatever_comes_before_them(before: str) -> None:
    with pytest.raises(FeedError) as refused:
        readers.read(entity_feed(before))
    assert str(refused.value) == REFUSED


def test_entities_hidden_from_a_strict_parser_are_refused_for_the_recovering_one() -> None:
    """feedparser's loose parser takes declarations up to the first ``<`` and a letter, wherever that is."""
    # The root is "<é>" for expat; the loose parser's prolog runs on to "<rss" and keeps the entity.
    hidden = ('<!DOCTYPE x>\n<é>\n<!ENTITY e "' + ENTITY + '">\n<rss version="2.0"><channel><item><title>'
              + REFERENCES + "</title></item></channel></rss>").encode()
    _, _, entities = feedparser.sanitizer.replace_doctype(hidden)
    assert entities == {"e": ENTITY}  # what the loose parser would expand
    assert prolog.declares_entities(hidden)
    with pytest.raises(FeedError, match="declares XML entities"):
        readers.read(hidden)


def test_entities_after_the_root_or_only_in_text_are_not_declarations() -> None:
    escaped = (FIXTURES / "feeds" / "rss2.xml").read_text(encoding="utf-8").replace(
        "</channel>", "<item><title>XML attacks</title><description>&lt;!ENTITY lol \"lol\"&gt; and "
        "<![CDATA[<!ENTITY lol2 \"x\">]]></description></item></channel>")
    parsed = readers.read(escaped.encode())
    assert [e.title for e in parsed.entries][-1] == "XML attacks"  # read, not refused


def test_prolog_scanning() -> None:
    tricky = (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- <x> -->\n<!DOCTYPE r [<!-- ]> -->'
              b'<!ATTLIST r a CDATA "]>">]>\n<r/>')
    assert prolog.root(tricky) == tricky.index(b"<r/>")
    assert prolog.root(b"<!-- never closed <rss>") == 23  # no root: all of it is prolog
    assert prolog.root(b'<!DOCTYPE rss "unterminated>') == 28
    assert not prolog.declares_entities(b"<rss><!ENTITY in the body, not well-formed, not a declaration>")
    assert prolog.has_doctype(b"<!-- x -->" * 10_000 + b"<!DOCTYPE opml><opml/>")
    assert not prolog.has_doctype(b"<opml><body>text mentions <!DOCTYPE ...></body></opml>")


def test_feeds_feedparser_reads_too_slowly_or_at_too_great_a_cost_are_refused() -> None:
    def rss(inside: str, root_attributes: str = "") -> bytes:
        return (f'<rss version="2.0" {root_attributes}><channel><title>t</title>{inside}</channel></rss>').encode()

    cases = {
        "items (limit 10,000)": rss("<item><title>i</title></item>" * (ENTRY_LIMIT + 1)),
        "nests elements more than 1,000 deep": rss("<item><title>i</title>" + "<x>" * 1_001 + "</x>" * 1_001
                                                   + "</item>"),
        "XML namespace prefixes (limit 256)": rss("<item><title>i</title><p256:x>v</p256:x></item>",
                                                  " ".join(f'xmlns:p{i}="urn:{i}"' for i in range(257))),
        "too many attributes": rss("<item><title>i</title><x " + " ".join(f'a{i}="{i}"' for i in range(3_200))
                                   + "/></item>"),
    }
    for reason, content in cases.items():
        with pytest.raises(FeedError, match=f"^refused: .*{re.escape(reason)}"):
            readers.read(content)
    # Nesting inside CDATA and comments, and self-closed elements, are not nesting.
    fine = rss("<item><title>i</title><description><![CDATA[" + "<div>" * 2_000 + "]]></description>"
               + "<!--" + "<x>" * 2_000 + "-->" + "<br/>" * 2_000 + "</item>")
    assert [e.title for e in readers.read(fine).entries] == ["i"]


def test_item_text_is_capped_after_parsing_whatever_the_parser_did() -> None:
    word = "word "
    long_text = word * 400_000  # 2 M characters on one line
    huge_guid = "g" * (UID_LIMIT + 1)
    content = ('<rss version="2.0"><channel><title>' + "T" * 5_000 + "</title>"
               f"<item><guid>{huge_guid}</guid><title>{long_text}</title><description>{long_text}</description>"
               f"<link>https://x.example/{'a' * LINK_LIMIT}</link></item></channel></rss>").encode()
    parsed = readers.read(content)
    [entry] = parsed.entries
    assert len(parsed.title) == TITLE_LIMIT and parsed.title.endswith("…")
    assert len(entry.title) <= TITLE_LIMIT and entry.title.endswith("word…")  # cut at a word
    assert TEXT_LIMIT - len(word) <= len(entry.body) <= TEXT_LIMIT
    assert len(entry.summary) <= TEXT_LIMIT and entry.link is None
    assert entry.uid == identify(huge_guid, None) and entry.uid.startswith("sha256:")
    assert parsed.warning == ("1 entry cut to the size limits (title 1,000, text 100,000, HTML 300,000 characters); "
                              "the source's title cut to 1,000 characters")


def test_cap_keeps_what_fits_and_drops_html_it_cannot_cut() -> None:
    small = Entry(uid="u", title="t", body="b", html="<p>b</p>")
    assert cap(Parsed("T", [small])) == Parsed("T", [small])
    big = Entry(uid="u", title="t", body="b " * TEXT_LIMIT, html="<p>b</p>" * HTML_LIMIT, label="L" * 2_000,
                author="A" * 2_000)
    [capped] = cap(Parsed("T", [big], warning="recovered")).entries
    assert capped.html == "" and len(capped.body) <= TEXT_LIMIT
    assert len(capped.label or "") == len(capped.author or "") == TITLE_LIMIT
    assert clip("short", 10) == "short" and clip("a" * 20, 10) == "a" * 9 + "…"


def test_deeply_nested_markup_costs_little_and_keeps_its_text() -> None:
    """html5ever takes time in the square of the depth: 40,000 nested <div> cost 3 s before."""
    nested = "<div>deep " * 200_000 + "<script>alert(1)</script>"
    html = markup.sanitise(nested)
    assert html.startswith("<p>deep</p><p>deep</p>") and "script" not in html and "alert" not in html
    links = markup.sanitise('<a href="/x">l</a>' * 100_000, "https://news.example/")
    assert links.count('href="https://news.example/x"') == markup.MARKUP_LIMIT // len('<a href="/x">l</a>')


def test_opml_refuses_a_doctype_anywhere_before_its_root_and_reads_any_depth(tmp_path: Path) -> None:
    outline = '<outline text="f" xmlUrl="https://feeds.example/a.xml"/>'
    for before in ["<!-- " + "c" * 66_000 + " -->", "<!-- <opml> -->"]:
        attack = (f'<?xml version="1.0"?>{before}<!DOCTYPE opml [<!ENTITY e "{ENTITY}">]>'
                  f'<opml><body><outline text="&e;&e;&e;" xmlUrl="https://x.example/"/></body></opml>').encode()
        with pytest.raises(OpmlError, match="^refused: the OPML file has a DOCTYPE"):
            opml.parse(attack)
        with pytest.raises(OpmlError, match="^refused"):  # and in UTF-16, which hid it from a byte search
            opml.parse(b"\xff\xfe" + attack.decode().replace('"1.0"?>', '"1.0" encoding="utf-16"?>').encode("utf-16-le"))
    deep = ("<opml><body>" + '<outline text="a">' * 100_000 + outline + "</outline>" * 100_000
            + outline.replace("/a.xml", "/b.xml") + "</body></opml>").encode()
    assert [(o.url[-5:], o.folder) for o in opml.parse(deep)] == [("a.xml", "a"), ("b.xml", "")]


def test_opml_import_refuses_a_file_over_the_size_cap(tmp_path: Path) -> None:
    config = write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[],
                          extra="").read_text(encoding="utf-8").replace("timeout = 5", "timeout = 5\nmax_bytes = 1000")
    (tmp_path / "newsletter.toml").write_text(config, encoding="utf-8")
    big = tmp_path / "big.opml"
    big.write_bytes(b"<opml><body>" + b'<outline text="x" xmlUrl="https://x.example/"/>' * 100 + b"</body></opml>")
    with pytest.raises(OpmlError, match=r"^big\.opml is larger than 1,000 bytes \(gather\.max_bytes\)$"):
        opml.import_file(load(tmp_path / "newsletter.toml", environ={}), big)


def test_a_link_out_of_a_document_folder_never_reaches_an_issue(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "smtp.txt").write_text("Russia. SMTP password: hunter2-secret.\n\nChina. Token: tok-secret.\n")
    (secrets / "more.md").write_text("Russia. Leaked from a linked folder: folder-secret.\n\nChina. More.\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES / "documents" / "briefing.txt", inbox / "briefing.txt")
    (inbox / "leak.txt").symlink_to(secrets / "smtp.txt")
    (inbox / "linked").symlink_to(secrets, target_is_directory=True)
    (inbox / "same.txt").symlink_to(inbox / "briefing.txt")  # a link within the folder is the folder's own
    (inbox / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    (inbox / "huge.txt").write_text("Russia. " + "x " * 6_000)
    config = write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[{"path": "inbox", "name": "Inbox"}])
    config.write_text(config.read_text(encoding="utf-8").replace("timeout = 5", "timeout = 5\nmax_bytes = 10000"))
    app = Newsletter(load(config, environ={}))
    [report] = app.gather().sources
    assert report.status == "ok"
    assert report.warning == ("dangling.md: skipped: a link that leads nowhere; "
                              "huge.txt: skipped: 12,008 bytes (limit 10,000); "
                              "leak.txt: skipped: a link to outside the folder")
    _, rendered = app.preview()
    for part in (rendered.html, rendered.text):
        assert "Moscow is pressing regional banks" in part
        assert "secret" not in part
    app.store.close()


def test_a_document_that_grows_past_the_cap_after_the_scan_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Russia. " + "x " * 100)
    with pytest.raises(document.DocumentError, match=r"^a\.txt: larger than 100 bytes$"):
        document.entries(tmp_path / "a.txt", relative_to=tmp_path, max_bytes=100)


def test_recovered_feeds_still_read() -> None:
    """The bounds refuse attacks, not the broken feeds the world publishes."""
    broken = (FIXTURES / "hostile" / "malformed-recoverable.xml").read_bytes()
    assert len(readers.read(broken).entries) == 2
    netscape = (b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel><title>N</title>'
                b"<item><title>Old &amp; fine</title><link>https://old.example/1</link></item></channel></rss>")
    assert [e.title for e in readers.read(netscape).entries] == ["Old & fine"]
    assert io  # the feed is given to feedparser as a stream, never as a name


def test_an_article_page_that_declares_entities_gets_them_unexpanded() -> None:
    """Pages are read by lxml's HTML parser (trafilatura), which never expands a DTD's entities."""
    page = ('<!DOCTYPE html [<!ENTITY e "' + ENTITY + '">]><html><head><meta property="og:type" content="article">'
            "</head><body><article><h1>Title</h1><p>" + REFERENCES + "</p><p>" + "Real text here. " * 30
            + "</p></article></body></html>").encode()
    [entry] = readers.read(page, base_url="https://pages.example/a", hint="page").entries
    assert ENTITY not in entry.body and len(entry.body) <= TEXT_LIMIT
