"""Single-article documents keep their body: a real summary, the full text on the archive page, a link to it."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from helpers.articles import ARTICLE, BODY, HEADLESS, HEADLINE, STANDFIRST
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.app import Newsletter
from newsletter.archive import Archive
from newsletter.email.context import headline
from newsletter.gather.readers import document
from newsletter.item import Entry, Item, full_text
from newsletter.sink import Sink

PAGE = "https://news.example.org/archive/1.html"
BOUNDED = settings(max_examples=200, derandomize=True, database=None, deadline=timedelta(seconds=2))


def test_an_article_keeps_its_headline_whole_text_and_gets_a_real_summary() -> None:
    [entry] = document.read(ARTICLE, "2026-11-23-tokayev.txt")
    assert entry.title == HEADLINE and entry.label is None
    assert entry.body.split("\n\n") == [STANDFIRST, *BODY]  # the comment counter is gone, nothing else
    assert entry.summary.startswith(STANDFIRST + " " + BODY[0])
    assert len(entry.summary.split()) >= document.SUMMARY_WORDS
    assert entry.summary.endswith(".") and entry.summary in " ".join(entry.body.split())  # whole sentences


def test_a_file_that_opens_with_a_sentence_has_no_headline() -> None:
    [entry] = document.read(HEADLESS, "notes.txt")
    assert entry.body.startswith(STANDFIRST)
    assert entry.title == STANDFIRST  # its opening words stand in for a title…
    assert headline(_item(entry)) == ""  # …and are never shown (or taken for a subject) as a real headline
    assert not document.is_headline(STANDFIRST) and document.is_headline(HEADLINE)
    assert document.is_headline("Will the Middle Corridor pay off?")
    assert not document.is_headline("Tokayev met Xi. Then he flew to Paris")


def test_the_email_links_to_the_full_text_on_the_archive_page(app: Newsletter, sink: Sink, documents: Path) -> None:
    (documents / "2026-11-23-tokayev.txt").write_text(ARTICLE, encoding="utf-8")
    report = app.send()
    assert report.status == "sent" and report.draft is not None
    placed = next(p for s in report.draft.sections for p in s.items if p.item.title == HEADLINE)
    assert len(placed.item.summary.split()) >= document.SUMMARY_WORDS
    message = message_from_bytes(sink.messages[0].data, policy=policy.default)
    text, markup = (p.get_content().replace("\r\n", "\n") for p in message.iter_parts())
    anchor = re.search(rf'<a href="({re.escape(PAGE)}#item-\d+)"[^>]*>Read the full text</a>', markup)
    assert anchor, markup
    assert BODY[-1] not in markup and BODY[-1] not in text  # the email has the summary only
    number = re.search(r"Read the full text: \[(\d+)\]", text)
    assert number and f"[{number.group(1)}] {anchor.group(1)}" in text

    page = Archive(app.config, app.store).page(1)
    assert page is not None
    item_id = anchor.group(1).rsplit("#", 1)[1]
    tail = html.unescape(page[page.index(f'id="{item_id}"'):])
    assert tail.index(HEADLINE) < tail.index(STANDFIRST)  # the anchor is the article's
    for paragraph in BODY:
        assert f">{paragraph}</p>" in tail
    assert "Read the full text" not in page and "Комментариев" not in page
    # Items with a link (feed items) still send readers to the source, not to the archive.
    assert markup.count("Read the full text") == sum(1 for s in report.draft.sections for p in s.items
                                                   if full_text(p.item))


def test_full_text_is_for_items_without_a_home_elsewhere() -> None:
    [entry] = document.read(ARTICLE, "a.txt")
    item = _item(entry)
    assert full_text(item) == [STANDFIRST, *BODY]
    assert full_text(_item(entry, link="https://example.org/a")) == []  # its source has it
    assert full_text(_item(entry, summary=entry.body)) == []  # the summary says it all


@BOUNDED
@given(st.text(alphabet=st.sampled_from(list("Ab1 .!?…«»“”'\"()-Мр.ä")), max_size=2000))
def test_sentences_partition_any_text(text: str) -> None:
    flat = " ".join(text.split())
    found = document.sentences(flat)
    assert " ".join(found) == flat
    lead = document.lead_sentences(flat)
    assert flat.startswith(lead)
    assert len(lead.split()) >= min(document.SUMMARY_WORDS, len(flat.split()))


def test_sentences_of_a_long_text_in_bounded_time() -> None:
    text = ("Mr. Smith met J. K. Rowling in the U.S. on Monday. " * 20_000).strip()  # a megabyte
    started = time.perf_counter()
    assert len(document.sentences(text)) == 20_000
    assert len(document.lead_sentences(text).split()) >= document.SUMMARY_WORDS
    assert time.perf_counter() - started < 5


def _item(entry: Entry, *, link: str | None = None, summary: str | None = None) -> Item:
    return Item(id=1, source_id=1, source_name="inbox", uid=entry.uid, title=entry.title, body=entry.body,
                         summary=entry.summary if summary is None else summary, link=link, label=entry.label,
                         published_at=entry.published_at, gathered_at=datetime(2026, 11, 23, tzinfo=UTC))
