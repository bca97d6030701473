"""Readers' choices in a test newsletter: more languages and sections, one of them renamed."""

from __future__ import annotations

from pathlib import Path

LANGUAGES = ["en", "ru", "kk"]
# Added after the test newsletters' Russia, China and Energy: Sports, and Qazaqstan, once called Kazakhstan.
SECTIONS = """
[[sections]]
name = "Sports"
keywords = ["football", "match"]

[[sections]]
name = "Qazaqstan"
keywords = ["Kazakhstan", "Astana", "Казахстан"]
formerly = ["Kazakhstan"]
aliases = ["KZ"]
"""


def offer_choices(folder: Path) -> Path:
    """Make the newsletter in ``folder`` offer three languages and the sections above; return the folder."""
    path = folder / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    languages = ", ".join(f'"{tag}"' for tag in LANGUAGES)
    path.write_text(text.replace("[newsletter]\n", f"[newsletter]\nlanguages = [{languages}]\n", 1) + SECTIONS,
                    encoding="utf-8")
    return folder
