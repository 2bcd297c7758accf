"""A toy experiment whose runs go through ``ctx.map``: for the runner's sweep, resume and backend tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from scratchnn.experiments.harness.context import RunContext
from scratchnn.experiments.harness.report import Report, Table


@dataclass(frozen=True)
class Config:
    n: int = 4  # runs in the sweep
    fail_key: str = ""  # the run that raises while the file `fail_marker` exists
    fail_marker: str = ""
    counter: str = ""  # a file each finished run appends its key to ("" for none)


QUICK: dict[str, Any] = {"n": 3}


def noisy_sum(key: str, seed: int, config: Config) -> dict[str, Any]:
    """One run: a seeded matmul's sum (BLAS work whose result must not depend on where it ran)."""
    if key == config.fail_key and os.path.exists(config.fail_marker):
        raise RuntimeError(f"run {key} fails while {config.fail_marker} exists")
    a = np.random.default_rng(seed).standard_normal((64, 64))
    value = float((a @ a.T).sum())
    if config.counter:
        with open(config.counter, "a") as f:
            f.write(key + "\n")
    return {"key": key, "value": value, "overflow": float("inf")}


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    seeds = ctx.rng.integers(2**31, size=config.n)
    tasks = {f"x{i}": {"key": f"x{i}", "seed": int(s), "config": config} for i, s in enumerate(seeds)}
    runs = ctx.map(noisy_sum, tasks)
    for r in runs:
        ctx.log({"key": r["key"], "value": r["value"]})
    return {"runs": runs, "total": sum(r["value"] for r in runs)}


def report(config: Config, results: dict[str, Any]) -> Report:
    rows = [[r["key"], r["value"]] for r in results["runs"]]
    return Report(
        title="Toy sweep",
        question="Do sweeps run, fail and resume?",
        setup=f"{config.n} runs.",
        tables=[Table(["run", "value"], rows)],
        figures=[],
        reading=f"The values sum to {results['total']:.6g}.",
    )
