"""Real local servers for the tests: an SMTP sink (aiosmtpd), an HTTP feed server, SQLite files."""

from __future__ import annotations

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
    """How the scripted SMTP server answers: per-recipient codes, and a drop after N messages."""

    rcpt: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 No such user"
    drop_after: int | None = None  # close the connection instead of accepting message N+1
    accepted: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _ScriptedHandler:
    def __init__(self, script: Script) -> None:
        self.script = script

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        answer = self.script.rcpt.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.script.lock:
            if self.script.drop_after is not None and len(self.script.accepted) >= self.script.drop_after:
                server.transport.close()
                return "421 closing"
            self.script.accepted.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                                 envelope.original_content))
        return "250 OK"


@dataclass
class ScriptedServer:
    url: str
    script: Script


@pytest.fixture
def scripted_smtp() -> Iterator[ScriptedServer]:
    """A real aiosmtpd server whose answers a test scripts (4xx, 5xx, dropped connections)."""
    script = Script()
    port = free_port()
    controller = Controller(_ScriptedHandler(script), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield ScriptedServer(f"smtp://127.0.0.1:{port}", script)
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
