"""A reader's language end to end: the confirmation and welcome mails through a real SMTP sink, the reader
pages, and the desk's subject, intro and honest preview."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from helpers.asgi import InProcess, flash, log_in
from helpers.newsletters import ADMIN_TOKEN

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.edit import words
from newsletter.error import EditorialError
from newsletter.sink import Sink
from newsletter.subscribers import optin
from newsletter.web import create_app

MOMENT = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def multilingual(app: Newsletter, **newsletter: object) -> Newsletter:
    return Newsletter(app.config.replace(newsletter={"languages": ["en", "ru", "kk"], **newsletter},
                                         web={"admin_token": ADMIN_TOKEN}),
                      store=app.store, clock=lambda: MOMENT)


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def sign_up_and_confirm(app: Newsletter, sink: Sink, email: str, language: str) -> EmailMessage:
    """Sign ``email`` up, follow the confirmation link; return the confirmation mail."""
    before = len(sink.messages)
    assert optin.request(app, email, name="Aigerim Sadykova", language=language).sent
    confirmation = sink.messages[before].parse()
    token = re.search(r"/confirm/(\S+)", text_of(confirmation))
    assert token is not None
    optin.confirm(app, token.group(1))
    return confirmation


def test_a_confirmed_reader_is_welcomed_in_their_language_with_the_latest_issue(app: Newsletter, sink: Sink) -> None:
    multi = multilingual(app)
    assert multi.send(confirm=None).status == "sent"
    issues = len(sink.messages)
    confirmation = sign_up_and_confirm(multi, sink, "new@example.org", "ru")
    assert confirmation["Content-Language"] == "ru"
    assert confirmation["Subject"] == "Подтвердите подписку на «Test Briefing»"
    assert "Здравствуйте, Aigerim!" in text_of(confirmation)
    assert len(sink.messages) == issues + 2
    welcome = sink.messages[-1].parse()
    assert welcome["To"] == "Aigerim Sadykova <new@example.org>" and welcome["Auto-Submitted"] == "auto-generated"
    assert welcome["Subject"] == "Добро пожаловать в «Test Briefing»" and welcome["Content-Language"] == "ru"
    text = text_of(welcome)
    assert "Здравствуйте, Aigerim!" in text and "https://news.example.org/archive/1.html" in text
    reader = subscribers.get(multi.store, "new@example.org")
    preferences = re.search(r"https://news\.example\.org/preferences/(\S+)", text)
    assert preferences is not None and optin.reader(multi, preferences.group(1)).id == reader.id
    html = welcome.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert '<html lang="ru"' in html and "Читать последний выпуск" in html
    optin.confirm(multi, re.search(r"/confirm/(\S+)", text_of(confirmation)).group(1))  # type: ignore[union-attr]
    assert len(sink.messages) == issues + 2  # confirming again welcomes no one again


def test_before_the_first_issue_the_welcome_says_so_and_it_can_be_turned_off(app: Newsletter, sink: Sink) -> None:
    sign_up_and_confirm(multilingual(app), sink, "kk@example.org", "kk")
    welcome = sink.messages[-1].parse()
    assert welcome["Content-Language"] == "kk" and "/archive/" not in text_of(welcome)
    assert "Әзірге бірде-бір шығарылым жіберілген жоқ" in text_of(welcome)
    sign_up_and_confirm(multilingual(app, welcome=False), sink, "quiet@example.org", "")
    assert sink.messages[-1].parse()["Subject"].startswith("Confirm your subscription")  # nothing after it


def test_reader_pages_speak_the_readers_or_the_browsers_language(app: Newsletter) -> None:
    multi = multilingual(app)
    client = InProcess(create_app(multi))
    page = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert page.headers["content-language"] == "ru" and '<html lang="ru">' in page.text
    assert "Подписаться на «Test Briefing»" in page.text and "Адрес электронной почты" in page.text
    assert "Subscribe to" not in page.text
    assert "Жазылу" in client.get("/?lang=kk").text
    english = client.get("/", headers={"Accept-Language": "de"})
    assert english.headers["content-language"] == "en" and "Subscribe to Test Briefing" in english.text
    reader = subscribers.add(multi.store, "kk@example.org", name="Бекзат", status="active", language="kk")
    token = multi.signer().sign("unsubscribe", reader.id)
    preferences = client.get(f"/preferences/{token}", headers={"Accept-Language": "ru"})
    assert '<html lang="kk">' in preferences.text and "Сіздің жазылымыңыз" in preferences.text  # theirs wins
    assert "белсенді" in preferences.text  # their status, in their words
    bad = client.get("/confirm/nonsense", headers={"Accept-Language": "ru"})
    assert bad.status_code == 400 and "Эта ссылка не работает" in bad.text


def test_the_desk_sets_the_subject_and_intro_and_tells_how_many_copies_go_out(app: Newsletter, sink: Sink) -> None:
    multi = multilingual(app)
    subscribers.add(multi.store, "ru@example.org", status="active", language="ru", sections=("China",))
    assert not multi.gather().failed
    client = InProcess(create_app(multi))
    csrf = log_in(client)
    number = multi.draft().number
    preview = client.get("/desk/preview")
    assert "exactly as previewed" not in preview.text
    assert "in 2 copies" in preview.text and 'id="copies-table"' in preview.text
    copy = client.get("/desk/preview.txt?language=ru&sections=China")
    assert "Выпуск № 1" in copy.text and "В этом выпуске" not in copy.text  # one section: no contents line
    assert "\nCHINA\n=====\n" in copy.text and "\nRUSSIA\n" not in copy.text  # no Russian title set: the name
    saved = client.post("/desk/words", data={"csrf": csrf, "number": number, "subject": "  Winter   is coming ",
                                             "intro": "A short week.\r\n\r\nBack on Monday."}, follow_redirects=False)
    assert "saved" in flash(client, saved)
    assert multi.draft().subject == "Winter is coming" and multi.draft().intro == "A short week.\n\nBack on Monday."
    assert "A short week." in client.get("/desk/preview.txt").text
    stale = client.post("/desk/words", data={"csrf": csrf, "number": number + 1, "subject": "x"}, follow_redirects=False)
    assert "look at it again" in flash(client, stale)
    assert multi.send(confirm=None).status == "sent"
    subjects = {m.parse()["Subject"] for m in sink.messages}
    assert subjects == {"Winter is coming"}  # the editor's subject, for every copy
    with pytest.raises(EditorialError, match="already made"):
        words.write(multi.store, number, subject="Too late", intro="")
    assert "Back on Monday." in client.get(f"/archive/{number}.html").text  # the issue kept its words
