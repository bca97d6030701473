"""Messages: the fast path equals the straightforward one, per reader and per section choice."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from helpers.reference import build_reference
from helpers.sample_issue import MOMENT, big_draft, draft

from newsletter.config import Config, parse
from newsletter.email.message import Composer, Recipient
from newsletter.email.notice import confirmation
from newsletter.email.render import Renderer
from newsletter.error import ConfigError
from newsletter.tokens import UNSUBSCRIBE, Signer

NAMES = ["", "Ann Lee", "Бекзат", "Zhanna Ömirzaq", 'Lee, Ann "Ed"', "O'Brien", "李小龙", "Émile\r\nBcc: x@evil.org",
         "A" * 90, "Ölçü 😀"]
CHOICES: list[tuple[str, ...]] = [(), ("Russia",), ("china", "Energy"), ("Energy", "China"), ("Nowhere",),
                                  ("Russia", "China", "Energy", "In brief")]


def config(tmp_path: Path, **newsletter: Any) -> Config:
    settings = {"title": "Test Briefing", "from": "Test Briefing <briefing@example.org>",
                "base_url": "https://news.example.org", "postal_address": "1 Test Street, Almaty", **newsletter}
    return parse({"newsletter": settings}, root=tmp_path, environ={})


def composer(cfg: Config, issue: Any = None) -> Composer:
    issue = issue or draft()
    return Composer(cfg, number=issue.number, subject=issue.subject, rendered=Renderer(cfg, issue),
                    signer=Signer("test-secret"), date=issue.date)


def parsed(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str | None, str]]]:
    """Return a message's headers (decoded) and its parts (type, charset, decoded content)."""
    message = message_from_bytes(raw, policy=policy.default)
    # Stripped: the email package folds a subject too long for the first line right after "Subject:",
    # and reads the fold back as a leading space.
    headers = [(k, str(v).strip()) for k, v in message.items()]
    parts = [(p.get_content_type(), p.get_content_charset(), p.get_content().replace("\r\n", "\n"))
             for p in message.iter_parts()]
    return headers, parts


def contents(raw: bytes) -> tuple[str, str]:
    """Return the decoded text and HTML parts of a message, with newlines as in the templates."""
    message = message_from_bytes(raw, policy=policy.default)
    text, html = (p.get_content().replace("\r\n", "\n") for p in message.iter_parts())
    return text, html


def test_fast_path_parses_back_identical_to_the_email_package(tmp_path: Path) -> None:
    c = composer(config(tmp_path, reply_to="Desk <desk@example.org>"))
    rng = random.Random(5)
    for i in range(60):
        reader = Recipient(i + 1, f"reader{i}@example.org", rng.choice(NAMES), rng.choice(CHOICES))
        fast, reference = c.build(reader), build_reference(c, reader)
        assert parsed(fast) == parsed(reference), reader
        lines = fast.split(b"\r\n")
        assert b"\n" not in fast.replace(b"\r\n", b"")  # CRLF only
        assert all(len(line) <= 998 for line in lines)
        body = fast.split(b"\r\n\r\n", 1)[1]
        assert all(len(line) <= 76 for line in body.split(b"\r\n"))


def test_text_that_looks_like_an_encoded_word_stays_literal(tmp_path: Path) -> None:
    # The email package turns a literal "=?utf-8?q?x?=" in a display name into "x"; the fast path
    # encodes the whole name, so the reader sees exactly what was typed.
    c = composer(config(tmp_path))
    name = "Ölçü =?utf-8?q?x?="
    message = message_from_bytes(c.build(Recipient(1, "r@example.org", name)), policy=policy.default)
    assert message["To"].addresses[0].display_name == name


def test_test_copies_carry_the_subject_prefix_both_ways(tmp_path: Path) -> None:
    c = composer(config(tmp_path))
    reader = Recipient(0, "editor@example.org")
    fast = c.build(reader, subject_prefix="[TEST] ")
    assert parsed(fast) == parsed(build_reference(c, reader, subject_prefix="[TEST] "))
    assert message_from_bytes(fast, policy=policy.default)["Subject"].startswith("[TEST] Test Briefing #1")


def test_headers_every_message_carries(tmp_path: Path) -> None:
    c = composer(config(tmp_path))
    raw = c.build(Recipient(7, "reader@example.org", "Zhanna Ömirzaq"))
    message = message_from_bytes(raw, policy=policy.default)
    assert list(message.keys()) == ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                                    "List-Unsubscribe-Post", "MIME-Version", "Content-Type", "Content-Language"]
    assert b"To: Zhanna =?utf-8?b?w5ZtaXJ6YXE=?= <reader@example.org>\r\n" in raw  # RFC 2047 for the non-ASCII word
    assert message["To"] == "Zhanna Ömirzaq <reader@example.org>"
    assert message["Message-ID"] == c.message_id(Recipient(7, "x@example.org"))  # stable per issue and reader
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (u.strip(" <>") for u in message["List-Unsubscribe"].split(","))
    assert Signer("test-secret").check(UNSUBSCRIBE, https.rsplit("/", 1)[1]) == 7
    assert mailto == "mailto:briefing@example.org?subject=unsubscribe"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_header_lines_made_by_hand_are_the_ones_header_would_make(tmp_path: Path) -> None:
    from newsletter.email.message import header

    for base in ("https://news.example.org", "https://a-much-longer-host-name.newsletters.example.org/briefing"):
        c = composer(config(tmp_path, base_url=base))
        reader = Recipient(12345, "r@example.org")
        raw = c.build(reader)
        unsubscribe = c.links(reader)["unsubscribe_url"]
        assert header("List-Unsubscribe", f"<{unsubscribe}>, <mailto:briefing@example.org?subject=unsubscribe>") in raw
        assert header("Message-ID", c.message_id(reader)) in raw


def test_personal_parts_reach_both_parts(tmp_path: Path) -> None:
    c = composer(config(tmp_path, greeting="Dear {name},", greeting_anonymous="Dear reader,"))
    for reader, greeting in [(Recipient(3, "bek@example.org", "Бекзат & Co"), "Dear Бекзат & Co,"),
                             (Recipient(4, "anon@example.org"), "Dear reader,")]:
        text, html = contents(c.build(reader))
        links = c.links(reader)
        assert greeting in text and greeting.replace("&", "&amp;") in html
        assert reader.email in text and reader.email in html
        for url in links.values():
            assert url in text and f'href="{url}"' in html
        assert "NLPERSONAL" not in text + html
        assert "https://news.example.org/archive/1.html" in text and 'href="https://news.example.org/archive/1.html"' in html


def test_readers_get_only_the_sections_they_chose(tmp_path: Path) -> None:
    c = composer(config(tmp_path))
    text, html = contents(c.build(Recipient(1, "a@example.org")))
    assert all(name.upper() in text for name in ("RUSSIA", "CHINA", "ENERGY", "IN BRIEF"))
    text, html = contents(c.build(Recipient(2, "b@example.org", sections=("energy", "China"))))
    assert "CHINA\n=====" in text and "ENERGY\n======" in text and "RUSSIA\n" not in text
    assert "Moscow hinted at a new gas supply" not in text + html  # a Russia item
    assert "Kazakhstan raises oil output" in text and "Kazakhstan raises oil output" in html
    assert "Also in this issue, online: Russia, In brief" in text
    assert 'href="https://news.example.org/archive/1.html#s-russia"' in html
    assert "Nothing in your sections this time" in contents(c.build(Recipient(3, "c@example.org", sections=("Sport",))))[0]


def test_mjml_is_compiled_once_per_distinct_selection(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    renderer = Renderer(cfg, draft())
    c = Composer(cfg, number=1, subject="S", rendered=renderer, signer=Signer("k"), date=MOMENT)
    for i in range(300):
        c.build(Recipient(i, f"r{i}@example.org", "Ann", CHOICES[i % len(CHOICES)]))
    # (), the four-section choice and an unknown one that matches nothing: three selections in
    # all are "every section" twice and "nothing" once; (china, Energy) == (Energy, China).
    distinct = {renderer.selection(choice) for choice in CHOICES}
    assert len(distinct) == 4
    assert renderer.compiled == 4


class CountingComposer(Composer):
    """A composer that records each selection it MIME-encodes (the step shared by readers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoded: list[tuple[str, tuple[str, ...]]] = []

    def _encode(self, rendered: Any, key: tuple[str, tuple[str, ...]]) -> Any:
        self.encoded.append(key)
        return super()._encode(rendered, key)


def test_mime_is_encoded_once_per_distinct_selection_not_per_reader(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    renderer = Renderer(cfg, draft())
    c = CountingComposer(cfg, number=1, subject="S", rendered=renderer, signer=Signer("k"), date=MOMENT)
    readers = [Recipient(i, f"r{i}@example.org", NAMES[i % len(NAMES)], CHOICES[i % len(CHOICES)])
               for i in range(300)]
    built = [c.build(r) for r in readers]
    assert sorted(c.encoded) == sorted({("en", renderer.selection(choice)) for choice in CHOICES})  # 4, each once
    assert all(f"r{r.id}@example.org".encode() in raw for r, raw in zip(readers, built, strict=True))


def test_building_from_several_threads_renders_each_selection_once(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    renderer = Renderer(cfg, draft())
    c = Composer(cfg, number=1, subject="S", rendered=renderer, signer=Signer("k"), date=MOMENT)
    readers = [Recipient(i, f"r{i}@example.org", "Ann", CHOICES[i % len(CHOICES)]) for i in range(120)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        built = list(pool.map(c.build, readers))
    assert renderer.compiled == 4
    alone = Composer(cfg, number=1, subject="S", rendered=Renderer(cfg, draft()), signer=Signer("k"), date=MOMENT)
    assert built == [alone.build(r) for r in readers]


def test_a_trimmed_selection_still_builds_identically(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    c = composer(cfg, big_draft(80))
    reader = Recipient(9, "r@example.org", "Ann")
    assert c.rendered_for(reader).trimmed > 0
    assert parsed(c.build(reader)) == parsed(build_reference(c, reader))


def test_one_rendered_for_everyone_still_works(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    rendered = Renderer(cfg, draft()).render()
    c = Composer(cfg, number=1, subject="S", rendered=rendered, signer=Signer("k"), date=MOMENT)
    reader = Recipient(1, "r@example.org", sections=("Russia",))
    assert c.rendered_for(reader) is rendered
    assert parsed(c.build(reader)) == parsed(build_reference(c, reader))


def test_a_bad_from_address_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="newsletter.from"):
        composer(config(tmp_path, **{"from": "nobody"}))


def test_confirmation_email(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    url = "https://news.example.org/confirm/abc.def?next=1&x=2"
    raw = confirmation(cfg, email="ann@example.org", name="Анна", confirm_url=url,
                       date=datetime(2026, 11, 23, tzinfo=UTC), sections=("Russia", "China"))
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Confirm your subscription to Test Briefing"
    assert message["To"] == "Анна <ann@example.org>"
    assert message["From"] == "Test Briefing <briefing@example.org>"
    text, html = contents(raw)
    assert url in text and f'href="{url.replace("&", "&amp;")}"' in html
    assert "Hello Анна," in text and "Hello Анна," in html
    assert "sections: Russia, China" in text
    assert all(len(line) <= 72 for line in text.splitlines() if " " in line.strip())


def test_confirmation_subject_and_text_come_from_user_templates(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "confirm.txt").write_text(
        '{% set subject = "Подтвердите подписку на " ~ newsletter.title %}Нажмите: {{ confirm_url }}\n', encoding="utf-8")
    raw = confirmation(config(tmp_path), email="a@example.org", confirm_url="https://x.example/c/1",
                       date=datetime(2026, 1, 1, tzinfo=UTC))
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Подтвердите подписку на Test Briefing"
    assert b"Subject: =?utf-8?" in raw
    assert contents(raw)[0].strip() == "Нажмите: https://x.example/c/1"
