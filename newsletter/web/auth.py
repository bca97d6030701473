"""Who may use the editor's desk: a token from the config opens a signed session; forms carry a CSRF token.

The desk is closed while ``web.admin_token`` (``NEWSLETTER_ADMIN_TOKEN``) is empty.
Logging in with the token sets a cookie holding a random session id signed with the
newsletter's secret key (and a digest of the admin token, so changing the token ends
every session). Each form carries ``csrf`` = HMAC(secret, session id); every POST of
the desk is refused without it. The JSON API also takes ``Authorization: Bearer
<admin token>``, which needs no CSRF token because a browser never sends it unasked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from newsletter.app import Newsletter
from newsletter.web.pages import newsletter_of

COOKIE = "newsletter_desk"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """Raised by a desk page when nobody is logged in; the app answers with a redirect to the login."""


def _secret(app: Newsletter) -> str:
    return app.store.secret(app.config.newsletter.secret_key)


def _serializer(app: Newsletter) -> URLSafeSerializer:
    digest = hashlib.sha256(app.config.web.admin_token.encode()).hexdigest()[:16]
    return URLSafeSerializer(_secret(app), salt=f"desk-session:{digest}")


def is_open(app: Newsletter) -> bool:
    """Return whether the desk can be used at all (an admin token is configured)."""
    return bool(app.config.web.admin_token)


def token_matches(app: Newsletter, given: str) -> bool:
    """Return whether ``given`` is the admin token (compared in constant time)."""
    expected = app.config.web.admin_token
    return bool(expected) and hmac.compare_digest(given.strip().encode(), expected.encode())


def log_in(app: Newsletter, response: Response, *, secure: bool) -> None:
    """Start a desk session: set the signed session cookie on ``response``."""
    issued = int(app.clock().astimezone(UTC).timestamp())
    value = _serializer(app).dumps([secrets.token_urlsafe(16), issued])
    response.set_cookie(COOKIE, value, max_age=int(app.config.web.session_hours * 3600), httponly=True,
                        samesite="strict", secure=secure, path="/")


def log_out(response: Response) -> None:
    """End the desk session."""
    response.delete_cookie(COOKIE, path="/")


def session(request: Request) -> str | None:
    """Return the session id of a valid, unexpired desk cookie, else None."""
    app = newsletter_of(request)
    value = request.cookies.get(COOKIE)
    if not value or not is_open(app):
        return None
    try:
        sid, issued = _serializer(app).loads(value)
    except (BadSignature, ValueError, TypeError):
        return None
    age = app.clock().astimezone(UTC) - datetime.fromtimestamp(int(issued), UTC)
    if age > timedelta(hours=app.config.web.session_hours) or not isinstance(sid, str):
        return None
    return sid


def csrf_token(request: Request) -> str:
    """Return the CSRF token for the current session (empty without one)."""
    sid = session(request)
    if sid is None:
        return ""
    return hmac.new(_secret(newsletter_of(request)).encode(), f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()


def require_editor(request: Request) -> str:
    """Return the session id, or raise LoginRequired (pages) when nobody is logged in."""
    sid = session(request)
    if sid is None:
        raise LoginRequired()
    return sid


async def require_editor_form(request: Request) -> None:
    """Check that a desk form comes from a logged-in editor and carries the session's CSRF token."""
    require_editor(request)
    form = await request.form()
    given = str(form.get("csrf") or "")
    if not given or not hmac.compare_digest(given, csrf_token(request)):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require_api(request: Request) -> None:
    """Let a JSON API call through with the bearer token, or a desk session (+ CSRF header unless reading)."""
    app = newsletter_of(request)
    if not is_open(app):
        raise HTTPException(403, "the admin API is closed: set web.admin_token or NEWSLETTER_ADMIN_TOKEN")
    kind, _, given = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() == "bearer":
        if token_matches(app, given):
            return
        raise HTTPException(401, "wrong admin token", headers={"WWW-Authenticate": "Bearer"})
    if session(request) is None:
        raise HTTPException(401, "log in at /desk/login or send Authorization: Bearer <admin token>",
                            headers={"WWW-Authenticate": "Bearer"})
    if request.method not in ("GET", "HEAD"):
        given = request.headers.get(CSRF_HEADER, "")
        if not given or not hmac.compare_digest(given, csrf_token(request)):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
