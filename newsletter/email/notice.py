"""One-off mails to one reader, in their language: the double opt-in confirmation and the welcome.

Each is rendered from a pair of templates (``NAME.mjml`` and ``NAME.txt``, user templates
first); the text template sets the subject with ``{% set subject = … %}``. Both carry
``Content-Language`` and ``Auto-Submitted: auto-generated``, and are built with the same
header builder as every issue.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

from newsletter.config import Config
from newsletter.email import htmlmail
from newsletter.email.message import sender_address
from newsletter.email.mime import NamedAddress, clean, header
from newsletter.email.personal import greeting
from newsletter.email.render import render_template

CONFIRM = "confirm"
WELCOME = "welcome"


def notice(config: Config, template: str, *, email: str, name: str = "", language: str = "",
           date: datetime, data: dict[str, Any], fallback_subject: str) -> bytes:
    """Return the mail ``template`` (``confirm``, ``welcome``) for one reader, rendered in ``language``.

    ``language`` is an offered language (empty: the newsletter's); ``data`` is what the
    templates see besides the newsletter, the theme, ``email``, ``name`` and ``greeting``.
    """
    language = language or config.newsletter.language
    data = {"email": email, "name": clean(name), "greeting": greeting(config.newsletter, clean(name), language), **data}
    markup = htmlmail.compile(render_template(config, f"{template}.mjml", data, language)[0], name=f"{template}.mjml")
    text, exported = render_template(config, f"{template}.txt", data, language)
    subject = str(exported.get("subject") or fallback_subject)
    sender_name, address = sender_address(config)
    head = b"".join((  # the same header builder as every issue's
        header("From", NamedAddress(sender_name or config.newsletter.title, address)),
        header("To", NamedAddress(name, email)),
        header("Subject", subject),
        header("Date", format_datetime(date)),
        header("Message-ID", make_msgid(template, domain=address.rsplit("@", 1)[1])),
        header("Auto-Submitted", "auto-generated"),
        header("Content-Language", language),
    ))
    body = EmailMessage(policy=SMTP)  # MIME-Version, Content-Type and the two parts
    body.set_content(re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", subtype="plain", charset="utf-8",
                     cte="quoted-printable")
    body.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    body.set_boundary("=_" + hashlib.sha256(f"{template}:{email}:{sorted(data.items())}".encode()).hexdigest()[:24])
    return head + body.as_bytes(policy=SMTP)


def confirmation(config: Config, *, email: str, name: str = "", confirm_url: str, date: datetime,
                 sections: tuple[str, ...] = (), language: str = "") -> bytes:
    """Return the double opt-in email asking ``email`` to confirm with ``confirm_url``."""
    return notice(config, CONFIRM, email=email, name=name, language=language, date=date,
                  data={"confirm_url": confirm_url, "sections": list(sections)},
                  fallback_subject=f"Confirm your subscription to {config.newsletter.title}")


def welcome(config: Config, *, email: str, name: str = "", language: str = "", date: datetime,
            preferences_url: str, latest_url: str = "", latest_subject: str = "") -> bytes:
    """Return the welcome email a reader gets on confirming: the latest issue's page and their preferences link.

    ``latest_url`` is empty when no issue has gone out yet.
    """
    return notice(config, WELCOME, email=email, name=name, language=language, date=date,
                  data={"preferences_url": preferences_url, "latest_url": latest_url,
                        "latest_subject": latest_subject},
                  fallback_subject=f"Welcome to {config.newsletter.title}")
