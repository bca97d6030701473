"""Metrics for operators: /metrics behind a token, and the daemon's node_exporter textfile, read back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from helpers.asgi import InProcess
from helpers.clock import Clock
from helpers.newsletters import ADMIN_TOKEN
from prometheus_client.parser import text_string_to_metric_families

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.daemon import Daemon
from newsletter.sink import Sink
from newsletter.web import create_app

METRICS_TOKEN = "metrics-token-0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of a Prometheus text exposition by name and labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_need_the_metrics_token_or_else_the_admin_token(web_app: Newsletter) -> None:
    closed = Newsletter(web_app.config.replace(web={"admin_token": ""}), store=web_app.store)
    assert InProcess(create_app(closed)).get("/metrics").status_code == 403
    admin = InProcess(create_app(web_app))
    assert admin.get("/metrics").status_code == 401
    assert admin.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert admin.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
    own = Newsletter(web_app.config.replace(metrics={"token": METRICS_TOKEN}), store=web_app.store)
    web = InProcess(create_app(own))
    assert web.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 401
    response = web.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")


def test_metrics_report_messages_queue_sources_bounces_and_complaints(web_app: Newsletter, sink: Sink) -> None:
    web_app.send()
    reader = subscribers.get(web_app.store, "cy@example.org")
    subscribers.change(web_app.store, reader.id, "complained", origin="feedback report")
    found = samples(InProcess(create_app(web_app)).get(
        "/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text)
    assert found["newsletter_messages", (("outcome", "sent"),)] == 3
    assert found["newsletter_messages", (("outcome", "failed"),)] == 0
    assert found["newsletter_deferred_queue_depth", ()] == 0
    assert found["newsletter_last_send_duration_seconds", ()] >= 0
    assert found["newsletter_gather_duration_seconds", ()] > 0
    assert found["newsletter_last_gather_timestamp_seconds", ()] > datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    sources = {labels[0][1]: value for (name, labels), value in found.items() if name == "newsletter_source_up"}
    assert len(sources) == 3 and set(sources.values()) == {1.0}
    assert found["newsletter_complaints_total", ()] == 1 and found["newsletter_bounces_total", ()] == 0
    assert found["newsletter_subscribers", (("status", "complained"),)] == 1
    assert found["newsletter_subscribers", (("status", "active"),)] == 2


def test_the_daemon_rewrites_the_textfile_after_each_tick(app: Newsletter, sink: Sink, tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "newsletter.prom"
    target.parent.mkdir()
    clock = Clock(datetime(2026, 11, 23, 2, 30, tzinfo=UTC))  # a Monday, before the 08:00 (Almaty) send
    daemon_app = Newsletter(app.config.replace(metrics={"textfile": str(target)}), store=app.store,
                            clock=lambda: clock().astimezone(app.config.zone))
    daemon = Daemon(daemon_app, clock=clock)
    assert daemon.tick() == []
    first = samples(target.read_text(encoding="utf-8"))
    assert ("newsletter_daemon_last_success_timestamp_seconds", ()) not in first  # nothing has run yet
    clock.advance(minutes=31)  # past the scheduled send
    runs = daemon.tick()
    assert [r.status for r in runs] == ["sent"]
    found = samples(target.read_text(encoding="utf-8"))
    assert found["newsletter_daemon_last_success_timestamp_seconds", ()] == clock.now.timestamp()
    assert found["newsletter_messages", (("outcome", "sent"),)] == 3
    assert [p.name for p in target.parent.iterdir()] == ["newsletter.prom"]  # no half-written file left
