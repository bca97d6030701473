"""Opt-in: what a reader does through the web — sign up, confirm, change preferences, unsubscribe.

Sign-up is double opt-in. ``request`` records a pending reader and mails a signed
link that expires (``web.confirm_hours``); ``confirm`` makes them active. What a
sign-up tells the person is the same whether the address was new, pending, already
active or suppressed, and a repeated sign-up sends at most one email per
``web.resend_minutes`` (the last send is recorded in ``confirm_sent_at``, claimed
before sending so two requests at once cannot both send). A suppressed address
(unsubscribed, bounced, complained) becomes active again only through this link.
A sign-up never confirmed is deleted ``web.pending_days`` after its last change or link.

Preferences and unsubscribe use the permanent token in every issue's links
(``Signer.sign("unsubscribe", id)``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.email.message import confirmation, sender_address
from newsletter.error import NewsletterError, SubscriberError
from newsletter.store import to_db
from newsletter.subscribers import Subscriber
from newsletter.tokens import CONFIRM, UNSUBSCRIBE, LinkError

log = logging.getLogger("newsletter.subscribers.optin")



@dataclass(frozen=True)
class Signup:
    """What a sign-up did. Only the editor and the tests see ``reason``; the person sees one answer."""

    email: str
    sent: bool  # a confirmation email went out
    reason: str  # sent | recently-sent | already-active


def sections_offered(app: Newsletter) -> list[str]:
    """Return the section names a reader can choose from, in issue order."""
    return list(dict.fromkeys([*(s.name for s in app.config.sections), app.config.newsletter.catch_all]))


def chosen_sections(app: Newsletter, chosen: Iterable[str]) -> tuple[str, ...]:
    """Return the known sections among ``chosen``; every section (or none) means all, stored as empty."""
    offered = sections_offered(app)
    by_key = {name.casefold(): name for name in offered}
    picked = tuple(dict.fromkeys(by_key[c.strip().casefold()] for c in chosen if c.strip().casefold() in by_key))
    return () if set(picked) == set(offered) else picked


def confirm_url(app: Newsletter, subscriber_id: int, issued_at: datetime) -> str:
    """Return the confirmation link for a sign-up made at ``issued_at``."""
    token = app.signer().sign_expiring(CONFIRM, subscriber_id, issued_at)
    return f"{app.config.newsletter.base_url.rstrip('/')}/confirm/{token}"


def check(app: Newsletter, email: str, sections: Iterable[str] = (), name: str = "") -> str:
    """Return the sign-up's address, normalised; raise SubscriberError if it, the name or a section is invalid.

    Depends only on what was typed, never on the address's state, so the answer to a
    sign-up can be given before the (slower, state-dependent) work is done.
    """
    subscribers.clean_name(name)
    chosen_sections(app, sections)
    return subscribers.normalise_email(email)


def expire(app: Newsletter) -> int:
    """Delete the sign-ups still pending ``web.pending_days`` after their last change or link; return how many."""
    before = app.clock() - timedelta(days=app.config.web.pending_days)
    return subscribers.purge_pending(app.store, origin="web", before=before)


def request_later(app: Newsletter, email: str, *, name: str = "", sections: Iterable[str] = (),
                  origin: str = "web") -> None:
    """Run ``request`` after the answer went out: failures are logged, never shown to the asker."""
    try:
        request(app, email, name=name, sections=sections, origin=origin)
    except (NewsletterError, OSError) as e:
        log.warning("sign-up of %s: the confirmation email was not sent: %s", email, e)


def request(app: Newsletter, email: str, *, name: str = "", sections: Iterable[str] = (),
            origin: str = "web") -> Signup:
    """Sign ``email`` up: record them as pending (if not active) and mail a confirmation link.

    Stale sign-ups are deleted first (``expire``). Raise SubscriberError for an invalid
    address or name and SmtpError if the mail server refuses (or lacks the SMTPUTF8 an
    internationalised address needs); then nothing is recorded as sent, so the next try
    may send at once.
    """
    address = subscribers.normalise_email(email)
    name = subscribers.clean_name(name)
    picked = chosen_sections(app, sections)
    moment = to_db(app.clock())
    assert moment is not None
    store = app.store
    expire(app)
    found = subscribers.find(store, address)
    if found is None:
        try:
            found = subscribers.add(store, address, name=name, sections=picked, status="pending", origin=origin,
                                    moment=moment)
        except SubscriberError:  # someone signed the same address up a moment ago
            found = subscribers.get(store, address)
    if found.status == "active":
        return Signup(address, False, "already-active")
    if name.strip() or picked:
        # Not yet (or no longer) a reader: nothing is mailed to them, so their choice may change.
        found = subscribers.update(store, found.id, name=name or None, sections=picked, origin=origin, moment=moment)
    won, previous = _claim(app, found.id, moment)
    if not won:
        return Signup(address, False, "recently-sent")
    try:
        message = confirmation(app.config, email=found.email, name=found.name, sections=found.sections,
                               confirm_url=confirm_url(app, found.id, moment), date=app.clock())
        if app.dkim is not None:
            message = app.dkim.sign(message)
        with app.connection() as connection:
            connection.send(sender_address(app.config)[1], found.email, message)
    except Exception as e:  # one reader's mail, whatever failed: nothing is recorded as sent
        subscribers.release_confirmation(store, found.id, moment, previous)
        if isinstance(e, NewsletterError | OSError):
            raise
        raise NewsletterError(f"cannot send the confirmation email to {found.email}: {type(e).__name__}: {e}") from e
    with store.begin() as conn:
        subscribers.record_events(conn, store, [subscribers.event_row(
            found.id, "confirmation-sent", found.status, origin, moment)])
    return Signup(address, True, "sent")


def _claim(app: Newsletter, subscriber_id: int, moment: datetime) -> tuple[bool, datetime | None]:
    """Record a confirmation send at ``moment`` unless one went out within ``web.resend_minutes``.

    Return whether this caller may send, and the previous ``confirm_sent_at`` (to put
    back if sending fails).
    """
    since = moment - timedelta(minutes=app.config.web.resend_minutes)
    return subscribers.claim_confirmation(app.store, subscriber_id, moment, since)


def pending_confirmation(app: Newsletter, token: str) -> Subscriber:
    """Return whom a confirmation link is for, changing nothing; raise LinkError if it is bad or stale."""
    issued = app.signer().check_expiring(CONFIRM, token, now=app.clock(),
                                         max_age=timedelta(hours=app.config.web.confirm_hours))
    try:
        subscriber = subscribers.get_by_id(app.store, issued.subscriber_id)
    except SubscriberError:
        raise LinkError("this link is no longer valid") from None
    changed = subscriber.status_changed_at
    if subscriber.status != "active" and changed is not None and _ms(issued.issued_at) < _ms(changed):
        # Issued before their latest change (e.g. they unsubscribed since): it must not undo it.
        raise LinkError("this link is older than your latest change; sign up again to get a new one")
    return subscriber


def confirm(app: Newsletter, token: str) -> Subscriber:
    """Make the reader a confirmation link names active (again); confirming twice changes nothing."""
    subscriber = pending_confirmation(app, token)
    if subscriber.status == "active":
        return subscriber
    with app.store.begin() as conn:  # their bounce count starts over with their new consent
        subscribers.reset_bounces(conn, app.store, [subscriber.id])
    return subscribers.change(app.store, subscriber.id, "active", event="confirmed", origin="web",
                              moment=app.clock())


def reader(app: Newsletter, token: str) -> Subscriber:
    """Return the reader an unsubscribe or preferences link names; raise LinkError if tampered with."""
    subscriber_id = app.signer().check(UNSUBSCRIBE, token)
    try:
        return subscribers.get_by_id(app.store, subscriber_id)
    except SubscriberError:
        raise LinkError("this link is no longer valid") from None


def unsubscribe(app: Newsletter, token: str, *, origin: str = "web") -> Subscriber:
    """Unsubscribe the reader a link names at once; a suppressed reader stays as they are."""
    subscriber = reader(app, token)
    if subscriber.status in ("bounced", "complained", "unsubscribed"):
        return subscriber
    return subscribers.change(app.store, subscriber.id, "unsubscribed", origin=origin, moment=app.clock())


def set_preferences(app: Newsletter, token: str, *, name: str, sections: Iterable[str]) -> Subscriber:
    """Change the name and chosen sections of the reader a link names."""
    subscriber = reader(app, token)
    return subscribers.update(app.store, subscriber.id, name=name, sections=chosen_sections(app, sections),
                              origin="web", moment=app.clock())


def _ms(moment: datetime) -> int:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(aware.timestamp() * 1000)
