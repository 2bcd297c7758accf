"""Truncated backpropagation through time (TBPTT) over one long stream of ids.

A text of millions of characters cannot be unrolled in one piece. TBPTT cuts the stream into
``batch_size`` contiguous lanes, reads them ``bptt`` steps at a time, and carries each lane's hidden
state from one chunk into the next **without gradient**: the forward pass sees the whole history, the
backward pass stops at the chunk's first step (the state is an input, its gradient is dropped), so
dependencies longer than ``bptt`` steps are seen but not learned from. As torch's
``h = h.detach()`` between chunks; here nothing needs detaching, because a model's backward only
reaches back as far as its last forward.

    lane n:  ids[n*L : (n+1)*L]        chunk k of every lane: steps [k*bptt, (k+1)*bptt)
    for x, y in stream_batches(ids, batch_size, bptt):       # x, y: (N, bptt), y = x shifted by one
        scores = model(x, state); state = model.state       # the state flows on, the gradient does not

The model is any Module with ``forward(x, hx)`` and a ``state`` attribute (``models.CharRNN``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._validate import check_int, invalid_shape, invalid_value
from ..nn.module import Module
from ..nn.utils import clip_grad_norm_
from ..optim import Optimizer

__all__ = ["stream_batches", "truncated_bptt_epoch"]


def stream_batches(ids: np.ndarray, batch_size: int, bptt: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(x, y)`` chunks of the stream's ``batch_size`` lanes in order; the last chunk may be shorter.

    Each lane is L = (len(ids) - 1) // batch_size consecutive ids (the tail that does not fill a lane
    is dropped); the target of x[n, t] is the id after it.

    Shape:
        ids: (len,) ints;  x, y: (batch_size, <= bptt)
    """
    N = check_int(batch_size, "batch_size", low=1)
    T = check_int(bptt, "bptt", low=1)
    if not isinstance(ids, np.ndarray) or ids.ndim != 1:
        raise invalid_shape("ids", "a 1-D array of ids", np.shape(ids))
    L = (len(ids) - 1) // N
    if L < 1:
        raise invalid_value("ids", f"at least batch_size + 1 = {N + 1} ids", ids)
    lanes_x = ids[: N * L].reshape(N, L)  # (N, L)
    lanes_y = ids[1 : N * L + 1].reshape(N, L)  # (N, L): each id's successor
    for start in range(0, L, T):
        yield lanes_x[:, start : start + T], lanes_y[:, start : start + T]


def truncated_bptt_epoch(
    model: Module,
    criterion: Module,
    optimizer: Optimizer,
    ids: np.ndarray,
    *,
    batch_size: int,
    bptt: int,
    clip_grad_norm: float | None = None,
) -> float:
    """One pass over the stream with the state carried across chunks; returns the mean loss per chunk.

    Each chunk: zero_grad, forward from the carried state, loss, backward (into this chunk only),
    optional clipping, one optimizer step.
    """
    state: Any = None
    losses = []
    model.train()
    for x, y in stream_batches(ids, batch_size, bptt):
        optimizer.zero_grad()
        scores = model(x, state)  # (N, V, T)
        state = model.state  # carried forward; no gradient will flow into it
        losses.append(float(criterion(scores, y)))
        model.backward(criterion.backward(None), input_grad=False)
        if clip_grad_norm is not None:
            clip_grad_norm_(model.parameters(), clip_grad_norm)
        optimizer.step()
    return float(np.mean(losses))
