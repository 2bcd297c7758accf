"""Figures and report of the ``initialization`` experiment (see :mod:`.initialization`)."""

from __future__ import annotations

import math
from typing import Any

from ..harness.report import Report, Table, fmt
from .run import Config

__all__ = ["LABELS", "report"]

LABELS = {
    "zeros": "zeros",
    "normal_0.01": "N(0, 0.01²)",
    "normal_1": "N(0, 1)",
    "xavier": "Xavier",
    "he": "He",
    "uniform_0.03": "tiny U(-0.03, 0.03)",
    "uniform_3": "huge U(-3, 3)",
    "kaiming": "Kaiming",
}


def _ratio_text(ratio: float) -> str:
    return "all zero" if ratio == 0 else f"{ratio:.3g}x"


def _deep_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for nl, by_scheme in results["stats"].items():
        for scheme, s in by_scheme.items():
            t = results["training"][nl][scheme]
            rows.append(
                [
                    nl,
                    LABELS[scheme],
                    s["act_std"][0],
                    s["act_std"][-1],
                    _ratio_text(s["std_ratio"]),
                    s["grad_norm"][0],
                    s["grad_norm"][-1],
                    s["loss"],
                    t["final_val_acc"] if t["diverged_step"] is None else f"diverged at step {t['diverged_step']}",
                    t["best_val_acc"],
                ]
            )
    return rows


def _fit_rows(results: dict[str, Any]) -> list[list[Any]]:
    runs = results["curve_fit"]["runs"]
    ref = runs.get("kaiming", {}).get("grad_norm_total")
    rows = []
    for scheme, r in runs.items():
        rows.append(
            [
                LABELS[scheme],
                r["init_loss"],
                r["grad_norm_total"],
                None if not ref else f"{r['grad_norm_total'] / ref:.3g}x",
                r["test_loss"] if r["diverged_step"] is None else f"diverged at step {r['diverged_step']}",
            ]
        )
    return rows


def _reading(config: Config, results: dict[str, Any]) -> tuple[str, str]:
    stats, training, runs = results["stats"], results["training"], results["curve_fit"]["runs"]
    lines = []
    for nl, good in (("tanh", "xavier"), ("relu", "he")):
        if nl in stats and good in stats[nl]:
            r = stats[nl][good]["std_ratio"]
            lines.append(
                f"- {LABELS[good]} on {nl} keeps the signal: the last hidden layer's activation std is "
                f"{r:.3g}x the first's ({'within' if 1 / 10 <= r <= 10 else 'outside'} 10x)."
            )
    for nl in stats:
        if "normal_0.01" in stats[nl]:
            r = stats[nl]["normal_0.01"]["std_ratio"]
            per_layer = r ** (1 / max(1, config.depth - 1)) if r > 0 else 0.0
            expected = 0.01 * (config.width if nl == "tanh" else config.width / 2) ** 0.5
            lines.append(
                f"- N(0, 0.01²) on {nl} multiplies the std by {per_layer:.3g} per layer (0.01 x "
                f"sqrt({'width' if nl == 'tanh' else 'width / 2'}) = {expected:.3g} predicted): {r:.2g}x "
                f"after {config.depth} layers; the weight gradients are as small, so training stalls."
            )
    if "relu" in stats and "xavier" in stats["relu"]:
        lines.append(
            f"- Xavier on ReLU loses a factor of about sqrt(2) per layer (ReLU zeroes half the "
            f"variance): {stats['relu']['xavier']['std_ratio']:.2g}x after {config.depth} layers."
        )
    if "relu" in stats and "normal_1" in stats["relu"]:
        s = stats["relu"]["normal_1"]
        lines.append(
            f"- N(0, 1) on ReLU explodes ({s['std_ratio']:.2g}x, initial loss {s['loss']:.3g}); on tanh it "
            "saturates every unit at +-1."
        )
    if "zeros" in stats.get("tanh", {}):
        lines.append(
            "- Zeros: every hidden activation and hidden-layer gradient is exactly 0 (the units are "
            "symmetric and stay so), and only the output bias learns."
        )
    best = max(((t["best_val_acc"] or 0.0, nl, sch) for nl, d in training.items() for sch, t in d.items()))
    lines.append(f"- Best validation accuracy: {best[0]:.3f} ({LABELS[best[2]]}, {best[1]}).")
    fit = []
    ref = runs.get("kaiming")
    for scheme, r in runs.items():
        if scheme == "kaiming":
            continue
        ratio = r["grad_norm_total"] / ref["grad_norm_total"] if ref and ref["grad_norm_total"] else math.nan
        fate = (
            f"diverged at step {r['diverged_step']}"
            if r["diverged_step"] is not None
            else f"reached test MSE {fmt(r['test_loss'])}"
        )
        fit.append(f"{LABELS[scheme]} starts with gradients {ratio:.2g}x Kaiming's and {fate}")
    if ref is not None:
        fit.append(
            f"Kaiming reached test MSE {fmt(ref['test_loss'])} (predicting the mean scores "
            f"{results['curve_fit']['target_variance']:.3g})"
        )
    lines.append("- Curve fitting: " + "; ".join(fit) + ".")
    head = []
    if "xavier" in stats.get("tanh", {}) and "he" in stats.get("relu", {}) and "normal_0.01" in stats.get("tanh", {}):
        head.append(
            f"last/first activation std: Xavier-tanh {stats['tanh']['xavier']['std_ratio']:.2g}, "
            f"He-ReLU {stats['relu']['he']['std_ratio']:.2g}, N(0,0.01²)-tanh "
            f"{stats['tanh']['normal_0.01']['std_ratio']:.1g}"
        )
    if "uniform_3" in runs and ref is not None:
        h = runs["uniform_3"]
        head.append(
            "huge init "
            + (
                f"diverged at step {h['diverged_step']}"
                if h["diverged_step"] is not None
                else f"test MSE {fmt(h['test_loss'])}"
            )
            + f", Kaiming test MSE {fmt(ref['test_loss'], 2)}"
        )
    return "\n".join(lines), "; ".join(head)


def report(config: Config, results: dict[str, Any]) -> Report:
    reading, headline = _reading(config, results)
    data = (
        "standardized Fashion-MNIST"
        if config.dataset == "fashion-mnist"
        else f"10 Gaussian blobs in {config.synthetic_dim} dimensions"
    )
    setup = (
        f"Part 1: MLPs with {config.depth} hidden layers of {config.width} units ({', '.join(config.nonlinearities)}) "
        f"and a linear head, every weight drawn by the scheme, biases 0. Statistics from one forward/backward pass "
        f"of cross-entropy on {config.stats_batch} training samples of {data}; then {config.steps} steps of SGD "
        f"(lr {config.lr:g}, momentum {config.momentum:g}, batch {config.batch_size}) on {config.num_train} samples, "
        f"validated on {config.num_val}, the same batches for every run.\n\n"
        f"Part 2: y = sum of {config.fit_num_sines} random sines on [-1, 1] plus N(0, {config.fit_noise:g}²) noise, "
        f"{config.fit_num_train} training points; a ReLU net with {config.fit_depth} hidden layers of "
        f"{config.fit_width} units, MSE, {config.fit_steps} steps of "
        f"{'SGD + momentum ' + format(config.momentum, 'g') if config.fit_optimizer == 'sgd' else 'Adam'} "
        f"(lr {config.fit_lr:g}, batch {config.fit_batch_size}); test MSE against the noise-free target on 500 "
        f"grid points. A run is stopped as diverged when its loss overflows or exceeds {config.diverge_factor:g}x "
        "its first loss."
    )
    tables = [
        Table(
            [
                "nonlinearity",
                "init",
                "std layer 1",
                f"std layer {config.depth}",
                "ratio",
                "‖dW‖ layer 1",
                "‖dW‖ head",
                "loss at init",
                "final val acc",
                "best val acc",
            ],
            _deep_rows(results),
            "Deep nets: activation std and weight-gradient norm at initialization, then training.",
        ),
        Table(
            ["init", "loss at init", "‖grad‖ at init", "vs Kaiming", "test MSE"],
            _fit_rows(results),
            "Curve fitting: gradient norm over all layers at initialization and the final test MSE.",
        ),
    ]
    figures = [
        ("init_stats.png", "Activation std and weight-gradient norm per layer at initialization."),
        ("training.png", "Training loss and validation accuracy of the deep nets."),
        ("curve_fit.png", "The fitted curves of the curve-fitting study."),
        ("curve_fit_training.png", "Curve fitting: gradient norms at initialization and test MSE during training."),
    ]
    return Report(
        title="Weight initialization: signal propagation and training",
        question=(
            "How does the scale of the initial weights change the forward signal and the gradients of a deep "
            "network, and whether it trains? Do Xavier and He keep the activations' scale through 10 layers "
            "where small and large Gaussian initializations do not?"
        ),
        setup=setup,
        tables=tables,
        figures=figures,
        reading=reading,
        headline=headline,
    )
