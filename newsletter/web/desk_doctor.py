"""The desk's deliverability page: ``newsletter doctor``'s checks, run when the page is opened."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from newsletter import doctor
from newsletter.web.desk import Editor, desk
from newsletter.web.pages import newsletter_of

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/doctor", response_class=HTMLResponse, dependencies=[Editor])
def checks(request: Request) -> HTMLResponse:
    """Run every check (relay, SPF, DKIM, DMARC, MX, unsubscribe) and show one line each."""
    app = newsletter_of(request)
    diagnosis = doctor.examine(app.config, app.connection(), app.dkim)
    return desk(request, "desk/doctor.html", diagnosis=diagnosis)
