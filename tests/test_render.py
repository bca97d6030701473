"""Rendering: MJML compiled with the inline CSS inlined, theme, size limit, plain text, templates."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from helpers.sample_issue import big_draft, draft, item
from mjml import mjml2html

from newsletter.config import Config, parse
from newsletter.edit.sections import Placed, Placement, Sorter
from newsletter.email import htmlmail
from newsletter.email.render import Renderer, _keep, render
from newsletter.error import ConfigError, TemplateError

URL = re.compile(r"https?://\S+")


def config(tmp_path: Path, theme: dict[str, Any] | None = None, **newsletter: Any) -> Config:
    settings = {"title": "Test Briefing", "base_url": "https://news.example.org",
                "postal_address": "1 Test Street, Almaty", **newsletter}
    return parse({"newsletter": settings, "theme": theme or {}}, root=tmp_path, environ={})


def test_mjml_python_does_not_inline_so_we_do() -> None:
    source = ('<mjml><mj-head><mj-style inline="inline">.x a { color: #ff0000; }</mj-style>'
              '<mj-style>@media (max-width: 400px) { .x a { color: #00ff00 !important; } }</mj-style></mj-head>'
              '<mj-body><mj-section><mj-column><mj-text css-class="x"><a href="https://e.org/">link</a>'
              '</mj-text></mj-column></mj-section></mj-body></mjml>')
    plain = mjml2html(source)
    assert '<a href="https://e.org/">' in plain and ".x a { color: #ff0000; }" in plain  # left in <style>
    ours = htmlmail.compile(source, name="t.mjml")
    assert re.search(r'<a href="https://e.org/" style="color: #ff0000;?">', ours)
    assert "#ff0000" not in ours.split("<body", 1)[0]  # the inline rule is gone from <head>
    assert "@media (max-width: 400px)" in ours  # a media query cannot be inlined: it stays


def test_spaces_between_head_elements_are_accepted() -> None:
    source = ('<mjml><mj-head><mj-title>T</mj-title>  <mj-preview>P</mj-preview></mj-head>'
              "<mj-body><mj-section><mj-column><mj-text><b>a</b> <i>b</i></mj-text></mj-column></mj-section></mj-body></mjml>")
    with pytest.raises(ValueError):
        mjml2html(source)  # what mjml-python does on its own
    assert "<b>a</b> <i>b</i>" in htmlmail.compile(source, name="t.mjml")


def test_invalid_mjml_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="t.mjml: invalid MJML"):
        htmlmail.compile("<mjml><mj-body><mj-section>", name="t.mjml")


def test_the_html_email(tmp_path: Path) -> None:
    cfg = config(tmp_path, theme={"brand_colour": "#123456", "link_colour": "#0000aa",
                                  "logo_url": "https://cdn.example.org/logo.png", "logo_width": 120,
                                  "logo_height": 40, "logo_alt": "Test Briefing logo",
                                  "font_family": "Lato, Helvetica, sans-serif",
                                  "font_url": "https://fonts.example.org/lato.css"})
    rendered = render(cfg, draft())
    html = rendered.html
    head, body = html.split("<body", 1)
    assert re.search(r'<html lang="en" dir="ltr"', html)
    assert '<meta name="color-scheme" content="light dark">' in head
    assert "@media (prefers-color-scheme: dark)" in head and "[data-ogsc]" in head
    images = re.findall(r"<img [^>]*>", body)
    assert images, "the logo is shown"
    for img in images:
        assert re.search(r'\bwidth="\d+"', img) and re.search(r'\bheight="\d+"', img) and 'alt="' in img
    assert 'alt="Test Briefing logo"' in images[0] and 'src="https://cdn.example.org/logo.png"' in images[0]
    preheader = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', body, re.DOTALL)
    assert preheader and preheader.group(1).startswith("Kremlin signals new gas deal · ")
    assert "#123456" in body and "color: #0000aa" in body
    assert "Lato, Helvetica, sans-serif" in body and "https://fonts.example.org/lato.css" in head
    assert re.search(r'<a href="https://news.example.org/archive/1.html"[^>]*>View in browser</a>', body)
    assert all(rendered.placeholders[p] in html for p in ("greeting", "unsubscribe_url", "preferences_url", "email"))
    for anchor in ("s-russia", "s-china", "s-energy", "s-in-brief"):
        assert f'href="#{anchor}"' in body and f'id="{anchor}"' in body
    assert "1 Test Street, Almaty" in body


def test_right_to_left_languages_set_dir(tmp_path: Path) -> None:
    html = render(config(tmp_path, language="ar", languages=["ar"]), draft()).html
    assert '<html lang="ar" dir="rtl"' in html and "text-align:right" in html


def test_a_light_brand_colour_gets_dark_header_text(tmp_path: Path) -> None:
    light = render(config(tmp_path, theme={"brand_colour": "#ffdd00"}), draft()).html
    dark = render(config(tmp_path, theme={"brand_colour": "#0b2e4f"}), draft()).html
    assert re.search(r"<h1 style=\"[^\"]*color: #111111", light)
    assert re.search(r"<h1 style=\"[^\"]*color: #ffffff", dark)


@pytest.mark.parametrize(("theme", "key"), [
    ({"brand_colour": "navy"}, "theme.brand_colour"),
    ({"link_colour": "#12345"}, "theme.link_colour"),
    ({"logo_url": "https://x.example/l.png"}, "theme.logo_width"),
    ({"logo_url": "javascript:alert(1)", "logo_width": 1, "logo_height": 1}, "theme.logo_url"),
    ({"font_family": "x; } body { display:none"}, "theme.font_family"),
    ({"colour": "#fff"}, "theme.colour"),
])
def test_bad_theme_settings_name_the_key(tmp_path: Path, theme: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        config(tmp_path, theme=theme)


def test_a_bad_greeting_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="newsletter.greeting"):
        config(tmp_path, greeting="Hello {first},")


def test_an_issue_over_gmails_limit_is_trimmed_with_a_link_online(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    issue = big_draft(80)
    assert htmlmail.sent_size(Renderer(cfg, issue).page()) > htmlmail.GMAIL_CLIP  # it would be clipped
    renderer = Renderer(cfg, issue)
    rendered = renderer.render()
    placeholders = sum(rendered.html.count(p) for p in rendered.placeholders.values())
    assert htmlmail.sent_size(rendered.html, placeholders) <= htmlmail.GMAIL_CLIP
    assert 0 < rendered.trimmed < 80
    kept = 80 - rendered.trimmed
    assert "Continue reading online" in rendered.html
    first_trimmed = f"https://news.example.org/archive/1.html#item-{kept + 1}"
    assert f'href="{first_trimmed}"' in rendered.html
    assert f"{rendered.trimmed} more items are in the online edition" in rendered.html
    # the largest number of items that fits: one more would not
    for n in range(1, 81):  # every item is still in the text part
        assert f"Story number {n} about the region" in rendered.text
    page = renderer.page()
    assert f'id="item-{kept + 1}"' in page and "Continue reading online" not in page


def test_the_trim_keeps_as_many_items_as_fit(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    issue = big_draft(40)
    full = Renderer(cfg, issue).render()
    assert full.trimmed == 0
    limit = htmlmail.sent_size(full.html) - 5_000  # a limit the whole issue just misses
    renderer = Renderer(cfg, issue, limit=limit)
    rendered = renderer.render()
    assert rendered.trimmed >= 1
    assert htmlmail.sent_size(rendered.html, 4) <= limit
    kept = 40 - rendered.trimmed  # keeping one more item in full would not fit
    assert htmlmail.sent_size(renderer._compile(_keep(renderer.data, kept + 1)), 4) > limit


def test_a_template_too_big_for_any_trim_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="over Gmail's"):
        Renderer(config(tmp_path), draft(), limit=1_000).render()


def test_the_text_part_is_wrapped_with_numbered_links(tmp_path: Path) -> None:
    text = render(config(tmp_path), draft()).text
    for line in text.splitlines():
        # a line may only run past 72 columns if what makes it long is one URL that cannot break
        assert len(line) <= 72 or (URL.search(line) and len(URL.sub("", line)) <= 72), line
    assert text.startswith("TEST BRIEFING\nIssue 1 · 23 November 2026\n")
    assert "RUSSIA\n======\n" in text and "IN BRIEF\n========\n" in text
    references = re.findall(r"\[(\d+)\]", text.split("\nLinks\n-----\n")[0])
    listed = dict(re.findall(r"^\[(\d+)\] (\S+)$", text, re.MULTILINE))
    assert references and set(references) <= set(listed)
    assert listed["1"] == "https://news.example.com/story/1?ref=rss&a=1"
    assert "<" not in text.replace("<https", "")  # no markup
    assert text.endswith("1 Test Street, Almaty\n")


def test_a_sections_intro_and_empty_line_are_in_both_parts(tmp_path: Path) -> None:
    cfg = parse({"newsletter": {"title": "Test Briefing", "base_url": "https://news.example.org"},
                 "sections": [{"name": "Russia", "intro": "From the Kremlin and beyond."},
                              {"name": "Sport", "hide_when_empty": False, "empty_text": "No matches this week."}]},
                root=tmp_path, environ={})
    issue = draft()
    placed = [p for section in issue.sections for p in section.items]
    rendered = render(cfg, dataclasses.replace(issue, sections=tuple(Sorter(cfg).arrange(placed).sections)))
    assert "RUSSIA\n======\nFrom the Kremlin and beyond.\n" in rendered.text
    assert "SPORT\n=====\nNo matches this week.\n" in rendered.text
    russia = rendered.html.split('id="s-russia"', 1)[1].split("<h3", 1)[0]
    assert "<em>From the Kremlin and beyond.</em>" in russia
    sport = rendered.html.split('id="s-sport"', 1)[1].split("<h2", 1)[0]
    assert re.search(r"<p[^>]*>No matches this week\.</p>", sport)


def test_the_lead_opens_the_issue(tmp_path: Path) -> None:
    issue = dataclasses.replace(draft(), lead=Placed(
        item(99, "Opening", "A quiet week in the region, with one loud exception.", link=False),
        Placement("", "opening summary")))
    rendered = render(config(tmp_path), issue)
    assert "A quiet week in the region, with one loud exception." in rendered.text.split("RUSSIA")[0]
    assert re.search(r'<p class="nl-lead"[^>]*>A quiet week in the region', rendered.html)


def test_a_user_template_extends_the_builtin_one(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "issue.mjml").write_text(
        '{% extends "default:issue.mjml" %}{% block footer %}<mj-section><mj-column><mj-text>'
        "Custom footer for {{ personal.email }}</mj-text></mj-column></mj-section>{% endblock %}",
        encoding="utf-8")
    rendered = render(config(tmp_path), draft())
    html = rendered.html
    assert "Custom footer for " + rendered.placeholders["email"] in html
    assert "Kazakhstan raises oil output" in html  # the rest is the original


def test_a_broken_user_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "issue.txt").write_text("line one\n{{ issue.nope.deeper }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"issue.txt line 2"):
        render(config(tmp_path), draft())


def test_the_archive_page_has_nothing_personal(tmp_path: Path) -> None:
    page = Renderer(config(tmp_path), draft()).page()
    assert "NLPERSONAL" not in page and "Hello" not in page and "Unsubscribe" not in page
    assert 'href="https://news.example.org/"' in page  # the sign-up form
    assert re.search(r'<a href="https://news.example.org/archive/"[^>]*>All issues</a>', page)
    assert 'id="item-1"' in page and 'id="item-6"' in page


def test_editors_preview_shows_why_items_are_where_they_are(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert 'title="keywords: Russia ×1 (score 1)"' in Renderer(cfg, draft(), preview=True).render().html
    assert "keywords: Russia" not in Renderer(cfg, draft()).render().html
