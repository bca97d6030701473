"""The HTTP client of gathering: concurrent, polite, bounded in time and size.

Every request runs inside a pool of ``concurrency`` slots and a per-host limit of
``per_host`` slots, sends the validators it holds (a 304 costs one round trip), asks
for gzip and decompresses it within the size cap, follows redirects hop by hop where
``addresses`` allows them (a chain of permanent ones is reported so the next run can
go straight there), and is abandoned when its whole exchange, body included, takes
longer than ``timeout`` seconds. A failed connection is said in words, naming the
address (``newsletter.error``): "cannot fetch http://127.0.0.1:9/feed: nothing is
listening at 127.0.0.1:9".
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from newsletter.error import FeedError, describe
from newsletter.gather import addresses
from newsletter.settings import GatherSettings

ACCEPT = ("application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
          "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5")
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Fetched:
    """The answer to one fetch: new content, or ``None`` when the server said 304."""

    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # where a chain of permanent redirects now points
    status: int | None = None  # the final HTTP status, None for a file
    content_type: str = ""
    url: str = ""  # the address the content came from, after redirects


class HttpError(FeedError):
    """The server answered with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Fetcher:
    """Fetch many URLs at once within the ``[gather]`` limits; use as ``async with Fetcher(settings) as f``."""

    def __init__(self, limits: GatherSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 resolve: addresses.Resolver = addresses.resolve) -> None:
        self.limits = limits
        self._transport = transport
        self._resolve = resolve
        self._resolved: dict[str, Sequence[addresses.IPAddress]] = {}  # hosts looked up by this run
        self._open = False
        # One client per host: httpx's pool checks every connection it holds each time it
        # hands one out, which costs seconds across a hundred hosts in a single pool.
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._tls: ssl.SSLContext | None = None  # one for every client: loading the CA store takes 20-35 ms
        self._slots = asyncio.Semaphore(max(1, limits.concurrency))
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(max(1, limits.per_host)))

    async def __aenter__(self) -> Fetcher:
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def _client_for(self, host: str) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            # Redirects may lead to other hosts; the per-host slots bound the host asked for.
            size = max(1, self.limits.per_host)
            if self._tls is None:
                self._tls = ssl.create_default_context()
            client = self._clients[host] = httpx.AsyncClient(
                transport=self._transport,
                verify=self._tls,
                timeout=httpx.Timeout(self.limits.timeout),
                headers={"User-Agent": self.limits.user_agent, "Accept": ACCEPT,
                         "Accept-Encoding": "gzip, deflate"},
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                follow_redirects=False,  # followed by _get, which checks each hop first
            )
        return client

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    configured: str | None = None) -> Fetched:
        """GET ``url`` sending the validators we hold; raise FeedError on any failure.

        ``configured`` is the address the owner gave, when ``url`` is where a permanent
        redirect led earlier: that step is checked again like any redirect.
        """
        if not self._open:
            raise RuntimeError("use the Fetcher inside `async with`")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = (urlsplit(url).netloc or url).lower()
        async with self._hosts[host], self._slots:
            try:
                async with asyncio.timeout(self.limits.timeout):
                    return await self._get(self._client_for(host), url, headers, etag, last_modified,
                                           configured or url)
            except TimeoutError:
                raise FeedError(f"timed out after {self.limits.timeout:g} s") from None
            except httpx.InvalidURL as e:
                raise FeedError(f"invalid URL: {e}") from e
            except httpx.UnsupportedProtocol as e:
                raise FeedError(f"unsupported address: {e}") from e
            except httpx.HTTPError as e:
                raise FeedError(_failure(e, url, self.limits.timeout)) from e

    async def _get(self, client: httpx.AsyncClient, url: str, headers: dict[str, str], etag: str | None,
                   last_modified: str | None, configured: str) -> Fetched:
        owner = httpx.URL(configured).host
        request = client.build_request("GET", url, headers=headers)
        if request.url.host != owner:
            await addresses.check(owner, request.url.host, owner, self._lookup)
        hops: list[httpx.Response] = []
        response = await client.send(request, stream=True)
        while response.next_request is not None:
            await response.aclose()
            hops.append(response)
            if len(hops) > MAX_REDIRECTS:
                raise FeedError(f"too many redirects (more than {MAX_REDIRECTS})")
            request = response.next_request
            await addresses.check(response.url.host, request.url.host, owner, self._lookup)
            response = await client.send(request, stream=True)
        try:
            return await self._answer(response, _permanent([*hops, response]), etag, last_modified)
        finally:
            await response.aclose()

    async def _lookup(self, host: str) -> Sequence[addresses.IPAddress]:
        """Return the addresses of ``host``, resolved once per run however many redirects lead there."""
        if host not in self._resolved:
            self._resolved[host] = await self._resolve(host)
        return self._resolved[host]

    async def _answer(self, response: httpx.Response, permanent: str | None, etag: str | None,
                      last_modified: str | None) -> Fetched:
        """Return what the last answer of a fetch holds, or raise why it holds nothing usable."""
        if response.status_code == 304:
            return Fetched(None, etag, last_modified, permanent, 304, url=str(response.url))
        if response.status_code >= 400:
            raise HttpError(_status_message(response), response.status_code)
        if response.status_code >= 300:
            raise FeedError(f"HTTP {response.status_code}: redirect without a usable Location")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise FeedError(f"response too large ({int(declared):,} bytes; limit {self.limits.max_bytes:,})")
        body = await self._read(response)
        return Fetched(
            body,
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
            permanent,
            response.status_code,
            response.headers.get("Content-Type", ""),
            str(response.url),
        )

    async def _read(self, response: httpx.Response) -> bytes:
        """Read the body, decompressing it ourselves so a compression bomb stops at the cap."""
        limit = self.limits.max_bytes
        coding = response.headers.get("Content-Encoding", "identity").strip().lower()
        decompressor = _decompressor(coding)
        body = bytearray()
        async for chunk in response.aiter_raw():
            if decompressor is not None:
                chunk = decompressor.decompress(chunk, limit + 1 - len(body))
                if decompressor.unconsumed_tail:
                    chunk += b"x"  # output was cut at the cap: more is coming
            body += chunk
            if len(body) > limit:
                raise FeedError(f"response too large (over {limit:,} bytes)")
        if decompressor is not None:
            try:
                body += decompressor.flush()
            except zlib.error as e:
                raise FeedError(f"cannot decompress the response: {e}") from e
        return bytes(body)


class Decompressor(Protocol):
    """What reading a body uses of a ``zlib.decompressobj()``."""

    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes: ...

    def flush(self) -> bytes: ...


def _decompressor(coding: str) -> Decompressor | None:
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return zlib.decompressobj()
    raise FeedError(f"unsupported Content-Encoding {coding!r}")


def _permanent(hops: list[httpx.Response]) -> str | None:
    """Return where the leading permanent redirects (301, 308) of a chain lead, if there were any."""
    permanent = None
    for hop, following in zip(hops, hops[1:], strict=False):
        if hop.status_code not in (301, 308):
            break
        permanent = str(following.url)
    return permanent


def _status_message(response: httpx.Response) -> str:
    status = response.status_code
    text = f"HTTP {status} {response.reason_phrase}".strip()
    if status == 410:
        return f"{text}: the source was removed; delete it from the config"
    if status in (429, 503) and response.headers.get("Retry-After"):
        return f"{text} (retry after {response.headers['Retry-After']})"
    return text


def _failure(e: httpx.HTTPError, url: str, timeout: float) -> str:
    """Return a failed fetch in one line: the address it went to (after redirects) and what it met there."""
    try:
        target = e.request.url
    except RuntimeError:  # an error raised before any request was made
        target = httpx.URL(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    shown = target.copy_with(query=None, fragment=None, username=None, password=None)  # no secrets in the log
    said = describe(e, target.host, port, timeout=timeout if isinstance(e, httpx.TimeoutException) else None,
                            not_tls="use http:// on this port, or the port that serves https",
                            untrusted="its owner must serve a certificate from a public authority")
    if said is None and isinstance(e, httpx.TimeoutException):
        said = f"timed out after {timeout:g} s"
    if said is None:
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
        said = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return f"cannot fetch {shown}: {said}"
