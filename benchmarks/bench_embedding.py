"""Embedding backward (and forward+backward), float32: scratchnn vs torch CPU in one process.

    python benchmarks/bench_embedding.py [--repeat 30] [--rounds 7] [--threads 1]

A training step's pattern on each side: gradients zeroed (scratchnn's lazy zero_grad; torch's
``grad = None``, its default), then the backward pass into ``weight.grad``. "bwd" times the backward
alone (torch keeps its graph with ``retain_graph=True``), "fwd+bwd" the lookup as well. Ids are
uniform over the vocabulary, or Zipf-distributed as words in text (a few ids hundreds of times per
batch, the case np.add.at and a per-id reduceat are slowest at). Libraries are timed in alternating
blocks (benchmarks/common.py); the ratio is the median over rounds of (scratchnn block / torch block).
Target (issue 12): Embedding backward <= 1.0x torch at vocabulary 10k.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchnn  # noqa: E402
from common import PARK_S, blas_report, median_time  # noqa: E402
from scratchnn import nn  # noqa: E402

# (vocabulary, embedding_dim, N, T, ids)
CONFIGS = [(10_000, 256, 64, 50, "uniform"), (10_000, 256, 64, 50, "zipf"), (10_000, 64, 32, 20, "uniform")]
TARGET = 1.0


def make_ids(V: int, N: int, T: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "uniform":
        return rng.integers(0, V, (N, T))
    return (rng.zipf(1.2, (N, T)) - 1) % V  # id 0 about a fifth of all tokens, as "the" or padding


def ours(V: int, D: int, ids: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    scratchnn.manual_seed(0)
    emb = nn.Embedding(V, D)
    emb(ids)

    def bwd() -> None:
        emb.zero_grad()
        emb.backward(dout)

    def fwd_bwd() -> None:
        emb(ids)
        emb.zero_grad()
        emb.backward(dout)

    return {"bwd": bwd, "fwd+bwd": fwd_bwd}


def theirs(V: int, D: int, ids: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch

    torch.manual_seed(0)
    emb = torch.nn.Embedding(V, D)
    tids, tdout = torch.from_numpy(ids), torch.from_numpy(dout)
    out = emb(tids)

    def bwd() -> None:
        emb.weight.grad = None
        out.backward(tdout, retain_graph=True)

    def fwd_bwd() -> None:
        emb.weight.grad = None
        emb(tids).backward(tdout)

    return {"bwd": bwd, "fwd+bwd": fwd_bwd}


def time_block(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    time.sleep(PARK_S)  # the other library's idle threads stop spinning first (common.PARK_S)
    return {name: median_time(fn, warmup=5, repeat=repeat) for name, fn in fns.items()}


def check_equal(V: int, D: int, ids: np.ndarray, dout: np.ndarray) -> None:
    """Both sides compute the same gradient (same weights loaded), before any timing."""
    import torch

    emb, temb = nn.Embedding(V, D), torch.nn.Embedding(V, D)
    temb.load_state_dict({"weight": torch.from_numpy(emb.weight.data.copy())})
    emb(ids)
    emb.backward(dout)
    temb(torch.from_numpy(ids)).backward(torch.from_numpy(dout))
    assert temb.weight.grad is not None
    np.testing.assert_allclose(emb.weight.grad, temb.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per block")
    parser.add_argument("--rounds", type=int, default=7, help="blocks per library, alternating libraries")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: their own)")
    args = parser.parse_args()
    if args.threads is not None:
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    print(blas_report())
    print(f"\nfloat32, medians of {args.repeat} calls per block, {args.rounds} rounds of (scratchnn, torch) blocks")
    rng = np.random.default_rng(0)
    for V, D, N, T, kind in CONFIGS:
        ids = make_ids(V, N, T, kind, rng)
        dout = rng.standard_normal((N, T, D)).astype(np.float32)
        check_equal(V, D, ids, dout)
        mine, other = [], []
        for _ in range(args.rounds):
            mine.append(time_block(ours(V, D, ids, dout), args.repeat))
            other.append(time_block(theirs(V, D, ids, dout), args.repeat))
        top = np.bincount(ids.reshape(-1)).max()
        print(f"\nEmbedding({V}, {D}), ids ({N}, {T}) {kind} (most frequent id {top} times):")
        for key in mine[0]:
            per_round = [a[key] / b[key] for a, b in zip(mine, other)]
            t_ours, t_torch = min(a[key] for a in mine), min(b[key] for b in other)
            goal = f"  target <= {TARGET}" if key == "bwd" else ""
            rounds = ", ".join(f"{r:.2f}" for r in per_round)
            print(
                f"  {key:8s} scratchnn {t_ours * 1e3:6.2f} ms  torch {t_torch * 1e3:6.2f} ms  "
                f"ratio {statistics.median(per_round):5.2f}x{goal}  (per round: {rounds})"
            )


if __name__ == "__main__":
    main()
