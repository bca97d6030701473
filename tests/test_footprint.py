"""bench/footprint.py groups a site-packages folder by the distribution each file came from.

The bench itself installs from the package index, so it runs by hand or in CI
(``python bench/footprint.py --check``); here its measuring runs on a small tree built on disk.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "footprint.py"


@pytest.fixture(scope="module")
def footprint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("footprint", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["footprint"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def write(path: Path, size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path.as_posix()


def install(site: Path, dist_info: str, files: dict[str, int], *, unrecorded: dict[str, int] | None = None) -> None:
    """Lay out a distribution as pip does: its files, and a RECORD that lists them and itself."""
    info = site / dist_info
    rows = []
    for name, size in files.items():
        write(site / name, size)
        rows.append(f"{name},sha256=x,{size}")
    rows.append(f"{dist_info}/METADATA,sha256=x,10")
    write(info / "METADATA", 10)
    rows.append("../../../bin/tool,sha256=x,7")  # a script outside site-packages
    rows.append(f"{dist_info}/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n")
    for name, size in (unrecorded or {}).items():
        write(site / name, size)


def test_groups_files_by_distribution_and_leaves_out_pip_and_setuptools(tmp_path: Path, footprint: ModuleType) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    # scipy and scipy.libs are one distribution; a .pyc no RECORD lists goes with its folder.
    install(site, "scipy-1.14.0.dist-info", {"scipy/__init__.py": 1000, "scipy/linalg/_fblas.so": 50_000,
                                              "scipy.libs/libopenblas.so": 200_000},
            unrecorded={"scipy/__pycache__/__init__.cpython-311.pyc": 500})
    install(site, "Jinja2-3.1.6.dist-info", {"jinja2/__init__.py": 3000, "jinja2/nodes.py": 4000})
    install(site, "typing_extensions-4.12.0.dist-info", {"typing_extensions.py": 2000,
                                                         "__pycache__/typing_extensions.cpython-311.pyc": 1500})
    install(site, "pip-24.0.dist-info", {"pip/__init__.py": 900_000})
    install(site, "setuptools-70.0.0.dist-info", {"setuptools/__init__.py": 800_000,
                                                  "distutils-precedence.pth": 150,
                                                  "_distutils_hack/__init__.py": 5000})
    write(site / "stray.txt", 42)

    measured = footprint.measure(site)

    sizes = {part.name: part.bytes for part in measured.parts}
    record = {name: len((site / f"{name}.dist-info" / "RECORD").read_bytes()) + 10
              for name in ("scipy-1.14.0", "Jinja2-3.1.6", "typing_extensions-4.12.0")}
    assert sizes == {
        "scipy": 251_500 + record["scipy-1.14.0"],
        "jinja2": 7000 + record["Jinja2-3.1.6"],
        "typing-extensions": 3500 + record["typing_extensions-4.12.0"],
        footprint.UNOWNED: 42,
    }
    assert [part.name for part in measured.largest(2)] == ["scipy", "jinja2"]
    assert measured.bytes == sum(sizes.values())
    assert measured.parts[0].files == 6  # three recorded files, its METADATA and RECORD, and the .pyc


def test_report_states_the_goal(tmp_path: Path, footprint: ModuleType) -> None:
    site = tmp_path / "site-packages"
    install(site, "big-1.0.dist-info", {"big/data.bin": 300_000})
    measured = footprint.measure(site)

    assert footprint.report(measured, "/repo", [])["goal_mb"] == 250
    over = footprint.report(measured, "/repo", [], goal_mb=0.2)
    assert over["within_goal"] is False
    assert over["largest"][0]["name"] == "big"
    assert over["total_mb"] == 0.3
    assert footprint.report(measured, "/repo", [], goal_mb=0.4)["within_goal"] is True
