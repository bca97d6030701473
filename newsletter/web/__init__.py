"""The web app (``newsletter serve``): public sign-up and reader pages, the archive, the editor's desk, the API.

``create_app(newsletter)`` returns an ASGI application (FastAPI) that owns nothing
but the ``Newsletter`` it is given: tests build one around a test newsletter and
drive it in-process with httpx, ``newsletter serve`` runs it under uvicorn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsletter.app import Newsletter
from newsletter.error import NewsletterError
from newsletter.insight.clicks import Counter
from newsletter.web import (
    api,
    auth,
    clicks,
    desk,
    desk_doctor,
    desk_issue,
    desk_reports,
    desk_subscribers,
    esp,
    mailview,
    metrics,
    public,
)
from newsletter.web.mailview import CaughtMail
from newsletter.web.pages import environment, message
from newsletter.web.tasks import Tasks

__all__ = ["create_app"]


def create_app(newsletter: Newsletter, *, mailbox: CaughtMail | None = None) -> FastAPI:
    """Return the web app serving ``newsletter``; with ``mailbox``, also the mail view at ``/mail/``."""
    app = FastAPI(title=f"{newsletter.config.newsletter.title} API", version="1",
                  description=api.__doc__, openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    app.state.newsletter = newsletter
    app.state.pages = environment()
    app.state.tasks = Tasks(newsletter.clock)
    app.state.mailbox = mailbox
    app.state.clicks = Counter(scanner_seconds=newsletter.config.tracking.scanner_seconds)
    for router in (public.router, desk.router, desk_doctor.router, desk_issue.router, desk_subscribers.router,
                   api.public, api.router, clicks.router, metrics.router, desk_reports.router):
        app.include_router(router)
    app.include_router(esp.router)  # ESP webhooks: /bounces/{provider}
    if mailbox is not None:
        app.include_router(mailview.router)
    _handlers(app)
    app.middleware("http")(_headers)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(auth.LoginRequired)
    async def login_required(request: Request, exc: auth.LoginRequired) -> Response:
        return RedirectResponse("/desk/login", status_code=303)

    # Starlette's own refusals too (e.g. a form field over its size limit): a reader gets a page.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return message(request, "Something is not right", str(exc.detail), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": problems}, status_code=422)
        return message(request, "Something is missing", problems, status_code=422)

    @app.exception_handler(NewsletterError)
    async def library_error(request: Request, exc: NewsletterError) -> Response:
        # A boundary: whatever a page did not expect still becomes one clear line.
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=500)
        return message(request, "Something went wrong", str(exc), status_code=500)


async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    # Links with tokens must not leak to other sites through Referer; pages are not to be framed elsewhere.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
