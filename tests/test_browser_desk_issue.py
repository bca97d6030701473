"""The editor arranges the next issue in a real headless Chromium: edit and restore, drag, keyboard, split, merge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.browser import chromium, log_in, served, tab
from playwright.sync_api import Browser, Page, expect

from newsletter.app import Newsletter
from newsletter.edit.issue import Draft

KREMLIN = "Kremlin signals new gas deal"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def desk(web_app: Newsletter, browser: Browser) -> Iterator[tuple[Newsletter, Page, str]]:
    """The desk served on a free port, a browser tab logged in to it, and the address."""
    web_app.gather()
    with served(web_app) as (site, url), tab(browser, height=2400) as page:  # a drag that scrolls loses its item
        log_in(page, url)
        yield site, page, url


def order_of(page: Page, section: str) -> list[int]:
    return [int(i) for i in page.locator(f'ol[data-section="{section}"] > li.story').evaluate_all(
        "items => items.map(li => li.dataset.id)")]


def preview_text(page: Page, url: str) -> str:
    page.goto(url + "/desk/preview")
    return page.frame_locator("#preview-desktop").locator("body").inner_text()


def test_edit_a_headline_then_restore_it(desk: tuple[Newsletter, Page, str]) -> None:
    site, p, url = desk
    kremlin = next(x.item.id for x in site.draft().plan if x.item.title == KREMLIN)
    p.goto(url + "/desk/")
    p.click("header >> text=Arrange")
    p.click(f"#item-{kremlin} >> text=edit")
    expect(p.locator("#title")).to_have_value(KREMLIN)
    p.fill("#title", "Moscow offers Tashkent a gas deal")
    p.fill("#summary", "Gas talks, as the editor tells them.")
    p.click("#edit-text button:has-text('Save')")
    expect(p.locator("p.flash")).to_have_text(f"Item {kremlin}: headline and summary saved.")
    expect(p.locator(f"#item-{kremlin} .headline")).to_have_text("Moscow offers Tashkent a gas deal")
    expect(p.locator(f"#item-{kremlin} .status.edited")).to_be_visible()
    shown = preview_text(p, url)
    assert "Moscow offers Tashkent a gas deal" in shown and "Gas talks, as the editor tells them." in shown
    assert KREMLIN not in shown

    p.goto(f"{url}/desk/issue/items/{kremlin}")
    expect(p.locator("#source-title")).to_have_text(KREMLIN)
    p.click("#restore button")
    expect(p.locator("p.flash")).to_have_text(f"Item {kremlin}: the source's headline and summary are back.")
    expect(p.locator(f"#item-{kremlin} .status.edited")).to_have_count(0)
    assert KREMLIN in preview_text(p, url)


def test_reorder_by_drag_and_by_keyboard_then_split_and_merge(desk: tuple[Newsletter, Page, str]) -> None:
    site, p, url = desk
    draft: Draft = site.draft()
    section = max(draft.sections, key=lambda s: len(s.items))
    ids = [x.item.id for x in section.items]
    assert len(ids) >= 3
    p.goto(url + "/desk/issue")
    assert order_of(p, section.name) == ids

    # Drag the last story by its handle onto the top of the first.
    p.locator(f"#item-{ids[-1]} .handle").drag_to(p.locator(f"#item-{ids[0]}"), target_position={"x": 40, "y": 2})
    expect(p.locator("p.flash")).to_have_text(f"New order of {section.name} saved.")
    dragged = [ids[-1], *ids[:-1]]
    assert order_of(p, section.name) == dragged
    assert [x.item.id for s in site.draft().sections if s.name == section.name for x in s.items] == dragged

    # The keyboard's way: from the story's headline, Tab to its "down" button (first now: "up" is off), Enter.
    p.locator(f"#item-{ids[-1]} a.headline").focus()
    p.keyboard.press("Tab")
    expect(p.locator(f"#item-{ids[-1]} button[aria-label='Move item {ids[-1]} down']")).to_be_focused()
    p.keyboard.press("Enter")
    expect(p.locator("p.flash")).to_have_text(f"Item {ids[-1]} moved down.")
    keyed = [dragged[1], ids[-1], *dragged[2:]]
    assert order_of(p, section.name) == keyed
    openings = [" ".join(x.item.summary.split()[:6]) for s in site.draft().sections if s.name == section.name
                for x in s.items]
    shown = " ".join(preview_text(p, url).split())  # the preview shows the new order
    positions = [shown.find(o) for o in openings[:3]]
    assert -1 not in positions and positions == sorted(positions)
    p.goto(url + "/desk/issue")

    # Merge the first two stories of the section, then split them again.
    first, second = keyed[0], keyed[1]
    p.goto(f"{url}/desk/issue/items/{second}")
    p.select_option("#into", str(first))
    p.click("#merge button")
    expect(p.locator("p.flash")).to_have_text(f"Item {second} merged with item {first}.")
    expect(p.locator(f"#item-{first} #member-{second}")).to_be_visible()  # one story (where its sources place it)
    expect(p.locator(f"li.story#item-{second}")).to_have_count(0)
    p.click(f"#member-{second} button:has-text('split')")
    expect(p.locator("p.flash")).to_have_text(f"Item {second} split from its story.")
    expect(p.locator(f"#member-{second}")).to_have_count(0)
    expect(p.locator(f"li.story#item-{first}")).to_have_count(1)
    expect(p.locator(f"li.story#item-{second}")).to_have_count(1)
