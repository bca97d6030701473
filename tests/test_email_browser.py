"""The email and the archive in a real headless Chromium (Debian's, driven by Playwright).

Pages are served by a local HTTP server; the newsletter's base_url points at it, so the
email's links (view in browser, continue reading online) lead to the archive pages it
serves. Screenshots at 375 px and 600 px, light and dark, go to test-artifacts/.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Iterator
from email import message_from_bytes, policy
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.sample_issue import big_draft, draft
from playwright.sync_api import Browser, Page, sync_playwright

from newsletter.config import Config, parse
from newsletter.email.message import Composer, Recipient
from newsletter.email.render import Renderer
from newsletter.tokens import Signer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = (375, 600)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on a free loopback port: ``(folder, base URL)``."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _config(root: Path, base: str) -> Config:
    (root / "logo.png").write_bytes(_png(240, 80, (200, 160, 40)))
    return parse({"newsletter": {"title": "Test Briefing", "base_url": base, "postal_address": "1 Test Street"},
                  "theme": {"logo_url": f"{base}/logo.png", "logo_width": 120, "logo_height": 40}},
                 root=root, environ={})


def _publish(root: Path, config: Config, issue: Any, name: str) -> str:
    """Write the reader's copy as ``name`` and the issue's archive page; return the email's HTML."""
    renderer = Renderer(config, issue)
    composer = Composer(config, number=issue.number, subject=issue.subject, rendered=renderer,
                        signer=Signer("k"), date=issue.date)
    message = message_from_bytes(composer.build(Recipient(1, "ann@example.org", "Ann Lee")), policy=policy.default)
    html = message.get_body(("html",)).get_content()
    (root / name).write_text(html, encoding="utf-8")
    (root / "archive").mkdir(exist_ok=True)
    (root / "archive" / f"{issue.number}.html").write_text(renderer.page(), encoding="utf-8")
    return str(html)


def _open(browser: Browser, url: str, width: int, scheme: str = "light") -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)  # type: ignore[arg-type]
    page.goto(url)
    page.wait_for_load_state("load")
    return page


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    assert (ARTIFACTS / name).stat().st_size > 0


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_email_fits_and_reads_well(browser: Browser, site: tuple[Path, str], width: int, scheme: str) -> None:
    root, base = site
    _publish(root, _config(root, base), draft(), "email.html")
    page = _open(browser, f"{base}/email.html", width, scheme)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        card = page.locator(".nl-card").first.bounding_box()
        assert card and card["width"] == min(width, 600)
        logo = page.locator("img").first
        assert logo.evaluate("i => i.complete && i.naturalWidth") == 240
        box = logo.bounding_box()
        assert box and (round(box["width"]), round(box["height"])) == (120, 40)
        preheader = page.locator("body > div").first
        assert preheader.evaluate("d => getComputedStyle(d).display") == "none"
        assert not page.get_by_text("Kremlin signals new gas deal ·").first.is_visible()
        paragraph = page.get_by_text("Moscow hinted at a new gas supply").first
        assert float(paragraph.evaluate("p => parseFloat(getComputedStyle(p).fontSize)")) >= 16
        headline = page.get_by_role("link", name="Kremlin signals new gas deal")
        assert headline.is_visible()
        text = _rgb(paragraph.evaluate("p => getComputedStyle(p).color"))
        background = _rgb(page.locator(".nl-card > table").first.evaluate("t => getComputedStyle(t).backgroundColor"))
        if scheme == "light":
            assert background == (255, 255, 255) and sum(text) < 150
            assert _rgb(headline.evaluate("a => getComputedStyle(a).color")) == (11, 46, 79)
        else:  # the dark-mode rules win over the inlined light colours
            assert sum(background) < 150 and sum(text) > 600
        _shot(page, f"email-{width}-{scheme}.png")
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_trimmed_email_continues_online(browser: Browser, site: tuple[Path, str], width: int) -> None:
    root, base = site
    html = _publish(root, _config(root, base), big_draft(80), "long.html")
    assert len(html.encode("utf-8")) < 102_000
    page = _open(browser, f"{base}/long.html", width)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        button = page.get_by_role("link", name="Continue reading online")
        button.scroll_into_view_if_needed()
        assert button.is_visible()
        _shot(page, f"email-trimmed-{width}.png")
        with page.context.expect_page() as opened:  # an email's button opens a new tab
            button.click()
        online = opened.value
        online.wait_for_load_state("load")
        assert online.url.startswith(f"{base}/archive/1.html#item-")
        target = online.locator(f"#{online.url.rsplit('#', 1)[1]}")
        assert target.is_visible() and target.evaluate("e => e.getBoundingClientRect().top") < 900
        assert online.evaluate("document.documentElement.scrollWidth") <= width
        online.close()
    finally:
        page.close()


def test_the_archive_index_and_page_in_the_browser(browser: Browser, site: tuple[Path, str]) -> None:
    root, base = site
    config = _config(root, base)
    _publish(root, config, draft(), "email.html")
    from newsletter.email.render import render_template

    index = render_template(config, "archive.html", {"issues": [
        {"number": 1, "subject": "Test Briefing #1: Kremlin signals new gas deal", "preheader": "Gas, freight",
         "url": f"{base}/archive/1.html", "date": "23 November 2026"}]})[0]
    (root / "archive" / "index.html").write_text(index, encoding="utf-8")
    page = _open(browser, f"{base}/archive/", 375)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        _shot(page, "archive-index-375.png")
        page.get_by_role("link", name="Test Briefing #1: Kremlin signals new gas deal").click()
        page.wait_for_load_state("load")
        assert page.url == f"{base}/archive/1.html"
        assert page.get_by_role("link", name="All issues").is_visible()
        assert page.get_by_text("Hello").count() == 0
        _shot(page, "archive-page-375.png")
    finally:
        page.close()
