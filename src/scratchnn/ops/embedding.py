"""Word embedding: a table lookup, out = W[x], whose gradient scatters rows back into the table.

The course's ``word_embedding_forward(x, W)`` / ``word_embedding_backward(dout, cache)``; the
Transformer's token embedding is the same op. x holds integer ids of any shape.

Derivation: docs/derivations/embedding.md
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_array, check_grad, check_int, invalid_shape, invalid_type, invalid_value

# Rows of dW that receive more than this many upstream rows are summed with one reduceat over their
# (contiguous, sorted) runs; the rest go in rounds of fancy-index adds, each round's ids distinct.
# np.add.at and a reduceat over every run cost ~3 us per distinct id; a round costs ~30 us whatever its size.
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


def word_embedding_backward(dout: np.ndarray, cache: Any, *, dW_out: np.ndarray | None = None) -> np.ndarray:
    """Gradient of :func:`word_embedding_forward`: dW, of W's shape (the ids get none).

    ``dW_out``: a (V, D) array of W's dtype to ADD the gradient into (and return) instead of a new
    zero table, e.g. ``nn.Embedding``'s ``weight.grad``: only the rows the batch touched are
    written, no (V, D) zeros are made.
    """
    x, (V, D), dtype, padding_idx = cache
    check_grad(dout, "dout", (*x.shape, D), dtype)
    if dW_out is None:
        dW_out = np.zeros((V, D), dtype=dtype)
    elif dW_out.shape != (V, D) or dW_out.dtype != dtype:
        raise invalid_value("dW_out", f"a ({V}, {D}) {dtype} array", dW_out)
    ids = x.reshape(-1)  # (*S,) -> (M,)
    g = dout.reshape(-1, D)  # (*S, D) -> (M, D)
    if padding_idx is not None:
        keep = ids != padding_idx
        ids, g = ids[keep], g[keep]  # (M,) -> (M',), (M, D) -> (M', D)
    scatter_add_rows(dW_out, ids, g)
    return dW_out


def scatter_add_rows(out: np.ndarray, ids: np.ndarray, g: np.ndarray) -> None:
    """out[ids[m]] += g[m] for every m, repeated ids summed (np.add.at's result, several times faster).

    Sort the ids (stable) so each id's rows form a run; rank each row within its run. Ranks
    0.._ROUNDS-1 are added in rounds, one fancy-index add per rank (the ids of a round are
    distinct, so the add is exact); the rest of the long runs (frequent ids: padding, "the") are
    summed with one reduceat over their remainders.
    """
    if ids.size == 0:
        return
    if ids.shape[0] != g.shape[0] or g.ndim != 2:
        raise invalid_shape("g", f"({ids.shape[0]}, D) to match ids", g.shape)
    order = np.argsort(ids, kind="stable")  # (M,)
    s = ids[order]  # sorted ids
    gs = g[order]  # (M, D), rows in sorted-id order
    head = np.empty(s.shape[0], dtype=bool)  # True where a run starts
    head[0] = True
    np.not_equal(s[1:], s[:-1], out=head[1:])
    starts = np.flatnonzero(head)  # (U,)
    rank = np.arange(s.shape[0]) - np.repeat(starts, np.diff(np.append(starts, s.shape[0])))  # (M,)
    top = int(rank.max())
    for k in range(min(top, _ROUNDS - 1) + 1):
        rows = starts if k == 0 else np.flatnonzero(rank == k)
        out[s[rows]] += gs[rows]  # distinct ids within one rank: no lost updates
    if top >= _ROUNDS:
        tail = np.flatnonzero(rank >= _ROUNDS)  # the remainders of the long runs, still sorted
        t_head = np.flatnonzero(rank[tail] == _ROUNDS)  # where each remainder starts
        out[s[tail[t_head]]] += np.add.reduceat(gs[tail], t_head, axis=0)  # one sum per long run
