"""The public pages, driven in-process: sign-up, confirm, preferences, RFC 8058 unsubscribe, the archive."""

from __future__ import annotations

import re

from helpers.asgi import InProcess
from helpers.newsletters import tamper

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.sink import Sink

ONE_CLICK = {"content": b"List-Unsubscribe=One-Click",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def link_in(sink: Sink, kind: str, index: int = -1) -> str:
    text = sink.messages[index].parse().get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf"https://news\.example\.org(/{kind}/\S+)", text)
    assert found, text
    return found.group(1)


def test_sign_up_confirm_and_become_active(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    form = client.get("/")
    assert form.status_code == 200 and 'action="/subscribe"' in form.text
    assert 'name="sections" value="Russia"' in form.text and 'name="sections" value="In brief"' in form.text
    answer = client.post("/subscribe", data={"email": "Nia@Example.org", "name": "Nia", "sections": ["China"]})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert subscribers.get(web_app.store, "nia@example.org").status == "pending"
    assert sink.messages[-1].recipients == ("Nia@example.org",)
    confirm = link_in(sink, "confirm")
    page = client.get(confirm)
    assert page.status_code == 200 and f'action="{confirm}"' in page.text and 'method="post"' in page.text
    assert subscribers.get(web_app.store, "nia@example.org").status == "pending"  # a GET changes nothing
    done = client.post(confirm)
    assert done.status_code == 200 and "You are subscribed" in done.text
    nia = subscribers.get(web_app.store, "nia@example.org")
    assert (nia.status, nia.sections) == ("active", ("China",))
    preferences = re.search(r'href="(/preferences/[^"]+)"', done.text)
    assert preferences and client.get(preferences.group(1)).status_code == 200


def test_the_answer_never_tells_whether_an_address_is_subscribed(client: InProcess, web_app: Newsletter,
                                                                  sink: Sink) -> None:
    subscribers.add(web_app.store, "gone@example.org", status="active")
    subscribers.remove(web_app.store, "gone@example.org")
    answers = {}
    for email in ("ann@example.org", "pending@example.org", "gone@example.org", "new@example.org"):
        response = client.post("/subscribe", data={"email": email})
        answers[email] = (response.status_code, response.text.replace(email, "ADDRESS"))
    assert len(set(answers.values())) == 1
    assert sorted(m.recipients[0] for m in sink.messages) == ["gone@example.org", "new@example.org",
                                                              "pending@example.org"]
    assert subscribers.get(web_app.store, "gone@example.org").status == "unsubscribed"
    again = client.post("/subscribe", data={"email": "new@example.org"})
    assert (again.status_code, again.text.replace("new@example.org", "ADDRESS")) == answers["ann@example.org"]
    assert len(sink.messages) == 3  # re-sends are paced


def test_a_mail_server_that_is_down_does_not_reveal_who_is_subscribed(web_app: Newsletter) -> None:
    from newsletter.sink import free_port
    from newsletter.web import create_app

    down = Newsletter(web_app.config.replace(smtp={"url": f"smtp://127.0.0.1:{free_port()}"}), store=web_app.store)
    client = InProcess(create_app(down))
    answers = {}
    for email in ("ann@example.org", "new@example.org"):  # active, and unknown (its mail cannot go out)
        response = client.post("/subscribe", data={"email": email})
        answers[email] = (response.status_code, response.text.replace(email, "ADDRESS"))
    assert len(set(answers.values())) == 1 and answers["ann@example.org"][0] == 200
    api = [client.post("/api/subscribe", json={"email": e}).status_code for e in answers]
    assert api == [202, 202]


def test_bad_sign_ups(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    bad = client.post("/subscribe", data={"email": "not an address", "name": "X"})
    assert bad.status_code == 400 and "invalid email address" in bad.text and 'value="not an address"' in bad.text
    robot = client.post("/subscribe", data={"email": "robot@example.org", "website": "http://spam.example"})
    assert robot.status_code == 200 and "Check your inbox" in robot.text
    assert subscribers.find(web_app.store, "robot@example.org") is None and not sink.messages
    missing = client.post("/subscribe", data={})
    assert missing.status_code == 400


def test_one_click_unsubscribe_from_a_delivered_issue(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    web_app.send(fetch=True)
    delivered = next(m.parse() for m in sink.messages if m.recipients == ("ann@example.org",))
    assert delivered["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<https://news\.example\.org(/unsubscribe/[^>]+)>", str(delivered["List-Unsubscribe"]))
    assert url
    page = client.get(url.group(1))
    assert page.status_code == 200 and page.text.count("<button") == 1 and "ann@example.org" in page.text
    assert subscribers.get(web_app.store, "ann@example.org").status == "active"  # link scanners change nothing
    response = client.post(url.group(1), **ONE_CLICK)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    ann = subscribers.get(web_app.store, "ann@example.org")
    assert ann.status == "unsubscribed" and ann.unsubscribed_at is not None
    assert subscribers.events(web_app.store, ann.id)[-1].origin == "one-click"
    assert client.post(url.group(1), **ONE_CLICK).status_code == 200  # a provider retrying is fine


def test_the_unsubscribe_button_and_multipart_one_click(client: InProcess, web_app: Newsletter) -> None:
    bek, cy = subscribers.get(web_app.store, "bek@example.org"), subscribers.get(web_app.store, "cy@example.org")
    button = client.post(f"/unsubscribe/{web_app.signer().sign('unsubscribe', bek.id)}")
    assert button.status_code == 200
    assert subscribers.events(web_app.store, bek.id)[-1].origin == "web"
    multipart = client.post(f"/unsubscribe/{web_app.signer().sign('unsubscribe', cy.id)}",
                            files={"List-Unsubscribe": (None, "One-Click")})
    assert multipart.status_code == 200
    assert subscribers.get(web_app.store, "cy@example.org").status == "unsubscribed"


def test_tampered_links_get_a_4xx_and_change_nothing(client: InProcess, web_app: Newsletter) -> None:
    ann = subscribers.get(web_app.store, "ann@example.org")
    token = web_app.signer().sign("unsubscribe", ann.id)
    forged = web_app.signer().sign("unsubscribe", ann.id + 1)[:-3] + token[-3:]
    for bad in (tamper(token), forged, "garbage", token + "a"):
        for method, path in [("GET", "unsubscribe"), ("POST", "unsubscribe"), ("GET", "preferences"),
                             ("POST", "preferences"), ("GET", "confirm"), ("POST", "confirm")]:
            response = client.request(method, f"/{path}/{bad}", **ONE_CLICK)
            assert 400 <= response.status_code < 500, (method, path, response.status_code)
    assert subscribers.get(web_app.store, "ann@example.org") == ann
    assert client.post(f"/confirm/{token}").status_code == 400  # a permanent token is not a confirmation


def test_preferences_page(client: InProcess, web_app: Newsletter) -> None:
    bek = subscribers.get(web_app.store, "bek@example.org")
    path = f"/preferences/{web_app.signer().sign('unsubscribe', bek.id)}"
    page = client.get(path)
    assert page.status_code == 200 and 'value="Бекзат"' in page.text and " checked" not in page.text
    saved = client.post(path, data={"name": "Bekzat", "sections": ["Russia", "Energy"]})
    assert saved.status_code == 200 and "Saved." in saved.text
    assert 'value="Russia" checked' in saved.text and 'value="China">' in saved.text
    bek = subscribers.get(web_app.store, "bek@example.org")
    assert (bek.name, bek.sections, bek.status) == ("Bekzat", ("Russia", "Energy"), "active")
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_archive_is_served_from_the_archive_module(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    assert client.get("/archive/").status_code == 200
    assert client.get("/archive/1.html").status_code == 404
    report = web_app.send(fetch=True)
    subject = report.issues[0].subject
    index = client.get("/archive/")
    assert index.status_code == 200 and "1.html" in index.text
    page = client.get("/archive/1.html")
    assert page.status_code == 200 and "Ann Lee" not in page.text  # nothing personal
    feed = client.get("/archive/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml") and "<feed" in feed.text
    assert subject.split(":")[0] in feed.text
    assert client.get("/archive", follow_redirects=False).headers["location"] == "/archive/"
