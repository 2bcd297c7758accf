"""Figures and report of the ``momentum`` experiment (see :mod:`.momentum`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...analysis.momentum import classify_regime, convergence_rate, spectral_radius
from ...figures import new_figure
from ..harness.report import Report, Table
from .run import Config

__all__ = ["figures", "plot_rates", "plot_curves", "plot_regimes", "report"]


def plot_rates(config: Config, results: dict[str, Any]) -> Any:
    """Measured against predicted rate for every grid run (left) and rate against lr (right): the
    lines are the prediction max over lambda of the spectral radius, the markers the measurements."""
    fig, (ax_xy, ax_lr) = new_figure(2, size=(5.2, 4.2))
    grid = results["grid"]
    lams = np.asarray(results["lams"])
    lo = min(min(r["predicted"], r["measured"]) for r in grid)
    hi = max(max(r["predicted"], r["measured"]) for r in grid)
    ax_xy.plot([lo, hi], [lo, hi], color="grey", lw=1, ls=":", label="measured = predicted")
    fracs = np.linspace(0.02, max(max(config.lr_fracs), 1.0) * 1.02, 300)
    for i, beta in enumerate(config.betas):
        rows = [r for r in grid if r["beta"] == beta]
        color = f"C{i % 10}"
        for r in rows:
            marker = "x" if r["diverged_step"] is not None else "o"
            ax_xy.scatter(r["predicted"], r["measured"], color=color, marker=marker, s=22)
            ax_lr.scatter(r["lr_frac"], r["measured"], color=color, marker=marker, s=22, zorder=3)
        bound = 2 * (1 + beta) / results["L"]
        ax_lr.plot(fracs, convergence_rate(fracs * bound, beta, lams), color=color, lw=1, label=f"beta {beta:g}")
        ax_xy.scatter([], [], color=color, label=f"beta {beta:g}")
    ax_xy.set(
        xlabel="predicted rate (spectral radius)",
        ylabel="measured rate (tail fit)",
        title="measured against predicted (x: diverged)",
    )
    ax_xy.legend(fontsize=7)
    ax_lr.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax_lr.axvline(1.0, color="grey", lw=0.8, ls=":")
    ax_lr.set(
        xlabel="lr / stability bound 2(1+beta)/lambda_max",
        ylabel="rate per step",
        title="rate against lr: lines predicted, markers measured",
        ylim=(None, min(1.5, hi * 1.02)),
    )
    ax_lr.legend(fontsize=7)
    return fig


def plot_curves(config: Config, results: dict[str, Any]) -> Any:
    """f(w_t) - f* and ||w_t - w*|| of the selected runs, with the predicted envelope rho^t dashed."""
    fig, (ax_loss, ax_err) = new_figure(2, size=(5.2, 4.0))
    for label, c in results["curves"].items():
        t = np.arange(len(c["errors"]))
        losses = np.asarray(c["losses"])
        suffix = f" (diverged at step {c['diverged_step']})" if c["diverged_step"] else ""
        (line,) = ax_loss.plot(t, losses, lw=1.2, label=f"{label}{suffix}")
        ax_err.plot(t, c["errors"], lw=1.2, color=line.get_color())
        ax_err.plot(t, c["errors"][0] * c["predicted"] ** t, lw=0.8, ls="--", color=line.get_color())
    ax_loss.set(yscale="log", xlabel="step", ylabel="f(w_t) - f(w*)", title="loss")
    ax_loss.legend(fontsize=7)
    ax_err.set(yscale="log", xlabel="step", ylabel="||w_t - w*||", title="distance to w* (dashed: ||e_0|| rho^t)")
    return fig


def plot_regimes(config: Config, results: dict[str, Any]) -> Any:
    """Left: the regimes of one direction over (lr lambda, beta). Right: this problem's predicted rate over
    (lr, beta), with the stability bound, the grid runs and Polyak's optimum."""
    fig, (ax_one, ax_all) = new_figure(2, size=(5.2, 4.2))
    x = np.linspace(0.0, 4.0, 400)  # lr * lambda
    b = np.linspace(0.0, 0.99, 300)
    X, B = np.meshgrid(x, b)
    rho = spectral_radius(X, B, 1.0)
    regime = classify_regime(X, B, 1.0)
    code = np.where(rho >= 1, 3, np.where(regime == "complex", 1, np.where(X > 1 + B, 2, 0)))
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["#c6dbef", "#fdd0a2", "#c7e9c0", "#eeeeee"])
    ax_one.imshow(
        code,
        cmap=cmap,
        vmin=-0.5,
        vmax=3.5,
        origin="lower",
        extent=(0, 4, 0, 0.99),
        aspect="auto",
        interpolation="nearest",
    )
    cs = ax_one.contour(
        X, B, np.where(rho < 1, rho, np.nan), levels=[0.2, 0.4, 0.6, 0.8, 0.9, 0.95], colors="k", linewidths=0.5
    )
    ax_one.clabel(cs, fontsize=6)
    sb = np.sqrt(b)
    ax_one.plot((1 - sb) ** 2, b, color="C0", lw=1.2, label="repeated: lr lambda = (1 - sqrt beta)^2")
    ax_one.plot((1 + sb) ** 2, b, color="C2", lw=1.2, label="repeated: lr lambda = (1 + sqrt beta)^2")
    ax_one.plot(2 * (1 + b), b, color="C3", lw=1.5, label="stability: lr lambda = 2(1 + beta)")
    for xt, yt, text in (
        (0.15, 0.1, "real,\n> 0"),
        (1.0, 0.5, "complex\n|z| = sqrt beta"),
        (2.55, 0.1, "real,\n< 0"),
        (3.5, 0.3, "unstable"),
    ):
        ax_one.text(xt, yt, text, fontsize=7, ha="center")
    ax_one.set(
        xlabel="lr * lambda",
        ylabel="beta",
        title="one direction: eigenvalue regimes, |z| contours",
        xlim=(0, 4),
        ylim=(0, 0.99),
    )
    ax_one.legend(fontsize=6, loc="upper left")

    lams = np.asarray(results["lams"])
    lrs = np.linspace(0.0, 4.0 / results["L"], 240)[1:]
    LR, BB = np.meshgrid(lrs, np.linspace(0.0, 0.98, 200))
    rate = convergence_rate(LR, BB, lams)
    low = np.floor(10 * rate.min()) / 10  # the colour range of the rates that occur
    mesh = ax_all.imshow(
        np.minimum(rate, 1.0),
        cmap="viridis",
        vmin=low,
        vmax=1,
        origin="lower",
        aspect="auto",
        extent=(lrs[0], lrs[-1], 0.0, 0.98),
        interpolation="nearest",
    )
    fig.colorbar(mesh, ax=ax_all, label="predicted rate (1 = unstable)")
    bb = np.linspace(0.0, 0.98, 50)
    ax_all.plot(2 * (1 + bb) / results["L"], bb, color="C3", lw=1.5, label="lr = 2(1 + beta)/lambda_max")
    ax_all.scatter(
        [r["lr"] for r in results["grid"]], [r["beta"] for r in results["grid"]], s=8, color="w", label="grid runs"
    )
    hb = results["optimal"]["heavy_ball"]
    ax_all.scatter([hb["lr"]], [hb["beta"]], marker="*", s=90, color="C1", label="Polyak's optimum")
    ax_all.set(
        xlabel="lr",
        ylabel="beta",
        title=f"this problem (kappa = {results['kappa']:.1f}): rate",
        xlim=(0, lrs[-1]),
        ylim=(0, 0.98),
    )
    ax_all.legend(fontsize=6, loc="upper left")
    return fig


def _steps_to(rate: float, tol: float = 1e-6) -> float:
    return float(np.log(tol) / np.log(rate)) if 0 < rate < 1 else float("inf")


def report(config: Config, results: dict[str, Any]) -> Report:
    grid = results["grid"]
    rows = [
        [
            r["beta"],
            r["lr_frac"],
            r["lr"],
            r["regime"],
            "/".join(str(r["regime_counts"][k]) for k in ("real", "repeated", "complex")),
            r["predicted"],
            r["measured"],
            f"{100 * r['rel_error']:.2f}%",
            f"diverged at step {r['diverged_step']}" if r["diverged_step"] else r["steps"],
        ]
        for r in grid
    ]
    gd, hb = results["optimal"]["gd"], results["optimal"]["heavy_ball"]
    opt_rows = [
        [
            "GD, lr = 2/(mu + L)",
            gd["lr"],
            0.0,
            gd["theory"],
            gd["predicted"],
            gd["measured"],
            _steps_to(gd["measured"]),
        ],
        [
            "heavy ball, Polyak",
            hb["lr"],
            hb["beta"],
            hb["theory"],
            hb["predicted"],
            hb["measured"],
            _steps_to(hb["measured"]),
        ],
    ]
    stable = [r for r in grid if r["predicted"] < 1]
    unstable = [r for r in grid if r["predicted"] > 1]
    worst = max(stable, key=lambda r: r["rel_error"]) if stable else None
    complex_rows = [r for r in stable if r["regime"] == "complex"]
    lines = [
        f"- The Hessian's eigenvalues lie in [{results['mu']:.3g}, {results['L']:.3g}] (condition number "
        f"{results['kappa']:.1f}).",
    ]
    if worst is not None:
        lines.append(
            f"- Over the {len(stable)} stable settings the measured rate is within "
            f"{100 * worst['rel_error']:.2f}% of the predicted spectral radius (worst: beta {worst['beta']:g}, "
            f"lr {worst['lr_frac']:.3g}x the bound, {worst['regime']} regime)."
        )
    if complex_rows:
        lines.append(
            f"- In {len(complex_rows)} settings the slowest direction is complex: there the rate is "
            "sqrt(beta) whatever the learning rate, the flat stretches of the right-hand curves; "
            "beta alone sets the envelope, and a larger beta is slower."
        )
    lines.append(
        f"- Above the bound lr = 2(1 + beta)/lambda_max: {sum(r['diverged_step'] is not None for r in unstable)}"
        f" of {len(unstable)} runs diverged, growing within "
        f"{100 * max((r['rel_error'] for r in unstable), default=0.0):.2f}% of the predicted rate (> 1); "
        "every stable run "
        f"{'converged' if results['stable_all_converged'] else 'did NOT all converge'}."
    )
    lines.append(
        f"- Tuned, gradient descent contracts by {gd['measured']:.4f} per step and Polyak's heavy ball by "
        f"{hb['measured']:.4f}: {_steps_to(gd['measured']) / _steps_to(hb['measured']):.1f}x fewer steps "
        f"for the same accuracy (theory: (kappa - 1)/(kappa + 1) against (sqrt kappa - 1)/(sqrt kappa + 1)). "
        "Polyak's tuning puts the extreme directions exactly on the repeated boundary, where the error "
        f"decays like t rho^t, so over this short run its fit reads {100 * hb['rel_error']:.1f}% above rho."
    )
    headline = (
        f"measured rates within {100 * (results['max_rel_error'] or 0):.2f}% of the predicted spectral radius "
        f"on {len(stable)} stable settings; {sum(r['diverged_step'] is not None for r in unstable)}/"
        f"{len(unstable)} above the bound diverged; tuned rate per step: GD {gd['measured']:.3f}, heavy ball "
        f"{hb['measured']:.3f}"
    )
    return Report(
        title="Heavy-ball momentum on least squares: eigenvalues predict the rate",
        question=(
            "Does the spectral radius of momentum's 2x2 iteration matrix, maximized over the Hessian's "
            "eigenvalues, predict how fast gradient descent and heavy-ball momentum converge on least "
            "squares, and where they diverge?"
        ),
        setup=(
            f"f(w) = 1/(2n) ||Xw - y||^2 with a Gaussian design X of {config.n} x {config.d}, y = X w_true + "
            f"N(0, {config.noise:g}^2) noise, w* from lstsq, w_0 = 0, float64. Momentum is "
            "`scratchnn.optim.SGD(lr, momentum=beta)`: b_t = beta b_(t-1) + g_t, w_(t+1) = w_t - lr b_t, which is "
            "Polyak's heavy ball w_(t+1) = w_t - lr g_t + beta (w_t - w_(t-1)) (w_(t+1) - w_t = -lr b_t = "
            "beta (w_t - w_(t-1)) - lr g_t; beta = 0 is gradient descent). Grid: beta in "
            f"{', '.join(f'{b:g}' for b in config.betas)}; lr = fraction "
            f"{', '.join(f'{f:g}' for f in config.lr_fracs)} of the bound 2(1 + beta)/lambda_max. Each run stops "
            f"at ||w_t - w*|| < {config.tol:g} ||w_0 - w*||; its rate is exp of the slope of log ||w_t - w*|| "
            "fitted over the last 3/4 of the decades it covered (down to 1e-12)."
        ),
        tables=[
            Table(
                [
                    "beta",
                    "lr / bound",
                    "lr",
                    "regime (slowest)",
                    "real/repeated/complex",
                    "predicted",
                    "measured",
                    "error",
                    "steps",
                ],
                rows,
                "Every grid run: regime counts over the directions, predicted spectral radius, measured rate.",
            ),
            Table(
                ["setting", "lr", "beta", "theory", "predicted", "measured", "steps per 1e-6"],
                opt_rows,
                "The tuned settings.",
            ),
        ],
        figures=[
            ("rates.png", "Measured against predicted convergence rates."),
            ("loss_curves.png", "Loss and distance to the minimizer of selected runs; dashed: predicted envelope."),
            ("regimes.png", "Eigenvalue regimes of one direction, and this problem's predicted rate map."),
        ],
        reading="\n".join(lines),
        headline=headline,
    )


def figures(config: Config, results: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, drawn from the results (the runner saves each as ``<name>.png``)."""
    return {
        "rates": plot_rates(config, results),
        "loss_curves": plot_curves(config, results),
        "regimes": plot_regimes(config, results),
    }
