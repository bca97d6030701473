"""A webhook receiver: a real HTTP server on a free loopback port that checks each Standard Webhooks signature.

It can be stopped and started again on the same port, as an endpoint that is down for a while.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newsletter.sink import free_port
from newsletter.webhooks.signature import verify


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver took: its headers (lower case), its body and whether its signature held."""

    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def event(self) -> dict[str, Any]:
        """Return the JSON payload."""
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    """Accept signed POSTs on ``url``; ``status`` is the answer (200 unless a test changes it)."""

    secret: str
    port: int = field(default_factory=free_port)
    status: int = 200
    received: list[Delivery] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Return the address the newsletter POSTs to."""
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        """Start listening (again) on the same port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Delivery(headers, body, verify(receiver.secret, headers, body,
                                                                        now=time.time())))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
