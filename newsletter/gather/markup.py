"""Markup from sources, made safe: relative links resolved, then sanitised to an allow-list.

Whatever a feed or page contains, what leaves this module carries no script, no event
handler, no style, no frame, no form and no link other than http(s) or mailto.

The work is bounded too: one piece of markup is read up to ``MARKUP_LIMIT`` characters,
and markup with more than ``MANY_TAGS`` tags is first re-parsed by libxml2, which stops
at 256 levels of nesting; markup nested deeper than that is kept as plain paragraphs.
The HTML5 parser behind nh3 takes time in the square of the nesting depth (40,000
nested ``<div>`` cost 3 s), so a hostile item cannot hold a reading process for minutes.
"""

from __future__ import annotations

import functools
import re
import threading
from html import escape
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree
from lxml import html as lxml_html

from newsletter.item import html_to_text

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "mark",
    "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul",
})
ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
# Removed with everything inside them, not just unwrapped.
DROP_WITH_CONTENT = frozenset({
    "script", "style", "template", "svg", "math", "iframe", "object", "embed", "noembed", "noframes",
    "noscript", "select", "textarea", "button", "head", "title",
})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
MARKUP_LIMIT = 1_000_000  # characters of one piece of markup read; the rest is left out
MANY_TAGS = 2_000  # beyond this many tags nesting is capped first (quadratic below this costs < 10 ms)


def sanitise(html: str | None, base_url: str = "") -> str:
    """Return ``html`` with links made absolute against ``base_url`` and everything unsafe removed."""
    if not html or not html.strip():
        return ""
    html = html[:MARKUP_LIMIT]
    if html.count("<") > MANY_TAGS:
        html = _shallow(html)
    _base.url = base_url  # read by _resolve, which the cleaner calls back for each link
    return _cleaner().clean(html).strip()


def _shallow(html: str) -> str:
    """Return ``html`` re-serialised by libxml2, or as plain paragraphs if it nests deeper than libxml2 reads."""
    parser = lxml_html.HTMLParser()
    try:
        root = lxml_html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):  # nothing but ignorable markup, or not text lxml accepts
        root = None
    if root is not None and not any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in parser.error_log):
        return lxml_html.tostring(root, encoding="unicode")
    return "".join(f"<p>{escape(block)}</p>" for block in html_to_text(html).split("\n\n") if block)


_base = threading.local()


def _resolve(tag: str, attribute: str, value: str) -> str | None:
    if (tag, attribute) == ("a", "href"):
        return safe_url(value, _base.url, schemes=LINK_SCHEMES)
    if (tag, attribute) == ("img", "src"):
        return safe_url(value, _base.url, schemes=IMAGE_SCHEMES)
    return value


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """Return the sanitiser, built once: building it costs as much as cleaning a paragraph."""
    return nh3.Cleaner(
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        attribute_filter=_resolve,
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def safe_url(url: str | None, base_url: str = "", *, schemes: frozenset[str] = IMAGE_SCHEMES) -> str | None:
    """Return ``url`` made absolute against ``base_url`` if its scheme is allowed (http(s) by default), else None."""
    if not url or not url.strip():
        return None
    return _safe_url(url, base_url, schemes)


@functools.lru_cache(maxsize=4096)  # a feed's own address and base come back for every entry
def _safe_url(url: str, base_url: str, schemes: frozenset[str]) -> str | None:
    cleaned = url.strip()
    head, sep, rest = cleaned.partition(":")
    if sep and "/" not in head:
        # Browsers ignore control characters and spaces inside a scheme ("java\tscript:"), so do we.
        cleaned = _INVISIBLE.sub("", head) + ":" + rest
    try:
        absolute = urljoin(base_url, cleaned) if base_url else cleaned
        parts = urlsplit(absolute)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes or (scheme in ("http", "https") and not parts.netloc):
        return None
    return absolute
