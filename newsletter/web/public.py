"""The public pages: sign up, confirm, preferences, unsubscribe (RFC 8058 one-click), the archive.

Every page calls one function of ``newsletter.subscribers.optin`` or ``newsletter.archive``.
A GET never changes anything (mail scanners follow links); a tampered or stale
link gets a 4xx page and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsletter import i18n
from newsletter.app import Newsletter
from newsletter.archive import Archive
from newsletter.error import SubscriberError
from newsletter.i18n import N_
from newsletter.subscribers import NAME_LIMIT, Subscriber, optin
from newsletter.subscribers.choices import Choices
from newsletter.subscribers.rules import zone_names
from newsletter.tokens import UNSUBSCRIBE, LinkError
from newsletter.web.pages import (
    admission,
    gettext_of,
    message,
    newsletter_of,
    page_language,
    render,
)

router = APIRouter()

CHECK_INBOX = N_("If {email} can receive {title}, a message with a confirmation link is on its way. "
                 "Open it and click the link to start your subscription.")
# What a bad link says (``tokens``, ``optin``), so that the catalogs have it in every language.
LINK_ERRORS = (N_("invalid or tampered link"), N_("this link has expired; sign up again to get a new one"),
               N_("this link is no longer valid"),
               N_("this link is older than your latest change; sign up again to get a new one"))


def check_inbox(request: Request, email: str) -> HTMLResponse:
    """Return the answer to every sign-up: the same whatever the address's state."""
    _ = gettext_of(request)
    return message(request, _("Check your inbox"),
                   _(CHECK_INBOX).format(email=email, title=newsletter_of(request).config.newsletter.title))


def bad_link(request: Request, error: LinkError) -> HTMLResponse:
    """Return the page for a link that is tampered with, expired or stale (400: nothing changed)."""
    _ = gettext_of(request)
    return message(request, _("This link does not work"),
                   _("%(reason)s. Nothing was changed.") % {"reason": _(str(error))}, status_code=400)


def too_many(request: Request, retry_after: int) -> HTMLResponse:
    """Return the page for a sign-up over the hourly limit of its connection (429: nothing was sent)."""
    minutes = max(1, -(-retry_after // 60))
    language = page_language(request)
    t = i18n.translations(language)
    response = message(request, t.gettext("Too many sign-ups"),
                       t.ngettext("Too many sign-ups have come from this connection in the last hour, so nothing "
                                  "was sent. Please try again in %(count)d minute.",
                                  "Too many sign-ups have come from this connection in the last hour, so nothing "
                                  "was sent. Please try again in %(count)d minutes.", minutes) % {"count": minutes},
                       status_code=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def language_names(app: Newsletter) -> list[tuple[str, str]]:
    """Return the languages offered to readers, each with its name in itself (CLDR, through Babel): "Русский"."""
    named = []
    for tag in Choices.of(app.config).languages:
        try:
            name = Locale.parse(tag, sep="-").get_display_name(Locale.parse(tag, sep="-")) or tag
        except (ValueError, UnknownLocaleError):
            name = tag
        named.append((tag, name[:1].upper() + name[1:]))
    return named


def choices_of(app: Newsletter) -> dict[str, Any]:
    """Return what the sign-up and preferences forms offer: ``sections`` and ``languages`` (tag, name)."""
    return {"sections": optin.sections_offered(app), "languages": language_names(app)}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def subscribe_form(request: Request) -> HTMLResponse:
    """Show the sign-up form."""
    return render(request, "subscribe.html", **choices_of(newsletter_of(request)), error="", email="", name="",
                  language="")


@router.post("/subscribe", response_class=HTMLResponse, include_in_schema=False)
def subscribe(request: Request, background: BackgroundTasks, email: Annotated[str, Form()] = "",
              name: Annotated[str, Form()] = "",
              sections: Annotated[list[str] | None, Form()] = None,
              language: Annotated[str, Form()] = "", timezone: Annotated[str, Form()] = "",
              website: Annotated[str, Form()] = "") -> HTMLResponse:
    """Sign up; the answer is the same whether the address was new, pending, active or suppressed.

    ``timezone`` is what the browser reports (a hidden field): one this server does not know
    is left out, since the reader could not correct it.
    """
    app = newsletter_of(request)
    if website:  # the hidden field only robots fill in: answer as usual, do nothing
        return check_inbox(request, email)
    timezone = Choices.of(app.config).reported_timezone(timezone)
    try:
        address = optin.check(app, email, sections or [], name, language=language, timezone=timezone)
    except SubscriberError as e:  # what was typed goes back in the form, but no more than a field holds
        return render(request, "subscribe.html", status_code=400, **choices_of(app),
                      error=str(e), email=email[:320], name=name[:NAME_LIMIT], language=language[:35])
    admitted = admission(request)
    if not admitted.allowed:
        return too_many(request, admitted.retry_after)
    # The work (and its timing) depends on whether the address is known: do it after answering.
    background.add_task(optin.request_later, app, address, name=name, sections=sections or [], language=language,
                        timezone=timezone)
    return check_inbox(request, address)


def reader_page(request: Request, template: str, resolve: Callable[[Newsletter], Subscriber],
                **context: Any) -> HTMLResponse:
    """Render ``template`` for the reader whose link ``resolve`` checks (and acts on), or the bad-link page.

    The page sees ``subscriber``, ``preferences`` (the address of that reader's preferences page)
    and ``chosen``: the sections the reader gets by their current names, empty for all.
    """
    app = newsletter_of(request)
    try:
        subscriber = resolve(app)
    except LinkError as e:
        return bad_link(request, e)
    except SubscriberError as e:  # e.g. a name too long: the reader hears why, nothing changed
        _ = gettext_of(request)
        return message(request, _("That did not work"),
                       _("%(reason)s. Nothing was changed.") % {"reason": f"{str(e)[:1].upper()}{str(e)[1:]}"},
                       status_code=400)
    preferences = f"/preferences/{app.signer().sign(UNSUBSCRIBE, subscriber.id)}"
    choices = Choices.of(app.config)
    return render(request, template, subscriber=subscriber, preferences=preferences,
                  chosen=choices.current(subscriber.sections), unknown=choices.unknown(subscriber.sections),
                  **context)


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
    """Show the reader's name, sections, language and time zone, and an unsubscribe button."""
    return reader_page(request, "preferences.html", lambda app: optin.reader(app, token), token=token,
                       **choices_of(newsletter_of(request)), zones=zone_names(), saved=False)


@router.post("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
def preferences(request: Request, token: str, name: Annotated[str, Form()] = "",
                sections: Annotated[list[str] | None, Form()] = None,
                language: Annotated[str | None, Form()] = None,
                timezone: Annotated[str | None, Form()] = None) -> HTMLResponse:
    """Save the reader's name, sections (none ticked: every section), language and time zone (absent: kept)."""
    def save(app: Newsletter) -> Subscriber:
        return optin.set_preferences(app, token, name=name, sections=sections or [], language=language,
                                     timezone=timezone)

    return reader_page(request, "preferences.html", save, token=token, **choices_of(newsletter_of(request)),
                       zones=zone_names(), saved=True)


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
        _ = gettext_of(request)
        return message(request, _("No such issue"), _("Issue %(number)s has not been sent.") % {"number": number},
                       status_code=404)
    return HTMLResponse(page)
