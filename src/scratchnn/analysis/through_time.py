"""Gradients through time: how ||dL/dh_t|| grows or vanishes along a recurrent network's steps.

A vanilla recurrence and its backpropagation through time (BPTT)::

    a_t = h_{t-1} W_hh + x_t W_xh + b,        h_t = phi(a_t),                       t = 1 .. T
    g_t := dL/dh_t = dL_t/dh_t + (phi'(a_{t+1}) * g_{t+1}) W_hh^T,   g_T = dL_T/dh_T

``g_t`` is the full BPTT gradient into h_t: the loss at step t and every path through later steps.
Each step back multiplies by the Jacobian ``diag(phi'(a_{t+1})) W_hh^T``, so with phi = identity,
``W_hh = s Q`` (Q orthogonal) and the loss on the last step only, ``||g_t|| = s^(T-t) ||g_T||``
exactly: the gradient vanishes for spectral radius s < 1 and explodes for s > 1. A saturating phi
(tanh with a large bias or large weights) shrinks phi' below 1 and moves that boundary.

The loss is a random linear readout, ``L = sum_{t in S} sum_n <c_{n,t}, h_{n,t}>`` with fixed
``c ~ N(0, 1/H)`` (S: every step, or the last), so that ``dL_t/dh_t = c_t`` whatever the network does.
This module turns the course project's slider widget (weight and bias scale -> ||h_t||, ||dL/dh_t||)
into functions a sweep can call: :func:`rnn_flow` for one setting, :func:`rnn_flow_grid` for a grid,
and :func:`module_flow` for an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (gated cells included).
See docs/derivations/recurrent/rnn_bptt.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._config import get_rng
from .._validate import check_array, check_choice, check_float, check_int, invalid_shape, invalid_type, invalid_value
from ..nn import init
from ..nn.recurrent import GRU, LSTM, RNN

__all__ = ["NONLINEARITIES", "LOSS_ON", "FlowThroughTime", "scaled_rnn", "rnn_flow", "rnn_flow_grid", "module_flow"]

NONLINEARITIES = ("identity", "relu", "tanh")
LOSS_ON = ("last", "all")


@dataclass(frozen=True)
class FlowThroughTime:
    """Per-step norms of one run, index 0 being step t = 1; norms are per sequence, averaged over the batch.

    Shape:
        h_norm, grad_norm: (T,)
    """

    h_norm: np.ndarray  # ||h_t||
    grad_norm: np.ndarray  # ||dL/dh_t||, the full BPTT gradient
    spectral_radius: float  # of W_hh: max |eigenvalue|

    @property
    def log10_ratio(self) -> float:
        """log10 ||dL/dh_1|| / ||dL/dh_T||: below 0 the gradient vanishes going back, above 0 it explodes."""
        with np.errstate(divide="ignore"):
            return float(np.log10(self.grad_norm[0]) - np.log10(self.grad_norm[-1]))


def _per_sequence_norm(a: np.ndarray) -> np.ndarray:
    """(N, T, H) -> (T,): each sequence's L2 norm per step, averaged over the batch."""
    return np.sqrt(np.square(a).sum(axis=2)).mean(axis=0)


def _readout(rng: np.random.Generator, N: int, T: int, H: int, loss_on: str, dtype: np.dtype) -> np.ndarray:
    """dL_t/dh_t of the random linear readout: c_t on the loss steps, 0 elsewhere. (N, T, H)"""
    c = (rng.standard_normal((N, T, H)) / np.sqrt(H)).astype(dtype)
    if loss_on == "last":
        c[:, :-1] = 0
    return c


def scaled_rnn(
    hidden_size: int,
    input_size: int,
    weight_scale: float,
    bias_scale: float,
    *,
    weights: str = "orthogonal",
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The widget's network: ``W_hh`` with spectral radius ~ ``weight_scale``, ``b ~ bias_scale N(0, 1)``.

    ``weights='orthogonal'``: ``W_hh = weight_scale * Q``, spectral radius exactly ``weight_scale``;
    ``'gaussian'``: entries ``N(0, weight_scale^2 / H)``, spectral radius ~ ``weight_scale`` for large H
    (the circular law). ``W_xh`` is ``N(0, 1/D)`` either way. Float64.

    Shape:
        W_hh: (H, H);  W_xh: (D, H);  b: (H,)
    """
    H = check_int(hidden_size, "hidden_size", low=1)
    D = check_int(input_size, "input_size", low=1)
    s = check_float(weight_scale, "weight_scale", low=0.0)
    sb = check_float(bias_scale, "bias_scale", low=0.0)
    weights = check_choice(weights, "weights", ("orthogonal", "gaussian"))
    rng = get_rng(rng)
    if weights == "orthogonal":
        W_hh = init.orthogonal_(np.empty((H, H)), gain=s, rng=rng)
    else:
        W_hh = rng.normal(0.0, s / np.sqrt(H), size=(H, H))
    W_xh = rng.normal(0.0, 1 / np.sqrt(D), size=(D, H))
    b = sb * rng.standard_normal(H)
    return W_hh, W_xh, b


def rnn_flow(
    x: np.ndarray,
    W_hh: np.ndarray,
    W_xh: np.ndarray,
    b: np.ndarray,
    *,
    h0: np.ndarray | None = None,
    nonlinearity: str = "tanh",
    loss_on: str = "last",
    readout: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> FlowThroughTime:
    """||h_t|| and the full BPTT gradient ||dL/dh_t|| of a vanilla RNN, for every step (module docstring).

    ``readout``: the direct gradients dL_t/dh_t of some other loss; None draws the random readout
    ``c`` from ``rng`` on the ``loss_on`` steps. Float64 throughout (inputs are converted).

    Shape:
        x: (N, T, D);  W_hh: (H, H);  W_xh: (D, H);  b: (H,);  h0: (N, H), zeros if None;  readout: (N, T, H)
    """
    x = check_array(x, "x", ndim=3).astype(np.float64)
    N, T, D = x.shape
    W_hh = check_array(W_hh, "W_hh", ndim=2).astype(np.float64)
    H = W_hh.shape[0]
    if W_hh.shape != (H, H):
        raise invalid_shape("W_hh", "a square (H, H)", W_hh.shape)
    W_xh = check_array(W_xh, "W_xh", ndim=2).astype(np.float64)
    if W_xh.shape != (D, H):
        raise invalid_shape("W_xh", f"(D, H) = ({D}, {H})", W_xh.shape)
    b = check_array(b, "b", ndim=1).astype(np.float64)
    if b.shape != (H,):
        raise invalid_shape("b", f"(H,) = ({H},)", b.shape)
    h = np.zeros((N, H)) if h0 is None else check_array(h0, "h0", ndim=2).astype(np.float64)
    if h.shape != (N, H):
        raise invalid_shape("h0", f"(N, H) = ({N}, {H})", h.shape)
    nonlinearity = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    loss_on = check_choice(loss_on, "loss_on", LOSS_ON)

    hs = np.empty((N, T, H))
    dphi = np.empty((N, T, H))  # phi'(a_t)
    a_in = x @ W_xh + b  # (N, T, D) @ (D, H) -> (N, T, H): the input part of every step at once
    for t in range(T):
        a = h @ W_hh + a_in[:, t]  # (N, H)
        if nonlinearity == "tanh":
            h = np.tanh(a)
            dphi[:, t] = 1 - h * h
        elif nonlinearity == "relu":
            h = np.maximum(a, 0)
            dphi[:, t] = a > 0
        else:
            h = a
            dphi[:, t] = 1
        hs[:, t] = h

    if readout is None:
        c = _readout(get_rng(rng), N, T, H, loss_on, np.dtype(np.float64))
    else:
        c = check_array(readout, "readout", ndim=3).astype(np.float64)
        if c.shape != (N, T, H):
            raise invalid_shape("readout", f"(N, T, H) = ({N}, {T}, {H})", c.shape)
    g = np.empty((N, T, H))
    g[:, -1] = c[:, -1]
    for t in range(T - 2, -1, -1):  # g_t = c_t + (phi'(a_{t+1}) * g_{t+1}) W_hh^T
        g[:, t] = c[:, t] + (dphi[:, t + 1] * g[:, t + 1]) @ W_hh.T
    radius = float(np.abs(np.linalg.eigvals(W_hh)).max())
    return FlowThroughTime(_per_sequence_norm(hs), _per_sequence_norm(g), radius)


def rnn_flow_grid(
    weight_scales: Sequence[float],
    bias_scales: Sequence[float],
    *,
    T: int = 50,
    batch_size: int = 16,
    hidden_size: int = 64,
    input_size: int = 8,
    nonlinearity: str = "tanh",
    loss_on: str = "last",
    weights: str = "orthogonal",
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """:func:`rnn_flow` over a grid of (weight scale, bias scale), each cell from the same seed.

    Every cell draws its weights, inputs ``x ~ N(0, 1)`` and readout from ``seed`` alone, so a cell's
    numbers do not depend on the rest of the grid (and nearby scales share their random directions).

    Returns ``h_norm`` and ``grad_norm`` (Sw, Sb, T), ``spectral_radius`` and ``log10_ratio`` (Sw, Sb).
    """
    T = check_int(T, "T", low=1)
    Sw, Sb = len(weight_scales), len(bias_scales)
    out = {
        "h_norm": np.empty((Sw, Sb, T)),
        "grad_norm": np.empty((Sw, Sb, T)),
        "spectral_radius": np.empty((Sw, Sb)),
        "log10_ratio": np.empty((Sw, Sb)),
    }
    for i, s in enumerate(weight_scales):
        for j, sb in enumerate(bias_scales):
            rng = np.random.default_rng(seed)
            W_hh, W_xh, b = scaled_rnn(hidden_size, input_size, s, sb, weights=weights, rng=rng)
            x = rng.standard_normal((batch_size, T, input_size))
            flow = rnn_flow(x, W_hh, W_xh, b, nonlinearity=nonlinearity, loss_on=loss_on, rng=rng)
            out["h_norm"][i, j] = flow.h_norm
            out["grad_norm"][i, j] = flow.grad_norm
            out["spectral_radius"][i, j] = flow.spectral_radius
            out["log10_ratio"][i, j] = flow.log10_ratio
    return out


def module_flow(
    module: RNN | LSTM | GRU,
    x: np.ndarray,
    *,
    loss_on: str = "last",
    readout: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> FlowThroughTime:
    """||h_t|| and the full BPTT gradient ||dL/dh_t|| of a one-layer ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``.

    The gradient into h_t is what BPTT carries back through step t: the direct term dL_t/dh_t plus the
    gradient of the later steps' loss with respect to the state after step t. The second is the h0
    gradient of the module run on steps t+1..T from that state (for the LSTM, the state (h_t, c_t),
    so dL/dh_t holds c_t fixed), which needs no access to the module's internals: T - 1 runs of the
    module, O(T^2) steps in all. ``spectral_radius`` is that of ``weight_hh_l0`` for ``nn.RNN`` and NaN
    for the gated cells (their recurrence has no single matrix). The module is used in its current mode.

    Shape:
        x: (N, T, input_size) for batch_first, (T, N, input_size) otherwise;  readout: (N, T, H)
    """
    if not isinstance(module, (RNN, LSTM, GRU)):
        raise invalid_type("module", "an nn.RNN, nn.LSTM or nn.GRU", module)
    if module.num_layers != 1 or module.bidirectional:
        raise invalid_value("module", "one layer, one direction", module)
    x = check_array(x, "x", ndim=3)
    xb = x if module.batch_first else x.transpose(1, 0, 2)  # (N, T, D)
    N, T, _ = xb.shape
    H = module.hidden_size
    loss_on = check_choice(loss_on, "loss_on", LOSS_ON)
    if readout is None:
        c = _readout(get_rng(rng), N, T, H, loss_on, x.dtype)
    else:
        c = check_array(readout, "readout", ndim=3)
        if c.shape != (N, T, H):
            raise invalid_shape("readout", f"(N, T, H) = ({N}, {T}, {H})", c.shape)

    def run(steps: np.ndarray, hx: object = None) -> tuple[np.ndarray, object]:
        out, state = module(steps if module.batch_first else steps.transpose(1, 0, 2), hx)
        return (out if module.batch_first else out.transpose(1, 0, 2)), state

    hs, _ = run(xb)  # (N, T, H): h_1 .. h_T
    g = np.array(c, dtype=np.float64)  # the direct terms; the last step has nothing after it
    for t in range(1, T):  # the state after t steps, then steps t+1 .. T from it
        _, state = run(xb[:, :t])
        run(xb[:, t:], state)
        dc = c[:, t:] if module.batch_first else c[:, t:].transpose(1, 0, 2)
        _, dstate = module.backward(np.ascontiguousarray(dc))
        dh0 = dstate[0] if isinstance(module, LSTM) else dstate  # (1, N, H)
        g[:, t - 1] += dh0[0]
    radius = float(np.abs(np.linalg.eigvals(module.weight_hh_l0.data)).max()) if isinstance(module, RNN) else np.nan
    return FlowThroughTime(_per_sequence_norm(hs.astype(np.float64)), _per_sequence_norm(g), radius)
