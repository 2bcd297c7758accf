"""Metrics on scores and labels, and the running means the Trainer keeps over an epoch.

A metric is ``fn(scores, y) -> float``, the mean over the batch. The Trainer records metric
``name`` as ``train_<short>`` and ``val_<short>`` where ``short`` is ``acc`` for ``'accuracy'``
and the name itself otherwise (so the history has the familiar ``train_acc`` / ``val_acc``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from tqdm import tqdm

from .._validate import invalid_shape, invalid_type, invalid_value

__all__ = ["accuracy", "METRICS", "resolve_metrics", "RunningMean", "format_entry", "epoch_bar"]

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose highest score is at the label (ties go to the first, as argmax).

    Shape:
        scores: (N, C);  y: (N,)
    """
    if scores.ndim != 2:
        raise invalid_shape("scores", "(N, C)", scores.shape)
    if y.shape != (scores.shape[0],):
        raise invalid_shape("y", f"({scores.shape[0]},) to match the scores", y.shape)
    return float(np.mean(np.argmax(scores, axis=1) == y))


METRICS: dict[str, Metric] = {"accuracy": accuracy}
_SHORT = {"accuracy": "acc"}


def resolve_metrics(metrics: Iterable[str | Metric]) -> list[tuple[str, str, Metric]]:
    """``('accuracy', f)`` -> ``[('accuracy', 'acc', accuracy), ('f', 'f', f)]``: name, history key, function."""
    if isinstance(metrics, str):
        raise invalid_type("metrics", "a sequence of metric names or callables (e.g. ('accuracy',))", metrics)
    out: list[tuple[str, str, Metric]] = []
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise invalid_value("metrics", "names from " + ", ".join(repr(k) for k in METRICS), m)
            out.append((m, _SHORT.get(m, m), METRICS[m]))
        elif callable(m):
            name = getattr(m, "__name__", type(m).__name__)
            out.append((name, name, m))
        else:
            raise invalid_type("metrics", "metric names or callables fn(scores, y) -> float", m)
    names = [n for n, _, _ in out]
    if len(set(names)) != len(names):
        raise invalid_value("metrics", "metrics with distinct names", names)
    return out


class RunningMean:
    """Sample-weighted means of several named values over batches (the epoch's train loss, ...)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def update(self, values: dict[str, float], n: int) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v) * n
        self.count += n

    def means(self) -> dict[str, float]:
        return {k: s / self.count for k, s in self.sums.items()} if self.count else {}

    def state_dict(self) -> dict[str, Any]:
        return {"sums": dict(self.sums), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sums = {k: float(v) for k, v in state["sums"].items()}
        self.count = int(state["count"])


def format_entry(entry: dict[str, Any], epochs: int) -> str:
    """One history entry as a log line: ``Epoch 3/10 - step 120 - train_loss 0.4312 - ... - lr 0.001 - 0.8s``."""
    parts = [
        f"Epoch {entry['epoch']}/{epochs}" + (" (partial)" if entry.get("partial") else ""),
        f"step {entry['step']}",
    ]
    parts += [f"{k} {v:.4f}" for k, v in entry.items() if k.startswith(("train_", "val_")) and isinstance(v, float)]
    parts += [f"lr {entry['lr']:.3g}", f"{entry['time']:.1f}s"]
    return " - ".join(parts)


def epoch_bar(total: int, initial: int, desc: str, verbose: bool) -> tqdm[Any]:
    """The progress bar of one epoch's batches, on stderr, shown only when ``verbose`` on a terminal."""
    disable = not (verbose and sys.stderr.isatty())
    return tqdm(total=total, initial=initial, desc=desc, leave=False, file=sys.stderr, disable=disable)
