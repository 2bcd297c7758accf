"""RNN, LSTM and GRU layers, forward + backward, float32: scratchnn's layer ops vs torch's nn.RNN/LSTM/GRU on CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_recurrent.py [--repeat 10] [--rounds 5]
        [--threads N] [--only rnn,lstm,gru]

One step is one layer's forward over a batch of sequences and its backward with a random upstream gradient
of the output sequence, the input gradient included (x requires grad in torch, as an nn module's input
does by default). scratchnn's step is what nn.RNN/LSTM/GRU do with torch-layout weights: permute and transpose
them into the ops' layout (LSTM: gate blocks i, f, g, o -> i, f, o, g; b = b_ih + b_hh), call
``*_layer_forward`` / ``*_layer_backward``, and lay the weight gradients out as torch's again. Shapes:
T=28, N=128, D=28, H=128 (Fashion-MNIST rows as a sequence) and T=100, N=64, D=64, H=256.

Each library is timed in blocks of steps, the blocks alternating between libraries over several rounds
(common.alternating_blocks). Prints, per layer and shape, each library's best block median, the ratio
scratchnn / torch as the median of the per-round ratios (below 1.0 means scratchnn is faster), then a
summary and the BLAS kernel in use. Targets (issue 12): RNN <= 0.8, LSTM and GRU <= 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import alternating_blocks, blas_report, report_step_ratio  # noqa: E402
from scratchnn import ops  # noqa: E402

SHAPES = ((28, 128, 28, 128), (100, 64, 64, 256))  # (T, N, D, H)
TARGETS = {"rnn": 0.8, "lstm": 1.5, "gru": 1.5}
TORCH_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def lstm_order(H: int) -> np.ndarray:
    """torch's gate blocks i, f, g, o <-> the course's i, f, o, g (swapping the last two; its own inverse)."""
    return np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]


def scratchnn_step(kind: str, weights: dict[str, np.ndarray], x: np.ndarray, dh: np.ndarray) -> Callable[[], object]:
    """Forward + backward of one layer from torch-layout weights, as nn.RNN/LSTM/GRU run it; the step returns
    the input gradient and the weight gradients in torch's layout."""
    w_ih, w_hh, b_ih, b_hh = (weights[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    N, H = x.shape[0], w_hh.shape[1]
    h0 = np.zeros((N, H), dtype=x.dtype)

    def rnn() -> object:
        (_, _), cache = ops.rnn_layer_forward(x, h0, w_ih.T, w_hh.T, b_ih + b_hh)
        dx, _, dWx, dWh, db = ops.rnn_layer_backward(dh, None, cache)
        return dx, dWx.T, dWh.T, db  # dWx, dWh come F-ordered from the transposed weights: .T is contiguous

    def lstm() -> object:
        p = lstm_order(H)
        (_, _, _), cache = ops.lstm_layer_forward(x, h0, h0, w_ih[p].T, w_hh[p].T, (b_ih + b_hh)[p])
        dx, _, _, dWx, dWh, db = ops.lstm_layer_backward(dh, None, None, cache)
        return dx, dWx.T[p], dWh.T[p], db[p]

    def gru() -> object:
        (_, _), cache = ops.gru_layer_forward(x, h0, w_ih.T, w_hh.T, b_ih, b_hh)
        dx, _, dWx, dWh, dbx, dbh = ops.gru_layer_backward(dh, None, cache)
        return dx, dWx.T, dWh.T, dbx, dbh

    return {"rnn": rnn, "lstm": lstm, "gru": gru}[kind]


def torch_step(module: object, x: np.ndarray, dh: np.ndarray) -> Callable[[], object]:
    import torch

    tx = torch.from_numpy(x).requires_grad_(True)  # as an nn module's input: its gradient is computed
    tdh = torch.from_numpy(dh)

    def step() -> None:
        out, _ = module(tx)  # type: ignore[operator]
        out.backward(tdh)

    return step


def check_outputs_agree(kind: str, module: object, weights: dict[str, np.ndarray], x: np.ndarray) -> None:
    """The two steps compute the same layer (float32 tolerance) before either is timed."""
    import torch

    H = weights["weight_hh_l0"].shape[1]
    h0 = np.zeros((x.shape[0], H), dtype=x.dtype)
    w_ih, w_hh, b_ih, b_hh = (weights[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    if kind == "lstm":
        p = lstm_order(H)
        ours = ops.lstm_layer_forward(x, h0, h0, w_ih[p].T, w_hh[p].T, (b_ih + b_hh)[p])[0][0]
    elif kind == "gru":
        ours = ops.gru_layer_forward(x, h0, w_ih.T, w_hh.T, b_ih, b_hh)[0][0]
    else:
        ours = ops.rnn_layer_forward(x, h0, w_ih.T, w_hh.T, b_ih + b_hh)[0][0]
    with torch.no_grad():
        theirs = module(torch.from_numpy(x))[0].numpy()  # type: ignore[operator]
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="timed steps per block")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per library, alternating libraries")
    parser.add_argument("--only", default="rnn,lstm,gru", help="comma-separated layers to time")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads for NumPy and torch's intra-op threads (default: leave both as they are; "
        "1 gives steadier ratios on a machine shared with other work)",
    )
    args = parser.parse_args()
    import torch

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    print(blas_report())
    summary = []
    for T, N, D, H in SHAPES:
        for kind in args.only.split(","):
            torch.manual_seed(0)
            module = getattr(torch.nn, TORCH_NAMES[kind])(D, H, batch_first=True)
            weights = {k: v.detach().numpy() for k, v in module.state_dict().items()}
            rng = np.random.default_rng(0)
            x = rng.standard_normal((N, T, D), dtype=np.float32)
            dh = rng.standard_normal((N, T, H), dtype=np.float32)
            check_outputs_agree(kind, module, weights, x)
            fns = {"scratchnn": scratchnn_step(kind, weights, x, dh), "torch": torch_step(module, x, dh)}
            blocks = alternating_blocks(fns, rounds=args.rounds, repeat=args.repeat)
            name = f"{TORCH_NAMES[kind]} T={T} N={N} D={D} H={H}"
            report_step_ratio(f"{name}, forward + backward, {args.repeat} steps a block", blocks, TARGETS[kind])
            per_round = [a / b for a, b in zip(blocks["scratchnn"], blocks["torch"])]
            summary.append((name, statistics.median(per_round), min(per_round), max(per_round), TARGETS[kind]))
    print("\nsummary (ratio = median of per-round ratios):")
    for name, ratio, lo, hi, target in summary:
        print(f"  {name:30s} {ratio:5.2f}x  (rounds {lo:.2f}-{hi:.2f}; target <= {target})")


if __name__ == "__main__":
    main()
