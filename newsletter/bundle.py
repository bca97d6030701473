"""The files that ship inside the package: templates, demo sources, demo config, the starter."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsletter.error import NewsletterError

_PACKAGE = Path(__file__).resolve().parent
STARTER = _PACKAGE / "starter"  # what `newsletter init` writes: a minimal config and an example document


def path(name: str) -> Path:
    """Return a bundled file or folder: from the wheel, else from the source checkout."""
    inside = _PACKAGE / "_bundled" / name
    if inside.exists():
        return inside
    return _PACKAGE.parent / name


def scaffold(folder: Path, *, demo: bool = False) -> list[Path]:
    """Write a working newsletter into ``folder``; return what was written.

    By default a minimal one: a commented config with one source (an ``inbox/`` folder
    holding one example document) and one section, and no templates, so the built-in
    ones apply and their fixes arrive with each upgrade. ``demo``: a copy of the demo
    (its config, ``sources/`` and ``templates/``).
    """
    config = folder / "newsletter.toml"
    if config.exists():
        raise NewsletterError(f"{config} already exists; not overwriting it")
    folder.mkdir(parents=True, exist_ok=True)
    if not demo:
        inbox = folder / "inbox"
        shutil.copytree(STARTER / "inbox", inbox, dirs_exist_ok=True)
        shutil.copyfile(STARTER / "newsletter.toml", config)
        return [config, *sorted(inbox.iterdir())]
    written = []
    for name in ("sources", "templates"):
        target = folder / name
        shutil.copytree(path(name), target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        written.append(target)
    shutil.copyfile(path("newsletter.toml"), config)
    written.append(config)
    return written
