"""The desk's issue report in a real headless Chromium: its charts are drawn, the issue's own bar stands out."""

from __future__ import annotations

from pathlib import Path

from helpers.browser import chromium, log_in, served, tab

from newsletter.app import Newsletter
from newsletter.sink import Sink


def test_the_report_page_draws_one_bar_per_issue_in_each_chart(web_app: Newsletter, sink: Sink,
                                                               documents: Path) -> None:
    web_app.send()
    (documents / "2026-12-01-ferry.txt").write_text(
        "Caspian ferry line opens\nA new ferry crosses the Caspian this spring.\n", encoding="utf-8")
    web_app.send()
    with served(web_app) as (_, url), chromium() as browser, tab(browser) as page:
        log_in(page, url)
        page.goto(url + "/desk/issues")
        page.click("a[href='/desk/issues/2/report']")
        assert page.locator("h1").inner_text().startswith("Issue 2:")
        charts = page.locator("#charts svg")
        assert charts.count() == 5
        for n in range(5):
            box = charts.nth(n).bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
            bars = charts.nth(n).locator("rect")
            assert bars.count() == 2
            assert bars.nth(1).get_attribute("fill") != bars.nth(0).get_attribute("fill")  # issue 2 stands out
        delivered = charts.nth(0).locator("rect")
        assert [delivered.nth(i).bounding_box()["height"] > 0 for i in range(2)] == [True, True]  # type: ignore[index]
        assert page.locator("#history tr").count() == 3
        assert "Clicks are not counted" in page.locator("#clicks").inner_text()
