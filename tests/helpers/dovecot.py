"""An IMAP server for the tests: Debian's Dovecot (dovecot-imapd) in a temporary folder, on loopback.

Users with a password in a passwd file of their own, one added per test (``user()``: a mailbox of
its own, so one server serves the session; stopping one takes Dovecot some 3 s),
maildirs in the folder, plain IMAP with STARTTLS on ``port`` and IMAP over TLS on
``tls_port`` (the test CA's certificate for 127.0.0.1). Run as root, Dovecot's own users serve it and the mail
belongs to ``nobody``; run as anyone else, everything is that user's. ``dovecot``
returns once it listens, and ``dovecot stop`` once it has stopped: nothing waits on
a clock. Messages go in with IMAP APPEND, as a mail server would deliver them.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter.sink import free_port

PASSWORD = "s3cret pass"
# What Dovecot offers after login, without MOVE and UIDPLUS: a server that only has COPY and EXPUNGE.
PLAIN_CAPABILITIES = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE CHILDREN"


@dataclass
class Dovecot:
    """A running Dovecot; ``user()`` gives each test a mailbox of its own."""

    port: int
    tls_port: int
    base: Path
    owner: tuple[int, int]  # uid, gid of the mail
    users: int = 0

    def user(self) -> Mailbox:
        """Add a user with an empty mailbox: a passwd file of its own, which Dovecot looks for by the name."""
        self.users += 1
        name, home = f"bounces{self.users}", self.base / "home" / f"bounces{self.users}"
        home.mkdir()
        os.chown(home, *self.owner)
        (self.base / "users" / name).write_text(f"{name}:{{PLAIN}}{PASSWORD}:{self.owner[0]}:{self.owner[1]}::{home}\n")
        return Mailbox(self, name)


@dataclass
class Mailbox:
    """One user's mailbox on a running Dovecot."""

    server: Dovecot
    name: str

    @property
    def port(self) -> int:
        """Return the port of plain IMAP (and STARTTLS)."""
        return self.server.port

    def url(self, scheme: str = "imap", folder: str = "INBOX", password: str = PASSWORD) -> str:
        """Return the ``bounces.imap_url`` of the user's ``folder`` (``imaps`` goes to the TLS port)."""
        port = self.server.tls_port if scheme == "imaps" else self.server.port
        return f"{scheme}://{self.name}:{password.replace(' ', '%20')}@127.0.0.1:{port}/{folder}"

    def client(self) -> imaplib.IMAP4:
        """Return an IMAP client logged in as the user."""
        client = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=10)
        client.login(self.name, PASSWORD)
        return client

    def append(self, message: bytes, folder: str = "INBOX") -> None:
        """Deliver ``message`` into ``folder``."""
        client = self.client()
        try:
            if folder != "INBOX":
                client.create(folder)  # refused when it is there already, which is as good
            status, data = client.append(folder, None, None, message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert status == "OK", data
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """Return the messages in ``folder`` (none if it does not exist), each with LF line ends."""
        client = self.client()
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, found = client.uid("SEARCH", None, "ALL")  # type: ignore[arg-type]
            out = []
            for uid in (found[0] or b"").split():
                _, data = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                out += [part[1].replace(b"\r\n", b"\n") for part in data if isinstance(part, tuple)]
            return out
        finally:
            client.logout()


def _dovecot() -> str:
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if found is None:
        pytest.fail("Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    return found


@contextmanager
def run_dovecot(certificates: tuple[Path, Path, Path], *, capabilities: str = "") -> Iterator[Dovecot]:
    """Run Dovecot until the block ends; ``capabilities`` replaces what it offers after login."""
    base = Path(tempfile.mkdtemp(prefix="newsletter-imap-"))
    base.chmod(0o755)  # the mail user (nobody, when root) reaches its maildir through it
    root = os.geteuid() == 0
    me, group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
    mail_user = pwd.getpwnam("nobody") if root else pwd.getpwuid(os.geteuid())
    (base / "home").mkdir()
    (base / "users").mkdir()
    server = Dovecot(free_port(), free_port(), base, (mail_user.pw_uid, mail_user.pw_gid))
    _, cert, key = certificates
    users = ("default_internal_user = dovecot\ndefault_login_user = dovenull\n" if root else
             f"default_internal_user = {me}\ndefault_internal_group = {group}\ndefault_login_user = {me}\n")
    unchrooted = "" if root else "".join(f"service {s} {{\n  chroot =\n}}\n" for s in ("imap-login", "anvil"))
    config = base / "dovecot.conf"
    config.write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0  # a wrong password is answered at once
mail_location = maildir:~/Maildir
first_valid_uid = 1
{users}
{f"imap_capability = {capabilities}" if capabilities else ""}
passdb {{
  driver = passwd-file
  args = {base}/users/%n
}}
userdb {{
  driver = passwd-file
  args = {base}/users/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {server.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {server.tls_port}
  }}
}}
{unchrooted}
""")
    run = [_dovecot(), "-c", str(config)]
    # Into a file, not a pipe: the server it leaves running would hold a pipe open, and reading it would never end.
    with (base / "start.log").open("w+") as output:
        started = subprocess.run(run, stdout=output, stderr=subprocess.STDOUT, check=False)
        output.seek(0)
        said = output.read()
    if started.returncode != 0:
        log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"Dovecot did not start: {said.strip()} {log}")
    try:
        yield server
    finally:
        subprocess.run([*run, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(base, ignore_errors=True)
