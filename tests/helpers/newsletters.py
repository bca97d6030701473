"""Test newsletters: the fixture files, a config writer, many readers at once, a queued issue, forged links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from newsletter import delivery
from newsletter.app import Newsletter
from newsletter.edit import issue
from newsletter.email.message import Composer
from newsletter.email.render import render
from newsletter.store import now

FIXTURES = Path(__file__).parent.parent / "fixtures"
ADMIN_TOKEN = "test-admin-token-0123456789"


def write_config(folder: Path, *, smtp_url: str, sources: list[dict[str, str]], extra: str = "") -> Path:
    """Write a newsletter.toml for a test newsletter in ``folder`` and return its path."""
    lines = [
        "[newsletter]",
        'title = "Test Briefing"',
        'from = "Test Briefing <briefing@example.org>"',
        'base_url = "https://news.example.org"',
        'timezone = "Asia/Almaty"',
        'postal_address = "1 Test Street, Almaty"',
        "",
        "[smtp]",
        f'url = "{smtp_url}"',
        "",
        "[storage]",
        'url = "sqlite:///state.db"',
        "",
        "[gather]",
        "timeout = 5",
    ]
    for source in sources:
        lines += ["", "[[sources]]", *(f'{k} = "{v}"' for k, v in source.items())]
    for name, keywords in [
        ("Russia", ["Russia", "Kremlin", "Putin", "Moscow", "Россия"]),
        ("China", ["China", "Beijing", "Chinese"]),
        ("Energy", ["oil", "gas", "pipeline"]),
    ]:
        lines += ["", "[[sections]]", f'name = "{name}"', "keywords = [" + ", ".join(f'"{k}"' for k in keywords) + "]"]
    path = folder / "newsletter.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def add_readers(app: Newsletter, count: int) -> list[str]:
    """Add ``count`` active subscribers r0@example.org, r1@… in one statement; return their addresses."""
    emails = [f"r{i}@example.org" for i in range(count)]
    t, moment = app.store.t.subscribers, now()
    with app.store.begin() as conn:
        conn.execute(t.insert(), [dict(email=e, email_key=e, name=f"R {i}", status="active", sections="",
                                       origin="test", created_at=moment, updated_at=moment)
                                  for i, e in enumerate(emails)])
    return emails


def queue_issue(app: Newsletter, due: Callable[[str], datetime] | None = None) -> tuple[int, Composer]:
    """Gather, then record the next issue and its outbox without delivering it (a worker will).

    ``due`` plans each reader's due time (``waves.DueTimes``); without it all are due at once.
    Return the issue's id and its Composer.
    """
    app.gather()
    draft = app.draft()
    rendered = render(app.config, draft)
    composer = app.composer(draft, rendered)
    with app.store.begin() as conn:
        issue_id = issue.record(conn, app.store, draft, html=rendered.html, text=rendered.text)
        delivery.create_outbox(conn, app.store, issue_id=issue_id, composer=composer, due=due)
    return issue_id, composer


def tamper(token: str) -> str:
    """Return ``token`` with one character of its signature changed.

    A middle character, not the last: the last base64 character of a signature also
    carries padding bits, and changing only those leaves the signature valid.
    """
    head, dot, signature = token.rpartition(".")
    i = len(signature) // 2
    return head + dot + signature[:i] + ("A" if signature[i] != "A" else "B") + signature[i + 1:]
