"""Real HTTP servers on loopback: one whose answers a test scripts (validators, redirects, gzip,
stalls, floods), and one serving a folder of feeds as files (Last-Modified, 304s)."""

from __future__ import annotations

import gzip
import hashlib
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import (
    BaseHTTPRequestHandler,
    SimpleHTTPRequestHandler,
    ThreadingHTTPServer,
)
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        web = self.server.web
        with web.lock:
            web.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
            web.in_flight += 1
            web.most_in_flight = max(web.most_in_flight, web.in_flight)
        try:
            route = web.routes.get(self.path)
            if route is None:
                self.answer(404, b"not found", "text/plain")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should with a hostile answer
        finally:
            with web.lock:
                web.in_flight -= 1

    def answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self, content_type: str = "application/rss+xml") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    web: Web


@dataclass
class Web:
    """Routes by exact path; every request is recorded with its headers."""

    host: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)  # releases stalled answers
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0
    port: int = 0
    scheme: str = "http"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def static(self, path: str, body: bytes, content_type: str = "application/rss+xml", *,
               etag: bool = True, compress: bool = False, headers: dict[str, str] | None = None) -> str:
        """Serve ``body`` at ``path``, answering 304 to a matching If-None-Match; return its URL."""
        tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

        def route(h: Handler) -> None:
            extra = dict(headers or {})
            if etag:
                extra["ETag"] = tag
                if h.headers.get("If-None-Match") == tag:
                    h.send_response(304)
                    h.send_header("ETag", tag)
                    h.send_header("Content-Length", "0")
                    h.end_headers()
                    return
            payload = body
            if compress and "gzip" in (h.headers.get("Accept-Encoding") or ""):
                payload = gzip.compress(body)
                extra["Content-Encoding"] = "gzip"
            h.answer(200, payload, content_type, extra)

        self.routes[path] = route
        return self.url(path)

    def redirect(self, path: str, target: str, status: int = 301) -> str:
        self.routes[path] = lambda h: h.answer(status, b"", "text/plain", {"Location": target})
        return self.url(path)


@contextmanager
def serve(host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> Iterator[Web]:
    """Run a Web on a free port of ``host`` until the block ends; stalled answers are released then.

    With ``tls``, over HTTPS: a client refusing the certificate fails its handshake, and the
    server goes on.
    """
    web = Web(host, scheme="https" if tls else "http")
    server = _Server((host, 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.web = web
    web.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield web
    finally:
        web.stop.set()
        server.shutdown()
        server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class FeedServer:
    """A running server of the files in ``root``."""

    root: Path
    url: str

    def feed(self, name: str) -> str:
        """Return the URL of the file ``name`` in ``root``."""
        return f"{self.url}/{name}"


@contextmanager
def serve_folder(root: Path) -> Iterator[FeedServer]:
    """Serve the files in ``root`` on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FeedServer(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
