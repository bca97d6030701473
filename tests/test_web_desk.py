"""The editor's desk, driven in-process: login, CSRF, live preview, editorial controls, sending, subscribers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from helpers.asgi import InProcess, flash, log_in
from helpers.newsletters import ADMIN_TOKEN

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.edit import editorial
from newsletter.sink import Sink
from newsletter.web import create_app


def test_the_desk_is_closed_without_an_admin_token(app: Newsletter) -> None:
    client = InProcess(create_app(app))
    assert client.get("/desk/login").status_code == 403
    assert client.post("/desk/login", data={"token": ""}).status_code == 403
    assert client.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"
    assert client.get("/api/subscribers").status_code == 403


def test_login_needs_the_token_and_every_form_needs_the_csrf_token(client: InProcess, web_app: Newsletter) -> None:
    assert client.get("/desk/preview", follow_redirects=False).headers["location"] == "/desk/login"
    wrong = client.post("/desk/login", data={"token": ADMIN_TOKEN[:-1] + "X"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    csrf = log_in(client)
    ann = subscribers.get(web_app.store, "ann@example.org")
    for data in ({"status": "bounced"}, {"status": "bounced", "csrf": "0" * 64}):
        refused = client.post(f"/desk/subscribers/{ann.id}/status", data=data)
        assert refused.status_code == 403 and "CSRF" in refused.text
    other = InProcess(client.asgi)
    other_csrf = log_in(other)
    assert other_csrf != csrf
    assert client.post(f"/desk/subscribers/{ann.id}/status", data={"status": "bounced", "csrf": other_csrf}
                       ).status_code == 403
    assert subscribers.get(web_app.store, "ann@example.org").status == "active"
    stranger = InProcess(client.asgi)  # no session: a forged form from another site
    assert stranger.post(f"/desk/subscribers/{ann.id}/status", data={"status": "bounced", "csrf": csrf},
                         follow_redirects=False).headers["location"] == "/desk/login"
    changed = client.post(f"/desk/subscribers/{ann.id}/status", data={"status": "bounced", "csrf": csrf})
    assert flash(client, changed) == "ok: ann@example.org is now bounced."
    out = client.post("/desk/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"


def test_sessions_expire(web_app: Newsletter) -> None:
    moment = [datetime(2026, 11, 20, 8, 0, tzinfo=UTC)]
    timed = Newsletter(web_app.config, store=web_app.store, clock=lambda: moment[0])
    client = InProcess(create_app(timed))
    log_in(client)
    moment[0] += timedelta(hours=11, minutes=59)
    assert client.get("/desk/", follow_redirects=False).status_code == 200
    moment[0] += timedelta(minutes=2)
    assert client.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"


def test_live_preview_and_editorial_controls(client: InProcess, web_app: Newsletter) -> None:
    web_app.gather()
    csrf = log_in(client)
    page = client.get("/desk/preview")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'id="preview-desktop"' in page.text and 'id="preview-mobile"' in page.text
    assert "width:640px" in page.text and "width:375px" in page.text
    draft, rendered = web_app.preview()
    framed = client.get("/desk/preview.html")
    assert framed.text == rendered.html and framed.headers["content-security-policy"] == "script-src 'none'"
    assert client.get("/desk/preview.txt").text == rendered.text
    assert f"Issue {draft.number}: {draft.subject}" in page.text.replace("&#39;", "'").replace("&amp;", "&")
    shown = [p for p in draft.plan if p.status == "in issue"]
    first, second = shown[0].item, shown[1].item
    assert f'id="item-{first.id}"' in page.text

    dropped = client.post(f"/desk/items/{first.id}/drop", data={"csrf": csrf})
    assert flash(client, dropped) == f"ok: Item {first.id} dropped."
    assert editorial.choices(web_app.store)[first.id].dropped
    # The title may be a section's name (a briefing paragraph under its heading): look for its words instead.
    opening = " ".join(first.body.split()[:8])
    assert opening in rendered.text and opening not in client.get("/desk/preview.txt").text
    moved = client.post(f"/desk/items/{second.id}/move", data={"csrf": csrf, "section": "Energy"})
    assert flash(client, moved) == f"ok: Item {second.id} moved to Energy."
    assert next(p for p in web_app.draft().plan if p.item.id == second.id).section == "Energy"
    pinned = client.post(f"/desk/items/{second.id}/pin", data={"csrf": csrf})
    assert flash(client, pinned) == f"ok: Item {second.id} pinned."
    assert editorial.choices(web_app.store)[second.id].pinned
    reset = client.post(f"/desk/items/{first.id}/reset", data={"csrf": csrf})
    assert flash(client, reset) == f"ok: Item {first.id} reset."
    assert first.id not in editorial.choices(web_app.store)
    bad = client.post(f"/desk/items/{second.id}/move", data={"csrf": csrf, "section": "Mars"})
    assert flash(client, bad).startswith("error: no section named 'Mars'")
    unknown = client.post("/desk/items/999999/pin", data={"csrf": csrf})
    assert flash(client, unknown) == "error: no item with id 999999 (see `newsletter items list`)"


def test_send_a_test_then_the_issue(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    web_app.gather()
    csrf = log_in(client)
    number = web_app.draft().number
    test = client.post("/desk/send/test", data={"csrf": csrf, "to": "Editor@Example.org"})
    assert flash(client, test) == f"ok: Test copy of issue {number} sent to Editor@example.org."
    assert len(sink.messages) == 1 and sink.messages[0].parse()["Subject"].startswith("[TEST] ")
    assert client.get("/desk/issues").text.count("<tr>") == 2  # header and "no issue yet": nothing recorded
    stale = client.post("/desk/send", data={"csrf": csrf, "number": str(number + 1)})
    assert "error: the next issue is now number" in flash(client, stale)
    sent = client.post("/desk/send", data={"csrf": csrf, "number": str(number)})
    assert sent.headers["location"] == "/desk/issues"
    job = client.asgi.state.tasks.wait(60)
    assert job is not None and not job.failed and job.message == f"issue {number} sent to 3 of 3 subscribers"
    issues = client.get("/desk/issues")
    row = re.search(rf'<tr><td><a href="/archive/{number}.html">{number}</a></td>(.*?)</tr>', issues.text, re.S)
    assert row and re.findall(r"<td>(\d+)</td>", row.group(1)) == ["3", "0", "0", "0", "0"]
    assert "Last send: " in issues.text and f"issue {number} sent to 3 of 3" in issues.text
    assert len(sink.messages) == 4
    again = client.post("/desk/send", data={"csrf": csrf, "number": str(number)})
    assert flash(client, again).startswith("error: the next issue is now number")


def test_subscribers_search_status_history_and_confirmation(client: InProcess, web_app: Newsletter,
                                                            sink: Sink) -> None:
    csrf = log_in(client)
    found = client.get("/desk/subscribers", params={"q": "ANN"})
    assert "ann@example.org" in found.text and "bek@example.org" not in found.text and "1 match;" not in found.text
    assert "1 match." in found.text
    pending = client.get("/desk/subscribers", params={"status": "pending"})
    assert "pending@example.org" in pending.text and "ann@example.org" not in pending.text
    added = client.post("/desk/subscribers", data={"csrf": csrf, "email": "New@Example.org", "name": "New"})
    assert flash(client, added) == "ok: Added New@example.org (pending)."
    new = subscribers.get(web_app.store, "new@example.org")
    assert new.origin == "desk"
    confirm = client.post(f"/desk/subscribers/{new.id}/confirmation", data={"csrf": csrf})
    assert flash(client, confirm) == "ok: Confirmation link sent to New@example.org."
    assert sink.messages[-1].recipients == ("New@example.org",)
    twice = client.post(f"/desk/subscribers/{new.id}/confirmation", data={"csrf": csrf})
    assert "less than 10 minutes ago; not sent again" in flash(client, twice)
    assert len(sink.messages) == 1
    client.post(f"/desk/subscribers/{new.id}/status", data={"csrf": csrf, "status": "unsubscribed"})
    back = client.post(f"/desk/subscribers/{new.id}/status", data={"csrf": csrf, "status": "active"})
    assert "only the reader can subscribe again" in flash(client, back)
    detail = client.get(f"/desk/subscribers/{new.id}")
    history = re.findall(r"<tr><td>[^<]*</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", detail.text)
    assert history == [("added", "pending", "desk"), ("confirmation-sent", "pending", "desk"),
                       ("unsubscribed", "unsubscribed", "desk")]


def test_import_and_export(client: InProcess, web_app: Newsletter) -> None:
    csrf = log_in(client)
    upload = "email,name,sections,status\nzoe@example.org,Zoe,Russia,active\nbroken,,,\nann@example.org,Ann Lee,,\n"
    page = client.post("/desk/subscribers/import", data={"csrf": csrf},
                       files={"file": ("list.csv", upload.encode(), "text/csv")})
    assert page.status_code == 200
    assert "1 added, 0 updated, 1 unchanged, 1 rejected." in page.text
    assert re.search(r"<td>3</td><td>invalid email address &#39;broken&#39;", page.text)
    assert subscribers.get(web_app.store, "zoe@example.org").origin == "desk-import"
    export = client.get("/desk/subscribers/export.csv", params={"status": "active"})
    assert export.headers["content-type"].startswith("text/csv")
    assert export.text.splitlines()[0] == "email,name,sections,status,language,timezone"
    assert "zoe@example.org,Zoe,Russia,active,," in export.text and "pending@example.org" not in export.text
    no_file = client.post("/desk/subscribers/import", data={"csrf": csrf})
    assert no_file.status_code == 422


def test_home_shows_counts_schedule_and_source_health(client: InProcess, web_app: Newsletter) -> None:
    web_app.gather()
    log_in(client)
    home = client.get("/desk/")
    assert re.search(r"active</span> 3</a>", home.text) and re.search(r"pending</span> 1</a>", home.text)
    assert "next send" in home.text
    sources = re.search(r'<table id="sources">(.*?)</table>', home.text, re.S)
    assert sources and sources.group(1).count('<span class="status ok">ok</span>') == 3
