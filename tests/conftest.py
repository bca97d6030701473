"""Real local servers for the tests: an SMTP sink (aiosmtpd), an HTTP feed server, SQLite files."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.sink import Received, Sink, free_port

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite the golden files from this run.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server on a free loopback port that accepts everything."""
    with Sink() as server:
        yield server


@dataclass
class Script:
    """How the scripted SMTP server answers: per-recipient codes, and a drop after N messages.

    ``rcpt`` answers may be a list, used up one attempt at a time (then the address is
    accepted); ``data`` answers the end of a message to that recipient; ``mail`` answers
    MAIL FROM; ``drop`` closes the connection at that recipient's DATA, ``stall`` never
    answers it; ``pipelining`` offers PIPELINING; ``gate`` holds every message until that
    many sessions have started; ``sessions`` counts EHLOs.
    """

    rcpt: dict[str, Any] = field(default_factory=dict)  # address -> "550 5.1.1 No such user" or a list
    drop_after: int | None = None  # close the connection instead of accepting message N+1
    accepted: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    data: dict[str, str] = field(default_factory=dict)
    mail: str | None = None
    drop: set[str] = field(default_factory=set)
    stall: set[str] = field(default_factory=set)
    pipelining: bool = False
    gate: int = 0
    sessions: int = 0
    attempts: dict[str, int] = field(default_factory=dict)  # address -> RCPT commands seen
    stalled: threading.Event = field(default_factory=threading.Event)  # set when a stall begins
    peers: list[Any] = field(default_factory=list)  # the client address of each accepted message


class _ScriptedHandler:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.opened: asyncio.Event | None = None

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.script.lock:
            self.script.sessions += 1
            if self.opened is None:
                self.opened = asyncio.Event()
            if self.script.sessions >= self.script.gate:
                self.opened.set()
        return responses[:-1] + ["250-PIPELINING"] * self.script.pipelining + responses[-1:]

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.script.mail:
            return self.script.mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.script.lock:
            self.script.attempts[address] = self.script.attempts.get(address, 0) + 1
            answer = self.script.rcpt.get(address)
            if isinstance(answer, list):
                answer = answer.pop(0) if answer else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        if self.script.gate and self.opened is not None:
            await self.opened.wait()
        if rcpt in self.script.stall:
            self.script.stalled.set()
            await asyncio.Event().wait()  # never answers; the client must time out
        if rcpt in self.script.drop:
            server.transport.close()
            return "421 closing"
        if rcpt in self.script.data:
            return self.script.data[rcpt]
        with self.script.lock:
            if self.script.drop_after is not None and len(self.script.accepted) >= self.script.drop_after:
                server.transport.close()
                return "421 closing"
            self.script.accepted.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                                 envelope.original_content))
            self.script.peers.append(session.peer)
        return "250 OK"


@dataclass
class ScriptedServer:
    url: str
    script: Script
    controller: Any = None


@pytest.fixture
def scripted_smtp() -> Iterator[ScriptedServer]:
    """A real aiosmtpd server whose answers a test scripts (4xx, 5xx, dropped connections)."""
    script = Script()
    port = free_port()
    controller = Controller(_ScriptedHandler(script), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield ScriptedServer(f"smtp://127.0.0.1:{port}", script, controller)
    finally:
        controller.stop()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class FeedServer:
    root: Path
    url: str

    def feed(self, name: str) -> str:
        return f"{self.url}/{name}"


@pytest.fixture
def feed_server(tmp_path: Path) -> Iterator[FeedServer]:
    """A real HTTP server on a free port serving a copy of tests/fixtures/feeds (Last-Modified, 304s)."""
    root = tmp_path / "www"
    shutil.copytree(FIXTURES / "feeds", root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FeedServer(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Test CA")).issuer_name(_name("Test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def tamper(token: str) -> str:
    """Return ``token`` with one character of its signature changed.

    A middle character, not the last: the last base64 character of a signature also
    carries padding bits, and changing only those leaves the signature valid.
    """
    head, dot, signature = token.rpartition(".")
    i = len(signature) // 2
    return head + dot + signature[:i] + ("A" if signature[i] != "A" else "B") + signature[i + 1:]


def write_config(folder: Path, *, smtp_url: str, sources: list[dict[str, str]], extra: str = "") -> Path:
    """Write a newsletter.toml for a test newsletter in ``folder`` and return its path."""
    lines = [
        "[newsletter]",
        'title = "Test Briefing"',
        'from = "Test Briefing <briefing@example.org>"',
        'base_url = "https://news.example.org"',
        'timezone = "Asia/Almaty"',
        'postal_address = "1 Test Street, Almaty"',
        "",
        "[smtp]",
        f'url = "{smtp_url}"',
        "",
        "[storage]",
        'url = "sqlite:///state.db"',
        "",
        "[gather]",
        "timeout = 5",
    ]
    for source in sources:
        lines += ["", "[[sources]]", *(f'{k} = "{v}"' for k, v in source.items())]
    for name, keywords in [
        ("Russia", ["Russia", "Kremlin", "Putin", "Moscow", "Россия"]),
        ("China", ["China", "Beijing", "Chinese"]),
        ("Energy", ["oil", "gas", "pipeline"]),
    ]:
        lines += ["", "[[sections]]", f'name = "{name}"', "keywords = [" + ", ".join(f'"{k}"' for k in keywords) + "]"]
    path = folder / "newsletter.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    """A folder holding a copy of the fixture briefing documents."""
    folder = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "documents", folder)
    return folder


@pytest.fixture
def newsletter_dir(tmp_path: Path, sink: Sink, feed_server: FeedServer, documents: Path) -> Path:
    """A complete newsletter: two HTTP feeds, a documents folder, the sink, a SQLite file."""
    write_config(tmp_path, smtp_url=sink.url, sources=[
        {"url": feed_server.feed("rss2.xml")},
        {"url": feed_server.feed("atom.xml")},
        {"path": "inbox"},
    ])
    return tmp_path


@pytest.fixture
def app(newsletter_dir: Path) -> Iterator[Newsletter]:
    """The newsletter in ``newsletter_dir`` with three active subscribers and one pending."""
    newsletter = Newsletter(load(newsletter_dir / "newsletter.toml", environ={}))
    for email, name in [("ann@example.org", "Ann Lee"), ("bek@example.org", "Бекзат"), ("cy@example.org", "")]:
        subscribers.add(newsletter.store, email, name=name, status="active")
    subscribers.add(newsletter.store, "pending@example.org")
    yield newsletter
    newsletter.store.close()


ADMIN_TOKEN = "test-admin-token-0123456789"


class InProcess:
    """Drive an ASGI app in-process with httpx (no server, no socket); keeps cookies like a browser."""

    def __init__(self, asgi: Any, base_url: str = "http://testserver",
                 client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        import httpx

        self.asgi = asgi
        self.base_url = base_url
        self.client = client  # the peer address the app sees
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        import asyncio

        import httpx

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi, client=self.client)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url, cookies=self.cookies) as client:
                response = await client.request(method, url, **kwargs)
                self.cookies = client.cookies
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def web_app(app: Newsletter) -> Newsletter:
    """The ``app`` newsletter (same store) with an admin token, so the editor's desk opens."""
    return Newsletter(app.config.replace(web={"admin_token": ADMIN_TOKEN}), store=app.store)


@pytest.fixture
def client(web_app: Newsletter) -> InProcess:
    """The web app of ``web_app``, driven in-process."""
    from newsletter.web import create_app

    return InProcess(create_app(web_app))


@dataclass
class Postgres:
    """A PostgreSQL server started for the tests from the machine's binaries (initdb, pg_ctl)."""

    port: int
    databases: int = 0

    def create(self) -> str:
        """Create a fresh database and return its ``postgresql://`` URL."""
        import psycopg

        self.databases += 1
        name = f"newsletter_{self.databases}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def _postgres_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        pytest.fail(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return str(found)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """One PostgreSQL for the session, in a temporary folder, as an unprivileged user when run as root."""
    import os
    import subprocess
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "nobody")
        prefix = ["runuser", "-u", "nobody", "--"]
    data, port = base / "data", free_port()
    run = partial(subprocess.run, check=True, capture_output=True, cwd=base)
    run([*prefix, _postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C", "--no-sync"])
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run([*prefix, _postgres_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w",
         "start"])
    try:
        yield Postgres(port)
    finally:
        run([*prefix, _postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return postgres_server.create()


def queue_issue(app: Newsletter) -> tuple[int, Any]:
    """Gather, then record the next issue and its outbox without delivering it (a worker will).

    Return the issue's id and its Composer.
    """
    from newsletter import delivery
    from newsletter.edit import issue
    from newsletter.email.render import render

    app.gather()
    draft = app.draft()
    rendered = render(app.config, draft)
    composer = app.composer(draft, rendered)
    with app.store.begin() as conn:
        issue_id = issue.record(conn, app.store, draft, html=rendered.html, text=rendered.text)
        delivery.create_outbox(conn, app.store, issue_id=issue_id, composer=composer)
    return issue_id, composer


def add_readers(app: Newsletter, count: int) -> list[str]:
    """Add ``count`` active subscribers r0@example.org, r1@… in one statement; return their addresses."""
    from newsletter.store import now

    emails = [f"r{i}@example.org" for i in range(count)]
    t, moment = app.store.t.subscribers, now()
    with app.store.begin() as conn:
        conn.execute(t.insert(), [dict(email=e, email_key=e, name=f"R {i}", status="active", sections="",
                                       origin="test", created_at=moment, updated_at=moment)
                                  for i, e in enumerate(emails)])
    return emails
