"""A feed's redirects may not lead gathering where only this machine can reach (issue 13, finding 10).

The attacks run over real servers and httpx's real transport: a source on 127.0.0.2
redirecting to the cloud metadata address, and a source whose host resolves to a public
address redirecting to this machine (the resolver is passed in, as the clock is: a test
has no public address of its own to serve from).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.gathering import by_url, newsletter, stored
from helpers.http import Web, serve
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.gather import gather
from newsletter.gather.addresses import IPAddress, allowed_redirect, public, resolve
from newsletter.gather.sources import health
from newsletter.store import Store

RSS2 = (Path(__file__).parent / "fixtures" / "feeds" / "rss2.xml").read_bytes()
PUBLIC = ipaddress.ip_address("93.184.215.14")


@pytest.fixture
def web() -> Iterator[Web]:
    with serve() as server:
        yield server


@pytest.fixture
def other() -> Iterator[Web]:
    """A second server, on another loopback address: another host as far as redirects go."""
    with serve("127.0.0.2") as server:
        yield server


async def localhost_is_public(host: str) -> Sequence[IPAddress]:
    """Resolve ``localhost`` as if it were a host on the internet; anything else as the system does."""
    return [PUBLIC] if host == "localhost" else await resolve(host)


def _permanent_url(store: Store) -> str | None:
    with store.begin() as conn:
        return conn.execute(sa.select(store.t.sources.c.permanent_url)).scalar_one()


def test_a_redirect_to_the_metadata_address_is_refused(tmp_path: Path, other: Web) -> None:
    url = other.redirect("/feed.xml", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 301)
    config, store = newsletter(tmp_path, [url])
    [report] = gather(config, store).sources
    assert report.status == "error"
    assert report.error == (
        "refused a redirect from 127.0.0.2 to 169.254.169.254, a link-local or reserved address: "
        "a source's redirects may not lead there (configure the address itself if it is yours)")
    assert report.moved_to is None and _permanent_url(store) is None  # the 301 is not remembered
    store.close()


def test_a_public_feed_may_not_redirect_to_this_machine(tmp_path: Path, web: Web) -> None:
    secret = web.static("/admin/secrets.xml", RSS2)
    url = web.redirect("/feed.xml", secret, 301).replace("127.0.0.1", "localhost")
    config, store = newsletter(tmp_path, [url])
    [report] = gather(config, store, resolve=localhost_is_public).sources
    assert report.status == "error"
    assert report.error is not None and report.error.startswith(
        "refused a redirect from localhost to 127.0.0.1, a loopback address")
    assert web.hits("/admin/secrets.xml") == []  # never asked
    assert stored(store) == [] and _permanent_url(store) is None
    store.close()


def test_a_remembered_redirect_is_checked_again_and_forgotten(tmp_path: Path, web: Web) -> None:
    """A permanent redirect stored before the rule existed is a redirect like any other."""
    web.static("/feed.xml", RSS2)
    url = web.url("/feed.xml").replace("127.0.0.1", "localhost")
    secret = web.static("/admin/secrets.xml", RSS2)
    config, store = newsletter(tmp_path, [url])
    gather(config, store, resolve=localhost_is_public)
    with store.begin() as conn:
        conn.execute(store.t.sources.update().values(permanent_url=secret, etag=None, content_hash=None))

    refused = by_url(gather(config, store, resolve=localhost_is_public))[url]
    assert refused.status == "error" and "refused a redirect from localhost to 127.0.0.1" in (refused.error or "")
    assert web.hits("/admin/secrets.xml") == [] and health(config, store)[0].fetched_from is None
    again = by_url(gather(config, store, resolve=localhost_is_public))[url]
    assert again.status == "ok" and len(web.hits("/feed.xml")) == 2  # the configured address, as the owner said
    store.close()


def test_the_owners_own_addresses_still_work(tmp_path: Path, web: Web, other: Web) -> None:
    """Loopback and private sources are the owner's choice, and so are redirects among them."""
    target = web.static("/moved.xml", RSS2)
    across = other.redirect("/old.xml", target, 301)  # 127.0.0.2 -> 127.0.0.1: neither is public
    within = web.redirect("/today.xml", "/moved.xml", 302)
    config, store = newsletter(tmp_path, [across, within])
    report = by_url(gather(config, store))
    assert (report[across].status, report[across].moved_to) == ("ok", target)
    assert report[within].status == "ok"
    store.close()


@pytest.mark.parametrize(("origin", "target", "allowed"), [
    ("93.184.215.14", "1.1.1.1", True),  # public to public
    ("93.184.215.14", "127.0.0.1", False),  # public to loopback
    ("93.184.215.14", "10.0.0.5", False),
    ("93.184.215.14", "172.16.3.4", False),
    ("93.184.215.14", "192.168.1.1", False),
    ("93.184.215.14", "100.64.0.1", False),  # carrier-grade NAT
    ("93.184.215.14", "::1", False),
    ("93.184.215.14", "fd00::1", False),
    ("93.184.215.14", "::ffff:127.0.0.1", False),  # loopback written as IPv6
    ("2606:4700::1111", "::ffff:10.0.0.1", False),
    ("93.184.215.14", "169.254.169.254", False),  # cloud metadata
    ("127.0.0.1", "169.254.169.254", False),  # ... whatever the origin
    ("10.0.0.5", "fe80::1", False),
    ("127.0.0.1", "0.0.0.0", False),
    ("127.0.0.1", "224.0.0.1", False),
    ("127.0.0.1", "240.0.0.1", False),
    ("127.0.0.2", "127.0.0.1", True),  # among the owner's non-public addresses
    ("192.168.1.1", "10.0.0.5", True),
    ("10.0.0.5", "93.184.215.14", True),  # out to the internet
])
def test_the_redirect_rule(origin: str, target: str, allowed: bool) -> None:
    assert allowed_redirect(ipaddress.ip_address(origin), ipaddress.ip_address(target)) is allowed


addresses = st.ip_addresses()


@settings(max_examples=200, derandomize=True, database=None)
@given(addresses, addresses)
def test_a_redirect_never_leads_from_public_to_non_public_nor_to_link_local(origin: IPAddress,
                                                                            target: IPAddress) -> None:
    plain = target.ipv4_mapped if isinstance(target, ipaddress.IPv6Address) and target.ipv4_mapped else target
    if allowed_redirect(origin, target):
        assert not plain.is_link_local and not plain.is_unspecified and not plain.is_multicast
        assert public(target) or not public(origin)
    if public(origin) and public(target):
        assert allowed_redirect(origin, target)
