"""``scratchnn train autoencoder``: a vanilla, denoising, masked (MLP) or convolutional autoencoder on
Fashion-MNIST, judged by reconstruction and by a linear probe on its frozen codes.

Loads the images (pixels as the loader gives them, not standardized), holds out a validation split,
trains with the Trainer on the reconstruction loss (progress bar, metrics, checkpoints, curves), restores
the weights of the epoch with the lowest validation loss, and writes ``results.json``: the clean test
images' reconstruction loss and the test accuracy of a softmax probe trained on the codes of the first
``--probe-labels`` training images, next to the same probe on their raw pixels; and ``reconstructions.png``
(8 test images: originals, the corrupted inputs of a denoising or masked model, reconstructions).

The MLP kinds see flattened images (N, H*W), the conv kind images (N, 1, H, W). The conv kind trains on
clean inputs, as the vanilla one: ``--noise-std`` (denoising kind) and ``--mask-ratio`` / ``--loss-on``
(masked kind) given with another kind are a ValueError, not silently ignored. The loss is
:class:`~scratchnn.models.ReconstructionLoss` (the course's (1/N) ||X - X_hat||_F^2), except for
``--kind masked --loss-on masked``: the Trainer then goes through ``model.loss`` (criterion None), which
counts the masked pixels only, and so does its validation loss (a fresh random mask per batch).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from .. import _config
from .._validate import nonneg_float, positive_int, probability
from .common import (
    add_image_dataset_flags,
    add_training_flags,
    hold_out_validation,
    load_images,
    make_optimizer,
    make_scheduler,
)
from .session import Session

__all__ = ["add_parser", "run_from_args", "KINDS", "probe_labels"]

KINDS = ("vanilla", "denoising", "masked", "conv")
#: flag dest -> (the one kind that uses it, its default there)
CORRUPTION_FLAGS = {"noise_std": ("denoising", 0.5), "mask_ratio": ("masked", 0.75), "loss_on": ("masked", "all")}
NUM_SHOWN = 8  # test images in reconstructions.png


def probe_labels(text: str) -> int | None:
    """``--probe-labels``: a positive int, or 'all' (None: every training example)."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', received {text!r}")
    return value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``autoencoder`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "autoencoder",
        help="train an autoencoder (vanilla, denoising, masked or convolutional) and linear-probe its codes",
        description="Train an autoencoder written from scratch, then report its test reconstruction loss and the "
        "test accuracy of a linear probe on its frozen codes against one on raw pixels. Writes a run folder with "
        "config.json, metrics.jsonl, checkpoints/, curves.png, results.json and reconstructions.png.",
    )
    add_image_dataset_flags(p, "oriented bars on noise, 12x12")
    p.add_argument("--kind", choices=KINDS, default="vanilla", help="which autoencoder (default: vanilla)")
    p.add_argument(
        "--hidden", type=positive_int, nargs="+", default=[200], metavar="H",
        help="MLP kinds: the encoder's layer sizes, the last one the code's; the decoder mirrors them (default: 200)",
    )  # fmt: skip
    p.add_argument(
        "--code-size", type=positive_int, default=32, help="conv kind: the code's width (default: 32)"
    )  # fmt: skip
    p.add_argument(
        "--channels", type=positive_int, nargs="+", default=[32, 64], metavar="C",
        help="conv kind: output channels of the encoder's stride-2 3x3 convolutions (default: 32 64)",
    )  # fmt: skip
    # None: left out. Each corruption flag belongs to one kind; given with another, it is an error (see _corruption)
    p.add_argument(
        "--noise-std", type=nonneg_float, default=None,
        help="denoising kind only: std of the Gaussian noise added to the training inputs (default: 0.5)",
    )  # fmt: skip
    p.add_argument(
        "--mask-ratio", type=probability, default=None,
        help="masked kind only: fraction of the input pixels zeroed in training, in [0, 1) (default: 0.75)",
    )  # fmt: skip
    p.add_argument(
        "--loss-on", choices=("all", "masked"), default=None,
        help="masked kind only: the loss counts all pixels, or only the masked ones (default: all)",
    )  # fmt: skip
    p.add_argument(
        "--probe-labels", type=probe_labels, default=200, metavar="K",
        help="the linear probes train on the first K labelled training examples, or 'all' (default: 200)",
    )  # fmt: skip
    p.add_argument(
        "--probe-epochs", type=positive_int, default=100, help="epochs of each linear probe (default: 100)"
    )  # fmt: skip
    add_training_flags(p, kind="autoencoder", lr=1e-3, epochs=10, seed_help="seed for init, corruption and shuffling")


def _corruption(args: argparse.Namespace) -> None:
    """Fill in the corruption flags' defaults for the kind that uses each; reject one given to another kind.

    ``--noise-std`` is the denoising kind's, ``--mask-ratio`` and ``--loss-on`` the masked kind's; vanilla and
    conv train on clean inputs. Without this check ``--kind conv --noise-std 0.3`` would train a plain conv
    autoencoder and record 0.3 in config.json as if it had been used. A resumed run keeps what its config.json
    holds (runs started before this check recorded the defaults for every kind).
    """
    for dest, (kind, default) in CORRUPTION_FLAGS.items():
        value, flag = getattr(args, dest), "--" + dest.replace("_", "-")
        if value is None:
            if args.kind == kind:
                setattr(args, dest, default)
        elif args.kind != kind and args.resume is None:
            raise ValueError(
                f"Invalid value for `{flag}`: expected no {flag} with --kind {args.kind} (it applies to --kind "
                f"{kind} only; the {args.kind} kind ignores it). Received: {flag}={value}"
            )


def _model(args: argparse.Namespace, image_shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    from ..models import Autoencoder, ConvAutoencoder, DenoisingAutoencoder, MaskedAutoencoder

    C, H, W = image_shape
    if args.kind == "conv":
        return ConvAutoencoder(C, args.code_size, args.channels, (H, W), rng=rng)
    if args.kind == "denoising":
        return DenoisingAutoencoder(C * H * W, args.hidden, noise_std=args.noise_std, rng=rng)
    if args.kind == "masked":
        if args.loss_on == "masked" and args.mask_ratio == 0:
            raise ValueError(
                "Invalid value for `--mask-ratio`: expected a float in (0, 1) with --loss-on masked (0 masks "
                f"nothing). Received: --mask-ratio={args.mask_ratio}"
            )
        return MaskedAutoencoder(C * H * W, args.hidden, mask_ratio=args.mask_ratio, loss_on=args.loss_on, rng=rng)
    return Autoencoder(C * H * W, args.hidden, rng=rng)


def _pixels(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)  # (N, C, H, W) -> (N, C*H*W): the raw-pixel probe's features


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train autoencoder`` with parsed flags; returns the exit status."""
    from ..analysis import linear_probe
    from ..figures.reconstructions import plot_reconstructions
    from ..models import ReconstructionLoss
    from ..train import Callback, EarlyStopping, Trainer

    _corruption(args)  # before the run folder: a corruption flag the kind ignores is an error
    session = Session(args, "autoencoder")
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test, class_names = load_images(args.dataset, args.data_root, rng)
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    X_train, y_train, X_val, y_val = hold_out_validation(X_train, y_train, args.val_size, rng)
    image_shape = tuple(X_train.shape[1:])  # (C, H, W)
    if args.kind != "conv":  # the MLP kinds see flat pixel vectors
        X_train, X_test = _pixels(X_train), _pixels(X_test)
        X_val = None if X_val is None else _pixels(X_val)

    model = _model(args, image_shape, rng)
    masked_only = args.kind == "masked" and args.loss_on == "masked"
    criterion = None if masked_only else ReconstructionLoss()  # None: model.loss counts the masked pixels only
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    callbacks: list[Callback] = []
    if X_val is not None:  # keep the weights of the epoch with the best validation reconstruction
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.epochs, restore_best_weights=True))
    config = session.config(
        args,
        num_train=len(X_train),
        num_val=0 if X_val is None else len(X_val),
        num_test=len(X_test),
        input_shape=list(X_train.shape[1:]),
        code_size=model.code_size,
        parameters=int(sum(p.data.size for p in model.parameters())),
    )
    trainer = Trainer(
        model,
        criterion,
        optimizer,
        scheduler=scheduler,
        scheduler_interval=interval,
        batch_size=args.batch_size,
        clip_grad_norm=args.clip_grad_norm,
        epochs=args.epochs,
        callbacks=[*callbacks, *session.callbacks],
        run_dir=session.run_dir,
        config=config,
        verbose=not args.quiet,
        rng=rng,
        metrics=(),
    )
    if not session.fit(trainer, X_train, X_train, X_val, X_val):
        return session.exit_status  # stopped by a signal: the command that resumes it was printed
    seconds, cpu_seconds = session.stopwatch.seconds, session.stopwatch.cpu_seconds  # of every session

    model.eval()  # the best weights (EarlyStopping restored them), clean inputs
    recon = np.concatenate([model(X_test[s : s + 1024]) for s in range(0, len(X_test), 1024)])
    test_loss = float(ReconstructionLoss()(recon, X_test))  # all pixels, clean inputs
    num_labels = None if args.probe_labels is None else min(args.probe_labels, len(X_train))
    probe_rng = np.random.default_rng(args.seed + 1)  # the same probe initialization and shuffles for both
    probe = linear_probe(model, (X_train, y_train), (X_test, y_test), epochs=args.probe_epochs,
                         num_labels=num_labels, num_classes=len(class_names), rng=probe_rng)  # fmt: skip
    probe_rng = np.random.default_rng(args.seed + 1)
    pixels = linear_probe(_pixels, (X_train, y_train), (X_test, y_test), epochs=args.probe_epochs,
                          num_labels=num_labels, num_classes=len(class_names), rng=probe_rng)  # fmt: skip

    shown = X_test[:NUM_SHOWN]
    corrupted = None
    fig_rng = np.random.default_rng(args.seed + 2)
    if args.kind == "denoising":
        corrupted = model.noise(shown, fig_rng)
    elif args.kind == "masked":
        corrupted = model.masking(shown, fig_rng)[0]
    shown_out = model(shown if corrupted is None else corrupted)  # eval mode: the input as given
    plot_reconstructions(shown, shown_out, session.run_dir / "reconstructions.png", image_shape=image_shape[1:],
                         corrupted=corrupted, title=f"{args.kind} autoencoder on {args.dataset}")  # fmt: skip
    results = {
        "kind": args.kind,
        "test_loss": test_loss,
        "best_val_loss": min((h["val_loss"] for h in trainer.history if "val_loss" in h), default=None),
        "code_size": model.code_size,
        "probe_labels": probe.num_labels,
        "probe_epochs": args.probe_epochs,
        "probe_accuracy": probe.test_accuracy,
        "probe_train_accuracy": probe.train_accuracy,
        "pixel_probe_accuracy": pixels.test_accuracy,
        "pixel_probe_train_accuracy": pixels.train_accuracy,
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),
        "seconds_per_epoch": round(seconds / max(trainer.epoch, 1), 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
    }
    session.write_results(results)  # last: it marks the run as finished
    print(
        f"test reconstruction loss {test_loss:.4f}; linear probe on {probe.num_labels} labels: codes "
        f"{probe.test_accuracy:.4f}, raw pixels {pixels.test_accuracy:.4f}  ({seconds:.0f} s of training)"
    )
    print(f"run folder: {session.run_dir}")
    return 0
