"""Figures and report of the ``autoencoder-bottleneck`` experiment (see :mod:`.run`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...figures import new_figure
from ..harness.report import Report, Table
from .run import Config

__all__ = ["figures", "report", "PUBLISHED", "final_probe", "curves"]

#: the course project's table: mean final probe accuracy (%) of linear autoencoders over 3 repeats
PUBLISHED: dict[int, dict[str, float]] = {
    5: {"vanilla": 65.0, "denoising": 65.2, "masked": 67.6},
    20: {"vanilla": 98.6, "denoising": 98.6, "masked": 98.4},
    100: {"vanilla": 98.6, "denoising": 98.6, "masked": 98.5},
    500: {"vanilla": 98.9, "denoising": 98.9, "masked": 99.1},
}
STYLE = {"vanilla": "-", "denoising": "--", "masked": ":"}


def curves(results: dict[str, Any], b: int, kind: str, key: str) -> np.ndarray:
    """``key`` per epoch for every seed of (bottleneck ``b``, ``kind``).  Shape: (seeds, epochs)."""
    return np.array([[h[key] for h in hist] for hist in results["runs"][str(b)][kind]], dtype=float)


def final_probe(results: dict[str, Any], b: int, kind: str) -> float:
    """Mean over seeds of the last epoch's probe test accuracy, in %."""
    return float(100 * curves(results, b, kind, "probe_acc")[:, -1].mean())


def _ref(results: dict[str, Any], what: str, size: int | None = None) -> float:
    refs = results["references"]
    vals = [r[what] if size is None else r[what][str(size)] for r in refs]
    return float(np.mean(vals))


def plot_curves(config: Config, results: dict[str, Any], key: str, label: str) -> Any:
    """``key`` per epoch, one panel per bottleneck, a line per kind (mean) and its min/max band over seeds."""
    bs = results["bottlenecks"]
    fig, axes = new_figure(len(bs), size=(3.6, 3.2))
    for ax, b in zip(axes, bs):
        for kind in results["kinds"]:
            c = curves(results, b, kind, key) * (100 if key == "probe_acc" else 1)  # (seeds, epochs)
            epochs = np.arange(1, c.shape[1] + 1)
            (line,) = ax.plot(epochs, c.mean(axis=0), STYLE[kind], label=kind)
            ax.fill_between(epochs, c.min(axis=0), c.max(axis=0), color=line.get_color(), alpha=0.2, lw=0)
        if key == "val_loss":
            ax.set_yscale("log")
            if b < config.dim:  # at b >= dim PCA keeps everything: loss 0, off a log axis
                ax.axhline(_ref(results, "pca_val_loss", b), color="grey", ls="-.", lw=1, label=f"PCA-{b}")
        else:
            ax.axhline(100 * _ref(results, "pca", config.k), color="grey", ls="-.", lw=1, label=f"PCA-{config.k}")
            ax.axhline(100 * _ref(results, "raw"), color="k", ls=":", lw=1, label="raw input")
        ax.set(xlabel="epoch", title=f"bottleneck {b}", ylabel=label)
    axes[0].legend(fontsize=8)
    return fig


def report(config: Config, results: dict[str, Any]) -> Report:
    bs, kinds = results["bottlenecks"], results["kinds"]
    rows = []
    for b in bs:
        row: list[Any] = [b]
        for kind in kinds:
            pub = PUBLISHED.get(b, {}).get(kind)
            row.append(f"{final_probe(results, b, kind):.1f}" + ("" if pub is None else f" / {pub:.1f}"))
        row.append(f"{100 * _ref(results, 'pca', b):.1f}" if str(b) in results["references"][0]["pca"] else "-")
        rows.append(row)
    table = Table(
        ["bottleneck"] + [f"{kind} (measured / published)" for kind in kinds] + ["PCA-b probe"],
        rows,
        caption="Mean final probe test accuracy (%) over seeds; published: the course project's linear autoencoders, "
        "3 repeats.",
    )
    raw, pk = 100 * _ref(results, "raw"), 100 * _ref(results, "pca", config.k)
    ref_table = Table(["reference", "probe accuracy (%)"], [["raw input", f"{raw:.1f}"],
                                                             [f"PCA-{config.k}", f"{pk:.1f}"]])  # fmt: skip
    loss_rows = []
    for b in bs:
        pca_loss: Any = _ref(results, "pca_val_loss", b) if b < config.dim else "0 (the identity)"
        loss_rows.append(
            [b] + [float(curves(results, b, kind, "val_loss")[:, -1].mean()) for kind in kinds] + [pca_loss]
        )
    loss_table = Table(
        ["bottleneck"] + kinds + ["PCA-b (optimum)"],
        loss_rows,
        caption="Final validation reconstruction loss (1/N) ||X - X_hat||^2, mean over seeds.",
    )
    reading = []
    lo, k_b = min(bs), config.k if config.k in bs else None
    if k_b is not None and lo < k_b:
        gain = np.mean([final_probe(results, k_b, kd) - final_probe(results, lo, kd) for kd in kinds])
        reading.append(
            f"- A bottleneck of {lo}, below the subspace's k = {config.k}, loses {gain:.1f} points of probe accuracy "
            f"against bottleneck {k_b}: the label is the sign of a sum over all {config.k} high-variance coordinates, "
            f"and {lo} directions of that subspace carry only part of it. The subspace is isotropic, so which {lo} "
            f"directions a model keeps is arbitrary: the label direction keeps a fraction rho^2 of its variance, "
            f"{lo}/{config.k} on average, and the best linear readout then scores 1 - arccos(rho)/pi, "
            f"about {100 * (1 - np.arccos(np.sqrt(lo / config.k)) / np.pi):.1f}% at rho^2 = {lo}/{config.k} "
            "(it varies from seed to seed with the subspace drawn)."
        )
    reading.append(
        f"- References: the probe on the raw {config.dim}-dimensional input scores {raw:.1f}%, on the top-{config.k} "
        f"principal components {pk:.1f}%."
    )
    diffs = [final_probe(results, b, kd) - PUBLISHED[b][kd] for b in bs if b in PUBLISHED for kd in kinds]
    if diffs:
        reading.append(
            f"- Against the published table: differences from {min(diffs):+.1f} to {max(diffs):+.1f} points "
            f"({len(diffs)} cells)."
        )
    spread = max(float(np.ptp(100 * curves(results, b, kd, "probe_acc")[:, -1])) for b in bs for kd in kinds)
    reading.append(
        f"- The largest spread (max - min) of final probe accuracy over the seeds of one cell: {spread:.1f} points."
    )
    setup = (
        f"make_subspace_gaussian: {config.n:,} samples, dim {config.dim}, k {config.k}, var_scale {config.var_scale:g} "
        "(label: the sign of the sum of the subspace coordinates), split 0.7/0.2/0.1. Linear autoencoders (one hidden "
        f"layer of the bottleneck's width, no activation): vanilla, denoising (noise_std {config.noise_std:g}), masked "
        f"(mask_ratio {config.mask_ratio:g}, loss on all features); Adam lr {config.lr:g}, batch {config.batch_size}, "
        f"{config.epochs} epochs, loss (1/N) ||X - X_hat||^2 against the clean input. After each epoch: validation "
        f"loss (eval mode) and a linear probe (Adam {config.probe_lr:g}, batch {config.probe_batch_size}, "
        f"{config.probe_epochs} epochs, on the training split's codes) scored on the test split. {config.seeds} seeds; "
        "each seed draws its own dataset and split."
    )
    headline = "final probe accuracy (%) measured / published: " + "; ".join(
        f"b{b}: " + ", ".join(
            f"{final_probe(results, b, kd):.1f}" + (f"/{PUBLISHED[b][kd]:.1f}" if b in PUBLISHED else "")
            for kd in kinds
        )
        for b in bs
    ) + f"; raw {raw:.1f}, PCA-{config.k} {pk:.1f}"  # fmt: skip
    return Report(
        title="Linear autoencoders: bottleneck size and the linear probe (the course project's grid)",
        question="How does the code size of a linear vanilla, denoising or masked autoencoder change how well a "
        "linear probe reads the label from its frozen codes, and do we reproduce the course project's table?",
        setup=setup,
        tables=[table, ref_table, loss_table],
        figures=[
            (
                "val_loss.png",
                "Validation reconstruction loss per epoch (mean, min/max band over seeds; dash-dot: "
                "the PCA projection of the same size)",
            ),
            ("probe_acc.png", "Linear-probe test accuracy per epoch (mean, min/max band over seeds)"),
        ],  # fmt: skip
        reading="\n".join(reading),
        headline=headline,
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {
        "val_loss": plot_curves(config, results, "val_loss", "validation loss"),
        "probe_acc": plot_curves(config, results, "probe_acc", "probe test accuracy (%)"),
    }
