"""GRU with torch's equations: step and sequence ops in the course's style, and the layer function nn.GRU uses.

Gates r, z, n in that order along the 3H axis of Wx, Wh and of the two biases bx (torch's b_ih) and bh
(b_hh); bh's n part sits inside the reset gate's product, so the two biases are not one.
Derivation: docs/derivations/recurrent/gru.md
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
    sigmoid_,
    time_blocks,
    weight_grad,
)


@quiet
def gru_step_forward(
    x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, bx: np.ndarray, bh: np.ndarray
) -> tuple[np.ndarray, Any]:
    """One step, with ax = x Wx + bx and ah = prev_h Wh + bh, each split [r, z, n] along 3H:
    r = sigmoid(ax_r + ah_r), z = sigmoid(ax_z + ah_z), n = tanh(ax_n + r * ah_n),
    next_h = (1 - z) * n + z * prev_h.

    Backward: dan = dnext_h * (1 - z) * (1 - n^2);  daz = dnext_h * (prev_h - n) * z(1 - z);
    dar = dan * ah_n * r(1 - r);  dax = [dar, daz, dan], dah = [dar, daz, dan * r];
    dx = dax Wx^T;  dprev_h = dnext_h * z + dah Wh^T;  dWx = x^T dax, dWh = prev_h^T dah;
    dbx = sum_n dax, dbh = sum_n dah.

    Shape:
        x: (N, D);  prev_h, next_h: (N, H);  Wx: (D, 3H);  Wh: (H, 3H);  bx, bh: (3H,)

    Derivation: docs/derivations/recurrent/gru.md
    """
    H = check_recurrent_args(x, {"prev_h": prev_h}, Wx, Wh, {"bx": bx, "bh": bh}, 3, sequence=False)[2]
    ax = x @ Wx + bx  # (N, D) @ (D, 3H) -> (N, 3H)
    ah = prev_h @ Wh + bh  # (N, H) @ (H, 3H) -> (N, 3H)
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    ahn = ah[:, 2 * H :]
    n = np.tanh(ax[:, 2 * H :] + r * ahn)
    next_h = (1 - z) * n + z * prev_h
    return next_h, (x, prev_h, Wx, Wh, r, z, n, ahn)


@quiet
def gru_step_backward(dnext_h: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`gru_step_forward`: (dx, dprev_h, dWx, dWh, dbx, dbh)."""
    x, prev_h, Wx, Wh, r, z, n, ahn = cache
    check_grad(dnext_h, "dnext_h", n.shape, n.dtype)
    dan = dnext_h * (1 - z) * (1 - n**2)
    daz = dnext_h * (prev_h - n) * z * (1 - z)
    dar = dan * ahn * r * (1 - r)
    dax = np.concatenate([dar, daz, dan], axis=1)  # (N, 3H)
    dah = np.concatenate([dar, daz, dan * r], axis=1)  # (N, 3H)
    dprev_h = dnext_h * z + dah @ Wh.T  # (N, 3H) @ (3H, H) -> (N, H)
    return dax @ Wx.T, dprev_h, x.T @ dax, prev_h.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


@quiet
def gru_layer_forward(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    bx: np.ndarray,
    bh: np.ndarray,
    *,
    lengths: Any = None,
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """A whole sequence of :func:`gru_step_forward` from h0; returns ((h, h_n), cache).

    With ``lengths``, sequence n is real for its first lengths[n] steps; after them its state is carried
    unchanged and its output is 0 (torch's packed sequences), so h_n[n] is its state after its last real step.

    Backward (BPTT), from t = T down to 1, with g_T = dh_n and dh_t the gradient of output t:
    g = dh_t + g_t;  dax_t, dah_t = the step's with dnext_h = g;  g_{t-1} = g * z_t + dah_t Wh^T;
    dh0 = g_0;  dx_t = dax_t Wx^T;  dWx = sum_t x_t^T dax_t, dWh = sum_t h_{t-1}^T dah_t,
    dbx = sum_{t,n} dax_t, dbh = sum_{t,n} dah_t (one matmul or sum each after the loop).
    At a padded step dax_t = dah_t = 0 and g passes through unchanged.

    Shape:
        x: (N, T, D);  h0, h_n: (N, H);  Wx: (D, 3H);  Wh: (H, 3H);  bx, bh: (3H,);  h: (N, T, H)

    Derivation: docs/derivations/recurrent/gru.md
    """
    N, D, H = check_recurrent_args(x, {"h0": h0}, Wx, Wh, {"bx": bx, "bh": bh}, 3, sequence=True)
    T = x.shape[1]
    mask, t_pad = lengths_mask(lengths, N, T)
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: the r, z columns of Wx, Wh and the biases are halved (exactly, once)
    half = np.ones(3 * H, dtype=x.dtype)
    half[: 2 * H] = 0.5
    b = bx.copy()
    b[: 2 * H] += bh[: 2 * H]  # bh's r, z part adds like bx's; its n part is gated by r
    ax = np.empty((T, N, 3 * H), dtype=x.dtype)  # x_t Wx + bx (+ bh's r, z); in place its r, z part becomes r, z
    x1 = input_projection(x, Wx * half, b * half, out=ax.reshape(T * N, 3 * H))  # all steps at once
    Wh_half = Wh * half  # (H, 3H)
    bhn = bh[2 * H :]
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[t + 1] = h_t
    ahn = np.empty((T, N, H), dtype=x.dtype)  # h_{t-1} Wh_n + bh_n
    ns = np.empty((T, N, H), dtype=x.dtype)  # n_t
    hs[0] = h0
    hWh = np.empty((N, 3 * H), dtype=x.dtype)
    pad = ~mask  # (T, N, 1): the steps after each sequence's end
    for t in range(T):
        np.matmul(hs[t], Wh_half, out=hWh)  # (N, H) @ (H, 3H) -> (N, 3H)
        rz = ax[t, :, : 2 * H]
        rz += hWh[:, : 2 * H]
        sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        n = np.multiply(r, np.add(hWh[:, 2 * H :], bhn, out=ahn[t]), out=ns[t])
        n += ax[t, :, 2 * H :]
        np.tanh(n, out=n)
        h = np.subtract(hs[t], n, out=hs[t + 1])  # h_t = n + z * (h_{t-1} - n)
        h *= z
        h += n
        if t >= t_pad:  # sequences already over carry their state
            np.copyto(h, hs[t], where=pad[t])
    cache = (x1, hs, ax, ahn, ns, Wx, Wh, mask, t_pad)
    return (masked_output(hs, mask, t_pad), hs[T].copy()), cache


def _local_derivatives(
    rz: np.ndarray, n: np.ndarray, h_prev: np.ndarray, ahn: np.ndarray, q: np.ndarray, tmp: np.ndarray
) -> None:
    """For a block of steps, what the loop scales by g (dan = g q_n, daz = g q_z) and by dan (dar = dan q_r):

    q = [ahn r(1 - r), (h_{t-1} - n) z(1 - z), (1 - z)(1 - n^2)];  ``tmp`` is scratch of n's shape.

    Shape:
        rz: (tb, N, 2H);  n, h_prev, ahn, tmp: (tb, N, H);  q: (tb, N, 3H)
    """
    H = n.shape[2]
    sig = np.subtract(1, rz, out=q[:, :, : 2 * H])  # s (1 - s) of r and z
    sig *= rz
    q[:, :, :H] *= ahn
    q[:, :, H : 2 * H] *= np.subtract(h_prev, n, out=tmp)
    qn = np.multiply(n, n, out=q[:, :, 2 * H :])
    np.subtract(1, qn, out=qn)
    qn *= np.subtract(1, rz[:, :, H:], out=tmp)


@quiet
def gru_layer_backward(dh: np.ndarray, dh_n: np.ndarray | None, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`gru_layer_forward`: (dx, dh0, dWx, dWh, dbx, dbh); ``dh_n=None`` means zero."""
    x1, hs, ax, ahn, ns, Wx, Wh, mask, t_pad = cache
    T, N = x1.shape[:2]
    H = hs.shape[2]
    check_grad(dh, "dh", (N, T, H), hs.dtype)
    (g,) = check_dstates({"dh_n": dh_n}, N, H, hs.dtype)  # the gradient flowing back into h_t
    dah = np.empty((T, N, 3 * H), dtype=hs.dtype)  # [dar, daz, dan * r]
    dax = np.empty((T, N, 3 * H), dtype=hs.dtype)  # [dar, daz, dan]; its r, z part is copied after the loop
    blocks = time_blocks(T, ax.nbytes // max(T, 1))  # one step's bytes (no ax[0] when T = 0)
    tb = blocks[0][1] - blocks[0][0] if T else 0
    q_block, tmp_block = np.empty((tb, N, 3 * H), dtype=hs.dtype), np.empty((tb, N, H), dtype=hs.dtype)
    dht = dh.transpose(1, 0, 2)  # a view: (N, T, H) -> (T, N, H)
    back = np.empty((N, H), dtype=hs.dtype)
    WhT = Wh.T
    for t0, t1 in blocks:
        q = q_block[: t1 - t0]
        _local_derivatives(ax[t0:t1, :, : 2 * H], ns[t0:t1], hs[t0:t1], ahn[t0:t1], q, tmp_block[: t1 - t0])
        r, z = ax[t0:t1, :, :H], ax[t0:t1, :, H : 2 * H]  # (tb, N, H) views
        if t1 > t_pad:  # a padded step: no gate gradients, g passes straight through (h_{t-1} -> h_t, weight 1)
            q[:, :, H:] *= mask[t0:t1]
            z = np.where(mask[t0:t1], z, 1)
        for t in range(t1 - 1, t0 - 1, -1):
            if t >= t_pad:  # padded outputs are constant zeros: their dh is dropped
                np.add(g, dht[t], out=g, where=mask[t])
            else:
                g += dht[t]
            qr, qz, qn = q[t - t0, :, :H], q[t - t0, :, H : 2 * H], q[t - t0, :, 2 * H :]
            dan = np.multiply(g, qn, out=dax[t, :, 2 * H :])
            np.multiply(g, qz, out=dah[t, :, H : 2 * H])
            np.multiply(dan, qr, out=dah[t, :, :H])
            np.multiply(dan, r[t - t0], out=dah[t, :, 2 * H :])
            g *= z[t - t0]
            g += np.matmul(dah[t], WhT, out=back)  # (N, 3H) @ (3H, H) -> (N, H); zero rows at padded steps
    dax[:, :, : 2 * H] = dah[:, :, : 2 * H]
    dx, dWx, dbx = input_grads(x1, dax, Wx)
    dah2 = dah.reshape(T * N, 3 * H)
    dWh = weight_grad(hs[:-1].reshape(T * N, H), dah2, Wh)  # (H, T*N) @ (T*N, 3H) -> (H, 3H)
    return dx, g, dWx, dWh, dbx, dah2.sum(axis=0)


@quiet
def gru_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, bx: np.ndarray, bh: np.ndarray
) -> tuple[np.ndarray, Any]:
    """A GRU over a sequence from h0: :func:`gru_layer_forward` without lengths, returning only h.

    Backward: BPTT as in :func:`gru_layer_forward`, with dh_n = 0.

    Shape:
        x: (N, T, D);  h0: (N, H);  Wx: (D, 3H);  Wh: (H, 3H);  bx, bh: (3H,);  h: (N, T, H)

    Derivation: docs/derivations/recurrent/gru.md
    """
    (h, _), cache = gru_layer_forward(x, h0, Wx, Wh, bx, bh)
    return h, cache


@quiet
def gru_backward(dh: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`gru_forward`: (dx, dh0, dWx, dWh, dbx, dbh)."""
    return gru_layer_backward(dh, None, cache)
