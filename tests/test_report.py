"""An issue's report: deliveries by outcome and answer, what readers did after it, clicks, the issues before it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from helpers.asgi import InProcess, log_in
from helpers.cli import run
from helpers.smtp import ScriptedServer
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.cli import cli
from newsletter.insight import clicks
from newsletter.insight.report import mask, report
from newsletter.sink import Sink
from newsletter.web import create_app


def add_document(folder: Path) -> None:
    """Give the next issue something new to carry."""
    (folder / "2026-12-01-ferry.txt").write_text(
        "Caspian ferry line opens\nA new ferry crosses the Caspian this spring.\n"
        "Operators said the route would carry freight and passengers.\n", encoding="utf-8")


def test_the_relays_answers_are_grouped_by_outcome_with_addresses_masked(app: Newsletter,
                                                                        scripted_smtp: ScriptedServer) -> None:
    for who in ("ann", "bek"):
        scripted_smtp.script.rcpt[f"{who}@example.org"] = f"550 5.1.1 <{who}@example.org>: User unknown"
    scripted_smtp.script.rcpt["dee@example.org"] = "451 4.3.0 Try later (queue id 7F3A2B91C4D)"
    subscribers.add(app.store, "dee@example.org", status="active")
    relayed = Newsletter(app.config.replace(smtp={"url": scripted_smtp.url, "retry_window": 0.0,
                                                  "retry_delay": 3600.0}), store=app.store)
    relayed.send()
    found = report(relayed.config, relayed.store, 1)
    assert {k: found.deliveries[k] for k in ("sent", "bounced", "deferred", "failed", "total")} == {
        "sent": 1, "bounced": 2, "deferred": 1, "failed": 0, "total": 4}
    assert [(a.outcome, a.answer, a.count) for a in found.answers] == [
        ("deferred", "451 4.3.0 Try later (queue id …)", 1),
        ("bounced", "550 5.1.1 <address>: User unknown", 2)]


def test_unsubscribes_and_complaints_count_for_the_issue_that_last_reached_the_reader(
        app: Newsletter, sink: Sink, documents: Path) -> None:
    app.send()
    ann, bek, cy = (subscribers.get(app.store, f"{n}@example.org") for n in ("ann", "bek", "cy"))
    subscribers.change(app.store, ann.id, "unsubscribed", origin="web")
    add_document(documents)
    app.send()
    subscribers.change(app.store, bek.id, "complained", origin="feedback report", detail="abuse report, issue 1")
    subscribers.change(app.store, cy.id, "unsubscribed", origin="cli")
    first, second = report(app.config, app.store, 1), report(app.config, app.store, 2)
    assert (first.unsubscribes, first.complaints) == ({"web": 1}, 1)
    assert (second.unsubscribes, second.complaints) == ({"cli": 1}, 0)
    assert [(f.number, f.sent, f.unsubscribes, f.complaints) for f in second.history] == [(1, 3, 1, 1), (2, 2, 1, 0)]
    assert not second.tracking and all(i.clicks == 0 for i in second.items)


def test_clicks_per_item_and_section_on_the_desk_with_a_chart_and_on_the_command_line(
        web_app: Newsletter, sink: Sink, documents: Path) -> None:
    on = Newsletter(web_app.config.replace(tracking={"clicks": True}), store=web_app.store,
                    clock=lambda: datetime.now(UTC) + timedelta(hours=1))  # after the scanners' window
    on.send()
    items = report(on.config, on.store, 1).items
    client = InProcess(create_app(on))
    for n, item in enumerate(items[:2]):
        for browser in range(n + 1):  # the first item clicked from one browser, the second from two
            client.get("/r/" + clicks.token(on.signer(), 1, item.item_id), headers={"User-Agent": f"b{browser}"},
                       follow_redirects=False)
    add_document(documents)
    on.send()
    found = report(on.config, on.store, 1)
    assert [i.clicks for i in found.items][:2] == [1, 2] and sum(i.clicks for i in found.items) == 3
    assert sum(s.clicks for s in found.sections) == 3
    assert {s.name for s in found.sections} == {i.section for i in found.items}
    log_in(client)
    page = client.get("/desk/issues/1/report")
    assert page.status_code == 200 and items[0].title in page.text and 'id="answers"' not in page.text
    later = client.get("/desk/issues/2/report").text
    charts = re.findall(r"<svg[^>]*>.*?</svg>", later, re.S)
    assert len(charts) == 5 and all(c.count("<rect") == 2 for c in charts)  # issues 1 and 2, side by side
    assert "<title>#1: 3</title>" in charts[-1]  # the clicks chart
    assert 'href="/desk/issues/2/report"' in client.get("/desk/issues").text
    text = CliRunner().invoke(cli, ["--config", str(on.config.file), "report", "1"])
    assert text.exit_code == 0 and "clicks (times clicked, not readers; 0 more taken for mail scanners)" in text.output
    as_json = run("report", "1", "--json", cwd=on.config.root)
    data = json.loads(as_json.stdout)
    assert data["number"] == 1 and [s["clicks"] for s in data["sections"]] == [s.clicks for s in found.sections]
    assert data["deliveries"]["sent"] == 3 and data["unsubscribes"]["total"] == 0
    missing = run("report", "9", cwd=on.config.root)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no issue number 9"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_masking_any_answer_gives_one_short_line_without_addresses(answer: str) -> None:
    started = datetime.now(UTC)
    masked = mask(answer)
    assert datetime.now(UTC) - started < timedelta(seconds=0.5)
    assert 0 < len(masked) <= 201 and "\n" not in masked
    assert not re.search(r"[^\s<>@,;]+@[^\s<>,;]+", masked)
