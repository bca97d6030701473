"""The desk's issue editor driven in-process; a dropped item's section menu; times on the desk in the zone."""

from __future__ import annotations

import html
import re
from datetime import datetime

from helpers.asgi import InProcess, flash, log_in

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.edit import editorial
from newsletter.edit.issue import Draft

KREMLIN = "Kremlin signals new gas deal"
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
SHOWN = re.compile(r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2} \+05\b")


def stories(draft: Draft, section: str) -> list[int]:
    return [p.item.id for s in draft.sections if s.name == section for p in s.items]


def test_edit_reorder_split_and_merge_at_the_desk(client: InProcess, web_app: Newsletter) -> None:
    web_app.gather()
    csrf = log_in(client)
    draft = web_app.draft()
    kremlin = next(p for p in draft.plan if p.item.title == KREMLIN)
    page = client.get("/desk/issue")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for section in draft.sections:
        assert f'<ol class="stories" data-section="{section.name}">' in page.text
    assert f'id="item-{kremlin.item.id}"' in page.text and 'draggable="true"' in page.text

    form = client.get(f"/desk/issue/items/{kremlin.item.id}")
    assert f'value="{KREMLIN}"' in form.text and 'id="restore"' not in form.text
    shown_summary = html.unescape(re.search(r'name="shown_summary" value="([^"]*)"', form.text).group(1))  # type: ignore[union-attr]
    base = {"csrf": csrf, "shown_title": KREMLIN, "shown_summary": shown_summary}
    same = client.post(f"/desk/issue/items/{kremlin.item.id}/text", data={**base, "title": KREMLIN,
                                                                           "summary": shown_summary})
    assert flash(client, same) == f"ok: Item {kremlin.item.id}: nothing changed."
    saved = client.post(f"/desk/issue/items/{kremlin.item.id}/text",
                        data={**base, "title": "Moscow offers a gas deal", "summary": shown_summary})
    assert flash(client, saved) == f"ok: Item {kremlin.item.id}: headline saved."
    assert editorial.choices(web_app.store)[kremlin.item.id].summary is None  # only what changed is kept
    assert "Moscow offers a gas deal" in client.get("/desk/preview.txt").text
    edited = client.get(f"/desk/issue/items/{kremlin.item.id}")
    assert 'id="restore"' in edited.text and f"<strong>{KREMLIN}</strong>" in edited.text
    empty = client.post(f"/desk/issue/items/{kremlin.item.id}/text", data={**base, "title": " "})
    assert flash(client, empty).startswith(f"error: item {kremlin.item.id}: a headline cannot be empty")
    restored = client.post(f"/desk/issue/items/{kremlin.item.id}/restore", data={"csrf": csrf})
    assert flash(client, restored) == f"ok: Item {kremlin.item.id}: the source's headline and summary are back."
    assert KREMLIN in client.get("/desk/preview.txt").text

    order = stories(web_app.draft(), kremlin.section)
    assert len(order) >= 2
    last = order[-1]
    up = client.post(f"/desk/issue/items/{last}/up", data={"csrf": csrf})
    assert flash(client, up) == f"ok: Item {last} moved up."
    assert stories(web_app.draft(), kremlin.section) == [*order[:-2], last, order[-2]]
    dragged = client.post("/desk/issue/order", data={"csrf": csrf, "section": kremlin.section,
                                                     "ids": [str(i) for i in reversed(order)]})
    assert flash(client, dragged) == f"ok: New order of {kremlin.section} saved."
    assert stories(web_app.draft(), kremlin.section) == list(reversed(order))
    sideways = client.post(f"/desk/issue/items/{last}/left", data={"csrf": csrf})
    assert sideways.status_code == 422

    other = next(p.item.id for p in web_app.draft().plan if p.status == "in issue" and p.item.id != kremlin.item.id)
    merged = client.post(f"/desk/issue/items/{kremlin.item.id}/merge", data={"csrf": csrf, "into": str(other)})
    assert flash(client, merged) == f"ok: Item {kremlin.item.id} merged with item {other}."
    story = client.get(f"/desk/issue/items/{other}")
    members = re.findall(r"<tr><td>(\d+)</td>", story.text)
    assert sorted(members) == sorted([str(other), str(kremlin.item.id)])
    assert f'id="member-{kremlin.item.id}"' in client.get("/desk/issue").text
    split = client.post(f"/desk/issue/items/{kremlin.item.id}/split", data={"csrf": csrf})
    assert flash(client, split) == f"ok: Item {kremlin.item.id} split from its story."
    assert re.findall(r"<tr><td>(\d+)</td>", client.get(f"/desk/issue/items/{other}").text) == [str(other)]
    itself = client.post(f"/desk/issue/items/{other}/merge", data={"csrf": csrf, "into": str(other)})
    assert flash(client, itself) == f"error: item {other} cannot be merged with itself"
    missing = client.get("/desk/issue/items/999999")
    assert flash(client, missing) == "error: item 999999 is not waiting for the next issue"
    forged = client.post(f"/desk/issue/items/{other}/split", data={"csrf": "0" * 64})
    assert forged.status_code == 403 and not editorial.choices(web_app.store).get(other, editorial.Choice(0)).apart


def test_a_dropped_items_section_menu_shows_its_own_section(client: InProcess, web_app: Newsletter) -> None:
    web_app.gather()
    csrf = log_in(client)
    draft = web_app.draft()
    later = next(p for p in draft.plan if p.status == "in issue" and p.section != draft.sections[0].name)
    client.post(f"/desk/items/{later.item.id}/drop", data={"csrf": csrf})
    row = re.search(rf'<tr id="item-{later.item.id}">(.*?)</tr>', client.get("/desk/preview").text, re.DOTALL)
    assert row and "dropped" in row.group(1)
    assert re.findall(r"<option selected>([^<]+)</option>", row.group(1)) == [later.section]
    planned = next(p for p in web_app.draft().plan if p.item.id == later.item.id)
    assert (planned.status, planned.section) == ("dropped", later.section)
    assert draft.lead is not None  # in no section: its menu says so rather than show the first one
    lead = re.search(rf'<tr id="item-{draft.lead.item.id}">(.*?)</tr>', client.get("/desk/preview").text, re.DOTALL)
    assert lead and re.findall(r"<option[^>]* selected>([^<]+)</option>", lead.group(1)) == ["(no section)"]


def test_times_on_the_desk_are_in_the_newsletters_zone(client: InProcess, web_app: Newsletter) -> None:
    web_app.gather()
    log_in(client)
    ann = subscribers.get(web_app.store, "ann@example.org")
    with web_app.store.begin() as conn:  # a known moment: 1:30 UTC is 6:30 in Almaty (+05)
        conn.execute(web_app.store.t.subscribers.update().where(web_app.store.t.subscribers.c.id == ann.id)
                     .values(created_at=datetime(2026, 12, 6, 1, 30), status_changed_at=None))
    detail = client.get(f"/desk/subscribers/{ann.id}")
    assert "6 Dec 2026 06:30 +05" in detail.text
    client.asgi.state.tasks.start("gather", lambda: "done")
    client.asgi.state.tasks.wait(30)
    for url in ("/desk/", "/desk/subscribers", f"/desk/subscribers/{ann.id}", "/desk/issues", "/desk/preview",
                "/desk/issue"):
        page = client.get(url)
        assert page.status_code == 200
        assert not ISO.search(re.sub(r"<[^>]+>", " ", page.text)), (url, ISO.search(page.text))
    home = client.get("/desk/").text
    assert len(SHOWN.findall(home)) >= 2  # the sources' last success and the last task
