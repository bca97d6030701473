"""The demo's mail view holds every confirmation link: written as the attack, a visitor from another
machine (or through a public host name) tries to read them."""

from __future__ import annotations

import re

import httpx
from helpers.asgi import InProcess, log_in

from newsletter.app import Newsletter
from newsletter.sink import Sink
from newsletter.subscribers import optin
from newsletter.web import create_app
from newsletter.web.server import Background

PAGES = ("/mail/", "/mail/1", "/mail/1.html", "/mail/1.eml")
ELSEWHERE = ("203.0.113.9", 50000)


def confirmation_token(web_app: Newsletter, sink: Sink) -> str:
    """Sign a stranger up and return the token of the confirmation link the sink received."""
    optin.request(web_app, "victim@example.org")
    found = re.search(r"/confirm/([\w.-]+)", sink.messages[-1].parse().get_body(("plain",)).get_content())
    assert found
    return found.group(1)


def closed(web_app: Newsletter) -> Newsletter:
    """The newsletter without an admin token: the desk is closed."""
    return Newsletter(web_app.config.replace(web={"admin_token": ""}), store=web_app.store)


def test_only_this_machine_reads_the_mail_without_a_login(web_app: Newsletter, sink: Sink) -> None:
    token = confirmation_token(web_app, sink)
    asgi = create_app(web_app, mailbox=sink)
    for base, peer in [("http://127.0.0.1:8000", ("127.0.0.1", 1)), ("http://localhost:8000", ("127.0.0.1", 1)),
                       ("http://[::1]:8000", ("::1", 1))]:
        here = InProcess(asgi, base_url=base, client=peer)
        assert token in here.get("/mail/1").text and here.get("/mail/1.eml").status_code == 200

    attackers = [
        InProcess(asgi, base_url="https://127.0.0.1:8000", client=ELSEWHERE),  # another machine
        InProcess(asgi, base_url="https://mail.example.org"),  # a public name (DNS rebinding, a proxy)
    ]
    for attacker in attackers:
        for page in PAGES:
            refused = attacker.get(page, follow_redirects=False)
            assert refused.status_code == 303 and refused.headers["location"] == "/desk/login", page
    here = InProcess(asgi, base_url="http://127.0.0.1:8000")
    for headers in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        assert here.get("/mail/1", headers=headers, follow_redirects=False).status_code == 303  # a proxy's client

    editor = attackers[1]
    log_in(editor)  # with the admin token, the editor reads the mail from anywhere
    assert token in editor.get("/mail/1").text


def test_without_an_admin_token_no_one_else_reads_it(web_app: Newsletter, sink: Sink) -> None:
    token = confirmation_token(web_app, sink)
    asgi = create_app(closed(web_app), mailbox=sink)
    for page in PAGES:
        refused = InProcess(asgi, base_url="http://127.0.0.1:8000", client=ELSEWHERE).get(page)
        assert refused.status_code == 403 and "victim@example.org" not in refused.text, page
        assert "only on this machine" in refused.text
    assert token in InProcess(asgi, base_url="http://127.0.0.1:8000").get("/mail/1").text


def test_a_served_mail_view_refuses_a_public_host(web_app: Newsletter, sink: Sink) -> None:
    token = confirmation_token(web_app, sink)
    with Background(create_app(closed(web_app), mailbox=sink)) as site:
        assert token in httpx.get(site.url + "/mail/1").text
        for headers in ({"Host": "mail.example.org"}, {"X-Forwarded-For": "203.0.113.9"}):
            for page in PAGES:
                refused = httpx.get(site.url + page, headers=headers)
                assert refused.status_code == 403 and "victim@example.org" not in refused.text, (page, headers)
