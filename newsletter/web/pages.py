"""Pages: the web app's Jinja2 templates, and what every page response carries.

A reader's page speaks their language (``i18n``): the one they chose when the page is
about them, else ``?lang=``, else the browser's ``Accept-Language`` among the languages
offered, else the newsletter's. Templates say the project's words in ``{% trans %}``; the
page's language is ``page_language`` (``<html lang>``, and the ``Content-Language`` header).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from newsletter import i18n, times
from newsletter.app import Newsletter
from newsletter.i18n import N_
from newsletter.subscribers import NAME_LIMIT, signup_limit

TEMPLATES = Path(__file__).parent / "templates"
# A reader's status as their preferences page says it (``_(subscriber.status)``), in every language.
STATUS_WORDS = (N_("pending"), N_("active"), N_("unsubscribed"), N_("bounced"), N_("complained"))
FLASH = "newsletter_flash"


def environment() -> jinja2.Environment:
    """Return the Jinja2 environment of the web pages (HTML-escaped, strict about undefined names)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_null_translations()  # type: ignore[attr-defined]  # added by the i18n extension; English as written
    env.policies["ext.i18n.trimmed"] = True  # the same messages as the email templates' (``pybabel extract``)
    env.filters["when"] = when
    env.globals["name_limit"] = NAME_LIMIT  # the name fields' maxlength
    return env


@jinja2.pass_context
def when(context: jinja2.runtime.Context, moment: datetime | str | None) -> str:
    """Return a time (or an ISO 8601 string) in the newsletter's zone: ``6 Dec 2026 07:00 +05`` (empty for None)."""
    return times.shown(moment, ZoneInfo(context["newsletter"].timezone))


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


def page_language(request: Request, reader: Any = None) -> str:
    """Return the language of a page: the ``reader``'s if they chose one, else ``?lang=``, else the browser's."""
    n = newsletter_of(request).config.newsletter
    chosen = getattr(reader, "language", "") or request.query_params.get("lang", "")
    if chosen:
        return i18n.choose(chosen, n.languages, n.language)
    return i18n.negotiate(request.headers.get("accept-language", ""), n.languages, n.language)


def gettext_of(request: Request, reader: Any = None) -> Callable[[str], str]:
    """Return ``gettext`` in the language of the page answering ``request`` (see ``page_language``)."""
    return i18n.translations(page_language(request, reader)).gettext


def render(request: Request, template: str, /, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return ``template`` as an HTML response; every page sees ``newsletter``, ``request``, ``flash``.

    It also sees ``page_language`` and speaks it (a ``subscriber`` in ``context`` is the reader it is about).
    """
    env: jinja2.Environment = request.app.state.pages
    kind, _, text = unquote(request.cookies.get(FLASH, "")).partition("|")
    language = page_language(request, context.get("subscriber"))
    body = env.get_template(template).render(request=request, newsletter=newsletter_of(request).config.newsletter,
                                         flash={"kind": kind, "text": text} if text else None,
                                         page_language=language, **i18n.gettext_for(language), **context)
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Content-Language"] = language
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
