"""Headless Chromium for the tests (Debian's, driven by Playwright, which never downloads a browser of its own),
and the web app served on a free loopback port for it to open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from helpers.newsletters import ADMIN_TOKEN
from newsletter.app import Newsletter
from newsletter.web import create_app
from newsletter.web.server import Background, bind, url_of

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Start headless Chromium for as long as the block runs."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def tab(browser: Browser, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """Open a page in a fresh context (no cookies shared with other tests)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


@contextmanager
def served(newsletter: Newsletter, *, mailbox: Any = None) -> Iterator[tuple[Newsletter, str]]:
    """Serve ``newsletter``'s web app on a free port, its base_url pointing there; yield it and the address."""
    sock = bind("127.0.0.1", 0)
    url = url_of(sock)
    site = Newsletter(newsletter.config.replace(newsletter={"base_url": url}), store=newsletter.store)
    with Background(create_app(site, mailbox=mailbox), sock=sock):
        yield site, url


def log_in(page: Page, url: str) -> None:
    """Log in to the editor's desk at ``url`` with the tests' admin token."""
    page.goto(url + "/desk/login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button:has-text('Log in')")
    assert page.locator("h1").inner_text() == "Editor's desk"
