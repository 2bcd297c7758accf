"""MLP 784-512-256-10 float32 train step (forward, backward, Adam) at batch 256: scratchnn vs torch CPU.

    make bench        # or: python benchmarks/bench_mlp.py [--repeat 50]

Each library is timed in blocks of calls, the blocks alternating between libraries over several
rounds (common.alternating_blocks). Prints each library's best block median, their ratio
(scratchnn / torch; below 1.0 means scratchnn is faster), the per-round ratios and the BLAS kernel
in use. Target (issue 2): ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchnn  # noqa: E402
from common import alternating_blocks, blas_report  # noqa: E402
from scratchnn import nn, optim  # noqa: E402

SIZES = (784, 512, 256, 10)
BATCH = 256


def scratchnn_step(x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    scratchnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    crit = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    model.needs_input_grad = False  # the input is data; torch skips its gradient too (as the Trainer does)

    def step() -> None:
        opt.zero_grad()
        loss = crit(model(x), y)
        model.backward(crit.backward())
        opt.step()
        del loss

    return step


def torch_step(x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    crit = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # torch's default (foreach) implementation
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        opt.zero_grad()
        loss = crit(model(tx), ty)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed steps per block")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per library, alternating libraries")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 784)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    print(blas_report())
    blocks = alternating_blocks(
        {"scratchnn": scratchnn_step(x, y), "torch": torch_step(x, y)}, rounds=args.rounds, repeat=args.repeat
    )
    t_ours, t_torch = min(blocks["scratchnn"]), min(blocks["torch"])
    rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(blocks["scratchnn"], blocks["torch"]))
    print(f"\nMLP {'-'.join(map(str, SIZES))} float32 train step (fwd+bwd+Adam), batch {BATCH}, "
          f"best of {args.rounds} block medians ({args.repeat} steps each):")
    print(f"  scratchnn {t_ours * 1e3:8.2f} ms")
    print(f"  torch     {t_torch * 1e3:8.2f} ms")
    print(f"  ratio     {t_ours / t_torch:8.2f}x torch's time (target <= 1.0); per round: {rounds}")


if __name__ == "__main__":
    main()
