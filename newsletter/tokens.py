"""Signed tokens for the links in every email (unsubscribe, preferences) and for confirmation links.

Two kinds: ``sign``/``check`` make tokens that never expire (the unsubscribe and
preferences links already sit in readers' inboxes, so their format must not
change); ``sign_expiring``/``check_expiring`` make tokens that carry the moment
they were issued, for links that must stop working (double opt-in confirmation).
``digest``/``verify`` make short keyed digests (HMAC-SHA256) that prove a value was
made with the secret key, such as the digest in every issue's Message-ID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from newsletter.error import SubscriberError

UNSUBSCRIBE = "unsubscribe"
CONFIRM = "confirm"
MESSAGE_ID = "message-id"
DIGEST_LENGTH = 26  # characters: 16 bytes (128 bits) of HMAC-SHA256 in lower-case base32


class LinkError(SubscriberError):
    """A link's token is tampered with, meant for something else, or expired."""


@dataclass(frozen=True)
class Issued:
    """What an expiring token names: a subscriber, and when the token was made (aware UTC)."""

    subscriber_id: int
    issued_at: datetime


class Signer:
    """Sign and check subscriber tokens with the newsletter's secret key."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="newsletter")
        # A different salt: an expiring token can never pass for a permanent one, nor the reverse.
        self._expiring = URLSafeSerializer(secret, salt="newsletter-expiring")
        # A key of its own for digests, derived so that no digest can pass for a token's signature.
        self._digest_key = hmac.new(secret.encode(), b"newsletter-digest", hashlib.sha256).digest()

    def digest(self, purpose: str, text: str) -> str:
        """Return a keyed digest of ``text`` for ``purpose``: 26 characters of [a-z2-7], unforgeable without the key."""
        mac = hmac.new(self._digest_key, f"{purpose}\n{text}".encode(), hashlib.sha256).digest()[:16]
        return base64.b32encode(mac).decode("ascii").rstrip("=").lower()

    def verify(self, purpose: str, text: str, digest: str) -> bool:
        """Return whether ``digest`` is the one ``digest(purpose, text)`` makes (compared in constant time)."""
        given = digest.lower().encode("utf-8", "backslashreplace")  # bytes: any text compares, none raises
        return hmac.compare_digest(self.digest(purpose, text).encode("ascii"), given)

    def sign(self, purpose: str, subscriber_id: int) -> str:
        """Return a token that names ``subscriber_id`` for ``purpose``."""
        return self._serializer.dumps([purpose, subscriber_id])

    def check(self, purpose: str, token: str) -> int:
        """Return the subscriber id in ``token``, or raise LinkError if it was tampered with."""
        try:
            kind, subscriber_id = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError) as e:
            raise LinkError("invalid or tampered link") from e
        if kind != purpose or not isinstance(subscriber_id, int) or isinstance(subscriber_id, bool):
            raise LinkError("invalid or tampered link")
        return subscriber_id

    def sign_expiring(self, purpose: str, subscriber_id: int, issued_at: datetime) -> str:
        """Return a token naming ``subscriber_id`` for ``purpose`` that records ``issued_at``."""
        return self._expiring.dumps([purpose, subscriber_id, _millis(issued_at)])

    def check_expiring(self, purpose: str, token: str, *, now: datetime, max_age: timedelta) -> Issued:
        """Return what ``token`` names, or raise LinkError if it is tampered with or older than ``max_age``.

        ``now`` comes from the caller's clock, so expiry is testable without waiting.
        """
        try:
            kind, subscriber_id, millis = self._expiring.loads(token)
        except (BadSignature, ValueError, TypeError) as e:
            raise LinkError("invalid or tampered link") from e
        if kind != purpose or not all(isinstance(v, int) and not isinstance(v, bool) for v in (subscriber_id, millis)):
            raise LinkError("invalid or tampered link")
        issued = datetime.fromtimestamp(millis / 1000, UTC)
        if _aware(now) - issued > max_age:
            raise LinkError("this link has expired; sign up again to get a new one")
        return Issued(subscriber_id, issued)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _millis(moment: datetime) -> int:
    return int(_aware(moment).timestamp() * 1000)
