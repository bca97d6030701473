"""Serve the web app with uvicorn: in the foreground (``newsletter serve``) or in a background thread.

The listening socket is bound before uvicorn starts, so the address is known (and
connections queue) at once: callers need not wait for the server to come up.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from newsletter.app import Newsletter
from newsletter.error import NewsletterError
from newsletter.web import create_app
from newsletter.web.mailview import CaughtMail


def bind(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` (``port`` 0: a free one), or raise NewsletterError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise NewsletterError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """Return the http:// address a bound socket serves."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is ready: after startup, with its signal handlers in place."""

    def __init__(self, config: uvicorn.Config, ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready()


def _server(app: Any, *, log_level: str = "warning", access_log: bool = False,
            ready: Callable[[], None] = lambda: None) -> uvicorn.Server:
    # No proxy headers: the app alone decides whom to believe (``web.trusted_proxies``).
    return _Server(uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="off",
                                  proxy_headers=False), ready)


def serve(app: Any, sock: socket.socket, *, ready: Callable[[], None] = lambda: None) -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl-C, SIGTERM); call ``ready`` once it is serving."""
    _server(app, log_level="info", access_log=True, ready=ready).run(sockets=[sock])


class Background:
    """Serve ``app`` from a daemon thread while the ``with`` block runs; ``url`` is where."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None) -> None:
        self.sock = sock or bind(host, port)
        self.url = url_of(self.sock)
        self._server = _server(app)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.sock]},
                                        name="web", daemon=True)

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self.sock.close()


def run(newsletter: Newsletter, host: str, port: int, *, announce: Callable[[str], None] = print,
        mailbox: CaughtMail | None = None, sock: socket.socket | None = None) -> None:
    """Serve ``newsletter``'s web app on ``host:port`` (or the bound ``sock``) until interrupted."""
    sock = sock or bind(host, port)
    url = url_of(sock)
    line = (f"serving {newsletter.config.newsletter.title} at {url}/ (editor's desk: {url}/desk/, "
            f"API: {url}/api/docs){', mail: ' + url + '/mail/' if mailbox is not None else ''}; Ctrl-C stops")
    serve(create_app(newsletter, mailbox=mailbox), sock, ready=lambda: announce(line))
