"""A reader's sections, checked on every path against the config, with the nearest real name when one is wrong.

The test newsletter offers Russia, China, Energy, Sports and Qazaqstan (once called Kazakhstan,
also known as KZ), and the catch-all In brief; and the languages en, ru and kk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.asgi import InProcess, flash, log_in
from helpers.cli import one_line_error, run
from helpers.newsletters import ADMIN_TOKEN
from helpers.readers import offer_choices

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.edit import editorial
from newsletter.error import SubscriberError
from newsletter.sink import Sink
from newsletter.subscribers import optin
from newsletter.subscribers.choices import Choices

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SPORT = "unknown section 'Sport'; did you mean 'Sports'?"


@pytest.fixture
def newsletter_dir(newsletter_dir: Path) -> Path:
    """The test newsletter, offering more sections and languages (``helpers.readers``)."""
    return offer_choices(newsletter_dir)


def test_choices_know_every_name_a_section_answers_to(app: Newsletter) -> None:
    choices = Choices.of(app.config)
    assert choices.sections == ("Russia", "China", "Energy", "Sports", "Qazaqstan", "In brief")
    assert choices.pick("sports; KAZAKHSTAN,kz") == ("Sports", "Qazaqstan")  # ; or , and any case; once each
    assert choices.pick(["Russia", " "]) == ("Russia",) and choices.pick("") == ()
    assert choices.pick(choices.sections) == ()  # every section is "all", which takes in new ones too
    with pytest.raises(SubscriberError) as refused:
        choices.pick("Russia;Sport")
    assert str(refused.value) == SPORT
    with pytest.raises(SubscriberError) as far:
        choices.pick(["Weather"])
    assert str(far.value) == "unknown section 'Weather' (sections: Russia, China, Energy, Sports, Qazaqstan, In brief)"
    assert choices.suggest("kazakstan") == "Qazaqstan"  # near a former name: the section it became
    assert choices.current(("Kazakhstan", "Politics")) == ("Qazaqstan", "Politics")  # unknown names are kept
    assert choices.unknown(("kz", "Politics", "russia")) == ["Politics"]
    # A section split in two: the old name stands for both.
    split = Choices.of(app.config.replace(sections=tuple(
        s.__class__(**{**s.__dict__, "formerly": ["Eurasia"]}) if s.name in ("Russia", "China") else s
        for s in app.config.sections)))
    assert split.current(["Eurasia"]) == ("Russia", "China")


def test_the_command_line_checks_sections_language_and_zone(app: Newsletter, newsletter_dir: Path) -> None:
    def error(*args: str) -> str:
        return one_line_error(run("subscribers", "add", "dave@example.com", *args, cwd=newsletter_dir))

    assert error("--sections", "Sport", "--confirmed") == f"error: {SPORT}"
    assert error("--language", "de") == "error: language 'de' is not offered (offered: en, ru, kk)"
    assert error("--timezone", "Mars/Base") == ("error: timezone 'Mars/Base' is not an IANA time zone "
                                                "(e.g. 'Europe/London', 'Asia/Almaty')")
    assert error("--timezone", "Europe/Londn") == ("error: timezone 'Europe/Londn' is not an IANA time zone; "
                                                   "did you mean 'Europe/London'?")
    assert subscribers.find(app.store, "dave@example.com") is None
    added = run("subscribers", "add", "dave@example.com", "--sections", "sports;kazakhstan", "--language", "RU",
                "--timezone", "asia/almaty", "--confirmed", cwd=newsletter_dir)
    assert (added.returncode, added.stdout) == (0, "added dave@example.com (active)\n")
    listed = json.loads(run("subscribers", "list", "--json", cwd=newsletter_dir).stdout)
    dave = next(s for s in listed if s["email"] == "dave@example.com")
    assert (dave["sections"], dave["language"], dave["timezone"]) == (["Sports", "Qazaqstan"], "ru", "Asia/Almaty")
    assert all(s["language"] == "" and s["timezone"] == "" for s in listed if s["email"] != "dave@example.com")
    assert one_line_error(run("subscribers", "list", "--section", "Sport", cwd=newsletter_dir)) == f"error: {SPORT}"
    by_old_name = run("subscribers", "list", "--section", "kazakhstan", "--status", "active", cwd=newsletter_dir)
    assert [line.split("\t")[0] for line in by_old_name.stdout.splitlines()] == [
        "ann@example.org", "bek@example.org", "cy@example.org", "dave@example.com"]  # all sections, and dave
    sports_only = run("subscribers", "list", "--section", "China", "--status", "active", cwd=newsletter_dir)
    assert "dave@example.com" not in sports_only.stdout


def test_a_csv_takes_commas_or_semicolons_and_names_the_row_of_a_bad_value(app: Newsletter, newsletter_dir: Path,
                                                                            tmp_path: Path) -> None:
    upload = tmp_path / "in.csv"
    upload.write_text("email,name,sections,status,language,timezone\n"
                      "grace@example.com,Grace,Russia;Energy,active,,\n"
                      "hal@example.com,Hal,Sport,,,\n"
                      "ida@example.com,Ida,,,ru,Mars/Base\n"
                      "jo@example.com,Jo,,,de,\n"
                      "kai@example.com,Kai,KZ,,kk,Asia/Almaty\n", encoding="utf-8")
    result = run("subscribers", "import", str(upload), cwd=newsletter_dir)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "2 added, 0 updated, 0 unchanged, 3 rejected",
        ("note: 1 row had no status: imported as active, because an imported list is one you already have consent "
         "for; write pending in a status column to hold a row's reader until they confirm")]
    assert [line for line in result.stderr.splitlines() if line.startswith(str(upload))] == [
        f"{upload}:3: {SPORT}",
        f"{upload}:4: timezone 'Mars/Base' is not an IANA time zone (e.g. 'Europe/London', 'Asia/Almaty')",
        f"{upload}:5: language 'de' is not offered (offered: en, ru, kk)"]
    grace, kai = subscribers.get(app.store, "grace@example.com"), subscribers.get(app.store, "kai@example.com")
    assert grace.sections == ("Russia", "Energy") and (kai.sections, kai.language, kai.timezone, kai.status) == (
        ("Qazaqstan",), "kk", "Asia/Almaty", "active")


def test_the_web_refuses_an_unknown_section_everywhere(client: InProcess, web_app: Newsletter, sink: Sink) -> None:
    form = client.post("/subscribe", data={"email": "new@example.org", "sections": ["Russia", "Sport"]})
    assert form.status_code == 400 and SPORT in form.text.replace("&#39;", "'")
    public = client.post("/api/subscribe", json={"email": "new@example.org", "sections": ["Sport"]})
    assert (public.status_code, public.json()["detail"]) == (422, SPORT)
    added = client.post("/api/subscribers", json={"email": "new@example.org", "sections": ["Sport"]}, headers=BEARER)
    assert (added.status_code, added.json()["detail"]) == (422, SPORT)
    ann = subscribers.get(web_app.store, "ann@example.org")
    patched = client.request("PATCH", f"/api/subscribers/{ann.id}", headers=BEARER,
                             json={"name": "Changed", "sections": ["Sport"]})
    assert (patched.status_code, patched.json()["detail"]) == (422, SPORT)
    token = web_app.signer().sign("unsubscribe", ann.id)
    preferences = client.post(f"/preferences/{token}", data={"name": "Changed", "sections": ["Sport"]})
    assert preferences.status_code == 400 and "Unknown section" in preferences.text
    csrf = log_in(client)
    desk_add = client.post("/desk/subscribers", data={"csrf": csrf, "email": "new@example.org", "sections": "Sport"})
    assert flash(client, desk_add) == f"error: {SPORT}"
    desk_edit = client.post(f"/desk/subscribers/{ann.id}/edit", data={"csrf": csrf, "name": "Changed",
                                                                      "sections": ["Russia", "Sport"]})
    assert flash(client, desk_edit) == f"error: {SPORT}"
    assert subscribers.get(web_app.store, "ann@example.org") == ann  # nothing changed, not even the name
    assert subscribers.find(web_app.store, "new@example.org") is None and sink.messages == []


def test_the_preferences_page_says_plainly_which_sections_arrive(client: InProcess, web_app: Newsletter) -> None:
    ann = subscribers.get(web_app.store, "ann@example.org")
    page = f"/preferences/{web_app.signer().sign('unsubscribe', ann.id)}"

    def receives() -> str:
        text = client.get(page).text
        assert "none ticked: all of them" not in text
        found = re.search(r'<p id="receives">(.*?)</p>', text, re.DOTALL)
        return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""

    assert receives() == "You receive all sections."
    saved = client.post(page, data={"name": "Ann Lee", "sections": ["energy", "Russia"]})
    assert saved.status_code == 200 and 'value="Russia" checked' in saved.text and 'value="China">' in saved.text
    assert receives() == "You receive only these sections: Russia, Energy."
    stray = subscribers.add(web_app.store, "grace@example.org", sections=["Politics", "Kazakhstan"], status="active")
    text = client.get(f"/preferences/{web_app.signer().sign('unsubscribe', stray.id)}").text
    assert 'value="Qazaqstan" checked' in text  # chosen under its former name
    assert "You chose sections this newsletter no longer has: Politics." in text


def test_the_desk_edits_name_sections_language_and_zone(client: InProcess, web_app: Newsletter) -> None:
    csrf = log_in(client)
    bek = subscribers.get(web_app.store, "bek@example.org")
    page = client.get(f"/desk/subscribers/{bek.id}").text
    assert '<td id="sections">all sections</td>' in page and "the newsletter&#39;s (Asia/Almaty)" in page
    bad = client.post(f"/desk/subscribers/{bek.id}/edit", data={"csrf": csrf, "name": "Bekzat", "timezone": "Mars/Base"})
    assert flash(client, bad) == ("error: timezone 'Mars/Base' is not an IANA time zone "
                                  "(e.g. 'Europe/London', 'Asia/Almaty')")
    assert subscribers.get(web_app.store, "bek@example.org") == bek
    saved = client.post(f"/desk/subscribers/{bek.id}/edit", data={
        "csrf": csrf, "name": "Бекзат Ахметов", "sections": ["China", "kz"], "language": "kk",
        "timezone": "asia/almaty"})
    assert flash(client, saved) == "ok: Saved bek@example.org."
    bek = subscribers.get(web_app.store, "bek@example.org")
    assert (bek.name, bek.sections, bek.language, bek.timezone) == ("Бекзат Ахметов", ("China", "Qazaqstan"), "kk",
                                                                   "Asia/Almaty")
    assert subscribers.events(web_app.store, bek.id)[-1].detail == ("name: Бекзат Ахметов; sections: China,Qazaqstan; "
                                                                   "language: kk; timezone: Asia/Almaty")
    page = client.get(f"/desk/subscribers/{bek.id}").text
    assert '<td id="sections">China, Qazaqstan</td>' in page and '<option selected>kk</option>' in page
    everything = client.post(f"/desk/subscribers/{bek.id}/edit", data={"csrf": csrf, "name": "Бекзат Ахметов",
                                                                       "language": "", "timezone": ""})
    assert flash(client, everything) == "ok: Saved bek@example.org."
    bek = subscribers.get(web_app.store, "bek@example.org")
    assert (bek.sections, bek.language, bek.timezone) == ((), "", "")  # none ticked: all; the newsletter's own


def test_a_renamed_section_keeps_its_readers_and_check_lists_the_others(app: Newsletter, newsletter_dir: Path,
                                                                         sink: Sink) -> None:
    store = app.store
    # Readers who chose before the rename (kept as they chose), and two whose names match nothing now.
    subscribers.add(store, "old@example.org", sections=["Kazakhstan"], status="active")
    subscribers.add(store, "sprots@example.org", sections=["Russia", "Sprots"], status="active")
    subscribers.add(store, "gone@example.org", sections=["Politics"], status="unsubscribed")
    checked = run("subscribers", "check", cwd=newsletter_dir)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "sprots@example.org\tactive\tunknown section 'Sprots' (did you mean 'Sports'?)",
        "gone@example.org\tunsubscribed\tunknown section 'Politics'"]
    assert "2 readers chose sections the config does not have" in checked.stderr
    as_json = json.loads(run("subscribers", "check", "--json", cwd=newsletter_dir).stdout)
    assert as_json[0] == {"email": "sprots@example.org", "status": "active", "sections": ["Russia", "Sprots"],
                          "unknown": ["Sprots"], "suggestions": {"Sprots": "Sports"}}

    app.gather()
    waiting = {p.item.title: p.item.id for p in app.draft().plan}
    editorial.move(app.config, store, waiting["Kazakhstan raises oil output"], "Qazaqstan")
    editorial.move(app.config, store, waiting["Kremlin signals new gas deal"], "Russia")
    app.send(fetch=False)
    mail = next(m.parse() for m in sink.messages if m.recipients == ("old@example.org",))
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Kazakhstan raises oil output" in text and "Kremlin signals new gas deal" not in text
    other = next(m.parse() for m in sink.messages if m.recipients == ("sprots@example.org",))
    assert "Kremlin signals new gas deal" in other.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    for email in ("sprots@example.org", "gone@example.org"):
        subscribers.update(store, subscribers.get(store, email).id, sections=[])
    fixed = run("subscribers", "check", cwd=newsletter_dir)
    assert (fixed.returncode, fixed.stdout) == (0, "every reader's sections are in the config\n")


def test_a_sign_up_keeps_sections_by_their_current_names(app: Newsletter, sink: Sink) -> None:
    signup = optin.request(app, "kz@example.org", sections=["kazakhstan", "SPORTS"], language="KK",
                           timezone="europe/moscow")
    assert signup.sent
    reader = subscribers.get(app.store, "kz@example.org")
    assert (reader.sections, reader.language, reader.timezone) == (("Qazaqstan", "Sports"), "kk", "Europe/Moscow")
