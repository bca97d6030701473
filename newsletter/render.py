"""Render an issue: Jinja2 → MJML → HTML (mjml-python) and Jinja2 → plain text.

Both are rendered once per issue with placeholders where the personal parts go
(greeting, unsubscribe and preferences links); ``personalise`` fills them per reader.
"""

from __future__ import annotations

import html
import re
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from mjml import mjml2html

from newsletter import bundle
from newsletter.config import Config
from newsletter.error import TemplateError
from newsletter.issue import Draft, format_date
from newsletter.item import Item

ISSUE_HTML = "issue.mjml"
ISSUE_TEXT = "issue.txt"

# Placeholders survive HTML escaping and MJML unchanged: only letters, digits and dashes.
PERSONAL = ("greeting", "unsubscribe_url", "preferences_url", "email")
PLACEHOLDER = {name: f"NLPERSONAL-{name.replace('_', '-')}-X" for name in PERSONAL}


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
        autoescape=jinja2.select_autoescape(enabled_extensions=("mjml", "html"), default=False),
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


def headline(item: Item) -> str:
    """Return the title to print above an item, or "" when it would only repeat the text.

    A briefing paragraph has its inline heading instead (see ``lead``), and a title
    made from the opening words of the text adds nothing.
    """
    if item.label or item.body.startswith(item.title.rstrip("…").rstrip()):
        return ""
    return item.title


def lead(item: Item, section: str) -> str:
    """Return the inline heading to print before an item's text, unless the section says it."""
    if item.label and item.label.casefold() != section.casefold():
        return item.label
    return ""


@dataclass(frozen=True)
class Rendered:
    """An issue's HTML and text with placeholders for the personal parts."""

    html: str
    text: str


def context(config: Config, issue: Draft) -> dict[str, Any]:
    """Return what the templates see."""
    sections = [
        {
            "name": s.name,
            "anchor": "s-" + (re.sub(r"[^\w]+", "-", s.name.casefold()).strip("-") or str(i)),
            "intro": s.intro,
            "items": [
                {
                    "title": p.item.title, "label": p.item.label, "summary": p.item.summary,
                    "headline": headline(p.item), "lead": lead(p.item, s.name),
                    "body": p.item.body, "link": p.item.link, "source": p.item.source_name,
                    "reason": p.placement.reason,
                    "date": format_date(p.item.published_at) if p.item.published_at else "",
                }
                for p in s.items
            ],
        }
        for i, s in enumerate(issue.sections)
    ]
    n = config.newsletter
    return {
        "newsletter": {"title": n.title, "base_url": n.base_url.rstrip("/"), "language": n.language,
                       "postal_address": n.postal_address, "sender": n.sender},
        "issue": {"number": issue.number, "subject": issue.subject, "preheader": issue.preheader,
                  "date": format_date(issue.date), "sections": sections,
                  "count": sum(len(s["items"]) for s in sections)},
        "personal": dict(PLACEHOLDER),
    }


def render(config: Config, issue: Draft) -> Rendered:
    """Render the issue's HTML and text parts; raise TemplateError naming the template and line."""
    env = environment(config.templates_dir)
    data = context(config, issue)
    mjml_source = _render(env, ISSUE_HTML, data)
    try:
        markup = mjml2html(mjml_source, disable_comments=True)
    except (ValueError, RuntimeError) as e:
        raise TemplateError(f"{ISSUE_HTML}: invalid MJML: {e}") from e
    data["ref"] = References()
    text = _render(env, ISSUE_TEXT, data)
    return Rendered(html=markup, text=re.sub(r"\n{3,}", "\n\n", text).strip() + "\n")


def _render(env: jinja2.Environment, name: str, data: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(data)
    except jinja2.TemplateNotFound as e:
        raise TemplateError(f"template not found: {e.name}") from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{e.filename or e.name or name} line {e.lineno}: {e.message}") from e
    except Exception as e:  # noqa: BLE001 - any error inside a user template is a template error
        raise TemplateError(f"{_where(e, name)}: {type(e).__name__}: {e}") from e


def _where(e: Exception, name: str) -> str:
    """Return ``file line N`` of the innermost template frame in the traceback."""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename.endswith((".mjml", ".txt", ".html")):
            return f"{Path(frame.filename).name} line {frame.lineno}"
    return name


def personalise(rendered: Rendered, values: dict[str, str]) -> Rendered:
    """Return ``rendered`` with the personal placeholders filled in."""
    markup, text = rendered.html, rendered.text
    for name, placeholder in PLACEHOLDER.items():
        value = values.get(name, "")
        markup = markup.replace(placeholder, html.escape(value))
        text = text.replace(placeholder, value)
    return Rendered(markup, text)
