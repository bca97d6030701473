"""Pages: the web app's Jinja2 templates, and what every page response carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from newsletter.app import Newsletter
from newsletter.subscribers import NAME_LIMIT, signup_limit

TEMPLATES = Path(__file__).parent / "templates"
FLASH = "newsletter_flash"


def environment() -> jinja2.Environment:
    """Return the Jinja2 environment of the web pages (HTML-escaped, strict about undefined names)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = when
    env.globals["name_limit"] = NAME_LIMIT  # the name fields' maxlength
    return env


def when(moment: datetime | None) -> str:
    """Return a time as ``2026-11-25 08:00 UTC`` (empty for None)."""
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def newsletter_of(request: Request) -> Newsletter:
    """Return the newsletter the web app serves."""
    app: Newsletter = request.app.state.newsletter
    return app


def admission(request: Request, limit: signup_limit.Limit = signup_limit.SIGNUPS,
              counts: Callable[[], bool] = lambda: True) -> signup_limit.Admission:
    """Count an attempt (a sign-up) from the request's client against its limit (see ``signup_limit.admit``)."""
    return signup_limit.admit(newsletter_of(request), *peer_of(request), limit=limit, counts=counts)


def peer_of(request: Request) -> tuple[str | None, str | None]:
    """Return the request's peer address and its ``X-Forwarded-For`` headers joined (None when absent)."""
    peer = request.client.host if request.client else None
    return peer, ", ".join(request.headers.getlist("x-forwarded-for")) or None


def render(request: Request, template: str, /, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return ``template`` as an HTML response; every page sees ``newsletter``, ``request``, ``flash``."""
    env: jinja2.Environment = request.app.state.pages
    kind, _, text = unquote(request.cookies.get(FLASH, "")).partition("|")
    body = env.get_template(template).render(request=request, newsletter=newsletter_of(request).config.newsletter,
                                         flash={"kind": kind, "text": text} if text else None, **context)
    response = HTMLResponse(body, status_code=status_code)
    if text:
        response.delete_cookie(FLASH, path="/")
    return response


def redirect(url: str, flash: str = "", *, error: bool = False) -> RedirectResponse:
    """Return a 303 redirect to ``url`` that shows ``flash`` once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH, quote(f"{'error' if error else 'ok'}|{flash}"), max_age=60, httponly=True,
                            samesite="strict", path="/")
    return response


def message(request: Request, title: str, text: str, *, status_code: int = 200) -> HTMLResponse:
    """Return a page that only says something."""
    return render(request, "message.html", status_code=status_code, title=title, text=text)
