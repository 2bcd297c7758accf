"""Conv2d and MaxPool2d, float32 forward and forward+backward: scratchnn vs torch CPU in one process.

    make bench        # or: python benchmarks/bench_conv.py [--repeat 30] [--rounds 7] [--threads 1]

Each layer is timed in blocks (all scratchnn calls, then all torch calls: both keep spinning thread
pools that distort interleaved timings), ``--rounds`` times over; each block gives a median. A
round's two blocks run back to back, so their ratio is a paired comparison; the reported ratio is
the median over rounds, with each round's ratio listed as a measure of the noise. Forward+
backward computes the input gradient on both sides (torch's input has requires_grad=True) and
accumulates the parameter gradients; a line also shows scratchnn without the input gradient, what a
first layer does in a training step (``backward(dout, input_grad=False)``; torch skips it likewise).
Also printed: the im2col workspace and the peak memory of one forward+backward (tracemalloc), and the
loop reference's time for scale (a small batch, scaled linearly to N=64). Targets (issue 5):
forward+backward <= 1.5x torch at (3->32, 32x32) and <= 3.0x at (32->64, 16x16).
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

N = 64
CONVS = [(3, 32, 32), (32, 64, 16)]  # (C_in, C_out, H = W), k=3, padding 1
POOL_SHAPE = (N, 32, 32, 32)
TARGETS = {(3, 32, 32): 1.5, (32, 64, 16): 3.0}


def ours_conv(
    c_in: int, c_out: int, x: np.ndarray, dout: np.ndarray, *, need_dx: bool = True
) -> dict[str, Callable[[], object]]:
    scratchnn.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, 3, padding=1)

    def fwd_bwd() -> None:
        conv(x)
        conv.backward(dout, input_grad=need_dx)

    return {"fwd": lambda: conv(x), "fwd+bwd": fwd_bwd}


def torch_conv(c_in: int, c_out: int, x: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1)
    tx = torch.from_numpy(x).requires_grad_(True)
    tdout = torch.from_numpy(dout)

    def fwd() -> None:
        with torch.no_grad():
            conv(tx)

    def fwd_bwd() -> None:
        conv(tx).backward(tdout)

    return {"fwd": fwd, "fwd+bwd": fwd_bwd}


def ours_pool(x: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    pool = nn.MaxPool2d(2)

    def fwd_bwd() -> None:
        pool(x)
        pool.backward(dout)

    return {"fwd": lambda: pool(x), "fwd+bwd": fwd_bwd}


def torch_pool(x: np.ndarray, dout: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch

    pool = torch.nn.MaxPool2d(2)
    tx = torch.from_numpy(x).requires_grad_(True)
    tdout = torch.from_numpy(dout)

    def fwd() -> None:
        with torch.no_grad():
            pool(tx)

    def fwd_bwd() -> None:
        pool(tx).backward(tdout)

    return {"fwd": fwd, "fwd+bwd": fwd_bwd}


def time_block(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    time.sleep(PARK_S)  # the other library's idle threads stop spinning first (common.PARK_S)
    return {name: median_time(fn, warmup=5, repeat=repeat) for name, fn in fns.items()}


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak memory NumPy allocates during ``fn()`` beyond what was allocated before (tracemalloc)."""
    fn()  # warm: workspaces of the previous call exist, as in training
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def naive_time(c_in: int, c_out: int, h: int, n: int) -> float:
    """Seconds of the loop reference's forward+backward on ``n`` images, scaled to N."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c_in, h, h)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, 3, 3)).astype(np.float32)
    b = np.zeros(c_out, np.float32)
    t0 = time.perf_counter()
    out, cache = ops.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    ops.conv_backward_naive(np.ones_like(out), cache)
    return (time.perf_counter() - t0) * N / n


def report(label: str, ours: list[dict[str, float]], theirs: list[dict[str, float]], target: float | None) -> None:
    """One line per measurement: each library's best block median, and the ratio as the median of the
    per-round ratios (a round's two blocks ran back to back: a paired comparison), then the rounds."""
    for key in ours[0]:
        mine, other = min(o[key] for o in ours), min(t[key] for t in theirs)
        per_round = [o[key] / t[key] for o, t in zip(ours, theirs)]
        rounds = ", ".join(f"{r:.2f}" for r in per_round)
        goal = f"  target <= {target}" if target is not None and key == "fwd+bwd" else ""
        print(
            f"  {label:27s} {key:8s} scratchnn {mine * 1e3:7.2f} ms  torch {other * 1e3:7.2f} ms  "
            f"ratio {statistics.median(per_round):5.2f}x{goal}  (per round: {rounds})"
        )


def note(text: str) -> None:
    print(f"  {'':27s} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per block")
    parser.add_argument("--rounds", type=int, default=7, help="blocks per library, alternating libraries")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: their own)")
    parser.add_argument("--naive-batch", type=int, default=1, help="images for the loop reference (scaled to 64)")
    args = parser.parse_args()
    if args.threads is not None:  # on a busy machine, one thread per library gives the steadiest ratio
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(blas_report())
    print(
        f"\nfloat32, N={N}, medians of {args.repeat} calls per block, {args.rounds} rounds of "
        "(scratchnn block, torch block); ratio = median over rounds of (scratchnn block / torch block)"
    )
    for c_in, c_out, h in CONVS:
        x = rng.standard_normal((N, c_in, h, h)).astype(np.float32)
        dout = rng.standard_normal((N, c_out, h, h)).astype(np.float32)
        ours, theirs, no_dx = [], [], []
        for _ in range(args.rounds):
            ours.append(time_block(ours_conv(c_in, c_out, x, dout), args.repeat))
            theirs.append(time_block(torch_conv(c_in, c_out, x, dout), args.repeat))
        for _ in range(args.rounds):
            no_dx.append(
                time_block({"fwd+bwd": ours_conv(c_in, c_out, x, dout, need_dx=False)["fwd+bwd"]}, args.repeat)
            )
        label = f"Conv2d {c_in}->{c_out} {h}x{h} k3p1"
        report(label, ours, theirs, TARGETS[(c_in, c_out, h)])
        best_no_dx = min(r["fwd+bwd"] for r in no_dx)
        t_torch = min(t["fwd+bwd"] for t in theirs)
        note(
            f"fwd+bwd without dx (input_grad=False, a first layer in training): {best_no_dx * 1e3:.2f} ms, "
            f"{best_no_dx / t_torch:.2f}x torch's fwd+bwd with dx"
        )
        cols = (c_in * 9 + 1) * N * h * h * 4
        peak = peak_bytes(ours_conv(c_in, c_out, x, dout)["fwd+bwd"])
        note(
            f"im2col workspace (C*9 + 1, N*H*W) float32: {cols / 2**20:.1f} MiB; peak NumPy memory of one "
            f"fwd+bwd beyond the workspace: {peak / 2**20:.1f} MiB (x: {x.nbytes / 2**20:.1f} MiB)"
        )
        t_naive = naive_time(c_in, c_out, h, args.naive_batch)
        note(
            f"loop reference fwd+bwd: {t_naive:.1f} s (N={args.naive_batch}, scaled to {N}), "
            f"{t_naive / t_torch:.0f}x torch"
        )
    x = rng.standard_normal(POOL_SHAPE).astype(np.float32)
    dout = rng.standard_normal((N, 32, 16, 16)).astype(np.float32)
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(time_block(ours_pool(x, dout), args.repeat))
        theirs.append(time_block(torch_pool(x, dout), args.repeat))
    report("MaxPool2d 2x2 (64,32,32,32)", ours, theirs, None)


if __name__ == "__main__":
    main()
