"""Packed sequences, as ``torch.nn.utils.rnn``: a batch of variable-length sequences without the padding.

``pack_padded_sequence`` keeps, step by step, only the sequences still running: ``data`` holds
step 0 of every sequence, then step 1 of those longer than 1, and so on, with the sequences
sorted by decreasing length; ``batch_sizes[t]`` says how many rows step t has. ``sorted_indices``
is the order the batch was sorted into (None when ``enforce_sorted`` said it already was) and
``unsorted_indices`` its inverse. ``pad_packed_sequence`` undoes it. An RNN module given a
``PackedSequence`` runs each sequence over its own length only.

Beyond torch: the two maps are linear, so each one's backward is the other one's kind of map;
``pack_padded_sequence_backward`` and ``pad_packed_sequence_backward`` give them, for code that
differentiates through a pack or a pad (torch's autograd does this on its own). Differs from torch:
the ids are NumPy int64 arrays, and lengths must be integers in [1, T] (torch accepts floats and,
with ``enforce_sorted=False``, lengths beyond T); the errors are the library's ValueError template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..._validate import check_bool, check_int, invalid_shape, invalid_type, invalid_value

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_padded_sequence_backward",
    "pad_packed_sequence_backward",
    "invert_permutation",
]


class _PackedSequenceFields(NamedTuple):
    data: np.ndarray
    batch_sizes: np.ndarray
    sorted_indices: np.ndarray | None
    unsorted_indices: np.ndarray | None


class PackedSequence(_PackedSequenceFields):
    """(data, batch_sizes, sorted_indices, unsorted_indices), a named tuple as torch's.

    ``unsorted_indices`` is computed from ``sorted_indices`` when not given.

    Shape:
        data: (sum of lengths, *);  batch_sizes: (T_max,) int64, non-increasing;  sorted_indices,
        unsorted_indices: (B,) int64 permutations or None
    """

    def __new__(
        cls,
        data: np.ndarray,
        batch_sizes: np.ndarray,
        sorted_indices: np.ndarray | None = None,
        unsorted_indices: np.ndarray | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def lengths(self) -> np.ndarray:
        """The length of each sequence, in the original batch order (scratchnn's addition)."""
        return _lengths_in_original_order(self)


def invert_permutation(permutation: np.ndarray) -> np.ndarray:
    """The inverse permutation: out[permutation[i]] = i."""
    out = np.empty_like(permutation)
    out[permutation] = np.arange(permutation.shape[0], dtype=permutation.dtype)
    return out


def _check_lengths(lengths: Any, batch: int) -> np.ndarray:
    """A 1-D sequence of ``batch`` integers >= 1, as int64."""
    arr = np.asarray(lengths) if isinstance(lengths, (Sequence, np.ndarray)) else None
    if arr is None or (arr.size and arr.dtype.kind not in "iu"):
        raise invalid_type("lengths", "a list or 1-D numpy.ndarray of integer lengths", lengths)
    if arr.shape != (batch,):
        raise invalid_shape("lengths", f"({batch},), one length per sequence of the batch", arr.shape)
    arr = arr.astype(np.int64)
    if batch and arr.min() < 1:
        raise invalid_value("lengths", "lengths >= 1 (a sequence of length 0 cannot be packed)", lengths)
    return arr


def check_packed_sequence(sequence: Any, name: str = "sequence") -> PackedSequence:
    """A PackedSequence whose parts agree: what pack_padded_sequence makes (one built by hand may not)."""
    if not isinstance(sequence, PackedSequence):
        raise invalid_type(name, "a PackedSequence", sequence)
    data, bs, si, ui = sequence
    if not isinstance(data, np.ndarray) or data.ndim < 1:
        raise invalid_type(f"{name}.data", "a numpy.ndarray of at least 1 dimension", data)
    if not isinstance(bs, np.ndarray) or bs.ndim != 1 or bs.dtype.kind not in "iu" or not bs.size:
        raise invalid_type(f"{name}.batch_sizes", "a non-empty 1-D integer numpy.ndarray", bs)
    if bs.min() < 1 or (np.diff(bs) > 0).any() or bs.sum() != data.shape[0]:
        raise invalid_value(
            f"{name}.batch_sizes", f"non-increasing counts >= 1 that sum to data's {data.shape[0]} rows", bs.tolist()
        )  # fmt: skip
    for part, label in ((si, "sorted_indices"), (ui, "unsorted_indices")):
        if part is not None and (
            not isinstance(part, np.ndarray)
            or part.shape != (bs[0],)
            or not np.array_equal(np.sort(part), np.arange(bs[0]))
        ):
            raise invalid_value(f"{name}.{label}", f"None or a permutation of range({bs[0]})", part)
    return sequence


def _layout(sequence: PackedSequence) -> tuple[np.ndarray, np.ndarray]:
    """(t, b) of every packed row: its step, and its sequence's index in the ORIGINAL batch order.

    Row r of ``data`` is step t[r] of sequence b[r]; the rows of one step are consecutive, in
    sorted (decreasing-length) order.
    """
    bs = sequence.batch_sizes
    steps = np.repeat(np.arange(bs.shape[0]), bs)  # (R,)
    first = np.cumsum(bs) - bs  # (T,): the first row of each step
    slot = np.arange(steps.shape[0]) - first[steps]  # (R,): position in the sorted batch
    b = slot if sequence.sorted_indices is None else sequence.sorted_indices[slot]
    return steps, b


def _lengths_in_original_order(sequence: PackedSequence) -> np.ndarray:
    bs = sequence.batch_sizes
    B = int(bs[0]) if bs.shape[0] else 0
    sorted_lengths = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1).astype(np.int64)  # (B,)
    return sorted_lengths if sequence.unsorted_indices is None else sorted_lengths[sequence.unsorted_indices]


def pack_padded_sequence(
    input: np.ndarray, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch of sequences (torch's ``pack_padded_sequence``).

    ``lengths[b]`` is the number of real steps of sequence b, in [1, T]. With ``enforce_sorted``
    the lengths must not increase along the batch (sorted_indices is then None); otherwise the
    batch is sorted by decreasing length (a stable sort: equal lengths keep their order, as torch).

    Shape:
        input: (T, B, *) or, with batch_first, (B, T, *);  lengths: (B,)
        output data: (sum(lengths), *);  batch_sizes: (max(lengths),)
    """
    batch_first = check_bool(batch_first, "batch_first")
    enforce_sorted = check_bool(enforce_sorted, "enforce_sorted")
    if not isinstance(input, np.ndarray):
        raise invalid_type("input", "a numpy.ndarray", input)
    if input.ndim < 2:
        want = "(B, T, *)" if batch_first else "(T, B, *)"
        raise invalid_shape("input", f"a padded batch {want} of at least 2 dimensions", input.shape)
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if B == 0 or T == 0:
        raise invalid_shape("input", "a batch of at least one sequence of at least one step", input.shape)
    lengths = _check_lengths(lengths, B)
    if lengths.max() > T:
        raise invalid_value("lengths", f"lengths <= {T}, the input's number of steps", lengths.tolist())
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise invalid_value(
                "lengths", "lengths in decreasing order when enforce_sorted=True (or pass enforce_sorted=False)",
                lengths.tolist(),
            )  # fmt: skip
        sorted_indices = None
    else:
        sorted_indices = np.argsort(-lengths, kind="stable").astype(np.int64)
    sorted_lengths = lengths if sorted_indices is None else lengths[sorted_indices]
    batch_sizes = (sorted_lengths[None, :] > np.arange(sorted_lengths[0])[:, None]).sum(axis=1)  # (T_max,)
    packed = PackedSequence(np.empty(0), batch_sizes.astype(np.int64), sorted_indices)
    steps, b = _layout(packed)
    data = input[b, steps] if batch_first else input[steps, b]  # (R, *)
    return packed._replace(data=data)


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Undo :func:`pack_padded_sequence`: (padded, lengths), in the original batch order (torch's).

    The padded steps hold ``padding_value``; ``total_length`` (at least the longest length) pads
    to a fixed number of steps. ``lengths`` is an int64 array.

    Shape:
        padded: (T, B, *) or, with batch_first, (B, T, *), T = total_length or max(lengths);  lengths: (B,)
    """
    sequence = check_packed_sequence(sequence)
    batch_first = check_bool(batch_first, "batch_first")
    T_max = int(sequence.batch_sizes.shape[0])
    T = T_max
    if total_length is not None:
        T = check_int(total_length, "total_length")
        if T < T_max:
            raise invalid_value(
                "total_length", f"at least the length of the longest sequence, {T_max}", total_length
            )  # fmt: skip
    data = sequence.data
    B = int(sequence.batch_sizes[0])
    shape = (B, T) if batch_first else (T, B)
    padded = np.full((*shape, *data.shape[1:]), padding_value, dtype=data.dtype)  # (T, B, *) or (B, T, *)
    steps, b = _layout(sequence)
    if batch_first:
        padded[b, steps] = data
    else:
        padded[steps, b] = data
    return padded, _lengths_in_original_order(sequence)


def pack_padded_sequence_backward(
    grad_data: np.ndarray, sequence: PackedSequence, total_length: int, batch_first: bool = False
) -> np.ndarray:
    """The gradient of :func:`pack_padded_sequence`'s input, given the gradient of the packed ``data``.

    Packing picks entries of the padded input, so its gradient puts each row of ``grad_data`` back
    where it came from and zeros in the padding: a pad with ``padding_value`` 0 to the input's
    ``total_length`` steps.
    """
    sequence = check_packed_sequence(sequence)
    if not isinstance(grad_data, np.ndarray) or grad_data.shape[:1] != sequence.data.shape[:1]:
        raise invalid_shape("grad_data", f"{sequence.data.shape}, the packed data's shape", np.shape(grad_data))
    grad_seq = sequence._replace(data=grad_data)
    return pad_packed_sequence(grad_seq, batch_first, 0.0, total_length)[0]


def pad_packed_sequence_backward(
    grad_padded: np.ndarray, sequence: PackedSequence, batch_first: bool = False
) -> np.ndarray:
    """The gradient of :func:`pad_packed_sequence`'s packed ``data``, given the gradient of ``padded``.

    Padding copies each packed row to one place, so its gradient picks those places back out (the
    padding's gradient is dropped): a pack with ``sequence``'s own layout. Also how an RNN repacks
    its padded output.
    """
    sequence = check_packed_sequence(sequence)
    steps, b = _layout(sequence)
    B = int(sequence.batch_sizes[0])
    if not isinstance(grad_padded, np.ndarray) or grad_padded.ndim < 2:
        raise invalid_type("grad_padded", "a padded numpy.ndarray", grad_padded)
    batch_axis = 0 if batch_first else 1
    if grad_padded.shape[batch_axis] != B or grad_padded.shape[1 - batch_axis] < sequence.batch_sizes.shape[0]:
        raise invalid_shape("grad_padded", f"a padded batch of {B} sequences", grad_padded.shape)
    return grad_padded[b, steps] if batch_first else grad_padded[steps, b]  # (R, *)
