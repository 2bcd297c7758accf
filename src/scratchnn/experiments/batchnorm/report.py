"""Figure and report of the ``batchnorm`` experiment (see :mod:`.batchnorm`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...figures import new_figure
from ..common.small_runs import describe_data
from ..harness.report import Report, Table
from .run import Config

__all__ = ["figures", "LABELS", "plot_sweep", "report", "spread", "good_scales"]

LABELS = {"none": "baseline (no normalization)", "batchnorm": "BatchNorm"}
SHORT = {"none": "baseline", "batchnorm": "BatchNorm"}
#: a weight scale "works" for a network when its best validation accuracy is within this fraction of the
#: best of all runs (both networks)
GOOD_FRACTION = 0.9


def spread(runs: list[dict[str, Any]], key: str = "best_val_acc") -> float:
    """max - min of ``key`` across the weight scales."""
    values = [r[key] for r in runs]
    return float(max(values) - min(values))


def good_scales(results: dict[str, Any], norm: str) -> list[float]:
    """The weight scales at which ``norm``'s best val acc is at least GOOD_FRACTION x the best of all runs."""
    top = max(r["best_val_acc"] for runs in results["runs"].values() for r in runs)
    return [r["weight_scale"] for r in results["runs"][norm] if r["best_val_acc"] >= GOOD_FRACTION * top]


def plot_sweep(config: Config, results: dict[str, Any]) -> Any:
    """Best validation accuracy, best training accuracy and final training loss against the weight scale."""
    fig, axes = new_figure(3, size=(4.6, 3.8))
    panels = (
        ("best_val_acc", "best validation accuracy"),
        ("best_train_acc", "best training accuracy"),
        ("final_train_loss", "final training loss"),
    )
    for ax, (key, title) in zip(axes, panels):
        for norm, style in (("none", dict(marker="o", ls="--")), ("batchnorm", dict(marker="s", ls="-"))):
            runs = results["runs"][norm]
            ok = [r for r in runs if math.isfinite(r[key])]
            (line,) = ax.plot([r["weight_scale"] for r in ok], [r[key] for r in ok], label=LABELS[norm], **style)
            for r in runs:
                if not math.isfinite(r[key]):  # a diverged run's loss: x at the top of the panel
                    ax.plot(
                        r["weight_scale"],
                        0.97,
                        marker="x",
                        ms=9,
                        color=line.get_color(),
                        transform=ax.get_xaxis_transform(),
                    )
        ax.set(xscale="log", xlabel="weight scale (std of the initial weights)", title=title)
        if key == "final_train_loss":
            ax.set(yscale="log")
        else:
            ax.axhline(0.1, color="grey", ls=":", lw=1)  # chance with 10 classes
    axes[0].legend(fontsize=8, loc="lower center")
    return fig


def _decades(scales: list[float]) -> str:
    if not scales:
        return "none"
    lo, hi = min(scales), max(scales)
    return f"{len(scales)} scales, {lo:.2g} to {hi:.2g} ({np.log10(hi / lo):.1f} decades)"


def report(config: Config, results: dict[str, Any]) -> Report:
    runs = results["runs"]
    n = len(results["weight_scales"])
    rows = []
    for i, scale in enumerate(results["weight_scales"]):
        base, bn = runs["none"][i], runs["batchnorm"][i]
        rows.append(
            [f"{scale:.3g}"]
            + [r["best_val_acc"] for r in (base, bn)]
            + [r["best_train_acc"] for r in (base, bn)]
            + [r["final_train_loss"] for r in (base, bn)]
        )
    table = Table(
        [
            "weight scale",
            "best val acc (baseline)",
            "best val acc (BatchNorm)",
            "best train acc (baseline)",
            "best train acc (BatchNorm)",
            "final train loss (baseline)",
            "final train loss (BatchNorm)",
        ],
        rows,
    )
    reading = []
    stats = {}
    for norm in ("none", "batchnorm"):
        vals = [r["best_val_acc"] for r in runs[norm]]
        best = runs[norm][int(np.argmax(vals))]
        stats[norm] = (min(vals), max(vals), spread(runs[norm]), best["weight_scale"])
        reading.append(
            f"- {LABELS[norm]}: best validation accuracy {min(vals):.3f} to {max(vals):.3f} across the {n} weight "
            f"scales (spread {stats[norm][2]:.3f}), highest at scale {best['weight_scale']:.3g}."
        )
    s_base, s_bn = stats["none"][2], stats["batchnorm"][2]
    ratio = s_bn / s_base if s_base > 0 else math.inf
    reading.append(
        f"- BatchNorm's spread is {ratio:.2f}x the baseline's: "
        + (
            "the weight scale matters far less with BatchNorm."
            if ratio < 0.5
            else "less sensitive, but not by a factor of two."
            if ratio < 1
            else "on this run BatchNorm is not less sensitive to the weight scale."
        )
    )
    top = max(stats["none"][1], stats["batchnorm"][1])
    reading.append(
        f"- Scales within {GOOD_FRACTION:.0%} of the best accuracy of all runs ({top:.3f}): "
        f"baseline {_decades(good_scales(results, 'none'))}; BatchNorm {_decades(good_scales(results, 'batchnorm'))}."
    )
    for i, where in ((0, "smallest"), (-1, "largest")):
        base, bn = runs["none"][i], runs["batchnorm"][i]
        reading.append(
            f"- At the {where} scale ({base['weight_scale']:.3g}) the baseline reaches {base['best_val_acc']:.3f} "
            f"validation accuracy with a final training loss of {base['final_train_loss']:.4g}; BatchNorm "
            f"{bn['best_val_acc']:.3f} and {bn['final_train_loss']:.4g}."
        )
    bn_last, bn_top = runs["batchnorm"][-1], stats["batchnorm"][1]
    if bn_last["best_val_acc"] < GOOD_FRACTION * bn_top:
        reading.append(
            f"- BatchNorm also loses accuracy at the largest scale ({bn_last['best_val_acc']:.3f} against its best "
            f"{bn_top:.3f}; best training accuracy {bn_last['best_train_acc']:.3f}: it underfits). Its forward pass "
            "ignores the scale s of the hidden weights, but Adam moves each weight by about lr per step whatever s, "
            f"a relative change of about lr / s ({config.lr:g} / {bn_last['weight_scale']:.3g} here), and the output "
            "layer, which nothing normalizes, starts with weights of std s."
        )
    both = [(a, b) for a, b in zip(runs["none"], runs["batchnorm"])]
    bn_wins = sum(b["best_val_acc"] > a["best_val_acc"] for a, b in both)
    reading.append(f"- BatchNorm has the higher best validation accuracy at {bn_wins} of the {n} scales.")
    gaps = {norm: max(r["best_train_acc"] - r["best_val_acc"] for r in runs[norm]) for norm in runs}
    reading.append(
        f"- The largest gap between best training and best validation accuracy: baseline {gaps['none']:.3f}, "
        f"BatchNorm {gaps['batchnorm']:.3f} (on {results['num_train']:,} training samples both can overfit)."
    )
    diverged = [(norm, r) for norm in runs for r in runs[norm] if r["diverged"]]
    if diverged:
        reading.append(
            "- Diverged (overflow; reported, not raised): "
            + ", ".join(
                f"{SHORT[n]} at scale {r['weight_scale']:.3g} ({r['diverged']} of {config.repeats}, first at step "
                f"{r['diverged_step']})"
                for n, r in diverged
            )
            + "."
        )
    if config.repeats > 1:
        stds = [r["best_val_acc_std"] for norm in runs for r in runs[norm]]
        reading.append(
            f"- Across the {config.repeats} repeats the best validation accuracy of one setting varies with a standard "
            f"deviation of {float(np.median(stds)):.3f} (median over settings; at most {max(stds):.3f})."
        )
    setup = (
        describe_data(
            config.dataset, results["num_train"], results["num_val"], results["input_dim"], config.synthetic_noise
        )
        + f" FullyConnectedNet with hidden layers {list(config.hidden_dims)} (ReLU), weights N(0, s^2) at {n} "
        f"scales s from {config.min_weight_scale:g} to {config.max_weight_scale:g} (log grid), biases 0; "
        "without normalization and with BatchNorm (gamma 1, beta 0; running statistics for evaluation) after every "
        "hidden affine layer. At each scale both start from the same standard-normal draws and see the same batches. "
        f"The course's Solver: Adam, lr {config.lr:g}, batch {config.batch_size}, {config.num_epochs} epochs. "
        "Accuracies in eval mode on all training and validation samples after the first step and after each epoch; "
        f"the final training loss is the mean minibatch loss of the last {config.loss_window} steps."
        + (
            f" Every number is the mean of {config.repeats} repeats with different draws and batch orders."
            if config.repeats > 1
            else ""
        )
    )
    data = "Fashion-MNIST" if config.dataset == "fashion-mnist" else "synthetic data"
    headline = (
        f"best val acc over {n} weight scales {config.min_weight_scale:g} to {config.max_weight_scale:g}: "
        f"BatchNorm {stats['batchnorm'][0]:.3f} to {stats['batchnorm'][1]:.3f} (spread {s_bn:.3f}), "
        f"baseline {stats['none'][0]:.3f} to {stats['none'][1]:.3f} (spread {s_base:.3f}; ratio {ratio:.2f}); "
        f"within {GOOD_FRACTION:.0%} of the best: BatchNorm {len(good_scales(results, 'batchnorm'))}, "
        f"baseline {len(good_scales(results, 'none'))} scales"
    )
    return Report(
        title=f"BatchNorm and the weight scale: an 8-layer network on {data}",
        question="How sensitive is a deep network's training to the scale of its initial weights, with and without "
        "BatchNorm?",
        setup=setup,
        tables=[table],
        figures=[
            (
                "sweep.png",
                "Best validation accuracy, best training accuracy and final training loss against the weight scale, "
                "with and without BatchNorm (x: diverged; dotted: chance)",
            )
        ],
        reading="\n".join(reading),
        headline=headline,
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {"sweep": plot_sweep(config, results)}
