"""Talk to the SMTP server: open a session (TLS, AUTH with a password or an OAuth token), hand over messages.

A session that cannot be opened says why in words, naming the server and what to do
(``newsletter.error``): nothing listening, an unknown host, TLS expected where the
server speaks plain text or the other way round, an untrusted certificate.

A server accepts a message only at its final dot. ``Connection.send`` lets its caller
decide at the last moment before that dot (``ready``), while the envelope is on its way,
whether the message goes: the pool waits there for the previous outcome's commit, so
that wait overlaps the server's answers instead of coming before them.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable

from newsletter.config import SmtpUrl
from newsletter.delivery import oauth
from newsletter.delivery.oauth import Token
from newsletter.error import SmtpError, address, causes, describe


class Refused(SmtpError):
    """The server answered with an error code at one stage of a message (mail, rcpt or data)."""

    def __init__(self, code: int, message: str, stage: str = "data", *, local: bool = False) -> None:
        super().__init__(message if local else f"{code} {message}")
        self.code = code
        self.message = message
        self.stage = stage
        self.local = local  # we refused it ourselves, before asking the server

    @property
    def permanent(self) -> bool:
        """Return whether retrying cannot help (a 5xx answer)."""
        return 500 <= self.code < 600

    @property
    def mailbox(self) -> bool:
        """Return whether the server said the recipient's mailbox is bad (a bounce).

        Only a permanent RCPT answer about the address counts (enhanced status 5.1.x or
        5.2.x, or a bare 550/551/553). A policy refusal (5.7.x: relay denied, login
        required) says nothing about the reader and must never cost them their subscription.
        """
        if self.stage != "rcpt" or not self.permanent or self.local:
            return False
        enhanced = re.match(r"\s*5\.(\d{1,3})\.\d{1,3}\b", self.message)
        if enhanced:
            return enhanced.group(1) in ("1", "2")
        return self.code in (550, 551, 553)


class Dropped(SmtpError):
    """The connection was lost or timed out in the middle of a message; it may or may not have arrived."""


class Withdrawn(SmtpError):
    """The sender took a message back before its end: the session was closed, so the server discarded it."""


class Connection:
    """One SMTP session that sends raw messages; reconnects lazily after a drop.

    With ``pipelining`` (and a server that offers PIPELINING, RFC 2920) the envelope
    (MAIL FROM, RCPT TO, DATA) goes out in one write and its three answers are read
    together, so a message costs two round trips instead of four.
    """

    def __init__(self, url: SmtpUrl, *, timeout: float = 30.0, local_hostname: str | None = None,
                 ca_file: str | None = None, pipelining: bool = True, data_timeout: float = 600.0,
                 token: Token | None = None) -> None:
        self.data_timeout = max(timeout, data_timeout)
        self.url = url
        self.timeout = timeout
        self.local_hostname = local_hostname or socket.gethostname() or "localhost"
        self.ca_file = ca_file
        self.pipelining = pipelining
        self.token = token  # with a token: AUTH XOAUTH2 as the URL's user
        self._smtp: smtplib.SMTP | None = None
        self._pipelined = False

    @property
    def is_open(self) -> bool:
        """Return whether a session is established."""
        return self._smtp is not None

    @property
    def pipelined(self) -> bool:
        """Return whether messages on this session go out pipelined."""
        return self._smtp is not None and self._pipelined

    def _tls(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as e:
            raise SmtpError(f"cannot read CA file {self.ca_file}: {_reason(e)}") from e

    def open(self) -> None:
        """Connect, secure and authenticate, or raise SmtpError naming the server and saying what to do."""
        if self._smtp is not None:
            return
        url = self.url
        smtp: smtplib.SMTP
        try:  # connect, TLS for smtps://, and the server's greeting
            if url.security == "tls":
                smtp = smtplib.SMTP_SSL(url.host, url.port, timeout=self.timeout, local_hostname=self.local_hostname,
                                        context=self._tls())
            else:
                smtp = smtplib.SMTP(url.host, url.port, timeout=self.timeout, local_hostname=self.local_hostname)
        except (OSError, smtplib.SMTPException) as e:
            raise SmtpError(f"cannot connect to SMTP server {url}: {self._explain(e, 'connect')}") from e
        stage = "hello"  # then starttls and auth: what went wrong depends on how far it got
        try:
            smtp.ehlo_or_helo_if_needed()
            if url.security == "starttls":
                stage = "starttls"
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            stage = "auth"
            if self.token is not None:
                self._xoauth2(smtp)
            elif url.username:
                _login(smtp, url.username, url.password or "")
        except smtplib.SMTPAuthenticationError as e:
            smtp.close()
            raise SmtpError(f"SMTP server {url} rejected the login for {url.username!r}: {_text(e)}") from e
        except (OSError, smtplib.SMTPException) as e:
            smtp.close()
            raise SmtpError(f"cannot connect to SMTP server {url}: {self._explain(e, stage)}") from e
        except SmtpError:
            smtp.close()
            raise
        self._smtp = smtp
        self._pipelined = self.pipelining and smtp.has_extn("pipelining")

    def _explain(self, e: BaseException, stage: str) -> str:
        """Return why a session could not be opened, in words: what happened and what to do."""
        url, where = self.url, address(self.url.host, self.url.port)
        if stage == "connect" and isinstance(e, smtplib.SMTPServerDisconnected):  # connected, but no greeting came
            if any(isinstance(c, TimeoutError) for c in causes(e)):
                hint = "" if url.security == "tls" else (
                    "; if it expects TLS from the first byte (as on port 465), use smtps://")
                return f"the server at {where} sent no greeting within {self.timeout:g} s{hint}"
            return f"the server at {where} closed the connection before greeting (is it an SMTP server?)"
        if isinstance(e, smtplib.SMTPConnectError):
            return f"the server at {where} refused the session: {_text(e)}"
        if stage == "starttls" and isinstance(e, smtplib.SMTPNotSupportedError):
            return (f"the server at {where} does not offer STARTTLS; use smtps:// if it speaks TLS from the "
                    "first byte (as on port 465), or smtp:// for a server on a trusted network")
        trust = (f"smtp.ca_file ({self.ca_file}) does not hold the CA that signed it" if self.ca_file else
                 "if the relay uses a private CA, set smtp.ca_file to that CA's certificate")
        said = describe(e, url.host, url.port, not_tls="use smtp+starttls:// or port 465",
                                untrusted=trust, timeout=self.timeout if stage == "connect" else None)
        return said or _reason(e)

    def _xoauth2(self, smtp: smtplib.SMTP) -> None:
        """Authenticate with the OAuth token as the URL's user; a refused token is fetched again, once."""
        assert self.token is not None
        user = self.url.username or ""
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if "XOAUTH2" not in offered:
            raise SmtpError(f"SMTP server {self.url} does not offer AUTH XOAUTH2"
                            + (f" (it offers {' '.join(offered)})" if offered else " (nor any AUTH)"))
        token = self.token.current()
        for attempt in (1, 2):
            said: list[str] = []

            def answer(challenge: bytes | None = None, token: str = token, said: list[str] = said) -> str:
                if challenge is None:
                    return oauth.initial_response(user, token)
                said.append(oauth.error_of(challenge))  # the server's reason; an empty reply ends the exchange
                return ""
            try:
                smtp.auth("XOAUTH2", answer)
                return
            except smtplib.SMTPAuthenticationError as e:
                if attempt == 2:
                    reason = f"{_text(e)}" + (f" ({said[0]})" if said else "")
                    raise SmtpError(f"SMTP server {self.url} refused the OAuth token for {user!r} from "
                                    f"{self.token.source}, also after fetching it again: {reason}; check the "
                                    "account and that the token has the mail scope") from e
            token = self.token.renew(token)

    def send(self, sender: str, recipient: str, message: bytes, *,
             ready: Callable[[], bool] | None = None) -> None:
        """Send one message to one recipient.

        ``ready`` is asked once the envelope is on its way and before the message can be
        accepted: with PIPELINING as soon as the envelope is written, so whatever it waits
        for overlaps the server's answers; without, once the server has answered DATA.
        When it answers False, or raises, the session is closed before the message ends
        (the server discards it) and ``Withdrawn`` is raised, or what it raised.

        Raises ``Refused`` when the server answers with an error code (at the mail,
        rcpt or data stage), ``Dropped`` when the connection is lost or times out
        during the message (the session is then closed and reopens on next use), and
        ``SmtpError`` when a new session cannot be opened.
        """
        self.open()
        smtp = self._smtp
        assert smtp is not None
        data = _stuff(message)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        options = []
        needs = _needs_smtputf8(sender, recipient, message)
        if needs:
            if not smtp.has_extn("smtputf8"):
                raise Refused(553, f"the relay does not offer SMTPUTF8, needed for {needs}", "rcpt", local=True)
            options = ["SMTPUTF8"]
        try:
            if self._pipelined:
                mail = " ".join([f"MAIL FROM:<{sender}>", *options])
                smtp.send(f"{mail}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
                self._ask(ready)
                replies = [smtp.getreply(), smtp.getreply(), smtp.getreply()]
            else:
                replies = [smtp.mail(sender, options)]
                if replies[0][0] == 250:
                    replies.append(smtp.rcpt(recipient))
                    if replies[1][0] in (250, 251):
                        replies.append(smtp.docmd("DATA"))
            for (code, text), stage in zip(replies, ("mail", "rcpt", "data"), strict=False):
                if code not in (250, 251, 354):
                    self._abandon(replies)
                    raise Refused(code, _decode(text), stage)
            if not self._pipelined:
                self._ask(ready)
            smtp.send(data + b".\r\n")
            # The answer to the end of a message may take long (content filters); a client that
            # gives up early re-sends a message the server went on to deliver.
            if smtp.sock is not None:
                smtp.sock.settimeout(self.data_timeout)
            try:
                code, text = smtp.getreply()
            finally:
                if smtp.sock is not None:
                    smtp.sock.settimeout(self.timeout)
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            self.close()
            raise Dropped(f"connection to SMTP server {self.url} lost: {_reason(e)}") from e
        if code == 421:
            self.close()
        if code != 250:
            raise Refused(code, _decode(text), "data")

    def _ask(self, ready: Callable[[], bool] | None) -> None:
        """Ask ``ready`` whether the message may go; if not, drop the session before the message ends."""
        if ready is None:
            return
        try:
            go = ready()
        except BaseException:
            self._drop()
            raise
        if not go:
            self._drop()
            raise Withdrawn(f"message withdrawn before its end; the session with {self.url} was closed")

    def _drop(self) -> None:
        """Close the socket without a word: mid-message, QUIT would be read as part of it."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _abandon(self, replies: list[tuple[int, bytes]]) -> None:
        """End a failed transaction: finish a DATA the server accepted anyway, then RSET."""
        smtp = self._smtp
        assert smtp is not None
        if any(code == 421 for code, _ in replies):
            self.close()
            return
        try:
            if len(replies) == 3 and replies[2][0] == 354:
                smtp.send(b".\r\n")
                smtp.getreply()
            code, _ = smtp.rset()
        except (OSError, smtplib.SMTPException):
            code = 0
        if code != 250:
            self.close()

    def probe(self, sender: str) -> None:
        """Open the session, offer ``sender`` in MAIL FROM and take it back (RSET); raise SmtpError if refused."""
        self.open()
        assert self._smtp is not None
        try:
            code, text = self._smtp.mail(sender)
            self._smtp.rset()
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            raise SmtpError(f"SMTP server {self.url} dropped the session: {_reason(e)}") from e
        if code != 250:
            raise Refused(code, _decode(text), "mail")

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


def _needs_smtputf8(sender: str, recipient: str, message: bytes) -> str:
    """Return what makes this message need SMTPUTF8 (RFC 6531): a non-ASCII address or header; "" if nothing."""
    for mailbox in (recipient, sender):
        if not mailbox.isascii():
            return mailbox
    end = message.find(b"\r\n\r\n")
    return "" if message[:end if end >= 0 else len(message)].isascii() else "its UTF-8 headers"


def _stuff(message: bytes) -> bytes:
    """Double each dot that starts a line (RFC 5321 4.5.2).

    A few ``find`` calls and one join: on an 80 KB message with a handful of such
    lines this is several times faster than ``bytes.replace`` and ten times faster
    than smtplib's regular expression.
    """
    parts = [b"."] if message.startswith(b".") else []
    start = 0
    while (found := message.find(b"\n.", start)) >= 0:
        parts += (message[start:found + 2], b".")
        start = found + 2
    if not parts:
        return message
    parts.append(message[start:])
    return b"".join(parts)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Authenticate with the first mechanism both sides know.

    Unlike ``SMTP.login``, a refused password is not retried with the next mechanism:
    that only repeats the failure (and smtplib's LOGIN retry resends the user name).
    """
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH, but the URL has credentials")
    smtp.user, smtp.password = user, password
    offered = smtp.esmtp_features["auth"].upper().split()
    for name, answer in (("CRAM-MD5", smtp.auth_cram_md5), ("PLAIN", smtp.auth_plain), ("LOGIN", smtp.auth_login)):
        if name in offered:
            smtp.auth(name, answer)  # raises SMTPAuthenticationError when refused
            return
    raise smtplib.SMTPNotSupportedError(f"no AUTH mechanism in common (server offers {' '.join(offered)})")


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

