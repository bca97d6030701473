"""The demo: the whole pipeline on this machine, into an embedded SMTP sink."""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path

from newsletter import subscribers
from newsletter.app import Newsletter, SendReport
from newsletter.config import Config
from newsletter.progress import Progress
from newsletter.sink import Sink
from newsletter.store import Store

READERS = (
    ("aigerim@example.org", "Aigerim Sadykova", ""),
    ("oliver@example.org", "Oliver Grant", "Russia,China,Energy"),
    ("editor@example.org", "", ""),
)


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put what it delivered."""

    report: SendReport
    folder: Path
    index: Path
    messages: list[Path]


def run(config: Config, folder: Path, *, progress: Progress | None = None) -> DemoResult:
    """Send one issue of ``config``'s newsletter to demo readers through a local sink.

    State goes to a fresh SQLite file in ``folder`` (the configured database is not
    touched) and every delivered message is written to ``folder/mail`` as .eml and .html.
    """
    if folder.exists():
        shutil.rmtree(folder)
    mail = folder / "mail"
    folder.mkdir(parents=True)
    with Sink(folder=mail) as sink:
        demo_config = config.replace(
            smtp={"url": sink.url},
            storage={"url": f"sqlite:///{(folder / 'newsletter.db').resolve()}"},
        )
        store = Store(demo_config.database_url)
        for email, name, sections in READERS:
            subscribers.add(store, email, name=name, sections=subscribers.parse_sections(sections),
                            status="active", origin="demo")
        app = Newsletter(demo_config, store=store)
        report = app.send(progress=progress)
        store.close()
    messages = sorted(mail.glob("*.html"))
    index = folder / "index.html"
    index.write_text(_index(report, messages), encoding="utf-8")
    return DemoResult(report, folder, index, messages)


def _index(report: SendReport, messages: list[Path]) -> str:
    rows = "\n".join(
        f'<li><a href="mail/{html.escape(p.name)}">{html.escape(p.stem)}</a> '
        f'(<a href="mail/{html.escape(p.stem)}.eml">.eml</a>)</li>'
        for p in messages
    )
    subject = html.escape(report.draft.subject if report.draft else "")
    return (
        "<!doctype html><meta charset=utf-8><title>newsletter demo</title>"
        f"<h1>Demo delivery</h1><p>{html.escape(report.message)}</p>"
        f"<p>Subject: <strong>{subject}</strong></p><ul>{rows}</ul>\n"
    )
