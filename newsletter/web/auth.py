"""Who may use the editor's desk: a token from the config opens a signed session; forms carry a CSRF token.

The desk is closed while ``web.admin_token`` (``NEWSLETTER_ADMIN_TOKEN``) is empty.
Logging in with the token sets a cookie holding a random session id signed with the
newsletter's secret key (and a digest of the admin token, so changing the token ends
every session). The session lives in ``desk_sessions`` (a hash of its id, never the
id) until it expires or the editor logs out, which deletes it: a copied cookie dies
with it. The cookie is ``Secure`` when the browser came over HTTPS (``is_https``).
Each form carries ``csrf`` = HMAC(secret, session id); every POST of the desk is
refused without it. The JSON API also takes ``Authorization: Bearer <admin token>``,
which needs no CSRF token because a browser never sends it unasked. A wrong admin
token, at the login form or as a bearer token, counts against ``web.login_attempts``
per client (``signup_limit.LOGINS``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from newsletter.app import Newsletter
from newsletter.store import to_db
from newsletter.subscribers import signup_limit
from newsletter.web.pages import admission, newsletter_of, peer_of

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


def attempt(request: Request, given: str) -> signup_limit.Admission:
    """Check an admin token from the request's client; a wrong one counts against ``web.login_attempts``.

    Allowed and not counted: the token is right. Counted: it is wrong. Not allowed: the
    client tried too many wrong ones lately, and this one was not even compared.
    """
    app = newsletter_of(request)
    return admission(request, signup_limit.LOGINS, counts=lambda: not token_matches(app, given))


def is_https(request: Request) -> bool:
    """Return whether the browser came over HTTPS: ``base_url`` says so, or the request, or a trusted proxy.

    A proxy's ``X-Forwarded-Proto`` is believed only from a ``web.trusted_proxies`` peer.
    """
    app = newsletter_of(request)
    if app.config.newsletter.base_url.lower().startswith("https://") or request.url.scheme == "https":
        return True
    proto = ",".join(request.headers.getlist("x-forwarded-proto")).split(",")[-1].strip().lower()
    return proto == "https" and signup_limit.is_trusted(peer_of(request)[0] or "", app.config.web.trusted_proxies)


def log_in(request: Request, response: Response) -> None:
    """Start a desk session: record it and set its signed cookie on ``response``."""
    app = newsletter_of(request)
    sid = secrets.token_urlsafe(32)
    moment = to_db(app.clock())
    assert moment is not None
    lasts = timedelta(hours=app.config.web.session_hours)
    t = app.store.t.desk_sessions
    with app.store.begin() as conn:
        conn.execute(t.delete().where(t.c.expires_at <= moment))
        conn.execute(t.insert().values(id=_digest(sid), created_at=moment, expires_at=moment + lasts))
    response.set_cookie(COOKIE, _serializer(app).dumps(sid), max_age=int(lasts.total_seconds()), httponly=True,
                        samesite="strict", secure=is_https(request), path="/")


def log_out(request: Request, response: Response) -> None:
    """End the desk session: delete it from the store (so its cookie stops working anywhere) and the cookie."""
    app = newsletter_of(request)
    sid = session(request)
    if sid is not None:
        t = app.store.t.desk_sessions
        with app.store.begin() as conn:
            conn.execute(t.delete().where(t.c.id == _digest(sid)))
    response.delete_cookie(COOKIE, path="/", secure=is_https(request), httponly=True, samesite="strict")


def session(request: Request) -> str | None:
    """Return the session id of a valid desk cookie whose session is neither expired nor ended, else None."""
    known: dict[str, str | None] = request.scope.setdefault("newsletter.desk_session", {})
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    if value not in known:
        known[value] = _session(newsletter_of(request), value)
    return known[value]


def _session(app: Newsletter, value: str) -> str | None:
    if not is_open(app):
        return None
    try:
        sid = _serializer(app).loads(value)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(sid, str):
        return None
    t = app.store.t.desk_sessions
    with app.store.begin() as conn:
        found = conn.execute(sa.select(t.c.id).where(t.c.id == _digest(sid),
                                                     t.c.expires_at > to_db(app.clock()))).first()
    return sid if found else None


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


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
        tried = attempt(request, given)
        if not tried.allowed:
            raise HTTPException(429, "too many wrong admin tokens from this connection; try again later",
                                headers={"Retry-After": str(tried.retry_after)})
        if tried.counted:
            raise HTTPException(401, "wrong admin token", headers={"WWW-Authenticate": "Bearer"})
        return
    if session(request) is None:
        raise HTTPException(401, "log in at /desk/login or send Authorization: Bearer <admin token>",
                            headers={"WWW-Authenticate": "Bearer"})
    if request.method not in ("GET", "HEAD"):
        given = request.headers.get(CSRF_HEADER, "")
        if not given or not hmac.compare_digest(given, csrf_token(request)):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
