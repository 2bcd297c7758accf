"""Fuzz specs of the sequence ops: word embedding, the temporal affine and softmax loss, and the RNN, LSTM and
GRU step, sequence (the course's) and layer ops.

Shapes include empty batches, zero-length sequences, no features and no hidden units (H = 0) where the op
takes them; the layer ops get ``lengths`` in any order, as an integer array of any integer dtype or a list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratchnn import ops

from .calls import Call, Draw, OpSpec, Path, nonfinite

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def embedding(d: Draw) -> Call:
    V, D = d.int(1, 5), d.int(0, 3)
    S = tuple(d.int(0, 3) for _ in range(d.int(0, 3)))
    kwargs = {} if d.pick([True, False]) else {"padding_idx": d.pick([None, d.int(0, V - 1)])}
    return Call({"x": d.labels(S, V), "W": d.p((V, D))}, kwargs, (*S, D), ("W",), (("args", "W"),))


def temporal_affine(d: Draw) -> Call:
    N, T, D, M = d.int(0, 3), d.int(0, 3), d.int(0, 3), d.int(0, 3)
    args = {"x": d.x((N, T, D)), "w": d.p((D, M)), "b": d.p((M,))}
    return Call(args, {}, (N, T, M), ("x", "w", "b"), (("args", "x"), ("args", "w"), ("args", "b")))


def temporal_loss(d: Draw) -> Call:
    N, T, V = d.int(0, 3), d.int(0, 3), d.int(1, 4)
    x, y = d.x((N, T, V)), d.labels((N, T), V)
    mask = d.array((N, T), ("normal",), dtype=d.pick([np.bool_, np.int64, np.uint8]))
    mask = np.asarray(mask > 0).astype(mask.dtype)  # booleans, or the integers 0 and 1
    kind = d.pick(["none", "number", "array"])
    dloss = None if kind == "none" else d.float(-3, 3) if kind == "number" else d.p(())
    floats: tuple[Path, ...] = (("args", "x"),) + ((("kwargs", "dloss"),) if kind == "array" else ())
    return Call({"x": x, "y": y, "mask": mask}, {"dloss": dloss}, (), ("x",), floats, finite=N > 0,
                refuse=nonfinite(x))  # fmt: skip


def _lengths(d: Draw, N: int, T: int) -> Any:
    """Valid lengths of N sequences of at most T steps, unsorted: an integer array or a list of ints."""
    lengths = [d.int(1, T) for _ in range(N)]
    kind = d.pick(["list", np.int64, np.int32, np.uint8, np.int8])
    return lengths if kind == "list" else np.array(lengths, dtype=kind)


def recurrent(cell: str, kind: str) -> Callable[[Draw], Call]:
    """``kind``: 'step' (one step), 'course' (rnn_forward & co) or 'layer' (with lengths, final states)."""

    def make(d: Draw) -> Call:
        N, T, D, H = d.int(0, 3), d.int(0, 4), d.int(0, 3), d.int(0, 3)
        G = GATES[cell] * H
        x = d.x((N, D) if kind == "step" else (N, T, D))
        first = "prev_" if kind == "step" else ""
        states = {f"{first}h" if kind == "step" else "h0": d.p((N, H))}
        if cell == "lstm" and kind != "course":
            states["prev_c" if kind == "step" else "c0"] = d.p((N, H))
        biases = {"bx": d.p((G,)), "bh": d.p((G,))} if cell == "gru" else {"b": d.p((G,))}
        args: dict[str, Any] = {"x": x, **states, "Wx": d.p((D, G)), "Wh": d.p((H, G)), **biases}
        kwargs: dict[str, Any] = {}
        if cell == "rnn" and kind != "course" and d.pick([True, False]):
            kwargs["nonlinearity"] = d.pick(["tanh", "relu"])
        out = (N, H) if kind == "step" else (N, T, H)
        more = tuple((N, H) for _ in states) if kind == "layer" else ((N, H),) if len(states) > 1 else ()
        if kind == "layer" and (T >= 1 or N == 0) and d.pick([True, False]):
            kwargs["lengths"] = _lengths(d, N, T)
        floats = tuple(("args", name) for name, v in args.items() if isinstance(v, np.ndarray))
        return Call(args, kwargs, out, tuple(args), floats, state_shapes=more)

    return make


def _spec(name: str, make: Callable[[Draw], Call], *backward: str, fwd: str = "", **kw: Any) -> OpSpec:
    fwd = fwd or name + "_forward"
    return OpSpec(name, getattr(ops, fwd), tuple(getattr(ops, b) for b in backward), make, **kw)


SPECS: list[OpSpec] = [
    _spec("word_embedding", embedding, "word_embedding_backward", labels=(("args", "x"),)),
    _spec("temporal_affine", temporal_affine, "temporal_affine_backward"),
    _spec("temporal_softmax_loss", temporal_loss, fwd="temporal_softmax_loss", loss=True, labels=(("args", "y"),)),
] + [
    _spec(f"{cell}{part}", recurrent(cell, kind), f"{cell}{part}_backward")
    for cell in GATES
    for part, kind in (("_step", "step"), ("", "course"), ("_layer", "layer"))
]
