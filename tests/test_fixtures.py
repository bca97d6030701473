"""The fixtures start only what a test asks for: ``app`` alone starts no server."""

from __future__ import annotations

import socket

import pytest

from newsletter.app import Newsletter
from newsletter.sink import Sink


def test_the_app_alone_reads_files_and_mails_a_port_nobody_listens_on(app: Newsletter, smtp_port: int) -> None:
    assert [(s.url, s.path) for s in app.config.sources] == [(None, "www/rss2.xml"), (None, "www/atom.xml"),
                                                               (None, "inbox")]
    assert app.config.smtp.url == f"smtp://127.0.0.1:{smtp_port}"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", smtp_port), timeout=5).close()
    report = app.gather()
    assert not report.failed and report.new > 0


def test_a_test_that_asks_for_the_sink_gets_the_apps_mail(app: Newsletter, sink: Sink) -> None:
    assert app.config.smtp.url == sink.url
    assert app.send().status == "sent"
    assert sorted(r for m in sink.messages for r in m.recipients) == ["ann@example.org", "bek@example.org",
                                                                      "cy@example.org"]
