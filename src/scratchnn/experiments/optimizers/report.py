"""Figures and report of the ``optimizers`` experiment (see :mod:`.optimizers`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...figures import new_figure
from ..harness.report import Report, Table
from .run import LABELS, Config

__all__ = ["figures", "plot_curves", "plot_sweep", "report"]


def _smooth(values: list[float], window: int) -> np.ndarray:
    """Moving average over ``window`` steps (shorter at the start), to read noisy per-step losses."""
    v = np.asarray(values, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(v)])
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_curves(config: Config, results: dict[str, Any]) -> Any:
    """Training loss (smoothed per-step minibatch loss) and validation accuracy against steps, best lr each."""
    fig, (ax_loss, ax_acc) = new_figure(2)
    window = max(1, config.steps // 50)
    for name, r in results["best"].items():
        label = f"{LABELS[name]} (lr {r['lr']:g})"
        steps = np.arange(1, len(r["loss"]) + 1)
        (line,) = ax_loss.plot(steps, _smooth(r["loss"], window), label=label, lw=1.2)
        ax_acc.plot(r["val_steps"], r["val_acc"], color=line.get_color(), label=label, lw=1.2)
    ax_loss.set(xlabel="step", ylabel=f"training loss (mean of {window} steps)", yscale="log", title="training loss")
    ax_acc.axhline(config.target_acc, color="grey", ls=":", lw=1)
    ax_acc.set(xlabel="step", ylabel="validation accuracy", title="validation accuracy")
    ax_acc.legend(fontsize=7, loc="lower right")
    return fig


def plot_sweep(config: Config, results: dict[str, Any]) -> Any:
    """Final training loss and best validation accuracy against learning rate; diverged runs as x on top."""
    fig, (ax_loss, ax_acc) = new_figure(2)
    for name in config.optimizers:
        runs = [r for r in results["sweep"] if r["optimizer"] == name]
        ok = [r for r in runs if not r["diverged"]]
        (line,) = ax_loss.plot(
            [r["lr"] for r in ok], [r["final_train_loss"] for r in ok], marker="o", label=LABELS[name]
        )
        ax_acc.plot([r["lr"] for r in ok], [r["best_val_acc"] for r in ok], marker="o", color=line.get_color())
        for r in runs:
            if r["diverged"]:  # at the top of the panel: its loss is off the scale
                ax_loss.plot(
                    r["lr"], 0.97, marker="x", ms=9, color=line.get_color(), transform=ax_loss.get_xaxis_transform()
                )
    ax_loss.set(
        xscale="log",
        yscale="log",
        xlabel="learning rate",
        ylabel="final training loss",
        title="sweep: training loss (x: diverged)",
    )
    ax_acc.set(xscale="log", xlabel="learning rate", ylabel="best validation accuracy", title="sweep: validation")
    ax_loss.legend(fontsize=7, loc="lower left")
    return fig


def _steps(r: dict[str, Any]) -> str:
    return "not reached" if r["steps_to_target"] is None else str(r["steps_to_target"])


def report(config: Config, results: dict[str, Any]) -> Report:
    best = results["best"]
    names = sorted(best, key=lambda n: -best[n]["best_val_acc"])
    data = (
        "Fashion-MNIST"
        if config.dataset == "fashion-mnist"
        else "Synthetic data (a 10-class Gaussian mixture in 64 dimensions with offset, correlated features)"
    )
    rows, diverged_rows = [], []
    for n in names:
        r = best[n]
        lrs = config.lrs(n)
        edge = " (edge)" if len(lrs) > 1 and r["lr"] in (min(lrs), max(lrs)) else ""
        diverged = [f"{s['lr']:g}" for s in results["sweep"] if s["optimizer"] == n and s["diverged"]]
        diverged_rows.append(diverged)
        rows.append(
            [
                LABELS[n],
                f"{r['lr']:g}{edge}",
                r["best_val_acc"],
                _steps(r),
                r["final_train_loss"],
                ", ".join(diverged) or "-",
            ]
        )
    table = Table(
        [
            "optimizer",
            "best lr",
            "best val acc",
            f"steps to {config.target_acc:.0%}",
            "final train loss",
            "diverged lrs",
        ],
        rows,
    )
    top, last = best[names[0]], best[names[-1]]
    reached = [n for n in names if best[n]["steps_to_target"] is not None]
    reading = [
        f"- {LABELS[names[0]]} reaches the best validation accuracy, {top['best_val_acc']:.4f}; "
        f"{LABELS[names[-1]]} the lowest, {last['best_val_acc']:.4f} "
        f"({100 * (top['best_val_acc'] - last['best_val_acc']):.1f} points apart)."
    ]
    # binomial standard error of an accuracy near the top one, on this many validation samples
    se = math.sqrt(top["best_val_acc"] * (1 - top["best_val_acc"]) / results["num_val"])
    close = [n for n in names if top["best_val_acc"] - best[n]["best_val_acc"] <= 2 * se]
    if len(close) > 1:
        reading.append(
            f"- {len(close)} of {len(names)} ({', '.join(LABELS[n] for n in close)}) are within two standard errors "
            f"({200 * se:.1f} points on {results['num_val']:,} validation samples) of the best: by validation "
            f"accuracy they tie at this budget; the steps to {config.target_acc:.0%} and the training loss "
            "separate them more finely."
        )
    if reached:
        fastest = min(reached, key=lambda n: best[n]["steps_to_target"])
        reading.append(
            f"- {len(reached)} of {len(names)} reach {config.target_acc:.0%} validation accuracy within "
            f"{config.steps} steps; {LABELS[fastest]} first, at step {best[fastest]['steps_to_target']} "
            f"(validation is measured every {config.eval_every} steps)."
        )
    else:
        reading.append(f"- None reaches {config.target_acc:.0%} validation accuracy within {config.steps} steps.")
    by_loss = sorted(names, key=lambda n: best[n]["final_train_loss"])
    reading.append(
        f"- The lowest final training loss is {LABELS[by_loss[0]]}'s, {best[by_loss[0]]['final_train_loss']:.4f}; "
        f"the highest {LABELS[by_loss[-1]]}'s, {best[by_loss[-1]]['final_train_loss']:.4f}."
    )
    if "sgd" in best:
        sgd = best["sgd"]["final_train_loss"]
        for n in [n for n in ("momentum", "adam") if n in best]:
            ratio = best[n]["final_train_loss"] / sgd if sgd > 0 else math.inf
            reading.append(
                f"- {LABELS[n]} ends with {ratio:.2f}x plain SGD's training loss ({'lower' if ratio < 1 else 'higher'}"
                f"), {best[n]['final_train_loss']:.4f} against {sgd:.4f}, at the same step budget."
            )
    edges = [LABELS[n] for n in names if "(edge)" in rows[names.index(n)][1]]
    if edges:
        reading.append(
            f"- The best rate of {', '.join(edges)} lies at the edge of its sweep: a rate beyond it might do "
            "better, so that row is a lower bound."
        )
    if any(diverged_rows):
        reading.append(
            f"- {sum(len(d) for d in diverged_rows)} of the {len(results['sweep'])} sweep runs diverged "
            f"(loss non-finite or {config.diverge_factor:g}x its start); they count as failures, not crashes."
        )
    sweeps = "; ".join(f"{LABELS[n]} {', '.join(f'{lr:g}' for lr in config.lrs(n))}" for n in config.optimizers)
    setup = (
        f"{data}: {results['num_train']:,} training and {results['num_val']:,} validation samples "
        f"(disjoint random subsets of the training set). FullyConnectedNet with hidden layers "
        f"{list(config.hidden_dims)}, ReLU, He initialization; every run starts from the same weights and "
        f"sees the same batches of {config.batch_size} for {config.steps} steps. Momentum {config.momentum} "
        f"for SGD+momentum and Nesterov, AdamW's weight decay {config.weight_decay_adamw}, torch's defaults "
        f"otherwise. Learning-rate sweeps: {sweeps}. Each optimizer's row is its rate with the best "
        f"validation accuracy (evaluated every {config.eval_every} steps). The final training loss is the "
        "mean cross-entropy over all training samples after the last step (eval mode)."
    )
    shown = names[:3] + (["sgd"] if "sgd" in names[3:] else [])
    headline = ", ".join(f"{LABELS[n]} {best[n]['best_val_acc']:.3f} ({_steps(best[n])})" for n in shown)
    return Report(
        title="Optimizers on " + ("Fashion-MNIST" if config.dataset == "fashion-mnist" else "synthetic data"),
        question="Given the same network, data, batches and step budget, how fast do SGD, SGD+momentum, Nesterov, "
        "AdaGrad, RMSprop, Adam and AdamW train when each gets its best learning rate from a small sweep?",
        setup=setup,
        tables=[table],
        figures=[
            (
                "curves.png",
                "Training loss and validation accuracy against steps, each optimizer at its best learning rate",
            ),
            ("sweep.png", "Final training loss and best validation accuracy against learning rate (x: diverged)"),
        ],
        reading="\n".join(reading),
        headline=f"best val acc (steps to {config.target_acc:.0%}): {headline}",
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {"curves": plot_curves(config, results), "sweep": plot_sweep(config, results)}
