"""The demo CNN's float32 train step (forward, backward, AdamW) at batch 128: scratchnn vs torch CPU.

    python benchmarks/bench_cnn_step.py [--repeat 8] [--rounds 4] [--batch 128] [--threads N]

The network is ``scratchnn train cnn``'s default ConvNet on Fashion-MNIST-sized input (1x28x28):
conv(1->32, 3x3) - BN - ReLU - maxpool 2 - conv(32->64, 3x3) - BN - ReLU - maxpool 2 - dropout 0.25 -
linear(64*7*7 -> 10), cross-entropy, AdamW. Each library is timed in blocks of steps, the blocks
alternating between libraries over several rounds (common.alternating_blocks). Prints each
library's best block median, their ratio (scratchnn / torch), the per-round ratios and the BLAS
kernel in use. Target (issue 5): ratio <= 2.0.
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
from scratchnn.models import ConvNet  # noqa: E402

CHANNELS = (32, 64)
DROPOUT = 0.25


def scratchnn_step(x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    scratchnn.manual_seed(0)
    model = ConvNet(channels=CHANNELS, dropout=DROPOUT)
    crit = nn.CrossEntropyLoss()
    opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
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
    layers += [torch.nn.Flatten(), torch.nn.Dropout(DROPOUT), torch.nn.Linear(c_in * 7 * 7, 10)]
    model = torch.nn.Sequential(*layers)
    crit = torch.nn.CrossEntropyLoss()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)  # torch's default (foreach) path
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        opt.zero_grad()
        loss = crit(model(tx), ty)
        loss.backward()
        opt.step()

    return step


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
        rounds=args.rounds, warmup=3, repeat=args.repeat,
    )
    t_ours, t_torch = min(blocks["scratchnn"]), min(blocks["torch"])
    rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(blocks["scratchnn"], blocks["torch"]))
    print(
        f"\nConvNet{list(CHANNELS)} float32 train step (fwd+bwd+AdamW), batch {args.batch}, "
        f"best of {args.rounds} block medians ({args.repeat} steps each):"
    )
    print(f"  scratchnn {t_ours * 1e3:8.2f} ms")
    print(f"  torch     {t_torch * 1e3:8.2f} ms")
    print(f"  ratio     {t_ours / t_torch:8.2f}x torch's time (target <= 2.0); per round: {rounds}")

if __name__ == "__main__":
    main()
