"""The Transformer area's speed, float32: scratchnn vs torch CPU in one process, and the KV cache's gain.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_transformer.py [--only mha,layer,step,cache]
        [--repeat 5] [--rounds 5] [--threads N]

- mha: nn.MultiheadAttention self-attention, forward + backward (input and parameter gradients), batch-first,
  E=256, 8 heads, N=32, at T=128 (target <= 1.0x torch) and T=512 (target <= 1.3x).
- layer: nn.TransformerEncoderLayer (post-LN, relu, dim_feedforward 1024, dropout 0.1, train mode), forward +
  backward at the same shapes and targets.
- step: one training step of the summarizer: its default model (`scratchnn train summarizer`: vocabulary
  4,000, d_model 128, 4 heads, 2 + 2 pre-LN layers, dim_feedforward 512, no dropout; sources of 48 and
  targets of 20 tokens, batch 32) and a wider one (vocabulary 8,000, d_model 256, 3 + 3 post-LN layers,
  dim_feedforward 1024, dropout 0.1, 64/24 tokens, batch 64): forward, label-smoothed cross-entropy,
  backward, AdamW; torch's twin is the same model built from torch.nn's layers
  (tests/models/transformer/torch_seq2seq.py). Target <= 1.2x.
- cache: greedy decoding of 64 tokens for 32 sources with the KV cache against full recomputation at every
  step (scratchnn alone; target: the cache >= 3x faster).

Ratios are scratchnn's time / torch's, the median of per-round ratios of alternating blocks (common.py);
below 1.0 scratchnn is faster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "tests" / "models" / "transformer"))
from common import alternating_blocks, blas_report, report_step_ratio  # noqa: E402
from scratchnn import nn  # noqa: E402

E, HEADS, N, FF = 256, 8, 32, 1024
TARGETS = {128: 1.0, 512: 1.3}


def module_step(ours: nn.Module, x: np.ndarray, g: np.ndarray, attention: bool) -> Callable[[], object]:
    def step() -> object:
        ours.zero_grad()
        if attention:
            ours(x, x, x, need_weights=False)
        else:
            ours(x)
        return ours.backward(g)

    return step


def torch_module_step(theirs: object, x: np.ndarray, g: np.ndarray, attention: bool) -> Callable[[], object]:
    import torch

    tx, tg = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(g)

    def step() -> None:
        theirs.zero_grad()  # type: ignore[attr-defined]
        tx.grad = None
        out = theirs(tx, tx, tx, need_weights=False)[0] if attention else theirs(tx)  # type: ignore[operator]
        out.backward(tg)

    return step


def bench_modules(kind: str, args: argparse.Namespace, summary: list[tuple[str, float, float]]) -> None:
    import torch

    for T in (128, 512):
        rng = np.random.default_rng(0)
        if kind == "mha":
            ours: nn.Module = nn.MultiheadAttention(E, HEADS, batch_first=True, dtype=np.float32)
            theirs = torch.nn.MultiheadAttention(E, HEADS, batch_first=True)
        else:
            ours = nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True, dtype=np.float32)
            theirs = torch.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
        theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
        x = rng.standard_normal((N, T, E), dtype=np.float32)
        g = rng.standard_normal((N, T, E), dtype=np.float32)
        attention = kind == "mha"
        fns = {"scratchnn": module_step(ours, x, g, attention), "torch": torch_module_step(theirs, x, g, attention)}
        blocks = alternating_blocks(fns, rounds=args.rounds, repeat=args.repeat, warmup=2)
        name = f"{type(ours).__name__} T={T} N={N} E={E} heads={HEADS}"
        report_step_ratio(f"{name}, forward + backward", blocks, TARGETS[T])
        ratio = statistics.median(a / b for a, b in zip(blocks["scratchnn"], blocks["torch"]))
        summary.append((name, ratio, TARGETS[T]))


def bench_step(args: argparse.Namespace, summary: list[tuple[str, float, float]]) -> None:
    for V, d, nhead, layers, ff, p, pre, B, S, T in STEP_CONFIGS:
        _bench_one_step(args, summary, V, d, nhead, layers, ff, p, pre, B, S, T)


# (vocab, d_model, heads, layers, dim_feedforward, dropout, norm_first, batch, source, target)
STEP_CONFIGS = [(4000, 128, 4, 2, 512, 0.0, True, 32, 48, 20), (8000, 256, 4, 3, 1024, 0.1, False, 64, 64, 24)]


def _bench_one_step(
    args: argparse.Namespace, summary: list[tuple[str, float, float]],
    V: int, d: int, nhead: int, layers: int, ff: int, p: float, pre: bool, B: int, S: int, T: int,
) -> None:  # fmt: skip
    import torch
    from torch_seq2seq import TorchSeq2Seq

    from scratchnn.models import Seq2SeqTransformer
    from scratchnn.optim import AdamW
    from scratchnn.recipes.summarizer_data import TeacherForced

    rng = np.random.default_rng(0)
    model = Seq2SeqTransformer(
        V, d, nhead, layers, layers, ff, p, norm_first=pre, max_len=S, pad_id=0, dtype=np.float32, rng=rng
    )
    tmodel = TorchSeq2Seq(V, d, nhead, layers, ff, p, S, 0, norm_first=pre)
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    src, tgt = rng.integers(3, V, (B, S)), rng.integers(3, V, (B, T))
    tgt[:, 0] = 1
    labels = rng.integers(3, V, (B, T))
    task, crit = TeacherForced(model, S), nn.CrossEntropyLoss(label_smoothing=0.1)
    opt = AdamW(task.parameters(), lr=1e-4, weight_decay=0.01)
    X = np.concatenate([src, tgt], axis=1)

    def ours() -> None:
        crit(task(X), labels)
        opt.zero_grad()
        task.backward(crit.backward(), input_grad=False)
        opt.step()

    tcrit = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    topt = torch.optim.AdamW(tmodel.parameters(), lr=1e-4, weight_decay=0.01)
    ts, tt, tl = (torch.from_numpy(a) for a in (src, tgt, labels))

    def theirs() -> None:
        loss = tcrit(tmodel(ts, tt).reshape(-1, V), tl.reshape(-1))
        topt.zero_grad()
        loss.backward()
        topt.step()

    blocks = alternating_blocks({"scratchnn": ours, "torch": theirs}, rounds=args.rounds, repeat=args.repeat, warmup=2)
    ln = "pre-LN" if pre else "post-LN"
    name = f"summarizer step (V={V}, d={d}, {layers}+{layers} {ln} layers, batch {B}, {S}/{T} tokens)"
    report_step_ratio(name, blocks, 1.2)
    summary.append((name, statistics.median(a / b for a, b in zip(blocks["scratchnn"], blocks["torch"])), 1.2))


def bench_cache(args: argparse.Namespace) -> None:
    from scratchnn.models import Seq2SeqTransformer, greedy_decode

    rng = np.random.default_rng(0)
    model = Seq2SeqTransformer(8000, 256, 4, 3, 3, 1024, 0.1, max_len=128, dtype=np.float32, rng=rng)
    src = rng.integers(3, 8000, (32, 64))
    times = {}
    for use_cache in (True, False):
        t0 = time.perf_counter()
        # eos_id 2 never wins the argmax of this untrained model often enough to stop early: 64 steps each
        out = greedy_decode(model, src, max_len=64, start_id=1, eos_id=2, use_cache=use_cache)
        times[use_cache] = time.perf_counter() - t0
        steps = out.logits.shape[1] if out.logits is not None else 0
    tokens = 32 * steps
    print(f"\ngreedy decoding, 32 sources x {steps} tokens, d_model 256, 3 decoder layers:")
    print(f"  with the KV cache   {times[True]:6.2f} s  ({tokens / times[True]:7.1f} tokens/s)")
    print(f"  full recomputation  {times[False]:6.2f} s  ({tokens / times[False]:7.1f} tokens/s)")
    print(f"  the cache is {times[False] / times[True]:.1f}x faster (target >= 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="mha,layer,step,cache", help="comma-separated parts to time")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per block")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per library, alternating libraries")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: their own)")
    args = parser.parse_args()
    import torch

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    print(blas_report())
    parts = args.only.split(",")
    summary: list[tuple[str, float, float]] = []
    for kind in ("mha", "layer"):
        if kind in parts:
            bench_modules(kind, args, summary)
    if "step" in parts:
        bench_step(args, summary)
    if "cache" in parts:
        bench_cache(args)
    if summary:
        print("\nsummary (ratio = median of per-round ratios):")
        for name, ratio, target in summary:
            print(f"  {name:75s} {ratio:5.2f}x  (target <= {target})")


if __name__ == "__main__":
    main()
