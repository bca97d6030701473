"""Render an issue: Jinja2 → MJML → HTML (mjml-python, CSS inlined) and Jinja2 → plain text.

An issue is rendered once per distinct copy: a language and a section selection (the
sections a reader chose), with placeholders where the personal parts go (greeting,
address, unsubscribe and preferences links); the message builder fills them per reader.
Each copy has its own subject and preheader, from its own stories (``edit.subject``).
The archive page is rendered once, in the newsletter's language, without personal parts.

The placeholders are drawn afresh for each Renderer (see ``personal``), so text from
a source can never spell one. What the templates see is built in ``context``; where the
templates are found, in ``templates``.
"""

from __future__ import annotations

import dataclasses
import html
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from newsletter import i18n
from newsletter.config import Config
from newsletter.edit import subject
from newsletter.edit.issue import Draft
from newsletter.email import htmlmail
from newsletter.email.context import archive_url, context, site
from newsletter.email.personal import placeholders, strings
from newsletter.email.templates import References, environment, render_module
from newsletter.email.templates import render as render_file
from newsletter.error import TemplateError
from newsletter.subscribers.choices import Choices

# Re-exported: other modules import these from here.
__all__ = ["Copy", "Rendered", "Renderer", "archive_url", "personalise", "render", "render_template"]

ISSUE_HTML = "issue.mjml"
ISSUE_TEXT = "issue.txt"


@dataclass(frozen=True)
class Rendered:
    """One copy of an issue: its HTML and text with placeholders for the personal parts.

    ``language`` is the copy's, ``sections`` the sections shown; ``subject`` and
    ``preheader`` are the copy's own; ``trimmed`` counts the items the HTML leaves to
    the online edition to stay under Gmail's clipping limit (the text has them all);
    ``placeholders`` name the marker of each personal part (none: nothing is filled in).
    """

    html: str
    text: str
    sections: tuple[str, ...] = ()
    trimmed: int = 0
    placeholders: Mapping[str, str] = field(default_factory=dict)
    language: str = ""
    subject: str = ""
    preheader: str = ""


@dataclass(frozen=True)
class Copy:
    """One distinct copy of an issue as readers get it: its language, its sections, how many readers, its subject."""

    language: str
    sections: tuple[str, ...]
    readers: int
    subject: str
    every_section: bool


class Renderer:
    """Render one issue for each distinct copy (language, section selection), each exactly once.

    ``renderer.render(("Russia", "China"), "ru")`` returns the issue as a Russian reader who
    chose those sections gets it (an empty choice means every section; no language, the
    newsletter's); ``renderer.page()`` returns the archive page. Readers whose choices
    leave the same copy share one rendering. ``preview`` shows editors why each item is
    where it is (a tooltip on its text).
    """

    def __init__(self, config: Config, issue: Draft, *, limit: int = htmlmail.GMAIL_CLIP,
                 preview: bool = False, links: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.config = config
        self.links = links  # the readers' copies' link rewriting (``email.links``); never the archive page's
        self.issue = issue
        self.limit = limit
        self.preview = preview
        self.env = environment(config.templates_dir)
        self.default = config.newsletter.language
        self.languages = tuple(dict.fromkeys([self.default, *config.newsletter.languages]))
        first = context(config, issue, self.default)
        titles = [s.titles for s in config.sections]
        self.placeholders: dict[str, str] = placeholders("\n".join(strings([first, titles])))
        self._contexts = {self.default: self._personal(first)}
        self.data = self._contexts[self.default]  # in the newsletter's language: the archive's and the feed's
        self.names = tuple(s["name"] for s in self.data["issue"]["sections"])
        self.choices = Choices.of(config)  # what a reader's stored section names mean now
        self._cache: dict[tuple[str, tuple[str, ...]], Rendered] = {}
        self._lock = threading.RLock()
        self.compiled = 0  # MJML compilations so far, for tests and the benchmark

    def language(self, tag: str | None = None) -> str:
        """Return the language of the copy a reader whose language is ``tag`` gets (empty: the newsletter's)."""
        return i18n.choose(tag, self.languages, self.default)

    def selection(self, chosen: Iterable[str] = ()) -> tuple[str, ...]:
        """Return the sections of this issue a reader who chose ``chosen`` gets, in issue order.

        A section chosen under a name it had before a rename (or an alias) counts as itself.
        """
        wanted = {c.casefold() for c in self.choices.current(chosen) if c.strip()}
        if not wanted:
            return self.names
        return tuple(n for n in self.names if n.casefold() in wanted)

    def key(self, chosen: Iterable[str] = (), language: str | None = None) -> tuple[str, tuple[str, ...]]:
        """Return which copy a reader gets: ``(language, sections shown)``."""
        return self.language(language), self.selection(chosen)

    def render(self, chosen: Iterable[str] = (), language: str | None = None) -> Rendered:
        """Return the copy for a reader who chose ``chosen`` sections and ``language`` (rendered once per copy)."""
        key = self.key(chosen, language)
        if key not in self._cache:
            with self._lock:
                if key not in self._cache:
                    self._cache[key] = self._render(*key)
        return self._cache[key]

    def page(self) -> str:
        """Return the archive page: every section and item, no personal parts, never trimmed."""
        data = {**self.data, "personal": None, "archive": True}
        return self._compile(data)

    def copies(self, readers: Mapping[tuple[tuple[str, ...], str], int]) -> list[Copy]:
        """Return the distinct copies of readers counted by ``(sections chosen, language)``, most read first.

        Nothing is rendered: this is what an editor is told before sending.
        """
        counted: dict[tuple[str, tuple[str, ...]], int] = {}
        for (chosen, language), count in readers.items():
            key = self.key(chosen, language)
            counted[key] = counted.get(key, 0) + count
        return sorted((Copy(language, names, count, self.words(language, names)[0], names == self.names)
                       for (language, names), count in counted.items()),
                      key=lambda c: (-c.readers, c.language, c.sections))

    def words(self, language: str, names: tuple[str, ...]) -> tuple[str, str]:
        """Return the subject and preheader of the copy in ``language`` showing sections ``names``.

        The whole issue in the newsletter's language has the issue's own; an editor's
        subject is every copy's.
        """
        issue = self.issue
        if names == self.names and language == self.default:
            return issue.subject, issue.preheader
        items = subject.stories([s for s in issue.sections if s.name in names], issue.lead)
        line = issue.editor_subject or subject.subject(self.config, number=issue.number, moment=issue.date,
                                                       items=items, language=language)
        return line, subject.preheader(items)

    def _personal(self, data: dict[str, Any]) -> dict[str, Any]:
        personal = dict(self.placeholders)
        if not self.config.newsletter.greeting:  # greetings are off: no line is kept for one
            personal["greeting"] = ""
        return {**data, "preview": self.preview, "personal": personal}

    def _context(self, language: str) -> dict[str, Any]:
        if language not in self._contexts:
            self._contexts[language] = self._personal(context(self.config, self.issue, language))
        return self._contexts[language]

    def _render(self, language: str, names: tuple[str, ...]) -> Rendered:
        line, preheader = self.words(language, names)
        data = self._select(self._context(language), names, line, preheader)
        if self.links is not None:
            data = self.links(data)
        text = render_file(self.env, ISSUE_TEXT, {**data, "ref": References()})
        text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
        markup = self._compile(data)
        trimmed = 0
        if self._too_big(markup):
            markup, trimmed = self._trim(data)
        return Rendered(html=markup, text=text, sections=names, trimmed=trimmed, placeholders=self.placeholders,
                        language=language, subject=line, preheader=preheader)

    @staticmethod
    def _select(data: dict[str, Any], names: tuple[str, ...], line: str, preheader: str) -> dict[str, Any]:
        sections = [s for s in data["issue"]["sections"] if s["name"] in names]
        omitted = [s for s in data["issue"]["sections"] if s["name"] not in names]
        issue = {**data["issue"], "sections": sections, "omitted": omitted, "subject": line, "preheader": preheader,
                 "count": sum(len(s["items"]) for s in sections)}
        return {**data, "issue": issue}

    def _compile(self, data: dict[str, Any]) -> str:
        self.compiled += 1
        return htmlmail.compile(render_file(self.env, ISSUE_HTML, data), name=ISSUE_HTML)

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


def render_template(config: Config, name: str, data: dict[str, Any],
                    language: str | None = None) -> tuple[str, dict[str, Any]]:
    """Render a template by file name (the user's first) with the newsletter and theme in ``language``.

    Return the output and the variables the template sets at its top level, such as
    ``{% set subject = … %}``.
    """
    return render_module(environment(config.templates_dir), name, {**site(config, language), **data})


def personalise(rendered: Rendered, values: dict[str, str]) -> Rendered:
    """Return ``rendered`` with its personal placeholders filled in."""
    markup, text = rendered.html, rendered.text
    for name, placeholder in rendered.placeholders.items():
        value = values.get(name, "")
        markup = markup.replace(placeholder, html.escape(value))
        text = text.replace(placeholder, value)
    return dataclasses.replace(rendered, html=markup, text=text)
