"""Signed tokens for the links in every email (unsubscribe, preferences)."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from newsletter.error import SubscriberError

UNSUBSCRIBE = "unsubscribe"


class Signer:
    """Sign and check subscriber tokens with the newsletter's secret key."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="newsletter")

    def sign(self, purpose: str, subscriber_id: int) -> str:
        """Return a token that names ``subscriber_id`` for ``purpose``."""
        return self._serializer.dumps([purpose, subscriber_id])

    def check(self, purpose: str, token: str) -> int:
        """Return the subscriber id in ``token``, or raise SubscriberError if it was tampered with."""
        try:
            kind, subscriber_id = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError) as e:
            raise SubscriberError("invalid or tampered link") from e
        if kind != purpose or not isinstance(subscriber_id, int):
            raise SubscriberError("invalid or tampered link")
        return subscriber_id
