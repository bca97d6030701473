"""The public pages: sign up, confirm, preferences, unsubscribe (RFC 8058 one-click), the archive.

Every page calls one function of ``newsletter.subscribers.optin`` or ``newsletter.archive``.
A GET never changes anything (mail scanners follow links); a tampered or stale
link gets a 4xx page and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsletter.archive import Archive
from newsletter.error import SubscriberError
from newsletter.subscribers import optin
from newsletter.tokens import LinkError
from newsletter.web.pages import admission, message, newsletter_of, render

router = APIRouter()

CHECK_INBOX = ("If {email} can receive {title}, a message with a confirmation link is on its way. "
               "Open it and click the link to start your subscription.")


def bad_link(request: Request, error: LinkError) -> HTMLResponse:
    """Return the page for a link that is tampered with, expired or stale (400: nothing changed)."""
    return message(request, "This link does not work", f"{error}. Nothing was changed.", status_code=400)


def too_many(request: Request, retry_after: int) -> HTMLResponse:
    """Return the page for a sign-up over the hourly limit of its connection (429: nothing was sent)."""
    minutes = max(1, -(-retry_after // 60))
    response = message(request, "Too many sign-ups",
                       "Too many sign-ups have come from this connection in the last hour, so nothing was sent. "
                       f"Please try again in {minutes} minute{'s' if minutes > 1 else ''}.", status_code=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def subscribe_form(request: Request) -> HTMLResponse:
    """Show the sign-up form."""
    return render(request, "subscribe.html", sections=optin.sections_offered(newsletter_of(request)),
                  error="", email="", name="")


@router.post("/subscribe", response_class=HTMLResponse, include_in_schema=False)
def subscribe(request: Request, background: BackgroundTasks, email: Annotated[str, Form()] = "",
              name: Annotated[str, Form()] = "",
              sections: Annotated[list[str] | None, Form()] = None,
              website: Annotated[str, Form()] = "") -> HTMLResponse:
    """Sign up; the answer is the same whether the address was new, pending, active or suppressed."""
    app = newsletter_of(request)
    if website:  # the hidden field only robots fill in: answer as usual, do nothing
        return message(request, "Check your inbox",
                       CHECK_INBOX.format(email=email, title=app.config.newsletter.title))
    try:
        address = optin.check(app, email, sections or [])
    except SubscriberError as e:
        return render(request, "subscribe.html", status_code=400, sections=optin.sections_offered(app),
                      error=str(e), email=email, name=name)
    admitted = admission(request)
    if not admitted.allowed:
        return too_many(request, admitted.retry_after)
    # The work (and its timing) depends on whether the address is known: do it after answering.
    background.add_task(optin.request_later, app, address, name=name, sections=sections or [])
    return message(request, "Check your inbox",
                   CHECK_INBOX.format(email=address, title=app.config.newsletter.title))


@router.get("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    """Show whom the link confirms and one button; a GET changes nothing."""
    try:
        subscriber = optin.pending_confirmation(newsletter_of(request), token)
    except LinkError as e:
        return bad_link(request, e)
    return render(request, "confirm.html", subscriber=subscriber, token=token)


@router.post("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm(request: Request, token: str) -> HTMLResponse:
    """Confirm the subscription the link names."""
    try:
        subscriber = optin.confirm(newsletter_of(request), token)
    except LinkError as e:
        return bad_link(request, e)
    return render(request, "confirmed.html", subscriber=subscriber,
                  preferences=_preferences_url(request, subscriber.id))


def _preferences_url(request: Request, subscriber_id: int) -> str:
    return f"/preferences/{newsletter_of(request).signer().sign('unsubscribe', subscriber_id)}"


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Show one button that unsubscribes; link scanners that only GET change nothing."""
    try:
        subscriber = optin.reader(newsletter_of(request), token)
    except LinkError as e:
        return bad_link(request, e)
    return render(request, "unsubscribe.html", subscriber=subscriber, token=token)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe(request: Request, token: str,
                one_click: Annotated[str, Form(alias="List-Unsubscribe")] = "") -> HTMLResponse:
    """Unsubscribe at once: RFC 8058 one-click (``List-Unsubscribe=One-Click``) or the page's button."""
    try:
        subscriber = optin.unsubscribe(newsletter_of(request), token,
                                            origin="one-click" if one_click == "One-Click" else "web")
    except LinkError as e:
        return bad_link(request, e)
    return render(request, "unsubscribed.html", subscriber=subscriber, token=token)


@router.get("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
def preferences_page(request: Request, token: str) -> HTMLResponse:
    """Show the reader's name, chosen sections and an unsubscribe button."""
    app = newsletter_of(request)
    try:
        subscriber = optin.reader(app, token)
    except LinkError as e:
        return bad_link(request, e)
    return render(request, "preferences.html", subscriber=subscriber, token=token,
                  sections=optin.sections_offered(app), saved=False)


@router.post("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
def preferences(request: Request, token: str, name: Annotated[str, Form()] = "",
                sections: Annotated[list[str] | None, Form()] = None) -> HTMLResponse:
    """Save the reader's name and sections (none ticked: every section)."""
    app = newsletter_of(request)
    try:
        subscriber = optin.set_preferences(app, token, name=name, sections=sections or [])
    except LinkError as e:
        return bad_link(request, e)
    return render(request, "preferences.html", subscriber=subscriber, token=token,
                  sections=optin.sections_offered(app), saved=True)


@router.get("/archive", include_in_schema=False)
def archive_root() -> RedirectResponse:
    """Send ``/archive`` to ``/archive/``."""
    return RedirectResponse("/archive/", status_code=308)


@router.get("/archive/", response_class=HTMLResponse, include_in_schema=False)
def archive_index(request: Request) -> HTMLResponse:
    """Show every sent issue, newest first."""
    app = newsletter_of(request)
    return HTMLResponse(Archive(app.config, app.store).index())


@router.get("/archive/feed.atom", include_in_schema=False)
def archive_feed(request: Request) -> Response:
    """Return the Atom feed of the latest issues."""
    app = newsletter_of(request)
    return Response(Archive(app.config, app.store).feed(), media_type="application/atom+xml; charset=utf-8")


@router.get("/archive/{number}.html", response_class=HTMLResponse, include_in_schema=False)
def archive_page(request: Request, number: int) -> HTMLResponse:
    """Show one sent issue as a web page."""
    app = newsletter_of(request)
    page = Archive(app.config, app.store).page(number)
    if page is None:
        return message(request, "No such issue", f"Issue {number} has not been sent.", status_code=404)
    return HTMLResponse(page)
