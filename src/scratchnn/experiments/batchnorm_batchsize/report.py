"""Figures and report of the ``batchnorm-batchsize`` experiment (see :mod:`.batchnorm_batchsize`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...figures import new_figure
from ..common.small_runs import describe_data
from ..harness.report import Report, Table
from .run import Config

__all__ = ["figures", "LABELS", "plot_curves", "plot_final", "report", "batch_spread"]

LABELS = {"none": "no normalization", "batchnorm": "BatchNorm", "layernorm": "LayerNorm"}
COLORS = {"none": "tab:gray", "batchnorm": "tab:blue", "layernorm": "tab:orange"}


def _runs(results: dict[str, Any], norm: str) -> list[dict[str, Any]]:
    return sorted((r for r in results["runs"] if r["normalization"] == norm), key=lambda r: int(r["batch_size"]))


def batch_spread(results: dict[str, Any], norm: str) -> float:
    """max - min of the final validation accuracy of ``norm`` across the batch sizes."""
    accs = [r["final_val_acc"] for r in _runs(results, norm)]
    return float(max(accs) - min(accs))


def plot_curves(config: Config, results: dict[str, Any]) -> Any:
    """Training (top) and validation (bottom) accuracy over epochs, one column per batch size."""
    cols = len(config.batch_sizes)
    fig, axes = new_figure(cols, nrows=2, size=(3.6, 3.0))
    for j, batch_size in enumerate(config.batch_sizes):
        for norm in config.normalizations:
            r = next(r for r in _runs(results, norm) if r["batch_size"] == batch_size)
            for row, key in enumerate(("train_acc", "val_acc")):
                axes[row * cols + j].plot(range(len(r[key])), r[key], color=COLORS[norm], label=LABELS[norm], lw=1.4)
        steps = next(r["steps"] for r in results["runs"] if r["batch_size"] == batch_size)
        axes[j].set(title=f"batch size {batch_size} ({steps} steps)", ylabel="training accuracy")
        axes[cols + j].set(xlabel="epoch (0: after the first step)", ylabel="validation accuracy")
    for ax in axes:
        ax.axhline(0.1, color="grey", ls=":", lw=1)  # chance with 10 classes
    axes[0].legend(fontsize=7, loc="lower right")
    return fig


def plot_final(config: Config, results: dict[str, Any]) -> Any:
    """Final validation (solid) and training (dashed) accuracy against the batch size."""
    fig, (ax,) = new_figure(1, size=(5.5, 4.0))
    for norm in config.normalizations:
        runs = _runs(results, norm)
        sizes = [r["batch_size"] for r in runs]
        ax.plot(
            sizes, [r["final_val_acc"] for r in runs], marker="o", color=COLORS[norm], label=f"{LABELS[norm]} (val)"
        )
        ax.plot(sizes, [r["final_train_acc"] for r in runs], marker=".", ls="--", color=COLORS[norm], lw=1)
    ax.set(
        xscale="log",
        xlabel="batch size",
        ylabel="accuracy after the last epoch",
        title="final accuracy (solid: validation, dashed: training)",
    )
    ax.legend(fontsize=8)
    return fig


def report(config: Config, results: dict[str, Any]) -> Report:
    norms = [n for n in ("none", "batchnorm", "layernorm") if n in config.normalizations]
    rows = [
        [LABELS[n], r["batch_size"], r["steps"], r["final_train_acc"], r["final_val_acc"], r["best_val_acc"]]
        for n in norms
        for r in _runs(results, n)
    ]
    table = Table(["network", "batch size", "steps", "final train acc", "final val acc", "best val acc"], rows)
    reading, tables, headline_parts = [], [table], []
    for n in norms:
        runs = _runs(results, n)
        accs = ", ".join(f"{r['final_val_acc']:.3f} ({r['batch_size']})" for r in runs)
        reading.append(
            f"- {LABELS[n]}: final validation accuracy {accs} (batch size in brackets); spread across batch sizes "
            f"{batch_spread(results, n):.3f}."
        )
        headline_parts.append(f"{LABELS[n]} " + "/".join(f"{r['final_val_acc']:.3f}" for r in runs))
    if "batchnorm" in norms and "layernorm" in norms:
        bn, ln = _runs(results, "batchnorm"), _runs(results, "layernorm")
        diffs = [(b["batch_size"], b["final_val_acc"] - l_["final_val_acc"]) for b, l_ in zip(bn, ln)]
        base = _runs(results, "none") if "none" in norms else None
        diff_rows = []
        for i, (bs, d) in enumerate(diffs):
            diff_rows.append([bs, d] + ([bn[i]["final_val_acc"] - base[i]["final_val_acc"]] if base else []))
        tables.append(
            Table(
                ["batch size", "BatchNorm - LayerNorm (final val acc)"] + (["BatchNorm - none"] if base else []),
                diff_rows,
                caption="The same steps from the same initial weights at each batch size: the difference is the "
                "normalization's.",
            )
        )
        small, d_small = diffs[0]
        best_bn = max(bn, key=lambda r: r["final_val_acc"])
        reading.append(
            f"- At the smallest batch size, {small}, BatchNorm ends {abs(d_small):.3f} "
            f"{'below' if d_small < 0 else 'above'} LayerNorm ({bn[0]['final_val_acc']:.3f} against "
            f"{ln[0]['final_val_acc']:.3f}); BatchNorm's best is {best_bn['final_val_acc']:.3f} at batch size "
            f"{best_bn['batch_size']}, {best_bn['final_val_acc'] - bn[0]['final_val_acc']:.3f} above its batch-{small} "
            "result."
        )
        closest, furthest = max(diffs, key=lambda t: t[1]), min(diffs, key=lambda t: t[1])
        pattern = (
            "the smaller the batch, the further BatchNorm falls behind, as its batch statistics get noisier."
            if all(a[1] <= b[1] for a, b in zip(diffs, diffs[1:]))
            else f"closest at batch size {closest[0]}, furthest at {furthest[0]}."
        )
        behind = sum(d < 0 for _, d in diffs)
        reading.append(
            "- BatchNorm minus LayerNorm by batch size: "
            + ", ".join(f"{d:+.3f} ({bs})" for bs, d in diffs)
            + f". BatchNorm is behind at {behind} of {len(diffs)} batch sizes; {pattern}"
        )
        s_bn, s_ln = batch_spread(results, "batchnorm"), batch_spread(results, "layernorm")
        reading.append(
            f"- Across batch sizes BatchNorm's final validation accuracy spreads over {s_bn:.3f}, LayerNorm's over "
            f"{s_ln:.3f}"
            + (
                f" ({s_ln / s_bn:.2f}x): LayerNorm, which never looks across the batch, depends less on it."
                if s_bn > 0 and s_ln < s_bn
                else "."
            )
        )
        headline_parts.insert(0, f"BN - LN at batch {small}: {d_small:+.3f}")
    steps = {r["batch_size"]: r["steps"] for r in results["runs"]}
    lo, hi = min(steps), max(steps)
    reading.append(
        f"- With {config.num_epochs} epochs for every batch size, batch size {lo} takes {steps[lo]} steps and "
        f"{hi} only {steps[hi]}: every network is less trained at large batches (the course's protocol), so "
        "compare networks at one batch size rather than one network across them."
    )
    diverged = [r for r in results["runs"] if r["diverged"]]
    if diverged:
        reading.append(
            "- Diverged (overflow; reported, not raised): "
            + ", ".join(
                f"{LABELS[r['normalization']]} at batch {r['batch_size']} ({r['diverged']} of {config.repeats})"
                for r in diverged
            )
            + "."
        )
    if config.repeats > 1:
        stds = [r["final_val_acc_std"] for r in results["runs"]]
        worst = max(results["runs"], key=lambda r: r["final_val_acc_std"])
        reading.append(
            f"- Across the {config.repeats} repeats the final validation accuracy of one setting varies with a "
            f"standard deviation of {float(np.median(stds)):.3f} (median; at most {worst['final_val_acc_std']:.3f}, "
            f"{LABELS[worst['normalization']]} at batch {worst['batch_size']})."
        )
    init = "He (std sqrt(2 / fan_in))" if config.weight_init == "he" else f"N(0, {config.weight_scale:g}^2)"
    setup = (
        describe_data(
            config.dataset, results["num_train"], results["num_val"], results["input_dim"], config.synthetic_noise
        )
        + f" FullyConnectedNet with hidden layers {list(config.hidden_dims)} (ReLU), {init} initial weights, "
        "with BatchNorm, with LayerNorm (both after every hidden affine layer) or neither. At each batch size "
        f"({', '.join(str(b) for b in config.batch_sizes)}) the networks start from the same weights and see the "
        f"same batches. The course's Solver: Adam, lr {config.lr:.3g}, {config.num_epochs} epochs. Accuracies in "
        "eval mode (BatchNorm with its running statistics) on all training and validation samples, after the "
        "first step and after each epoch."
        + (
            f" Every number is the mean of {config.repeats} repeats with different initial weights and batch orders."
            if config.repeats > 1
            else ""
        )
    )
    data = "Fashion-MNIST" if config.dataset == "fashion-mnist" else "synthetic data"
    sizes = "/".join(str(b) for b in sorted(config.batch_sizes))
    return Report(
        title=f"BatchNorm against LayerNorm across batch sizes on {data}",
        question="How does BatchNorm's training depend on the batch size, and does LayerNorm, which normalizes each "
        "sample on its own, escape that dependence?",
        setup=setup,
        tables=tables,
        figures=[
            ("curves.png", "Training (top) and validation (bottom) accuracy over epochs at each batch size"),
            ("final.png", "Accuracy after the last epoch against the batch size"),
        ],
        reading="\n".join(reading),
        headline=f"final val acc at batch {sizes}: " + "; ".join(headline_parts),
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {"curves": plot_curves(config, results), "final": plot_final(config, results)}
