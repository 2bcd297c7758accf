"""The forms a recurrent module's input comes in, and the one its loop works in: batch-major (N, T, D).

A module's input is batched (T, N, D) (or (N, T, D) with ``batch_first``), unbatched (T, D), or a
PackedSequence; the layer loop always sees a batch-major array plus the sequence lengths (None
when every sequence fills all T steps). Outputs and input gradients go back to the input's form;
the upstream gradient comes from the output's form. Reversing each sequence within its own length
is how the backward direction of a bidirectional layer reuses the forward layer op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validate import check_array, check_dtype_matches, invalid_shape
from ..utils.rnn import (
    PackedSequence,
    check_packed_sequence,
    pack_padded_sequence_backward,
    pad_packed_sequence,
    pad_packed_sequence_backward,
)


def reverse_index(lengths: np.ndarray | None, N: int, T: int) -> np.ndarray | None:
    """idx[n, t] = lengths[n] - 1 - t for t < lengths[n], else t: x[n, idx[n]] reverses each sequence within
    its length (padding stays put). Its own inverse, so it also reverses back. None for full lengths."""
    if lengths is None:
        return None
    t = np.arange(T)[None, :]  # (1, T)
    L = lengths[:, None]  # (N, 1)
    return np.where(t < L, L - 1 - t, t)  # (N, T)


def reverse(a: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    """Each sequence of a (N, T, K) reversed within its length (a[:, ::-1] when every length is T)."""
    if idx is None:
        return a[:, ::-1]
    return a[np.arange(a.shape[0])[:, None], idx]  # (N, T, K) gathered by (N, T) -> (N, T, K)


def to_batch_major(
    input: Any, *, input_size: int, batch_first: bool, dtype: np.dtype[Any], owner: str
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(x (N, T, D), lengths or None, form) with form 'batched', 'unbatched' or 'packed'; checks the input."""
    if isinstance(input, PackedSequence):
        check_packed_sequence(input, "input")
        check_array(input.data, "input.data", ndim=2)
        check_dtype_matches(input.data, "input.data", dtype, owner)
        if input.data.shape[1] != input_size:
            raise invalid_shape("input.data", f"packed data (sum of lengths, {input_size})", input.data.shape)
        x, lengths = pad_packed_sequence(input, batch_first=True)  # (N, T, D), (N,) in the original order
        return x, lengths, "packed"
    check_array(input, "input", ndim=(2, 3))
    check_dtype_matches(input, "input", dtype, owner)
    layout = "(T, D) unbatched" if input.ndim == 2 else ("(N, T, D)" if batch_first else "(T, N, D)")
    steps = input.shape[-2] if input.ndim == 2 else input.shape[int(batch_first)]
    if input.shape[-1] != input_size or steps == 0:
        want = layout.replace("D", str(input_size))
        raise invalid_shape("input", f"{want} with input_size={input_size} and T >= 1", input.shape)
    if input.ndim == 2:
        return input[None], None, "unbatched"  # (T, D) -> (1, T, D)
    return (input if batch_first else input.transpose(1, 0, 2)), None, "batched"  # -> (N, T, D)


def from_batch_major(a: np.ndarray, form: str, input: Any, batch_first: bool) -> Any:
    """A batch-major (N, T, K) output or input gradient in the input's form (packed: a PackedSequence)."""
    if form == "packed":
        return input._replace(data=pad_packed_sequence_backward(a, input, batch_first=True))  # -> (R, K)
    if form == "unbatched":
        return a[0]  # (1, T, K) -> (T, K)
    return a if batch_first else np.ascontiguousarray(a.transpose(1, 0, 2))  # -> (T, N, K)


def grad_to_batch_major(grad: Any, form: str, input: Any, batch_first: bool, T: int) -> np.ndarray:
    """The output's upstream gradient (checked by the module against the output's shape and dtype), as a
    batch-major (N, T, K) array. For a packed output it is the gradient of the data: (R, K)."""
    if form == "packed":
        return pack_padded_sequence_backward(grad, input, T, batch_first=True)  # (R, K) -> (N, T, K)
    if form == "unbatched":
        return grad[None]  # (T, K) -> (1, T, K)
    return grad if batch_first else grad.transpose(1, 0, 2)  # -> (N, T, K)
