"""The heavy-ball iteration-matrix math against np.linalg.eigvals, and the runs against the math."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnn.analysis.least_squares import make_least_squares, measured_rate, run_momentum
from scratchnn.analysis.momentum import (
    classify_regime,
    convergence_rate,
    iteration_eigenvalues,
    iteration_matrix,
    optimal_gd,
    optimal_heavy_ball,
    spectral_radius,
    stability_bound,
)


def _grid(rng: np.random.Generator, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(0.01, 3.0, n), rng.uniform(0.0, 0.99, n), rng.uniform(0.05, 2.0, n)


def test_iteration_matrix_drives_the_error_recursion(rng: np.random.Generator) -> None:
    lr, beta, lam = 0.3, 0.7, 1.3
    e = [1.0, 0.8]  # e_{-1}, e_0
    for _ in range(5):
        e.append((1 + beta - lr * lam) * e[-1] - beta * e[-2])
    state = np.array([e[1], e[0]])
    M = iteration_matrix(lr, beta, lam)
    for t in range(5):
        state = M @ state
        assert state[0] == pytest.approx(e[t + 2], rel=1e-12)


def test_eigenvalues_match_numpy(rng: np.random.Generator) -> None:
    lr, beta, lam = _grid(rng)
    ours = iteration_eigenvalues(lr, beta, lam)
    ref = np.linalg.eigvals(iteration_matrix(lr, beta, lam))  # (n, 2)
    ref = np.take_along_axis(ref, np.argsort(-np.abs(ref), axis=-1), axis=-1)
    # conjugate pairs have equal modulus, so compare sorted moduli and the pair's sum and product
    np.testing.assert_allclose(np.abs(ours), np.abs(ref), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.sum(-1), ref.sum(-1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.prod(-1), beta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(spectral_radius(lr, beta, lam), np.abs(ref).max(-1), rtol=1e-7, atol=1e-9)


def test_regimes_match_numpy(rng: np.random.Generator) -> None:
    lr, beta, lam = _grid(rng)
    regime = classify_regime(lr, beta, lam)
    ref = np.linalg.eigvals(iteration_matrix(lr, beta, lam))
    complex_ref = np.abs(ref.imag).max(-1) > 1e-12
    assert set(np.unique(regime)) == {"real", "complex"}  # random draws never hit the boundary
    np.testing.assert_array_equal(regime == "complex", complex_ref)
    # complex: both eigenvalues have modulus sqrt(beta), whatever lr is
    np.testing.assert_allclose(np.abs(ref[complex_ref]), np.sqrt(beta[complex_ref])[:, None] * [1, 1], rtol=1e-9)


def test_repeated_boundary() -> None:
    # a = 2 sqrt(beta) <=> lr lam = (1 - sqrt(beta))^2: a double eigenvalue sqrt(beta)
    beta = np.array([0.0, 0.1, 0.5, 0.81])
    lr = (1 - np.sqrt(beta)) ** 2
    assert (classify_regime(lr, beta, 1.0) == "repeated").all()
    np.testing.assert_allclose(iteration_eigenvalues(lr, beta, 1.0).real, np.sqrt(beta)[:, None] * [1, 1], atol=1e-12)
    assert (classify_regime(lr[1:] * 0.9, beta[1:], 1.0) == "real").all()
    assert (classify_regime(lr[1:] * 1.1, beta[1:], 1.0) == "complex").all()


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_stability_bound_is_where_the_radius_crosses_one(beta: float) -> None:
    lam_max = 2.5
    bound = stability_bound(beta, lam_max)
    assert bound == pytest.approx(2 * (1 + beta) / lam_max)
    lams = np.linspace(0.3, lam_max, 7)
    assert convergence_rate(bound * 0.999, beta, lams) < 1
    assert convergence_rate(bound * 1.001, beta, lams) > 1
    ref = np.abs(np.linalg.eigvals(iteration_matrix(bound * 1.001, beta, lam_max))).max()
    assert ref > 1


def test_optimal_tunings_beat_their_neighbours() -> None:
    mu, L = 0.2, 5.0
    lams = np.linspace(mu, L, 201)
    lr, beta, rate = optimal_heavy_ball(mu, L)
    assert float(convergence_rate(lr, beta, lams)) == pytest.approx(rate, rel=1e-6)
    for dlr, dbeta in [(1.05, 1.0), (0.95, 1.0), (1.0, 1.1), (1.0, 0.9)]:
        assert float(convergence_rate(lr * dlr, beta * dbeta, lams)) > rate
    lr_gd, rate_gd = optimal_gd(mu, L)
    assert float(convergence_rate(lr_gd, 0.0, lams)) == pytest.approx(rate_gd, rel=1e-9)
    assert float(convergence_rate(lr_gd * 1.05, 0.0, lams)) > rate_gd
    assert rate < rate_gd  # sqrt(kappa) against kappa


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `beta`: expected a float in \[0, 1\)\. Received: beta=1"):
        stability_bound(1.0, 2.0)
    with pytest.raises(ValueError, match="Invalid value for `lam_max`"):
        stability_bound(0.5, 0.0)
    problem = make_least_squares(20, 5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Invalid value for `form`"):
        run_momentum(problem, 0.1, 0.5, 10, form="nesterov")
    with pytest.raises(ValueError, match="Invalid value for `d`"):
        make_least_squares(10, 10)


def test_sgd_buffer_form_equals_textbook_heavy_ball() -> None:
    problem = make_least_squares(60, 15, rng=np.random.default_rng(1))
    w0 = np.random.default_rng(2).standard_normal(15)
    a = run_momentum(problem, 0.4, 0.8, 200, w0=w0, form="sgd")
    b = run_momentum(problem, 0.4, 0.8, 200, w0=w0, form="heavy_ball")
    assert len(a.errors) == len(b.errors) == 201
    np.testing.assert_allclose(a.errors, b.errors, rtol=1e-9, atol=1e-13)
    # beta = 0 is plain gradient descent
    w = w0.copy()
    for _ in range(30):
        w = w - 0.4 * problem.X.T @ (problem.X @ w - problem.y) / len(problem.y)
    gd = run_momentum(problem, 0.4, 0.0, 30, w0=w0)
    assert gd.errors[-1] == pytest.approx(np.linalg.norm(w - problem.w_star), rel=1e-9)


def test_measured_rate_recovers_a_geometric_sequence() -> None:
    t = np.arange(400)
    assert measured_rate(3.0 * 0.93**t) == pytest.approx(0.93, rel=1e-9)
    # an oscillating envelope (complex regime) and a polynomial factor (repeated) still give the rate
    assert measured_rate(0.95**t * (1.5 + np.cos(0.7 * t))) == pytest.approx(0.95, rel=2e-3)
    assert measured_rate((t + 1) * 0.9**t) == pytest.approx(0.9, rel=0.02)


@pytest.mark.parametrize(("lr_frac", "beta"), [(0.5, 0.0), (0.9, 0.0), (0.3, 0.6), (0.6, 0.9), (0.95, 0.4)])
def test_measured_rate_matches_the_spectral_radius(lr_frac: float, beta: float) -> None:
    problem = make_least_squares(80, 20, rng=np.random.default_rng(3))
    lr = lr_frac * stability_bound(beta, problem.lams[-1])
    run = run_momentum(problem, lr, beta, 5000)
    predicted = float(convergence_rate(lr, beta, problem.lams))
    assert run.diverged_step is None
    assert measured_rate(run.errors) == pytest.approx(predicted, rel=0.02)


def test_above_the_bound_diverges_at_the_predicted_rate() -> None:
    problem = make_least_squares(80, 20, rng=np.random.default_rng(3))
    lr = 1.05 * stability_bound(0.5, problem.lams[-1])
    run = run_momentum(problem, lr, 0.5, 5000)
    assert run.diverged_step is not None and run.diverged_step < 5000
    assert run.errors[-1] > 1e5 * run.errors[0]
    assert measured_rate(run.errors) == pytest.approx(float(convergence_rate(lr, 0.5, problem.lams)), rel=0.02)
    assert math.isfinite(run.errors[-1])
