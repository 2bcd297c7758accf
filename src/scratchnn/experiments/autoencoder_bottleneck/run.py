"""``autoencoder-bottleneck``: the course project's grid of linear autoencoders on the subspace Gaussian.

Data: ``data.make_subspace_gaussian`` (20,000 samples, dim 100, a k = 20 dimensional subspace whose
coordinates have standard deviation var_scale = 10, the label the sign of their sum), split 0.7/0.2/0.1
into train/validation/test. Grid: bottleneck {5, 20, 100, 500} x {vanilla, denoising (noise_std 0.5),
masked (mask_ratio 0.75)} x 3 seeds; each a LINEAR autoencoder (one hidden layer of the bottleneck's
width, no activation) trained 10 epochs with Adam (lr 5e-4, batch 100) on the reconstruction loss
(1/N) ||X - X_hat||^2 of the clean input. After every epoch: the validation reconstruction loss (eval
mode: no corruption) and the test accuracy of a linear probe on the frozen encoder's codes
(:func:`scratchnn.analysis.linear_probe` at its defaults: Adam 1e-3, batch 128, 20 epochs, all the
training split's labels). References per seed: the probe on the raw inputs, on the top-k principal
components and on the top-b components for each bottleneck b <= dim.

Each (bottleneck, kind, seed) is one task of the sweep runner; the seed draws the dataset and its
split (shared by every model of that seed), then the model's initialization, corruptions, batches and
probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "KINDS", "train_task", "reference_task"]

KINDS = ("vanilla", "denoising", "masked")


@dataclass(frozen=True)
class Config:
    n: int = 20_000  # samples of the subspace Gaussian (before the split)
    dim: int = 100
    k: int = 20  # dimension of the high-variance subspace
    var_scale: float = 10.0  # std of the subspace coordinates (the rest have std 1)
    bottlenecks: tuple[int, ...] = (5, 20, 100, 500)
    kinds: tuple[str, ...] = KINDS
    noise_std: float = 0.5  # the denoising autoencoder's Gaussian noise
    mask_ratio: float = 0.75  # the masked autoencoder's fraction of zeroed features (the course's mask_prob 0.25)
    epochs: int = 10
    batch_size: int = 100
    lr: float = 5e-4  # Adam
    seeds: int = 3
    probe_epochs: int = 20  # linear_probe's defaults: the course's protocol
    probe_batch_size: int = 128
    probe_lr: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("n", "dim", "epochs", "batch_size", "seeds", "probe_epochs", "probe_batch_size"):
            check_int(getattr(self, name), name, low=1)
        check_int(self.k, "k", low=1, high=self.dim)
        check_float(self.var_scale, "var_scale", low=0.0, low_open=True)
        check_float(self.noise_std, "noise_std", low=0.0)
        check_float(self.mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_float(self.probe_lr, "probe_lr", low=0.0, low_open=True)
        if not self.bottlenecks or any(not isinstance(b, int) or b < 1 for b in self.bottlenecks):
            raise invalid_value("bottlenecks", "one or more positive ints", self.bottlenecks)
        if not self.kinds or any(kind not in KINDS for kind in self.kinds):
            raise invalid_value("kinds", "names among 'vanilla', 'denoising', 'masked'", self.kinds)


#: ``--quick``: 3,000 samples, bottlenecks 5 and 20 (= k), 5 epochs at lr 5e-3 (10x: far fewer steps), probes at
#: lr 1e-2, one seed
QUICK: dict[str, Any] = {"n": 3_000, "bottlenecks": (5, 20), "epochs": 5, "lr": 5e-3, "probe_lr": 1e-2, "seeds": 1}


def _data(n: int, dim: int, k: int, var_scale: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    from ...data import make_subspace_gaussian, train_val_test_split

    X, y, _ = make_subspace_gaussian(n, dim, k, var_scale, rng=rng)
    return train_val_test_split(X, y, (0.7, 0.2, 0.1), rng=rng)


def _probe(encoder: Any, parts: tuple[np.ndarray, ...], probe: dict[str, Any], rng: np.random.Generator) -> float:
    from ...analysis import linear_probe

    X_tr, y_tr, _, _, X_te, y_te = parts
    result = linear_probe(
        encoder, (X_tr, y_tr), (X_te, y_te), epochs=probe["epochs"], batch_size=probe["batch_size"], lr=probe["lr"],
        num_classes=2, rng=rng,
    )  # fmt: skip
    return result.test_accuracy


def train_task(data: dict[str, Any], kind: str, bottleneck: int, train: dict[str, Any], probe: dict[str, Any],
               seed: int) -> dict[str, Any]:  # fmt: skip
    """One linear autoencoder: per epoch, the mean training loss, the validation loss and the probe accuracy."""
    from ...models import Autoencoder, DenoisingAutoencoder, MaskedAutoencoder
    from ...models.autoencoder import ReconstructionLoss
    from ...optim import Adam

    parts = _data(rng=np.random.default_rng(seed), **data)  # the seed's dataset, shared by its models
    X_tr, _, X_val, _, _, _ = parts
    rng = np.random.default_rng([seed, 1])  # the model's draws: the same init for every kind at one seed
    dim = X_tr.shape[1]
    if kind == "vanilla":
        model: Autoencoder = Autoencoder(dim, [bottleneck], None, rng=rng)
    elif kind == "denoising":
        model = DenoisingAutoencoder(dim, [bottleneck], None, noise_std=train["noise_std"], rng=rng)
    else:
        model = MaskedAutoencoder(dim, [bottleneck], None, mask_ratio=train["mask_ratio"], rng=rng)
    crit, opt = ReconstructionLoss(), Adam(model.parameters(), lr=train["lr"])
    probe_rng = np.random.default_rng([seed, 2])
    history = []
    for epoch in range(1, train["epochs"] + 1):
        model.train()
        perm, total = rng.permutation(len(X_tr)), 0.0
        for lo in range(0, len(X_tr), train["batch_size"]):
            xb = X_tr[perm[lo : lo + train["batch_size"]]]  # (B, D)
            loss = crit(model(xb), xb)  # the clean batch is the target
            opt.zero_grad()
            model.backward(crit.backward(), input_grad=False)
            opt.step()
            total += float(loss) * len(xb)
        model.eval()
        val_loss = float(crit(model(X_val), X_val))
        acc = _probe(model, parts, probe, probe_rng)
        history.append({"epoch": epoch, "train_loss": total / len(X_tr), "val_loss": val_loss, "probe_acc": acc})
    return {"history": history}


def reference_task(data: dict[str, Any], sizes: list[int], probe: dict[str, Any], seed: int) -> dict[str, Any]:
    """The probe on the raw inputs and on the top-b principal components of the training split, b in ``sizes``;
    and the validation reconstruction loss of the top-b PCA projection (the linear autoencoder's optimum)."""
    from ...analysis import pca

    parts = _data(rng=np.random.default_rng(seed), **data)
    X_tr, _, X_val, _, _, _ = parts
    probe_rng = np.random.default_rng([seed, 3])
    out: dict[str, Any] = {"raw": _probe(lambda X: X, parts, probe, probe_rng), "pca": {}, "pca_val_loss": {}}
    for b in sizes:
        enc = pca(X_tr, b)
        out["pca"][str(b)] = _probe(enc, parts, probe, probe_rng)
        centred = X_val.astype(np.float64) - enc.mean  # (N_val, D)
        resid = centred - centred @ enc.components.T @ enc.components  # (N_val, D)
        out["pca_val_loss"][str(b)] = float((resid**2).sum(axis=1).mean())
    return out


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    data = {"n": config.n, "dim": config.dim, "k": config.k, "var_scale": config.var_scale}
    train = {"epochs": config.epochs, "batch_size": config.batch_size, "lr": config.lr,
             "noise_std": config.noise_std, "mask_ratio": config.mask_ratio}  # fmt: skip
    probe = {"epochs": config.probe_epochs, "batch_size": config.probe_batch_size, "lr": config.probe_lr}
    seeds = [int(s) for s in ctx.rng.integers(2**31, size=config.seeds)]
    keys = [(b, kind, i) for b in config.bottlenecks for kind in config.kinds for i in range(config.seeds)]
    tasks = {
        f"b{b}-{kind}-seed{i}": {"data": data, "kind": kind, "bottleneck": b, "train": train, "probe": probe,
                                 "seed": seeds[i]}
        for b, kind, i in keys
    }  # fmt: skip
    runs: dict[str, dict[str, list[Any]]] = {}
    for (b, kind, i), r in zip(keys, ctx.map(train_task, tasks)):
        runs.setdefault(str(b), {}).setdefault(kind, []).append(r["history"])
        last = r["history"][-1]
        ctx.log({"bottleneck": b, "kind": kind, "seed": i} | last)
        ctx.echo(
            f"bottleneck {b:4d} {kind:>9} seed {i}: val loss {last['val_loss']:.4g}, probe {last['probe_acc']:.4f}"
        )
    sizes = sorted({b for b in config.bottlenecks if b <= config.dim} | {config.k})
    ref_tasks = {f"reference-seed{i}": {"data": data, "sizes": sizes, "probe": probe, "seed": s}
                 for i, s in enumerate(seeds)}  # fmt: skip
    references = ctx.map(reference_task, ref_tasks)
    return {"bottlenecks": list(config.bottlenecks), "kinds": list(config.kinds), "runs": runs,
            "references": references, "pca_sizes": sizes}  # fmt: skip
