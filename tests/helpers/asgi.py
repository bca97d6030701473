"""Drive the web app in-process, as datasette's tests do: httpx's ASGI transport, no server, no socket."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import httpx

from helpers.newsletters import ADMIN_TOKEN


class InProcess:
    """Drive an ASGI app in-process with httpx (no server, no socket); keeps cookies like a browser."""

    # https, as the test newsletters' base_url: the desk's cookie is Secure there, and httpx honours that.
    def __init__(self, asgi: Any, base_url: str = "https://testserver",
                 client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.asgi = asgi
        self.base_url = base_url
        self.client = client  # the peer address the app sees
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send one request to the app and return its response; keep the cookies it sets."""

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi, client=self.client)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url, cookies=self.cookies) as client:
                response = await client.request(method, url, **kwargs)
                self.cookies = client.cookies
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> Any:
        """Send a GET."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """Send a POST."""
        return self.request("POST", url, **kwargs)


def log_in(client: InProcess) -> str:
    """Log in to the editor's desk with ``ADMIN_TOKEN`` and return the session's CSRF token."""
    response = client.post("/desk/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/desk/"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    page = client.get("/desk/")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found
    return found.group(1)


def flash(client: InProcess, response: Any) -> str:
    """Follow a desk redirect and return the one-time message it shows, as ``ok: …`` or ``error: …``."""
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(r'<p class="flash (ok|error)" role="status">(.*?)</p>', page.text, re.S)
    assert found, page.text
    return f"{found.group(1)}: {html.unescape(found.group(2))}"
