"""Personal fill-ins go only where a template puts them: a feed can never make one (the attack of issue 13).

A stranger's feed item carries, in its link, title and text, the fixed placeholders the
renderer once used and strings shaped like today's random ones. Every reader must get
that text exactly as the feed wrote it, with their own address, name and tokens only in
the places the templates put them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
from helpers.http import FeedServer
from helpers.newsletters import queue_issue, write_config

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.email.render import Renderer
from newsletter.sink import Sink

OLD = {name: f"NLPERSONAL-{name}-X" for name in ("email", "unsubscribe-url", "preferences-url", "greeting")}
SHAPED = {name: f"NLPERSONAL-0123456789abcdef0123-{name}" for name in OLD}  # today's shape, a guessed token
# The greetings last: filled in, one would end the link at its first space in the text part.
BAIT = "&".join(f"{k}{i}={v}" for k in OLD for i, v in enumerate((OLD[k], SHAPED[k])))
EVIL_LINK = f"https://evil.example/r?{BAIT}"
READERS = [("ann@example.org", "Ann Lee"), ("bek@example.org", "Бекзат"), ("cy@example.org", "")]

FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Helpful Energy News</title>
    <link>https://evil.example/</link>
    <description>A feed written by a stranger.</description>
    <item>
      <title>Gas deal for {OLD["email"]} {SHAPED["email"]}</title>
      <link>{html.escape(EVIL_LINK)}</link>
      <guid isPermaLink="false">evil-1</guid>
      <pubDate>Mon, 16 Nov 2026 08:00:00 +0000</pubDate>
      <description>{html.escape(f'<p>Moscow and the pipeline: {" ".join(OLD.values())} {" ".join(SHAPED.values())} '
                                 f'<a href="{EVIL_LINK}">read more</a>.</p>')}</description>
    </item>
  </channel>
</rss>
"""


@pytest.fixture
def hostile(tmp_path: Path, feeds: Path, feed_server: FeedServer, sink: Sink) -> Iterator[Newsletter]:
    """A newsletter whose only source is the stranger's feed, served over HTTP, with three readers."""
    (feeds / "evil.xml").write_text(FEED, encoding="utf-8")
    write_config(tmp_path, smtp_url=sink.url, sources=[{"url": feed_server.feed("evil.xml")}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
    for email, name in READERS:
        subscribers.add(app.store, email, name=name, status="active")
    yield app
    app.store.close()


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, markup = (p.get_content() for p in message.iter_parts())
    return text, markup


def _evil_links(text: str, markup: str) -> list[str]:
    """Return every link to the attacker's host in both parts, as the reader's client would follow it."""
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', markup)]
    return [u for u in re.findall(r"https?://\S+", text) + hrefs if "evil.example" in u]


@pytest.mark.parametrize("resumed", [False, True], ids=["sent", "resumed from the store"])
def test_a_feed_cannot_make_a_personal_fill_in(hostile: Newsletter, sink: Sink, resumed: bool) -> None:
    if resumed:  # queued by one run, delivered by the next: the issue is rendered again from the store
        queue_issue(hostile)
        reports = hostile.work()
        assert reports and reports[0].resumed
    else:
        assert hostile.send().status == "sent"
    assert sorted(r for m in sink.messages for r in m.recipients) == [e for e, _ in READERS]
    for received in sink.messages:
        message = received.parse()
        email = received.recipients[0]
        reader = subscribers.get(hostile.store, email)
        unsubscribe = message["List-Unsubscribe"].split(",")[0].strip(" <>")
        token = unsubscribe.rsplit("/", 1)[1]
        assert hostile.signer().check("unsubscribe", token) == reader.id  # the real link is theirs
        text, markup = _parts(message)
        links = _evil_links(text, markup)
        assert len(links) >= 2  # the item's link in each part, and the one in its text
        for link in links:
            for secret in (email, quote(email), quote(email, safe=""), token, reader.name or "\0"):
                assert secret not in link, (email, link)
            assert link.startswith(EVIL_LINK)  # whole, with nothing of the reader's spliced in
        # The stranger's text arrives as written, in both parts, the guessed shape included.
        for bait in (*OLD.values(), *SHAPED.values()):
            assert bait in text and bait in markup
        assert EVIL_LINK in text and html.escape(EVIL_LINK) in markup
        # And the personal parts are where the templates put them.
        assert f"Unsubscribe: {unsubscribe}" in text and f'href="{unsubscribe}"' in markup
        assert f"Sent to: {email}" in text and f"at {email}." in markup
        greeting = f"Hello {reader.name.split()[0]}," if reader.name else "Hello,"  # the first name
        assert greeting in text and greeting in markup
        everyone_else = [e for e, _ in READERS if e != email]
        assert not any(other in text or other in markup for other in everyone_else)


def test_each_rendering_draws_a_token_its_content_lacks(hostile: Newsletter) -> None:
    hostile.gather()
    draft = hostile.draft()
    first, second = Renderer(hostile.config, draft), Renderer(hostile.config, draft)
    assert first.placeholders != second.placeholders  # a fresh token each time
    rendered = first.render()
    assert rendered.placeholders == first.placeholders
    for marker in first.placeholders.values():
        assert re.fullmatch(r"NLPERSONAL-[0-9a-f]{20}-[a-z-]+", marker)
        assert rendered.html.count(marker) >= 1  # only the template's own uses, found where it put them
    token = first.placeholders["email"].split("-")[1]
    assert token not in FEED.casefold()
