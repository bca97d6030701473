"""The desk's issue report: ``/desk/issues/N/report``, the figures of ``newsletter report N`` and small charts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.error import NewsletterError
from newsletter.insight import report
from newsletter.web import auth, chart
from newsletter.web.desk import desk
from newsletter.web.pages import newsletter_of, redirect

router = APIRouter(prefix="/desk/issues", include_in_schema=False)
Editor = Depends(auth.require_editor)

# The comparison's charts: their title and the figure each shows.
CHARTS = (("Delivered", "sent"), ("Failed or bounced", "failed"), ("Unsubscribed", "unsubscribes"),
          ("Complained", "complaints"), ("Clicks", "clicks"))


@router.get("/{number}/report", response_class=HTMLResponse, dependencies=[Editor], response_model=None)
def issue_report(request: Request, number: int) -> Response:
    """Show one issue's deliveries, answers, unsubscribes, complaints and clicks, beside the issues before it."""
    app = newsletter_of(request)
    try:
        found = report.report(app.config, app.store, number)
    except NewsletterError as e:
        return redirect("/desk/issues", str(e), error=True)
    labels = [f"#{f.number}" for f in found.history]
    charts = [chart.bars(f"{title}, issue by issue", labels, [getattr(f, key) for f in found.history],
                         current=len(labels) - 1) for title, key in CHARTS]
    return desk(request, "desk/report.html", report=found, charts=charts, zone=app.config.zone)
