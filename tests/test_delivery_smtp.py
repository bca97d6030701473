"""Sessions and signatures: STARTTLS, implicit TLS and AUTH against real aiosmtpd servers; DKIM verified."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from helpers.fastsink import FastSink
from helpers.newsletters import write_config
from helpers.smtp import Script, ScriptedHandler

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load, parse_url
from newsletter.delivery.smtp import Connection
from newsletter.error import ConfigError, SmtpError
from newsletter.sink import free_port

USER, PASSWORD = "mailer", "s3cret pass"

# aiosmtpd warns that AUTH is allowed without STARTTLS, not knowing the session is TLS from the start.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Authenticator:
    """Accept one login and remember who tried, over what."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, bool]] = []  # (login, accepted, over TLS)

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        self.seen.append((data.login.decode() if isinstance(data, LoginPassword) else "", ok, session.ssl is not None))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


class Server:
    def __init__(self, **kwargs: Any) -> None:
        self.script = Script()
        self.auth = Authenticator()
        self.port = free_port()
        self.controller = Controller(ScriptedHandler(self.script), hostname="127.0.0.1", port=self.port,
                                     authenticator=self.auth, **kwargs)


@pytest.fixture
def starttls(server_context: ssl.SSLContext) -> Iterator[Server]:
    """A server that demands STARTTLS before AUTH, and AUTH before mail."""
    server = Server(tls_context=server_context, require_starttls=True, auth_required=True, auth_require_tls=True)
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def implicit_tls(server_context: ssl.SSLContext) -> Iterator[Server]:
    """A server that speaks TLS from the first byte (smtps, port 465 style) and demands AUTH."""
    server = Server(ssl_context=server_context, auth_required=True, auth_require_tls=False)
    server.controller.start()
    yield server
    server.controller.stop()


def newsletter(folder: Path, url: str, *, ca_file: Path | None = None, dkim: str = "") -> Newsletter:
    write_config(folder, smtp_url=url, sources=[{"path": "inbox"}], extra=dkim)
    config = load(folder / "newsletter.toml", environ={})
    app = Newsletter(config.replace(smtp={"ca_file": str(ca_file) if ca_file else ""}))
    for email in ("ann@example.org", "bo@example.org"):
        subscribers.add(app.store, email, status="active")
    return app


def test_starttls_then_auth_delivers(tmp_path: Path, documents: Path, starttls: Server,
                                     certificates: tuple[Path, Path, Path]) -> None:
    url = f"smtp+starttls://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{starttls.port}"
    app = newsletter(tmp_path, url, ca_file=certificates[0])
    assert app.send().issues[-1].counts.sent == 2
    assert sorted(m.recipients[0] for m in starttls.script.accepted) == ["ann@example.org", "bo@example.org"]
    assert starttls.auth.seen and all(seen == (USER, True, True) for seen in starttls.auth.seen)


def test_implicit_tls_then_auth_delivers(tmp_path: Path, documents: Path, implicit_tls: Server,
                                         certificates: tuple[Path, Path, Path]) -> None:
    url = f"smtps://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{implicit_tls.port}"
    app = newsletter(tmp_path, url, ca_file=certificates[0])
    assert app.send().issues[-1].counts.sent == 2
    assert len(implicit_tls.script.accepted) == 2
    assert implicit_tls.auth.seen and all(login == USER and ok for login, ok, _ in implicit_tls.auth.seen)


def test_a_wrong_password_stops_before_anything_is_queued(tmp_path: Path, documents: Path, starttls: Server,
                                                          certificates: tuple[Path, Path, Path]) -> None:
    app = newsletter(tmp_path, f"smtp+starttls://{USER}:wrong@127.0.0.1:{starttls.port}", ca_file=certificates[0])
    with pytest.raises(SmtpError, match=f"rejected the login for '{USER}': 535"):
        app.send()
    assert starttls.script.accepted == [] and starttls.auth.seen == [(USER, False, True)]
    with pytest.raises(Exception, match="no issue number 1"):
        app.deliveries(1)


def test_an_untrusted_certificate_is_refused(tmp_path: Path, documents: Path, implicit_tls: Server) -> None:
    app = newsletter(tmp_path, f"smtps://{USER}:x@127.0.0.1:{implicit_tls.port}")  # system CAs only
    with pytest.raises(SmtpError, match="cannot connect to SMTP server smtps://127.0.0.1:.*certificate verify failed"):
        app.send()
    assert implicit_tls.auth.seen == []  # the password never left


def test_starttls_required_but_not_offered_is_an_error(tmp_path: Path, documents: Path,
                                                       scripted_smtp: Any) -> None:
    port = scripted_smtp.url.rsplit(":", 1)[1]
    app = newsletter(tmp_path, f"smtp+starttls://127.0.0.1:{port}")
    with pytest.raises(SmtpError, match=f"the server at 127.0.0.1:{port} does not offer STARTTLS; use smtps://"):
        app.send()


def _dkim_config(key_file: Path) -> str:
    return f'\n[dkim]\nselector = "brief"\ndomain = "example.org"\nkey_file = "{key_file.name}"\n'


def _dns(record: str) -> Any:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record.encode() if name == b"brief._domainkey.example.org." else None
    return lookup


def _write_key(path: Path, kind: str) -> None:
    pkcs8 = serialization.PrivateFormat.PKCS8
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
    elif kind == "ed25519-pem":
        key = ed25519.Ed25519PrivateKey.generate()
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
    else:  # dknewkey's format: the 32-byte seed in base64
        seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        path.write_bytes(base64.b64encode(seed) + b"\n")


@pytest.mark.parametrize("kind", ["rsa", "ed25519-pem", "ed25519-seed"])
def test_dkim_signatures_verify(tmp_path: Path, documents: Path, scripted_smtp: Any, kind: str) -> None:
    _write_key(tmp_path / "dkim.key", kind)
    app = newsletter(tmp_path, scripted_smtp.url, dkim=_dkim_config(tmp_path / "dkim.key"))
    assert app.dkim is not None
    assert app.dkim.algorithm == ("rsa-sha256" if kind == "rsa" else "ed25519-sha256")
    assert app.send(to="editor@example.org").status == "test"  # test copies are signed too
    app.send()
    messages = [m.data for m in scripted_smtp.script.accepted]
    assert sorted(m.recipients[0] for m in scripted_smtp.script.accepted) == [
        "ann@example.org", "bo@example.org", "editor@example.org"]
    for data in messages:
        assert data.startswith(b"DKIM-Signature: v=1; a=" + app.dkim.algorithm.encode())
        signed = data.split(b"h=", 1)[1].split(b";", 1)[0].replace(b"\r\n", b"").replace(b" ", b"")
        assert {b"list-unsubscribe", b"list-unsubscribe-post", b"feedback-id", b"from"} <= set(signed.split(b":"))
        assert dkim.verify(data, dnsfunc=_dns(app.dkim.public))
        assert not dkim.verify(data.replace(b"Hello", b"Hullo", 1), dnsfunc=_dns(app.dkim.public))


def test_a_bad_dkim_key_is_one_clear_error(tmp_path: Path, documents: Path, scripted_smtp: Any) -> None:
    (tmp_path / "dkim.key").write_text("not a key\n")
    app = newsletter(tmp_path, scripted_smtp.url, dkim=_dkim_config(tmp_path / "dkim.key"))
    with pytest.raises(ConfigError, match=r"dkim.key_file: .*dkim.key is not an RSA or Ed25519 private key"):
        app.send()
    assert scripted_smtp.script.accepted == []


def test_dkim_needs_selector_domain_and_key(tmp_path: Path) -> None:
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:25", sources=[],
                 extra='\n[dkim]\ndomain = "example.org"\nkey_file = "k.pem"\n')
    with pytest.raises(ConfigError, match="dkim.selector is required when DKIM signing is configured"):
        load(tmp_path / "newsletter.toml", environ={})


@pytest.mark.parametrize("pipelining", [True, False])
def test_messages_arrive_byte_for_byte_through_the_fast_sink(pipelining: bool) -> None:
    lines = [b"Subject: dots", b"", b".starts with a dot", b"..two dots", b"a line", b".", b"end"]
    message = b"\r\n".join(lines) + b"\r\n"
    with FastSink(keep=True, pipelining=pipelining) as sink:
        connection = Connection(parse_url(sink.url))
        for n in range(3):  # one session, several messages, pipelined or not
            connection.send("from@example.org", f"to{n}@example.org", message)
        assert connection.pipelined is pipelining
        connection.close()
    assert sink.count == 3
    assert [m.recipients for m in sink.messages] == [(f"to{n}@example.org",) for n in range(3)]
    assert all(m.data == message and m.sender == "from@example.org" for m in sink.messages)
