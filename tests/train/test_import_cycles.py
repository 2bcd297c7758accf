"""The modules of scratchnn.train import each other without a cycle, type-only imports included.

Every import statement counts: at module level, inside ``if TYPE_CHECKING:`` and inside functions.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import scratchnn.train

PACKAGE = "scratchnn.train"
ROOT = Path(scratchnn.train.__file__).parent


def modules() -> dict[str, Path]:
    """Dotted name -> file of every module in the package (the package itself for ``__init__.py``)."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([PACKAGE, *parts])] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` (in file ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(p for p in (base, node.module) if p)
            for alias in node.names:  # a submodule, or a name that needs ``source`` run first
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
    return (found & known) - {name}


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return None


def test_the_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert f"{PACKAGE}.trainer" in graph[PACKAGE]  # __init__.py
    assert {f"{PACKAGE}.checkpoint", f"{PACKAGE}.state", f"{PACKAGE}.plots"} <= graph[f"{PACKAGE}.trainer"]
    assert f"{PACKAGE}.trainer" in graph[f"{PACKAGE}.solver"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None


def test_no_import_cycle_in_train() -> None:
    cycle = find_cycle(import_graph())
    if cycle is not None:
        pytest.fail("import cycle in scratchnn.train: " + " -> ".join(cycle))
