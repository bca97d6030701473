"""PostgreSQL, started from the machine's binaries: the schema, a send, workers sharing an issue, a kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from helpers.crash import check_everyone_once, crash_newsletter, send_and_kill
from helpers.http import FeedServer
from helpers.newsletters import add_readers, queue_issue, write_config
from helpers.smtp import ScriptedServer

from newsletter import migrations, subscribers
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.sink import Sink
from newsletter.store import Store


def test_every_migration_runs_on_postgresql(postgres_url: str) -> None:
    store = Store(postgres_url)
    with store.begin() as conn:
        done = set(conn.execute(sa.text("SELECT name FROM migrations")).scalars())
    assert done == {name for name, _ in migrations.MIGRATIONS}
    columns = sa.inspect(store.engine).get_columns
    assert {"next_attempt_at", "claimed_by", "claimed_at"} <= {c["name"] for c in columns("deliveries")}
    assert "bounces" in {c["name"] for c in columns("subscribers")}
    assert Store(postgres_url).engine.dialect.name == "postgresql"  # a second open finds nothing to do
    store.close()


def test_send_on_postgresql(tmp_path: Path, documents: Path, postgres_url: str,
                            scripted_smtp: ScriptedServer) -> None:
    scripted_smtp.script.rcpt["gone@example.org"] = "550 5.1.1 No such user"
    write_config(tmp_path, smtp_url=scripted_smtp.url, sources=[{"path": "inbox"}])
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_DATABASE_URL": postgres_url}))
    assert app.store.engine.dialect.name == "postgresql"
    for email in ("a@example.org", "gone@example.org", "z@example.org"):
        subscribers.add(app.store, email, status="active")
    counts = app.send().issues[-1].counts
    assert (counts.sent, counts.failed) == (2, 1)
    assert app.deliveries(1).failures[0]["email"] == "gone@example.org"


def test_several_workers_share_one_issue_and_no_row_is_sent_twice(
        tmp_path: Path, documents: Path, postgres_url: str, scripted_smtp: ScriptedServer) -> None:
    workers, readers = 3, 300
    script = scripted_smtp.script
    script.gate = workers  # every message waits until all three workers are connected: all must take part
    config = write_config(tmp_path, smtp_url=scripted_smtp.url, sources=[{"path": "inbox"}])
    config.write_text(config.read_text().replace(f'url = "{scripted_smtp.url}"',
                                                 f'url = "{scripted_smtp.url}"\nconnections = 1\nmax_rate = 10000'))
    environ = {"NEWSLETTER_DATABASE_URL": postgres_url}
    app = Newsletter(load(config, environ=environ))
    add_readers(app, readers)
    queue_issue(app)  # the workers deliver it
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")} | environ
    processes = [subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config), "-q", "worker"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(workers)]
    results = [p.communicate(timeout=180) for p in processes]
    assert [p.returncode for p in processes] == [0] * workers, results
    got = [m.recipients[0] for m in script.accepted]
    assert len(got) == len(set(got)) == readers  # every row once, none twice
    assert len(set(script.peers)) == workers  # and each worker sent a share over its own connection
    summary = app.deliveries(1)
    assert summary.status == "sent" and summary.counts.sent == readers
    with app.store.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(app.store.t.deliveries.c.claimed_by.is_not(None))
                            ).scalar() == 0


def test_kill_9_then_send_again_on_postgresql(tmp_path: Path, documents: Path, postgres_url: str,
                                             sink: Sink) -> None:
    environ = {"NEWSLETTER_DATABASE_URL": postgres_url}
    app, config = crash_newsletter(tmp_path, sink, 200, environ)
    send_and_kill(config, sink, 80, environ)
    assert app.send(fetch=False).issues[0].resumed
    check_everyone_once(app, sink, 200)


def test_two_gathers_at_once_store_each_source_and_item_once(tmp_path: Path, postgres_url: str,
                                                             feed_server: FeedServer) -> None:
    """Two processes' gathers race to create the same sources: the loser records again, nothing twice."""
    config = write_config(tmp_path, smtp_url="smtp://127.0.0.1:1",
                          sources=[{"url": feed_server.feed(name)} for name in ("rss2.xml", "atom.xml", "noguid.xml")])
    environ = {"NEWSLETTER_DATABASE_URL": postgres_url}
    apps = [Newsletter(load(config, environ=environ)) for _ in range(2)]
    for app in apps:
        app.store.t.sources  # noqa: B018 - both open (and migrate) before the race
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda app: app.gather(), apps))
    assert all(not report.failed for report in reports)
    new = reports[0].new + reports[1].new
    assert new > 0
    with apps[0].store.begin() as conn:
        sources = conn.execute(sa.text("SELECT count(*), count(DISTINCT key) FROM sources")).one()
        items = conn.execute(sa.text("SELECT count(*), count(DISTINCT (source_id, uid)) FROM items")).one()
    assert sources == (3, 3) and items == (new, new)  # every item stored by exactly one of the two
