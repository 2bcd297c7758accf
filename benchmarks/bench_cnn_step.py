"""The demo CNN's float32 train step (forward, backward, AdamW) at batch 128: scratchnn vs torch CPU.

    python benchmarks/bench_cnn_step.py [--repeat 8] [--rounds 4] [--batch 128] [--threads N]

The network is ``scratchnn train cnn``'s default ConvNet on Fashion-MNIST-sized input (1x28x28):
conv(1->32, 3x3) - BN - ReLU - maxpool 2 - conv(32->64, 3x3) - BN - ReLU - maxpool 2 - dropout 0.25 -
linear(64*7*7 -> 128) - ReLU - dropout 0.25 - linear(128 -> 10), cross-entropy, AdamW. Each library
is timed in blocks of steps, the blocks alternating between libraries over several rounds
(common.alternating_blocks). Prints each library's best block median, the ratio scratchnn / torch
as the median of the per-round ratios, every round's ratio and the BLAS kernel in use. Target
(issue 5): ratio <= 2.0.
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
from scratchnn.models import ConvNet  # noqa: E402

CHANNELS = (32, 64)
HIDDEN = 128
DROPOUT = 0.25


def scratchnn_step(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    scratchnn.manual_seed(0)
    model = ConvNet(channels=CHANNELS, hidden=[HIDDEN], dropout=DROPOUT)
    opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    return scratchnn_train_step(model, nn.CrossEntropyLoss(), opt, x, y)


def torch_step(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    c_in = 1
    for c in CHANNELS:
        layers += [
            torch.nn.Conv2d(c_in, c, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(c),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        ]
        c_in = c
    layers += [torch.nn.Flatten(), torch.nn.Dropout(DROPOUT), torch.nn.Linear(c_in * 7 * 7, HIDDEN), torch.nn.ReLU()]
    layers += [torch.nn.Dropout(DROPOUT), torch.nn.Linear(HIDDEN, 10)]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)  # default on CPU: a loop over params
    return torch_train_step(model, torch.nn.CrossEntropyLoss(), opt, x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8, help="timed steps per block (default: 8)")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per library, alternating (default: 4)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default: 128)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads for NumPy and torch's intra-op threads (default: leave both as they are; "
        "1 gives steadier ratios on a machine shared with other work)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, args.batch)
    print(blas_report())
    blocks = alternating_blocks(
        {"scratchnn": scratchnn_step(x, y), "torch": torch_step(x, y)},
        rounds=args.rounds,
        warmup=3,
        repeat=args.repeat,
    )
    title = (
        f"ConvNet{list(CHANNELS)} hidden {HIDDEN} float32 train step (fwd+bwd+AdamW), batch {args.batch}, "
        f"{args.repeat} steps a block"
    )
    report_step_ratio(title, blocks, target=2.0)


if __name__ == "__main__":
    main()
