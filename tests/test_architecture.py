"""The layers of the package (README "Architecture"), checked by parsing every import of every module.

Data flows one way: ops <- nn <- models/optim <- train <- analysis <- recipes/experiments <- cli.
A module may import its own layer and the layers below it, never above; siblings on one floor never
import each other (models and optim, recipes and experiments, one experiment folder and another);
and no chain of imports, type-only ones included, leads back to where it started.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import scratchnn

SRC = Path(scratchnn.__file__).parent

# the floor of each top-level module or subpackage of scratchnn; a module may import only its floor and below
FLOORS: dict[str, int] = {
    "_config": 0,
    "_numerics": 0,
    "_threads": 0,  # intra-op threads: blocks of an op on a few threads, and the BLAS held at one meanwhile
    "_validate": 0,
    "_version": 0,
    "serialization": 0,
    "figures": 0,  # matplotlib drawings of arrays; the Trainer saves training curves with it
    "data": 0,
    "text": 0,  # tokenizer, batching, ROUGE: beside data, below ops (NumPy, tokenizers, rouge-score)
    "ops": 1,
    "nn": 2,
    "models": 3,
    "optim": 3,
    "train": 4,
    "gradcheck": 4,  # its rows build modules and models
    "analysis": 5,
    "recipes": 6,
    "experiments": 6,
    "cli": 7,
    "__main__": 8,
}
# the root __init__ gathers every subpackage (scratchnn.optim after a plain `import scratchnn`): above all floors
ROOT = "scratchnn"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> Iterator[str]:
    """Every scratchnn module ``name`` imports, anywhere in the file (functions and TYPE_CHECKING blocks too)."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import nn` names a submodule; `from .x import y` the module x
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # `import scratchnn.nn.init` -> scratchnn.nn.init
                target = target.rpartition(".")[0]
            if target.startswith("scratchnn") and target != name:
                yield target


GRAPH = {name: sorted(set(_imports(name))) for name in MODULES}


def _top(name: str) -> str:
    return name.split(".")[1] if "." in name else ROOT


def test_every_module_has_a_floor() -> None:
    tops = {_top(name) for name in MODULES} - {ROOT}
    assert tops <= set(FLOORS), f"place these in FLOORS (and in README's Architecture): {sorted(tops - set(FLOORS))}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_only_its_floor_and_below(name: str) -> None:
    top = _top(name)
    if top == ROOT:
        return
    for target in GRAPH[name]:
        other = _top(target)
        assert other != ROOT, f"{name} imports the package root {target}: import the submodule it needs"
        if other == top:
            continue
        assert FLOORS[other] < FLOORS[top] or (FLOORS[other] == FLOORS[top] == 0), (
            f"{name} (floor {FLOORS[top]}, {top}) imports {target} (floor {FLOORS[other]}, {other}): "
            "data flows ops <- nn <- models/optim <- train <- analysis <- recipes/experiments <- cli"
        )


EXPERIMENT_SHARED = {"harness", "common"}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("scratchnn.experiments.")))
def test_experiments_import_no_other_experiment_and_not_the_runner(name: str) -> None:
    folder = name.split(".")[2]
    for target in GRAPH[name]:
        if not target.startswith("scratchnn.experiments."):
            continue
        other = target.split(".")[2]
        if folder in EXPERIMENT_SHARED:
            continue
        assert other == folder or other in EXPERIMENT_SHARED, f"experiment {folder} imports experiment {other}"
        if other == "harness":
            assert target.split(".")[3] in ("context", "report"), (
                f"{name} imports {target}: an experiment imports only harness.context and harness.report "
                "(the runner and the registry import the experiments)"
            )


def _cycle() -> list[str] | None:
    """One import cycle between scratchnn's modules, or None (depth-first search, white/grey/black)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in GRAPH[node]:
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in GRAPH:
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_sees_relative_lazy_and_type_only_imports() -> None:
    """The parser itself: a function-level relative import and a TYPE_CHECKING one are both edges."""
    assert "scratchnn.figures.history" in GRAPH["scratchnn.train.trainer"]  # imported inside a method
    assert "scratchnn.experiments.harness.registry" in GRAPH["scratchnn.experiments.harness.runner"]
    assert "scratchnn.nn" in GRAPH["scratchnn.gradcheck.rows.dense"]  # `from ... import nn, ops`
