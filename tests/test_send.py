"""End to end through the library: sources → issue → real SMTP server → delivery rows."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter import delivery, subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.error import SmtpError, TemplateError
from newsletter.sink import Sink, free_port
from newsletter.tokens import UNSUBSCRIBE


def _rows(app: Newsletter, table: str) -> list[dict]:
    with app.store.begin() as conn:
        return [dict(r) for r in conn.execute(sa.select(getattr(app.store.t, table))).mappings()]


def test_send_delivers_one_message_per_active_subscriber(app: Newsletter, sink: Sink) -> None:
    report = app.send()
    assert report.status == "sent"
    assert sorted(r for m in sink.messages for r in m.recipients) == [
        "ann@example.org", "bek@example.org", "cy@example.org"]
    deliveries = _rows(app, "deliveries")
    assert len(deliveries) == 3
    assert {d["status"] for d in deliveries} == {"sent"}
    assert all(d["sent_at"] is not None for d in deliveries)
    issue = _rows(app, "issues")[0]
    assert issue["status"] == "sent" and issue["number"] == 1


def test_message_has_the_list_headers_and_both_parts(app: Newsletter, sink: Sink) -> None:
    app.send()
    raw = next(m for m in sink.messages if m.recipients == ("bek@example.org",)).data
    message = message_from_bytes(raw, policy=policy.default)
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                 "List-Unsubscribe-Post", "MIME-Version"):
        assert message[name], name
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [u.strip(" <>") for u in message["List-Unsubscribe"].split(",")]
    assert https.startswith("https://news.example.org/unsubscribe/")
    assert mailto == "mailto:briefing@example.org?subject=unsubscribe"
    token = https.rsplit("/", 1)[1]
    subscriber = subscribers.get(app.store, "bek@example.org")
    assert app.signer().check(UNSUBSCRIBE, token) == subscriber.id
    assert message["To"] == "Бекзат <bek@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert all(p.get_content_disposition() is None for p in parts)  # inline, never an attachment
    text, html = parts[0].get_content(), parts[1].get_content()
    assert "Hello Бекзат," in text and "Hello Бекзат," in html
    assert "Новый транспортный коридор через Каспий" in text
    assert "NLPERSONAL" not in text and "NLPERSONAL" not in html
    assert https in html and https in text
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 72
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_items_are_grouped_into_sections_with_catch_all_last(app: Newsletter) -> None:
    app.gather()
    draft = app.draft()
    names = [s.name for s in draft.sections]
    assert names[-2:] == ["In brief", "Outlook"]  # the catch-all, then the briefing's closing outlook
    assert "Russia" in names and "China" in names
    assert names.index("Russia") < names.index("China")
    kremlin = next(p for s in draft.sections for p in s.items if p.item.title == "Kremlin signals new gas deal")
    assert kremlin.placement.section == "In brief"  # Kremlin and gas, once in the headline each: no clear section
    assert kremlin.placement.reason.startswith("no clear section")
    assert all(s.items for s in draft.sections)  # empty sections are not shown
    placed = [p.item.id for s in draft.sections for p in s.items]
    assert len(placed) == len(set(placed))  # each item lands in one section


def test_a_second_send_with_nothing_new_sends_nothing(app: Newsletter, sink: Sink) -> None:
    app.send()
    first = len(sink.messages)
    report = app.send()
    assert report.status == "nothing-new"
    assert "nothing new" in report.message
    assert len(sink.messages) == first
    assert len(_rows(app, "issues")) == 1


def test_an_item_sent_once_never_appears_again(app: Newsletter, sink: Sink, feeds: Path) -> None:
    app.send()
    sent_uids = {r["uid"] for r in _rows(app, "items")}
    # The feed gains one item and re-publishes the old ones.
    rss = feeds / "rss2.xml"
    rss.write_text(rss.read_text(encoding="utf-8").replace(
        "<item>", "<item><title>Astana hosts energy week</title><guid isPermaLink=\"false\">new-1</guid>"
        "<description>Ministers met in Astana.</description></item><item>", 1), encoding="utf-8")
    report = app.send()
    assert report.status == "sent"
    draft_items = [i.uid for i in report.draft.items]
    assert draft_items == ["new-1"]
    assert not set(draft_items) & sent_uids
    second = [m for m in sink.messages if b"Astana hosts energy week" in m.data]
    assert len(second) == 3


def test_dry_run_builds_everything_and_sends_nothing(app: Newsletter, sink: Sink) -> None:
    report = app.send(dry_run=True)
    assert report.status == "dry-run" and report.recipients == 3
    assert sink.messages == []
    assert _rows(app, "issues") == [] and _rows(app, "deliveries") == []


def test_test_copy_goes_to_one_address_and_touches_nothing(app: Newsletter, sink: Sink) -> None:
    report = app.send(to="editor@example.org")
    assert report.status == "test"
    assert [m.recipients for m in sink.messages] == [("editor@example.org",)]
    assert message_from_bytes(sink.messages[0].data, policy=policy.default)["Subject"].startswith("[TEST] ")
    assert _rows(app, "issues") == [] and _rows(app, "deliveries") == []
    assert len(app.draft().items) == len(report.draft.items) > 0  # nothing consumed


def test_unreachable_smtp_server_queues_nothing(newsletter_dir: Path) -> None:
    config = load(newsletter_dir / "newsletter.toml", environ={"NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})
    app = Newsletter(config)
    subscribers.add(app.store, "ann@example.org", status="active")
    with pytest.raises(SmtpError, match=r"cannot connect to SMTP server smtp://127.0.0.1:\d+: nothing is listening at"):
        app.send()
    assert _rows(app, "issues") == [] and _rows(app, "deliveries") == []
    assert len(app.draft().items) > 0  # the items still wait for the next issue


def test_broken_template_stores_nothing(newsletter_dir: Path, app: Newsletter, sink: Sink) -> None:
    templates = newsletter_dir / "templates"
    templates.mkdir()
    (templates / "issue.txt").write_text("{{ issue.number }\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"issue.txt line 1: .*"):
        app.send()
    (templates / "issue.txt").write_text("{{ issue.no_such_field }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"issue.txt line 1: UndefinedError"):
        app.send()
    assert sink.messages == []
    assert _rows(app, "issues") == [] and _rows(app, "deliveries") == []


def test_user_template_extends_the_builtin_one(newsletter_dir: Path, app: Newsletter) -> None:
    app.gather()
    templates = newsletter_dir / "templates"
    templates.mkdir()
    (templates / "issue.mjml").write_text(
        '{% extends "default:issue.mjml" %}{% block footer %}<mj-section><mj-column>'
        "<mj-text>Custom footer here</mj-text></mj-column></mj-section>{% endblock %}", encoding="utf-8")
    draft, rendered = app.preview()
    assert "Custom footer here" in rendered.html
    assert "Kremlin signals new gas deal" in rendered.html


def test_recipient_refusals_are_recorded_and_never_stop_the_issue(newsletter_dir: Path, scripted_smtp) -> None:
    scripted_smtp.script.rcpt["gone@example.org"] = "550 5.1.1 No such user"
    scripted_smtp.script.rcpt["busy@example.org"] = "451 4.3.0 Try again later"
    config = load(newsletter_dir / "newsletter.toml", environ={"NEWSLETTER_SMTP_URL": scripted_smtp.url})
    app = Newsletter(config.replace(smtp={"retry_delay": 0, "retry_window": 0}))  # retries wait for the next run
    for email in ("a@example.org", "gone@example.org", "busy@example.org", "z@example.org"):
        subscribers.add(app.store, email, status="active")
    report = app.send()
    counts = report.issues[-1].counts
    assert (counts.sent, counts.failed, counts.deferred) == (2, 1, 1)
    assert sorted(m.recipients[0] for m in scripted_smtp.script.accepted) == ["a@example.org", "z@example.org"]
    problems = {f["email"]: f for f in delivery.failures(app.store, 1)}
    assert problems["gone@example.org"]["status"] == "failed" and "550" in problems["gone@example.org"]["last_error"]
    assert problems["busy@example.org"]["status"] == "deferred"
    assert _rows(app, "issues")[0]["status"] == "sending"  # a deferred reader is still owed the issue
    # The next run retries only the deferred reader and then finishes the issue.
    del scripted_smtp.script.rcpt["busy@example.org"]
    again = app.send()
    assert again.issues[0].resumed and again.issues[0].counts.sent == 3
    assert [m.recipients[0] for m in scripted_smtp.script.accepted].count("busy@example.org") == 1
    assert [m.recipients[0] for m in scripted_smtp.script.accepted].count("a@example.org") == 1
    assert _rows(app, "issues")[0]["status"] == "sent"


def test_a_dropped_server_mid_send_resumes_without_duplicates(newsletter_dir: Path, scripted_smtp) -> None:
    scripted_smtp.script.drop_after = 2
    config = load(newsletter_dir / "newsletter.toml", environ={"NEWSLETTER_SMTP_URL": scripted_smtp.url})
    app = Newsletter(config.replace(smtp={"retry_delay": 0, "retry_window": 0}))
    emails = [f"r{i}@example.org" for i in range(5)]
    for email in emails:
        subscribers.add(app.store, email, status="active")
    counts = app.send().issues[-1].counts  # each drop defers its reader; the issue goes on
    assert (counts.sent, counts.deferred) == (2, 3)
    statuses = [d["status"] for d in _rows(app, "deliveries")]
    assert statuses.count("sent") == 2 and statuses.count("sent") == len(scripted_smtp.script.accepted)
    scripted_smtp.script.drop_after = None
    report = app.send()
    assert report.issues[0].resumed and report.issues[0].counts.sent == 5
    got = sorted(m.recipients[0] for m in scripted_smtp.script.accepted)
    assert got == sorted(emails)  # everyone once, nobody twice


def test_unsubscribed_readers_are_not_mailed(app: Newsletter, sink: Sink) -> None:
    subscribers.remove(app.store, "ann@example.org")
    app.send()
    assert "ann@example.org" not in [r for m in sink.messages for r in m.recipients]
