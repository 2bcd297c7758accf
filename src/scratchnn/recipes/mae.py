"""``scratchnn train mae``: pretrain a masked-image autoencoder (a ViT encoder over patches, 75% of them
masked) on Fashion-MNIST, then judge its encoder twice: a linear probe on the frozen CLS code, and full
fine-tuning of the encoder with a linear head on the CLS token.

1. Pretraining: the Trainer on the masked-patch loss (``model.loss``, fresh masks per step; the validation
   loss uses the model's fixed eval masks), AdamW with a linear warmup and a cosine decay per step. The
   final weights are kept (MAE's practice: no best-epoch selection). Checkpoints, ``--resume``, curves.png.
2. ``reconstructions.png``: 8 test images, their masked inputs and the reconstructions (the predicted
   patches pasted into the visible ones); the test set's masked-patch loss (fixed eval masks).
3. Linear probes (the protocol of ``experiments autoencoder-probe``: a softmax layer on the frozen codes,
   Adam 1e-3, batch 128, ``--probe-epochs`` epochs and at least 500 steps), trained on the first 200 and on
   all training labels and scored on the test set; the same probes on the raw pixels, as the reference.
4. Fine-tuning (``--finetune-epochs``, 0 skips it): ``model.classifier()`` (the pretrained encoder, no
   masking, and a new Linear head on the CLS token) trained end to end on all training labels with
   cross-entropy, AdamW at ``--finetune-lr`` and a cosine decay; the weights of the epoch with the best
   validation accuracy, scored on the test set (``confusion_matrix.png``). Its run folder is ``finetune/``.

Only pretraining is checkpointed: a run stopped later resumes with its pretrained weights and redoes the
probes and the fine-tuning (the same numbers: every step after pretraining has its own seeded generator).
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _config
from .._validate import nonneg_int, positive_float, positive_int
from .common import (
    add_image_dataset_flags,
    add_training_flags,
    hold_out_validation,
    load_images,
    make_optimizer,
    make_scheduler,
    warmup_cosine,
)
from .session import Session

if TYPE_CHECKING:
    from ..optim.lr_scheduler import LRScheduler

__all__ = ["add_parser", "run_from_args", "PROBE_LABELS", "probe", "mask_ratio"]

PROBE_LABELS = (200, None)  # probes on the first 200 training labels and on all of them
PROBE_BATCH, PROBE_LR, PROBE_MIN_STEPS = 128, 1e-3, 500  # the autoencoder-probe protocol
NUM_SHOWN = 8  # test images in reconstructions.png
ENCODE_BATCH = 256  # images per encoder call when the probes' features are computed


def mask_ratio(text: str) -> float:
    """``--mask-ratio``: a float in (0, 1) (0 would leave the loss nothing to count)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), received {text!r}")
    return value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mae`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "mae",
        help="pretrain a masked-image autoencoder (ViT), then linear-probe and fine-tune its encoder",
        description="Pretrain a masked-image autoencoder written from scratch (a ViT encoder over image patches, "
        "most of them masked, a light decoder that reconstructs them), then report a linear probe on its frozen "
        "CLS code (200 and all labels, next to raw pixels) and the test accuracy of the encoder fine-tuned end to "
        "end. Writes a run folder with config.json, metrics.jsonl, checkpoints/, curves.png, reconstructions.png, "
        "finetune/, confusion_matrix.png and results.json.",
    )
    add_image_dataset_flags(p, "oriented bars on noise, 12x12")
    add = p.add_argument
    add(
        "--patch-size",
        type=positive_int,
        default=None,
        help="side of the square patches (default: a quarter of the image side: 7 for 28x28, 16 patches)",
    )
    add("--embed-dim", type=positive_int, default=64, help="encoder width D, the CLS code's size (default: 64)")
    add("--depth", type=positive_int, default=4, help="encoder layers (default: 4)")
    add("--num-heads", type=positive_int, default=4, help="encoder attention heads (default: 4)")
    add("--decoder-embed-dim", type=positive_int, default=32, help="decoder width (default: 32)")
    add("--decoder-depth", type=positive_int, default=2, help="decoder layers (default: 2)")
    add("--decoder-num-heads", type=positive_int, default=4, help="decoder attention heads (default: 4)")
    add("--mlp-ratio", type=positive_float, default=4.0, help="feed-forward width / layer width (default: 4)")
    add("--mask-ratio", type=mask_ratio, default=0.75, help="fraction of each image's patches masked (default: 0.75)")
    add(
        "--norm-pix-loss",
        action="store_true",
        help="reconstruct each patch standardized (its mean and variance removed), as the MAE paper's best setting",
    )
    add(
        "--warmup-epochs",
        type=nonneg_int,
        default=1,
        help="epochs of linear learning-rate warmup before the cosine decay (default: 1)",
    )
    add(
        "--probe-epochs",
        type=positive_int,
        default=20,
        help=f"epochs of each linear probe, at least {PROBE_MIN_STEPS} steps (default: 20)",
    )
    add(
        "--finetune-epochs",
        type=nonneg_int,
        default=3,
        help="epochs of end-to-end fine-tuning on all labels, 0 to skip it (default: 3)",
    )
    add("--finetune-lr", type=positive_float, default=5e-4, help="fine-tuning's peak learning rate (default: 5e-4)")
    add_training_flags(p, kind="mae", lr=1e-3, epochs=16, seed_help="seed for init, masks and shuffling")  # fmt: skip


def probe(features: tuple[np.ndarray, ...], num_labels: int | None, epochs: int, num_classes: int, seed: int) -> Any:
    """A linear probe on precomputed features ``(F_train, y_train, F_test, y_test)``, the autoencoder-probe
    protocol: ``epochs`` epochs, more if they make fewer than 500 Adam steps (200 labels are 2 steps each)."""
    from ..analysis import linear_probe

    F_train, y_train, F_test, y_test = features
    n = len(F_train) if num_labels is None else min(num_labels, len(F_train))
    epochs = max(epochs, math.ceil(PROBE_MIN_STEPS / math.ceil(n / PROBE_BATCH)))
    return linear_probe(
        lambda F: F, (F_train, y_train), (F_test, y_test), epochs=epochs, batch_size=PROBE_BATCH, lr=PROBE_LR,
        num_labels=n, num_classes=num_classes, rng=np.random.default_rng([seed, 2]),
    )  # fmt: skip


def _probes(features: tuple[np.ndarray, ...], args: argparse.Namespace, num_classes: int) -> dict[str, Any]:
    """Test accuracy (and labels used) of the probe on each of :data:`PROBE_LABELS`."""
    out: dict[str, Any] = {}
    for n in PROBE_LABELS:
        result = probe(features, n, args.probe_epochs, num_classes, args.seed)
        out["all" if n is None else str(n)] = {"labels": result.num_labels, "test_accuracy": result.test_accuracy,
                                               "train_accuracy": result.train_accuracy}  # fmt: skip
    return out


def _finetune(model: Any, args: argparse.Namespace, session: Session, data: tuple[Any, ...], class_names: Any) -> Any:
    """Fine-tune ``model``'s encoder with a CLS head end to end; its results (or None with 0 epochs)."""
    from ..figures.classifier import confusion_matrix, plot_confusion_matrix
    from ..nn import CrossEntropyLoss
    from ..train import Callback, EarlyStopping, Trainer

    if args.finetune_epochs == 0:
        return None
    X_train, y_train, X_val, y_val, X_test, y_test = data
    clf = model.classifier(len(class_names), rng=np.random.default_rng([args.seed, 3]))
    optimizer = make_optimizer(args.optimizer, clf.parameters(), args.finetune_lr, args.weight_decay)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.finetune_epochs,
                                         math.ceil(len(X_train) / args.batch_size))  # fmt: skip
    callbacks: list[Callback] = []
    if X_val is not None:
        callbacks.append(EarlyStopping(monitor="val_acc", patience=args.finetune_epochs, restore_best_weights=True))
    run_dir = session.run_dir / "finetune"
    shutil.rmtree(run_dir, ignore_errors=True)  # a resumed run redoes the fine-tuning of a session that stopped
    trainer = Trainer(clf, CrossEntropyLoss(), optimizer, scheduler=scheduler, scheduler_interval=interval,
                      batch_size=args.batch_size, clip_grad_norm=args.clip_grad_norm, epochs=args.finetune_epochs,
                      callbacks=callbacks, run_dir=run_dir, config={"command": "train mae: fine-tuning"},
                      verbose=not args.quiet, rng=np.random.default_rng([args.seed, 4]))  # fmt: skip
    start = time.perf_counter()
    trainer.fit(X_train, y_train, X_val, y_val)
    seconds = time.perf_counter() - start
    scores = trainer.predict(X_test)  # (N_test, C): the best epoch's weights, eval mode
    cm = confusion_matrix(y_test, np.argmax(scores, axis=1), len(class_names))
    plot_confusion_matrix(cm, session.run_dir / "confusion_matrix.png", class_names=class_names)
    return {
        "test_accuracy": float(np.trace(cm) / len(y_test)),
        "best_val_acc": max((h["val_acc"] for h in trainer.history if "val_acc" in h), default=None),
        "epochs": trainer.epoch,
        "steps": trainer.step,
        "lr": args.finetune_lr,
        "train_seconds": round(seconds, 1),
        "per_class_accuracy": (np.diag(cm) / np.maximum(cm.sum(axis=1), 1)).round(4).tolist(),
    }


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train mae`` with parsed flags; returns the exit status."""
    from ..analysis.linear_probe import encode_batched
    from ..figures.reconstructions import plot_reconstructions
    from ..models import MaskedImageAutoencoder
    from ..train import Trainer

    session = Session(args, "mae")
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test, class_names = load_images(args.dataset, args.data_root, rng)
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    X_train, y_train, X_val, y_val = hold_out_validation(X_train, y_train, args.val_size, rng)
    C, H, W = X_train.shape[1:]
    patch = args.patch_size or max(1, min(H, W) // 4)
    if H % patch or W % patch:
        raise ValueError(
            f"Invalid value for `--patch-size`: expected a divisor of the {H}x{W} images' sides. "
            f"Received: --patch-size={patch}"
        )
    model = MaskedImageAutoencoder(
        (H, W), patch, C, args.embed_dim, args.depth, args.num_heads, args.decoder_embed_dim, args.decoder_depth,
        args.decoder_num_heads, args.mlp_ratio, args.mask_ratio, args.norm_pix_loss, rng=rng,
    )  # fmt: skip
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler: LRScheduler | None
    if args.schedule == "cosine":  # warmup, then cosine to 0 at the last step
        scheduler, interval = warmup_cosine(optimizer, args.warmup_epochs * steps_per_epoch,
                                            args.epochs * steps_per_epoch), "step"  # fmt: skip
    else:
        scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    config = session.config(
        args, num_train=len(X_train), num_val=0 if X_val is None else len(X_val), num_test=len(X_test),
        input_shape=[C, H, W], patch_size_used=patch, num_patches=model.num_patches, code_size=model.code_size,
        parameters=int(sum(p.data.size for p in model.parameters())),
    )  # fmt: skip
    trainer = Trainer(
        model, None, optimizer, scheduler=scheduler, scheduler_interval=interval, batch_size=args.batch_size,
        clip_grad_norm=args.clip_grad_norm, epochs=args.epochs, callbacks=session.callbacks,
        run_dir=session.run_dir, config=config, verbose=not args.quiet, rng=rng, metrics=(),
    )  # fmt: skip
    # model.loss(X, X): the images are their own targets; None marks no validation split
    if not session.fit(trainer, X_train, X_train, X_val, X_val):
        return session.exit_status  # stopped by a signal: the command that resumes it was printed
    seconds, cpu_seconds = session.stopwatch.seconds, session.stopwatch.cpu_seconds  # of every session

    model.eval()  # the final weights, the fixed eval masks
    total = 0.0
    for s in range(0, len(X_test), 1000):
        xb = X_test[s : s + 1000]
        total += model.forward_loss(xb, model(xb))[0] * len(xb)
    test_loss = total / len(X_test)
    shown = X_test[:NUM_SHOWN]
    noise = np.random.default_rng([args.seed, 5]).random((len(shown), model.num_patches))
    grey = float(shown.min() + shown.max()) / 2  # the masked patches: black would read as background
    masked, recon = model.reconstruct(shown, noise, fill=grey)
    plot_reconstructions(shown, recon, session.run_dir / "reconstructions.png", image_shape=(H, W), corrupted=masked,
                         title=f"MAE, {args.mask_ratio:.0%} of patches masked, on {args.dataset}")  # fmt: skip

    F_train, F_test = (encode_batched(model.encode, X, ENCODE_BATCH) for X in (X_train, X_test))  # (N, D) CLS codes
    codes = (F_train, y_train, F_test, y_test)
    pixels = (X_train.reshape(len(X_train), -1), y_train, X_test.reshape(len(X_test), -1), y_test)
    probes, pixel_probes = _probes(codes, args, len(class_names)), _probes(pixels, args, len(class_names))
    finetune = _finetune(model, args, session, (X_train, y_train, X_val, y_val, X_test, y_test), class_names)

    history = trainer.history
    results = {
        "test_masked_loss": test_loss,
        "final_val_loss": history[-1].get("val_loss") if history else None,
        "code_size": model.code_size,
        "num_patches": model.num_patches,
        "probe": probes,
        "pixel_probe": pixel_probes,
        "finetune": finetune,
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),
        "seconds_per_epoch": round(seconds / max(trainer.epoch, 1), 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
    }
    session.write_results(results)  # last: it marks the run as finished
    line = ", ".join(f"{k} labels {v['test_accuracy']:.4f} (pixels {pixel_probes[k]['test_accuracy']:.4f})"
                     for k, v in probes.items())  # fmt: skip
    print(f"test masked-patch loss {test_loss:.4f}; linear probe on the CLS code: {line}")
    if finetune is not None:
        print(f"fine-tuned test accuracy {finetune['test_accuracy']:.4f}  ({seconds:.0f} s of pretraining)")
    print(f"run folder: {session.run_dir}")
    return 0
