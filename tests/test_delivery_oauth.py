"""SMTP AUTH XOAUTH2 against a real aiosmtpd server: a token from a command or a file, renewed when refused or stale."""

from __future__ import annotations

import base64
import json
import shlex
import ssl
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from helpers.clock import Clock
from helpers.newsletters import write_config
from helpers.smtp import Script, ScriptedHandler
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load, parse_url
from newsletter.delivery import oauth
from newsletter.delivery.oauth import Token
from newsletter.delivery.smtp import Connection
from newsletter.error import ConfigError, SmtpError
from newsletter.sink import free_port

USER = "briefing@example.org"
# Gmail's answer to a refused token: a 334 challenge holding this, then 535 after the client's empty line.
REFUSAL = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}

# The server requires STARTTLS, as Gmail and Microsoft 365 do on port 587.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Xoauth2Handler(ScriptedHandler):
    """Accept mail from a session that signed in with XOAUTH2 as USER with one of the ``valid`` tokens."""

    def __init__(self, valid: set[str]) -> None:
        super().__init__(Script())
        self.valid = valid
        self.seen: list[tuple[str, str, bool]] = []  # (user, token, accepted)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        accepted = user == USER and token in self.valid
        self.seen.append((user, token, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(json.dumps(REFUSAL))  # the client answers with an empty line
        return AuthResult(success=False, handled=False)  # the server then answers 535


class Server:
    def __init__(self, context: ssl.SSLContext, valid: set[str]) -> None:
        self.handler = Xoauth2Handler(valid)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, auth_required=True, auth_require_tls=True,
                                     auth_exclude_mechanism=["LOGIN", "PLAIN"])
        self.url = f"smtp+starttls://{USER.replace('@', '%40')}@127.0.0.1:{self.port}"


@pytest.fixture
def server(server_context: ssl.SSLContext) -> Iterator[Server]:
    server = Server(server_context, {"fresh-2"})
    server.controller.start()
    yield server
    server.controller.stop()


def token_command(folder: Path, *tokens: str) -> tuple[str, Path]:
    """Return a command printing ``tokens`` one per run (the last one ever after), and the file counting its runs."""
    script, runs = folder / "token.py", folder / "runs"
    (folder / "tokens.json").write_text(json.dumps(tokens), encoding="utf-8")
    script.write_text("import json, pathlib\n"
                      "here = pathlib.Path(__file__).parent\n"
                      "runs = here / 'runs'\n"
                      "n = int(runs.read_text()) if runs.exists() else 0\n"
                      "runs.write_text(str(n + 1))\n"
                      "tokens = json.loads((here / 'tokens.json').read_text())\n"
                      "print(tokens[min(n, len(tokens) - 1)])\n", encoding="utf-8")
    return shlex.join([sys.executable, str(script)]), runs


def newsletter(folder: Path, server: Server, ca_file: Path, **smtp: str) -> Newsletter:
    config = load(write_config(folder, smtp_url=server.url, sources=[{"path": "inbox"}]), environ={})
    app = Newsletter(config.replace(smtp={"ca_file": str(ca_file), "connections": 2, **smtp}))
    for email in ("ann@example.org", "bo@example.org", "cy@example.org", "di@example.org"):
        subscribers.add(app.store, email, status="active")
    return app


def test_a_token_from_a_command_signs_in_and_delivers(tmp_path: Path, documents: Path, server: Server,
                                                      certificates: tuple[Path, Path, Path]) -> None:
    command, runs = token_command(tmp_path, "fresh-2")
    app = newsletter(tmp_path, server, certificates[0], oauth_token_command=command)
    assert app.send().issues[-1].counts.sent == 4
    assert len(server.handler.script.accepted) == 4
    assert len(server.handler.seen) >= 2 and set(server.handler.seen) == {(USER, "fresh-2", True)}
    assert runs.read_text() == "1"  # every session, the check before queueing and both connections, shares one token


def test_a_refused_token_is_fetched_again_once_for_every_connection(
        tmp_path: Path, server: Server, certificates: tuple[Path, Path, Path]) -> None:
    command, runs = token_command(tmp_path, "expired-1", "fresh-2", "never-3")
    token = Token(command=command)
    connections = [Connection(parse_url(server.url), token=token, ca_file=str(certificates[0])) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(Connection.open, connections))  # all three at once, sharing one token
    assert all(c.is_open for c in connections)
    for c in connections:
        c.close()
    assert runs.read_text() == "2"  # however many were refused the first token, one renewal served them all
    assert {(token, ok) for _, token, ok in server.handler.seen} <= {("expired-1", False), ("fresh-2", True)}
    assert sum(ok for _, _, ok in server.handler.seen) == 3


def test_a_token_still_refused_after_renewing_stops_the_send_in_one_line(
        tmp_path: Path, documents: Path, server: Server, certificates: tuple[Path, Path, Path]) -> None:
    command, runs = token_command(tmp_path, "revoked")
    app = newsletter(tmp_path, server, certificates[0], oauth_token_command=command)
    with pytest.raises(SmtpError) as raised:
        app.send()
    message = str(raised.value)
    assert f"refused the OAuth token for '{USER}' from smtp.oauth_token_command" in message
    assert "also after fetching it again: 535" in message and '"scope": "https://mail.google.com/"' in message
    assert "\n" not in message and "revoked" not in message  # one line, and the token is never shown
    assert runs.read_text() == "2"
    assert server.handler.script.accepted == []


def test_a_token_file_is_read_again_when_refused(tmp_path: Path, documents: Path, server: Server,
                                                 certificates: tuple[Path, Path, Path]) -> None:
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"access_token": "expired-1", "expires_in": 3599}), encoding="utf-8")
    app = newsletter(tmp_path, server, certificates[0], oauth_token_file="token.json")
    connection = app.connection()
    with pytest.raises(SmtpError, match=r"from smtp.oauth_token_file \(.*token.json\), also after fetching it again"):
        connection.open()
    token_file.write_text("fresh-2\n", encoding="utf-8")  # another program renewed it
    assert app.send().issues[-1].counts.sent == 4
    # The send's first session is refused the cached token, reads the file again and signs in; the later
    # ones offer the new token at once.
    offered = [token for _, token, _ in server.handler.seen]
    assert offered[:4] == ["expired-1"] * 3 + ["fresh-2"] and set(offered[4:]) <= {"fresh-2"}


def test_an_expired_token_is_fetched_again_before_it_is_offered(tmp_path: Path) -> None:
    command, runs = token_command(tmp_path, json.dumps({"access_token": "first", "expires_in": 3600}),
                                  json.dumps({"access_token": "second", "expires_in": 3600}))
    clock = Clock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    token = Token(command=command, clock=clock)
    assert token.current() == "first"
    clock.advance(minutes=58)
    assert token.current() == "first" and runs.read_text() == "1"
    clock.advance(minutes=1, seconds=1)  # within a minute of the expiry: fetched again before the server says so
    assert token.current() == "second" and runs.read_text() == "2"


def test_a_token_near_its_expiry_is_fetched_again_for_the_next_session(
        tmp_path: Path, documents: Path, server: Server, certificates: tuple[Path, Path, Path]) -> None:
    """No clock of the test's: the first token says it expires in 30 s, within the minute a token is renewed
    ahead of its expiry, so it serves the session it was fetched for and no later one."""
    command, runs = token_command(tmp_path, json.dumps({"access_token": "short-1", "expires_in": 30}),
                                  json.dumps({"access_token": "fresh-2", "expires_in": 3600}), "never-3")
    server.handler.valid.add("short-1")  # the server takes both, so only the client can decide to renew
    app = newsletter(tmp_path, server, certificates[0], oauth_token_command=command)
    assert app.send().issues[-1].counts.sent == 4
    seen = server.handler.seen
    assert seen[0] == (USER, "short-1", True)  # the check before queueing: its own session
    assert len(seen) >= 2 and set(seen[1:]) == {(USER, "fresh-2", True)}  # every later session: renewed first
    assert runs.read_text() == "2"
    assert len(server.handler.script.accepted) == 4


def test_expires_at_is_unix_time() -> None:
    grant = oauth.parse('{"access_token": "ya29.a0", "expires_at": 1796547600}', "test",
                        now=datetime(2026, 12, 6, tzinfo=UTC))
    assert grant == oauth.Grant("ya29.a0", datetime(2026, 12, 6, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(("printed", "problem"), [
    ("", "smtp.oauth_token_command (x) gave no token"),
    ('{"token": "a"}', 'the JSON object has no "access_token"'),
    ("two words", "a token is one word of printable ASCII characters"),
    ('{"access_token": "a", "expires_in": 1e400}', "the token's expiry time is out of range"),
])
def test_what_a_token_command_prints_is_checked(printed: str, problem: str) -> None:
    with pytest.raises(SmtpError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        oauth.parse(printed, "smtp.oauth_token_command (x)", now=datetime(2026, 12, 6, tzinfo=UTC))


@settings(max_examples=300, derandomize=True, database=None, deadline=500)
@given(st.text(max_size=2000) | st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["access_token", "expires_in", "expires_at", "x"]),
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50))))
def test_token_output_is_read_or_refused_in_one_line(printed: str) -> None:
    try:
        grant = oauth.parse(printed, "smtp.oauth_token_command (x)", now=datetime(2026, 12, 6, tzinfo=UTC))
    except SmtpError as e:
        assert "\n" not in str(e) and str(e).startswith("smtp.oauth_token_command (x)")
    else:
        assert grant.token and grant.token.isascii() and " " not in grant.token


def test_a_failing_token_command_says_why(tmp_path: Path, server: Server,
                                          certificates: tuple[Path, Path, Path]) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nsys.exit('no refresh token: run the consent flow first')\n", encoding="utf-8")
    token = Token(command=shlex.join([sys.executable, str(script)]))
    connection = Connection(parse_url(server.url), token=token, ca_file=str(certificates[0]))
    with pytest.raises(SmtpError, match=r"failed \(exit status 1\): no refresh token: run the consent flow first$"):
        connection.open()
    missing = Token(command="/nonexistent/token-helper --bare")
    with pytest.raises(SmtpError, match=r"cannot run smtp.oauth_token_command \(/nonexistent/token-helper\): "):
        missing.current()


def test_a_server_without_xoauth2_is_named(tmp_path: Path, scripted_smtp: Any) -> None:
    command, _ = token_command(tmp_path, "fresh-2")
    url = parse_url(scripted_smtp.url.replace("smtp://", "smtp://me%40example.org@"))
    with pytest.raises(SmtpError, match=r"does not offer AUTH XOAUTH2 \(nor any AUTH\)"):
        Connection(url, token=Token(command=command)).open()


@pytest.mark.parametrize(("url", "tokens", "problem"), [
    ("smtp+starttls://smtp.gmail.com:587", 'oauth_token_command = "t"',
     r"newsletter.toml:\d+: smtp.url must name the account for XOAUTH2"),
    ("smtp+starttls://me%40gmail.com:pw@smtp.gmail.com:587", 'oauth_token_file = "t"', "leave the password out"),
    ("smtp+starttls://me%40gmail.com@smtp.gmail.com:587", 'oauth_token_command = "t"\noauth_token_file = "t"',
     "set one, not both"),
])
def test_xoauth2_settings_are_checked_at_startup(tmp_path: Path, url: str, tokens: str, problem: str) -> None:
    config = write_config(tmp_path, smtp_url=url, sources=[])
    config.write_text(config.read_text(encoding="utf-8").replace(f'url = "{url}"', f'url = "{url}"\n{tokens}'),
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load(config, environ={})
