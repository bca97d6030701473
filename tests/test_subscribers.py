"""The subscriber list: unique addresses, timed status changes, suppression, CSV import and export."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter import migrations, subscribers
from newsletter.error import SubscriberError
from newsletter.store import Store
from newsletter.subscribers import csvfile
from newsletter.subscribers.choices import Choices

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CHOICES = Choices(("Russia", "China", "Energy", "In brief"))  # as the test newsletters' config offers


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def test_addresses_are_validated_and_unique_in_any_case(store: Store) -> None:
    added = subscribers.add(store, "  Ann.Lee@Example.ORG ", name="  Ann   Lee ", sections=["Russia", " ", "China"])
    assert added.email == "Ann.Lee@example.org"  # the domain is normalised, the local part kept
    assert added.name == "Ann Lee" and added.sections == ("Russia", "China") and added.status == "pending"
    assert subscribers.get(store, "ann.lee@EXAMPLE.org").id == added.id
    with pytest.raises(SubscriberError, match="already a subscriber"):
        subscribers.add(store, "ANN.LEE@example.org")
    with pytest.raises(SubscriberError, match="invalid email address 'not-an-address'"):
        subscribers.add(store, "not-an-address")
    with pytest.raises(SubscriberError, match="unknown status 'gone'"):
        subscribers.add(store, "x@example.org", status="gone")
    assert subscribers.count(store) == 1


def test_every_status_change_is_timed_and_recorded(store: Store) -> None:
    s = subscribers.add(store, "bek@example.org", moment=T0)
    assert s.created_at == T0 and s.status_changed_at == T0 and s.confirmed_at is None
    active = subscribers.change(store, s.id, "active", event="confirmed", origin="web", moment=T0 + timedelta(hours=1))
    assert active.confirmed_at == T0 + timedelta(hours=1) == active.status_changed_at
    same = subscribers.change(store, s.id, "active", moment=T0 + timedelta(hours=2))
    assert same.status_changed_at == T0 + timedelta(hours=1)  # no change, no new time
    gone = subscribers.set_status(store, "BEK@example.org", "bounced", origin="delivery", detail="550",
                                  moment=T0 + timedelta(days=1))
    assert gone.bounced_at == T0 + timedelta(days=1) and gone.suppressed
    assert gone.confirmed_at == T0 + timedelta(hours=1)  # earlier times are kept
    history = [(e.event, e.status, e.origin, e.detail) for e in subscribers.events(store, s.id)]
    assert history == [("added", "pending", "cli", ""), ("confirmed", "active", "web", ""),
                       ("bounced", "bounced", "delivery", "550")]
    assert subscribers.remove(store, "bek@example.org").unsubscribed_at is not None


def test_an_editor_cannot_reactivate_a_suppressed_address(store: Store) -> None:
    s = subscribers.add(store, "cy@example.org", status="active")
    subscribers.edit_status(store, s.id, "complained")
    with pytest.raises(SubscriberError, match="only the reader can subscribe again"):
        subscribers.edit_status(store, s.id, "active")
    assert subscribers.get_by_id(store, s.id).status == "complained"
    pending = subscribers.add(store, "dan@example.org")
    assert subscribers.edit_status(store, pending.id, "active").status == "active"


def test_preferences_update_records_what_changed(store: Store) -> None:
    s = subscribers.add(store, "eve@example.org", status="active", sections=["Russia"])
    unchanged = subscribers.update(store, s.id, name="", sections=["Russia"])
    assert unchanged == s
    changed = subscribers.update(store, s.id, name="Eve", sections=[], origin="web")
    assert changed.name == "Eve" and changed.sections == ()
    last = subscribers.events(store, s.id)[-1]
    assert (last.event, last.origin, last.detail) == ("preferences", "web", "name: Eve; sections: (all)")


def test_filters_search_status_and_section(store: Store) -> None:
    for email, name, sections, status in [("ann@example.org", "Ann Lee", "", "active"),
                                          ("bob@example.org", "Bob 100%", "China", "active"),
                                          ("lee@example.net", "", "Russia,China", "pending"),
                                          ("zed@example.org", "Zed", "Energy", "unsubscribed")]:
        subscribers.add(store, email, name=name, sections=subscribers.parse_sections(sections), status=status)

    def emails(**filters: str) -> list[str]:
        return [s.email for s in subscribers.iterate(store, **filters)]  # type: ignore[arg-type]

    assert emails(search="LEE") == ["ann@example.org", "lee@example.net"]
    assert emails(search="100%") == ["bob@example.org"]  # % is a character, not a wildcard
    assert emails(search="_") == []
    assert emails(section="China") == ["ann@example.org", "bob@example.org", "lee@example.net"]
    assert emails(section="Chin") == ["ann@example.org"]  # whole names only; "" means every section
    assert emails(status="active", section="Russia") == ["ann@example.org"]
    found, total = subscribers.page(store, search="example.org", offset=1, limit=2)
    assert total == 3 and [s.email for s in found] == ["bob@example.org", "ann@example.org"]
    assert subscribers.counts(store) == {"pending": 1, "active": 2, "unsubscribed": 1, "bounced": 0,
                                         "complained": 0}


CSV = """email,name,sections,status
ann@example.org,Ann,,active
not-an-address,Broken,,
bob@example.org,"Bob, Jr.","Russia,China",pending
carol@example.org,Carol,,sleeping
ANN@example.org,Ann again,,
dan@example.org,Dan,,active,extra
gone@example.org,Gone Again,,active
"""


def test_import_reports_every_row_and_keeps_the_good_ones(store: Store) -> None:
    subscribers.add(store, "gone@example.org", name="Gone", status="active")
    subscribers.remove(store, "gone@example.org")
    report = csvfile.import_csv(store, io.StringIO(CSV), choices=CHOICES)
    assert (report.added, report.updated, report.skipped) == (2, 1, 0)
    assert [line for line, _ in report.rejected] == [3, 5, 6, 7]
    reasons = dict(report.rejected)
    assert "invalid email address 'not-an-address'" in reasons[3]
    assert "unknown status 'sleeping'" in reasons[5]
    assert reasons[6] == "ANN@example.org is already on line 2 of this file"
    assert "5 fields where the header has 4" in reasons[7]
    bob = subscribers.get(store, "bob@example.org")
    assert (bob.name, bob.sections, bob.status, bob.origin) == ("Bob, Jr.", ("Russia", "China"), "pending", "import")
    gone = subscribers.get(store, "gone@example.org")
    assert gone.status == "unsubscribed" and gone.name == "Gone Again"  # updated, never reactivated
    assert [e.event for e in subscribers.events(store, bob.id)] == ["imported"]
    assert report.to_json()["rejected"][0]["line"] == 3


def test_import_updates_and_skips_known_addresses(store: Store) -> None:
    csvfile.import_csv(store, io.StringIO("email,name,sections,status\nann@example.org,Ann,China,pending\n"), choices=CHOICES)
    again = csvfile.import_csv(store, io.StringIO("email,name,sections,status\nANN@example.org,Ann,China,pending\n"), choices=CHOICES)
    assert (again.added, again.updated, again.skipped) == (0, 0, 1)
    change = csvfile.import_csv(store, io.StringIO("email,status\nAnn@Example.org,active\n"), choices=CHOICES)
    assert (change.updated, change.skipped) == (1, 0)
    ann = subscribers.get(store, "ann@example.org")
    assert ann.status == "active" and ann.sections == ("China",) and ann.confirmed_at is not None
    assert [e.event for e in subscribers.events(store, ann.id)] == ["imported", "active"]
    with pytest.raises(SubscriberError, match="no 'email' column"):
        csvfile.import_csv(store, io.StringIO("name,status\nx,active\n"), choices=CHOICES)


def test_export_round_trips_through_import(store: Store, tmp_path: Path) -> None:
    csvfile.import_csv(store, io.StringIO(CSV), choices=CHOICES)
    text = csvfile.export_text(store)
    assert text.splitlines()[0] == "email,name,sections,status,language,timezone"
    assert 'bob@example.org,"Bob, Jr.","Russia,China",pending,,' in text
    other = Store(tmp_path / "other.db")
    report = csvfile.import_csv(other, io.StringIO(text), choices=CHOICES)
    assert report.added == subscribers.count(store) and not report.rejected
    assert csvfile.export_text(other) == text
    assert csvfile.export_text(store, status="pending").count("\n") == 2
    other.close()


def test_one_hundred_thousand_rows_import_correctly(store: Store) -> None:
    """Correctness at the size the bench measures (bench/import_subscribers.py reports the speed)."""
    for i in range(0, 1000, 10):  # 100 known readers; every second one has unsubscribed
        subscribers.add(store, f"reader{i}@example.org", name="Old", status="active")
        if i % 20 == 0:
            subscribers.remove(store, f"reader{i}@example.org")
    lines = ["email,name,sections,status"]
    for i in range(100_000):
        lines.append(f"reader{i}@example.org,Reader {i},{'Russia' if i % 3 == 0 else ''},active")
    lines[50_001] = "broken-at-line-50002,,,"
    lines.append("reader7@example.org,Dup,,active")
    report = csvfile.import_csv(store, io.StringIO("\n".join(lines) + "\n"), choices=CHOICES)
    assert report.rejected[0][0] == 50_002 and report.rejected[1] == (100_002, ("reader7@example.org is already "
                                                                                "on line 9 of this file"))
    assert len(report.rejected) == 2
    assert (report.added, report.updated, report.skipped) == (100_000 - 100 - 1, 100, 0)
    assert subscribers.count(store) == 100_000 - 1
    assert subscribers.count(store, "unsubscribed") == 50  # suppression held through the import
    assert subscribers.get(store, "reader20@example.org").name == "Reader 20"
    assert subscribers.get(store, "reader99999@example.org").sections == ("Russia",)
    with store.begin() as conn:
        events = conn.execute(sa.select(sa.func.count()).select_from(store.t.subscriber_events)).scalar()
    # 100 added and 50 removed before; one "imported" per new reader; known readers kept their status.
    assert events == 100 + 50 + (100_000 - 100 - 1)


def test_lifecycle_migration_keeps_what_is_known_of_existing_rows(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    before = [m for m in migrations.MIGRATIONS if m[0] != "0005_subscriber_lifecycle"]
    migrations.apply(engine, before)
    moment = datetime(2025, 1, 2, 3, 4, 5)
    with engine.begin() as conn:
        for email, status in [("a@example.org", "active"), ("b@example.org", "unsubscribed")]:
            conn.execute(sa.text("INSERT INTO subscribers (email, email_key, name, status, sections, origin, "
                                 "created_at, updated_at) VALUES (:e, :e, '', :s, '', 'cli', :t, :t)"),
                         {"e": email, "s": status, "t": moment})
    engine.dispose()
    store = Store(tmp_path / "old.db")
    a, b = subscribers.get(store, "a@example.org"), subscribers.get(store, "b@example.org")
    assert a.status_changed_at == moment.replace(tzinfo=UTC) == a.confirmed_at
    assert b.status_changed_at == moment.replace(tzinfo=UTC) and b.confirmed_at is None
    assert subscribers.events(store, a.id) == []
    store.close()


def test_the_same_on_postgresql(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        subscribers.add(store, "gone@example.org", status="active")
        subscribers.remove(store, "gone@example.org")
        report = csvfile.import_csv(store, io.StringIO(CSV), choices=CHOICES)
        assert (report.added, report.updated, len(report.rejected)) == (2, 1, 4)
        assert subscribers.get(store, "gone@example.org").status == "unsubscribed"
        assert [s.email for s in subscribers.iterate(store, search="BOB", section="China")] == ["bob@example.org"]
        found, total = subscribers.page(store, search="100%")
        assert (found, total) == ([], 0)
        bob = subscribers.get(store, "bob@example.org")
        active = subscribers.change(store, bob.id, "active", event="confirmed", moment=T0)
        assert active.confirmed_at == T0 == active.status_changed_at
        assert [e.event for e in subscribers.events(store, bob.id)] == ["imported", "confirmed"]
        assert subscribers.counts(store)["active"] == 2
    finally:
        store.close()


def test_the_list_command_filters(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner
    from helpers.newsletters import write_config

    from newsletter.cli import cli

    config = write_config(tmp_path, smtp_url="smtp://127.0.0.1:1", sources=[])
    runner = CliRunner()
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email,name,sections,status\nann@example.org,Ann Lee,,active\n"
                        "bob@example.org,Bob,China,active\nlee@example.net,,Russia,pending\n", encoding="utf-8")
    imported = runner.invoke(cli, ["--config", str(config), "subscribers", "import", str(csv_file)])
    assert imported.exit_code == 0 and "3 added, 0 updated, 0 unchanged, 0 rejected" in imported.output
    listed = runner.invoke(cli, ["--config", str(config), "subscribers", "list", "--search", "LEE", "--section",
                                 "Russia", "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert [(r["email"], r["status"]) for r in rows] == [("ann@example.org", "active"), ("lee@example.net", "pending")]
    assert rows[0]["confirmed_at"] and rows[1]["confirmed_at"] is None and rows[1]["origin"] == "import"
