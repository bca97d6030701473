"""Golden files: fixture feeds + config → the exact message a reader receives, its archive page
and the confirmation email.

Run ``pytest tests/test_golden.py --update-golden`` after an intended change, then
review the diff of tests/golden/ like any other code change. A missing golden file
fails: only ``--update-golden`` writes one.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers.golden import GOLDEN, check_golden
from helpers.newsletters import FIXTURES, write_config

from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.email.message import Recipient
from newsletter.email.notice import confirmation
from newsletter.email.render import Renderer

MOMENT = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Almaty"))


def _normalise(raw: bytes) -> bytes:
    """Blank the headers that legitimately change from run to run."""
    return re.sub(rb"(?m)^Date: .*$", b"Date: <normalised>", raw)


def test_golden_message(tmp_path: Path, update_golden: bool) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("briefing.txt", "article.txt"):
        shutil.copyfile(FIXTURES / "documents" / name, inbox / f"2026-11-20-{name}")
    write_config(tmp_path, smtp_url="smtp://127.0.0.1:25", sources=[
        {"path": str(FIXTURES / "feeds" / "rss2.xml")},
        {"path": str(FIXTURES / "feeds" / "atom.xml")},
        {"path": "inbox"},
    ])
    config = load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_SECRET_KEY": "golden-secret"})
    app = Newsletter(config, clock=lambda: MOMENT)
    report = app.gather()
    assert not report.failed
    draft = app.draft()
    renderer = Renderer(config, draft)
    composer = app.composer(draft, renderer)
    raw = _normalise(composer.build(Recipient(7, "reader@example.org", "Zhanna Ömirzaq")))
    message = message_from_bytes(raw, policy=policy.default)
    text, html = (p.get_content().replace("\r\n", "\n") for p in message.iter_parts())
    check_golden(GOLDEN / "issue.eml", raw, update=update_golden)
    check_golden(GOLDEN / "issue.txt", text.encode("utf-8"), update=update_golden)
    check_golden(GOLDEN / "issue.html", html.encode("utf-8"), update=update_golden)
    check_golden(GOLDEN / "archive-1.html", renderer.page().encode("utf-8"), update=update_golden)
    confirm = confirmation(config, email="new@example.org", name="Дана", confirm_url="https://news.example.org/confirm/t0k3n",
                           date=MOMENT, sections=("Russia", "Energy"))
    confirm = re.sub(rb"(?m)^Message-ID: .*$", b"Message-ID: <normalised>", confirm)
    check_golden(GOLDEN / "confirm.eml", confirm, update=update_golden)


def test_a_missing_golden_file_fails_and_only_update_golden_writes_it(tmp_path: Path) -> None:
    missing = tmp_path / "golden" / "new.eml"
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        check_golden(missing, b"Subject: new\r\n", update=False)
    assert not missing.exists()
    check_golden(missing, b"Subject: new\r\n", update=True)
    assert missing.read_bytes() == b"Subject: new\r\n"
    check_golden(missing, b"Subject: new\r\n", update=False)
    with pytest.raises(AssertionError, match="differs from the golden file"):
        check_golden(missing, b"Subject: changed\r\n", update=False)
