"""The editor's desk: log in, preview the next issue, pin/drop/move its items, send a test, send it.

Pages are GETs that change nothing; every change is a POST carrying the session's
CSRF token (``auth.require_editor_form``) and ends in a redirect with a one-time
message. Each action calls one library function: ``Newsletter.preview``,
``editorial.pin/drop/move/reset``, ``Newsletter.send(to=…)``, ``Newsletter.send``.
Sending an issue and gathering run as background tasks (``tasks``).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from newsletter import status, subscribers
from newsletter.app import Newsletter
from newsletter.daemon import Daemon
from newsletter.edit import editorial, words
from newsletter.email.render import Renderer
from newsletter.error import NewsletterError
from newsletter.store import to_db
from newsletter.web import auth
from newsletter.web.pages import newsletter_of, redirect, render
from newsletter.web.tasks import Tasks

router = APIRouter(prefix="/desk", include_in_schema=False)
Editor = Depends(auth.require_editor)
EditorForm = [Depends(auth.require_editor_form)]


def tasks_of(request: Request) -> Tasks:
    """Return the web app's background tasks."""
    tasks: Tasks = request.app.state.tasks
    return tasks


def desk(request: Request, template: str, /, **context: Any) -> HTMLResponse:
    """Render a desk page (with the CSRF token its forms carry and the running task)."""
    response = render(request, template, csrf=auth.csrf_token(request), task=tasks_of(request).latest, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """Show the login form (or say the desk is closed)."""
    return render(request, "desk/login.html", closed=not auth.is_open(newsletter_of(request)), error="",
                  status_code=200 if auth.is_open(newsletter_of(request)) else 403)


@router.post("/login", response_model=None)
def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
    """Open a desk session when the token is the configured admin token."""
    app = newsletter_of(request)
    if not auth.is_open(app):
        return render(request, "desk/login.html", closed=True, error="", status_code=403)
    tried = auth.attempt(request, token)
    if not tried.allowed:
        minutes = -(-tried.retry_after // 60)
        page = render(request, "desk/login.html", closed=False, status_code=429,
                      error=f"Too many wrong tokens from this connection: try again in {minutes} "
                            f"minute{'s' if minutes > 1 else ''}.")
        page.headers["Retry-After"] = str(tried.retry_after)
        return page
    if tried.counted:
        return render(request, "desk/login.html", closed=False, error="That token is not right.", status_code=401)
    response = redirect("/desk/")
    auth.log_in(request, response)
    return response


@router.post("/logout", dependencies=EditorForm)
def logout(request: Request) -> Response:
    """End the desk session (its cookie no longer works anywhere, copied or not)."""
    response = redirect("/desk/login", "Logged out.")
    auth.log_out(request, response)
    return response


@router.get("", include_in_schema=False)
def desk_root() -> Response:
    """Send ``/desk`` to ``/desk/``."""
    return redirect("/desk/")


@router.get("/", response_class=HTMLResponse, dependencies=[Editor])
def home(request: Request) -> HTMLResponse:
    """Show the next issue at a glance, subscriber counts, the schedule and source health."""

    app = newsletter_of(request)
    draft = app.draft()
    return desk(request, "desk/home.html", report=status.report(Daemon(app), draft),
                counts=subscribers.counts(app.store), draft=draft)


@router.get("/preview", response_class=HTMLResponse, dependencies=[Editor])
def preview(request: Request) -> HTMLResponse:
    """Show the next issue live (desktop and mobile width, text), its items and the send controls."""
    app = newsletter_of(request)
    draft, rendered = app.preview()
    sections = [*(s.name for s in app.config.sections), app.config.newsletter.catch_all]
    # Honest about what readers get: one copy per distinct language and section choice.
    readers = Counter((s.sections, s.language) for s in subscribers.iterate(app.store, status="active"))
    return desk(request, "desk/preview.html", draft=draft, text=rendered.text, plan=draft.plan,
                sections=list(dict.fromkeys(sections)), active=subscribers.count(app.store, "active"),
                copies=[(c, urlencode({"language": c.language, "sections": "" if c.every_section else
                                       ",".join(c.sections)})) for c in Renderer(app.config, draft).copies(readers)],
                words=words.get(app.store, draft.number))


def sample(request: Request) -> dict[str, Any]:
    """Return which copy a preview link asks for: ``?language=ru&sections=Russia,Energy`` (none: the whole issue)."""
    chosen = request.query_params.get("sections", "")
    return {"language": request.query_params.get("language", ""),
            "sections": tuple(s for s in chosen.split(",") if s.strip())}


@router.post("/words", dependencies=EditorForm)
def set_words(request: Request, number: Annotated[int, Form()], subject: Annotated[str, Form()] = "",
              intro: Annotated[str, Form()] = "") -> Response:
    """Set the next issue's subject (every reader's, empty: each copy's own) and its intro."""
    app = newsletter_of(request)
    if app.draft().number != number:
        return redirect("/desk/preview", f"the next issue is now number {app.draft().number}, not {number}: "
                        "look at it again first", error=True)
    try:
        words.write(app.store, number, subject=subject, intro=intro, moment=app.clock())
    except NewsletterError as e:
        return redirect("/desk/preview", str(e), error=True)
    return redirect("/desk/preview#words", f"Subject and intro of issue {number} saved.")


@router.get("/preview.html", response_class=HTMLResponse, dependencies=[Editor])
def preview_html(request: Request) -> HTMLResponse:
    """Return the next issue's HTML as a sample reader gets it (shown in the preview's frames)."""
    # Feed content ends up in this page: no script may run in it, even opened outside its sandboxed frame.
    return HTMLResponse(newsletter_of(request).preview(**sample(request))[1].html,
                        headers={"Cache-Control": "no-store", "Content-Security-Policy": "script-src 'none'"})


@router.get("/preview.txt", response_class=PlainTextResponse, dependencies=[Editor])
def preview_text(request: Request) -> PlainTextResponse:
    """Return the next issue's plain-text part."""
    return PlainTextResponse(newsletter_of(request).preview(**sample(request))[1].text,
                             headers={"Cache-Control": "no-store"})


@router.post("/items/{item_id}/{action}", dependencies=EditorForm)
def item_action(request: Request, item_id: int, action: str, section: Annotated[str, Form()] = "") -> Response:
    """Pin, drop, move (to ``section``) or reset one waiting item."""
    app = newsletter_of(request)
    try:
        if action == "pin":
            editorial.pin(app.store, item_id)
        elif action == "drop":
            editorial.drop(app.store, item_id)
        elif action == "move":
            editorial.move(app.config, app.store, item_id, section)
        elif action == "reset":
            editorial.reset(app.store, item_id)
        else:
            return redirect("/desk/preview", f"unknown action {action!r}", error=True)
    except NewsletterError as e:
        return redirect("/desk/preview", str(e), error=True)
    done = {"pin": "pinned", "drop": "dropped", "move": f"moved to {section}", "reset": "reset"}[action]
    return redirect(f"/desk/preview#item-{item_id}", f"Item {item_id} {done}.")


@router.post("/send/test", dependencies=EditorForm)
def send_test(request: Request, to: Annotated[str, Form()] = "") -> Response:
    """Send a test copy of the next issue to one address; nothing else changes."""
    try:
        report = newsletter_of(request).send(to=to, fetch=False)
    except NewsletterError as e:
        return redirect("/desk/preview", str(e), error=True)
    return redirect("/desk/preview", report.message[:1].upper() + report.message[1:] + ".")


def send_issue(app: Newsletter, tasks: Tasks, number: int) -> str:
    """Start sending issue ``number`` (the one the editor previewed) in the background; return a note."""
    draft = app.draft()
    if draft.number != number:
        raise NewsletterError(f"the next issue is now number {draft.number}, not {number}: look at it again first")
    if draft.empty:
        raise NewsletterError("nothing to send: no items are waiting")
    tasks.start("send", lambda: app.send(fetch=False, confirm=None).message)
    return f"Sending issue {number}: the figures below fill in as readers get it."


@router.post("/send", dependencies=EditorForm)
def send(request: Request, number: Annotated[int, Form()]) -> Response:
    """Send the previewed issue to every active reader (in the background)."""
    try:
        note = send_issue(newsletter_of(request), tasks_of(request), number)
    except NewsletterError as e:
        return redirect("/desk/preview", str(e), error=True)
    return redirect("/desk/issues", note)


@router.post("/gather", dependencies=EditorForm)
def gather(request: Request) -> Response:
    """Fetch every source now (in the background)."""
    app = newsletter_of(request)

    def work() -> str:
        report = app.gather()
        return f"gathered {report.new} new items from {len(report.sources)} sources ({len(report.failed)} failed)"

    try:
        tasks_of(request).start("gather", work)
    except NewsletterError as e:
        return redirect("/desk/", str(e), error=True)
    return redirect("/desk/", "Gathering: reload this page in a moment.")


@router.get("/issues", response_class=HTMLResponse, dependencies=[Editor])
def issues(request: Request) -> HTMLResponse:
    """Show past issues and their delivery figures, and the waves of readers an issue still waits for."""
    app = newsletter_of(request)
    return desk(request, "desk/issues.html", zone=app.config.zone,
                issues=status.issues(app.store, zone=app.config.zone, present=to_db(app.clock())))
