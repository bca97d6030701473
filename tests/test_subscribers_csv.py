"""CSV files people bring: other tools' exports, other delimiters, no header; what an empty status means;
the reader's language and time zone; and property tests of the reader of strangers' files."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from helpers.asgi import InProcess, log_in
from helpers.damage import damaged
from helpers.newsletters import ADMIN_TOKEN, FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import subscribers
from newsletter.app import Newsletter
from newsletter.error import NewsletterError, SubscriberError
from newsletter.store import Store
from newsletter.subscribers import csvfile, csvrows
from newsletter.subscribers.choices import Choices
from newsletter.subscribers.rules import clean_name, normalise_email, zone_names

EXPORTS = FIXTURES / "subscribers"
CHOICES = Choices(("Russia", "China", "Energy", "In brief"), ("en", "ru", "kk"))
NOTE = ("{} had no status: imported as active, because an imported list is one you already have consent for; "
        "write pending in a status column to hold a row's reader until they confirm")
BUDGET = settings(max_examples=150, deadline=timedelta(seconds=3), database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture
def store() -> Iterator[Store]:
    opened = Store.memory()
    yield opened
    opened.close()


def imported(store: Store, name: str) -> csvfile.ImportReport:
    with (EXPORTS / name).open(encoding="utf-8-sig", newline="") as stream:
        return csvfile.import_csv(store, stream, choices=CHOICES)


def readers(store: Store) -> dict[str, tuple[str, str, str]]:
    return {s.email: (s.name, s.status, s.timezone) for s in subscribers.iterate(store)}


def test_a_mailchimp_export_imports_its_three_files(store: Store) -> None:
    report = imported(store, "mailchimp_subscribed.csv")
    assert (report.added, report.rejected, report.note) == (3, [], NOTE.format("3 rows"))
    imported(store, "mailchimp_unsubscribed.csv")
    imported(store, "mailchimp_cleaned.csv")
    assert readers(store) == {
        "aigerim@example.org": ("Aigerim Sadykova", "active", "Asia/Almaty"),  # first and last name joined
        "oliver@example.org": ("Oliver", "active", "Europe/London"),
        "nameless@example.org": ("", "active", ""),
        "left@example.org": ("Lena Ivanova", "unsubscribed", "Europe/Moscow"),  # UNSUB_TIME: they left
        "gone@example.org": ("Gone Away", "bounced", ""),  # CLEAN_TIME: the address bounced
    }


def test_listmonk_buttondown_and_substack_exports_keep_who_left(store: Store) -> None:
    for name in ("listmonk.csv", "buttondown.csv", "substack.csv"):
        assert imported(store, name).rejected == [], name
    assert {email: status for email, (_, status, _) in readers(store).items()} == {
        "bekzat@example.org": "active", "spam@example.org": "unsubscribed",  # listmonk: enabled, blocklisted
        "paused@example.org": "unsubscribed",  # listmonk's disabled: not mailed
        "reader@example.org": "active", "new@example.org": "pending",  # Buttondown: regular, unactivated
        "former@example.org": "unsubscribed",
        "free@example.org": "active", "paid@example.org": "active",  # Substack: email_disabled false
        "muted@example.org": "unsubscribed",  # email_disabled true
    }
    assert subscribers.get(store, "bekzat@example.org").name == "Бекзат Ахметов"


def test_semicolons_tabs_an_excel_sep_line_and_no_header(store: Store) -> None:
    for name in ("semicolons.csv", "tabs.tsv", "excel_sep.csv", "no_header.csv"):
        assert imported(store, name).rejected == [], name
    found = {s.email: (s.name, s.sections, s.status, s.language, s.timezone) for s in subscribers.iterate(store)}
    assert found == {
        "grace@example.org": ("Grace Hopper", ("Russia", "China"), "active", "", ""),
        "ivan@example.org": ("Иван Петров", (), "pending", "", ""),
        "kim@example.org": ("Kim", ("Energy",), "active", "", ""),
        "zhanar@example.org": ("Zhanar", (), "active", "kk", "Asia/Almaty"),
        "ann@example.org": ("Ann Lee", (), "active", "", ""),
        "bob@example.org": ("", (), "active", "", ""),
        "cy@example.org": ("Cy", ("Russia", "Energy"), "pending", "ru", "Europe/Moscow"),
    }


def test_a_file_without_addresses_or_in_another_encoding_is_one_clear_error(store: Store) -> None:
    for text in ("name,status\nx,active\n", "Ann,ann@example.org\n", ""):
        with pytest.raises(SubscriberError) as refused:
            csvfile.import_csv(store, io.StringIO(text), choices=CHOICES)
        assert str(refused.value) == ("CSV has no 'email' column (expected a header such as email,name,sections,"
                                      "status, or addresses in the first column)")
    latin1 = io.TextIOWrapper(io.BytesIO("email,name\nx@example.org,José\n".encode("latin-1")), encoding="utf-8-sig")
    with pytest.raises(SubscriberError) as undecodable:
        csvfile.import_csv(store, latin1, choices=CHOICES)
    assert str(undecodable.value) == ('the file is not UTF-8 text (invalid continuation byte); save it as "CSV UTF-8" '
                                      "and import it again; nothing was imported")
    assert subscribers.count(store) == 0


def test_an_empty_status_adds_active_readers_keeps_known_ones_and_says_so(client: InProcess,
                                                                          web_app: Newsletter) -> None:
    text = "email,name,status\npending@example.org,Pat,\nnew1@example.org,,\nnew2@example.org,,pending\n"
    report = csvfile.import_csv(web_app.store, io.StringIO(text), choices=CHOICES)
    assert (report.added, report.updated, report.defaulted) == (2, 1, 1)
    assert report.note == NOTE.format("1 row")
    assert subscribers.get(web_app.store, "pending@example.org").status == "pending"  # known: status kept
    assert subscribers.get(web_app.store, "new1@example.org").status == "active"
    assert subscribers.get(web_app.store, "new2@example.org").status == "pending"
    csrf = log_in(client)
    upload = "email\nnew3@example.org\nnew4@example.org\n"
    page = client.post("/desk/subscribers/import", data={"csrf": csrf},
                       files={"file": ("list.csv", upload.encode(), "text/csv")})
    assert f'<p id="import-note" class="muted">{NOTE.format("2 rows")}.</p>' in page.text.replace("&#39;", "'")
    api = client.post("/api/subscribers/import", content="email\nnew5@example.org\n",
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "text/csv"}).json()
    assert (api["no_status"], api["note"]) == (1, NOTE.format("1 row"))


def test_language_and_time_zone_round_trip(store: Store, tmp_path: Path) -> None:
    subscribers.add(store, "ru@example.org", name="Ольга", language="ru", timezone="Europe/Moscow", status="active")
    subscribers.add(store, "plain@example.org", status="active")
    text = csvfile.export_text(store)
    assert text.splitlines() == ["email,name,sections,status,language,timezone",
                                 "ru@example.org,Ольга,,active,ru,Europe/Moscow", "plain@example.org,,,active,,"]
    other = Store(tmp_path / "other.db")
    assert csvfile.import_csv(other, io.StringIO(text), choices=CHOICES).added == 2
    assert csvfile.export_text(other) == text
    # Without those columns a re-import keeps them; with them empty, it returns to the newsletter's own.
    csvfile.import_csv(other, io.StringIO("email,name\nru@example.org,Olga\n"), choices=CHOICES)
    assert subscribers.get(other, "ru@example.org").timezone == "Europe/Moscow"
    csvfile.import_csv(other, io.StringIO("email,language,timezone\nru@example.org,,\n"), choices=CHOICES)
    olga = subscribers.get(other, "ru@example.org")
    assert (olga.name, olga.language, olga.timezone) == ("Olga", "", "")
    other.close()


# -- the reader of strangers' files: property tests and bounds ------------------------------------

ORIGINALS = sorted(p.read_bytes() for p in EXPORTS.iterdir())
PIECES = [b",", b";", b"\t", b'"', b"\n", b"\r\n", b"sep=;\n", b"@", b"\x00", b"=cmd|", b"Email Address", b"status",
          b"unsubscribed", b"Mars/Base", b"Asia/Almaty", b"Russia;Sport", "Иван".encode(), b"\xff\xfe", b"\xef\xbb\xbf"]
ZONES = set(zone_names())


@st.composite
def damaged_exports(draw: st.DrawFn) -> bytes:
    return damaged(draw, draw(st.sampled_from(ORIGINALS)), PIECES)


def check_rows(text: str) -> None:
    """Read ``text`` as a reader CSV and check what every row became."""
    try:
        _, rows = csvrows.read(io.StringIO(text, newline=""), CHOICES)
        found = list(rows)
    except SubscriberError as e:
        assert str(e) and "\n" not in str(e)
        return
    lines = [row[0] if isinstance(row, tuple) else row.line for row in found]
    assert lines == sorted(lines) and all(line >= 1 for line in lines)
    for row in found:
        if isinstance(row, tuple):
            assert row[1] and "\n" not in row[1]  # one clear line
            continue
        assert normalise_email(row.email) == row.email and clean_name(row.name) == row.name
        assert row.sections is None or set(subscribers.parse_sections(row.sections)) <= set(CHOICES.sections)
        assert row.language in (None, "", *CHOICES.languages) and row.timezone in (None, "", *ZONES)
        assert row.status in (None, *subscribers.STATUSES)


@BUDGET
@given(data=damaged_exports())
def test_damaged_exports_become_rows_or_one_line_reasons(data: bytes) -> None:
    check_rows(data.decode("utf-8", errors="replace"))


@BUDGET
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_text_becomes_rows_or_one_line_reasons(text: str) -> None:
    check_rows(text)


@BUDGET
@given(data=damaged_exports())
def test_importing_damaged_bytes_raises_only_our_errors(data: bytes) -> None:
    store = Store.memory()
    try:
        csvfile.import_csv(store, io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""),
                           choices=CHOICES)
    except NewsletterError as e:
        assert "\n" not in str(e)
    finally:
        store.close()


def test_reading_is_bounded_in_size_and_time() -> None:
    started = time.perf_counter()
    with pytest.raises(SubscriberError) as refused:  # a first line that never ends is not read to its end
        csvrows.read(io.StringIO("a" * (5 * csvrows.FIRST_LINE_LIMIT)), CHOICES)
    assert str(refused.value) == "line 1 is longer than 1,048,576 characters: not a CSV file of readers"
    assert time.perf_counter() - started < 2
    rows = ["Email Address;First Name;Last Name;TIMEZONE"]
    # Every seventh zone misspelt, each differently: each is compared with its area's zones.
    rows += [f"r{i}@example.org;Reader;{i};{'Asia/Almaty' if i % 7 else f'Asia/Almaty{i}'}" for i in range(20_000)]
    text = "\n".join(rows) + "\n"
    started = time.perf_counter()
    _, read = csvrows.read(io.StringIO(text), CHOICES)
    found = list(read)
    elapsed = time.perf_counter() - started
    assert len(found) == 20_000 and sum(isinstance(r, tuple) for r in found) == 20_000 // 7 + 1
    assert elapsed < 30, f"{len(text) / 1e6:.1f} MB read in {elapsed:.1f} s"  # 5 to 10 s on a loaded test machine
