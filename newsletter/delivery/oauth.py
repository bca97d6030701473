"""OAuth 2.0 access tokens for SMTP AUTH XOAUTH2 (Gmail, Microsoft 365): from a command or a file, renewed when stale.

The token comes from ``smtp.oauth_token_command`` (run without a shell, in the
config's folder; it prints the token) or ``smtp.oauth_token_file`` (which another
program keeps fresh). Either holds the bare token, or a JSON object with
``access_token`` and, optionally, ``expires_in`` (seconds from now) or ``expires_at``
(Unix time), as OAuth token endpoints answer. A token is fetched again a minute
before it expires, and when the server refuses it; every connection of a send shares
one ``Token``, so the command runs once per renewal however many connections wait.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsletter.error import ConfigError, SmtpError
from newsletter.settings import Config

EARLY = timedelta(seconds=60)  # a token counts as expired this long before its stated expiry
MAX_TOKEN = 16_384  # bytes: an access token is a few hundred to a few thousand


@dataclass(frozen=True)
class Grant:
    """One access token and when it stops working (None: not said)."""

    token: str
    expires_at: datetime | None = None


class Token:
    """The current access token of one account, fetched on first use and again when stale or refused."""

    def __init__(self, *, command: str = "", file: Path | None = None, timeout: float = 30.0,
                 root: Path | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if bool(command) == bool(file):
            raise ConfigError("smtp: set one of oauth_token_command and oauth_token_file for XOAUTH2")
        self.command = command
        self.file = file
        self.timeout = timeout
        self.root = root
        self.clock = clock
        self._grant: Grant | None = None
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        """Return where the token comes from, for messages: the command's program (never its arguments), or the file."""
        if self.file is not None:
            return f"smtp.oauth_token_file ({self.file})"
        program = self.command.split()[0] if self.command.split() else ""
        return f"smtp.oauth_token_command ({program})"

    def current(self) -> str:
        """Return a token that has not expired, fetching one if needed; raise SmtpError if the source fails."""
        with self._lock:
            grant = self._grant
            if grant is None or (grant.expires_at is not None and self.clock() >= grant.expires_at - EARLY):
                grant = self._grant = self._fetch()
            return grant.token

    def renew(self, refused: str) -> str:
        """Return a token to try after the server refused ``refused``: fetched again, unless another connection did."""
        with self._lock:
            if self._grant is None or self._grant.token == refused:
                self._grant = self._fetch()
            return self._grant.token

    def _fetch(self) -> Grant:
        if self.command:
            text = self._run()
        else:
            assert self.file is not None
            try:
                with self.file.open("rb") as f:
                    data = f.read(MAX_TOKEN + 1)
            except OSError as e:
                raise SmtpError(f"cannot read smtp.oauth_token_file {self.file}: {e.strerror or e}") from e
            if len(data) > MAX_TOKEN:
                raise SmtpError(f"smtp.oauth_token_file {self.file} is too large for an access token "
                                f"(over {MAX_TOKEN:,} bytes)")
            text = data.decode("utf-8", "replace")
        return parse(text, self.source, now=self.clock())

    def _run(self) -> str:
        try:
            argv = shlex.split(self.command)
            done = subprocess.run(argv, capture_output=True, timeout=self.timeout, cwd=self.root, check=False)
        except ValueError as e:
            raise SmtpError(f"smtp.oauth_token_command: cannot split the command into words: {e}") from e
        except subprocess.TimeoutExpired:
            raise SmtpError(f"{self.source} printed no token within {self.timeout:g} s") from None
        except OSError as e:
            raise SmtpError(f"cannot run {self.source}: {e.strerror or e}") from e
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SmtpError(f"{self.source} failed (exit status {done.returncode})"
                            + (f": {said[-1][:300]}" if said else ""))
        if len(done.stdout) > MAX_TOKEN:
            raise SmtpError(f"{self.source} printed more than an access token (over {MAX_TOKEN:,} bytes)")
        return done.stdout.decode("utf-8", "replace")


def configured(config: Config) -> Token | None:
    """Return the token source the ``[smtp]`` settings name, or None when XOAUTH2 is not configured."""
    smtp = config.smtp
    if smtp.oauth_token_command:
        return Token(command=smtp.oauth_token_command, timeout=smtp.timeout, root=config.root)
    if smtp.oauth_token_file:
        return Token(file=config.resolve(smtp.oauth_token_file), timeout=smtp.timeout)
    return None


def parse(text: str, source: str, *, now: datetime) -> Grant:
    """Return the grant in what a token command printed or a token file holds: a bare token or a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise SmtpError(f"{source}: not a token nor a JSON object ({e})") from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise SmtpError(f"{source}: the JSON object has no \"access_token\"")
        expires_at = None
        at, within = data.get("expires_at"), data.get("expires_in")
        try:
            if isinstance(at, int | float) and not isinstance(at, bool):
                expires_at = datetime.fromtimestamp(at, UTC)
            elif isinstance(within, int | float) and not isinstance(within, bool):
                expires_at = now + timedelta(seconds=within)
        except (OverflowError, ValueError, OSError):
            raise SmtpError(f"{source}: the token's expiry time is out of range") from None
        text = token
    else:
        expires_at = None
    if not text:
        raise SmtpError(f"{source} gave no token")
    if not text.isascii() or any(c.isspace() or not c.isprintable() for c in text):
        raise SmtpError(f"{source}: a token is one word of printable ASCII characters")
    return Grant(text, expires_at)


def initial_response(user: str, token: str) -> str:
    """Return the XOAUTH2 initial client response, before base64 (Google's and Microsoft's format)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def error_of(challenge: bytes) -> str:
    """Return what the server's error challenge says (a JSON object, once smtplib decoded its base64), in one line."""
    return " ".join(challenge.decode("utf-8", "replace").split())[:300]
