"""Standard Webhooks signatures: ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

A secret is written ``whsec_`` and the base64 of 24 to 64 random bytes; the HMAC key is
those bytes. A webhook with no secret configured gets one derived from the newsletter's
secret key and its URL, so each endpoint has its own (``newsletter webhooks secret``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
TOLERANCE = 300  # seconds a receiver accepts between the timestamp and its clock (the spec's 5 minutes)


def key_of(secret: str) -> bytes:
    """Return the HMAC key a ``whsec_`` secret holds, or b"" when it is not one."""
    if not secret.startswith(PREFIX):
        return b""
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return b""


def new_secret() -> str:
    """Return a fresh random secret (32 bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def derived_secret(secret_key: str, url: str) -> str:
    """Return the secret of a webhook that has none configured: a keyed hash of its URL (32 bytes)."""
    mac = hmac.new(secret_key.encode(), f"webhook-secret\n{url}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b64encode(mac).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header value for one attempt."""
    mac = hmac.new(key_of(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float) -> bool:
    """Return whether ``headers`` carry a valid signature of ``body`` made within ``TOLERANCE`` of ``now``.

    What a receiver does; the tests' receiver uses it. Header names are lower case.
    """
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE:
        return False
    expected = sign(secret, msg_id, int(stamp), body).encode()
    return any(hmac.compare_digest(expected, given.encode()) for given in headers.get("webhook-signature", "").split())
