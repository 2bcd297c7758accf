"""What the RNN, LSTM and GRU ops share: argument checks, sequence lengths as a mask, the gate sigmoid,
time-major layout and weight gradients in the weights' own memory layout.

The layer functions loop over time only. Internally they are time-major, (T, N, ...): one step is then a
contiguous (N, ...) block, the input projection of all steps is one (T*N, D) @ (D, G) matmul, and the
weight gradients after backpropagation through time are one (D, T*N) @ (T*N, G) matmul each.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..._validate import check_array, check_grad, check_same_dtype, invalid_shape, invalid_type
from .._blocks import BLOCK_BYTES


def check_recurrent_args(
    x: Any,
    states: dict[str, Any],
    Wx: Any,
    Wh: Any,
    biases: dict[str, Any],
    gates: int,
    *,
    sequence: bool,
) -> tuple[int, int, int]:
    """Check the arguments of a step (x (N, D)) or sequence (x (N, T, D)) op; return (N, D, H).

    ``states`` are the hidden states by name (h0, prev_h, c0, ...), each (N, H); ``gates`` is how many
    (D, H) blocks Wx holds side by side (1 for RNN, 4 for LSTM, 3 for GRU); H is read from Wh.
    Ranks first, then dtypes against x in argument order, then shapes, so the first wrong argument is named.
    """
    check_array(x, "x", ndim=3 if sequence else 2)
    for name, s in states.items():
        check_array(s, name, ndim=2)
    check_array(Wx, "Wx", ndim=2)
    check_array(Wh, "Wh", ndim=2)
    for name, b in biases.items():
        check_array(b, name, ndim=1)
    for name, a in [*states.items(), ("Wx", Wx), ("Wh", Wh), *biases.items()]:
        check_same_dtype(a, name, x)
    N, D, H = x.shape[0], x.shape[-1], Wh.shape[0]
    G = gates * H
    size = "H" if gates == 1 else f"{gates}H"
    if Wh.shape != (H, G):
        raise invalid_shape("Wh", f"(H, {size}) = ({H}, {G})", Wh.shape)
    if Wx.shape != (D, G):
        raise invalid_shape("Wx", f"(D, {size}) = ({D}, {G}) to match x and Wh", Wx.shape)
    for name, s in states.items():
        if s.shape != (N, H):
            raise invalid_shape(name, f"(N, H) = ({N}, {H}) to match x and Wh", s.shape)
    for name, b in biases.items():
        if b.shape != (G,):
            raise invalid_shape(name, f"({size},) = ({G},) to match Wh", b.shape)
    return N, D, H


def lengths_mask(lengths: Any, N: int, T: int) -> tuple[np.ndarray, int]:
    """(mask, t_pad): mask[t, n] = t < lengths[n], which steps of each sequence are real, and t_pad, the first
    step at which some sequence is over (T when none is, as with ``lengths=None``): before it nothing is masked.

    ``lengths`` is None, an integer array of shape (N,) or a list of ints, each in [1, T], in any order.

    Shape:
        lengths: (N,);  mask: (T, N, 1), to broadcast over a step's (N, H) block
    """
    if lengths is None:
        return np.ones((T, N, 1), dtype=bool), T
    if isinstance(lengths, (list, tuple)) and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in lengths
    ):
        bad = [int(v) for v in lengths if not 1 <= v <= T]  # before int64: a length of 2**70 does not fit one
        lengths = np.array([v if 1 <= v <= T else 0 for v in lengths], dtype=np.int64)
    else:
        if not isinstance(lengths, np.ndarray) or lengths.dtype.kind not in "iu":
            raise invalid_type("lengths", "an integer numpy.ndarray of sequence lengths, shape (N,)", lengths)
        bad = lengths[(lengths < 1) | (lengths > T)].tolist()
    if lengths.shape != (N,):
        raise invalid_shape("lengths", f"({N},) to match x's batch size", lengths.shape)
    if bad:
        raise ValueError(
            f"Invalid value for `lengths`: expected lengths in [1, {T}], x's number of steps. "
            f"Received: a length {bad[0]}"
        )
    mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]  # (T, 1) < (1, N) -> (T, N) -> (T, N, 1)
    return mask, int(lengths.min()) if N else T


def check_dstates(grads: dict[str, Any], N: int, H: int, dtype: np.dtype[Any]) -> list[np.ndarray]:
    """The upstream gradients of the final states (dh_n, dc_n): each None (zero) or (N, H); as fresh arrays."""
    out = []
    for name, g in grads.items():
        out.append(np.zeros((N, H), dtype) if g is None else check_grad(g, name, (N, H), dtype).copy())
    return out


def time_blocks(T: int, step_bytes: int) -> list[tuple[int, int]]:
    """Blocks [t0, t1) of consecutive steps covering [0, T), the last first (BPTT's order), ~BLOCK_BYTES each.

    Backward computes the steps' local derivatives a block at a time, vectorized over the block, just before
    the time loop walks it: the block's gates are still in cache when the loop reads them, which a pass over
    all T steps at once (several MiB) would not leave them.
    """
    tb = max(1, BLOCK_BYTES // max(1, step_bytes))
    return [(max(0, t1 - tb), t1) for t1 in range(T, 0, -tb)]


def sigmoid_(a: np.ndarray) -> np.ndarray:
    """In place: a <- sigmoid(2a) = (1 + tanh(a)) / 2, for pre-activations halved in advance.

    The tanh form never overflows (exp(-a) does for a < -89 in float32) and, for gates, lets one tanh call
    cover the sigmoid and tanh gates of a step at once. Halving by 0.5 is exact in floating point.
    """
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigmoid(a) = (1 + tanh(a / 2)) / 2 as a new array: the formula the layer functions use, for the step ops."""
    return sigmoid_(a * 0.5)


def input_projection(x: np.ndarray, Wx: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out <- x_t Wx + b for all steps at once, as ONE product [x_t, 1] @ [Wx; b]; returns x1 = [x, 1], time-major.

    x is copied time-major anyway (so each step's rows are contiguous); the column of ones makes the bias ride
    in the product, and in backward makes db the last row of the one product x1^T da (:func:`input_grads`).

    Shape:
        x: (N, T, D);  Wx: (D, G);  b: (G,);  out: (T*N, G);  x1: (T, N, D + 1)
    """
    N, T, D = x.shape
    x1 = np.empty((T, N, D + 1), dtype=x.dtype)
    x1[:, :, :D] = x.transpose(1, 0, 2)  # (N, T, D) -> (T, N, D)
    x1[:, :, D] = 1
    np.matmul(x1.reshape(T * N, D + 1), np.concatenate([Wx, b[None]]), out=out)  # (T*N, D+1) @ (D+1, G)
    return x1


def input_grads(x1: np.ndarray, d: np.ndarray, Wx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dWx, db) of :func:`input_projection` for the pre-activation gradients d of all steps.

    dx_t = d_t Wx^T;  [dWx; db] = x1^T d, one product (dWx in the memory layout of Wx, see :func:`weight_grad`).

    Shape:
        x1: (T, N, D + 1);  d: (T, N, G);  dx: (N, T, D);  dWx: (D, G);  db: (G,)
    """
    T, N, D1 = x1.shape
    d2 = d.reshape(T * N, d.shape[2])
    dx = batch_major((d2 @ Wx.T).reshape(T, N, D1 - 1))  # (T*N, G) @ (G, D) -> (T, N, D) -> (N, T, D)
    dW1 = weight_grad(x1.reshape(T * N, D1), d2, Wx)  # (D+1, T*N) @ (T*N, G) -> (D+1, G)
    if dW1.flags.c_contiguous:
        return dx, dW1[:-1], dW1[-1]
    return dx, np.asfortranarray(dW1[:-1]), dW1[-1].copy()  # F-ordered: its first D rows are not contiguous


def batch_major(a: np.ndarray) -> np.ndarray:
    """A contiguous batch-major copy: (T, N, K) -> (N, T, K), the layout of x and of the outputs."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))  # (T, N, K) -> (N, T, K)


def weight_grad(inp: np.ndarray, d: np.ndarray, like: np.ndarray) -> np.ndarray:
    """inp^T @ d, the gradient of a weight used as ``inp @ W``, in the memory layout of ``like`` (= W).

    An nn module passes its (G, D) torch weight transposed, an F-ordered (D, G) view; the gradient then
    comes F-ordered too, so adding it into the module's gradient buffer is a contiguous add (as in affine).

    Shape:
        inp: (M, D);  d: (M, G);  result: (D, G)
    """
    if like.flags.f_contiguous and not like.flags.c_contiguous:
        return (d.T @ inp).T  # (G, M) @ (M, D) -> (G, D), viewed as (D, G)
    return inp.T @ d  # (D, M) @ (M, G) -> (D, G)


def masked_output(hs: np.ndarray, mask: np.ndarray, t_pad: int) -> np.ndarray:
    """The layer output h (N, T, H) from the time-major states hs[1:] (T, N, H): zero at padded steps."""
    h = batch_major(hs[1:])  # (T, N, H) -> (N, T, H)
    if t_pad < hs.shape[0] - 1:
        h *= mask.transpose(1, 0, 2)  # (T, N, 1) -> (N, T, 1): pad_packed_sequence's zeros
    return h
