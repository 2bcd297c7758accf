"""ConvTranspose2d, float32 forward and forward+backward: scratchnn vs torch CPU in one process.

    python benchmarks/bench_conv_transpose.py [--repeat 30] [--rounds 7] [--threads 1] [--batch 128]

The two decoder layers of the conv autoencoder (issue 13): ConvTranspose2d(64, 32, 3, stride=2,
padding=1, output_padding=1) from 7x7 to 14x14 and ConvTranspose2d(32, 1, ...) from 14x14 to 28x28,
batch 128. Each layer is timed in blocks (all scratchnn calls, then all torch calls: both keep
spinning thread pools that distort interleaved timings), ``--rounds`` times over; each block gives
a median, a round's two blocks are a paired comparison, and the reported ratio is the median over
rounds, each round's ratio listed as a measure of the noise. Forward+backward computes the input
gradient on both sides (torch's input has requires_grad=True: a decoder layer's input comes from
the encoder) and accumulates the parameter gradients. Also printed: the peak NumPy memory of one
forward+backward (tracemalloc), and the loop reference's time for scale (a small batch, scaled
linearly). Target (issue 13): forward+backward <= 1.5x torch on the 64 -> 32 layer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchnn  # noqa: E402
from common import PARK_S, blas_report, median_time  # noqa: E402
from scratchnn import nn, ops  # noqa: E402

LAYERS = [(64, 32, 7), (32, 1, 14)]  # (C_in, C_out, H = W): k=3, stride 2, padding 1, output_padding 1
TARGETS = {(64, 32, 7): 1.5}
GEOMETRY = {"stride": 2, "pad": 1, "output_padding": 1}


def ours(c_in: int, c_out: int, x: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    scratchnn.manual_seed(0)
    layer = nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)

    def fwd_bwd() -> None:
        layer(x)
        layer.backward(dout)

    return {"fwd": lambda: layer(x), "fwd+bwd": fwd_bwd}


def theirs(c_in: int, c_out: int, x: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch

    torch.manual_seed(0)
    layer = torch.nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
    tx = torch.from_numpy(x).requires_grad_(True)
    tdout = torch.from_numpy(dout)

    def fwd() -> None:
        with torch.no_grad():
            layer(tx)

    def fwd_bwd() -> None:
        layer(tx).backward(tdout)

    return {"fwd": fwd, "fwd+bwd": fwd_bwd}


def time_block(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    time.sleep(PARK_S)  # the other library's idle threads stop spinning first (common.PARK_S)
    return {name: median_time(fn, warmup=5, repeat=repeat) for name, fn in fns.items()}


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak memory NumPy allocates during ``fn()`` beyond what was allocated before (tracemalloc)."""
    fn()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def naive_time(c_in: int, c_out: int, h: int, n: int, batch: int) -> float:
    """Seconds of the loop reference's forward+backward on ``n`` images, scaled to ``batch``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c_in, h, h)).astype(np.float32)
    w = rng.standard_normal((c_in, c_out, 3, 3)).astype(np.float32)
    b = np.zeros(c_out, np.float32)
    t0 = time.perf_counter()
    out, cache = ops.conv_transpose_forward_naive(x, w, b, GEOMETRY)
    ops.conv_transpose_backward_naive(np.ones_like(out), cache)
    return (time.perf_counter() - t0) * batch / n


def report(label: str, mine: list[dict[str, float]], other: list[dict[str, float]], target: float | None) -> None:
    """One line per measurement: each library's best block median, the median of the per-round ratios, the rounds."""
    for key in mine[0]:
        t_ours, t_torch = min(o[key] for o in mine), min(t[key] for t in other)
        per_round = [o[key] / t[key] for o, t in zip(mine, other)]
        rounds = ", ".join(f"{r:.2f}" for r in per_round)
        goal = f"  target <= {target}" if target is not None and key == "fwd+bwd" else ""
        print(
            f"  {label:34s} {key:8s} scratchnn {t_ours * 1e3:7.2f} ms  torch {t_torch * 1e3:7.2f} ms  "
            f"ratio {statistics.median(per_round):5.2f}x{goal}  (per round: {rounds})"
        )


def note(text: str) -> None:
    print(f"  {'':34s} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per block")
    parser.add_argument("--rounds", type=int, default=7, help="blocks per library, alternating libraries")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: their own)")
    parser.add_argument("--batch", type=int, default=128, help="images per batch")
    parser.add_argument("--naive-batch", type=int, default=1, help="images for the loop reference (scaled)")
    args = parser.parse_args()
    if args.threads is not None:  # on a busy machine, one thread per library gives the steadiest ratio
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    N = args.batch
    print(blas_report())
    print(
        f"\nfloat32, N={N}, medians of {args.repeat} calls per block, {args.rounds} rounds of "
        "(scratchnn block, torch block); ratio = median over rounds of (scratchnn block / torch block)"
    )
    for c_in, c_out, h in LAYERS:
        x = rng.standard_normal((N, c_in, h, h)).astype(np.float32)
        dout = rng.standard_normal((N, c_out, 2 * h, 2 * h)).astype(np.float32)
        mine, other = [], []
        for _ in range(args.rounds):
            mine.append(time_block(ours(c_in, c_out, x, dout), args.repeat))
            other.append(time_block(theirs(c_in, c_out, x, dout), args.repeat))
        label = f"ConvTranspose2d {c_in}->{c_out} {h}->{2 * h} k3s2p1op1"
        report(label, mine, other, TARGETS.get((c_in, c_out, h)))
        peak = peak_bytes(ours(c_in, c_out, x, dout)["fwd+bwd"])
        note(f"peak NumPy memory of one fwd+bwd: {peak / 2**20:.1f} MiB (x: {x.nbytes / 2**20:.1f} MiB, "
             f"output: {dout.nbytes / 2**20:.1f} MiB)")  # fmt: skip
        t_naive = naive_time(c_in, c_out, h, args.naive_batch, N)
        t_torch = min(t["fwd+bwd"] for t in other)
        note(f"loop reference fwd+bwd: {t_naive:.1f} s (N={args.naive_batch}, scaled to {N}), "
             f"{t_naive / t_torch:.0f}x torch")  # fmt: skip


if __name__ == "__main__":
    main()
