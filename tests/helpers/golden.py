"""Golden files: a pipeline's output compared byte for byte with a reviewed copy in tests/golden/."""

from __future__ import annotations

from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent.parent / "golden"


def check_golden(path: Path, actual: bytes, *, update: bool) -> None:
    """Assert that ``actual`` equals the golden file at ``path``; with ``update``, write it first.

    A missing golden file fails: only ``--update-golden`` writes one, so a new file is
    always a reviewed change and never a test that passed by writing its own answer.
    """
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    if not path.exists():
        pytest.fail(f"{path.name}: no golden file at {path} (run pytest with --update-golden, then review it)")
    assert actual == path.read_bytes(), f"{path.name} differs from the golden file (--update-golden to accept)"
