"""Render an issue: Jinja2 → MJML → HTML (mjml-python, CSS inlined) and Jinja2 → plain text.

An issue is rendered once per distinct section selection (the sections a reader
chose), with placeholders where the personal parts go (greeting, address,
unsubscribe and preferences links); the message builder fills them per reader.
The archive page is rendered once, without personal parts.

The placeholders are drawn afresh for each Renderer (see ``personal``), so text from
a source can never spell one.
"""

from __future__ import annotations

import dataclasses
import html
import re
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2

from newsletter import bundle
from newsletter.config import Config
from newsletter.edit.issue import Draft, format_date
from newsletter.email import htmlmail
from newsletter.email.personal import placeholders, strings
from newsletter.error import TemplateError

T = TypeVar("T")

ISSUE_HTML = "issue.mjml"
ISSUE_TEXT = "issue.txt"

RTL_LANGUAGES = {"ar", "arc", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"}


def builtin_templates() -> Path:
    """Return the folder of the templates that ship with the package."""
    return bundle.path("templates")


def environment(user_dir: Path | None) -> jinja2.Environment:
    """Return a Jinja2 environment: user templates first, built-in second, ``default:`` for the original."""
    builtin = jinja2.FileSystemLoader(builtin_templates())
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({"default": builtin}, delimiter=":")]
    if user_dir is not None and user_dir.is_dir():
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(builtin)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("mjml", "html", "atom"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Wrap each paragraph of ``text`` at ``width`` columns, never breaking words or URLs.

    ``first`` replaces the indent on the first line of the first paragraph (a bullet).
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), width=width,
                      initial_indent=first if first is not None and i == 0 else indent,
                      subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
        for i, p in enumerate(paragraphs)
    )


class References:
    """Number the links of the text part: ``ref(url)`` gives ``[n]``, listed at the end."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str | None) -> str:
        if not url:
            return ""
        if url not in self.urls:
            self.urls.append(url)
        return f"[{self.urls.index(url) + 1}]"

    def __iter__(self) -> Any:
        return iter(enumerate(self.urls, start=1))


def headline(item: Any) -> str:
    """Return the title to print above an item, or "" when it would only repeat the text.

    A briefing paragraph has its inline heading instead (see ``lead``), and a title
    made from the opening words of the text adds nothing.
    """
    if item.label or item.body.startswith(item.title.rstrip("…").rstrip()):
        return ""
    return str(item.title)


def lead(item: Any, section: str) -> str:
    """Return the inline heading to print before an item's text, unless the section says it."""
    if item.label and item.label.casefold() != section.casefold():
        return str(item.label)
    return ""


@dataclass(frozen=True)
class Rendered:
    """An issue's HTML and text with placeholders for the personal parts.

    ``sections`` are the sections shown; ``trimmed`` counts the items the HTML leaves
    to the online edition to stay under Gmail's clipping limit (the text has them all);
    ``placeholders`` name the marker of each personal part (none: nothing is filled in).
    """

    html: str
    text: str
    sections: tuple[str, ...] = ()
    trimmed: int = 0
    placeholders: Mapping[str, str] = field(default_factory=dict)


def archive_url(config: Config, number: int | None = None) -> str:
    """Return the web archive's address: its index, or one issue's page."""
    base = config.newsletter.base_url.rstrip("/") + "/archive/"
    return base if number is None else f"{base}{number}.html"


def context(config: Config, issue: Draft) -> dict[str, Any]:
    """Return what the templates see: every section, and the personal parts as placeholders.

    The placeholders are drawn for this context, absent from everything else in it.
    """
    page = archive_url(config, issue.number)

    def entry(p: Any, section: str, position: int) -> dict[str, Any]:
        return {
            **_fields(p.item), "headline": headline(p.item), "lead": lead(p.item, section),
            "source": p.item.source_name, "sources": list(getattr(p, "sources", None) or [p.item.source_name]),
            "reason": p.placement.reason, "number": position, "anchor": f"item-{position}",
            "url": f"{page}#item-{position}",
            "date": format_date(p.item.published_at) if p.item.published_at else "",
        }

    position = 0
    sections = []
    for i, s in enumerate(issue.sections):
        items = []
        for p in s.items:
            position += 1
            items.append(entry(p, s.name, position))
        sections.append({
            "name": s.name, "intro": s.intro, "empty": getattr(s, "empty", ""), "items": items,
            "anchor": "s-" + (re.sub(r"[^\w]+", "-", s.name.casefold()).strip("-") or str(i)),
        })
    data = {
        **site(config),
        "issue": {**_fields(issue), "number": issue.number, "subject": issue.subject,
                  "preheader": issue.preheader, "date": format_date(issue.date), "url": page,
                  "lead": Lead(entry(issue.lead, "", 0)) if getattr(issue, "lead", None) else None,
                  "sections": sections,
                  "count": position, "omitted": [], "trimmed": []},
        "archive": False,
        "preview": False,
    }
    return {**data, "personal": placeholders("\n".join(strings(data)))}


class Lead(dict[str, Any]):
    """The issue's lead item for templates: its fields, and its summary when printed whole."""

    def __str__(self) -> str:
        return str(self.get("summary", ""))


def site(config: Config) -> dict[str, Any]:
    """Return the newsletter and theme parts of the context, shared by every template."""
    n, theme = config.newsletter, config.theme
    rtl = n.language.split("-")[0].casefold() in RTL_LANGUAGES
    dark_brand = luminance(theme.brand_colour) < 0.179  # where white text contrasts better than black
    return {
        "newsletter": {"title": n.title, "base_url": n.base_url.rstrip("/"), "language": n.language,
                       "direction": "rtl" if rtl else "ltr", "align": "right" if rtl else "left",
                       "align_end": "left" if rtl else "right",
                       "postal_address": n.postal_address, "sender": n.sender,
                       "subscribe_url": n.base_url.rstrip("/") + "/",
                       "archive_url": archive_url(config), "feed_url": archive_url(config) + "feed.atom"},
        "theme": {**dataclasses.asdict(theme), "logo_alt": theme.logo_alt or n.title,
                  "font_family": theme.font_family or "Georgia, serif",
                  "heading_font_family": theme.heading_font_family or theme.font_family or "Georgia, serif",
                  "font_name": (theme.font_family.split(",")[0].strip(" '") if theme.font_url else ""),
                  "on_brand_colour": "#ffffff" if dark_brand else "#111111",
                  "on_brand_muted": "#d5dee8" if dark_brand else "#333333",
                  "dark_accent_colour": lighten(theme.accent_colour, 0.5)},
    }


def _fields(obj: Any) -> dict[str, Any]:
    """Return a dataclass's fields (whatever other parts of the pipeline add flows through)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name not in ("sections", "plan")}


def _channels(colour: str) -> list[int]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return [int(digits[i:i + 2], 16) for i in (0, 2, 4)]


def lighten(colour: str, amount: float) -> str:
    """Return ``colour`` (#rgb or #rrggbb) mixed with white by ``amount`` (0 to 1)."""
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in _channels(colour))


def luminance(colour: str) -> float:
    """Return the relative luminance of ``colour`` (WCAG), 0 for black to 1 for white."""
    linear = [(c / 255 / 12.92) if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in _channels(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


class Renderer:
    """Render one issue for each distinct section selection, each exactly once.

    ``renderer.render(("Russia", "China"))`` returns the issue as a reader who chose
    those sections gets it (an empty choice means every section); ``renderer.page()``
    returns the archive page. Selections that leave the same sections share one rendering.
    ``preview`` shows editors why each item is where it is (a tooltip on its text).
    """

    def __init__(self, config: Config, issue: Draft, *, limit: int = htmlmail.GMAIL_CLIP,
                 preview: bool = False) -> None:
        self.config = config
        self.issue = issue
        self.limit = limit
        self.env = environment(config.templates_dir)
        self.data = {**context(config, issue), "preview": preview}
        self.placeholders: dict[str, str] = self.data["personal"]
        self.names = tuple(s["name"] for s in self.data["issue"]["sections"])
        self._cache: dict[tuple[str, ...], Rendered] = {}
        self._lock = threading.RLock()
        self.compiled = 0  # MJML compilations so far, for tests and the benchmark

    def selection(self, chosen: Iterable[str] = ()) -> tuple[str, ...]:
        """Return the sections of this issue a reader who chose ``chosen`` gets, in issue order."""
        wanted = {c.casefold() for c in chosen if c.strip()}
        if not wanted:
            return self.names
        return tuple(n for n in self.names if n.casefold() in wanted)

    def render(self, chosen: Iterable[str] = ()) -> Rendered:
        """Return the issue for a reader who chose ``chosen`` sections (rendered once per selection)."""
        key = self.selection(chosen)
        if key not in self._cache:
            with self._lock:
                if key not in self._cache:
                    self._cache[key] = self._render(key)
        return self._cache[key]

    def page(self) -> str:
        """Return the archive page: every section and item, no personal parts, never trimmed."""
        data = {**self.data, "personal": None, "archive": True}
        return self._compile(data)

    def _render(self, names: tuple[str, ...]) -> Rendered:
        data = self._select(names)
        text = _render(self.env, ISSUE_TEXT, {**data, "ref": References()})
        text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
        markup = self._compile(data)
        trimmed = 0
        if self._too_big(markup):
            markup, trimmed = self._trim(data)
        return Rendered(html=markup, text=text, sections=names, trimmed=trimmed, placeholders=self.placeholders)

    def _select(self, names: tuple[str, ...]) -> dict[str, Any]:
        sections = [s for s in self.data["issue"]["sections"] if s["name"] in names]
        omitted = [s for s in self.data["issue"]["sections"] if s["name"] not in names]
        issue = {**self.data["issue"], "sections": sections, "omitted": omitted,
                 "count": sum(len(s["items"]) for s in sections)}
        return {**self.data, "issue": issue}

    def _compile(self, data: dict[str, Any]) -> str:
        self.compiled += 1
        return htmlmail.compile(_render(self.env, ISSUE_HTML, data), name=ISSUE_HTML)

    def _too_big(self, markup: str) -> bool:
        count = sum(markup.count(p) for p in self.placeholders.values())
        return htmlmail.sent_size(markup, count) > self.limit

    def _trim(self, data: dict[str, Any]) -> tuple[str, int]:
        """Return the HTML with the most items that fits, the rest linked online, and how many moved."""
        total = data["issue"]["count"]

        def attempt(keep: int) -> str:
            return self._compile(_keep(data, keep))

        low, high, best = 0, total - 1, None  # keeping every item is known not to fit
        while low <= high:  # the largest count of full items that fits
            middle = (low + high) // 2
            markup = attempt(middle)
            if self._too_big(markup):
                high = middle - 1
            else:
                low, best = middle + 1, (markup, total - middle)
        if best is None:
            raise TemplateError(f"{ISSUE_HTML}: the email is over Gmail's {self.limit // 1000} KB limit "
                                "even with every item moved online; shorten the template")
        return best


def _keep(data: dict[str, Any], keep: int) -> dict[str, Any]:
    """Return ``data`` with only the first ``keep`` items in full and the rest listed as trimmed."""
    sections, trimmed, seen = [], [], 0
    for s in data["issue"]["sections"]:
        items = s["items"][:max(0, keep - seen)]
        trimmed += [{**item, "section": s["name"]} for item in s["items"][len(items):]]
        seen += len(s["items"])
        if items:
            sections.append({**s, "items": items})
    return {**data, "issue": {**data["issue"], "sections": sections, "trimmed": trimmed}}


def render(config: Config, issue: Draft) -> Rendered:
    """Render the issue's HTML and text parts with every section; raise TemplateError naming the template."""
    return Renderer(config, issue).render()


def _render(env: jinja2.Environment, name: str, data: dict[str, Any]) -> str:
    return _guard(name, lambda: env.get_template(name).render(data))


def _guard(name: str, run: Callable[[], T]) -> T:
    """Return ``run()``, turning any error inside a template into a TemplateError naming file and line."""
    try:
        return run()
    except jinja2.TemplateNotFound as e:
        raise TemplateError(f"template not found: {e.name}") from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{e.filename or e.name or name} line {e.lineno}: {e.message}") from e
    except Exception as e:  # noqa: BLE001 - any error inside a user template is a template error
        raise TemplateError(f"{_where(e, name)}: {type(e).__name__}: {e}") from e


def _where(e: Exception, name: str) -> str:
    """Return ``file line N`` of the innermost template frame in the traceback."""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename.endswith((".mjml", ".txt", ".html", ".atom")):
            return f"{Path(frame.filename).name} line {frame.lineno}"
    return name


def render_template(config: Config, name: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Render a template by file name (the user's first) with the newsletter and theme in its context.

    Return the output and the variables the template sets at its top level, such as
    ``{% set subject = … %}``.
    """
    env = environment(config.templates_dir)

    def run() -> tuple[str, dict[str, Any]]:
        module = env.get_template(name).make_module({**site(config), **data})
        return str(module), {k: getattr(module, k) for k in dir(module) if not k.startswith("_")}

    return _guard(name, run)


def personalise(rendered: Rendered, values: dict[str, str]) -> Rendered:
    """Return ``rendered`` with its personal placeholders filled in."""
    markup, text = rendered.html, rendered.text
    for name, placeholder in rendered.placeholders.items():
        value = values.get(name, "")
        markup = markup.replace(placeholder, html.escape(value))
        text = text.replace(placeholder, value)
    return dataclasses.replace(rendered, html=markup, text=text)
