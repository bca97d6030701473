"""The JSON API, driven in-process: OpenAPI, bearer and session auth, and each endpoint's library call."""

from __future__ import annotations

import re

from helpers.asgi import InProcess
from helpers.newsletters import ADMIN_TOKEN

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.edit import editorial
from newsletter.sink import Sink

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_openapi_documents_every_endpoint(client: InProcess) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [("/api/subscribe", "post"), ("/api/preview", "get"), ("/api/items/{item_id}/move", "post"),
                         ("/api/items/{item_id}/{action}", "post"), ("/api/send/test", "post"), ("/api/send", "post"),
                         ("/api/issues", "get"), ("/api/status", "get"), ("/api/subscribers", "get"),
                         ("/api/subscribers", "post"), ("/api/subscribers/{subscriber_id}", "patch"),
                         ("/api/subscribers/import", "post"), ("/api/subscribers/export.csv", "get")]:
        assert method in paths[path], (path, method)
        assert paths[path][method]["summary"]
    assert set(spec["components"]["schemas"]) >= {"SignUp", "NewSubscriber", "SubscriberChange", "TestSend",
                                                    "IssueSend", "Move"}
    assert not any(p.startswith("/desk") or p.startswith("/unsubscribe") for p in paths)


def test_editor_endpoints_need_the_token_or_a_session_with_csrf(client: InProcess) -> None:
    assert client.get("/api/subscribers").status_code == 401
    assert client.get("/api/subscribers", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/subscribers", headers=BEARER).json()["total"] == 4
    client.post("/desk/login", data={"token": ADMIN_TOKEN})
    assert client.get("/api/subscribers").status_code == 200  # the desk's session reads
    body = {"email": "x@example.org"}
    refused = client.post("/api/subscribers", json=body)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/desk/").text)
    assert csrf
    assert client.post("/api/subscribers", json=body, headers={"X-CSRF-Token": csrf.group(1)}).status_code == 201


def test_public_sign_up(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    ok = client.post("/api/subscribe", json={"email": "api@example.org", "sections": ["Energy"]})
    assert ok.status_code == 202 and ok.json() == {"status": "check-your-inbox"}
    assert subscribers.get(web_app.store, "api@example.org").sections == ("Energy",)
    known = client.post("/api/subscribe", json={"email": "ann@example.org"})
    assert (known.status_code, known.json()) == (ok.status_code, ok.json())
    assert len(sink.messages) == 1
    bad = client.post("/api/subscribe", json={"email": "nope"})
    assert bad.status_code == 422 and "invalid email address" in bad.json()["detail"]
    assert client.post("/api/subscribe", json={}).status_code == 422


def test_subscribers_endpoints(client: InProcess, web_app: Newsletter) -> None:
    listing = client.get("/api/subscribers", params={"q": "example", "status": "active", "limit": 2},
                         headers=BEARER).json()
    assert listing["total"] == 3 and [s["email"] for s in listing["subscribers"]] == ["cy@example.org",
                                                                                      "bek@example.org"]
    assert client.get("/api/subscribers", params={"status": "sleeping"}, headers=BEARER).status_code == 422
    created = client.post("/api/subscribers", json={"email": "Dee@Example.org", "name": "Dee", "status": "active",
                                                    "sections": ["russia"]}, headers=BEARER)
    assert created.status_code == 201
    dee = created.json()
    assert (dee["email"], dee["sections"], dee["origin"]) == ("Dee@example.org", ["Russia"], "api")
    assert client.post("/api/subscribers", json={"email": "DEE@example.org"}, headers=BEARER).status_code == 409
    assert client.post("/api/subscribers", json={"email": "e@example.org", "status": "bounced"},
                       headers=BEARER).status_code == 422
    changed = client.request("PATCH", f"/api/subscribers/{dee['id']}", json={"status": "complained", "name": "D."},
                           headers=BEARER).json()
    assert (changed["status"], changed["name"], changed["sections"]) == ("complained", "D.", ["Russia"])
    back = client.request("PATCH", f"/api/subscribers/{dee['id']}", json={"status": "active"}, headers=BEARER)
    assert back.status_code == 422 and "only the reader" in back.json()["detail"]
    assert client.request("PATCH", "/api/subscribers/9999", json={"name": "x"}, headers=BEARER).status_code == 404
    history = client.get(f"/api/subscribers/{dee['id']}", headers=BEARER).json()["events"]
    assert [(e["event"], e["origin"]) for e in history] == [("added", "api"), ("complained", "api"),
                                                           ("preferences", "api")]
    imported = client.post("/api/subscribers/import", content="email,status\nfay@example.org,active\nbad,\n",
                           headers={**BEARER, "Content-Type": "text/csv"})
    assert imported.json() == {"added": 1, "updated": 0, "skipped": 0, "no_status": 0, "note": "",
                               "rejected": [{"line": 3, "reason": imported.json()["rejected"][0]["reason"]}]}
    export = client.get("/api/subscribers/export.csv", params={"q": "fay"}, headers=BEARER)
    assert export.text == "email,name,sections,status,language,timezone\r\nfay@example.org,,,active,,\r\n"  # RFC 4180


def test_preview_items_test_send_and_send(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    web_app.gather()
    preview = client.get("/api/preview", headers=BEARER).json()
    draft, rendered = web_app.preview()
    assert (preview["number"], preview["subject"], preview["html"], preview["text"]) == (
        draft.number, draft.subject, rendered.html, rendered.text)
    item = next(i for i in preview["items"] if i["status"] == "in issue")
    pinned = client.post(f"/api/items/{item['id']}/pin", headers=BEARER).json()
    assert pinned["pinned"] and editorial.choices(web_app.store)[item["id"]].pinned
    moved = client.post(f"/api/items/{item['id']}/move", json={"section": "china"}, headers=BEARER).json()
    assert moved["section"] == "China"
    assert client.post(f"/api/items/{item['id']}/reset", headers=BEARER).json() == {"item_id": item["id"],
                                                                                     "reset": True}
    assert client.post(f"/api/items/{item['id']}/explode", headers=BEARER).status_code == 404
    assert client.post("/api/items/999999/pin", headers=BEARER).status_code == 409
    test = client.post("/api/send/test", json={"to": "ed@example.org"}, headers=BEARER).json()
    assert test["status"] == "test" and sink.messages[-1].recipients == ("ed@example.org",)
    assert client.get("/api/job", headers=BEARER).json() is None
    assert client.post("/api/send", json={"number": draft.number + 5}, headers=BEARER).status_code == 409
    started = client.post("/api/send", json={"number": draft.number}, headers=BEARER)
    assert started.status_code == 202
    client.asgi.state.tasks.wait(60)
    job = client.get("/api/job", headers=BEARER).json()
    assert (job["kind"], job["running"], job["failed"]) == ("send", False, False)
    issues = client.get("/api/issues", headers=BEARER).json()
    assert issues[0]["number"] == draft.number and issues[0]["deliveries"]["sent"] == 3
    status = client.get("/api/status", headers=BEARER).json()
    assert status["last_issue"]["number"] == draft.number and len(status["sources"]) == 3
