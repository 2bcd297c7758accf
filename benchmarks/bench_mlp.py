"""The README's "one step by hand" MLP train step (forward, backward, AdamW), float32: scratchnn vs torch CPU.

    make bench        # or: python benchmarks/bench_mlp.py [--repeat 20] [--rounds 7] [--threads N]

Times exactly the loop the README prints,

    loss = crit(model(xb), yb)
    optimizer.zero_grad()
    model.backward(crit.backward(), input_grad=False)
    optimizer.step()

with ``optim.AdamW(lr=1e-3, weight_decay=0.05)``, against the same loop in torch (``xb`` does not
require grad, so neither library computes the gradient of the data), for the README's MLP
784-256-10 and the deeper 784-512-256-10, at batch 128 and 256. Each library is timed in blocks
of steps, the blocks alternating between libraries over several rounds (common.alternating_blocks).
Prints, per configuration, each library's best block median, the ratio scratchnn / torch as the
median of the per-round ratios (below 1.0 means scratchnn is faster) and every round's ratio; then
a summary and the BLAS kernel in use. Target (issues 2 and 10): every ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import statistics
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

NETS = ((784, 256, 10), (784, 512, 256, 10))  # the README's MLP, and a deeper one
BATCHES = (128, 256)
LR, WEIGHT_DECAY = 1e-3, 0.05  # the README's AdamW


def scratchnn_step(sizes: tuple[int, ...], x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    scratchnn.manual_seed(0)
    layers: list[nn.Module] = []
    for d_in, d_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(d_in, d_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])  # no ReLU after the scores
    optimizer = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    return scratchnn_train_step(model, nn.CrossEntropyLoss(), optimizer, x, y)


def torch_step(sizes: tuple[int, ...], x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    for d_in, d_out in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    # torch's default AdamW on CPU: the per-parameter loop (foreach kernels are its default on GPUs only)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    return torch_train_step(model, torch.nn.CrossEntropyLoss(), optimizer, x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed steps per block")
    parser.add_argument("--rounds", type=int, default=7, help="blocks per library, alternating libraries")
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
    print(blas_report())
    summary = []
    for sizes in NETS:
        for batch in BATCHES:
            rng = np.random.default_rng(0)
            x = rng.random((batch, sizes[0]), dtype=np.float32)  # pixels in [0, 1], as Fashion-MNIST's
            y = rng.integers(0, sizes[-1], batch)
            fns = {"scratchnn": scratchnn_step(sizes, x, y), "torch": torch_step(sizes, x, y)}
            blocks = alternating_blocks(fns, rounds=args.rounds, repeat=args.repeat)
            name = f"MLP {'-'.join(map(str, sizes))} batch {batch}"
            report_step_ratio(f"{name}, README train step (AdamW), {args.repeat} steps a block", blocks, target=1.0)
            per_round = [a / b for a, b in zip(blocks["scratchnn"], blocks["torch"])]
            summary.append((name, statistics.median(per_round), min(per_round), max(per_round)))
    print("\nsummary (ratio = median of per-round ratios; target <= 1.0):")
    for name, ratio, lo, hi in summary:
        print(f"  {name:28s} {ratio:5.2f}x  (rounds {lo:.2f}-{hi:.2f})")


if __name__ == "__main__":
    main()
