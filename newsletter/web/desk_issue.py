"""The desk's issue editor: arrange the next issue story by story, rewrite a headline or a summary, split or merge.

Pages are GETs that change nothing; every change is a POST carrying the session's CSRF
token and ends in a redirect with a one-time message. Each calls one function of
``editorial``: ``edit`` and ``restore`` (headline and summary; the source's text is kept),
``shift`` (the up and down buttons, the keyboard's way) and ``order`` (what a drag and drop
posts), ``split`` and ``join`` (a story's members). The next draft, the preview and the
issue that goes out apply them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.edit import editorial
from newsletter.edit.issue import Draft, Planned
from newsletter.edit.sections import Placed
from newsletter.error import NewsletterError
from newsletter.web import auth
from newsletter.web.desk import desk
from newsletter.web.pages import newsletter_of, redirect

router = APIRouter(prefix="/desk/issue", include_in_schema=False)
Editor = Depends(auth.require_editor)
EditorForm = [Depends(auth.require_editor_form)]
HOME = "/desk/issue"


@dataclass(frozen=True)
class Story:
    """Where an item is in the next issue: its story (None when the issue leaves it out) and section."""

    planned: Planned
    placed: Placed | None
    section: str  # "" for the lead
    shown: tuple[int, ...]  # the ids of the stories of its section, in order


def find(draft: Draft, item_id: int) -> Story | None:
    """Return where item ``item_id`` is in ``draft``, or None when it is not waiting."""
    planned = next((p for p in draft.plan if p.item.id == item_id), None)
    if planned is None:
        return None
    if draft.lead is not None and item_id in {i.id for i in draft.lead.members}:
        return Story(planned, draft.lead, "", (draft.lead.item.id,))
    for section in draft.sections:
        for placed in section.items:
            if item_id in {i.id for i in placed.members}:
                return Story(planned, placed, section.name, tuple(p.item.id for p in section.items))
    return Story(planned, None, planned.section, ())


@router.get("", response_class=HTMLResponse, dependencies=[Editor])
def arrange(request: Request) -> HTMLResponse:
    """Show the next issue story by story: order, members, and the way to edit each."""
    app = newsletter_of(request)
    return desk(request, "desk/issue.html", draft=app.draft(), chosen=editorial.choices(app.store))


@router.get("/items/{item_id}", response_class=HTMLResponse, dependencies=[Editor])
def item_page(request: Request, item_id: int) -> Response:
    """Show one story: its headline and summary to edit, its members to split, a story to merge it with."""
    app = newsletter_of(request)
    draft = app.draft()
    story = find(draft, item_id)
    if story is None:
        return redirect(HOME, f"item {item_id} is not waiting for the next issue", error=True)
    members = story.placed.members if story.placed else (story.planned.item,)
    others = [p for p in draft.plan if p.item.id not in {m.id for m in members}
              and p.status in ("lead", "in issue", "waiting", "duplicate")]
    return desk(request, "desk/item.html", story=story, item=story.placed.item if story.placed else story.planned.item,
                members=members, others=others, choice=editorial.choices(app.store, [item_id]).get(item_id),
                source=editorial.source_text(app.store, item_id))


def change(action: Callable[[], object], done: str, *, to: str = HOME, failed: str = HOME) -> Response:
    """Make one editorial change; redirect to ``to`` saying ``done``, or to ``failed`` saying what is wrong."""
    try:
        action()
    except NewsletterError as e:
        return redirect(failed, str(e), error=True)
    return redirect(to, done)


@router.post("/items/{item_id}/text", dependencies=EditorForm)
def save_text(request: Request, item_id: int, title: Annotated[str, Form()] = "",
              summary: Annotated[str, Form()] = "", shown_title: Annotated[str, Form()] = "",
              shown_summary: Annotated[str, Form()] = "") -> Response:
    """Keep the editor's headline and summary (only what differs from what the page showed)."""
    new_title = title if " ".join(title.split()) != " ".join(shown_title.split()) else None
    new_summary = summary if " ".join(summary.split()) != " ".join(shown_summary.split()) else None
    page = f"{HOME}/items/{item_id}"
    if new_title is None and new_summary is None:
        return redirect(page, f"Item {item_id}: nothing changed.")
    what = " and ".join(w for w, new in (("headline", new_title), ("summary", new_summary)) if new is not None)
    return change(lambda: editorial.edit(newsletter_of(request).store, item_id, title=new_title, summary=new_summary),
                  f"Item {item_id}: {what} saved.", to=f"{HOME}#item-{item_id}", failed=page)


@router.post("/items/{item_id}/restore", dependencies=EditorForm)
def restore(request: Request, item_id: int) -> Response:
    """Bring back the source's headline and summary."""
    return change(lambda: editorial.restore(newsletter_of(request).store, item_id),
                  f"Item {item_id}: the source's headline and summary are back.", to=f"{HOME}#item-{item_id}")


@router.post("/items/{item_id}/split", dependencies=EditorForm)
def split(request: Request, item_id: int) -> Response:
    """Take the item out of the story it was merged into."""
    return change(lambda: editorial.split(newsletter_of(request).store, item_id),
                  f"Item {item_id} split from its story.", to=f"{HOME}#item-{item_id}")


@router.post("/items/{item_id}/merge", dependencies=EditorForm)
def merge(request: Request, item_id: int, into: Annotated[int, Form()]) -> Response:
    """Merge the item into the story of item ``into``."""
    return change(lambda: editorial.join(newsletter_of(request).store, item_id, into),
                  f"Item {item_id} merged with item {into}.", to=f"{HOME}#item-{into}",
                  failed=f"{HOME}/items/{item_id}")


@router.post("/items/{item_id}/{direction}", dependencies=EditorForm)
def shift(request: Request, item_id: int, direction: Literal["up", "down"]) -> Response:
    """Move a story one place up or down in its section (the keyboard's way to reorder)."""
    app = newsletter_of(request)

    def move() -> None:
        story = find(app.draft(), item_id)
        if story is None or story.placed is None or not story.section:
            raise NewsletterError(f"item {item_id} is not in a section of the next issue")
        editorial.shift(app.store, story.shown, story.placed.item.id, -1 if direction == "up" else 1)

    return change(move, f"Item {item_id} moved {direction}.", to=f"{HOME}#item-{item_id}")


@router.post("/order", dependencies=EditorForm)
def order(request: Request, section: Annotated[str, Form()] = "",
          ids: Annotated[list[int] | None, Form()] = None) -> Response:
    """Keep the order a drag and drop gave one section's stories."""
    return change(lambda: editorial.order(newsletter_of(request).store, ids or []),
                  f"New order of {section or 'the section'} saved.")
