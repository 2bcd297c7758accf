"""Figures and report of the ``rnn-gradients`` experiment (see :mod:`.run`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...figures import new_figure
from ..harness.report import Report, Table
from .run import Config

__all__ = ["figures", "report", "running_mean_table"]

VANISH, EXPLODE = -3.0, 3.0  # log10 ratios counted as vanishing / exploding in the summary


def plot_heatmaps(config: Config, results: dict[str, Any]) -> Any:
    """log10 ||dL/dh_1|| / ||dL/dh_T|| over (weight scale, bias scale), one panel per nonlinearity."""
    names = results["nonlinearities"]
    fig, axes = new_figure(len(names), size=(4.2, 3.6))
    limit = max(1.0, max(np.abs(np.asarray(f["log10_ratio"], dtype=float)).max() for f in results["flows"]))
    for ax, name, flow in zip(axes, names, results["flows"]):
        z = np.asarray(flow["log10_ratio"], dtype=float).T  # (Sb, Sw): bias up, weight across
        im = ax.pcolormesh(
            config.weight_scales, config.bias_scales, np.clip(z, -limit, limit), cmap="RdBu_r", vmin=-limit,
            vmax=limit, shading="nearest",
        )  # fmt: skip
        if len(config.weight_scales) > 1 and len(config.bias_scales) > 1 and z.min() < 0 < z.max():
            ax.contour(config.weight_scales, config.bias_scales, z, levels=[0.0], colors="k", linewidths=1)
        ax.set_xscale("log")
        ticks = [t for t in (0.25, 0.5, 1.0, 2.0, 4.0) if min(config.weight_scales) <= t <= max(config.weight_scales)]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks], minor=False)
        ax.set_xticks([], minor=True)  # log-scale minor labels overlap
        ax.axvline(1.0, color="grey", ls=":", lw=1)
        ax.set(xlabel="weight scale (spectral radius of W_hh)", ylabel="bias scale", title=f"{name}, T = {config.T}")
    fig.colorbar(im, ax=axes, label="log10 ||dL/dh_1|| / ||dL/dh_T||  (black: 0)")
    return fig


def plot_curves(config: Config, results: dict[str, Any]) -> Any:
    """||dL/dh_t|| / ||dL/dh_T|| against t at the representative scales, one panel per nonlinearity."""
    names = results["nonlinearities"]
    fig, axes = new_figure(len(names), size=(4.2, 3.4))
    for ax, name, flow in zip(axes, names, results["flows"]):
        for c in flow["curves"]:
            g = np.asarray(c["grad_norm"], dtype=float)
            ax.plot(
                np.arange(1, len(g) + 1), g / g[-1], lw=1.4, label=f"w {c['weight_scale']:g}, b {c['bias_scale']:g}"
            )
        ax.set_yscale("log")
        ax.set(xlabel="step t", ylabel="||dL/dh_t|| / ||dL/dh_T||", title=f"{name}: loss on the last step")
    axes[0].legend(fontsize=7)
    return fig


def plot_cells(config: Config, results: dict[str, Any]) -> Any:
    """RNN vs LSTM vs GRU at torch's initialization: ||dL/dh_t|| / ||dL/dh_T|| against t."""
    fig, (ax,) = new_figure(1, size=(5.0, 3.6))
    for cell, r in results["cells"].items():
        g = np.asarray(r["grad_norm"], dtype=float)
        ax.plot(np.arange(1, len(g) + 1), g / g[-1], lw=1.6, label=cell.upper())
    ax.set_yscale("log")
    ax.set(
        xlabel="step t", ylabel="||dL/dh_t|| / ||dL/dh_T||",
        title=f"at initialization, T = {config.cells_T} (geometric mean of {config.cells_seeds} seeds)",
    )  # fmt: skip
    ax.legend()
    return fig


def _grouped(results: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, np.ndarray]]:
    out: dict[tuple[str, str, int], dict[str, list[float]]] = {}
    for r in results["running_mean"]:
        d = out.setdefault((r["cell"], r["loss_on"], r["T"]), {"mse_last": [], "mse_all": [], "zero": []})
        d["mse_last"].append(r["mse_last"])
        d["mse_all"].append(r["mse_all"])
        d["zero"].append(r["mse_zero_last"])
    return {k: {m: np.asarray(v, dtype=float) for m, v in d.items()} for k, d in out.items()}


def plot_running_mean(config: Config, results: dict[str, Any]) -> Any:
    """Test MSE at the last step against T, per cell: trained on every step (solid) or the last (dashed)."""
    g = _grouped(results)
    fig, (ax,) = new_figure(1, size=(5.0, 3.6))
    for cell in config.rm_cells:
        line = None
        for loss_on, ls in (("all", "-"), ("last", "--")):
            y = [g[(cell, loss_on, T)]["mse_last"].mean() for T in config.rm_T]
            (line,) = ax.plot(
                config.rm_T, y, ls=ls, marker="o", lw=1.5, color=None if line is None else line.get_color(),
                label=f"{cell.upper()}, loss on {loss_on}",
            )  # fmt: skip
    zero = np.mean([d["zero"].mean() for d in g.values()])
    ax.axhline(zero, color="grey", ls=":", lw=1, label="predict 0")
    ax.set_yscale("log")
    ax.set(xlabel="sequence length T", ylabel="test MSE at the last step", title="running mean")
    ax.legend(fontsize=7)
    return fig


def running_mean_table(config: Config, results: dict[str, Any]) -> Table:
    g = _grouped(results)
    pm = config.rm_seeds > 1
    rows = []
    for cell in config.rm_cells:
        for loss_on in ("all", "last"):
            row: list[Any] = [cell.upper(), loss_on]
            for T in config.rm_T:
                v = g[(cell, loss_on, T)]["mse_last"]
                row.append(f"{v.mean():.2e}" + (f" ± {v.std():.1e}" if pm else ""))
            rows.append(row)
    zero = [
        np.mean([g[(c, o, T)]["zero"].mean() for c in config.rm_cells for o in ("all", "last")]) for T in config.rm_T
    ]
    rows.append(["predict 0", "-", *(f"{z:.2e}" for z in zero)])
    caption = (
        f"Test MSE at the last step (mean{' ± std' if pm else ''} over {config.rm_seeds} seed(s)); predicting 0 "
        f"scores the target's variance, about 1/T."
    )
    return Table(["cell", "loss on"] + [f"T = {T}" for T in config.rm_T], rows, caption)


def report(config: Config, results: dict[str, Any]) -> Report:
    reading = []
    for name, flow in zip(results["nonlinearities"], results["flows"]):
        z = np.asarray(flow["log10_ratio"], dtype=float)
        reading.append(
            f"- {name}: {np.mean(z < VANISH):.0%} of the grid vanishes (ratio < 1e{VANISH:g}) and "
            f"{np.mean(z > EXPLODE):.0%} explodes (> 1e{EXPLODE:g}); ratio from 1e{z.min():.1f} to 1e{z.max():.1f}."
        )
    ident = (
        results["flows"][results["nonlinearities"].index("identity")]
        if "identity" in results["nonlinearities"]
        else None
    )
    if ident is not None:
        z0 = np.asarray(ident["log10_ratio"], dtype=float)[:, 0]
        s = np.asarray(config.weight_scales)
        worst = np.abs(z0 - (config.T - 1) * np.log10(s)).max()
        reading.append(
            f"- The linear network with zero bias follows the law ||dL/dh_1|| = s^(T-1) ||dL/dh_T||: the largest "
            f"deviation of its log10 ratio from (T-1) log10 s over the grid is {worst:.1e}; "
            "it vanishes below spectral radius 1 and explodes above it."
        )
    cells = {c: np.asarray(r["grad_norm"], dtype=float) for c, r in results["cells"].items()}
    decay = {c: float(np.log10(g[0] / g[-1])) for c, g in cells.items()}
    reading.append(
        f"- At torch's initialization over T = {config.cells_T} steps, log10 ||dL/dh_1|| / ||dL/dh_T|| is "
        + ", ".join(f"{c.upper()} {v:.1f}" for c, v in decay.items())
        + "."
    )
    g = _grouped(results)
    Tmax = max(config.rm_T)
    for cell in config.rm_cells:
        a, b = g[(cell, "all", Tmax)]["mse_last"].mean(), g[(cell, "last", Tmax)]["mse_last"].mean()
        zero = g[(cell, "all", Tmax)]["zero"].mean()
        reading.append(
            f"- Running mean at T = {Tmax}, {cell.upper()}: test MSE at the last step {a:.2e} when trained on every "
            f"step, {b:.2e} when trained on the last step only ({b / a:.1f}x); predicting 0 scores {zero:.2e} "
            f"({zero / min(a, b):.0f}x the better of the two)."
        )
    return Report(
        title="Gradients through time: vanishing, exploding, and what they do to learning",
        question="How does ||dL/dh_t|| change going back through time with the recurrent weights' scale, the bias "
        "scale and the nonlinearity, how do LSTM and GRU compare with a vanilla RNN, and does it matter for "
        "learning a task that needs the whole sequence?",
        setup=f"Vanilla RNN, H = {config.hidden_size}, W_hh = weight scale x a random orthogonal matrix (spectral "
        f"radius = weight scale), biases = bias scale x N(0, 1), inputs N(0, 1), {config.batch_size} sequences of "
        f"T = {config.T} steps, a random linear read-out of h_T as the loss. Cells at torch's initialization, "
        f"H = {config.hidden_size}. Running mean: x_t ~ N(0, 1), target the mean so far; one recurrent layer "
        f"(H = {config.rm_hidden}) and a Linear read-out, Adam lr {config.rm_lr:g}, batch {config.rm_batch_size}, "
        f"{config.rm_epochs} epochs on {config.rm_train} sequences, gradients clipped to norm 1.",
        tables=[running_mean_table(config, results)],
        figures=[
            ("heatmaps.png", "log10 ||dL/dh_1|| / ||dL/dh_T|| over weight and bias scale, per nonlinearity"),
            ("curves.png", "||dL/dh_t|| against t at representative scales"),
            ("cells.png", "RNN vs LSTM vs GRU at initialization"),
            ("running_mean.png", "running mean: test MSE at the last step against T"),
        ],
        reading="\n".join(reading),
        headline=f"T = {config.cells_T} at init: log10 gradient ratio "
        + ", ".join(f"{c.upper()} {v:.1f}" for c, v in decay.items()),
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {
        "heatmaps": plot_heatmaps(config, results),
        "curves": plot_curves(config, results),
        "cells": plot_cells(config, results),
        "running_mean": plot_running_mean(config, results),
    }
