"""Figures and report of the ``autoencoder-probe`` experiment (see :mod:`.run`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...figures import new_figure
from ..harness.report import Report, Table
from .run import PROBE_BATCH, Config

__all__ = ["figures", "report", "probe_mean"]


def probe_mean(results: dict[str, Any], who: str, n: str) -> float:
    """Mean over seeds of the probe test accuracy on ``n`` labels: ``who`` a kind, 'raw' or 'pca'."""
    if who in ("raw", "pca"):
        return float(np.mean([r[who][n] for r in results["references"]]))
    return float(np.mean([r["probe"][n] for r in results["runs"][who]]))


def plot_examples(config: Config, results: dict[str, Any]) -> Any:
    """Originals, corrupted inputs and reconstructions (from the corrupted input), one row each per kind."""
    kinds = results["kinds"]
    ex0 = results["runs"][kinds[0]][0]["examples"]
    E, D = np.asarray(ex0["original"]).shape
    side = int(round(np.sqrt(D)))
    fig, axes = new_figure(E, nrows=3 * len(kinds), size=(0.9, 0.95))
    for k, kind in enumerate(kinds):
        ex = results["runs"][kind][0]["examples"]
        for r, what in enumerate(("original", "corrupted", "reconstruction")):
            imgs = np.asarray(ex[what], dtype=float)
            for j in range(E):
                ax = axes[(3 * k + r) * E + j]
                ax.imshow(imgs[j].reshape(side, side), cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if j == 0:
                    ax.set_ylabel(f"{kind}\n{what}" if r == 0 else what, fontsize=7)
    return fig


def plot_codes(config: Config, results: dict[str, Any]) -> Any:
    """The first seed's test codes on their top-2 principal components, coloured by class, one panel per kind."""
    from ...analysis import pca

    kinds = results["kinds"]
    fig, axes = new_figure(len(kinds), size=(3.6, 3.4))
    for ax, kind in zip(axes, kinds):
        r = results["runs"][kind][0]
        codes, labels = np.asarray(r["codes"], dtype=np.float64), np.asarray(r["code_labels"])
        xy = pca(codes, 2).encode(codes)  # (S, H) -> (S, 2)
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5)
        ax.set(title=f"{kind}: codes, top-2 PCs", xlabel="PC 1", ylabel="PC 2")
    fig.colorbar(sc, ax=axes, label="class", ticks=range(10))
    return fig


def report(config: Config, results: dict[str, Any]) -> Report:
    ns, kinds = results["label_counts"], results["kinds"]
    who = [*kinds, "pca", "raw"]
    names = {"pca": f"PCA-{config.hidden_sizes[-1]}", "raw": "raw pixels"} | {k: f"{k} AE" for k in kinds}
    rows = [[names[w]] + [f"{100 * probe_mean(results, w, n):.1f}" for n in ns] for w in who]
    table = Table(
        ["features"] + [f"{n} labels" for n in ns],
        rows,
        caption="Linear-probe test accuracy (%), mean over seeds.",
    )
    loss_rows = [[k, float(np.mean([r["val_loss"][-1] for r in results["runs"][k]]))] for k in kinds]
    loss_table = Table(["kind", "test reconstruction loss (1/N) ||X - X_hat||^2"], loss_rows)
    reading = []
    few = ns[0]
    best = max(kinds, key=lambda k: probe_mean(results, k, few))
    reading.append(
        f"- With {few} labels the best autoencoder ({best}) scores {100 * probe_mean(results, best, few):.1f}% against "
        f"{100 * probe_mean(results, 'raw', few):.1f}% on raw pixels and {100 * probe_mean(results, 'pca', few):.1f}% "
        f"on PCA-{config.hidden_sizes[-1]}."
    )
    reading.append(
        f"- With all labels: best autoencoder {100 * max(probe_mean(results, k, 'all') for k in kinds):.1f}%, raw "
        f"pixels {100 * probe_mean(results, 'raw', 'all'):.1f}%, PCA {100 * probe_mean(results, 'pca', 'all'):.1f}%."
    )
    data = (
        f"Fashion-MNIST (pixels in [0, 1]): the first {config.num_train:,} training and {config.num_test:,} test images"
        if config.dataset == "fashion-mnist"
        else f"10 Gaussian blobs in {config.synthetic_dim} dimensions (noise {config.synthetic_noise:g}, scaled by 1/4 "
        f"around 0.5): {config.num_train:,} training and {config.num_test:,} test samples"
    )
    dim = config.synthetic_dim if config.dataset == "synthetic" else 784
    side, chans = math.isqrt(dim), " -> ".join(str(c) for c in (1, *config.conv_channels))
    mlp = [k for k in kinds if k != "conv"]
    mlp_kinds = {"vanilla": "vanilla", "denoising": f"denoising (noise_std {config.noise_std:g})",
                 "masked": f"masked (mask_ratio {config.mask_ratio:g})"}  # fmt: skip
    models = []
    if mlp:
        models.append(
            f"MLP autoencoders {[dim]} + {list(config.hidden_sizes)} (ReLU, mirrored decoder): "
            + ", ".join(mlp_kinds[k] for k in mlp)
        )
    if "conv" in kinds:
        models.append(
            f"a convolutional autoencoder on the {side} x {side} images (Conv2d {chans}, 3x3 stride 2, ReLU, then a "
            f"Linear to a code of {config.hidden_sizes[-1]} numbers; mirrored with ConvTranspose2d; no corruption)"
        )
    setup = (
        f"{data}. {'; '.join(models)}; Adam lr {config.lr:g}, batch {config.batch_size}, {config.epochs} "
        f"epochs on (1/N) ||X - X_hat||^2. Linear probes on the frozen codes (Adam {config.probe_lr:g}, "
        f"batch {PROBE_BATCH}, {config.probe_epochs} epochs, or more to make {config.probe_min_steps} steps) "
        f"on the first {', '.join(ns[:-1])} and all training labels, scored on the test "
        f"set; references: the same probes on raw pixels and on PCA-{config.hidden_sizes[-1]}. {config.seeds} seeds."
    )
    headline = f"probe accuracy (%) on {few} / all labels: " + "; ".join(
        f"{names[w]} {100 * probe_mean(results, w, few):.1f} / {100 * probe_mean(results, w, 'all'):.1f}" for w in who
    )
    return Report(
        title="Autoencoder codes and linear probes",
        question="Do vanilla, denoising and masked MLP autoencoders and a convolutional one learn codes a linear probe "
        "reads the class from, better than raw pixels or PCA, especially with few labels?",
        setup=setup,
        tables=[table, loss_table],
        figures=[
            ("examples.png", "Test images, their corrupted copies and the reconstructions from the corrupted input"),
            ("codes.png", "Test codes of the first seed projected on their top-2 principal components, by class"),
        ],
        reading="\n".join(reading),
        headline=headline,
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {"examples": plot_examples(config, results), "codes": plot_codes(config, results)}
