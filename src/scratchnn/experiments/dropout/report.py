"""Figure and report of the ``dropout`` experiment (see :mod:`.dropout`)."""

from __future__ import annotations

import math
from typing import Any

from ...figures import new_figure
from ..common.small_runs import describe_data
from ..harness.report import Report, Table
from .run import Config

__all__ = ["figures", "plot_curves", "report"]


def plot_curves(config: Config, results: dict[str, Any]) -> Any:
    """Training (dashed) and validation (solid) accuracy over epochs, and their gap, one colour per p."""
    fig, (ax_acc, ax_gap) = new_figure(2, size=(5.2, 4.0))
    for r in results["runs"]:
        epochs = range(len(r["train_acc"]))
        (line,) = ax_acc.plot(epochs, r["val_acc"], lw=1.5, label=f"p = {r['p']:g}")
        ax_acc.plot(epochs, r["train_acc"], lw=1.2, ls="--", color=line.get_color())
        ax_gap.plot(epochs, r["gap"], lw=1.5, color=line.get_color(), label=f"p = {r['p']:g}")
    ax_acc.set(
        xlabel="epoch (0: after the first step)",
        ylabel="accuracy",
        title="training (dashed) and validation (solid) accuracy",
    )
    ax_gap.axhline(0.0, color="grey", ls=":", lw=1)
    ax_gap.set(
        xlabel="epoch (0: after the first step)", ylabel="training - validation accuracy", title="generalization gap"
    )
    ax_acc.legend(fontsize=8, loc="lower right")
    return fig


def _gap_cell(r: dict[str, Any], repeats: int) -> str:
    return f"{r['final_gap']:.3f}" + (f" ± {r['final_gap_std']:.3f}" if repeats > 1 else "")


def report(config: Config, results: dict[str, Any]) -> Report:
    runs = sorted(results["runs"], key=lambda r: r["p"])
    reps = config.repeats
    rows = [
        [
            f"{r['p']:g}",
            r["final_train_acc"],
            r["final_val_acc"],
            _gap_cell(r, reps),
            r["best_val_acc"],
            "not reached" if r["level_epoch"] is None else str(r["level_epoch"]),
        ]
        for r in runs
    ]
    table = Table(
        [
            "p (drop probability)",
            "final train acc",
            "final val acc",
            "final gap (train - val)" + (" mean ± std" if reps > 1 else ""),
            "best val acc",
            f"first epoch with train acc >= {config.train_level:g}",
        ],
        rows,
    )
    first, last = runs[0], runs[-1]
    gaps = [r["final_gap"] for r in runs]
    monotone = all(a > b for a, b in zip(gaps, gaps[1:]))
    reading = [
        f"- The final generalization gap goes from {first['final_gap']:.3f} at p = {first['p']:g} to "
        f"{last['final_gap']:.3f} at p = {last['p']:g} ("
        + ", ".join(f"{r['final_gap']:.3f} at {r['p']:g}" for r in runs)
        + "): "
        + ("it shrinks with every step up in p." if monotone else "not monotone in p on this run.")
    ]
    if reps > 1:
        reading.append(
            f"- Over the {reps} repeats the final gap varies by a standard deviation of "
            f"{max(r['final_gap_std'] for r in runs):.3f} at most, against a difference of "
            f"{abs(first['final_gap'] - last['final_gap']):.3f} between the extremes."
        )
    d_train = last["final_train_acc"] - first["final_train_acc"]
    d_val = last["final_val_acc"] - first["final_val_acc"]
    how = (
        "mostly by holding the training accuracy down"
        if abs(d_train) > abs(d_val)
        else "mostly by raising the validation accuracy"
    )
    reading.append(
        f"- From p = {first['p']:g} to p = {last['p']:g} the final training accuracy changes by {d_train:+.3f} and "
        f"the validation accuracy by {d_val:+.3f}: dropout narrows the gap {how}."
    )
    best = max(runs, key=lambda r: r["final_val_acc"])
    bests = ", ".join(f"{r['best_val_acc']:.3f} (p = {r['p']:g})" for r in runs)
    if best is first:
        reading.append(
            f"- Without dropout the final validation accuracy is the highest, {first['final_val_acc']:.3f} (p = "
            f"{last['p']:g}: {d_val:+.3f}): here dropout narrows the gap without raising validation accuracy. "
            f"Best validation accuracy during training: {bests}."
        )
    else:
        reading.append(
            f"- The highest final validation accuracy is p = {best['p']:g}'s, {best['final_val_acc']:.3f} "
            f"({best['final_val_acc'] - first['final_val_acc']:+.3f} against p = {first['p']:g}). Best validation "
            f"accuracy during training: {bests}."
        )
    epochs = [math.inf if r["level_epoch"] is None else r["level_epoch"] for r in runs]
    if all(e == math.inf for e in epochs):
        reading.append(
            f"- Training accuracy reaches {config.train_level:g} with no p within {config.num_epochs} epochs."
        )
    else:
        delayed = all(a <= b for a, b in zip(epochs, epochs[1:])) and epochs[-1] > epochs[0]
        reading.append(
            f"- Training accuracy first reaches {config.train_level:g} "
            + ", ".join(
                f"at epoch {r['level_epoch']} with p = {r['p']:g}"
                if r["level_epoch"] is not None
                else f"not within {config.num_epochs} epochs with p = {r['p']:g}"
                for r in runs
            )
            + (": dropout slows the fitting of the training set." if delayed else ".")
        )
    diverged = sum(r["diverged"] for r in runs)
    if diverged:
        reading.append(f"- {diverged} run(s) overflowed and stopped early (reported, not raised).")
    init = "He (std sqrt(2 / fan_in))" if config.weight_init == "he" else f"N(0, {config.weight_scale:g}^2)"
    setup = (
        describe_data(
            config.dataset, results["num_train"], results["num_val"], results["input_dim"], config.synthetic_noise
        )
        + f" FullyConnectedNet with hidden layers {list(config.hidden_dims)} (ReLU), {init} initial weights, "
        f"inverted dropout with drop probability p in {{{', '.join(f'{p:g}' for p in config.ps)}}} after each hidden "
        f"layer (fresh masks every step). The course's Solver: Adam, lr {config.lr:g}, batch {config.batch_size}, "
        f"{config.num_epochs} epochs. Accuracies in eval mode (no dropout) on all training and validation samples, "
        "after the first step and after each epoch"
        + (
            f"; each p trains {reps} times (different initial weights, masks and batch orders, shared across p), "
            "and the curves and table are the means."
            if reps > 1
            else "."
        )
    )
    data = "Fashion-MNIST" if config.dataset == "fashion-mnist" else "synthetic data"
    ps = "/".join(f"{r['p']:g}" for r in runs)
    return Report(
        title=f"Dropout and the generalization gap on a small {data} subset",
        question=f"On a training set small enough to memorize ({results['num_train']} samples), how do training "
        "accuracy, validation accuracy and the gap between them move with the dropout probability p?",
        setup=setup,
        tables=[table],
        figures=[("curves.png", "Accuracy over epochs (dashed: training, solid: validation) and the gap, by p")],
        reading="\n".join(reading),
        headline=f"p = {ps}: final train - val gap "
        + "/".join(f"{r['final_gap']:.3f}" for r in runs)
        + ", final val acc "
        + "/".join(f"{r['final_val_acc']:.3f}" for r in runs),
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {"curves": plot_curves(config, results)}
