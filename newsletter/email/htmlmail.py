"""Email HTML: compile MJML, inline the CSS marked inline, and measure what Gmail measures.

mjml-python copies ``<mj-style inline="inline">`` into a ``<style>`` element like any
other ``mj-style`` (the JavaScript MJML inlines it); mail apps that drop ``<style>``
would then lose those rules. ``compile`` takes those blocks out of the MJML and
inlines them itself with css-inline, leaving every other ``<style>`` (media queries,
dark mode, MJML's own resets) where it is.
"""

from __future__ import annotations

import re

import css_inline
from mjml import mjml2html

from newsletter.email.mime import quoted_printable
from newsletter.error import TemplateError

# Gmail clips a message whose HTML is larger than about 102 KB and hides the rest
# behind "[Message clipped]" (with the footer and its unsubscribe link).
GMAIL_CLIP = 102_000
# Room kept for what replaces each personal placeholder (a name, an address, a link).
PERSONAL_ALLOWANCE = 1_000

_HEAD = re.compile(r"<mj-head\b.*?</mj-head\s*>", re.DOTALL | re.IGNORECASE)
_INLINE_STYLE = re.compile(
    r"<mj-style\b[^>]*\binline\s*=\s*[\"']inline[\"'][^>]*>(.*?)</mj-style\s*>", re.DOTALL | re.IGNORECASE
)


def split_inline_styles(source: str) -> tuple[str, str]:
    """Return ``(source without inline mj-style blocks, their CSS)``."""
    css: list[str] = []

    def take(match: re.Match[str]) -> str:
        css.append(match.group(1))
        return ""

    return _INLINE_STYLE.sub(take, source), "\n".join(css)


def compile(source: str, *, name: str) -> str:
    """Return the email HTML for MJML ``source`` (template ``name`` for errors), CSS inlined."""
    source, css = split_inline_styles(source)
    # mjml-python rejects spaces between two elements of <mj-head> on one line ("unexpected
    # token"), as a Jinja block that trims its newline leaves them; a newline is accepted.
    source = _HEAD.sub(lambda m: re.sub(r">[ \t]+<", ">\n<", m.group(0)), source, count=1)
    try:
        markup = mjml2html(source, disable_comments=True)
    except (ValueError, RuntimeError) as e:
        raise TemplateError(f"{name}: invalid MJML: {e}") from e
    if css.strip():
        inliner = css_inline.CSSInliner(inline_style_tags=False, keep_style_tags=True,
                                        keep_link_tags=True, load_remote_stylesheets=False, extra_css=css)
        try:
            markup = inliner.inline(markup)
        except (ValueError, css_inline.InlineError) as e:
            raise TemplateError(f"{name}: cannot inline <mj-style inline=\"inline\">: {e}") from e
    return markup.rstrip("\n") + "\n"


def sent_size(markup: str, placeholders: int = 0) -> int:
    """Return the bytes the HTML part takes in the message, with room for personal values.

    Measured after quoted-printable encoding, the larger of the sizes Gmail might count.
    """
    return len(quoted_printable(markup)) + placeholders * PERSONAL_ALLOWANCE
