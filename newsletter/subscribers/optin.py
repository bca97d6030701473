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

from newsletter import i18n, subscribers
from newsletter.app import Newsletter
from newsletter.archive import SHOWN
from newsletter.edit import issue as issues
from newsletter.email import notice
from newsletter.email.message import reader_links, sender_address
from newsletter.email.render import archive_url
from newsletter.error import NewsletterError, SubscriberError
from newsletter.store import to_db
from newsletter.subscribers import Subscriber
from newsletter.subscribers.choices import Choices
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
    return list(Choices.of(app.config).sections)


def confirm_url(app: Newsletter, subscriber_id: int, issued_at: datetime) -> str:
    """Return the confirmation link for a sign-up made at ``issued_at``."""
    token = app.signer().sign_expiring(CONFIRM, subscriber_id, issued_at)
    return f"{app.config.newsletter.base_url.rstrip('/')}/confirm/{token}"


def check(app: Newsletter, email: str, sections: Iterable[str] = (), name: str = "", *, language: str = "",
          timezone: str = "") -> str:
    """Return the sign-up's address, normalised; raise SubscriberError if anything typed is invalid.

    Depends only on what was typed, never on the address's state, so the answer to a
    sign-up can be given before the (slower, state-dependent) work is done.
    """
    subscribers.clean_name(name)
    choices = Choices.of(app.config)
    choices.pick(sections)
    choices.language(language)
    choices.timezone(timezone)
    return subscribers.normalise_email(email)


def expire(app: Newsletter) -> int:
    """Delete the sign-ups still pending ``web.pending_days`` after their last change or link; return how many."""
    before = app.clock() - timedelta(days=app.config.web.pending_days)
    return subscribers.purge_pending(app.store, origin="web", before=before)


def request_later(app: Newsletter, email: str, *, name: str = "", sections: Iterable[str] = (),
                  language: str = "", timezone: str = "", origin: str = "web") -> None:
    """Run ``request`` after the answer went out: failures are logged, never shown to the asker."""
    try:
        request(app, email, name=name, sections=sections, language=language, timezone=timezone, origin=origin)
    except (NewsletterError, OSError) as e:
        log.warning("sign-up of %s: the confirmation email was not sent: %s", email, e)


def request(app: Newsletter, email: str, *, name: str = "", sections: Iterable[str] = (), language: str = "",
            timezone: str = "", origin: str = "web") -> Signup:
    """Sign ``email`` up: record them as pending (if not active) and mail a confirmation link.

    Stale sign-ups are deleted first (``expire``). Raise SubscriberError for an invalid
    address, name, section, language or time zone and SmtpError if the mail server refuses (or lacks the SMTPUTF8 an
    internationalised address needs); then nothing is recorded as sent, so the next try
    may send at once.
    """
    address = subscribers.normalise_email(email)
    name = subscribers.clean_name(name)
    choices = Choices.of(app.config)
    picked = choices.pick(sections)
    language, timezone = choices.language(language), choices.timezone(timezone)
    moment = to_db(app.clock())
    assert moment is not None
    store = app.store
    expire(app)
    found = subscribers.find(store, address)
    if found is None:
        try:
            found = subscribers.add(store, address, name=name, sections=picked, status="pending", origin=origin,
                                    language=language, timezone=timezone, moment=moment)
        except SubscriberError:  # someone signed the same address up a moment ago
            found = subscribers.get(store, address)
    if found.status == "active":
        return Signup(address, False, "already-active")
    if name.strip() or picked or language or timezone:
        # Not yet (or no longer) a reader: nothing is mailed to them, so their choice may change.
        found = subscribers.update(store, found.id, name=name or None, sections=picked, language=language or None,
                                   timezone=timezone or None, origin=origin, moment=moment)
    won, previous = _claim(app, found.id, moment)
    if not won:
        return Signup(address, False, "recently-sent")
    try:
        message = notice.confirmation(app.config, email=found.email, name=found.name, sections=found.sections,
                                      confirm_url=confirm_url(app, found.id, moment), date=app.clock(),
                                      language=language_of(app, found))
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
    confirmed = subscribers.change(app.store, subscriber.id, "active", event="confirmed", origin="web",
                                   moment=app.clock())
    welcome(app, confirmed)
    return confirmed


def language_of(app: Newsletter, subscriber: Subscriber) -> str:
    """Return the language a reader's mail speaks: theirs if offered, else the newsletter's."""
    n = app.config.newsletter
    return i18n.choose(subscriber.language, n.languages, n.language)


def welcome(app: Newsletter, subscriber: Subscriber) -> bool:
    """Mail the welcome to a reader who has just confirmed (unless ``[newsletter] welcome`` is off).

    It links the latest issue's archive page and the reader's preferences page. Return
    whether it went; a failure is logged and never undoes the confirmation.
    """
    config = app.config
    if not config.newsletter.welcome:
        return False
    try:
        latest = issues.latest(app.store)
        shown = latest if latest is not None and latest.status in SHOWN else None
        links = reader_links(app.signer(), config.newsletter.base_url, subscriber.id)
        message = notice.welcome(config, email=subscriber.email, name=subscriber.name,
                                 language=language_of(app, subscriber), date=app.clock(),
                                 preferences_url=links["preferences_url"],
                                 latest_url=archive_url(config, shown.number) if shown else "",
                                 latest_subject=shown.subject if shown else "")
        if app.dkim is not None:
            message = app.dkim.sign(message)
        with app.connection() as connection:
            connection.send(sender_address(config)[1], subscriber.email, message)
    except (NewsletterError, OSError) as e:
        log.warning("confirmation of %s: the welcome email was not sent: %s", subscriber.email, e)
        return False
    return True


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


def set_preferences(app: Newsletter, token: str, *, name: str, sections: Iterable[str], language: str | None = None,
                    timezone: str | None = None) -> Subscriber:
    """Change the name, chosen sections, language and time zone of the reader a link names (None: unchanged)."""
    subscriber = reader(app, token)
    choices = Choices.of(app.config)
    return subscribers.update(
        app.store, subscriber.id, name=name, sections=choices.pick(sections),
        language=None if language is None else choices.language(language),
        timezone=None if timezone is None else choices.timezone(timezone), origin="web", moment=app.clock())


def _ms(moment: datetime) -> int:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(aware.timestamp() * 1000)
