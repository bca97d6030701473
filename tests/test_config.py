"""Configuration: the shipped file loads, bad input fails naming key and file, environment wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import one_line_error, run

from newsletter.config import load, locate, parse
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


@pytest.mark.parametrize(("extra", "expected"), [
    ('[mail]\nhost = "x"\n', "10: unknown key 'mail'"),
    ('[[sectons]]\nname = "x"\n', "10: unknown key 'sectons' (did you mean 'sections'?)"),
    ('[gather]\nhots = "x"\n', "11: unknown key 'gather.hots'"),
    ('[gather]\ntimeuot = 5\n', "11: unknown key 'gather.timeuot' (did you mean 'timeout'?)"),
    ('[smtp.extra]\nx = 1\n', "10: unknown key 'smtp.extra'"),
    ('[gather]\ntimeout = "fast"\n', "11: gather.timeout must be a number, got 'fast'"),
    ("[newsletter.nested]\ntitle = 1\n", "10: unknown key 'newsletter.nested'"),
    ('[[sources]]\nurl = "https://a.example/feed.xml"\npath = "inbox"\n',
     "10: sources[1] needs exactly one of 'url' or 'path'"),
    ('[[sources]]\npath = "inbox"\nsection = "Energy"\n',
     "12: sources[1].section 'Energy' is not a configured section"),
    ('[[sections]]\nname = "Economy"\n\n[[sources]]\npath = "inbox"\nsection = "Economi"\n',
     "15: sources[1].section 'Economi' is not a configured section (did you mean 'Economy'?)"),
    ('[[sections]]\nname = "Oil"\nkeywords = "oil"\n', "12: sections[1].keywords must be a list of strings, got 'oil'"),
    ('[[sections]]\nname = "Oil"\n\n[[sections]]\nname = "Oil"\n', "14: sections[2].name 'Oil' appears twice"),
    ('[schedule]\nskip_if_empty = "yes"\n', "11: schedule.skip_if_empty must be true or false, got 'yes'"),
    ('[schedule]\ncron = "0 8 * * 1"\n', "11: schedule.cron: use day names"),
    ('[web]\nport = 8000\nadmin_token = "secret"\n',
     "12: web.admin_token must be at least 16 characters (a long random string)"),
])
def test_bad_file_names_file_line_and_key(tmp_path: Path, extra: str, expected: str) -> None:
    path = write(tmp_path, MINIMAL + extra)  # MINIMAL is 9 lines: extra starts at line 10
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    message = str(error.value)
    assert message.startswith(f"{path}:{expected}") and "\n" not in message


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


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("NEWSLETTER_ADMIN_TOKEN", "secret",
     "NEWSLETTER_ADMIN_TOKEN: web.admin_token must be at least 16 characters (a long random string)"),
    ("NEWSLETTER_SMTP_URL", "ftp://mail.example",
     "NEWSLETTER_SMTP_URL: smtp.url: scheme must be one of smtp, smtp+starttls, smtps, got 'ftp'"),
    ("NEWSLETTER_SMTP_URL", "smtp://mail.example:port",
     "NEWSLETTER_SMTP_URL: smtp.url: invalid port in 'smtp://mail.example:port'"),
    ("NEWSLETTER_DATABASE_URL", "mysql://db.example/news",
     "NEWSLETTER_DATABASE_URL: storage.url must be sqlite:///PATH or postgresql://USER@HOST/DATABASE, got 'mysql'"),
    ("NEWSLETTER_BASE_URL", "news.example.org",
     ("NEWSLETTER_BASE_URL: newsletter.base_url must be an http(s) address like https://briefing.example.org, "
      "got 'news.example.org'")),
])
def test_an_environment_variable_with_a_bad_value_is_named(tmp_path: Path, variable: str, value: str,
                                                           expected: str) -> None:
    """The value came from the environment: the message names the variable, not the file."""
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, MINIMAL), environ={variable: value})
    assert str(error.value) == expected


def test_the_same_bad_value_in_the_file_is_blamed_on_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[web]\nadmin_token = "secret"\n')
    with pytest.raises(ConfigError) as error:
        load(path, environ={"NEWSLETTER_SMTP_URL": "smtp://127.0.0.1:2525"})  # another variable is set: no matter
    assert str(error.value) == f"{path}:12: web.admin_token must be at least 16 characters (a long random string)"
    fixed = load(path, environ={"NEWSLETTER_ADMIN_TOKEN": "a-long-random-string-0123"})  # the environment wins
    assert fixed.web.admin_token == "a-long-random-string-0123"


def test_a_typo_in_the_seventh_section_names_line_key_and_the_close_match(tmp_path: Path) -> None:
    sections = "".join(f'\n[[sections]]\nname = "S{n}"\nkeywords = ["k{n}"]\n' for n in range(1, 7))
    path = write(tmp_path, MINIMAL + sections + '\n[[sections]]\nname = "S7"\nkeyword = ["oil"]\n')
    line = path.read_text().splitlines().index('keyword = ["oil"]') + 1
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    assert str(error.value) == f"{path}:{line}: unknown key 'sections[7].keyword' (did you mean 'keywords'?)"
    result = run("gather", cwd=tmp_path)  # as the user sees it: the path as found, ./newsletter.toml
    assert one_line_error(result) == (
        f"error: newsletter.toml:{line}: unknown key 'sections[7].keyword' (did you mean 'keywords'?)")


def test_the_command_line_names_the_variable(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    result = run("gather", cwd=tmp_path, env={"NEWSLETTER_ADMIN_TOKEN": "secret"})
    assert one_line_error(result) == (
        "error: NEWSLETTER_ADMIN_TOKEN: web.admin_token must be at least 16 characters (a long random string)")


def test_a_missing_config_named_by_the_environment_names_the_variable(tmp_path: Path) -> None:
    result = run("gather", cwd=tmp_path, env={"NEWSLETTER_CONFIG": str(tmp_path / "nowhere.toml")})
    assert one_line_error(result) == f"error: NEWSLETTER_CONFIG: config file not found: {tmp_path / 'nowhere.toml'}"


def test_locate_finds_keys_in_tables_arrays_and_dotted_keys() -> None:
    text = (
        '[web]\n"port" = 8000\n\n[[sections]]\nname = "A"\nkeywords = [\n  "x = y",\n]\n'
        '\n[[sections]]\nname = "B"\nnote = """\nname = not a key\n"""\nlimit = 2\n'
        'theme.brand_colour = "#fff"\n[ smtp . extra ]\nx = 1\n'
    )
    assert locate(text, "web.port") == 2
    assert locate(text, "web.admin_token") == 1  # not in the file: its table
    assert locate(text, "sections[1].keywords") == 6
    assert locate(text, "sections[2].name") == 11
    assert locate(text, "sections[2].limit") == 15
    assert locate(text, "sections[2].theme.brand_colour") == 16
    assert locate(text, "smtp.extra.x") == 18
    assert locate(text, "sections[3].name") == 4  # no third entry: where the array begins
    assert locate(text, "dkim.selector") is None


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "[web\n")
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    assert str(error.value).startswith(f"{path}:10: invalid TOML: ")


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
