"""DKIM signing (dkimpy): RSA or Ed25519 keys, configured by selector, domain and key file."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from newsletter.error import ConfigError, NewsletterError

# Everything a reader or a filter relies on; RFC 8058 wants both List-Unsubscribe fields signed.
HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
           "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID")


class SigningError(NewsletterError):
    """A message could not be signed."""


@dataclass(frozen=True)
class Dkim:
    """Sign messages for ``domain`` with the key published at ``selector._domainkey.domain``."""

    selector: str
    domain: str
    algorithm: str  # rsa-sha256 | ed25519-sha256
    key: bytes  # as dkimpy takes it: PKCS#1 PEM for RSA, the base64 seed for Ed25519
    public: str  # the DNS TXT record to publish

    @classmethod
    def load(cls, selector: str, domain: str, key_file: Path) -> Dkim:
        """Read an RSA (PEM) or Ed25519 (PEM, or dknewkey's base64 seed) private key, or raise ConfigError."""
        try:
            data = key_file.read_bytes()
        except OSError as e:
            raise ConfigError(f"dkim.key_file: cannot read {key_file}: {e.strerror or e}") from e
        try:
            algorithm, key, public = _parse(data)
        except ValueError as e:
            raise ConfigError(f"dkim.key_file: {key_file} is not an RSA or Ed25519 private key ({e})") from e
        return cls(selector, domain, algorithm, key, public)

    def sign(self, message: bytes) -> bytes:
        """Return ``message`` with a DKIM-Signature header on top."""
        # A heavy edge: dkimpy loads a DNS resolver (35 ms) that only signed sends need.
        import dkim as dkimpy

        try:
            signature = dkimpy.sign(
                message, self.selector.encode(), self.domain.encode(), self.key,
                canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=self.algorithm.encode(),
                include_headers=[h.lower().encode() for h in HEADERS],
            )
        except dkimpy.DKIMException as e:
            raise SigningError(f"cannot DKIM-sign for {self.domain}: {e}") from e
        return signature + message


def _parse(data: bytes) -> tuple[str, bytes, str]:
    """Return (algorithm, key for dkimpy, DNS record) for a private key file's contents."""

    raw = serialization.Encoding.Raw
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (TypeError, ValueError) as e:
            raise ValueError(str(e).splitlines()[0] if str(e) else "unreadable PEM") from e
    else:
        seed = base64.b64decode(data.strip(), validate=True) if data.strip() else b""
        if len(seed) != 32:
            raise ValueError("neither PEM nor a base64 32-byte Ed25519 seed")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    if isinstance(key, rsa.RSAPrivateKey):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa-sha256", pem, f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        seed = key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        public = key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
        return "ed25519-sha256", base64.b64encode(seed), f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def load(selector: str, domain: str, key_file: str, root: Path) -> Dkim | None:
    """Return the signer the ``[dkim]`` settings describe, or None when signing is off."""
    if not key_file:
        return None
    return Dkim.load(selector, domain, root / key_file)
