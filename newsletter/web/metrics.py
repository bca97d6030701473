"""``/metrics``: the newsletter's health in Prometheus's text format, for a scraper holding the token.

The token is ``metrics.token`` (``NEWSLETTER_METRICS_TOKEN``), else the admin token, sent as
``Authorization: Bearer <token>``. With neither set, ``/metrics`` is closed (403). A wrong
token counts against ``web.login_attempts`` like a wrong admin token.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from newsletter.insight import metrics
from newsletter.subscribers import signup_limit
from newsletter.web.pages import admission, newsletter_of

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def scrape(request: Request) -> Response:
    """Return every figure, read from the store now."""
    app = newsletter_of(request)
    expected = app.config.metrics.token or app.config.web.admin_token
    if not expected:
        raise HTTPException(403, "/metrics is closed: set metrics.token (NEWSLETTER_METRICS_TOKEN) or web.admin_token")
    kind, _, given = request.headers.get("Authorization", "").partition(" ")
    right = kind.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
    tried = admission(request, signup_limit.LOGINS, counts=lambda: not right)
    if not tried.allowed:
        raise HTTPException(429, "too many wrong tokens from this connection; try again later",
                            headers={"Retry-After": str(tried.retry_after)})
    if not right:
        raise HTTPException(401, "send Authorization: Bearer <metrics token>", headers={"WWW-Authenticate": "Bearer"})
    return Response(metrics.exposition(app.config, app.store), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
