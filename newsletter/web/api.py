"""The JSON API under ``/api``, described by OpenAPI at ``/api/openapi.json`` (browsable at ``/api/docs``).

``POST /api/subscribe`` is public (the same double opt-in as the form). Everything
else is for editors: ``Authorization: Bearer <web.admin_token>``, or a desk session
cookie plus the ``X-CSRF-Token`` header for calls that change something. Each
endpoint calls the same library function as the matching desk page or command.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Body,
    Depends,
    HTTPException,
    Query,
    Request,
)
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from newsletter import status, subscribers
from newsletter.daemon import Daemon
from newsletter.edit import editorial
from newsletter.error import EditorialError, NewsletterError, SmtpError, SubscriberError
from newsletter.store import to_db
from newsletter.subscribers import csvfile, editor, optin
from newsletter.subscribers.choices import Choices
from newsletter.web import auth
from newsletter.web.desk import send_issue, tasks_of
from newsletter.web.pages import admission, newsletter_of

public = APIRouter(prefix="/api", tags=["public"])
router = APIRouter(prefix="/api", tags=["editor"], dependencies=[Depends(auth.require_api)])


class SignUp(BaseModel):
    """A sign-up: the same as the form on the home page."""

    email: str
    name: str = ""
    sections: list[str] = Field(default_factory=list, description="Chosen sections; empty: every section.")
    language: str = Field("", description="One of [newsletter] languages; empty: the newsletter's language.")
    timezone: str = Field("", description="An IANA time zone, e.g. Asia/Almaty; empty: the newsletter's zone.")


class NewSubscriber(SignUp):
    """A reader an editor adds."""

    status: str = Field("pending", description="pending, or active when the reader already agreed.")


class SubscriberChange(BaseModel):
    """What to change about a reader; fields left out stay as they are."""

    status: str | None = None
    name: str | None = None
    sections: list[str] | None = None
    language: str | None = None
    timezone: str | None = None


class TestSend(BaseModel):
    """Where a test copy of the next issue goes."""

    to: str


class IssueSend(BaseModel):
    """The number of the issue to send: it must still be the next one (the one looked at)."""

    number: int


class Move(BaseModel):
    """The section to move an item to."""

    section: str


def _fail(e: NewsletterError) -> HTTPException:
    code = 409 if isinstance(e, EditorialError) else 502 if isinstance(e, SmtpError) else 400
    return HTTPException(code, str(e))


@public.post("/subscribe", status_code=202, summary="Sign up (double opt-in)")
def subscribe(request: Request, body: SignUp, background: BackgroundTasks) -> dict[str, str]:
    """Mail a confirmation link; neither the answer nor its timing tells whether the address was known."""
    app = newsletter_of(request)
    try:
        address = optin.check(app, body.email, body.sections, body.name, language=body.language,
                              timezone=body.timezone)
    except SubscriberError as e:
        raise HTTPException(422, str(e)) from None
    admitted = admission(request)
    if not admitted.allowed:
        raise HTTPException(429, "too many sign-ups from this connection; try again later",
                            headers={"Retry-After": str(admitted.retry_after)})
    background.add_task(optin.request_later, app, address, name=body.name, sections=body.sections,
                        language=body.language, timezone=body.timezone)
    return {"status": "check-your-inbox"}


@router.get("/preview", summary="The next issue as a sample reader gets it")
def preview(request: Request) -> dict[str, Any]:
    """Return the next issue's number, subject, HTML, text and what it does with every waiting item."""
    draft, rendered = newsletter_of(request).preview()
    return {"number": draft.number, "subject": draft.subject, "preheader": draft.preheader,
            "empty": draft.empty, "html": rendered.html, "text": rendered.text,
            "items": [p.to_json() for p in draft.plan]}


@router.post("/items/{item_id}/move", summary="Move a waiting item to a section")
def move(request: Request, item_id: int, body: Move) -> dict[str, Any]:
    """Put item ``item_id`` in ``section`` whatever the rules say."""
    app = newsletter_of(request)
    try:
        return {"item_id": item_id, **editorial.move(app.config, app.store, item_id, body.section).to_json()}
    except NewsletterError as e:
        raise _fail(e) from None


@router.post("/items/{item_id}/{action}", summary="Pin, drop or reset a waiting item")
def item_action(request: Request, item_id: int, action: str) -> dict[str, Any]:
    """Apply ``pin``, ``drop`` or ``reset`` to item ``item_id``."""
    store = newsletter_of(request).store
    actions = {"pin": editorial.pin, "drop": editorial.drop}
    try:
        if action == "reset":
            return {"item_id": item_id, "reset": editorial.reset(store, item_id)}
        if action not in actions:
            raise HTTPException(404, f"unknown action {action!r} (pin, drop, reset; move has its own endpoint)")
        return {"item_id": item_id, **actions[action](store, item_id).to_json()}
    except NewsletterError as e:
        raise _fail(e) from None


@router.post("/send/test", summary="Send a test copy of the next issue")
def send_test(request: Request, body: TestSend) -> dict[str, Any]:
    """Send the next issue to one address with a [TEST] subject; nothing is recorded."""
    try:
        return newsletter_of(request).send(to=body.to, fetch=False).to_json()
    except NewsletterError as e:
        raise _fail(e) from None


@router.post("/send", status_code=202, summary="Send the next issue to every active reader")
def send(request: Request, body: IssueSend) -> dict[str, Any]:
    """Start delivering issue ``number`` in the background; follow it with ``GET /api/issues``."""
    try:
        return {"status": "sending", "message": send_issue(newsletter_of(request), tasks_of(request), body.number)}
    except NewsletterError as e:
        raise HTTPException(409, str(e)) from None


@router.get("/job", summary="The latest background job (send or gather)")
def job(request: Request) -> dict[str, Any] | None:
    """Return the kind, start, end and outcome of the latest desk task (send or gather), or null."""
    latest = tasks_of(request).latest
    if latest is None:
        return None
    return {"kind": latest.kind, "running": latest.running, "failed": latest.failed, "message": latest.message,
            "started_at": latest.started_at.isoformat(),
            "finished_at": latest.finished_at.isoformat() if latest.finished_at else None}


@router.get("/issues", summary="Past issues with their delivery figures")
def issues(request: Request, limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Return the latest issues, newest first, with sent/pending/deferred/failed/skipped counts."""
    app = newsletter_of(request)
    return [i.to_json() for i in status.issues(app.store, limit=limit, zone=app.config.zone,
                                               present=to_db(app.clock()))]


@router.get("/status", summary="Schedule, last issue and source health")
def operator_status(request: Request) -> dict[str, Any]:
    """Return what ``newsletter status --json`` prints."""

    data: dict[str, Any] = status.report(Daemon(newsletter_of(request)))
    return data


@router.get("/subscribers", summary="Search subscribers")
def list_subscribers(request: Request, q: str = "", status: str | None = None, sort: str = "newest",
                     offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
    """Return matching readers (``q``: part of the address or name, any case), newest first or by name, and how many."""
    try:
        found, total = subscribers.page(newsletter_of(request).store, search=q, status=status, sort=sort,
                                        offset=offset, limit=limit)
    except SubscriberError as e:
        raise HTTPException(422, str(e)) from None
    return {"total": total, "offset": offset, "subscribers": [s.to_json() for s in found]}


@router.post("/subscribers", status_code=201, summary="Add a subscriber")
def add_subscriber(request: Request, body: NewSubscriber) -> dict[str, Any]:
    """Add a reader; 409 if the address is already listed."""
    app = newsletter_of(request)
    if body.status not in ("pending", "active"):
        raise HTTPException(422, "a new subscriber is pending or active")
    if subscribers.find(app.store, body.email) is not None:
        raise HTTPException(409, f"{body.email.strip()} is already a subscriber")
    try:
        s = editor.add(app, body.email, name=body.name, status=body.status, origin="api", sections=body.sections,
                       language=body.language, timezone=body.timezone)
    except SubscriberError as e:
        raise HTTPException(422, str(e)) from None
    return s.to_json()


@router.get("/subscribers/export.csv", summary="Export subscribers as CSV", response_class=Response)
def export(request: Request, q: str = "", status: str | None = None) -> Response:
    """Return ``email,name,sections,status,language,timezone`` rows of the matching readers."""
    return Response(csvfile.export_text(newsletter_of(request).store, search=q or None, status=status),
                    media_type="text/csv; charset=utf-8")


@router.post("/subscribers/import", summary="Import subscribers from CSV")
def import_csv(request: Request, body: str = Body(..., media_type="text/csv")) -> JSONResponse:
    """Import reader rows (as ``newsletter subscribers import``); report added, updated, skipped, rejected rows."""
    app = newsletter_of(request)
    try:
        report = csvfile.import_csv(app.store, io.StringIO(body), choices=Choices.of(app.config), origin="api-import")
    except SubscriberError as e:
        raise HTTPException(422, str(e)) from None
    return JSONResponse(report.to_json(), status_code=200)


@router.get("/subscribers/{subscriber_id}", summary="One subscriber and their history")
def get_subscriber(request: Request, subscriber_id: int) -> dict[str, Any]:
    """Return the reader and every recorded change."""
    store = newsletter_of(request).store
    try:
        s = subscribers.get_by_id(store, subscriber_id)
    except SubscriberError as e:
        raise HTTPException(404, str(e)) from None
    return {**s.to_json(), "events": [e.to_json() for e in subscribers.events(store, subscriber_id)]}


@router.patch("/subscribers/{subscriber_id}", summary="Change a subscriber")
def change_subscriber(request: Request, subscriber_id: int, body: SubscriberChange) -> dict[str, Any]:
    """Change status (never back to active once suppressed), name, sections, language or time zone."""
    app = newsletter_of(request)
    get_subscriber(request, subscriber_id)  # 404 for an unknown id
    try:
        s = editor.edit(app, subscriber_id, status=body.status, name=body.name, sections=body.sections,
                        language=body.language, timezone=body.timezone, origin="api")
    except SubscriberError as e:
        raise HTTPException(422, str(e)) from None
    return s.to_json()
