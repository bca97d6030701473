"""The straightforward message builder, the oracle that ``Composer.build`` is held to.

The tests and ``bench/personalise.py`` build each reader's message again here with the
standard library's ``EmailMessage``, from the Composer's public parts only, and compare:
a difference is a bug in one of the two.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from newsletter.email.message import Composer, Recipient
from newsletter.email.mime import clean
from newsletter.email.render import personalise


def build_reference(composer: Composer, recipient: Recipient, *, subject_prefix: str = "") -> bytes:
    """Return the reader's message built the straightforward way, with ``EmailMessage``."""
    values = composer.personal(recipient)
    parts = personalise(composer.rendered_for(recipient), values)
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(composer.sender_name, addr_spec=composer.address)
    message["To"] = Address(clean(recipient.name), addr_spec=recipient.email)
    message["Subject"] = subject_prefix + composer.subject_for(recipient)
    message["Date"] = composer.date
    message["Message-ID"] = composer.message_id(recipient)
    if composer.reply_to:
        message["Reply-To"] = composer.reply_to
    message["List-Id"] = composer.list_id
    message["List-Unsubscribe"] = f"<{values['unsubscribe_url']}>, <mailto:{composer.address}?subject=unsubscribe>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(parts.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(parts.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.set_boundary(composer.boundary(recipient))
    message["Content-Language"] = composer.language(recipient)  # after the parts: it is the whole message's
    return message.as_bytes(policy=SMTP)
