"""What a person clicks through, in a real headless Chromium (Debian's, driven by Playwright).

The web app runs under uvicorn on a free loopback port; mail goes to a real SMTP sink
that the app's mail view shows, as in ``newsletter demo --serve``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from helpers.newsletters import ADMIN_TOKEN
from helpers.smtp import wait_for_messages
from playwright.sync_api import Browser, Page, sync_playwright

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.sink import Sink
from newsletter.web import create_app
from newsletter.web.server import Background, bind, url_of

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Site:
    def __init__(self, newsletter: Newsletter, url: str) -> None:
        self.newsletter = newsletter
        self.url = url


@pytest.fixture
def site(web_app: Newsletter, sink: Sink) -> Iterator[Site]:
    """The web app served on a free port, its base_url pointing there, with the sink's mail view."""
    sock = bind("127.0.0.1", 0)
    url = url_of(sock)
    newsletter = Newsletter(web_app.config.replace(newsletter={"base_url": url, "languages": ["en", "ru", "kk"]}),
                            store=web_app.store)
    with Background(create_app(newsletter, mailbox=sink), sock=sock):
        yield Site(newsletter, url)


@pytest.fixture(name="p")
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def test_sign_up_confirm_from_the_mail_then_choose_sections(site: Site, p: Page, sink: Sink) -> None:
    p.goto(site.url + "/")
    p.fill("#email", "reader@example.org")
    p.fill("#name", "Rae")
    p.check("input[name=sections][value=Russia]")
    p.click("button[type=submit]")
    assert p.locator("h1").inner_text() == "Check your inbox"
    assert wait_for_messages(sink, 1, timeout=30)
    assert subscribers.get(site.newsletter.store, "reader@example.org").status == "pending"

    p.goto(site.url + "/mail/")
    p.click("text=Confirm your subscription to Test Briefing")
    frame = p.frame_locator("#mail-html")
    assert "Please confirm that you want to receive Test Briefing" in frame.locator("body").inner_text()
    with p.context.expect_page() as opened:
        frame.locator("a", has_text="Confirm subscription").first.click()
    confirm = opened.value
    confirm.wait_for_load_state()
    assert confirm.url.startswith(site.url + "/confirm/")
    assert subscribers.get(site.newsletter.store, "reader@example.org").status == "pending"  # the page only asks
    confirm.click("button:has-text('Confirm subscription')")
    assert confirm.locator("h1").inner_text() == "You are subscribed"
    reader = subscribers.get(site.newsletter.store, "reader@example.org")
    assert (reader.status, reader.name, reader.sections) == ("active", "Rae", ("Russia",))

    confirm.click("text=Choose sections or change your name")
    assert confirm.locator("input[value=Russia]").is_checked()
    confirm.fill("#name", "Rae Lin")
    confirm.check("input[name=sections][value=Energy]")
    confirm.click("button:has-text('Save')")
    assert confirm.locator("p.flash").inner_text() == "Saved."
    reader = subscribers.get(site.newsletter.store, "reader@example.org")
    assert (reader.name, reader.sections) == ("Rae Lin", ("Russia", "Energy"))


def test_the_sign_up_form_sends_the_browsers_time_zone(site: Site, browser: Browser, sink: Sink) -> None:
    # Not the newsletter's zone (Asia/Almaty): the form must take the browser's.
    context = browser.new_context(timezone_id="Pacific/Auckland")
    try:
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        tab.goto(site.url + "/")
        assert tab.locator("#timezone").input_value() == "Pacific/Auckland"
        tab.fill("#email", "kiwi@example.org")
        tab.select_option("#language", "kk")
        tab.click("form[action='/subscribe'] button[type=submit]")
        assert wait_for_messages(sink, 1, timeout=30)
    finally:
        context.close()
    reader = subscribers.get(site.newsletter.store, "kiwi@example.org")
    assert (reader.status, reader.language, reader.timezone) == ("pending", "kk", "Pacific/Auckland")


def test_the_preferences_page_changes_language_and_zone(site: Site, browser: Browser) -> None:
    store = site.newsletter.store
    ann = subscribers.get(store, "ann@example.org")
    context = browser.new_context(timezone_id="Europe/Moscow")
    try:
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        tab.goto(f"{site.url}/preferences/{site.newsletter.signer().sign('unsubscribe', ann.id)}")
        assert tab.locator("#receives").inner_text() == "You receive all sections."
        assert tab.locator("#timezone").input_value() == ""
        tab.select_option("#language", "ru")
        tab.click("#device-zone")  # the page offers the device's zone
        assert tab.locator("#timezone").input_value() == "Europe/Moscow"
        tab.click("form[action^='/preferences/'] button[type=submit]")
        tab.locator("p.flash").wait_for()
        assert tab.locator("#language").input_value() == "ru"
    finally:
        context.close()
    ann = subscribers.get(store, "ann@example.org")
    assert (ann.language, ann.timezone) == ("ru", "Europe/Moscow")


def test_unsubscribe_from_an_issue(site: Site, p: Page, sink: Sink) -> None:
    site.newsletter.send(fetch=True)
    delivered = next(m.parse() for m in sink.messages if m.recipients == ("bek@example.org",))
    link = re.search(r"<(http://127\.0\.0\.1:\d+/unsubscribe/[^>]+)>", str(delivered["List-Unsubscribe"]))
    assert link and link.group(1).startswith(site.url)
    p.goto(link.group(1))
    assert p.locator("button").count() == 1
    assert subscribers.get(site.newsletter.store, "bek@example.org").status == "active"
    p.click("button:has-text('Unsubscribe')")
    assert p.locator("h1").inner_text() == "You are unsubscribed"
    assert subscribers.get(site.newsletter.store, "bek@example.org").status == "unsubscribed"


def test_the_editor_previews_edits_and_sends_a_test(site: Site, p: Page, sink: Sink) -> None:
    site.newsletter.gather()
    draft = site.newsletter.draft()
    shown = [x.item for x in draft.plan if x.status == "in issue"]
    p.goto(site.url + "/desk/")
    assert p.url.endswith("/desk/login")
    p.fill("#token", ADMIN_TOKEN)
    p.click("button:has-text('Log in')")
    assert p.locator("h1").inner_text() == "Editor's desk"
    p.click("header >> text=Next issue")
    assert p.locator("h1").inner_text().startswith(f"Issue {draft.number}")
    desktop, mobile = p.locator("#preview-desktop"), p.locator("#preview-mobile")
    assert desktop.bounding_box()["width"] == pytest.approx(640, abs=2)
    assert mobile.bounding_box()["width"] == pytest.approx(375, abs=2)
    body = p.frame_locator("#preview-desktop").locator("body")
    # A briefing paragraph's title may be its section's name: its opening words identify it.
    opening = " ".join(shown[0].body.split()[:5])

    def words(text: str) -> str:
        return " ".join(text.split())

    assert "Test Briefing" in body.inner_text() and opening in words(body.inner_text())
    assert opening in words(p.locator("#preview-text").inner_text())

    p.locator(f"#item-{shown[0].id} button:has-text('drop')").click()
    assert p.locator("p.flash").inner_text() == f"Item {shown[0].id} dropped."
    assert opening not in words(p.frame_locator("#preview-desktop").locator("body").inner_text())
    assert opening not in words(p.locator("#preview-text").inner_text())

    p.fill("#to", "desk-test@example.org")
    p.click("button:has-text('Send test copy')")
    assert p.locator("p.flash").inner_text() == f"Test copy of issue {draft.number} sent to desk-test@example.org."
    assert wait_for_messages(sink, 1, timeout=30)
    test = sink.messages[-1].parse()
    assert test["Subject"].startswith("[TEST] ")
    assert opening not in words(test.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert shown[1].title[:30] in test.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    p.goto(site.url + "/mail/")
    assert p.locator("#mails tr").count() == 2
    p.click("text=[TEST]")
    assert "Test Briefing" in p.frame_locator("#mail-html").locator("body").inner_text()
