"""Messages: one multipart/alternative email per reader, with list headers (RFC 2369, 8058).

``Composer.build`` is the fast path: per distinct section selection the issue is
rendered once and its MIME body encoded once (see ``mime.Body``); per reader only
the personal values and a few header lines are encoded and joined in.
The tests and ``bench/personalise.py`` hold it to a straightforward ``EmailMessage``
per reader, built from the public methods below (``tests/helpers/reference.py``).
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from newsletter.config import Config
from newsletter.email import htmlmail
from newsletter.email.mime import CRLF, Body, Mailbox, clean, header, quoted_printable
from newsletter.email.render import Rendered, Renderer, render_template
from newsletter.error import ConfigError
from newsletter.tokens import DIGEST_LENGTH, MESSAGE_ID, UNSUBSCRIBE, Signer

# Re-exported: other modules import the header helpers from here.
__all__ = ["Composer", "Recipient", "Sent", "confirmation", "header", "message_id", "read_message_id",
           "sender_address"]


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, and the sections they chose (empty: every section)."""

    id: int
    email: str
    name: str = ""
    sections: tuple[str, ...] = ()


def sender_address(config: Config) -> tuple[str, str]:
    """Return ``(display name, address)`` of the From setting, or raise ConfigError."""
    name, address = parseaddr(config.newsletter.sender)
    if "@" not in address:
        raise ConfigError(f"newsletter.from: not an email address: {config.newsletter.sender!r}")
    return name, address


# Ours: <issue{N}.r{reader}.{digest}@{domain}>. Numbers are capped so that no hostile one costs a big int.
_MESSAGE_ID = re.compile(rf"<issue(\d{{1,15}})\.r(\d{{1,15}})\.([0-9a-z]{{12,{DIGEST_LENGTH}}})@([^<>\s@]+)>",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Sent:
    """What a Message-ID of ours says: the issue, the reader, and whether its digest proves we made it."""

    number: int
    subscriber_id: int  # 0: a test copy (``send --to``)
    proven: bool


def message_id(signer: Signer, number: int, subscriber_id: int, domain: str) -> str:
    """Return the stable Message-ID of issue ``number`` for one reader, signed with the secret key.

    Its digest is an HMAC of the issue, the reader and the domain: a bounce report
    that returns it proves we sent that issue to that reader, and nobody without
    the key can make one. The address is not in it: a subscriber's id names one
    address for good (subscribers are never deleted nor their address changed),
    and the outbox records the Message-ID by id alone.
    """
    digest = signer.digest(MESSAGE_ID, f"{number}:{subscriber_id}:{domain.casefold()}")
    return f"<issue{number}.r{subscriber_id}.{digest}@{domain}>"


def read_message_id(signer: Signer, value: str, domain: str) -> Sent | None:
    """Return what ``value`` says if it has the shape of our Message-IDs (proven or not), else None.

    Not proven: a digest that fails the check (forged, the plain checksum of
    Message-IDs made before they were signed, or signed with another key), or
    another domain than ``domain``.
    """
    found = _MESSAGE_ID.fullmatch(value.strip())
    if found is None:
        return None
    number, subscriber_id = int(found[1]), int(found[2])
    proven = (found[4].casefold() == domain.casefold()
              and signer.verify(MESSAGE_ID, f"{number}:{subscriber_id}:{domain.casefold()}", found[3]))
    return Sent(number, subscriber_id, proven)


@dataclass(frozen=True)
class _Template:
    """One selection's message with the personal parts left out, encoded once."""

    rendered: Rendered
    head: bytes  # MIME-Version, Content-Type, and the text part's headers
    text: Body
    middle: bytes  # the boundary and the HTML part's headers
    html: Body
    tail: bytes  # the closing boundary
    boundary: str


class Composer:
    """Build each reader's copy of one issue; the shared parts are computed once.

    ``rendered`` is a ``Renderer`` (each reader gets the sections they chose) or one
    ``Rendered`` that every reader gets.
    """

    def __init__(self, config: Config, *, number: int, subject: str, rendered: Rendered | Renderer,
                 signer: Signer, date: datetime) -> None:
        self.config = config
        self.number = number
        self.subject = clean(subject)
        self.rendered = rendered
        self.signer = signer
        name, self.address = sender_address(config)
        self.domain = self.address.rsplit("@", 1)[1]
        self.sender_name = clean(name or config.newsletter.title)
        self.sender = Mailbox(self.sender_name, self.address)
        self.date = format_datetime(date)
        self.base_url = config.newsletter.base_url.rstrip("/")
        slug = re.sub(r"[^a-z0-9]+", "-", config.newsletter.title.casefold()).strip("-") or "newsletter"
        list_id = Mailbox(config.newsletter.title, f"{slug}.{self.domain}")  # a phrase and <id>, like a mailbox
        self.list_id = str(list_id)
        self.reply_to = clean(config.newsletter.reply_to)
        reply_name, reply_address = parseaddr(self.reply_to)
        reply_to = Mailbox(reply_name, reply_address) if "@" in reply_address else self.reply_to
        self._by_choice: dict[tuple[str, ...], _Template] = {}
        self._by_selection: dict[tuple[str, ...], _Template] = {}
        self._lock = threading.Lock()
        self._shared = [header("From", self.sender), header("Subject", self.subject), header("Date", self.date)]
        self._lists = (header("Reply-To", reply_to) if self.reply_to else b"") + header("List-Id", list_id)
        self._post = header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        self._mailto = f"<mailto:{self.address}?subject=unsubscribe>"
        # Message-IDs and unsubscribe links are made of these and of URL-safe tokens only.
        self._ascii = all(re.fullmatch(r"[!-~]+", v) for v in (self.base_url, self.domain, self._mailto))

    def message_id(self, recipient: Recipient) -> str:
        """Return the stable Message-ID of this issue for this reader."""
        return message_id(self.signer, self.number, recipient.id, self.domain)

    def links(self, recipient: Recipient) -> dict[str, str]:
        """Return the reader's unsubscribe and preferences URLs."""
        token = self.signer.sign(UNSUBSCRIBE, recipient.id)
        return {
            "unsubscribe_url": f"{self.base_url}/unsubscribe/{token}",
            "preferences_url": f"{self.base_url}/preferences/{token}",
        }

    def personal(self, recipient: Recipient) -> dict[str, str]:
        """Return the values that differ per reader: greeting, address and links."""
        name = clean(recipient.name)
        n = self.config.newsletter
        return {"greeting": n.greeting.format(name=name) if name else n.greeting_anonymous,
                "email": recipient.email, **self.links(recipient)}

    def rendered_for(self, recipient: Recipient) -> Rendered:
        """Return the issue as rendered for this reader's section choice."""
        return self._template(recipient.sections).rendered

    def boundary(self, recipient: Recipient) -> str:
        """Return the MIME boundary of this reader's message (one per section selection)."""
        return self._template(recipient.sections).boundary

    def build(self, recipient: Recipient, *, subject_prefix: str = "") -> bytes:
        """Return the reader's message as bytes ready for SMTP."""
        template = self._template(recipient.sections)
        values = self.personal(recipient)
        plain = {name: quoted_printable(value) for name, value in values.items()}
        escaped = {name: plain[name] if (e := html.escape(value)) == value else quoted_printable(e)
                   for name, value in values.items()}
        subject = self._shared[1] if not subject_prefix else header("Subject", subject_prefix + self.subject)
        return b"".join((
            self._shared[0],
            header("To", Mailbox(recipient.name, recipient.email)),
            subject,
            self._shared[2],
            self._line("Message-ID", self.message_id(recipient)),
            self._lists,
            self._line("List-Unsubscribe", f"<{values['unsubscribe_url']}>,", self._mailto),
            self._post,
            template.head, template.text.fill(plain),
            template.middle, template.html.fill(escaped),
            template.tail,
        ))

    def _line(self, name: str, value: str, then: str = "") -> bytes:
        """Return a header line of our own printable-ASCII making, folded as ``header`` would fold it."""
        if not self._ascii:
            return header(name, f"{value} {then}" if then else value)
        line = f"{name}: {value}"
        if then:
            line += ("\r\n " if len(line) + 1 + len(then) > 78 else " ") + then
        return (line + CRLF).encode("ascii")

    def _template(self, chosen: tuple[str, ...]) -> _Template:
        template = self._by_choice.get(chosen)
        if template is not None:
            return template
        with self._lock:  # delivery builds from several threads: render and encode each selection once
            if isinstance(self.rendered, Renderer):
                key = self.rendered.selection(chosen)
                rendered = self.rendered.render(chosen)
            else:
                key, rendered = (), self.rendered
            template = self._by_selection.get(key) or self._encode(rendered, key)
            self._by_selection[key] = self._by_choice[chosen] = template
        return template

    def _encode(self, rendered: Rendered, key: tuple[str, ...]) -> _Template:
        # "=_" never occurs in quoted-printable text, so this boundary cannot clash with content.
        boundary = "=_" + hashlib.sha256(f"{self.number}:{key}:{self.domain}".encode()).hexdigest()[:24]

        def part(subtype: str) -> str:
            return (f"--{boundary}{CRLF}Content-Type: text/{subtype}; charset=\"utf-8\"{CRLF}"
                    f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}")

        head = f"MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative; boundary=\"{boundary}\"{CRLF}{CRLF}"
        return _Template(
            rendered=rendered,
            head=(head + part("plain")).encode("ascii"),
            text=Body(_ends_with_newline(rendered.text), rendered.placeholders),
            middle=(CRLF + part("html")).encode("ascii"),
            html=Body(_ends_with_newline(rendered.html), rendered.placeholders, transform=html.escape),
            tail=f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
            boundary=boundary,
        )


def _ends_with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def confirmation(config: Config, *, email: str, name: str = "", confirm_url: str,
                 date: datetime, sections: tuple[str, ...] = ()) -> bytes:
    """Return the double opt-in email asking ``email`` to confirm with ``confirm_url``.

    Rendered from ``confirm.mjml`` and ``confirm.txt`` (user templates first); the
    text template sets the subject with ``{% set subject = … %}``.
    """
    data = {"email": email, "name": clean(name), "confirm_url": confirm_url, "sections": list(sections)}
    markup = htmlmail.compile(render_template(config, "confirm.mjml", data)[0], name="confirm.mjml")
    text, exported = render_template(config, "confirm.txt", data)
    subject = str(exported.get("subject") or f"Confirm your subscription to {config.newsletter.title}")
    sender_name, address = sender_address(config)
    head = b"".join((  # the same header builder as every issue's
        header("From", Mailbox(sender_name or config.newsletter.title, address)),
        header("To", Mailbox(name, email)),
        header("Subject", subject),
        header("Date", format_datetime(date)),
        header("Message-ID", make_msgid("confirm", domain=address.rsplit("@", 1)[1])),
        header("Auto-Submitted", "auto-generated"),
    ))
    body = EmailMessage(policy=SMTP)  # MIME-Version, Content-Type and the two parts
    body.set_content(re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", subtype="plain", charset="utf-8",
                     cte="quoted-printable")
    body.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    body.set_boundary("=_" + hashlib.sha256(f"{email}:{confirm_url}".encode()).hexdigest()[:24])
    return head + body.as_bytes(policy=SMTP)
