"""Fixtures: real local servers, test newsletters over temporary folders, the web app in-process.

Each fixture starts only what its name says. ``app`` starts no server: it reads its feeds
and documents as files, and sends to a free port where ``sink`` listens if the test asks
for it. A test that fetches over HTTP asks for ``feed_server``. The helpers these fixtures
use live in ``tests/helpers/``.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.asgi import InProcess
from helpers.dovecot import Dovecot, Mailbox, run_dovecot
from helpers.http import FeedServer, serve_folder
from helpers.newsletters import ADMIN_TOKEN, FIXTURES, write_config
from helpers.postgres import Postgres, run_postgres
from helpers.smtp import ScriptedServer, serve_script
from helpers.tls import make_certificates

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.sink import Sink, free_port


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite the golden files from this run.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden files (``--update-golden``)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def smtp_port() -> int:
    """A free loopback port for the test newsletter's SMTP server; nothing listens until ``sink`` does."""
    return free_port()


@pytest.fixture
def sink(smtp_port: int) -> Iterator[Sink]:
    """A real SMTP server on ``smtp_port`` that accepts everything."""
    with Sink(port=smtp_port) as server:
        yield server


@pytest.fixture
def scripted_smtp() -> Iterator[ScriptedServer]:
    """A real aiosmtpd server whose answers a test scripts (4xx, 5xx, dropped connections)."""
    with serve_script() as server:
        yield server


@pytest.fixture
def feeds(tmp_path: Path) -> Path:
    """A folder holding a copy of the fixture feeds, which a test may change."""
    folder = tmp_path / "www"
    shutil.copytree(FIXTURES / "feeds", folder)
    return folder


@pytest.fixture
def feed_server(feeds: Path) -> Iterator[FeedServer]:
    """A real HTTP server on a free port serving ``feeds`` (Last-Modified, 304s)."""
    with serve_folder(feeds) as server:
        yield server


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem)."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server_context(certificates: tuple[Path, Path, Path]) -> ssl.SSLContext:
    """A server's TLS context holding the certificate of ``certificates``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates[1], certificates[2])
    return context


@pytest.fixture(scope="session")
def imap_server(certificates: tuple[Path, Path, Path]) -> Iterator[Dovecot]:
    """A real IMAP server (Dovecot) on loopback for the session: plain with STARTTLS, and TLS."""
    with run_dovecot(certificates) as server:
        yield server


@pytest.fixture
def imap(imap_server: Dovecot) -> Mailbox:
    """An empty mailbox of a user of its own on ``imap_server``."""
    return imap_server.user()


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    """A folder holding a copy of the fixture briefing documents."""
    folder = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "documents", folder)
    return folder


@pytest.fixture
def newsletter_dir(tmp_path: Path, smtp_port: int, feeds: Path, documents: Path) -> Path:
    """A complete newsletter: two feeds and a documents folder read as files, a SQLite file.

    It mails ``smtp_port``; a test that sends asks for ``sink`` too.
    """
    write_config(tmp_path, smtp_url=f"smtp://127.0.0.1:{smtp_port}", sources=[
        {"path": f"{feeds.name}/rss2.xml"},
        {"path": f"{feeds.name}/atom.xml"},
        {"path": documents.name},
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


@pytest.fixture
def web_app(app: Newsletter) -> Newsletter:
    """The ``app`` newsletter (same store) with an admin token, so the editor's desk opens."""
    return Newsletter(app.config.replace(web={"admin_token": ADMIN_TOKEN}), store=app.store)


@pytest.fixture
def client(web_app: Newsletter) -> InProcess:
    """The web app of ``web_app``, driven in-process."""
    # The web app is a heavy import (FastAPI): only the tests that drive it pay for it.
    from newsletter.web import create_app

    return InProcess(create_app(web_app))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """One PostgreSQL for the session, in a temporary folder, as an unprivileged user when run as root."""
    with run_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return postgres_server.create()
