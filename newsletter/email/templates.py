"""The email templates: where they are found, the Jinja2 environment they render in, and their errors.

User templates come first, the built-in ones second, and ``default:name`` is always the
original (so a user's template can extend it). Every template has Jinja's i18n extension:
``{% trans %}…{% endtrans %}`` and ``_("…")`` speak the language whose ``gettext`` is in
the context (``i18n.gettext_for``), English as written when none is.
"""

from __future__ import annotations

import re
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2

from newsletter import bundle
from newsletter.error import TemplateError

T = TypeVar("T")


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
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations()  # type: ignore[attr-defined]  # added by the i18n extension; English as written
    env.policies["ext.i18n.trimmed"] = True  # a sentence may span lines in a template and stays one message
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


def render(env: jinja2.Environment, name: str, data: dict[str, Any]) -> str:
    """Return template ``name`` rendered with ``data``; raise TemplateError naming file and line."""
    return guard(name, lambda: env.get_template(name).render(data))


def render_module(env: jinja2.Environment, name: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return template ``name`` rendered, and the variables it sets at its top level (``{% set subject = … %}``)."""
    def run() -> tuple[str, dict[str, Any]]:
        module = env.get_template(name).make_module(data)
        return str(module), {k: getattr(module, k) for k in dir(module) if not k.startswith("_")}

    return guard(name, run)


def guard(name: str, run: Callable[[], T]) -> T:
    """Return ``run()``, turning any error inside a template into a TemplateError naming file and line."""
    try:
        return run()
    except jinja2.TemplateNotFound as e:
        raise TemplateError(f"template not found: {e.name}") from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{e.filename or e.name or name} line {e.lineno}: {e.message}") from e
    except Exception as e:  # any error inside a user template is a template error
        raise TemplateError(f"{_where(e, name)}: {type(e).__name__}: {e}") from e


def _where(e: Exception, name: str) -> str:
    """Return ``file line N`` of the innermost template frame in the traceback."""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename.endswith((".mjml", ".txt", ".html", ".atom")):
            return f"{Path(frame.filename).name} line {frame.lineno}"
    return name
