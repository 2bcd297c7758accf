"""The figures of ``initialization``: activation and gradient statistics per layer at init, training
curves of the deep nets, the curve fits and their gradient norms; drawn from the results alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...figures import new_figure
from .report import LABELS
from .run import Config

__all__ = ["figures", "plot_init_stats", "plot_training", "plot_curve_fit", "plot_fit_training"]


def _positive(values: list[float]) -> np.ndarray:
    """Zeros and non-finite values as NaN, so a log axis skips them instead of failing."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator  # lazily, as base.new_figure imports matplotlib

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_init_stats(config: Config, results: dict[str, Any]) -> Any:
    """Per-layer activation std (top) and weight-gradient norm (bottom) at initialization, one column per
    nonlinearity (log axes; the zeros init has std and hidden-layer gradients exactly 0, so it is absent)."""
    nls = list(results["stats"])
    fig, axes = new_figure(len(nls), nrows=2, size=(5.0, 3.6))
    for j, nl in enumerate(nls):
        ax_std, ax_grad = axes[j], axes[len(nls) + j]
        for scheme, s in results["stats"][nl].items():
            layers = np.arange(1, len(s["act_std"]) + 1)
            ax_std.plot(layers, _positive(s["act_std"]), marker="o", ms=3, label=LABELS[scheme])
            ax_grad.plot(
                np.arange(1, len(s["grad_norm"]) + 1), _positive(s["grad_norm"]), marker="o", ms=3, label=LABELS[scheme]
            )
        ax_std.set(yscale="log", xlabel="hidden layer", ylabel="activation std", title=f"{nl}: activations at init")
        ax_grad.set(
            yscale="log",
            xlabel="layer (last = output layer)",
            ylabel="‖dW‖ (Frobenius)",
            title=f"{nl}: weight gradients at init",
        )
        ax_std.legend(fontsize=7)
        for ax in (ax_std, ax_grad):
            _integer_ticks(ax)
    return fig


def plot_training(config: Config, results: dict[str, Any]) -> Any:
    """Training loss (per step) and validation accuracy of every scheme, one column per nonlinearity."""
    nls = list(results["training"])
    fig, axes = new_figure(len(nls), nrows=2, size=(5.0, 3.6))
    for j, nl in enumerate(nls):
        ax_loss, ax_acc = axes[j], axes[len(nls) + j]
        for scheme, r in results["training"][nl].items():
            label = LABELS[scheme] + (f" (diverged at step {r['diverged_step']})" if r["diverged_step"] else "")
            (line,) = ax_loss.plot(np.arange(1, len(r["loss"]) + 1), r["loss"], lw=0.8, label=label)
            ax_acc.plot(r["eval_steps"], r["val_acc"], marker="o", ms=3, color=line.get_color(), label=label)
            if r["diverged_step"] is not None:
                ax_loss.axvline(r["diverged_step"], color=line.get_color(), ls=":", lw=1)
        ax_loss.set(yscale="log", xlabel="step", ylabel="training loss", title=f"{nl}: training loss")
        ax_acc.set(xlabel="step", ylabel="validation accuracy", title=f"{nl}: validation accuracy")
        ax_acc.legend(fontsize=7)
    return fig


def plot_curve_fit(config: Config, results: dict[str, Any]) -> Any:
    """Training points, the noise-free target and each initialization's fitted curve."""
    cf = results["curve_fit"]
    fig, axes = new_figure(len(cf["runs"]), size=(4.2, 3.4))
    for ax, (scheme, r) in zip(axes, cf["runs"].items()):
        ax.scatter(cf["x_train"], cf["y_train"], s=2, color="0.75", label="training points")
        ax.plot(cf["x_test"], cf["y_test"], color="k", lw=1, label="target")
        if r["prediction"] is not None:
            ax.plot(cf["x_test"], r["prediction"], color="C3", lw=1.5, label="fit")
            ax.set_title(f"{LABELS[scheme]}: test MSE {r['test_loss']:.3g}", fontsize=9)
        else:
            ax.set_title(f"{LABELS[scheme]}: diverged at step {r['diverged_step']}", fontsize=9)
            ax.text(
                0.5,
                0.06,
                f"outputs at init: std {r['init_output_std']:.3g}",
                transform=ax.transAxes,
                ha="center",
                fontsize=8,
                color="C3",
            )
        ax.set(xlabel="x")
        ax.legend(fontsize=7)
    return fig


def plot_fit_training(config: Config, results: dict[str, Any]) -> Any:
    """Curve fitting: per-layer gradient norms at initialization and the test MSE during training."""
    fig, (ax_grad, ax_test) = new_figure(2)
    for scheme, r in results["curve_fit"]["runs"].items():
        (line,) = ax_grad.plot(
            np.arange(1, len(r["grad_norm"]) + 1), _positive(r["grad_norm"]), marker="o", label=LABELS[scheme]
        )
        ax_test.plot(r["eval_steps"], r["test_loss_curve"], color=line.get_color(), label=LABELS[scheme])
        if r["diverged_step"] is not None:
            ax_test.axvline(r["diverged_step"], color=line.get_color(), ls=":", lw=1)
    ax_grad.set(yscale="log", xlabel="layer (last = output layer)", ylabel="‖dW‖ at init", title="gradients at init")
    _integer_ticks(ax_grad)
    ax_test.axhline(results["curve_fit"]["target_variance"], color="grey", ls=":", lw=1, label="predicting the mean")
    ax_test.set(yscale="log", xlabel="step", ylabel="test MSE", title="test MSE against the target")
    ax_test.legend(fontsize=7)
    return fig


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {
        "init_stats": plot_init_stats(config, results),
        "training": plot_training(config, results),
        "curve_fit": plot_curve_fit(config, results),
        "curve_fit_training": plot_fit_training(config, results),
    }
