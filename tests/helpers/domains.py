"""A well-run sending domain for the doctor's tests: DKIM keys, the zones of example.org, a config that asks them.

``zones`` serve through ``helpers.dnsserver``; ``configure`` writes a newsletter whose
``[dns] nameserver`` is that server and whose ``[dkim]`` key is one of ``rsa_key`` or
``ed25519_key``.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from helpers.newsletters import write_config
from newsletter.email.dkim import Dkim


def txt(value: str) -> str:
    """A TXT record's data in zone-file form, split into strings of at most 255 characters."""
    return " ".join(f'"{value[i:i + 255]}"' for i in range(0, len(value), 255))


def rsa_key(folder: Path, name: str = "dkim.pem") -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / name
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def ed25519_key(folder: Path, name: str = "dkim.ed25519") -> Path:
    seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    path = folder / name
    path.write_bytes(base64.b64encode(seed))
    return path


def zones(dkim: Dkim, /, **change: str) -> dict[str, str]:
    """A well-run example.org (SPF with one include, DKIM, DMARC, MX), with any record replaced."""
    records_ = {
        "spf": f'example.org. IN TXT {txt("v=spf1 ip4:192.0.2.1 include:_spf.relay.example.net ~all")}',
        "other": 'example.org. IN TXT "google-site-verification=abc"',
        "mx": "example.org. IN MX 10 mail.example.org.",
        "dkim": f"{dkim.selector}._domainkey.example.org. IN TXT {txt(dkim.public)}",
        "dmarc": f'_dmarc.example.org. IN TXT {txt("v=DMARC1; p=quarantine; adkim=r; rua=mailto:d@example.org")}',
    }
    records_.update(change)
    return {
        "example.org.": "\n".join(line for line in records_.values() if line),
        "relay.example.net.": f'_spf.relay.example.net. IN TXT {txt("v=spf1 ip4:198.51.100.0/24 -all")}',
    }


def configure(folder: Path, smtp_url: str, nameserver: str, *, key: Path | None, base_url: str = "",
              dkim_domain: str = "example.org") -> None:
    extra = f'\n[dns]\nnameserver = "{nameserver}"\ntimeout = 2\n'
    if key is not None:
        extra += f'\n[dkim]\nselector = "brief"\ndomain = "{dkim_domain}"\nkey_file = "{key.name}"\n'
    write_config(folder, smtp_url=smtp_url, sources=[{"path": "inbox"}], extra=extra)
    if base_url:
        text = (folder / "newsletter.toml").read_text()
        (folder / "newsletter.toml").write_text(text.replace('"https://news.example.org"', f'"{base_url}"'))
