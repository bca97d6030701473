"""Talk to the SMTP server: parse its URL, open a session, hand over messages."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from newsletter.error import ConfigError, SmtpError

SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


@dataclass(frozen=True)
class SmtpUrl:
    """Where and how to connect: host, port, security and optional credentials."""

    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        scheme = {v[1]: k for k, v in SCHEMES.items()}[self.security]
        return f"{scheme}://{self.host}:{self.port}"


def parse_url(url: str, *, where: str = "SMTP URL") -> SmtpUrl:
    """Return the parts of ``smtp://user:pass@host:port`` (also ``smtp+starttls``, ``smtps``)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            f"{where}: scheme must be one of {', '.join(SCHEMES)}, got {url.split(':')[0]!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port in {_redact(url)!r}") from None
    if not parts.hostname:
        raise ConfigError(f"{where}: missing host in {_redact(url)!r}")
    default_port, security = SCHEMES[parts.scheme]
    return SmtpUrl(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


class Refused(SmtpError):
    """The server answered a recipient or the message with an error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message

    @property
    def permanent(self) -> bool:
        """Return whether retrying cannot help (a 5xx answer)."""
        return 500 <= self.code < 600


class Connection:
    """One SMTP session that sends raw messages; reconnects lazily after a drop."""

    def __init__(self, url: SmtpUrl, *, timeout: float = 30.0, local_hostname: str | None = None):
        self.url = url
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect, secure and authenticate, or raise SmtpError naming the server."""
        if self._smtp is not None:
            return
        url = self.url
        try:
            if url.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    url.host, url.port, timeout=self.timeout, local_hostname=self.local_hostname,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    url.host, url.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
            smtp.ehlo_or_helo_if_needed()
            if url.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if url.username:
                smtp.login(url.username, url.password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise SmtpError(f"SMTP server {url} rejected the login for {url.username!r}: {_text(e)}") from e
        except (OSError, smtplib.SMTPException) as e:
            raise SmtpError(f"cannot connect to SMTP server {url}: {_reason(e)}") from e
        self._smtp = smtp

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        """Send one message to one recipient.

        Raises ``Refused`` when the server answers with an error code and ``SmtpError``
        when the connection is lost (the connection is then closed and reopens on next use).
        """
        self.open()
        assert self._smtp is not None
        try:
            refused = self._smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
            self._reset()
            raise Refused(code, _decode(text)) from e
        except smtplib.SMTPResponseException as e:
            self._reset()
            if isinstance(e, smtplib.SMTPServerDisconnected):
                self.close()
                raise SmtpError(f"SMTP server {self.url} dropped the connection") from e
            raise Refused(e.smtp_code, _decode(e.smtp_error)) from e
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            self.close()
            raise SmtpError(f"connection to SMTP server {self.url} lost: {_reason(e)}") from e
        except smtplib.SMTPException as e:
            self._reset()
            raise Refused(451, str(e)) from e
        if refused:
            code, text = next(iter(refused.values()))
            raise Refused(code, _decode(text))

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Say QUIT if possible and forget the session."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            try:
                smtp.close()
            except OSError:
                pass

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _text(e: smtplib.SMTPResponseException) -> str:
    return f"{e.smtp_code} {_decode(e.smtp_error)}"


def _reason(e: BaseException) -> str:
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.gaierror):
        return f"unknown host ({e.strerror})"
    if isinstance(e, smtplib.SMTPResponseException):
        return _text(e)
    return str(e) or type(e).__name__
