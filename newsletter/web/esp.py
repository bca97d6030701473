"""ESP webhooks at ``POST /bounces/{ses,mailgun,postmark,sendgrid}``: bounded body in, ``delivery.esp`` decides.

The body is read up to 1 MiB (a larger one is 413, unread); the library verifies it,
applies its events and says what it did. A refused request (unsigned, tampered,
replayed, not ours) is a 4xx with one line, and changes nothing; an event that
could not be applied for a reason of ours is a 500, so the provider tries again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from newsletter.app import Newsletter
from newsletter.delivery import bounces, esp
from newsletter.delivery.dsn import LIMIT
from newsletter.delivery.esp.ses import SnsFetcher
from newsletter.error import BounceError, ConfigError
from newsletter.web import auth
from newsletter.web.pages import newsletter_of

router = APIRouter(prefix="/bounces", include_in_schema=False)


@router.post("/{provider}")
async def webhook(provider: str, request: Request) -> Response:
    """Receive one ESP webhook request."""
    app = newsletter_of(request)
    body = await _body(request)
    if body is None:
        return JSONResponse({"detail": f"too large: over {LIMIT} bytes (1 MiB)"}, status_code=413)
    posted = esp.Posted(body, {k.lower(): v for k, v in request.headers.items()}, auth.is_https(request))
    try:
        outcome = await run_in_threadpool(_receive, app, _fetcher(request, app), provider, posted)
    except esp.WebhookRefused as e:
        return JSONResponse({"detail": str(e)}, status_code=e.status, headers=e.headers)
    except ConfigError as e:
        return JSONResponse({"detail": str(e)}, status_code=500)
    except BounceError as e:  # verified, but not what the provider sends
        return JSONResponse({"detail": str(e)}, status_code=400)
    return JSONResponse(outcome.to_json(), status_code=500 if outcome.report.failed else 200)


def _receive(app: Newsletter, fetcher: SnsFetcher, provider: str, posted: esp.Posted) -> esp.WebhookOutcome:
    return esp.receive(provider, posted, settings=app.config.bounces, now=app.clock(), fetcher=fetcher,
                       applier=bounces.reports(app.config, app.store, app.signer()))


async def _body(request: Request) -> bytes | None:
    """Return the request's body, or None as soon as it is past ``LIMIT`` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > LIMIT:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > LIMIT:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _fetcher(request: Request, app: Newsletter) -> SnsFetcher:
    """Return the web app's fetcher of SNS certificates (made once: it keeps the certificates it fetched)."""
    fetcher: SnsFetcher | None = getattr(request.app.state, "sns_fetcher", None)
    if fetcher is None:
        b = app.config.bounces
        fetcher = SnsFetcher(b.timeout, app.config.resolve(b.ca_file) if b.ca_file else None)
        request.app.state.sns_fetcher = fetcher
    return fetcher
