"""Vanilla (Elman) RNN: the course's step and sequence ops, and the general layer function nn.RNN uses.

h_t = phi(x_t Wx + h_{t-1} Wh + b), phi = tanh (or relu for the layer). Backward is backpropagation
through time: the gradient of h_{t-1} is what flows in from its output plus what flows back from h_t.
Derivation: docs/derivations/recurrent/rnn_bptt.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._numerics import quiet
from ..._validate import check_choice, check_grad
from ._common import (
    check_dstates,
    check_recurrent_args,
    input_grads,
    input_projection,
    lengths_mask,
    masked_output,
    weight_grad,
)

NONLINEARITIES = ("tanh", "relu")


@quiet
def rnn_step_forward(
    x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, *, nonlinearity: str = "tanh"
) -> tuple[np.ndarray, Any]:
    """One step: next_h = tanh(x Wx + prev_h Wh + b) (``nonlinearity="relu"``: max(0, .)).

    Backward: da = dnext_h * (1 - next_h^2) (relu: dnext_h * [next_h > 0]); dx = da Wx^T,
    dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da, db = sum_n da.

    Shape:
        x: (N, D);  prev_h, next_h: (N, H);  Wx: (D, H);  Wh: (H, H);  b: (H,)

    Derivation: docs/derivations/recurrent/rnn_bptt.md
    """
    check_recurrent_args(x, {"prev_h": prev_h}, Wx, Wh, {"b": b}, 1, sequence=False)
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, H) + (N, H) @ (H, H) -> (N, H)
    next_h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    return next_h, (x, prev_h, Wx, Wh, next_h, nonlinearity)


@quiet
def rnn_step_backward(dnext_h: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`rnn_step_forward`: (dx, dprev_h, dWx, dWh, db)."""
    x, prev_h, Wx, Wh, next_h, nonlinearity = cache
    check_grad(dnext_h, "dnext_h", next_h.shape, next_h.dtype)
    da = dnext_h * (1 - next_h**2) if nonlinearity == "tanh" else dnext_h * (next_h > 0)  # (N, H)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


@quiet
def rnn_layer_forward(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    *,
    nonlinearity: str = "tanh",
    lengths: Any = None,
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """A whole sequence: h_t = phi(x_t Wx + h_{t-1} Wh + b), t = 1..T, phi = tanh or relu; returns ((h, h_n), cache).

    With ``lengths``, sequence n is real for its first lengths[n] steps; after them its state is carried
    unchanged and its output is 0 (torch's packed sequences as pad_packed_sequence returns them), so
    h_n[n] is its state after its last real step.

    Backward (BPTT), from t = T down to 1, with g_T = dh_n and dh_t the gradient of output t:
    da_t = (dh_t + g_t) * phi'(h_t), g_{t-1} = da_t Wh^T; dh0 = g_0; dx_t = da_t Wx^T;
    dWx = sum_t x_t^T da_t, dWh = sum_t h_{t-1}^T da_t, db = sum_{t,n} da_t (one matmul each after the loop).
    At a padded step da_t = 0 and g_{t-1} = g_t.

    Shape:
        x: (N, T, D);  h0, h_n: (N, H);  Wx: (D, H);  Wh: (H, H);  b: (H,);  h: (N, T, H);  lengths: (N,)

    Derivation: docs/derivations/recurrent/rnn_bptt.md
    """
    N, D, H = check_recurrent_args(x, {"h0": h0}, Wx, Wh, {"b": b}, 1, sequence=True)
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    T = x.shape[1]
    mask, t_pad = lengths_mask(lengths, N, T)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[t + 1] = h_t; hs[0] = h0
    x1 = input_projection(x, Wx, b, out=hs[1:].reshape(T * N, H))  # all steps' x_t Wx + b at once
    hs[0] = h0
    hWh = np.empty((N, H), dtype=x.dtype)
    pad = ~mask  # (T, N, 1): the steps after each sequence's end
    for t in range(T):
        h = hs[t + 1]  # (N, H), holds x_t Wx + b
        h += np.matmul(hs[t], Wh, out=hWh)  # (N, H) @ (H, H) -> (N, H)
        if nonlinearity == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0, out=h)
        if t >= t_pad:
            np.copyto(h, hs[t], where=pad[t])  # sequences already over carry their state
    cache = (x1, hs, Wx, Wh, mask, t_pad, nonlinearity)
    return (masked_output(hs, mask, t_pad), hs[T].copy()), cache


@quiet
def rnn_layer_backward(dh: np.ndarray, dh_n: np.ndarray | None, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`rnn_layer_forward`: (dx, dh0, dWx, dWh, db); ``dh_n=None`` means zero."""
    x1, hs, Wx, Wh, mask, t_pad, nonlinearity = cache
    T, N = x1.shape[:2]
    H = hs.shape[2]
    check_grad(dh, "dh", (N, T, H), hs.dtype)
    (g,) = check_dstates({"dh_n": dh_n}, N, H, hs.dtype)  # g: the gradient flowing back into h_t
    da = np.empty((T, N, H), dtype=hs.dtype)  # starts as phi'(h_t) for all steps, ends as da_t
    if nonlinearity == "tanh":
        np.multiply(hs[1:], hs[1:], out=da)
        np.subtract(1, da, out=da)
    else:
        np.greater(hs[1:], 0, out=da, casting="unsafe")
    if t_pad < T:
        da *= mask  # a padded step passes its gradient straight through: no da
    dht = dh.transpose(1, 0, 2)  # a view: (N, T, H) -> (T, N, H)
    back = np.empty((N, H), dtype=hs.dtype)
    WhT = Wh.T
    for t in range(T - 1, -1, -1):
        if t >= t_pad:  # padded outputs are constant zeros: their dh is dropped, and g passes through
            np.add(g, dht[t], out=g, where=mask[t])
            da[t] *= g
            np.matmul(da[t], WhT, out=back)  # (N, H) @ (H, H) -> (N, H)
            np.copyto(g, back, where=mask[t])
        else:
            g += dht[t]
            da[t] *= g
            np.matmul(da[t], WhT, out=g)  # (N, H) @ (H, H) -> (N, H)
    dx, dWx, db = input_grads(x1, da, Wx)
    dWh = weight_grad(hs[:-1].reshape(T * N, H), da.reshape(T * N, H), Wh)  # (H, T*N) @ (T*N, H) -> (H, H)
    return dx, g, dWx, dWh, db


@quiet
def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """The course's tanh RNN over a sequence: h[:, t] = tanh(x[:, t] Wx + h[:, t-1] Wh + b), h[:, -1] = h0.

    :func:`rnn_layer_forward` without lengths, returning only h. Backward: BPTT as there, with dh_n = 0.

    Shape:
        x: (N, T, D);  h0: (N, H);  Wx: (D, H);  Wh: (H, H);  b: (H,);  h: (N, T, H)

    Derivation: docs/derivations/recurrent/rnn_bptt.md
    """
    (h, _), cache = rnn_layer_forward(x, h0, Wx, Wh, b)
    return h, cache


@quiet
def rnn_backward(dh: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`rnn_forward`: (dx, dh0, dWx, dWh, db)."""
    return rnn_layer_backward(dh, None, cache)
