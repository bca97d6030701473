"""The package's layout keeps the promises of docs/development.md: it shows the data flow and hides nothing.

Read from the source as text (``ast``), never by importing: no import cycles between the
package's modules, at most 30 modules at the top level, a docstring on every module, and
imports inside functions only at the heavy edges named here, one meaning per class name, no
private name imported from another module, and no module longer than 400 lines.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "newsletter"
# Imported on first use, as the house rules allow: the web server (uvicorn, and the web app with
# its pages), trafilatura (article pages only), and the metrics' Prometheus client (the daemon's textfile).
HEAVY_EDGES = {"newsletter.web.server", "newsletter.insight.metrics", "trafilatura", "trafilatura.htmlprocessing"}


def modules(package: Path = PACKAGE) -> dict[str, ast.Module]:
    """Return every module of ``package`` by dotted name, parsed."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


def imported(name: str, tree: ast.Module, known: set[str], root: Path = PACKAGE) -> set[str]:
    """Return the modules of the package at ``root`` that ``name`` imports at its top level."""
    out = set()
    package = name if (root / Path(*name.split(".")[1:]) / "__init__.py").exists() else name.rpartition(".")[0]
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


def graph_of(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Return each module of ``package`` with the package's modules it imports at its top level."""
    found = modules(package)
    return {name: imported(name, tree, set(found), package) for name, tree in found.items()}


def test_the_package_has_no_import_cycle() -> None:
    graph = graph_of()
    assert "newsletter.edit.names" in graph["newsletter.edit.entities"]  # the edges are read at all
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError, naming the cycle


def test_the_cycle_check_sees_a_cycle_through_absolute_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('"""A package."""\n')
    (package / "a.py").write_text('"""A."""\nfrom pkg.sub import b\n')
    (package / "sub" / "__init__.py").write_text('"""Sub."""\n')
    (package / "sub" / "b.py").write_text('"""B."""\nfrom . import c\n')
    (package / "sub" / "c.py").write_text('"""C."""\nfrom ..a import x\n\n\ndef f():\n    import pkg.sub.b\n')
    graph = graph_of(package)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.sub.c"} and graph["pkg.sub.c"] == {"pkg.a"}
    with pytest.raises(graphlib.CycleError) as cycle:
        graphlib.TopologicalSorter(graph).prepare()
    assert set(cycle.value.args[1]) == {"pkg.a", "pkg.sub.b", "pkg.sub.c"}


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


def test_a_class_name_means_one_thing_in_the_package() -> None:
    defined: dict[str, list[str]] = {}
    for name, tree in modules().items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                defined.setdefault(node.name, []).append(name)
    assert len(defined) > 100  # the classes are read at all
    twice = {cls: where for cls, where in defined.items() if len(where) > 1}
    assert not twice, f"one class name, two meanings: {twice}"


def test_no_module_imports_another_modules_private_name() -> None:
    private = [(name, alias.name) for name, tree in modules().items() for node in tree.body
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("newsletter")
               for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not private, f"private names imported across modules: {private}"


def test_no_module_is_longer_than_400_lines() -> None:
    lengths = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE.rglob("*.py")}
    assert len(lengths) > 100 and max(lengths.values()) > 300  # the modules are read at all
    long = {str(path.relative_to(PACKAGE.parent)): n for path, n in lengths.items() if n > 400}
    assert not long, f"modules past 400 lines hold two ideas (STYLE 7): split them: {long}"
