"""Messages: one multipart/alternative email per reader, with list headers (RFC 2369, 8058).

``Composer.build`` is the fast path: per distinct copy (language, section selection) the
issue is rendered once and its MIME body encoded once (see ``mime.Body``), with the
copy's own subject and ``Content-Language``; per reader only the personal values and a
few header lines are encoded and joined in. One-off mails to one reader (the
confirmation, the welcome) are built in ``notice``.
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
from email.utils import format_datetime, parseaddr

from newsletter.config import Config
from newsletter.email.mime import (
    CRLF,
    Body,
    NamedAddress,
    clean,
    header,
    quoted_printable,
)
from newsletter.email.personal import greeting
from newsletter.email.render import Rendered, Renderer
from newsletter.error import ConfigError
from newsletter.tokens import DIGEST_LENGTH, MESSAGE_ID, UNSUBSCRIBE, Signer

# Re-exported: other modules import the header helpers from here.
__all__ = ["Composer", "Recipient", "Sent", "header", "message_id", "read_message_id", "reader_links",
           "sender_address"]


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, the sections they chose (empty: every section) and their language (empty: ours)."""

    id: int
    email: str
    name: str = ""
    sections: tuple[str, ...] = ()
    language: str = ""


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


def reader_links(signer: Signer, base_url: str, subscriber_id: int) -> dict[str, str]:
    """Return a reader's unsubscribe and preferences URLs (one permanent token for both)."""
    token = signer.sign(UNSUBSCRIBE, subscriber_id)
    base = base_url.rstrip("/")
    return {"unsubscribe_url": f"{base}/unsubscribe/{token}", "preferences_url": f"{base}/preferences/{token}"}


@dataclass(frozen=True)
class _Template:
    """One copy's message with the personal parts left out, encoded once."""

    rendered: Rendered
    subject: str
    language: str
    subject_line: bytes  # the Subject header
    head: bytes  # MIME-Version, Content-Type, Content-Language, and the text part's headers
    text: Body
    middle: bytes  # the boundary and the HTML part's headers
    html: Body
    tail: bytes  # the closing boundary
    boundary: str


class Composer:
    """Build each reader's copy of one issue; the shared parts are computed once.

    ``rendered`` is a ``Renderer`` (each reader gets the copy of their language and the
    sections they chose) or one ``Rendered`` that every reader gets. ``subject`` is the
    issue's; each copy from a Renderer has its own.
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
        self.sender = NamedAddress(self.sender_name, self.address)
        self.date = format_datetime(date)
        self.base_url = config.newsletter.base_url.rstrip("/")
        slug = re.sub(r"[^a-z0-9]+", "-", config.newsletter.title.casefold()).strip("-") or "newsletter"
        list_id = NamedAddress(config.newsletter.title, f"{slug}.{self.domain}")  # a phrase and <id>, like a mailbox
        self.list_id = str(list_id)
        self.reply_to = clean(config.newsletter.reply_to)
        reply_name, reply_address = parseaddr(self.reply_to)
        reply_to = NamedAddress(reply_name, reply_address) if "@" in reply_address else self.reply_to
        self._by_choice: dict[tuple[str, tuple[str, ...]], _Template] = {}
        self._by_copy: dict[tuple[str, tuple[str, ...]], _Template] = {}
        self._lock = threading.Lock()
        self._shared = [header("From", self.sender), header("Date", self.date)]
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
        return reader_links(self.signer, self.base_url, recipient.id)

    def language(self, recipient: Recipient) -> str:
        """Return the language of this reader's copy."""
        return self._template(recipient.sections, recipient.language).language

    def personal(self, recipient: Recipient) -> dict[str, str]:
        """Return the values that differ per reader: greeting (in their language), address and links."""
        return {"greeting": greeting(self.config.newsletter, clean(recipient.name), self.language(recipient)),
                "email": recipient.email, **self.links(recipient)}

    def rendered_for(self, recipient: Recipient) -> Rendered:
        """Return the issue as rendered for this reader's language and section choice."""
        return self._template(recipient.sections, recipient.language).rendered

    def subject_for(self, recipient: Recipient) -> str:
        """Return the subject of this reader's copy."""
        return self._template(recipient.sections, recipient.language).subject

    def boundary(self, recipient: Recipient) -> str:
        """Return the MIME boundary of this reader's message (one per copy)."""
        return self._template(recipient.sections, recipient.language).boundary

    def build(self, recipient: Recipient, *, subject_prefix: str = "") -> bytes:
        """Return the reader's message as bytes ready for SMTP."""
        template = self._template(recipient.sections, recipient.language)
        values = self.personal(recipient)
        plain = {name: quoted_printable(value) for name, value in values.items()}
        escaped = {name: plain[name] if (e := html.escape(value)) == value else quoted_printable(e)
                   for name, value in values.items()}
        subject = template.subject_line if not subject_prefix else header("Subject", subject_prefix + template.subject)
        return b"".join((
            self._shared[0],
            header("To", NamedAddress(recipient.name, recipient.email)),
            subject,
            self._shared[1],
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

    def _template(self, chosen: tuple[str, ...], language: str = "") -> _Template:
        template = self._by_choice.get((language, chosen))
        if template is not None:
            return template
        with self._lock:  # delivery builds from several threads: render and encode each copy once
            if isinstance(self.rendered, Renderer):
                key = self.rendered.key(chosen, language)
                rendered = self.rendered.render(chosen, language)
            else:
                rendered = self.rendered
                key = (rendered.language or self.config.newsletter.language, ())
            template = self._by_copy.get(key) or self._encode(rendered, key)
            self._by_copy[key] = self._by_choice[language, chosen] = template
        return template

    def _encode(self, rendered: Rendered, key: tuple[str, tuple[str, ...]]) -> _Template:
        # "=_" never occurs in quoted-printable text, so this boundary cannot clash with content.
        boundary = "=_" + hashlib.sha256(f"{self.number}:{key}:{self.domain}".encode()).hexdigest()[:24]
        language, subject = key[0], clean(rendered.subject) or self.subject

        def part(subtype: str) -> str:
            return (f"--{boundary}{CRLF}Content-Type: text/{subtype}; charset=\"utf-8\"{CRLF}"
                    f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}")

        head = (f"MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative; boundary=\"{boundary}\"{CRLF}"
                f"Content-Language: {language}{CRLF}{CRLF}")
        return _Template(
            rendered=rendered, subject=subject, language=language, subject_line=header("Subject", subject),
            head=(head + part("plain")).encode("ascii"),
            text=Body(_ends_with_newline(rendered.text), rendered.placeholders),
            middle=(CRLF + part("html")).encode("ascii"),
            html=Body(_ends_with_newline(rendered.html), rendered.placeholders, transform=html.escape),
            tail=f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
            boundary=boundary,
        )


def _ends_with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"

