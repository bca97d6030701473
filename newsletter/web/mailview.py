"""The mail view (Mailpit-style): what the demo's SMTP sink received, shown as each reader sees it.

Mounted at ``/mail`` only when the web app is given a mailbox (``newsletter demo
--serve``). A message's HTML part is shown in a sandboxed frame (no scripts, no
same-origin access), next to its text part and headers; the raw ``.eml`` downloads.

The mail holds every confirmation link, so it is shown only on this machine: to a
loopback client that named a loopback host, through no proxy (``local``). Anyone else
needs a desk login, and without ``web.admin_token`` is refused.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Protocol

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.sink import Received
from newsletter.web import auth
from newsletter.web.pages import message, newsletter_of, peer_of, render


def local_or_editor(request: Request) -> None:
    """Let a request from this machine through; from elsewhere, only an editor logged in to the desk."""
    if local(request):
        return
    if not auth.is_open(newsletter_of(request)):
        raise HTTPException(403, "The mail view is shown only on this machine (a loopback address). To show it "
                                 "elsewhere, set web.admin_token and log in at /desk/login.")
    auth.require_editor(request)


def local(request: Request) -> bool:
    """Return whether a request comes from this machine: loopback peer and host, no proxy naming another client."""
    if "forwarded" in request.headers or "x-real-ip" in request.headers:
        return False
    peer, forwarded = peer_of(request)
    hops = [peer or "", *(forwarded.split(",") if forwarded else [])]
    host = request.url.hostname or ""
    return all(_loopback(hop) for hop in hops) and (host == "localhost" or host.endswith(".localhost")
                                                     or _loopback(host, unspecified=True))


def _loopback(address: str, *, unspecified: bool = False) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or (unspecified and ip.is_unspecified)  # 0.0.0.0 as a host: this machine


router = APIRouter(prefix="/mail", include_in_schema=False, dependencies=[Depends(local_or_editor)])


class CaughtMail(Protocol):
    """Anything that keeps received messages in order (``newsletter.sink.Sink`` does)."""

    messages: list[Received]


@dataclass(frozen=True)
class Mail:
    """One received message, parsed for showing."""

    number: int  # 1-based position in the mailbox
    to: str
    sender: str
    subject: str
    date: str
    headers: list[tuple[str, str]]
    text: str
    html: str | None
    size: int


def parse(number: int, received: Received) -> Mail:
    """Return a received message ready to show."""
    parsed: EmailMessage = received.parse()
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    try:
        date = parsedate_to_datetime(str(parsed["Date"])).strftime("%Y-%m-%d %H:%M") if parsed["Date"] else ""
    except (TypeError, ValueError):
        date = str(parsed["Date"])
    return Mail(number, str(parsed["To"] or ", ".join(received.recipients)), str(parsed["From"] or ""),
                str(parsed["Subject"] or "(no subject)"), date, [(k, str(v)) for k, v in parsed.items()],
                text_part.get_content() if text_part is not None else "",
                html_part.get_content() if html_part is not None else None, len(received.data))


def _mailbox(request: Request) -> CaughtMail:
    mailbox: CaughtMail = request.app.state.mailbox
    return mailbox


def _get(request: Request, number: int) -> Mail | None:
    messages = list(_mailbox(request).messages)
    if not 1 <= number <= len(messages):
        return None
    return parse(number, messages[number - 1])


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """List every message the sink received, newest first."""
    mails = [parse(i, r) for i, r in enumerate(list(_mailbox(request).messages), start=1)]
    return render(request, "mail/index.html", mails=list(reversed(mails)))


@router.get("/{number}.html", response_class=HTMLResponse)
def html_part(request: Request, number: int) -> Response:
    """Return a message's HTML part alone (the frame's content)."""
    mail = _get(request, number)
    if mail is None or mail.html is None:
        return Response("no HTML part", status_code=404, media_type="text/plain")
    # The frame is sandboxed; this keeps the page inert even when opened on its own.
    return HTMLResponse(mail.html, headers={"Content-Security-Policy": "script-src 'none'"})


@router.get("/{number}.eml")
def raw(request: Request, number: int) -> Response:
    """Download a message exactly as received."""
    messages = list(_mailbox(request).messages)
    if not 1 <= number <= len(messages):
        return Response("no such message", status_code=404, media_type="text/plain")
    return Response(messages[number - 1].data, media_type="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="message-{number}.eml"'})


@router.get("/{number}", response_class=HTMLResponse)
def show(request: Request, number: int) -> HTMLResponse:
    """Show one message: headers, the HTML as the reader sees it (desktop and mobile), the text part."""
    mail = _get(request, number)
    if mail is None:
        return message(request, "No such message", f"The mailbox has no message {number}.", status_code=404)
    return render(request, "mail/message.html", mail=mail)
