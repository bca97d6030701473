"""Searching and sorting readers in any case and any script, alike on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.asgi import InProcess, log_in
from helpers.cli import run
from helpers.newsletters import ADMIN_TOKEN

from newsletter import migrations, subscribers
from newsletter.app import Newsletter
from newsletter.store import Store
from newsletter.subscribers import csvfile
from newsletter.subscribers.choices import Choices

READERS = [("ivan@example.org", "Иван Петров"), ("anna@example.org", "anna"), ("bob@example.org", "Bob"),
           ("alyona@example.org", "Алёна Ёлкина"), ("zoe@example.org", "ZOË"), ("nobody@example.org", ""),
           ("Ivanov@Example.org", "Pyotr"), ("ada@example.org", "Ada")]
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BY_NAME = ["Ada", "anna", "Bob", "Pyotr", "ZOË", "Алёна Ёлкина", "Иван Петров", ""]  # no name last


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else tmp_path / "state.db"
    opened = Store(url)
    for email, name in READERS:
        subscribers.add(opened, email, name=name, status="active")
    yield opened
    opened.close()


def names(found: list[subscribers.Subscriber] | Iterator[subscribers.Subscriber]) -> list[str]:
    return [s.name for s in found]


def test_a_search_folds_case_in_every_script(store: Store) -> None:
    for term in ("Иван", "иван", "ИВАН", "петров"):
        assert names(subscribers.iterate(store, search=term)) == ["Иван Петров"], term
    assert names(subscribers.iterate(store, search="ivan")) == ["Иван Петров", "Pyotr"]  # the address counts too
    assert names(subscribers.iterate(store, search="алена")) == ["Алёна Ёлкина"]  # ё read as е, both ways
    assert names(subscribers.iterate(store, search="ЁЛКИНА")) == ["Алёна Ёлкина"]
    assert names(subscribers.iterate(store, search="zoë")) == ["ZOË"]
    assert names(subscribers.iterate(store, search="%")) == [] and names(subscribers.iterate(store, search="_")) == []
    found, total = subscribers.page(store, search="ИВАН")
    assert (names(found), total) == (["Иван Петров"], 1)


def test_sorting_by_name_folds_case(store: Store) -> None:
    assert names(subscribers.page(store, sort="name")[0]) == BY_NAME
    assert names(subscribers.page(store, sort="name", offset=2, limit=3)[0]) == BY_NAME[2:5]
    assert names(subscribers.iterate(store, sort="name", batch=3)) == BY_NAME  # page after page, none twice
    assert names(subscribers.page(store)[0]) == [name for _, name in reversed(READERS)]  # newest first


def test_every_write_of_a_name_keeps_its_search_key(store: Store) -> None:
    bob = subscribers.get(store, "bob@example.org")
    subscribers.update(store, bob.id, name="Борис")
    assert names(subscribers.iterate(store, search="БОРИС")) == ["Борис"]
    assert names(subscribers.iterate(store, search="bob")) == ["Борис"]  # by the address still
    report = csvfile.import_csv(store, io.StringIO("email,name\nada@example.org,Ада\nnew@example.org,Мария\n"),
                                choices=Choices(("Russia",)))
    assert (report.added, report.updated) == (1, 1)
    assert names(subscribers.iterate(store, search="ада")) == ["Ада"]
    assert names(subscribers.iterate(store, search="МАРИЯ")) == ["Мария"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migration_folds_the_names_already_listed(tmp_path: Path, request: pytest.FixtureRequest,
                                                     database: str) -> None:
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else f"sqlite:///{tmp_path / 's.db'}"
    engine = Store(url, migrate=False).engine
    levels = [name for name, _ in migrations.MIGRATIONS]
    migrations.apply(engine, migrations.MIGRATIONS[:levels.index("0012_reader_locale") + 1])
    then = datetime(2026, 1, 2, 3, 4)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at) "
                             "VALUES (:e, :e, :n, 'active', :t, :t)"),
                     [{"e": f"r{i}@example.org", "n": name, "t": then}
                      for i, name in enumerate(["Иван Петров", "Ёлка", "", "Bob"] * 600)])  # past one batch
    store = Store(engine)
    assert len(names(subscribers.iterate(store, search="иван"))) == 600
    assert len(names(subscribers.iterate(store, search="елка"))) == 600
    with store.begin() as conn:
        keys = conn.execute(sa.select(store.t.subscribers.c.name_key).distinct()).scalars().all()
    assert sorted(keys) == ["", "bob", "елка", "иван петров"]
    store.close()


def test_the_command_line_and_the_desk_find_cyrillic_names(app: Newsletter, newsletter_dir: Path,
                                                            client: InProcess) -> None:
    subscribers.add(app.store, "ivan@example.org", name="Иван Петров", status="active")
    for term in ("Иван", "иван"):
        listed = run("subscribers", "list", "--search", term, cwd=newsletter_dir)
        assert listed.stdout.splitlines() == ["ivan@example.org\tactive\tИван Петров"], term
    by_name = run("subscribers", "list", "--sort", "name", cwd=newsletter_dir).stdout.splitlines()
    assert [line.split("\t")[0] for line in by_name] == [
        "ann@example.org", "bek@example.org", "ivan@example.org", "cy@example.org", "pending@example.org"]
    log_in(client)
    page = client.get("/desk/subscribers", params={"q": "бекзат"}).text
    assert "bek@example.org" in page and "ann@example.org" not in page and "1 match." in page
    ordered = client.get("/desk/subscribers", params={"sort": "name"}).text
    assert ordered.index("ann@example.org") < ordered.index("bek@example.org") < ordered.index("ivan@example.org")
    assert '<option value="name" selected>' in ordered
    api = client.get("/api/subscribers", params={"q": "ИВАН", "sort": "name"}, headers=BEARER).json()
    assert [s["name"] for s in api["subscribers"]] == ["Иван Петров"]
    assert client.get("/api/subscribers", params={"sort": "age"}, headers=BEARER).json()["detail"] == (
        "unknown sort 'age' (expected one of newest, name)")
