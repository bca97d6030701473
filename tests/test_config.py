"""Configuration: the shipped file loads, bad input fails naming key and file, environment wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load, parse
from newsletter.error import ConfigError

REPOSITORY_CONFIG = Path(__file__).parent.parent / "newsletter.toml"

MINIMAL = """\
[newsletter]
title = "Test Briefing"
timezone = "Asia/Almaty"

[smtp]
url = "smtp://127.0.0.1:1025"

[storage]
url = "sqlite:///data/state.db"
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "newsletter.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_loads() -> None:
    config = load(REPOSITORY_CONFIG, environ={})
    assert config.newsletter.title == "Central Asia Briefing"
    assert config.newsletter.sender == "Central Asia Briefing <briefing@example.org>"
    assert config.smtp.max_rate == 50.0 and isinstance(config.smtp.max_rate, float)
    assert config.schedule.cron == "0 8 * * mon"
    assert [s.name for s in config.sections][:3] == ["Kazakhstan", "Russia", "China"]
    assert {s.section for s in config.sources} == {None, "Economy"}
    assert config.root == REPOSITORY_CONFIG.parent.resolve()
    assert config.database_url == f"sqlite:///{REPOSITORY_CONFIG.parent.resolve() / 'newsletter.db'}"


@pytest.mark.parametrize(("extra", "key"), [
    ('[mail]\nhost = "x"\n', "mail"),
    ('[gather]\nhots = "x"\n', "gather.hots"),
    ('[smtp.extra]\nx = 1\n', "smtp.extra"),
    ('[gather]\ntimeout = "fast"\n', "gather.timeout"),
    ("[newsletter.nested]\ntitle = 1\n", "newsletter.nested"),
    ('[[sources]]\nurl = "https://a.example/feed.xml"\npath = "inbox"\n', "sources[0]"),
    ('[[sources]]\nsection = "Energy"\n', "sources[0]"),
    ('[[sections]]\nname = "Oil"\nkeywords = "oil"\n', "sections[0].keywords"),
    ('[[sections]]\nname = "Oil"\n\n[[sections]]\nname = "Oil"\n', "sections[1].name"),
    ('[schedule]\nskip_if_empty = "yes"\n', "schedule.skip_if_empty"),
])
def test_bad_file_names_key_and_file(tmp_path: Path, extra: str, key: str) -> None:
    path = write(tmp_path, MINIMAL + extra)
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    message = str(error.value)
    assert key in message and str(path) in message and "\n" not in message


@pytest.mark.parametrize(("old", "new", "key"), [
    ('url = "smtp://127.0.0.1:1025"', 'hots = "mail.example"', "smtp.hots"),
    ('url = "smtp://127.0.0.1:1025"', 'max_rate = "fast"', "smtp.max_rate"),
    ('timezone = "Asia/Almaty"', 'timezone = "Asia/Atlantis"', "newsletter.timezone"),
    ('url = "smtp://127.0.0.1:1025"', 'url = "http://127.0.0.1:1025"', "smtp.url"),
    ('url = "smtp://127.0.0.1:1025"', 'url = "smtp://127.0.0.1:notaport"', "smtp.url"),
])
def test_bad_value_names_key_and_file(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = write(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    message = str(error.value)
    assert key in message and str(path) in message and "\n" not in message


def test_max_rate_as_a_string_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="smtp.max_rate"):
        load(write(tmp_path, MINIMAL.replace('url = "smtp', 'max_rate = "50"\nurl = "smtp')), environ={})


def test_environment_beats_file(tmp_path: Path) -> None:
    environ = {
        "NEWSLETTER_SMTP_URL": "smtps://user:secret@mail.example:465",
        "NEWSLETTER_DATABASE_URL": "postgresql://db.example/news",
        "NEWSLETTER_SECRET_KEY": "k" * 32,
        "NEWSLETTER_BASE_URL": "https://news.example",
    }
    text = MINIMAL.replace(
        'title = "Test Briefing"', 'title = "Test Briefing"\nsecret_key = "from-file"\nbase_url = "https://file.example"'
    )
    config = load(write(tmp_path, text), environ=environ)
    assert config.smtp.url == "smtps://user:secret@mail.example:465"
    assert config.database_url == "postgresql://db.example/news"
    assert config.newsletter.secret_key == "k" * 32
    assert config.newsletter.base_url == "https://news.example"
    assert config.newsletter.title == "Test Briefing"  # the rest of the file still applies

    plain = load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_SMTP_URL": ""})
    assert plain.smtp.url == "smtp://127.0.0.1:1025"
    assert (plain.newsletter.base_url, plain.newsletter.secret_key) == ("https://file.example", "from-file")
    assert plain.database_url == f"sqlite:///{(tmp_path / 'data' / 'state.db').resolve()}"


def test_environment_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="smtp.url"):
        load(write(tmp_path, MINIMAL), environ={"NEWSLETTER_SMTP_URL": "ftp://mail.example"})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as error:
        load(tmp_path / "nowhere.toml", environ={})
    assert "nowhere.toml" in str(error.value)


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML") as error:
        load(write(tmp_path, "[newsletter\n"), environ={})
    assert "newsletter.toml" in str(error.value)


def test_relative_sqlite_path_resolves_against_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    write(folder, MINIMAL)
    monkeypatch.chdir(tmp_path)  # a relative config path: the database is still beside the file
    config = load(Path("site") / "newsletter.toml", environ={})
    assert config.database_url == f"sqlite:///{folder.resolve() / 'data' / 'state.db'}"
    assert config.resolve("inbox") == folder.resolve() / "inbox"
    absolute = parse({"storage": {"url": f"sqlite:///{tmp_path}/x.db"}}, root=folder, environ={})
    assert absolute.database_url == f"sqlite:///{tmp_path}/x.db"
    assert parse({"storage": {"url": "sqlite:///:memory:"}}, root=folder, environ={}).database_url == (
        "sqlite:///:memory:"
    )


def test_defaults_apply_without_a_file(tmp_path: Path) -> None:
    config = parse({}, root=tmp_path, environ={})
    assert config.newsletter.catch_all == "In brief"
    assert config.smtp.connections == 4
    assert config.database_url == f"sqlite:///{(tmp_path / 'newsletter.db').resolve()}"
