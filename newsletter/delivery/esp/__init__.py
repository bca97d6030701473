"""ESP webhooks: the bounces and complaints Amazon SES (through SNS), Mailgun, Postmark and SendGrid post to us.

Nothing a request says is believed before it is verified, each provider its own
way (``ses``: the SNS signature under Amazon's certificate, for a topic of ours;
``mailgun``: an HMAC of timestamp and token; ``postmark``: basic auth over https;
``sendgrid``: an ECDSA signature of timestamp and body). A request that fails is
``WebhookRefused`` (4xx) and changes nothing; so is a signature older than
``bounces.max_age``. Each event is then read as a report (``dsn.classify`` decides
hard, soft or ignored; the original's Message-ID and unsubscribe link are kept where
the provider returns them) and ``Reports`` applies it exactly as a report by mail:
without our signed Message-ID or link it is ``unverified`` and changes nothing.
Each event is applied once: its receipt (the provider's event id) is kept after it
is applied, so a provider's retry is listed as already applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newsletter.delivery import receipts
from newsletter.delivery.bounces import BounceReport, Reports, Result
from newsletter.delivery.dsn import LIMIT
from newsletter.delivery.esp import mailgun, postmark, sendgrid, ses
from newsletter.delivery.esp.webhook import EspBatch, Posted, WebhookRefused
from newsletter.settings import BouncesSettings

__all__ = ["PROVIDERS", "Posted", "WebhookOutcome", "WebhookRefused", "receive"]

PROVIDERS = ("ses", "mailgun", "postmark", "sendgrid")


@dataclass(frozen=True)
class WebhookOutcome:
    """What a verified request did: each event applied (or found already applied), and a note."""

    report: BounceReport
    note: str = ""

    def to_json(self) -> dict[str, object]:
        """Return plain data for the webhook's answer."""
        return {"note": self.note, **self.report.to_json()}


def receive(provider: str, posted: Posted, *, settings: BouncesSettings, applier: Reports, now: datetime,
            fetcher: ses.SnsFetcher) -> WebhookOutcome:
    """Verify one request to the ``provider``'s webhook and apply its events, or raise WebhookRefused/BounceError."""
    readers: dict[str, Callable[[], EspBatch]] = {
        "ses": lambda: ses.read(posted, settings, now, fetcher),
        "mailgun": lambda: mailgun.read(posted, settings, now),
        "postmark": lambda: postmark.read(posted, settings, now),
        "sendgrid": lambda: sendgrid.read(posted, settings, now),
    }
    if provider not in readers:
        raise WebhookRefused(404, f"no webhook for {provider[:50]!r}: there are {', '.join(PROVIDERS)}")
    if len(posted.body) > LIMIT:
        raise WebhookRefused(413, f"too large: over {LIMIT} bytes (1 MiB)")
    batch = readers[provider]()
    store = applier.store
    applied = receipts.seen(store, [e.key for e in batch.events] + ([batch.once] if batch.once else []))
    if batch.once in applied:
        raise WebhookRefused(403, "this signature was used before: refused as a replay")
    results: list[Result] = []
    done: list[str] = []
    for event in batch.events:
        if event.key in applied:
            results.append(Result(event.name, reason="already applied"))
            continue
        result = applier.parsed(event.name, event.parsed)
        if not result.error:  # an error here is ours (the database): the provider's retry applies it
            done.append(event.key)
        results.append(result)
    if batch.once and not any(r.error for r in results):
        done.append(batch.once)
    receipts.keep(store, done, provider)  # after applying: a crash before it applies them again, which counts nothing
    return WebhookOutcome(BounceReport(results), batch.note)
