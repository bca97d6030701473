"""A story already sent is not sent again when another source repeats it later.

Two real feeds served over HTTP, a SQLite store, real sends through the SMTP sink, on a
clock the test controls.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from helpers.asgi import InProcess
from helpers.http import FeedServer
from helpers.newsletters import ADMIN_TOKEN, write_config

from newsletter import archive, subscribers
from newsletter.app import Newsletter
from newsletter.cli import cli
from newsletter.config import load
from newsletter.edit import editorial, issue
from newsletter.edit.issue import SENT_BEFORE, Draft
from newsletter.error import EditorialError
from newsletter.sink import Sink
from newsletter.web import create_app

RAIL = ("Kazakhstan and China signed an agreement on Monday to double rail freight through the Khorgos "
        "border crossing by 2030, officials in Astana said, adding that two new container terminals will "
        "open next year and that customs checks will move online.")
X = ("Kazakhstan and China sign rail freight agreement", RAIL, "https://wire-a.example/rail-deal")
X_AGAIN = ("China and Kazakhstan agree to double rail freight", RAIL + " Reporting by the B desk.",
           "https://wire-b.example/2026/rail")
Y = ("Uzbekistan cuts gas exports to its neighbours", ("Uzbekistan will cut gas exports this winter to keep "
     "homes warm, the energy ministry in Tashkent said on Tuesday, as demand at home hit a record."),
     "https://wire-b.example/2026/gas")
# Some of the same words as the rail story (rail freight, Khorgos, border crossing), another story.
MUSEUM = ("China opens a rail museum in Beijing", ("A museum of Chinese rail freight history opened in Beijing "
          "on Tuesday, showing steam engines and wagons from the Khorgos border crossing, which officials "
          "say drew thousands of visitors on the first day."), "https://wire-b.example/2026/museum")
OLD_B = ("Mongolia opens a new airport terminal", ("Mongolia opened a new terminal at the airport of Ulaanbaatar "
         "on Sunday, the transport ministry said, doubling the number of passengers it can handle."),
         "https://wire-b.example/2026/airport")


def feed(name: str, stories: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{link}</guid>"
        f"<description>{body}</description></item>" for title, body, link in stories)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>https://{name.lower().replace(' ', '-')}.example/</link><description>x</description>"
            f"{items}</channel></rss>")


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wires(tmp_path: Path, sink: Sink, feed_server: FeedServer, clock: Clock) -> Newsletter:
    """A newsletter of two wires, A and B, one reader, after issue 1 sent A's rail story (and B's airport)."""
    (feed_server.root / "a.xml").write_text(feed("Wire A", [X]), encoding="utf-8")
    (feed_server.root / "b.xml").write_text(feed("Wire B", [OLD_B]), encoding="utf-8")
    write_config(tmp_path, smtp_url=sink.url, sources=[{"url": feed_server.feed("a.xml")},
                                                        {"url": feed_server.feed("b.xml")}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={}), clock=clock)
    subscribers.add(app.store, "ann@example.org", status="active")
    report = app.send()
    assert report.status == "sent" and report.draft is not None and report.draft.number == 1
    assert {i.title for i in report.draft.items} == {X[0], OLD_B[0]}
    # A day later wire B carries the rail story in its own words, and two stories of its own.
    clock.now += timedelta(days=1)
    b = feed_server.root / "b.xml"
    b.write_text(feed("Wire B", [OLD_B, X_AGAIN, Y, MUSEUM]), encoding="utf-8")
    os.utime(b, (b.stat().st_mtime + 60,) * 2)  # a later Last-Modified: the server's 304 compares seconds
    assert app.gather().new == 3
    return app


def shown(draft: Draft) -> set[str]:
    return {i.title for i in draft.items}


def planned(draft: Draft, title: str) -> issue.Planned:
    [p] = [p for p in draft.plan if p.item.title == title]
    return p


def test_a_repeat_of_a_sent_story_is_left_out_and_goes_with_the_next_issue(wires: Newsletter, sink: Sink,
                                                                          clock: Clock) -> None:
    draft = wires.draft()
    assert shown(draft) == {Y[0], MUSEUM[0]}  # the new story, and the one with a few words in common
    again = planned(draft, X_AGAIN[0])
    assert again.status == SENT_BEFORE and again.section == ""
    assert again.reason.startswith(f"{SENT_BEFORE} in issue 1: “{X[0]}” (Wire A), nearly the same text (0.")
    assert planned(draft, MUSEUM[0]).status == "in issue"

    clock.now += timedelta(hours=1)
    sink.messages.clear()
    report = wires.send()
    assert report.status == "sent" and report.draft is not None and report.draft.number == 2
    [message] = sink.messages
    text = message_from_bytes(message.data, policy=policy.default).get_body(("plain",)).get_content()
    assert Y[0] in text and X_AGAIN[0] not in text and "Reporting by the B desk" not in text
    # Issue 2 took the repeat along unseen: it is not waiting any more, nor shown in the archive.
    t = wires.store.t
    with wires.store.begin() as conn:
        took = dict(conn.execute(
            sa.select(t.items.c.title, t.issue_items.c.reason).join(t.items, t.items.c.id == t.issue_items.c.item_id)
            .join(t.issues, t.issues.c.id == t.issue_items.c.issue_id).where(t.issues.c.number == 2)).all())
    assert took[X_AGAIN[0]] == again.reason and set(took) == {X_AGAIN[0], Y[0], MUSEUM[0]}
    stored = issue.get(wires.store, 2)
    assert stored is not None
    assert shown(archive.stored_draft(wires.config, wires.store, stored)) == {Y[0], MUSEUM[0]}
    assert X_AGAIN[0] not in {p.item.title for p in wires.draft().plan}
    assert wires.draft().empty
    with pytest.raises(EditorialError, match="taken, unseen, by issue 2: it repeated a story already sent"):
        editorial.pin(wires.store, again.item.id)
    with pytest.raises(EditorialError, match="already went out in issue 2"):
        editorial.pin(wires.store, planned(draft, Y[0]).item.id)


def test_a_repeat_goes_in_when_not_remembered_or_pinned(wires: Newsletter, clock: Clock) -> None:
    never = Newsletter(wires.config.replace(newsletter={"repeat_days": 0}), store=wires.store, clock=clock)
    assert shown(never.draft()) == {X_AGAIN[0], Y[0], MUSEUM[0]}
    # The fixture moved the clock a day past issue 1: issue 1 now went 14 days minus an hour ago.
    clock.now += timedelta(days=12, hours=23)
    assert planned(wires.draft(), X_AGAIN[0]).status == SENT_BEFORE
    clock.now += timedelta(hours=2)  # now more than 14 days ago: forgotten
    assert planned(wires.draft(), X_AGAIN[0]).status == "in issue"
    clock.now -= timedelta(hours=2)
    editorial.pin(wires.store, planned(wires.draft(), X_AGAIN[0]).item.id)
    draft = wires.draft()
    assert X_AGAIN[0] in shown(draft) and planned(draft, X_AGAIN[0]).status == "in issue"


def test_the_status_shows_in_preview_reasons_items_list_and_the_desk(wires: Newsletter, tmp_path: Path) -> None:
    # The command line and the desk run on the real clock: issue 1 went out a day before it.
    runner = CliRunner()
    config = str(tmp_path / "newsletter.toml")
    reasons = runner.invoke(cli, ["--config", config, "preview", "--reasons"], env={})
    assert reasons.exit_code == 0, reasons.output
    assert f"{SENT_BEFORE} in issue 1: “{X[0]}” (Wire A)" in reasons.output
    listed = runner.invoke(cli, ["--config", config, "items", "list"], env={})
    assert f"{SENT_BEFORE} -" in listed.output and X_AGAIN[0] in listed.output

    client = InProcess(create_app(Newsletter(wires.config.replace(web={"admin_token": ADMIN_TOKEN}),
                                             store=wires.store)))
    assert client.post("/desk/login", data={"token": ADMIN_TOKEN}, follow_redirects=False).status_code == 303
    page = client.get("/desk/preview").text
    again = planned(wires.draft(), X_AGAIN[0]).item.id
    row = page.split(f'<tr id="item-{again}">', 1)[1].split("</tr>", 1)[0]
    assert '<span class="status sent-before">sent before</span>' in row and "in issue 1" in row
