"""The web archive: pages, index and Atom feed of sent issues; resuming re-renders readers' sections."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from pathlib import Path

import feedparser
from click.testing import CliRunner

from newsletter import delivery, subscribers
from newsletter.app import Newsletter
from newsletter.archive import Archive, stored_draft
from newsletter.cli import cli
from newsletter.edit import issue
from newsletter.email.render import Renderer
from newsletter.sink import Sink

PAGE = "https://news.example.org/archive/1.html"


def _parts(raw: bytes) -> tuple[str, str]:
    message = message_from_bytes(raw, policy=policy.default)
    text, html = (p.get_content().replace("\r\n", "\n") for p in message.iter_parts())
    return text, html


def test_sent_issues_are_archived_as_pages_index_and_feed(app: Newsletter, sink: Sink, tmp_path: Path) -> None:
    report = app.send()
    assert report.status == "sent"
    subject = report.draft.subject if report.draft else ""
    for message in sink.messages:  # every email links to its archive page
        text, html = _parts(message.data)
        assert f"View in browser: {PAGE}" in text and f'href="{PAGE}"' in html
    out = tmp_path / "site"
    written = app.archive(out)
    assert sorted(p.name for p in written.files) == ["1.html", "feed.atom", "index.html"]
    page = (out / "1.html").read_text(encoding="utf-8")
    assert "Kremlin signals new gas deal" in page
    assert "NLPERSONAL" not in page and "ann@example.org" not in page and "Unsubscribe" not in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{PAGE}"' in index and subject.replace("'", "&#39;") in index
    assert 'type="application/atom+xml"' in index
    feed = feedparser.parse((out / "feed.atom").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Test Briefing"
    assert [e.link for e in feed.entries] == [PAGE]
    assert feed.entries[0].title == subject
    assert "Kremlin signals new gas deal" in feed.entries[0].content[0].value


def test_the_archive_renders_what_was_sent(app: Newsletter, sink: Sink) -> None:
    app.send()
    stored = issue.get(app.store, 1)
    assert stored is not None
    again = Renderer(app.config, stored_draft(app.config, app.store, stored)).render()
    # Each rendering draws its own placeholder token: the rest is the same.
    token = re.compile(r"NLPERSONAL-[0-9a-f]{20}-")
    assert token.search(stored.html) and token.search(again.html)
    assert token.sub("", again.html) == token.sub("", stored.html)
    assert token.sub("", again.text) == token.sub("", stored.text)


def test_nothing_sent_yet(app: Newsletter, tmp_path: Path) -> None:
    archive = Archive(app.config, app.store)
    assert archive.page(1) is None
    assert "No issues have been sent yet." in archive.index()
    feed = feedparser.parse(archive.feed().encode("utf-8"))
    assert not feed.bozo and feed.entries == []


def test_resuming_an_issue_gives_readers_their_sections_again(app: Newsletter, sink: Sink) -> None:
    subscribers.add(app.store, "dana@example.org", name="Dana", sections=["China"], status="active")
    app.gather()
    draft = app.draft()
    renderer = Renderer(app.config, draft)
    composer = app.composer(draft, renderer)
    with app.store.begin() as conn:  # queued, then the process died before sending anything
        issue_id = issue.record(conn, app.store, draft, html=renderer.render().html, text=renderer.render().text)
        delivery.create_outbox(conn, app.store, issue_id=issue_id, composer=composer)
    app.send(fetch=False)
    received = {m.recipients[0]: _parts(m.data) for m in sink.messages}
    assert set(received) == {"ann@example.org", "bek@example.org", "cy@example.org", "dana@example.org"}
    text = received["dana@example.org"][0]
    assert "CHINA\n=====" in text and "RUSSIA\n" not in text and "Also in this issue, online:" in text
    assert "RUSSIA\n" in received["ann@example.org"][0]


def test_archive_command(app: Newsletter, sink: Sink, newsletter_dir: Path) -> None:
    app.send()
    out = newsletter_dir / "public" / "archive"
    result = CliRunner().invoke(cli, ["--config", str(newsletter_dir / "newsletter.toml"), "archive",
                                      "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sorted(Path(f).name for f in report["files"]) == ["1.html", "feed.atom", "index.html"]
    assert (out / "1.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
