"""Measure what a fresh ``pip install`` of this project puts into a new virtual environment.

Creates a venv in a temporary folder, installs the repository into it (not editable, from the
configured package index), and adds up the files in its site-packages, pip and setuptools not
counted. Files are grouped by the distribution that installed them, read from each
``*.dist-info/RECORD``, so ``scipy`` and ``scipy.libs`` count as one part. Sizes are the files'
own sizes in bytes; 1 MB = 1,000,000 bytes.

    .venv/bin/python bench/footprint.py                      # total and the five largest parts
    .venv/bin/python bench/footprint.py --json               # one JSON document
    .venv/bin/python bench/footprint.py --check              # exit 1 when over the goal
    .venv/bin/python bench/footprint.py --extra postgres     # pip install '.[postgres]'
    .venv/bin/python bench/footprint.py --also datasketch    # then pip install datasketch too

It downloads every dependency, so it is not part of the test run; tests/test_footprint.py checks
the measuring on a small site-packages tree it builds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 250.0
MB = 1_000_000
# The installer's own tools: every venv has them, and the project cannot shed them.
EXCLUDED = frozenset({"pip", "setuptools"})
UNOWNED = "(not in any RECORD)"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def canonical(name: str) -> str:
    """Return a distribution name normalised as PEP 503 does (``Jinja2`` and ``jinja_2`` alike)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Part:
    """One distribution's installed files."""

    name: str
    bytes: int
    files: int


@dataclass(frozen=True)
class Footprint:
    """The installed size of a site-packages folder, by distribution."""

    parts: tuple[Part, ...]  # largest first

    @property
    def bytes(self) -> int:
        return sum(part.bytes for part in self.parts)

    def largest(self, count: int = 5) -> tuple[Part, ...]:
        """Return the ``count`` largest parts."""
        return self.parts[:count]


def _owners(site: Path) -> tuple[dict[Path, str], dict[str, str]]:
    """Return (file -> distribution, top-level name -> distribution) from every RECORD in ``site``."""
    by_file: dict[Path, str] = {}
    by_top: dict[str, str] = {}
    for record in sorted(site.glob("*.dist-info/RECORD")):
        info = record.parent
        dist = canonical(info.name[: -len(".dist-info")].rsplit("-", 1)[0])
        by_file[record] = dist
        with record.open(newline="", encoding="utf-8") as rows:
            for row in csv.reader(rows):
                if not row or not row[0]:
                    continue
                path = Path(os.path.normpath(site / row[0]))
                by_file[path] = dist
                try:
                    top = path.relative_to(site).parts[0]
                except ValueError:
                    continue  # a script in bin/, outside site-packages
                if top != "__pycache__":
                    by_top.setdefault(top, dist)
    return by_file, by_top


def measure(site: Path, exclude: frozenset[str] = EXCLUDED) -> Footprint:
    """Return the size of every file under ``site``, grouped by the distribution whose RECORD lists it.

    A file no RECORD lists (a ``.pyc`` the interpreter wrote later, say) belongs to the distribution
    that owns its top-level folder, or else to ``UNOWNED``. Distributions in ``exclude`` are left out.
    """
    by_file, by_top = _owners(site)
    sizes: dict[str, list[int]] = {}
    for folder, _dirs, names in os.walk(site):
        for name in names:
            path = Path(folder) / name
            dist = by_file.get(path)
            if dist is None:
                top = path.relative_to(site).parts[0]
                dist = by_top.get(top, UNOWNED)
            if dist in exclude:
                continue
            size = path.lstat().st_size
            tally = sizes.setdefault(dist, [0, 0])
            tally[0] += size
            tally[1] += 1
    parts = sorted((Part(dist, total, count) for dist, (total, count) in sizes.items()),
                   key=lambda part: (-part.bytes, part.name))
    return Footprint(tuple(parts))


def install(venv: Path, spec: str, also: list[str]) -> list[Path]:
    """Create a venv at ``venv``, pip-install ``spec`` and then ``also``; return its site-packages folders."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for what in ([spec], also):
        if not what:
            continue
        log(f"pip install {' '.join(what)}")
        # pip's warnings (an index location it skips, say) matter only when the install fails.
        done = subprocess.run([*pip, *what], check=False, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"pip install {' '.join(what)} failed (exit {done.returncode})")
    code = "import sysconfig; print(sysconfig.get_path('purelib')); print(sysconfig.get_path('platlib'))"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout
    folders = {Path(line).resolve() for line in out.splitlines() if line}
    return sorted(folders)


def report(footprint: Footprint, spec: str, also: list[str], goal_mb: float = GOAL_MB) -> dict[str, object]:
    """Return the figures as one JSON-ready document."""
    return {
        "installed": spec,
        "also": also,
        "total_mb": round(footprint.bytes / MB, 1),
        "goal_mb": goal_mb,
        "within_goal": footprint.bytes / MB <= goal_mb,
        "largest": [{"name": p.name, "mb": round(p.bytes / MB, 1), "files": p.files} for p in footprint.largest()],
        "parts": [{"name": p.name, "mb": round(p.bytes / MB, 2)} for p in footprint.parts],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when over the goal ({GOAL_MB:g} MB)")
    parser.add_argument("--extra", action="append", default=[], help="install with this extra (repeatable)")
    parser.add_argument("--also", action="append", default=[], help="pip install this afterwards (repeatable)")
    parser.add_argument("--all", action="store_true", help="list every part, not only the five largest")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project to install (default: this checkout)")
    args = parser.parse_args(argv)

    spec = str(args.root.resolve()) + (f"[{','.join(args.extra)}]" if args.extra else "")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="footprint-") as tmp:
        sites = install(Path(tmp) / "venv", spec, args.also)
        parts: dict[str, Part] = {}
        for site in sites:
            for part in measure(site).parts:
                seen = parts.get(part.name)
                parts[part.name] = part if seen is None else Part(part.name, seen.bytes + part.bytes,
                                                                   seen.files + part.files)
        footprint = Footprint(tuple(sorted(parts.values(), key=lambda p: (-p.bytes, p.name))))
    log(f"installed and measured in {time.perf_counter() - started:.0f} s")

    doc = report(footprint, spec, args.also)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        extra = f" + {' '.join(args.also)}" if args.also else ""
        print(f"pip install {spec}{extra}: {doc['total_mb']} MB in site-packages (pip and setuptools not counted)")
        print(f"goal: <= {GOAL_MB:g} MB ({'met' if doc['within_goal'] else 'OVER'})")
        shown = footprint.parts if args.all else footprint.largest()
        print("largest parts:" if not args.all else "parts:")
        for part in shown:
            print(f"  {part.name:<28} {part.bytes / MB:8.1f} MB  {part.files:6d} files")
    return 1 if args.check and not doc["within_goal"] else 0


if __name__ == "__main__":
    sys.exit(main())
