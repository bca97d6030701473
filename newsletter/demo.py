"""The demo: the whole pipeline on this machine, into an embedded SMTP sink."""

from __future__ import annotations

import html
import secrets
import shutil
from collections.abc import Callable
from contextlib import nullcontext
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
    config: Config | None = None  # the demo's own config: its sink, its database


def run(config: Config, folder: Path, *, progress: Progress | None = None, sink: Sink | None = None) -> DemoResult:
    """Send one issue of ``config``'s newsletter to demo readers through a local sink.

    State goes to a fresh SQLite file in ``folder`` (the configured database is not
    touched) and every delivered message is written to ``folder/mail`` as .eml and .html.
    A ``sink`` given by the caller (``demo --serve``) is used and left running.
    """
    if folder.exists():
        shutil.rmtree(folder)
    mail = folder / "mail"
    folder.mkdir(parents=True)
    if sink is not None:
        sink.folder = mail
        mail.mkdir()
    with Sink(folder=mail) if sink is None else nullcontext(sink) as sink:
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
    return DemoResult(report, folder, index, messages, demo_config)


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



def serve(config: Config, folder: Path, *, host: str, port: int, progress: Progress | None = None,
          ready: Callable[[DemoResult, str], None] = lambda result, line: None) -> DemoResult:
    """Run the demo, then keep its SMTP sink and the web app (with the mail view at /mail/) running.

    The web app's address becomes the demo's ``base_url``, so the links in the demo
    mail (unsubscribe, preferences, confirmation) work in the browser. Without an admin
    token in the config, one is made up for this run. ``ready`` hears the demo's result
    and a line saying where everything is, before serving starts; returns when interrupted.
    """
    from newsletter.web import server

    sock = server.bind(host, port)
    url = server.url_of(sock)
    token = config.web.admin_token or secrets.token_urlsafe(18)
    shown = "the one in your config" if config.web.admin_token else token
    config = config.replace(newsletter={"base_url": url}, web={"admin_token": token})
    with Sink() as sink:
        result = run(config, folder, progress=progress, sink=sink)
        assert result.config is not None
        app = Newsletter(result.config)
        where = f"mail view: {url}/mail/  sign-up: {url}/  editor's desk: {url}/desk/ (admin token: {shown})"

        def announce(line: str) -> None:  # once the server is up and stoppable
            ready(result, line)
            ready(result, where)

        try:
            server.run(app, host, port, announce=announce, mailbox=sink, sock=sock)
        finally:
            app.store.close()
    return result


def serve_sink(app: Newsletter, folder: Path, *, host: str, port: int, web_host: str, web_port: int,
          ready: Callable[[str], None] = print) -> None:
    """Run a sink on ``host:port`` keeping mail in ``folder``, and the web app with its mail view, until Ctrl-C.

    ``ready`` hears where each listens once both are up: a line starting ``SMTP sink:``
    and a line starting ``mail view:``.
    """
    # The web app is a heavy import: only a command that serves it pays for it.
    from newsletter.web import server

    sock = server.bind(web_host, web_port)
    url = server.url_of(sock)
    with Sink(host, port, folder=folder) as sink:
        kept = f", {len(sink.messages)} kept from before" if sink.messages else ""

        def announce(line: str) -> None:  # once the web app is up and Ctrl-C stops both
            ready(f"SMTP sink: {sink.url} (every message kept in {folder}{kept})")
            ready(f"mail view: {url}/mail/ (the web app serves the rest at {url}/); Ctrl-C stops both")

        server.run(app, web_host, web_port, announce=announce, mailbox=sink, sock=sock)
