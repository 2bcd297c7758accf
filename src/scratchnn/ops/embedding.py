"""Word embedding: a table lookup, out = W[x], whose gradient scatters rows back into the table.

The course's ``word_embedding_forward(x, W)`` / ``word_embedding_backward(dout, cache)``; the
Transformer's token embedding is the same op. x holds integer ids of any shape.

Derivation: docs/derivations/embedding.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics import quiet
from .._validate import check_array, check_grad, check_int, invalid_shape, invalid_type, invalid_value

# Rows of dW that receive more than this many upstream rows get the rest summed as one contiguous block per
# id; the first _ROUNDS go in rounds of fancy-index adds, each round's ids distinct. np.add.at and a
# reduceat over every run cost ~3 us per distinct id; a round costs ~20 us plus its rows' copy.
_ROUNDS = 8


def check_ids(x: Any, name: str, num_embeddings: int) -> np.ndarray:
    """Integer ids in [0, num_embeddings) of any shape; returns ``x``."""
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iu":
        shown = f", not dtype {x.dtype}" if isinstance(x, np.ndarray) else ""
        raise invalid_type(name, f"an integer numpy.ndarray of ids{shown}", x)
    if x.size and (x.min() < 0 or x.max() >= num_embeddings):
        bad = x[(x < 0) | (x >= num_embeddings)].flat[0]
        raise ValueError(
            f"Invalid value for `{name}`: expected ids in [0, {num_embeddings}). Received: an id {int(bad)}"
        )
    return x


@quiet
def word_embedding_forward(x: np.ndarray, W: np.ndarray, *, padding_idx: int | None = None) -> tuple[np.ndarray, Any]:
    """out[i...] = W[x[i...]]: each id picks a row of the table.

    Backward: dW[v] = sum of dout[i...] over the positions i... with x[i...] = v (repeated ids
    accumulate); there is no gradient for the integer ids. ``padding_idx`` (torch's
    ``F.embedding``): that row gets no gradient, although the forward reads it (so a numerical
    gradient of it is not zero: this is a choice, not a derivative).

    Shape:
        x: any shape S of integer ids in [0, V);  W: (V, D);  out: (*S, D)

    Derivation: docs/derivations/embedding.md
    """
    check_array(W, "W", ndim=2)
    V = W.shape[0]
    check_ids(x, "x", V)
    if padding_idx is not None:
        padding_idx = check_int(padding_idx, "padding_idx", low=0, high=V - 1)
    out = W[x]  # (*S,) ids -> (*S, D)
    return out, (x, W.shape, W.dtype, padding_idx)


@quiet
def word_embedding_backward(
    dout: np.ndarray, cache: Any, *, dW_out: np.ndarray | None = None, zeroed: bool = False
) -> np.ndarray:
    """Gradient of :func:`word_embedding_forward`: dW, of W's shape (the ids get none).

    ``dW_out``: a (V, D) array of W's dtype to ADD the gradient into (and return) instead of a new
    zero table, e.g. ``nn.Embedding``'s ``weight.grad``: only the rows the batch touched are
    written. ``zeroed=True`` says ``dW_out`` holds zeros (a gradient buffer just reset), so the rows
    can be written rather than added to (a third less memory traffic).
    """
    x, (V, D), dtype, padding_idx = cache
    check_grad(dout, "dout", (*x.shape, D), dtype)
    if dW_out is None:
        dW_out, zeroed = np.zeros((V, D), dtype=dtype), True
    elif dW_out.shape != (V, D) or dW_out.dtype != dtype:
        raise invalid_value("dW_out", f"a ({V}, {D}) {dtype} array", dW_out)
    ids = x.reshape(-1)  # (*S,) -> (M,)
    g = dout.reshape(ids.shape[0], D)  # (*S, D) -> (M, D); not (-1, D), which D = 0 leaves undetermined
    if padding_idx is not None:
        keep = ids != padding_idx
        if not keep.all():
            ids, g = ids[keep], g[keep]  # (M,) -> (M',), (M, D) -> (M', D)
    scatter_add_rows(dW_out, ids, g, zeroed=zeroed)
    return dW_out


def scatter_add_rows(out: np.ndarray, ids: np.ndarray, g: np.ndarray, *, zeroed: bool = False) -> None:
    """out[ids[m]] += g[m] for every m, repeated ids summed (np.add.at's result, several times faster).

    Sort the ids (stable) so each id's rows form a run; rank each row within its run. Ranks
    0.._ROUNDS-1 are added in rounds, one fancy-index add per rank (the ids of a round are
    distinct, so the add is exact); the rest of each long run (frequent ids: padding, "the") is
    summed as one contiguous block. ``zeroed``: ``out`` is all zeros, so the first round writes its
    rows instead of adding (a plain write costs a third of a fancy-index add).
    """
    if ids.size == 0:
        return
    if ids.shape[0] != g.shape[0] or g.ndim != 2:
        raise invalid_shape("g", f"({ids.shape[0]}, D) to match ids", g.shape)
    M = ids.shape[0]
    # 16-bit keys get NumPy's radix sort, 5x faster than the merge sort of int64 (vocabularies up to 65,536)
    key = ids.astype(np.uint16) if out.shape[0] <= 1 << 16 else ids
    order = np.argsort(key, kind="stable")  # (M,): rows of g in sorted-id order
    s = ids[order]  # sorted ids
    head = np.empty(M, dtype=bool)  # True where a run starts
    head[0] = True
    np.not_equal(s[1:], s[:-1], out=head[1:])
    starts = np.flatnonzero(head)  # (U,)
    first_rows = np.take(g, order[starts], axis=0)  # (U, D): one row per distinct id
    if zeroed:
        out[s[starts]] = first_rows
    else:
        out[s[starts]] += first_rows
    if starts.shape[0] == M:
        return  # every id once: done in one round
    rank = np.arange(M) - np.repeat(starts, np.diff(np.append(starts, M)))  # (M,): position within the run
    top = int(rank.max())
    for k in range(1, min(top, _ROUNDS - 1) + 1):
        rows = np.flatnonzero(rank == k)
        out[s[rows]] += np.take(g, order[rows], axis=0)  # distinct ids within one rank: no lost updates
    if top >= _ROUNDS:
        tail = np.flatnonzero(rank >= _ROUNDS)  # the remainders of the long runs, still sorted: (R,)
        first = np.flatnonzero(rank[tail] == _ROUNDS)  # (L,): where each remainder starts in the tail
        gt = np.take(g, order[tail], axis=0)  # (R, D), each long run's rows together
        # one contiguous sum per long run (at most M / _ROUNDS of them): np.add.reduceat and a 0/1 GEMM
        # cost 2-4x more here, reduceat looping over D for every run, the GEMM multiplying zeros
        for a, b, v in zip(first, np.append(first[1:], tail.shape[0]), s[tail[first]]):
            out[v] += gt[a:b].sum(axis=0)  # (b - a, D) -> (D,)
