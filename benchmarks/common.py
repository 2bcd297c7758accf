"""Shared benchmark plumbing: medians of timed blocks and a report of the BLAS kernels in use.

Each library is timed in its own block, never call by call: OpenBLAS and torch both keep
spinning thread pools, and interleaving them makes each pay for the other's spinning.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def median_time(fn: Callable[[], object], *, warmup: int = 10, repeat: int = 50) -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# OpenBLAS's idle threads spin (sched_yield) for ~0.1 s after each call before they sleep (measured: 0.11 s of
# CPU during a 0.2 s sleep after one GEMM); torch's OpenMP threads spin for a few ms. A block that starts right
# after the other library's block would share a core with those spinners for its first 0.1 s.
PARK_S = 0.25


def alternating_blocks(
    fns: Mapping[str, Callable[[], object]], *, rounds: int = 5, warmup: int = 5, repeat: int = 20
) -> dict[str, list[float]]:
    """Block medians (seconds) per name: ``rounds`` rounds, each timing one block of every ``fns`` entry in turn.

    A shared or throttled machine drifts by 10-30% over a minute; alternating whole blocks lets
    each library see the same drift while still never interleaving them call by call; the ratio of
    the two blocks of one round is a paired comparison (:func:`report_step_ratio`).
    """
    medians: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(PARK_S)  # let the other library's idle threads stop spinning first
            medians[name].append(median_time(fn, warmup=warmup, repeat=repeat))
    return medians


def scratchnn_train_step(model: Any, criterion: Any, optimizer: Any, x: Any, y: Any) -> Callable[[], None]:
    """One scratchnn train step, the README's "one step by hand" as printed: forward and loss, zero_grad,
    backward without the input gradient (``x`` is data), step."""

    def step() -> None:
        criterion(model(x), y)
        optimizer.zero_grad()
        model.backward(criterion.backward(), input_grad=False)
        optimizer.step()

    return step


def torch_train_step(model: Any, criterion: Any, optimizer: Any, x: Any, y: Any) -> Callable[[], None]:
    """The same step in torch, in the same order, on the same arrays (shared memory, no copies).

    ``x`` does not require grad, so autograd skips its gradient: what ``input_grad=False`` does.
    """
    import torch

    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        loss = criterion(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def report_step_ratio(title: str, blocks: dict[str, list[float]], target: float) -> None:
    """Print each library's best block median, and the ratio as the median of the per-round ratios.

    A round times one block of each library back to back, so its ratio compares the two under the
    same machine conditions; the median over rounds shrugs off a round that either library lost to
    something else on the machine. (The best blocks' ratio, also printed, hinges on one lucky block.)
    """
    t_ours, t_torch = min(blocks["scratchnn"]), min(blocks["torch"])
    per_round = [a / b for a, b in zip(blocks["scratchnn"], blocks["torch"])]
    rounds = ", ".join(f"{r:.2f}" for r in per_round)
    print(f"\n{title}, {len(per_round)} rounds:")
    print(f"  scratchnn {t_ours * 1e3:8.2f} ms (best block median)")
    print(f"  torch     {t_torch * 1e3:8.2f} ms (best block median)")
    print(f"  ratio     {statistics.median(per_round):8.2f}x torch's time, median of the rounds (target <= {target})")
    print(f"  per round: {rounds}; best blocks: {t_ours / t_torch:.2f}x")


def blas_report() -> str:
    """Which BLAS NumPy uses (library, kernel architecture, threads) and torch's threads."""
    from threadpoolctl import threadpool_info

    lines = [f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"]
    for pool in threadpool_info():
        lines.append(
            f"numpy BLAS: {pool.get('internal_api')} {pool.get('version')} kernel={pool.get('architecture')} "
            f"threads={pool.get('num_threads')} ({os.path.basename(str(pool.get('filepath')))})"
        )
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        lines.append(f"{var}={os.environ.get(var, '(unset)')}")
    try:
        import torch

        lines.append(f"torch {torch.__version__}: threads={torch.get_num_threads()}")
    except ImportError:
        lines.append("torch: not installed")
    return "\n".join(lines)
