"""Golden files: fixture feeds + config → the exact message a reader receives, its archive page
and the confirmation email.

Run ``pytest tests/test_golden.py --update-golden`` after an intended change, then
review the diff of tests/golden/ like any other code change.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import FIXTURES, write_config

from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.email.message import Recipient, confirmation
from newsletter.email.render import Renderer

GOLDEN = Path(__file__).parent / "golden"
MOMENT = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Almaty"))


def _normalise(raw: bytes) -> bytes:
    """Blank the headers that legitimately change from run to run."""
    return re.sub(rb"(?m)^Date: .*$", b"Date: <normalised>", raw)


def _check(name: str, actual: bytes, update: bool) -> None:
    path = GOLDEN / name
    if update or not path.exists():
        path.write_bytes(actual)
    assert actual == path.read_bytes(), f"{name} differs from the golden file (--update-golden to accept)"


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
    _check("issue.eml", raw, update_golden)
    _check("issue.txt", text.encode("utf-8"), update_golden)
    _check("issue.html", html.encode("utf-8"), update_golden)
    _check("archive-1.html", renderer.page().encode("utf-8"), update_golden)
    confirm = confirmation(config, email="new@example.org", name="Дана", confirm_url="https://news.example.org/confirm/t0k3n",
                           date=MOMENT, sections=("Russia", "Energy"))
    _check("confirm.eml", re.sub(rb"(?m)^Message-ID: .*$", b"Message-ID: <normalised>", confirm), update_golden)
