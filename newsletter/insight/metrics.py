"""Metrics for operators: the system's health in Prometheus's text format, read from the store when asked.

Every figure comes from the database at the moment of the scrape, so the web app's
``/metrics`` and the daemon's textfile (``metrics.textfile``, for node_exporter's textfile
collector) say the same whichever process did the work:

* ``newsletter_messages{outcome}``: deliveries of every issue by outcome as ``delivery.tally``
  counts them (``bounced`` are the failed ones a bounce closed),
  ``newsletter_deferred_queue_depth``: those waiting for a retry;
* ``newsletter_last_send_duration_seconds``: the latest issue's time from being queued to its
  last delivery closing, and when that was;
* ``newsletter_gather_duration_seconds``: the last gather (``timings``), and when it ended;
  ``newsletter_source_failures{source}``: each source's failures in a row, and
  ``newsletter_source_up{source}``: whether its last fetch worked;
* ``newsletter_bounces_total``, ``newsletter_complaints_total``, ``newsletter_subscribers{status}``;
* ``newsletter_daemon_last_success_timestamp_seconds``: the last scheduled run that ended well;
* ``newsletter_webhook_deliveries{status}``.

Times are Unix seconds. prometheus_client takes a tenth of a second to load: import this
module where metrics are served or written, not on every start.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from newsletter.delivery import outbox, tally
from newsletter.gather.sources import health
from newsletter.insight import timings
from newsletter.settings import Config
from newsletter.store import Store
from newsletter.subscribers.rules import STATUSES

SUCCESSES = ("sent", "skipped", "held", "gathered")  # how a scheduled run ends well


class StoreCollector(Collector):
    """Read every figure from the store at each collection."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families, each read now."""
        t = self.store.t
        d, s = t.deliveries, t.subscribers
        with self.store.begin() as conn:
            outcomes = tally.by_outcome(conn, self.store)
            bounces = conn.execute(sa.select(sa.func.count()).where(d.c.bounced == sa.true())).scalar() or 0
            complaints = conn.execute(sa.select(sa.func.count()).where(
                t.subscriber_events.c.event == "complained")).scalar() or 0
            statuses: dict[str, int] = dict(conn.execute(
                sa.select(s.c.status, sa.func.count()).group_by(s.c.status)).all())
            last = conn.execute(sa.select(t.issues.c.created_at, t.issues.c.sent_at)
                                .where(t.issues.c.status == "sent").order_by(t.issues.c.number.desc()).limit(1)).first()
            runs = t.schedule_runs.c
            succeeded = conn.execute(sa.select(sa.func.max(runs.finished_at))
                                     .where(runs.status.in_(SUCCESSES))).scalar()
            hooks: dict[str, int] = dict(conn.execute(sa.select(t.webhook_deliveries.c.status, sa.func.count())
                                      .group_by(t.webhook_deliveries.c.status)).all())
        yield _labelled("newsletter_messages", "Deliveries of every issue by outcome.", "outcome", outcomes)
        yield GaugeMetricFamily("newsletter_deferred_queue_depth", "Deliveries waiting for a retry.",
                                value=outcomes[outbox.DEFERRED])
        if last is not None and last.sent_at is not None:
            yield GaugeMetricFamily("newsletter_last_send_duration_seconds",
                                    "Seconds from queueing the latest sent issue to its last delivery closing.",
                                    value=max(0.0, (last.sent_at - last.created_at).total_seconds()))
            yield _moment("newsletter_last_send_timestamp_seconds", "When the latest sent issue finished.",
                          last.sent_at)
        gathered = timings.read(self.store).get("gather")
        if gathered is not None:
            yield GaugeMetricFamily("newsletter_gather_duration_seconds", "Seconds the last gather took.",
                                    value=gathered.seconds)
            yield _moment("newsletter_last_gather_timestamp_seconds", "When the last gather ended.",
                          gathered.finished_at)
        failures = GaugeMetricFamily("newsletter_source_failures", "Each source's failed fetches in a row.",
                                     labels=["source"])
        up = GaugeMetricFamily("newsletter_source_up", "Whether each source's last fetch worked (1) or not (0).",
                               labels=["source"])
        for source in health(self.config, self.store):
            failures.add_metric([source.name], source.failures)
            if source.status != "never":  # a source never fetched is neither up nor down
                up.add_metric([source.name], 0 if source.status == "error" else 1)
        yield failures
        yield up
        yield CounterMetricFamily("newsletter_bounces", "Deliveries closed by a bounce (at sending or reported later).",
                                  value=bounces)
        yield CounterMetricFamily("newsletter_complaints", "Spam complaints applied to readers.", value=complaints)
        yield _labelled("newsletter_subscribers", "Subscribers by status.", "status",
                        {k: int(statuses.get(k, 0)) for k in STATUSES})
        if succeeded is not None:
            yield _moment("newsletter_daemon_last_success_timestamp_seconds",
                          "When the daemon's last scheduled run ended well.", succeeded)
        yield _labelled("newsletter_webhook_deliveries", "Webhook deliveries by status.", "status",
                        {k: int(hooks.get(k, 0)) for k in ("pending", "delivered", "failed")})


def _labelled(name: str, text: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, text, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


def _moment(name: str, text: str, moment: datetime) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=moment.replace(tzinfo=UTC).timestamp())


def registry(config: Config, store: Store) -> CollectorRegistry:
    """Return a registry holding only this newsletter's figures (none of the process's own)."""
    found = CollectorRegistry(auto_describe=False)
    found.register(StoreCollector(config, store))
    return found


def exposition(config: Config, store: Store) -> bytes:
    """Return every figure in Prometheus's text format."""
    return generate_latest(registry(config, store))


def write_textfile(config: Config, store: Store) -> Path | None:
    """Rewrite ``metrics.textfile`` atomically (a new file renamed over the old); None when it is not set."""
    if not config.metrics.textfile:
        return None
    path = config.resolve(config.metrics.textfile)
    write_to_textfile(str(path), registry(config, store))
    return path
