"""Each reader's language (one the newsletter offers) and time zone (IANA), set by the reader or an editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.asgi import InProcess
from helpers.newsletters import ADMIN_TOKEN
from helpers.readers import offer_choices

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.sink import Sink

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MARS = "timezone 'Mars/Base' is not an IANA time zone (e.g. 'Europe/London', 'Asia/Almaty')"


@pytest.fixture
def newsletter_dir(newsletter_dir: Path) -> Path:
    """The test newsletter, offering en, ru and kk (``helpers.readers``)."""
    return offer_choices(newsletter_dir)


def test_the_sign_up_form_offers_the_languages_and_keeps_the_browsers_zone(client: InProcess, web_app: Newsletter,
                                                                           sink: Sink) -> None:
    form = client.get("/").text
    assert '<option value="ru" lang="ru">Русский</option>' in form and '<option value="kk" lang="kk">Қазақ' in form
    assert 'name="timezone" type="hidden"' in form and "Intl.DateTimeFormat().resolvedOptions().timeZone" in form
    signed = client.post("/subscribe", data={"email": "olga@example.org", "language": "ru",
                                             "timezone": "Europe/Moscow"})
    assert signed.status_code == 200
    olga = subscribers.get(web_app.store, "olga@example.org")
    assert (olga.status, olga.language, olga.timezone) == ("pending", "ru", "Europe/Moscow")
    # A zone this server does not know (a newer browser's, or a forged one) is left out: the reader never saw it.
    client.post("/subscribe", data={"email": "mars@example.org", "timezone": "Mars/Base"})
    assert subscribers.get(web_app.store, "mars@example.org").timezone == ""
    refused = client.post("/subscribe", data={"email": "de@example.org", "language": "de"})
    assert refused.status_code == 400 and "language &#39;de&#39; is not offered (offered: en, ru, kk)" in refused.text
    assert subscribers.find(web_app.store, "de@example.org") is None


def test_the_api_sets_and_checks_language_and_zone(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    signed = client.post("/api/subscribe", json={"email": "aru@example.org", "language": "kk",
                                                 "timezone": "Asia/Almaty"})
    assert signed.status_code == 202
    aru = subscribers.get(web_app.store, "aru@example.org")
    assert (aru.language, aru.timezone) == ("kk", "Asia/Almaty")
    bad = client.post("/api/subscribe", json={"email": "x@example.org", "timezone": "Mars/Base"})
    assert (bad.status_code, bad.json()["detail"]) == (422, MARS)
    added = client.post("/api/subscribers", json={"email": "tom@example.org", "language": "EN",
                                                  "timezone": "europe/london"}, headers=BEARER)
    assert added.status_code == 201 and (added.json()["language"], added.json()["timezone"]) == ("en",
                                                                                                 "Europe/London")
    ann = subscribers.get(web_app.store, "ann@example.org")
    patched = client.request("PATCH", f"/api/subscribers/{ann.id}", json={"language": "ru"}, headers=BEARER)
    assert (patched.json()["language"], patched.json()["timezone"]) == ("ru", "")
    refused = client.request("PATCH", f"/api/subscribers/{ann.id}", json={"status": "unsubscribed",
                                                                          "timezone": "Mars/Base"}, headers=BEARER)
    assert (refused.status_code, refused.json()["detail"]) == (422, MARS)
    assert subscribers.get(web_app.store, "ann@example.org").status == "active"  # nothing changed
    unoffered = client.request("PATCH", f"/api/subscribers/{ann.id}", json={"language": "fr"}, headers=BEARER)
    assert unoffered.json()["detail"] == "language 'fr' is not offered (offered: en, ru, kk)"
    listed = client.get("/api/subscribers", params={"q": "ann"}, headers=BEARER).json()["subscribers"]
    assert (listed[0]["language"], listed[0]["timezone"]) == ("ru", "")


def test_the_preferences_page_changes_language_and_zone(client: InProcess, web_app: Newsletter) -> None:
    bek = subscribers.get(web_app.store, "bek@example.org")
    page = f"/preferences/{web_app.signer().sign('unsubscribe', bek.id)}"
    shown = client.get(page).text
    assert '<option value="en" lang="en" selected>English</option>' in shown  # the newsletter's, until they choose
    assert '<datalist id="zones">' in shown and '<option value="Asia/Almaty">' in shown
    saved = client.post(page, data={"name": "Бекзат", "language": "kk", "timezone": "asia/almaty"})
    assert saved.status_code == 200 and '<option value="kk" lang="kk" selected>' in saved.text
    bek = subscribers.get(web_app.store, "bek@example.org")
    assert (bek.language, bek.timezone) == ("kk", "Asia/Almaty")
    assert subscribers.events(web_app.store, bek.id)[-1].detail == "language: kk; timezone: Asia/Almaty"
    wrong = client.post(page, data={"name": "Бекзат", "language": "kk", "timezone": "Mars/Base"})
    assert wrong.status_code == 400 and "Timezone &#39;Mars/Base&#39; is not an IANA time zone" in wrong.text
    kept = client.post(page, data={"name": "Бекзат"})  # an older form without the fields: both kept
    assert kept.status_code == 200
    assert subscribers.get(web_app.store, "bek@example.org").timezone == "Asia/Almaty"
