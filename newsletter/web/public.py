"""The public pages: sign up, confirm, preferences, unsubscribe (RFC 8058 one-click), the archive.

Every page calls one function of ``newsletter.subscribers.optin`` or ``newsletter.archive``.
A GET never changes anything (mail scanners follow links); a tampered or stale
link gets a 4xx page and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsletter.app import Newsletter
from newsletter.archive import Archive
from newsletter.error import SubscriberError
from newsletter.subscribers import NAME_LIMIT, Subscriber, optin
from newsletter.tokens import UNSUBSCRIBE, LinkError
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
        address = optin.check(app, email, sections or [], name)
    except SubscriberError as e:  # what was typed goes back in the form, but no more than a field holds
        return render(request, "subscribe.html", status_code=400, sections=optin.sections_offered(app),
                      error=str(e), email=email[:320], name=name[:NAME_LIMIT])
    admitted = admission(request)
    if not admitted.allowed:
        return too_many(request, admitted.retry_after)
    # The work (and its timing) depends on whether the address is known: do it after answering.
    background.add_task(optin.request_later, app, address, name=name, sections=sections or [])
    return message(request, "Check your inbox",
                   CHECK_INBOX.format(email=address, title=app.config.newsletter.title))


def reader_page(request: Request, template: str, resolve: Callable[[Newsletter], Subscriber],
                **context: Any) -> HTMLResponse:
    """Render ``template`` for the reader whose link ``resolve`` checks (and acts on), or the bad-link page.

    The page sees ``subscriber`` and ``preferences``, the address of that reader's preferences page.
    """
    app = newsletter_of(request)
    try:
        subscriber = resolve(app)
    except LinkError as e:
        return bad_link(request, e)
    except SubscriberError as e:  # e.g. a name too long: the reader hears why, nothing changed
        return message(request, "That did not work", f"{str(e)[:1].upper()}{str(e)[1:]}. Nothing was changed.",
                       status_code=400)
    preferences = f"/preferences/{app.signer().sign(UNSUBSCRIBE, subscriber.id)}"
    return render(request, template, subscriber=subscriber, preferences=preferences, **context)


@router.get("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    """Show whom the link confirms and one button; a GET changes nothing."""
    return reader_page(request, "confirm.html", lambda app: optin.pending_confirmation(app, token), token=token)


@router.post("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm(request: Request, token: str) -> HTMLResponse:
    """Confirm the subscription the link names."""
    return reader_page(request, "confirmed.html", lambda app: optin.confirm(app, token))


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Show one button that unsubscribes; link scanners that only GET change nothing."""
    return reader_page(request, "unsubscribe.html", lambda app: optin.reader(app, token), token=token)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe(request: Request, token: str,
                one_click: Annotated[str, Form(alias="List-Unsubscribe")] = "") -> HTMLResponse:
    """Unsubscribe at once: RFC 8058 one-click (``List-Unsubscribe=One-Click``) or the page's button."""
    origin = "one-click" if one_click == "One-Click" else "web"
    return reader_page(request, "unsubscribed.html", lambda app: optin.unsubscribe(app, token, origin=origin),
                       token=token)


@router.get("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
def preferences_page(request: Request, token: str) -> HTMLResponse:
    """Show the reader's name, chosen sections and an unsubscribe button."""
    return reader_page(request, "preferences.html", lambda app: optin.reader(app, token), token=token,
                       sections=optin.sections_offered(newsletter_of(request)), saved=False)


@router.post("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
def preferences(request: Request, token: str, name: Annotated[str, Form()] = "",
                sections: Annotated[list[str] | None, Form()] = None) -> HTMLResponse:
    """Save the reader's name and sections (none ticked: every section)."""
    def save(app: Newsletter) -> Subscriber:
        return optin.set_preferences(app, token, name=name, sections=sections or [])

    return reader_page(request, "preferences.html", save, token=token,
                       sections=optin.sections_offered(newsletter_of(request)), saved=True)


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
