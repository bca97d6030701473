"""Settings of what surrounds a send: DKIM, DNS for the checks, bounces, click counts, metrics, webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.settings.declare import setting


@dataclass(frozen=True)
class DkimSettings:
    selector: str = setting("", "DKIM selector: the key is published at <selector>._domainkey.<domain>.")
    domain: str = setting("", "Signing domain (d=), usually the From address's domain.")
    key_file: str = setting(
        "", "RSA or Ed25519 private key (PEM, or dknewkey's base64 file), relative to the config; empty: no DKIM."
    )


@dataclass(frozen=True)
class DnsSettings:
    nameserver: str = setting(
        "", "DNS server `newsletter doctor` asks: a host name or IP address, with :port if not 53 (split horizon, "
        "tests); empty: the system's."
    )
    timeout: float = setting(5.0, "Seconds to wait for one DNS answer before the check fails.")


@dataclass(frozen=True)
class BouncesSettings:
    imap_url: str = setting(
        "", "Bounce mailbox that `newsletter bounces --imap` reads and `newsletter run` polls: "
        "imaps://user:pass@host/INBOX, imap+starttls://… or imap://… (prefer NEWSLETTER_IMAP_URL); empty: none."
    )
    imap_folder: str = setting(
        "Processed", "Folder each message read from the bounce mailbox is moved to (made if missing)."
    )
    poll_minutes: float = setting(
        10.0, "Minutes between two readings of the bounce mailbox by `newsletter run`; 0: never."
    )
    timeout: float = setting(
        30.0, "Seconds to wait for the IMAP server, or for Amazon SNS's certificate and confirmation link."
    )
    ca_file: str = setting(
        "", "PEM file of CA certificates to trust instead of the system's (a private IMAP server or test setup)."
    )
    max_age: float = setting(
        900.0, "Seconds a signed webhook stays believable: one signed earlier is refused as a replay."
    )
    ses_topics: list[str] = setting(
        [], "Amazon SNS topic ARNs whose SES notifications /bounces/ses accepts; empty: it accepts none."
    )
    sns_cert_hosts: list[str] = setting(
        ["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"],
        "Hosts SNS signing certificates and subscription links may come from (https only); * stands for a region.",
    )
    mailgun_key: str = setting(
        "", "Mailgun's HTTP webhook signing key for /bounces/mailgun (prefer NEWSLETTER_MAILGUN_KEY); empty: off."
    )
    postmark_user: str = setting("", "User name of the basic auth in the /bounces/postmark webhook's address.")
    postmark_password: str = setting(
        "", "Password of that basic auth (prefer NEWSLETTER_POSTMARK_PASSWORD); empty: /bounces/postmark is off."
    )
    sendgrid_key: str = setting(
        "", "SendGrid's signed event webhook verification key (base64, as SendGrid shows it); empty: "
        "/bounces/sendgrid is off."
    )


@dataclass(frozen=True)
class TrackingSettings:
    clicks: bool = setting(
        False, "Count clicks on the items' links, per issue and item, without telling readers apart: links go "
        "through base_url/r/…; no open-tracking pixel, ever."
    )
    scanner_seconds: float = setting(
        60.0, "Clicks while an issue is being delivered and this many seconds after its last message are "
        "counted apart, as mail scanners' fetches."
    )


@dataclass(frozen=True)
class MetricsSettings:
    token: str = setting(
        "", "Bearer token for /metrics (prefer NEWSLETTER_METRICS_TOKEN); empty: the admin token opens it."
    )
    textfile: str = setting(
        "", "File (.prom) `newsletter run` rewrites after every tick with the same figures, for node_exporter's "
        "textfile collector; empty: none."
    )


@dataclass(frozen=True)
class WebhookSettings:
    url: str = setting("", "Address (http or https) each event is POSTed to.")
    events: list[str] = setting(
        [], "Events sent there: subscriber.created, subscriber.confirmed, subscriber.unsubscribed, "
        "subscriber.bounced, subscriber.complained, issue.sent; empty: all."
    )
    secret: str = setting(
        "", "Signing secret (whsec_ and base64 of 24 to 64 bytes); empty: one derived from the secret key "
        "(`newsletter webhooks secret` shows it)."
    )
