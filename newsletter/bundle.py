"""The files that ship inside the package: templates, demo sources, demo config."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsletter.error import NewsletterError

_PACKAGE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """Return a bundled file or folder: from the wheel, else from the source checkout."""
    inside = _PACKAGE / "_bundled" / name
    if inside.exists():
        return inside
    return _PACKAGE.parent / name


def scaffold(folder: Path) -> list[Path]:
    """Write a working newsletter (config, sources/, templates/) into ``folder``; return what was written."""
    config = folder / "newsletter.toml"
    if config.exists():
        raise NewsletterError(f"{config} already exists; not overwriting it")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("sources", "templates"):
        target = folder / name
        shutil.copytree(path(name), target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        written.append(target)
    shutil.copyfile(path("newsletter.toml"), config)
    written.append(config)
    return written
