"""Connection failures said in words, naming the address and what to do, against real sockets on loopback.

Both clients are covered: the SMTP session of delivery and the HTTP client of gathering.
A port nothing listens on is a free port, closed; a TLS mismatch is a plain server
spoken to in TLS (and a TLS server spoken to in plain text); an untrusted certificate
comes from the tests' own CA.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from helpers.http import serve
from helpers.smtp import Script, ScriptedHandler

from newsletter.config import parse_url
from newsletter.delivery.smtp import Connection
from newsletter.error import FeedError, SmtpError, describe
from newsletter.gather.fetch import Fetcher
from newsletter.settings import GatherSettings
from newsletter.sink import free_port


@pytest.fixture
def implicit_tls(server_context: ssl.SSLContext) -> Iterator[int]:
    """An SMTP server that speaks TLS from the first byte (port 465 style); yields its port."""
    port = free_port()
    controller = Controller(ScriptedHandler(Script()), hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    yield port
    controller.stop()


def opening(url: str, **options: Any) -> str:
    """Return the one line that opening a session to ``url`` fails with."""
    with pytest.raises(SmtpError) as raised:
        Connection(parse_url(url), **options).open()
    assert "\n" not in str(raised.value)
    return str(raised.value)


def test_smtps_against_a_plain_server(scripted_smtp: Any) -> None:
    port = scripted_smtp.url.rsplit(":", 1)[1]
    assert opening(f"smtps://127.0.0.1:{port}") == (
        f"cannot connect to SMTP server smtps://127.0.0.1:{port}: the server at 127.0.0.1:{port} does not speak "
        "TLS on this port; use smtp+starttls:// or port 465")


def test_starttls_that_the_server_does_not_offer(scripted_smtp: Any) -> None:
    port = scripted_smtp.url.rsplit(":", 1)[1]
    assert opening(f"smtp+starttls://127.0.0.1:{port}").endswith(
        f": the server at 127.0.0.1:{port} does not offer STARTTLS; use smtps:// if it speaks TLS from the first "
        "byte (as on port 465), or smtp:// for a server on a trusted network")


def test_plain_text_against_a_tls_port_waits_for_a_greeting_that_never_comes(implicit_tls: int) -> None:
    assert opening(f"smtp+starttls://127.0.0.1:{implicit_tls}", timeout=1).endswith(
        f": the server at 127.0.0.1:{implicit_tls} sent no greeting within 1 s; if it expects TLS from the first "
        "byte (as on port 465), use smtps://")


def test_an_untrusted_certificate_says_to_set_the_ca_file(implicit_tls: int) -> None:
    said = opening(f"smtps://127.0.0.1:{implicit_tls}")  # the system's CAs only
    port = implicit_tls
    assert f"the certificate of the server at 127.0.0.1:{port} is not trusted (certificate verify failed" in said
    assert said.endswith("if the relay uses a private CA, set smtp.ca_file to that CA's certificate")


def test_a_certificate_for_another_name_says_so(server_context: ssl.SSLContext,
                                                certificates: tuple[Path, Path, Path]) -> None:
    port = free_port("127.0.0.2")
    controller = Controller(ScriptedHandler(Script()), hostname="127.0.0.2", port=port, ssl_context=server_context)
    controller.start()
    try:
        said = opening(f"smtps://127.0.0.2:{port}", ca_file=str(certificates[0]))  # its certificate names 127.0.0.1
    finally:
        controller.stop()
    assert f"the certificate of the server at 127.0.0.2:{port} is not valid for 127.0.0.2" in said
    assert said.endswith("connect by the name its certificate carries")


def test_a_port_where_nothing_listens() -> None:
    port = free_port()  # free: nothing listens there
    assert opening(f"smtp://127.0.0.1:{port}") == (
        f"cannot connect to SMTP server smtp://127.0.0.1:{port}: nothing is listening at 127.0.0.1:{port}; "
        "check the host and port, and that the server is running")


def test_an_unknown_host_is_named() -> None:
    # The resolver's own failure, without asking a DNS server: tests never leave the machine.
    with pytest.raises(socket.gaierror) as raised:
        socket.getaddrinfo("mail.example.invalid", 25, flags=socket.AI_NUMERICHOST)
    said = describe(raised.value, "mail.example.invalid", 25, not_tls="", untrusted="")
    assert said is not None and said.startswith("cannot find host mail.example.invalid (")
    assert said.endswith("); check the name for typos")


def fetch(url: str, timeout: float = 5) -> str:
    """Return the one line a fetch of ``url`` fails with."""
    async def run() -> None:
        async with Fetcher(GatherSettings(timeout=timeout)) as fetcher:
            await fetcher.fetch(url)
    with pytest.raises(FeedError) as raised:
        asyncio.run(run())
    assert "\n" not in str(raised.value)
    return str(raised.value)


def test_a_feed_where_nothing_listens() -> None:
    port = free_port()
    assert fetch(f"http://127.0.0.1:{port}/feed.xml?key=secret") == (
        f"cannot fetch http://127.0.0.1:{port}/feed.xml: nothing is listening at 127.0.0.1:{port}; "
        "check the host and port, and that the server is running")


def test_https_against_a_plain_web_server() -> None:
    with serve() as web:
        web.static("/feed.xml", b"<rss/>")
        said = fetch(web.url("/feed.xml").replace("http://", "https://"))
    assert said == (f"cannot fetch https://127.0.0.1:{web.port}/feed.xml: the server at 127.0.0.1:{web.port} does "
                    "not speak TLS on this port; use http:// on this port, or the port that serves https")


def test_a_feed_whose_certificate_is_not_trusted(server_context: ssl.SSLContext) -> None:
    with serve(tls=server_context) as web:
        web.static("/feed.xml", b"<rss/>")
        said = fetch(web.url("/feed.xml"))
    assert said.startswith(f"cannot fetch https://127.0.0.1:{web.port}/feed.xml: the certificate of the server at "
                           f"127.0.0.1:{web.port} is not trusted (certificate verify failed: ")
    assert said.endswith("its owner must serve a certificate from a public authority")


def test_a_feed_that_never_answers_times_out() -> None:
    with serve() as web:
        web.routes["/slow.xml"] = lambda h: web.stop.wait()  # holds the answer until the server stops
        assert fetch(web.url("/slow.xml"), timeout=0.5) == "timed out after 0.5 s"
