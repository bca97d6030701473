"""Tracked links: with ``[tracking] clicks = true``, the item links of the copies readers get go through ``/r/``.

A separate step over the render context (``Renderer(..., links=tracker(...))``): each item's
``link`` becomes its tracked address (``insight.clicks.link``), the same in the HTML and
the text part, the same for every reader (it names the issue and the item, never the
reader). Only http(s) links are tracked. The archive page, the preview and test copies
keep the items' own links. There is no open-tracking pixel, and never will be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from newsletter.config import Config
from newsletter.insight import clicks
from newsletter.tokens import Signer

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


def tracker(config: Config, signer: Signer, number: int) -> Rewrite | None:
    """Return the rewriting of issue ``number``'s links, or None when click counting is off."""
    if not config.tracking.clicks:
        return None
    return lambda data: rewrite(data, lambda item_id: clicks.link(config, signer, number, item_id))


def rewrite(data: dict[str, Any], tracked: Callable[[int], str]) -> dict[str, Any]:
    """Return the render context ``data`` with each item's http(s) ``link`` replaced by ``tracked(item id)``."""

    def item(entry: dict[str, Any]) -> dict[str, Any]:
        if not re.match(r"https?://", entry.get("link") or "", re.I):
            return entry
        return {**entry, "link": tracked(entry["id"])}

    sections = [{**s, "items": [item(i) for i in s["items"]]} for s in data["issue"]["sections"]]
    return {**data, "issue": {**data["issue"], "sections": sections}}
