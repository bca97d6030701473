"""The doctor's relay check against real aiosmtpd relays, and its checks in `newsletter run`'s log before a send.

Each way a relay can turn us away before a message (a wrong password, a certificate we
do not trust, STARTTLS asked for but not offered) fails the ``relay`` line with what to
change; a relay that takes the login passes and says so. The daemon, started as
`newsletter run` is, logs every check before its first send, and runs them before its
scheduler starts.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers.cli import run
from helpers.dnsserver import serve_dns
from helpers.domains import configure, ed25519_key, zones
from helpers.newsletters import add_readers
from helpers.smtp import Script, ScriptedHandler, ScriptedServer, serve_script

from newsletter import doctor
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.daemon import Daemon
from newsletter.email.dkim import Dkim
from newsletter.sink import free_port

USER, PASSWORD = "mailer", "s3cret"


def accept_mailer(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    """An aiosmtpd authenticator that lets in USER with PASSWORD and nobody else (535 otherwise)."""
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@contextmanager
def auth_relay(**options: Any) -> Iterator[int]:
    """Run a real aiosmtpd relay that demands a login, with the TLS ``options`` given; yield its port."""
    port = free_port()
    controller = Controller(ScriptedHandler(Script()), hostname="127.0.0.1", port=port, authenticator=accept_mailer,
                            auth_required=True, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def relay_line(folder: Path, url: str, ca_file: Path | None = None) -> str:
    """Run `newsletter doctor` against ``url`` (DNS all well) and return its relay line, checking the exit status."""
    key = ed25519_key(folder)
    with serve_dns(zones(Dkim.load("brief", "example.org", key))) as nameserver:
        configure(folder, url, nameserver, key=key)
        if ca_file is not None:
            config = folder / "newsletter.toml"
            config.write_text(config.read_text().replace(f'url = "{url}"', f'url = "{url}"\nca_file = "{ca_file}"'))
        result = run("doctor", cwd=folder)
    lines = result.stdout.splitlines()
    assert [line[2:].split(":")[0] for line in lines] == list(doctor.NAMES), result.stdout + result.stderr
    assert all(line.startswith("✓") for line in lines[1:]), result.stdout
    assert result.returncode == (0 if lines[0].startswith("✓") else 1), result.stderr
    return lines[0]


def test_a_relay_that_accepts_the_login_passes(tmp_path: Path, server_context: ssl.SSLContext,
                                               certificates: tuple[Path, Path, Path]) -> None:
    with auth_relay(tls_context=server_context, require_starttls=True, auth_require_tls=True) as port:
        line = relay_line(tmp_path, f"smtp+starttls://{USER}:{PASSWORD}@127.0.0.1:{port}", certificates[0])
    assert line == (f"✓ relay: smtp+starttls://127.0.0.1:{port} answered (STARTTLS, login '{USER}' accepted); "
                    "sender briefing@example.org accepted")
    assert PASSWORD not in line


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_wrong_password_fails_the_relay_with_the_fix(tmp_path: Path, server_context: ssl.SSLContext,
                                                       certificates: tuple[Path, Path, Path]) -> None:
    with auth_relay(ssl_context=server_context, auth_require_tls=False) as port:
        line = relay_line(tmp_path, f"smtps://{USER}:wrong@127.0.0.1:{port}", certificates[0])
    assert line.startswith(f"✗ relay: SMTP server smtps://127.0.0.1:{port} rejected the login for '{USER}': 535 ")
    assert line.endswith("535 5.7.8 Authentication credentials invalid; check the user name and password in "
                         "smtp.url (or NEWSLETTER_SMTP_URL); some providers want an app password")
    assert "wrong" not in line


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
def test_an_untrusted_certificate_fails_the_relay_with_the_fix(tmp_path: Path, server_context: ssl.SSLContext,
                                                               scheme: str) -> None:
    tls = ({"ssl_context": server_context, "auth_require_tls": False} if scheme == "smtps" else
           {"tls_context": server_context, "require_starttls": True, "auth_require_tls": True})
    with auth_relay(**tls) as port:  # its certificate's CA is not among the system's, and no ca_file names it
        line = relay_line(tmp_path, f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{port}")
    assert line.startswith(f"✗ relay: cannot connect to SMTP server {scheme}://127.0.0.1:{port}: the certificate "
                           f"of the server at 127.0.0.1:{port} is not trusted (certificate verify failed")
    assert line.endswith("if the relay uses a private CA, set smtp.ca_file to that CA's certificate")


def test_starttls_configured_but_not_offered_fails_the_relay_with_the_fix(tmp_path: Path,
                                                                          scripted_smtp: ScriptedServer) -> None:
    port = scripted_smtp.url.rsplit(":", 1)[1]
    line = relay_line(tmp_path, f"smtp+starttls://127.0.0.1:{port}")
    assert line == (f"✗ relay: cannot connect to SMTP server smtp+starttls://127.0.0.1:{port}: the server at "
                    f"127.0.0.1:{port} does not offer STARTTLS; use smtps:// if it speaks TLS from the first byte "
                    "(as on port 465), or smtp:// for a server on a trusted network")




def stderr_through(process: subprocess.Popen[str], text: str) -> list[str]:
    """Return the lines ``process`` logs through the first holding ``text``; a minute without one kills it."""
    assert process.stderr is not None
    watchdog = threading.Timer(60, process.kill)  # fails the test instead of hanging it
    watchdog.start()
    lines: list[str] = []
    try:
        while line := process.stderr.readline():
            lines.append(line.rstrip("\n"))
            if text in line:
                return lines
    finally:
        watchdog.cancel()
    raise AssertionError("the process ended first:\n" + "\n".join(lines))


def test_newsletter_run_logs_the_checks_before_its_first_send(tmp_path: Path, documents: Path) -> None:
    key = ed25519_key(tmp_path)
    script = Script(rcpt={"r1@example.org": "550 5.1.1 No such user"})  # logged while the send runs
    with serve_dns(zones(Dkim.load("brief", "example.org", key))) as nameserver, serve_script(script) as server:
        configure(tmp_path, server.url, nameserver, key=key)
        started = datetime.now(UTC)
        # Fired two minutes ago, so the daemon sends at once on starting; next in about an hour, so no
        # other fire time comes while the test runs.
        with (tmp_path / "newsletter.toml").open("a") as config:
            config.write(f'\n[schedule]\ncron = "{(started - timedelta(minutes=2)).minute} * * * *"\n')
        app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
        add_readers(app, 3)
        app.store.add_meta("schedule.anchor", (started - timedelta(minutes=3)).isoformat())
        environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        daemon = subprocess.Popen([sys.executable, "-m", "newsletter", "run"], cwd=tmp_path, env=environ,
                                  text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            lines = stderr_through(daemon, "send at ")
            daemon.send_signal(signal.SIGTERM)
            daemon.communicate(timeout=60)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
    checks = [n for n, line in enumerate(lines) if line.startswith("doctor: ")]
    refused = lines.index("r1@example.org: 550 5.1.1 No such user")  # logged mid-send
    assert [lines[n].split(":")[1] for n in checks] == [f" ✓ {name}" for name in doctor.NAMES], lines
    assert checks == list(range(checks[0], checks[0] + len(doctor.NAMES)))  # the six lines together
    assert checks[-1] < refused < len(lines) - 1  # every check logged before the send began
    assert lines[-1].endswith(": sent: issue 1 sent to 2 of 3 subscribers"), lines[-1]
    assert len(server.messages) == 2 and daemon.returncode == 0
    app.close()


class Observed(Daemon):
    """A daemon whose checks only note what of its scheduler exists by then, and ask it to stop."""

    seen: dict[str, bool]  # set by examine

    def examine(self) -> bool:
        self.seen = {"scheduler": self._scheduler is not None,
                     "job store": sa.inspect(self.app.store.engine).has_table("apscheduler_jobs")}
        self.stop.set()  # so run_forever returns as soon as it has started
        return True


def test_the_daemon_runs_the_checks_before_its_scheduler_starts(app: Newsletter) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}  # run_forever sets them
    daemon = Observed(app)
    try:
        daemon.run_forever()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert app.config.schedule.doctor is True
    # APScheduler makes its job table when it starts; here it had not, nor could it fire a job.
    assert daemon.seen == {"scheduler": False, "job store": False}
    assert sa.inspect(app.store.engine).has_table("apscheduler_jobs")  # made afterwards, so the check can fail
