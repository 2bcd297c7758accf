"""MLP 784-512-256-10 float32 train step (forward, backward, Adam) at batch 256: scratchnn vs torch CPU.

    make bench        # or: python benchmarks/bench_mlp.py [--repeat 20] [--rounds 7]

Each library is timed in blocks of calls, the blocks alternating between libraries over several
rounds (common.alternating_blocks). Prints each library's best block median, the ratio scratchnn /
torch as the median of the per-round ratios (below 1.0 means scratchnn is faster), every round's
ratio and the BLAS kernel in use. Target (issue 2): ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchnn  # noqa: E402
from common import (  # noqa: E402
    alternating_blocks,
    blas_report,
    report_step_ratio,
    scratchnn_train_step,
    torch_train_step,
)
from scratchnn import nn, optim  # noqa: E402

SIZES = (784, 512, 256, 10)
BATCH = 256


def scratchnn_step(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    scratchnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return scratchnn_train_step(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), x, y)


def torch_step(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    # torch's default Adam on CPU: the per-parameter loop (foreach kernels are its default on GPUs only)
    return torch_train_step(model, torch.nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3), x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed steps per block")
    parser.add_argument("--rounds", type=int, default=7, help="blocks per library, alternating libraries")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 784)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    print(blas_report())
    blocks = alternating_blocks(
        {"scratchnn": scratchnn_step(x, y), "torch": torch_step(x, y)}, rounds=args.rounds, repeat=args.repeat
    )
    sizes = "-".join(map(str, SIZES))
    title = f"MLP {sizes} float32 train step (fwd+bwd+Adam), batch {BATCH}, {args.repeat} steps a block"
    report_step_ratio(title, blocks, target=1.0)


if __name__ == "__main__":
    main()
