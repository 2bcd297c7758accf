"""``autoencoder-probe``: do an autoencoder's codes make Fashion-MNIST's classes linearly separable?

Vanilla, denoising (noise_std 0.5) and masked (mask_ratio 0.75) MLP autoencoders (784 - 256 - 32 - 256 -
784, ReLU) and a convolutional one (:class:`scratchnn.models.ConvAutoencoder`, the ``scratchnn train
autoencoder --kind conv`` model: Conv2d 1 -> 32 -> 64, 3x3 stride 2, 28 -> 14 -> 7, then a Linear to the
same 32-number code, mirrored back with ConvTranspose2d; no corruption) train on the reconstruction loss of
the training images (pixels in [0, 1]); linear probes (:func:`scratchnn.analysis.linear_probe`: Adam 1e-3,
batch 128, 20 epochs) on their frozen codes are trained on the first 200, 1,000 or all training labels and
scored on the test set; references: the same probes on the raw pixels and on the top-32 principal
components (PCA, fitted on the training images). 3 seeds, each one task of the sweep runner per kind (and
one for the references). For the figures, the first seed's task also returns a few test images with their
corrupted copies and reconstructions, and the codes of some test images (the report projects them on their
top-2 principal components).

``--quick``: 10 Gaussian blobs in 64 dimensions (shown as 8 x 8 images, the conv kind's input), small
networks, one seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..._validate import check_float, check_int, invalid_value
from ..harness.context import RunContext

__all__ = ["Config", "QUICK", "run", "KINDS", "train_task", "reference_task"]

KINDS = ("vanilla", "denoising", "masked", "conv")
PROBE_BATCH = 128  # features per probe step (linear_probe's default, passed explicitly: the step count uses it)


@dataclass(frozen=True)
class Config:
    dataset: Literal["fashion-mnist", "synthetic"] = "fashion-mnist"  # synthetic: Gaussian blobs, no download
    num_train: int = 20_000  # training images (the autoencoders' and the "all labels" probes')
    num_test: int = 10_000  # test images (the probes' score)
    synthetic_dim: int = 64
    synthetic_noise: float = 4.0
    hidden_sizes: tuple[int, ...] = (256, 32)  # the encoder's widths, the last the code's
    kinds: tuple[str, ...] = KINDS
    conv_channels: tuple[int, ...] = (32, 64)  # the conv kind's stride-2 convolutions (the recipe's default)
    noise_std: float = 0.5
    mask_ratio: float = 0.75
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    label_counts: tuple[int, ...] = (200, 1_000)  # probes on the first n labels, and one on all of them
    seeds: int = 3
    probe_epochs: int = 20
    probe_min_steps: int = 500  # a probe on few labels runs more epochs: 200 labels at batch 128 are 2 steps each
    probe_lr: float = 1e-3
    num_examples: int = 8  # test images in the reconstruction figure
    num_scatter: int = 1_000  # test codes in the 2-D scatter

    def __post_init__(self) -> None:
        for name in ("num_train", "num_test", "synthetic_dim", "epochs", "batch_size", "seeds", "probe_epochs",
                     "probe_min_steps"):  # fmt: skip
            check_int(getattr(self, name), name, low=1)
        check_int(self.num_examples, "num_examples", low=1, high=self.num_test)
        check_int(self.num_scatter, "num_scatter", low=3, high=self.num_test)
        check_float(self.noise_std, "noise_std", low=0.0)
        check_float(self.mask_ratio, "mask_ratio", low=0.0, high=1.0, high_open=True)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_float(self.probe_lr, "probe_lr", low=0.0, low_open=True)
        if not self.hidden_sizes or any(not isinstance(h, int) or h < 1 for h in self.hidden_sizes):
            raise invalid_value("hidden_sizes", "one or more positive ints", self.hidden_sizes)
        if any(not isinstance(n, int) or not 1 <= n < self.num_train for n in self.label_counts):
            raise invalid_value("label_counts", f"ints in [1, num_train={self.num_train})", self.label_counts)
        if not self.kinds or any(kind not in KINDS for kind in self.kinds):
            raise invalid_value("kinds", "names among 'vanilla', 'denoising', 'masked', 'conv'", self.kinds)
        if not self.conv_channels or any(not isinstance(c, int) or c < 1 for c in self.conv_channels):
            raise invalid_value("conv_channels", "one or more positive ints", self.conv_channels)
        side = math.isqrt(self.synthetic_dim)
        if "conv" in self.kinds and self.dataset == "synthetic" and side * side != self.synthetic_dim:
            raise invalid_value(
                "synthetic_dim", "a square (the conv kind sees side x side images) with 'conv' in kinds",
                self.synthetic_dim,
            )  # fmt: skip


#: ``--quick``: blobs in 64 dimensions (noise 1.5), 1,000 training samples, a 64 - 32 - 8 network (the conv kind:
#: 8 x 8 images, 8 and 16 channels, 8 -> 4 -> 2, an 8-number code), 20 epochs of batch 50 at lr 1e-2, probes at
#: lr 1e-2 on 20 labels and all, one seed
QUICK: dict[str, Any] = {
    "dataset": "synthetic", "num_train": 1_000, "num_test": 500, "synthetic_noise": 1.5, "hidden_sizes": (32, 8),
    "conv_channels": (8, 16), "epochs": 20, "batch_size": 50, "lr": 1e-2, "label_counts": (20,), "probe_lr": 1e-2,
    "seeds": 1, "num_scatter": 300,
    "probe_min_steps": 1,  # the quick probes keep 20 epochs: the test asserts that 20 labels are far behind all
}  # fmt: skip


def load_data(data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, y_train, X_test, y_test``: the first ``num_train`` / ``num_test`` Fashion-MNIST images of each
    split (pixels in [0, 1]), or blobs from ``data['seed']`` (one draw of the centres for both splits)."""
    if data["dataset"] == "fashion-mnist":
        from ...data import load_fashion_mnist

        X_tr, y_tr, X_te, y_te = load_fashion_mnist(flatten=True)
        return X_tr[: data["num_train"]], y_tr[: data["num_train"]], X_te[: data["num_test"]], y_te[: data["num_test"]]
    from ...data.synthetic import make_blobs

    n = data["num_train"] + data["num_test"]
    X, y, _ = make_blobs(n, data["synthetic_dim"], data["synthetic_noise"], rng=np.random.default_rng(data["seed"]))
    X = (X / 4 + 0.5).astype(np.float32)  # about the pixels' scale
    return X[: data["num_train"]], y[: data["num_train"]], X[data["num_train"] :], y[data["num_train"] :]


def _probes(encoder: Any, parts: tuple[np.ndarray, ...], probe: dict[str, Any], seed: int) -> dict[str, float]:
    """Test accuracy of the probe on the first n labels for each n of ``probe['label_counts']`` and on all."""
    from ...analysis import linear_probe

    X_tr, y_tr, X_te, y_te = parts
    out = {}
    for n in [*probe["label_counts"], None]:
        steps_per_epoch = math.ceil(min(n or len(y_tr), len(y_tr)) / PROBE_BATCH)
        epochs = max(probe["epochs"], math.ceil(probe.get("min_steps", 0) / steps_per_epoch))
        result = linear_probe(
            encoder, (X_tr, y_tr), (X_te, y_te), epochs=epochs, batch_size=PROBE_BATCH, lr=probe["lr"], num_labels=n,
            num_classes=10, rng=np.random.default_rng([seed, 2]),
        )  # fmt: skip
        out["all" if n is None else str(n)] = result.test_accuracy
    return out


def train_task(data: dict[str, Any], kind: str, train: dict[str, Any], probe: dict[str, Any], seed: int,
               figures: bool) -> dict[str, Any]:  # fmt: skip
    """One autoencoder: train, probe its codes; with ``figures``, example reconstructions and test codes.

    The conv kind sees the rows as (N, 1, side, side) images; its examples go back to flat rows as the others'.
    """
    from ...data.corruptions import FeatureMask, GaussianNoise
    from ...models import Autoencoder, ConvAutoencoder, DenoisingAutoencoder, MaskedAutoencoder, ReconstructionLoss
    from ...optim import Adam
    from ...train import Trainer

    X_tr, y_tr, X_te, y_te = load_data(data)
    rng = np.random.default_rng([seed, 1])
    dim, hidden = X_tr.shape[1], list(train["hidden_sizes"])
    if kind == "conv":
        side = math.isqrt(dim)  # Fashion-MNIST 28, the quick blobs 8 (Config checks the square)
        X_tr, X_te = X_tr.reshape(-1, 1, side, side), X_te.reshape(-1, 1, side, side)  # (N, D) -> (N, 1, side, side)
        # the same code width as the MLP kinds' last hidden size: the probes compare codes of one size
        model: Autoencoder = ConvAutoencoder(1, hidden[-1], list(train["conv_channels"]), side, rng=rng)
    elif kind == "vanilla":
        model = Autoencoder(dim, hidden, "relu", rng=rng)
    elif kind == "denoising":
        model = DenoisingAutoencoder(dim, hidden, "relu", noise_std=train["noise_std"], rng=rng)
    else:
        model = MaskedAutoencoder(dim, hidden, "relu", mask_ratio=train["mask_ratio"], rng=rng)
    trainer = Trainer(
        model, ReconstructionLoss(), Adam(model.parameters(), lr=train["lr"]), batch_size=train["batch_size"],
        epochs=train["epochs"], verbose=False, rng=rng, metrics=(),
    )  # fmt: skip
    trainer.fit(X_tr, X_tr, X_te, X_te)  # the "validation" loss is the test images'
    out: dict[str, Any] = {
        "train_loss": [h["train_loss"] for h in trainer.history],
        "val_loss": [h["val_loss"] for h in trainer.history],
        "probe": _probes(model, (X_tr, y_tr, X_te, y_te), probe, seed),
    }
    if figures:
        model.eval()
        x = X_te[: train["num_examples"]]  # (E, D) or (E, 1, side, side)
        if kind == "denoising":
            corrupted = GaussianNoise(train["noise_std"])(x, np.random.default_rng([seed, 3]))
        elif kind == "masked":
            corrupted = FeatureMask(train["mask_ratio"])(x, np.random.default_rng([seed, 3]))[0]
        else:
            corrupted = x
        flat = (len(x), dim)  # the figure's rows: (E, 1, side, side) -> (E, D)
        out["examples"] = {"original": x.reshape(flat), "corrupted": corrupted.reshape(flat),
                           "reconstruction": model(corrupted).reshape(flat)}  # fmt: skip
        out["codes"] = model.encode(X_te[: train["num_scatter"]])  # (S, H_L)
        out["code_labels"] = y_te[: train["num_scatter"]]
    return out


def reference_task(data: dict[str, Any], pca_k: int, probe: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same probes on the raw pixels and on the top-``pca_k`` principal components of the training images."""
    from ...analysis import pca

    parts = load_data(data)
    return {"raw": _probes(lambda X: X, parts, probe, seed), "pca": _probes(pca(parts[0], pca_k), parts, probe, seed)}


def run(config: Config, ctx: RunContext) -> dict[str, Any]:
    data = {k: getattr(config, k) for k in ("dataset", "num_train", "num_test", "synthetic_dim", "synthetic_noise")}
    data["seed"] = int(ctx.rng.integers(2**31))  # the blobs (one dataset for every seed, as Fashion-MNIST)
    train = {k: getattr(config, k) for k in ("hidden_sizes", "conv_channels", "noise_std", "mask_ratio", "epochs",
                                             "batch_size", "lr")}  # fmt: skip
    train |= {"num_examples": config.num_examples, "num_scatter": config.num_scatter}
    probe = {"label_counts": list(config.label_counts), "epochs": config.probe_epochs, "lr": config.probe_lr,
             "min_steps": config.probe_min_steps}  # fmt: skip
    seeds = [int(s) for s in ctx.rng.integers(2**31, size=config.seeds)]
    keys = [(kind, i) for kind in config.kinds for i in range(config.seeds)]
    tasks = {f"{kind}-seed{i}": {"data": data, "kind": kind, "train": train, "probe": probe, "seed": seeds[i],
                                 "figures": i == 0} for kind, i in keys}  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in config.kinds}
    for (kind, i), r in zip(keys, ctx.map(train_task, tasks)):
        runs[kind].append(r)
        ctx.log(
            {"kind": kind, "seed": i, "val_loss": r["val_loss"][-1]} | {f"probe_{n}": a for n, a in r["probe"].items()}
        )
        ctx.echo(f"{kind:>9} seed {i}: val loss {r['val_loss'][-1]:.4g}, probes {r['probe']}")
    ref_tasks = {
        f"reference-seed{i}": {"data": data, "pca_k": config.hidden_sizes[-1], "probe": probe, "seed": s}
        for i, s in enumerate(seeds)
    }
    refs = ctx.map(reference_task, ref_tasks)
    return {"kinds": list(config.kinds), "label_counts": [str(n) for n in config.label_counts] + ["all"],
            "runs": runs, "references": refs}  # fmt: skip
