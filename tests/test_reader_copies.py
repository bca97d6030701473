"""Each reader's own copy: their language's words and dates, their sections' subject, rendered once per copy."""

from __future__ import annotations

import dataclasses
import itertools
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from helpers.reference import build_reference
from helpers.sample_issue import MOMENT, draft

from newsletter.config import Config, parse
from newsletter.email.message import Composer, Recipient
from newsletter.email.render import Renderer
from newsletter.tokens import Signer

SECTIONS = [{"name": "Russia", "titles": {"ru": "Россия", "kk": "Ресей"}},
            {"name": "China", "titles": {"ru": "Китай", "kk": "Қытай"}},
            {"name": "Energy", "titles": {"ru": "Энергетика"}}]  # no Kazakh title: the name stays


def config(tmp_path: Path, **newsletter: Any) -> Config:
    settings = {"title": "Test Briefing", "base_url": "https://news.example.org", "languages": ["en", "ru", "kk"],
                "subject": "{title} #{number}: {headline}", **newsletter}
    return parse({"newsletter": settings, "sections": SECTIONS}, root=tmp_path, environ={})


def composer(cfg: Config, issue: Any | None = None) -> Composer:
    issue = issue or draft()
    return Composer(cfg, number=issue.number, subject=issue.subject, rendered=Renderer(cfg, issue),
                    signer=Signer("k"), date=MOMENT)


def message(c: Composer, reader: Recipient) -> tuple[Any, str, str]:
    parsed = message_from_bytes(c.build(reader), policy=policy.default)
    text, html = (p.get_content().replace("\r\n", "\n") for p in parsed.iter_parts())
    return parsed, text, html


def test_a_russian_reader_gets_russian_words_dates_and_titles_and_the_items_as_written(tmp_path: Path) -> None:
    c = composer(config(tmp_path))
    mail, text, html = message(c, Recipient(3, "bek@example.org", "Бекзат Нурланов", (), "ru"))
    assert mail["Content-Language"] == "ru" and '<html lang="ru" dir="ltr"' in html
    assert "Здравствуйте, Бекзат!" in text and "Здравствуйте, Бекзат!" in html
    assert "Выпуск № 1 · 23 ноября 2026\u202fг." in text and "Открыть в браузере" in html
    assert "РОССИЯ\n======\n" in text and "ЭНЕРГЕТИКА\n==========\n" in text  # headings underlined as long
    assert ">Россия</h2>" in html and ">Коротко</h2>" in html  # the default catch-all is the project's word
    assert "Kremlin signals new gas deal" in text and "Банки под давлением" in html  # items are never translated
    assert "Читать далее" in html and "Отписаться" in html and "Настройки подписки" in text
    assert "Read more" not in html and "Unsubscribe" not in html


def test_a_kazakh_reader_and_a_section_without_a_kazakh_title(tmp_path: Path) -> None:
    _, text, html = message(composer(config(tmp_path)), Recipient(4, "a@example.org", "Aigerim Sadykova", (), "kk-KZ"))
    assert "Сәлеметсіз бе, Aigerim!" in text and "<html lang=\"kk\"" in html
    assert "РЕСЕЙ\n=====\n" in text and "ENERGY\n======\n" in text and "ҚЫСҚАША" in text
    assert "Бұл шығарылымда:" in html and "2026\u202fж. 23 қараша" in text


def test_an_unoffered_or_empty_language_gets_the_newsletters(tmp_path: Path) -> None:
    c = composer(config(tmp_path))
    for tag in ("", "de", "xx"):
        mail, text, _ = message(c, Recipient(5, "o@example.org", "Oliver Grant", (), tag))
        assert mail["Content-Language"] == "en" and "Hello Oliver," in text and "Issue 1 · 23 November 2026" in text


def test_the_subject_and_preheader_come_from_the_readers_own_sections(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    issue = dataclasses.replace(draft(), subject="Test Briefing #1: Kremlin signals new gas deal")
    c = composer(cfg, issue)
    everything, china, brief = (Recipient(i, f"r{i}@example.org", "", chosen) for i, chosen in
                                enumerate([(), ("China",), ("In brief", "Energy")], start=1))
    assert message(c, everything)[0]["Subject"] == issue.subject  # the whole issue: the issue's own subject
    mail, _, html = message(c, china)
    assert mail["Subject"] == "Test Briefing #1: China opens new freight terminal on the Kazakh border"
    assert "Kremlin" not in html.split("<body")[1].split("</div>")[0]  # the preheader is the copy's too
    assert message(c, brief)[0]["Subject"] == "Test Briefing #1: Kazakhstan raises oil output"  # issue order
    assert c.subject_for(china) != c.subject_for(everything)
    assert build_reference(c, china) == build_reference(c, china)  # the oracle agrees (compared in test_message)


def test_the_date_in_a_subject_is_in_the_readers_language(tmp_path: Path) -> None:
    c = composer(config(tmp_path, subject="{title}, {date}"))
    assert message(c, Recipient(1, "a@example.org", "", ("China",), "ru"))[0]["Subject"] == \
        "Test Briefing, 23 ноября 2026 г."  # a header's spaces are plain spaces


def test_an_editors_subject_wins_for_everyone_and_the_intro_is_at_the_top(tmp_path: Path) -> None:
    issue = dataclasses.replace(draft(), subject="Winter is coming", editor_subject="Winter is coming",
                                intro="A short week.\n\nWe are back on Monday.")
    c = composer(config(tmp_path), issue)
    for reader in (Recipient(1, "a@example.org", "Ann"), Recipient(2, "b@example.org", "", ("China",), "kk")):
        mail, text, html = message(c, reader)
        assert mail["Subject"] == "Winter is coming"
        assert "A short week.\n\nWe are back on Monday." in text
        assert html.index("A short week.") < html.index("We are back on Monday.") < html.index("nl-toc")


def test_mjml_is_compiled_once_per_language_and_section_choice_never_per_reader(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    renderer = Renderer(cfg, draft())
    c = Composer(cfg, number=1, subject="S", rendered=renderer, signer=Signer("k"), date=MOMENT)
    choices = [(), ("Russia",), ("China", "Energy"), ("In brief",)]
    languages = ["en", "ru", "kk", "ru-RU", ""]  # ru-RU reads the ru copy, "" the en one
    readers = [Recipient(i, f"r{i}@example.org", "N", choice, language)
               for i, (choice, language) in enumerate(itertools.product(choices * 5, languages))]
    assert len({c.build(r) for r in readers}) == len(readers)
    assert renderer.compiled == 3 * 4


def test_the_copies_an_editor_is_told_about(tmp_path: Path) -> None:
    renderer = Renderer(config(tmp_path), draft())
    copies = renderer.copies({((), ""): 5, ((), "en"): 2, (("China",), "ru"): 3, (("china", "Nowhere"), "ru-RU"): 1})
    assert [(c.language, c.sections, c.readers, c.every_section) for c in copies] == [
        ("en", ("Russia", "China", "Energy", "In brief"), 7, True), ("ru", ("China",), 4, False)]
    assert copies[1].subject == "Test Briefing #1: China opens new freight terminal on the Kazakh border"
    assert renderer.compiled == 0  # telling renders nothing


@pytest.mark.parametrize("greeting", ["", "Dear {name},"])
def test_a_greeting_can_be_none_or_the_whole_name(tmp_path: Path, greeting: str) -> None:
    _, text, html = message(composer(config(tmp_path, greeting=greeting)), Recipient(1, "a@example.org", "Ann Lee"))
    assert ("Dear Ann Lee," in text) == bool(greeting) and ("Dear Ann Lee," in html) == bool(greeting)
    assert "Hello" not in text
