"""How one setting is declared: its default, its help text, and its TOML key if it differs."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def setting(default: Any, help: str, *, key: str | None = None) -> Any:
    """Declare one setting with its default and help text (and its TOML key if it differs)."""
    meta = {"help": help, "key": key}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)
