"""A tiny experiment for the machinery's tests: every field type ``--set`` parses, a figure, a log, a report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scratchnn._validate import check_int
from scratchnn.experiments.harness.context import RunContext
from scratchnn.experiments.harness.report import Report, Table
from scratchnn.figures import new_figure


@dataclass(frozen=True)
class Config:
    steps: int = 3  # how many rows to log
    lr: float = 0.5  # a float
    flag: bool = False  # a bool
    label: str = "toy"  # a string
    mode: Literal["a", "b"] = "a"  # a choice
    dims: tuple[int, ...] = (4, 2)  # a variadic tuple
    pair: tuple[float, float] = (0.0, 1.0)  # a fixed-length tuple
    names: list[str] = ("x",)  # type: ignore[assignment]  # a list (a tuple default keeps it frozen-safe)
    limit: int | None = None  # an optional int

    def __post_init__(self) -> None:
        check_int(self.steps, "steps", low=1)


QUICK: dict[str, Any] = {"steps": 2}


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    values = ctx.rng.standard_normal(config.steps)
    for i, v in enumerate(values):
        ctx.log({"step": i + 1, "value": v})
    fig, (ax,) = new_figure()
    ax.plot(values)
    ctx.savefig(fig, "values")
    return {"values": values, "total": float(values.sum()), "nan": float("nan")}


def report(config: Config, results: dict[str, Any]) -> Report:
    rows = [[i + 1, v] for i, v in enumerate(results["values"])]
    return Report(
        title="Toy",
        question="Does the machinery work?",
        setup=f"{config.steps} steps.",
        tables=[Table(["step", "value"], rows)],
        figures=[("values.png", "the values")],
        reading=f"The values sum to {results['total']:.3f}.",
        headline=f"sum {results['total']:.3f}",
    )
