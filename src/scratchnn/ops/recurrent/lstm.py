"""LSTM: the course's step and sequence ops, and the general layer function nn.LSTM uses.

Gates in the course order i, f, o, g along the 4H axis of Wx, Wh and b (torch's weights are i, f, g, o:
nn.LSTM permutes them). One bias b, which is torch's b_ih + b_hh.
Derivation: docs/derivations/recurrent/lstm.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._numerics import quiet
from ..._validate import check_grad
from ._common import (
    check_dstates,
    check_recurrent_args,
    input_grads,
    input_projection,
    lengths_mask,
    masked_output,
    sigmoid,
    time_blocks,
    weight_grad,
)


@quiet
def lstm_step_forward(
    x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Any]:
    """One step: a = x Wx + prev_h Wh + b = [a_i, a_f, a_o, a_g]; i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g);
    next_c = f * prev_c + i * g;  next_h = o * tanh(next_c).

    Backward, with tc = tanh(next_c): dc = dnext_c + dnext_h * o * (1 - tc^2);
    da = [dc * g * i(1 - i), dc * prev_c * f(1 - f), dnext_h * tc * o(1 - o), dc * i * (1 - g^2)];
    dprev_c = dc * f;  dx = da Wx^T, dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da, db = sum_n da.

    Shape:
        x: (N, D);  prev_h, prev_c, next_h, next_c: (N, H);  Wx: (D, 4H);  Wh: (H, 4H);  b: (4H,)

    Derivation: docs/derivations/recurrent/lstm.md
    """
    H = check_recurrent_args(x, {"prev_h": prev_h, "prev_c": prev_c}, Wx, Wh, {"b": b}, 4, sequence=False)[2]
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, 4H) + (N, H) @ (H, 4H) -> (N, 4H)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tc = np.tanh(next_c)
    next_h = o * tc
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc)


@quiet
def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray | None, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`lstm_step_forward`: (dx, dprev_h, dprev_c, dWx, dWh, db); ``dnext_c=None`` means zero."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc = cache
    check_grad(dnext_h, "dnext_h", tc.shape, tc.dtype)
    (dc,) = check_dstates({"dnext_c": dnext_c}, tc.shape[0], tc.shape[1], tc.dtype)
    dc += dnext_h * o * (1 - tc**2)
    da = np.concatenate(  # (N, 4H): [da_i, da_f, da_o, da_g]
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tc * o * (1 - o), dc * i * (1 - g**2)], axis=1
    )
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


@quiet
def lstm_layer_forward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    *,
    lengths: Any = None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Any]:
    """A whole sequence of :func:`lstm_step_forward` from (h0, c0); returns ((h, h_n, c_n), cache).

    With ``lengths``, sequence n is real for its first lengths[n] steps; after them its state (h and c) is
    carried unchanged and its output is 0 (torch's packed sequences), so (h_n, c_n)[n] is its state after
    its last real step.

    Backward (BPTT), from t = T down to 1, with gh_T = dh_n, gc_T = dc_n and dh_t the gradient of output t:
    gh = dh_t + gh_t;  gc = gc_t + gh * o_t (1 - tanh(c_t)^2);  da_t = the step's da with (dnext_h, dc) = (gh, gc);
    gh_{t-1} = da_t Wh^T, gc_{t-1} = gc * f_t;  dh0 = gh_0, dc0 = gc_0;  dx_t = da_t Wx^T;
    dWx = sum_t x_t^T da_t, dWh = sum_t h_{t-1}^T da_t, db = sum_{t,n} da_t (one matmul each after the loop).
    At a padded step da_t = 0 and (gh, gc) pass through unchanged.

    Shape:
        x: (N, T, D);  h0, c0, h_n, c_n: (N, H);  Wx: (D, 4H);  Wh: (H, 4H);  b: (4H,);  h: (N, T, H)

    Derivation: docs/derivations/recurrent/lstm.md
    """
    N, D, H = check_recurrent_args(x, {"h0": h0, "c0": c0}, Wx, Wh, {"b": b}, 4, sequence=True)
    T = x.shape[1]
    mask, t_pad = lengths_mask(lengths, N, T)
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: with the sigmoid gates' columns of Wx, Wh and b halved (exactly, once),
    # one tanh per step covers all four gates
    half = np.ones(4 * H, dtype=x.dtype)
    half[: 3 * H] = 0.5
    gates = np.empty((T, N, 4 * H), dtype=x.dtype)  # halved pre-activations, then in place the gates i, f, o, g
    x1 = input_projection(x, Wx * half, b * half, out=gates.reshape(T * N, 4 * H))  # all steps' x_t Wx + b
    Wh_half = Wh * half  # (H, 4H)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[t + 1] = h_t
    cs = np.empty((T + 1, N, H), dtype=x.dtype)  # cs[t + 1] = c_t
    tcs = np.empty((T, N, H), dtype=x.dtype)  # tanh(c_t)
    hs[0], cs[0] = h0, c0
    hWh, ig = np.empty((N, 4 * H), dtype=x.dtype), np.empty((N, H), dtype=x.dtype)
    pad = ~mask  # (T, N, 1): the steps after each sequence's end
    for t in range(T):
        a = gates[t]  # (N, 4H)
        a += np.matmul(hs[t], Wh_half, out=hWh)  # (N, H) @ (H, 4H) -> (N, 4H)
        np.tanh(a, out=a)
        sig = a[:, : 3 * H]  # tanh(a / 2) -> sigmoid(a)
        sig *= 0.5
        sig += 0.5
        i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        c = np.multiply(f, cs[t], out=cs[t + 1])
        c += np.multiply(i, g, out=ig)
        np.multiply(o, np.tanh(c, out=tcs[t]), out=hs[t + 1])
        if t >= t_pad:  # sequences already over carry their state
            np.copyto(hs[t + 1], hs[t], where=pad[t])
            np.copyto(c, cs[t], where=pad[t])
    cache = (x1, hs, cs, tcs, gates, Wx, Wh, mask, t_pad)
    return (masked_output(hs, mask, t_pad), hs[T].copy(), cs[T].copy()), cache


def _local_derivatives(gates: np.ndarray, c_prev: np.ndarray, tc: np.ndarray, da: np.ndarray, k: np.ndarray) -> None:
    """For a block of steps, what the loop scales by (gc, gc, gh, gc) into da, and by gh into gc:

    da = [g i(1 - i), c_{t-1} f(1 - f), tc o(1 - o), i (1 - g^2)],  k = o (1 - tc^2), tc = tanh(c_t).

    Shape:
        gates, da: (tb, N, 4H);  c_prev, tc, k: (tb, N, H)
    """
    H = tc.shape[2]
    i, o, g = gates[:, :, :H], gates[:, :, 2 * H : 3 * H], gates[:, :, 3 * H :]
    sig = np.subtract(1, gates[:, :, : 3 * H], out=da[:, :, : 3 * H])  # s (1 - s) of the sigmoid gates
    sig *= gates[:, :, : 3 * H]
    da[:, :, :H] *= g
    da[:, :, H : 2 * H] *= c_prev
    da[:, :, 2 * H : 3 * H] *= tc
    dg = np.multiply(g, g, out=da[:, :, 3 * H :])
    np.subtract(1, dg, out=dg)
    dg *= i
    np.multiply(tc, tc, out=k)
    np.subtract(1, k, out=k)
    k *= o


@quiet
def lstm_layer_backward(
    dh: np.ndarray, dh_n: np.ndarray | None, dc_n: np.ndarray | None, cache: Any
) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`lstm_layer_forward`: (dx, dh0, dc0, dWx, dWh, db); ``dh_n``, ``dc_n`` None mean zero."""
    x1, hs, cs, tcs, gates, Wx, Wh, mask, t_pad = cache
    T, N = x1.shape[:2]
    H = hs.shape[2]
    check_grad(dh, "dh", (N, T, H), hs.dtype)
    gh, gc = check_dstates({"dh_n": dh_n, "dc_n": dc_n}, N, H, hs.dtype)  # what flows back into h_t and c_t
    da = np.empty((T, N, 4 * H), dtype=hs.dtype)  # the local derivatives, then in place da_t
    blocks = time_blocks(T, gates.nbytes // max(T, 1))  # one step's bytes (no gates[0] when T = 0)
    k_block = np.empty((blocks[0][1] - blocks[0][0] if T else 0, N, H), dtype=hs.dtype)
    dht = dh.transpose(1, 0, 2)  # a view: (N, T, H) -> (T, N, H)
    back, ghk = np.empty((N, H), dtype=hs.dtype), np.empty((N, H), dtype=hs.dtype)
    WhT = Wh.T
    for t0, t1 in blocks:
        k = k_block[: t1 - t0]
        _local_derivatives(gates[t0:t1], cs[t0:t1], tcs[t0:t1], da[t0:t1], k)
        f = gates[t0:t1, :, H : 2 * H]
        if t1 > t_pad:  # a padded step: no da, gh and gc pass straight through
            da[t0:t1] *= mask[t0:t1]
            k *= mask[t0:t1]
            f = np.where(mask[t0:t1], f, 1)
        for t in range(t1 - 1, t0 - 1, -1):
            padded = t >= t_pad
            if padded:  # padded outputs are constant zeros: their dh is dropped
                np.add(gh, dht[t], out=gh, where=mask[t])
            else:
                gh += dht[t]
            gc += np.multiply(gh, k[t - t0], out=ghk)
            d = da[t].reshape(N, 4, H)  # a view: (N, 4H) -> (N, 4, H)
            d[:, :2] *= gc[:, None]
            d[:, 3] *= gc
            d[:, 2] *= gh
            gc *= f[t - t0]
            if padded:
                np.copyto(gh, np.matmul(da[t], WhT, out=back), where=mask[t])  # (N, 4H) @ (4H, H) -> (N, H)
            else:
                np.matmul(da[t], WhT, out=gh)  # (N, 4H) @ (4H, H) -> (N, H)
    dx, dWx, db = input_grads(x1, da, Wx)
    dWh = weight_grad(hs[:-1].reshape(T * N, H), da.reshape(T * N, 4 * H), Wh)  # (H, T*N) @ (T*N, 4H) -> (H, 4H)
    return dx, gh, gc, dWx, dWh, db


@quiet
def lstm_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, Any]:
    """The course's LSTM over a sequence from (h0, c0 = 0): :func:`lstm_layer_forward` returning only h.

    Backward: BPTT as in :func:`lstm_layer_forward`, with dh_n = dc_n = 0 and no gradient for c0.

    Shape:
        x: (N, T, D);  h0: (N, H);  Wx: (D, 4H);  Wh: (H, 4H);  b: (4H,);  h: (N, T, H)

    Derivation: docs/derivations/recurrent/lstm.md
    """
    c0 = np.zeros_like(h0) if isinstance(h0, np.ndarray) else h0
    (h, _, _), cache = lstm_layer_forward(x, h0, c0, Wx, Wh, b)
    return h, cache


@quiet
def lstm_backward(dh: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`lstm_forward`: (dx, dh0, dWx, dWh, db) (c0 = 0 is no argument)."""
    dx, dh0, _, dWx, dWh, db = lstm_layer_backward(dh, None, None, cache)
    return dx, dh0, dWx, dWh, db
