"""Messages: one multipart/alternative email per reader, with list headers (RFC 2369, 8058)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr

from newsletter.config import Config
from newsletter.error import ConfigError
from newsletter.render import Rendered, personalise
from newsletter.tokens import UNSUBSCRIBE, Signer

CRLF = "\r\n"


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to."""

    id: int
    email: str
    name: str = ""


def sender_address(config: Config) -> tuple[str, str]:
    """Return ``(display name, address)`` of the From setting, or raise ConfigError."""
    name, address = parseaddr(config.newsletter.sender)
    if "@" not in address:
        raise ConfigError(f"newsletter.from: not an email address: {config.newsletter.sender!r}")
    return name, address


def _clean(value: str) -> str:
    """Return a header value on one line: no CR, LF or other controls can inject headers."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


class Composer:
    """Build each reader's copy of one issue; the shared parts are computed once."""

    def __init__(self, config: Config, *, number: int, subject: str, rendered: Rendered,
                 signer: Signer, date: datetime) -> None:
        self.config = config
        self.number = number
        self.subject = _clean(subject)
        self.rendered = rendered
        self.signer = signer
        name, self.address = sender_address(config)
        self.domain = self.address.rsplit("@", 1)[1]
        self.sender = _mailbox(_clean(name or config.newsletter.title), self.address)
        self.date = format_datetime(date)
        self.base_url = config.newsletter.base_url.rstrip("/")
        slug = re.sub(r"[^a-z0-9]+", "-", config.newsletter.title.casefold()).strip("-") or "newsletter"
        self.list_id = f"{_clean(config.newsletter.title)} <{slug}.{self.domain}>"

    def message_id(self, recipient: Recipient) -> str:
        """Return the stable Message-ID of this issue for this reader."""
        digest = hashlib.sha256(f"{self.number}:{recipient.id}:{self.domain}".encode()).hexdigest()[:12]
        return f"<issue{self.number}.r{recipient.id}.{digest}@{self.domain}>"

    def links(self, recipient: Recipient) -> dict[str, str]:
        """Return the reader's unsubscribe and preferences URLs."""
        token = self.signer.sign(UNSUBSCRIBE, recipient.id)
        return {
            "unsubscribe_url": f"{self.base_url}/unsubscribe/{token}",
            "preferences_url": f"{self.base_url}/preferences/{token}",
        }

    def build(self, recipient: Recipient, *, subject_prefix: str = "") -> bytes:
        """Return the reader's message as bytes ready for SMTP."""
        links = self.links(recipient)
        name = _clean(recipient.name)
        parts = personalise(self.rendered, {
            "greeting": f"Hello {name}," if name else "Hello,",
            "email": recipient.email,
            **links,
        })
        message_id = self.message_id(recipient)
        headers = [
            ("From", self.sender),
            ("To", _mailbox(name, recipient.email)),
            ("Subject", subject_prefix + self.subject),
            ("Date", self.date),
            ("Message-ID", message_id),
        ]
        if self.config.newsletter.reply_to:
            headers.append(("Reply-To", _clean(self.config.newsletter.reply_to)))
        headers += [
            ("List-Id", self.list_id),
            ("List-Unsubscribe", f"<{links['unsubscribe_url']}>, <mailto:{self.address}?subject=unsubscribe>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        body = EmailMessage(policy=SMTP)
        body.set_content(parts.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        body.add_alternative(parts.html, subtype="html", charset="utf-8", cte="quoted-printable")
        # "=_" never occurs in quoted-printable text, so this boundary cannot clash with content.
        body.set_boundary("=_" + hashlib.sha256(message_id.encode()).hexdigest()[:24])
        return b"".join(header(n, v) for n, v in headers) + body.as_bytes(policy=SMTP)


def header(name: str, value: str) -> bytes:
    """Return one header line, RFC 2047-encoded if not ASCII, folded at spaces near 78 columns.

    The email package would turn a long URL into encoded-words, which breaks
    List-Unsubscribe; ASCII values are therefore folded by hand and never encoded.
    """
    value = _clean(value)
    if not value.isascii():
        return f"{name}: {Header(value, 'utf-8', header_name=name).encode(linesep=CRLF)}{CRLF}".encode("ascii")
    lines: list[str] = []
    line = f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line.strip() and not line.endswith(":"):
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return (CRLF.join(lines) + CRLF).encode("ascii")


def _mailbox(name: str, email: str) -> str:
    """Return ``Name <email>``, the name quoted or encoded as it needs."""
    if not name:
        return email
    if name.isascii():
        return formataddr((name, email))
    return f"{Header(name, 'utf-8').encode()} <{email}>"
