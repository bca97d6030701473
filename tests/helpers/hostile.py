"""Feeds built to exhaust a reader's memory or time, written to disk for a feed server to serve.

Each is at most ``gather.max_bytes`` (10 MB by default), so it reaches the parser: the
point is what parsing does with it, not the download cap.
"""

from __future__ import annotations

from pathlib import Path

from helpers.gathering import HOSTILE

SIZE = 9_900_000  # under the default gather.max_bytes, with room for the feed around it
_ENTITY = "x" * 10_000  # 10,000 characters referenced 20,000 times: 0.18 MB becomes 200 M characters
_REFERENCES = "&e;" * 20_000


def _rss(items: str, *, prolog: str = "", channel: str = "<title>Hostile</title>", root: str = "<rss version=\"2.0\">"
         ) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}{root}<channel>{channel}{items}</channel></rss>\n'.encode()


def _declaring(before: str) -> bytes:
    """Return the entity feed of issue 13 with ``before`` in front of its DOCTYPE."""
    doctype = f'<!DOCTYPE rss [\n<!ENTITY e "{_ENTITY}">\n]>\n'
    return _rss(f"<item><guid>e-1</guid><title>Entity</title><description>{_REFERENCES}</description></item>",
                prolog=before + doctype)


def corpus() -> dict[str, bytes]:
    """Return every hostile feed by name."""
    word = "word "
    nested_xml = "<x>" * 1_400_000 + "deep" + "</x>" * 1_400_000
    nested_html = "&lt;div&gt;deep " * 550_000  # escaped HTML in a description: the sanitiser's load
    many_attributes = " ".join(f'a{i}="{i}"' for i in range(300_000))
    namespaces = " ".join(f'xmlns:p{i}="urn:p:{i}"' for i in range(100_000))
    prefixed = "<p99999:e>v</p99999:e>" * 200_000
    return {
        # The two feeds that got past the first guard (issue 13), and the classics.
        "long-comment": _declaring("<!-- " + "c" * 66_000 + " -->\n"),
        "root-in-comment": _declaring("<!-- <rss -->\n"),
        "billion-laughs": (HOSTILE / "billion-laughs.xml").read_bytes(),
        "quadratic-blowup": (HOSTILE / "quadratic-blowup.xml").read_bytes(),
        # Within the size cap, but large where a parser keeps things.
        "huge-attribute": _rss('<item><guid>attr-1</guid><title>Attribute</title>'
                               f'<enclosure url="https://x.example/{"a" * (SIZE - 200)}" type="audio/mpeg"/></item>'),
        "many-attributes": _rss(f"<item><guid>attrs-1</guid><title>Attributes</title><x {many_attributes}/></item>"),
        "deep-xml": _rss(f"<item><guid>deep-1</guid><title>Deep</title><description>t</description>{nested_xml}</item>"),
        "deep-html": _rss(f"<item><guid>deep-2</guid><title>Deep HTML</title><description>{nested_html}</description>"
                          "</item>"),
        "long-text": _rss("<item><guid>long-1</guid><title>Long</title><description>"
                          + word * ((SIZE - 200) // len(word)) + "</description></item>"),
        "long-title": _rss("<item><guid>long-2</guid><title>" + word * ((SIZE - 200) // len(word))
                           + "</title><description>Short.</description></item>"),
        "many-items": _rss("<item><title>i</title></item>" * ((SIZE - 200) // 29)),
        "many-namespaces": _rss(f"<item><guid>ns-1</guid><title>Namespaces</title>{prefixed}</item>",
                                root=f'<rss version="2.0" {namespaces}>'),
    }


def write_corpus(folder: Path) -> list[str]:
    """Write the hostile feeds into ``folder`` as ``NAME.xml``; return their names."""
    folder.mkdir(parents=True, exist_ok=True)
    feeds = corpus()
    for name, content in feeds.items():
        assert len(content) <= 10_000_000, (name, len(content))
        (folder / f"{name}.xml").write_bytes(content)
    return list(feeds)
