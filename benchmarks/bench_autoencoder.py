"""One training step of the MLP autoencoder (forward, reconstruction loss, backward, Adam), float32: scratchnn vs torch.

    python benchmarks/bench_autoencoder.py [--repeat 20] [--rounds 7] [--threads N]

Times the loop a user writes for ``models.Autoencoder`` with ``models.ReconstructionLoss`` (the course's
(1/N) ||X - X_hat||_F^2),

    loss = crit(model(xb), xb)
    optimizer.zero_grad()
    model.backward(crit.backward(), input_grad=False)
    optimizer.step()

with ``optim.Adam(lr=1e-3)``, against the same loop in torch (two ``nn.Sequential`` of the same Linear layers
and ``mse_loss(reduction='sum') / N``), on pixel-like inputs in [0, 1] at batch 200:

- 784-200-784, the issue's configuration. With one hidden size the encoder is one Linear to the code and
  the decoder one Linear back, and no activation follows the code or the output: the model is linear
  whatever ``activation`` says, its step four GEMMs (the first layer's input gradient is skipped);
- 784-400-200-400-784 with ReLU between the hidden layers, where the activations take part.

Each library is timed in blocks of steps, the blocks alternating between libraries over several rounds
(common.alternating_blocks). Prints, per configuration, each library's best block median, the ratio
scratchnn / torch as the median of the per-round ratios (below 1.0: scratchnn is faster) and every
round's ratio; then a summary and the BLAS kernel in use. Target (issue 13): 784-200-784 <= 1.0x.
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
from scratchnn import models, optim  # noqa: E402

CONFIGS = ((784, (200,)), (784, (400, 200)))  # (input size D, the encoder's hidden sizes): D-H..-code-..H-D
BATCH, LR = 200, 1e-3


def scratchnn_step(d: int, hidden: tuple[int, ...], x: np.ndarray) -> Callable[[], None]:
    scratchnn.manual_seed(0)
    model = models.Autoencoder(d, list(hidden), "relu")
    optimizer = optim.Adam(model.parameters(), lr=LR)
    return scratchnn_train_step(model, models.ReconstructionLoss(), optimizer, x, x)


def _torch_mlp(sizes: list[int]) -> object:
    import torch

    layers: list[torch.nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(sizes, sizes[1:])):
        if i:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(d_in, d_out))
    return torch.nn.Sequential(*layers)


def torch_step(d: int, hidden: tuple[int, ...], x: np.ndarray) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    sizes = [d, *hidden]
    model = torch.nn.Sequential(_torch_mlp(sizes), _torch_mlp(sizes[::-1]))

    def criterion(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(out, target, reduction="sum") / out.shape[0]

    # torch's default Adam on CPU: the per-parameter loop (foreach kernels are its default on GPUs only)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    return torch_train_step(model, criterion, optimizer, x, x)


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
    for d, hidden in CONFIGS:
        x = np.random.default_rng(0).random((BATCH, d), dtype=np.float32)  # pixels in [0, 1], as Fashion-MNIST's
        fns = {"scratchnn": scratchnn_step(d, hidden, x), "torch": torch_step(d, hidden, x)}
        blocks = alternating_blocks(fns, rounds=args.rounds, repeat=args.repeat)
        sizes = [d, *hidden, *hidden[::-1][1:], d]
        name = f"autoencoder {'-'.join(map(str, sizes))} batch {BATCH}"
        report_step_ratio(f"{name}, train step (Adam), {args.repeat} steps a block", blocks, target=1.0)
        per_round = [a / b for a, b in zip(blocks["scratchnn"], blocks["torch"])]
        summary.append((name, statistics.median(per_round), min(per_round), max(per_round)))
    print("\nsummary (ratio = median of per-round ratios; target <= 1.0 for 784-200-784):")
    for name, ratio, lo, hi in summary:
        print(f"  {name:40s} {ratio:5.2f}x  (rounds {lo:.2f}-{hi:.2f})")


if __name__ == "__main__":
    main()
