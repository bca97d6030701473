"""Web pages that are one article: extract the main text (trafilatura) into a single entry."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from lxml import html as lxml_html

from newsletter.error import FeedError
from newsletter.gather import charset, markup
from newsletter.gather.readers.document import BOILERPLATE
from newsletter.item import (
    Entry,
    Parsed,
    html_to_text,
    identify,
    normalise,
    summarise,
)

# How a page says it is an article: Open Graph, an <article> element, or schema.org JSON-LD.
_ARTICLE_SIGNS = re.compile(
    rb"<meta[^>]+property\s*=\s*[\"']og:type[\"'][^>]+content\s*=\s*[\"']article"
    rb"|<meta[^>]+content\s*=\s*[\"']article[\"'][^>]+property\s*=\s*[\"']og:type"
    rb"|<article[\s>]"
    rb"|[\"']@type[\"']\s*:\s*[\"'](?:News|Blog|Report|Scholarly|Tech)?(?:Article|Posting)[\"']",
    re.IGNORECASE,
)
_CANONICAL = re.compile(r"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
MIN_TEXT = 200  # characters: less than this is a stub, an error page or a paywall, not an article


def looks_like(content: bytes) -> bool:
    """Return whether an HTML page declares itself an article."""
    return bool(_ARTICLE_SIGNS.search(content[:500_000]))


def parse(content: bytes, *, base_url: str = "", content_type: str = "") -> Parsed:
    """Extract the article on an HTML page; raise FeedError when the page holds none."""

    # The heavy edge of gathering: trafilatura (with its date and URL libraries) takes a
    # sixth of a second to load and only article pages need it.
    import trafilatura
    from trafilatura.htmlprocessing import build_html_output

    text, _ = charset.decode(content, content_type)
    try:
        document: Any = trafilatura.bare_extraction(
            text, url=base_url or None, with_metadata=True, include_links=True, include_formatting=True,
            include_comments=False, include_images=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as e:  # noqa: BLE001 - trafilatura raises many kinds on broken markup
        raise FeedError(f"cannot read the page: {type(e).__name__}: {e}") from e
    if document is None or document.body is None:
        raise FeedError("no article found on the page")
    link = _canonical(text, base_url) or markup.safe_url(document.url, base_url) or markup.safe_url(base_url)
    title = normalise(document.title or "")
    html = markup.sanitise(_without_boilerplate(build_html_output(document), title), link or base_url)
    body = html_to_text(html)
    if len(body) < MIN_TEXT:
        raise FeedError(f"no article found on the page (only {len(body)} characters of text)")
    entry = Entry(
        uid=identify(None, link, title, body),
        title=title or summarise(body, 90),
        body=body,
        summary=summarise(normalise(document.description or "") or body),
        link=link,
        author=normalise(document.author or "") or None,
        published_at=_date(document.date),
        html=html,
    )
    site = normalise(document.sitename or "") or title
    return Parsed(title=site, entries=[entry], kind="page")


def _canonical(page: str, base_url: str) -> str | None:
    """Return the page's own canonical address, made absolute, if it names one."""
    tag = _CANONICAL.search(page[:200_000])
    href = _HREF.search(tag.group(0)) if tag else None
    return markup.safe_url(href.group(1), base_url) if href else None


def _without_boilerplate(html: str, title: str) -> str:
    """Drop the page wrapper, a leading heading that repeats the title, and trailing site boilerplate."""

    root = lxml_html.fromstring(html)
    body = root.find("body") if root.tag == "html" else root
    if body is None:
        return html
    blocks = list(body)
    if blocks and blocks[0].tag in ("h1", "h2") and normalise(blocks[0].text_content()) == title:
        body.remove(blocks.pop(0))
    while blocks and BOILERPLATE.match(normalise(blocks[-1].text_content())):
        body.remove(blocks.pop())
    return "".join(lxml_html.tostring(block, encoding="unicode") for block in body)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
