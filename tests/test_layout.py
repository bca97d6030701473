"""The package's layout keeps the promises of docs/development.md: it shows the data flow and hides nothing.

Read from the source as text (``ast``), never by importing: no import cycles between the
package's modules, at most 30 modules at the top level, a docstring on every module, and
imports inside functions only at the heavy edges named here.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "newsletter"
# Imported on first use, as the house rules allow: the web app (Starlette and its pages),
# trafilatura (article pages only), and the metrics' Prometheus client (the daemon's textfile).
HEAVY_EDGES = {"newsletter.web", "newsletter.web.server", "newsletter.insight.metrics", "trafilatura",
               "trafilatura.htmlprocessing"}


def modules() -> dict[str, ast.Module]:
    """Return every module of the package by dotted name, parsed."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


def imported(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """Return the package's modules that ``name`` imports at its top level (``TYPE_CHECKING`` blocks aside)."""
    out = set()
    package = name if (PACKAGE / Path(*name.split(".")[1:]) / "__init__.py").exists() else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in known and m != name}


def test_the_package_has_no_import_cycle() -> None:
    found = modules()
    graph = {name: imported(name, tree, set(found)) for name, tree in found.items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError, naming the cycle


def test_the_cycle_check_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        assert set(e.args[1]) == {"a", "b", "c"}
    else:
        raise AssertionError("a three-module cycle went unseen")


def test_the_top_level_stays_small_and_every_module_says_what_it_owns() -> None:
    found = modules()
    top = [n for n in found if n.count(".") == 1 and n.split(".")[1] not in {"__init__", "__main__"}]
    assert len(top) <= 30, sorted(top)  # modules and packages alike
    undocumented = [n for n, tree in found.items() if not (ast.get_docstring(tree) or "").strip()]
    assert undocumented == []


def test_imports_inside_functions_are_only_the_heavy_edges() -> None:
    inside = []
    for name, tree in modules().items():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom):
                        inside += [f"{name}: from {node.module} import {a.name}" for a in node.names
                                   if not {node.module, f"{node.module}.{a.name}"} & HEAVY_EDGES]
                    elif isinstance(node, ast.Import):
                        inside += [f"{name}: import {a.name}" for a in node.names if a.name not in HEAVY_EDGES]
    assert inside == []
