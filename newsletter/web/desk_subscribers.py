"""The desk's subscriber pages: search and sort, one reader's history, status and choices, add, import, export."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from newsletter import subscribers
from newsletter.error import NewsletterError
from newsletter.subscribers import csvfile, editor, optin
from newsletter.subscribers.choices import Choices
from newsletter.web import auth
from newsletter.web.desk import desk
from newsletter.web.pages import newsletter_of, redirect

router = APIRouter(prefix="/desk/subscribers", include_in_schema=False)
Editor = Depends(auth.require_editor)
EditorForm = [Depends(auth.require_editor_form)]
PAGE = 50


@router.get("", response_class=HTMLResponse, dependencies=[Editor])
def listing(request: Request, q: str = "", status: str = "", sort: str = "newest", offset: int = 0) -> HTMLResponse:
    """List subscribers, newest first or by name, filtered by a search and a status."""
    app = newsletter_of(request)
    status = status if status in subscribers.STATUSES else ""
    sort = sort if sort in subscribers.SORTS else "newest"
    found, total = subscribers.page(app.store, search=q, status=status or None, sort=sort, offset=offset, limit=PAGE)
    return desk(request, "desk/subscribers.html", found=found, total=total, q=q, status=status, sort=sort,
                offset=offset, page=PAGE, statuses=subscribers.STATUSES, counts=subscribers.counts(app.store),
                sections=optin.sections_offered(app))


@router.post("", dependencies=EditorForm)
def add(request: Request, email: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
        sections: Annotated[list[str] | None, Form()] = None, language: Annotated[str, Form()] = "",
        timezone: Annotated[str, Form()] = "", confirmed: Annotated[str, Form()] = "") -> Response:
    """Add a reader (active when the editor says they already agreed, else pending)."""
    try:
        s = editor.add(newsletter_of(request), email, name=name, sections=sections or [], language=language,
                       timezone=timezone, status="active" if confirmed else "pending", origin="desk")
    except NewsletterError as e:
        return redirect("/desk/subscribers", str(e), error=True)
    return redirect(f"/desk/subscribers/{s.id}", f"Added {s.email} ({s.status}).")


@router.get("/export.csv", dependencies=[Editor])
def export(request: Request, q: str = "", status: str = "") -> Response:
    """Download the subscribers matching the filters as CSV (email,name,sections,status)."""
    text = csvfile.export_text(newsletter_of(request).store, search=q or None,
                              status=status if status in subscribers.STATUSES else None)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="subscribers.csv"',
                             "Cache-Control": "no-store"})


@router.post("/import", response_class=HTMLResponse, dependencies=EditorForm)
def import_file(request: Request, file: Annotated[UploadFile, File()]) -> Response:
    """Import an uploaded CSV and show what happened to every row."""
    try:
        text = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
        app = newsletter_of(request)
        report = csvfile.import_csv(app.store, text, choices=Choices.of(app.config), origin="desk-import")
    except (NewsletterError, UnicodeDecodeError) as e:
        return redirect("/desk/subscribers", f"{file.filename}: {e}", error=True)
    return desk(request, "desk/imported.html", report=report, filename=file.filename or "upload.csv")


@router.get("/{subscriber_id}", response_class=HTMLResponse, dependencies=[Editor])
def detail(request: Request, subscriber_id: int) -> Response:
    """Show one reader, their history and what can be done with them."""
    app = newsletter_of(request)
    try:
        subscriber = subscribers.get_by_id(app.store, subscriber_id)
    except NewsletterError as e:
        return redirect("/desk/subscribers", str(e), error=True)
    choices = Choices.of(app.config)
    return desk(request, "desk/subscriber.html", subscriber=subscriber, statuses=subscribers.STATUSES,
                events=subscribers.events(app.store, subscriber_id), sections=choices.sections,
                chosen=choices.current(subscriber.sections), unknown=choices.unknown(subscriber.sections),
                languages=choices.languages)


@router.post("/{subscriber_id}/edit", dependencies=EditorForm)
def edit(request: Request, subscriber_id: int, name: Annotated[str, Form()] = "",
         sections: Annotated[list[str] | None, Form()] = None, language: Annotated[str, Form()] = "",
         timezone: Annotated[str, Form()] = "") -> Response:
    """Change a reader's name, sections (none ticked: all), language and time zone; a bad one changes nothing."""
    here = f"/desk/subscribers/{subscriber_id}"
    try:
        s = editor.edit(newsletter_of(request), subscriber_id, name=name, sections=sections or [],
                        language=language, timezone=timezone)
    except NewsletterError as e:
        return redirect(here, str(e), error=True)
    return redirect(here, f"Saved {s.email}.")


@router.post("/{subscriber_id}/status", dependencies=EditorForm)
def change_status(request: Request, subscriber_id: int, status: Annotated[str, Form()]) -> Response:
    """Change a reader's status (never back to active once they left: that takes their confirmation)."""
    try:
        s = subscribers.edit_status(newsletter_of(request).store, subscriber_id, status)
    except NewsletterError as e:
        return redirect(f"/desk/subscribers/{subscriber_id}", str(e), error=True)
    return redirect(f"/desk/subscribers/{subscriber_id}", f"{s.email} is now {s.status}.")


@router.post("/{subscriber_id}/confirmation", dependencies=EditorForm)
def send_confirmation(request: Request, subscriber_id: int) -> Response:
    """Mail the reader a confirmation link (at most one per ``web.resend_minutes``)."""
    app = newsletter_of(request)
    here = f"/desk/subscribers/{subscriber_id}"
    try:
        s = subscribers.get_by_id(app.store, subscriber_id)
        signup = optin.request(app, s.email, origin="desk")
    except NewsletterError as e:
        return redirect(here, str(e), error=True)
    notes = {"sent": f"Confirmation link sent to {s.email}.",
             "recently-sent": f"A confirmation link went to {s.email} less than "
                              f"{app.config.web.resend_minutes:g} minutes ago; not sent again.",
             "already-active": f"{s.email} is already active."}
    return redirect(here, notes[signup.reason], error=not signup.sent)

