"""``scratchnn train sections``: a Debian package's synopsis, read by a recurrent network, predicts its section.

The course's sister project (names classified by an LSTM over padded sequences) on real text: each
synopsis ("command-line tool to ..."), as characters or words, right-padded; an Embedding, stacked
RNN/LSTM/GRU layers over the packed batch, the last layer's state at each synopsis's last real token,
dropout and a Linear over the ``--top-k`` most common sections (``models.RecurrentClassifier``). The
split is the descriptions' leak-free one (``data.split_descriptions``); the vocabulary is built on
train. Evaluation is in eval mode (no dropout: the sister project evaluated with it on), against the
majority class and a bag-of-words logistic regression with its L2 tuned on validation.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from .. import _config
from .._validate import positive_int
from .common import add_recurrent_flags, add_text_flags, add_training_flags, make_optimizer, make_scheduler
from .session import Session

__all__ = ["add_parser", "run_from_args"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sections`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "sections",
        help="train a recurrent classifier of Debian package synopses into sections",
        description="Train a recurrent network written from scratch to predict a Debian package's section from its "
        "one-line synopsis, and report test accuracy against the majority class and a bag-of-words logistic "
        "regression. Writes a run folder with config.json, metrics.jsonl, checkpoints/, curves.png, results.json "
        "(with the confusion matrix) and confusion_matrix.png.",
    )
    add_text_flags(p)
    p.add_argument(
        "--level", choices=("char", "word"), default="word", help="tokens: words or characters (default: word)"
    )
    p.add_argument("--top-k", type=positive_int, default=10, help="classes: the most common sections (default: 10)")
    add_recurrent_flags(p, hidden=128, layers=2, dropout=0.3, embedding_dim=64)
    p.add_argument("--no-baseline", action="store_true", help="skip the bag-of-words baseline")
    add_training_flags(
        p, kind="sections", lr=2e-3, epochs=8, seed_help="seed for init, dropout and shuffling", clip=1.0
    )
    for action in p._actions:
        if action.dest == "val_size":
            action.help = "ignored: the validation split is the descriptions' own (kept for the shared flags)"


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train sections`` with parsed flags; returns the exit status."""
    from ..data import load_debian_descriptions, section_dataset
    from ..figures.classifier import confusion_matrix, plot_confusion_matrix
    from ..models import RecurrentClassifier
    from ..nn import CrossEntropyLoss
    from ..train import Callback, EarlyStopping, Trainer

    session = Session(args, "sections")
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    records = load_debian_descriptions(args.path, lists_dir=args.lists_dir)
    data = section_dataset(records, top_k=args.top_k, level=args.level)
    train = data.train
    X_train, y_train = train.x, train.y
    if args.limit is not None:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]
    model = RecurrentClassifier(
        args.embedding_dim, args.hidden, len(data.classes), cell=args.cell, num_layers=args.layers,
        dropout=args.dropout, vocab_size=len(data.vocab), padding_idx=data.vocab.pad_id or 0, rng=rng,
    )  # fmt: skip
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    callbacks: list[Callback] = [EarlyStopping(monitor="val_acc", patience=args.epochs, restore_best_weights=True)]
    config = session.config(
        args,
        classes=list(data.classes),
        vocab_size=len(data.vocab),
        num_train=len(X_train),
        num_val=len(data.val.y),
        num_test=len(data.test.y),
        parameters=int(sum(p.data.size for p in model.parameters())),
    )
    trainer = Trainer(
        model, CrossEntropyLoss(), optimizer, scheduler=scheduler, scheduler_interval=interval,
        batch_size=args.batch_size, clip_grad_norm=args.clip_grad_norm, epochs=args.epochs,
        callbacks=[*callbacks, *session.callbacks], run_dir=session.run_dir, config=config,
        verbose=not args.quiet, rng=rng,
    )  # fmt: skip
    if not session.fit(trainer, X_train, y_train, data.val.x, data.val.y):
        return session.exit_status  # stopped by a signal: the command that resumes it was printed
    seconds = session.stopwatch.seconds
    scores = trainer.predict(data.test.x)  # eval mode: no dropout
    cm = confusion_matrix(data.test.y, np.argmax(scores, axis=1), len(data.classes))
    test_acc = float(np.trace(cm) / len(data.test.y))
    majority = int(np.bincount(y_train, minlength=len(data.classes)).argmax())
    results: dict[str, Any] = {
        "cell": args.cell,
        "level": args.level,
        "test_accuracy": test_acc,
        "best_val_acc": max((h.get("val_acc", float("nan")) for h in trainer.history), default=None),
        "majority_val_acc": float(np.mean(data.val.y == majority)),
        "majority_test_acc": float(np.mean(data.test.y == majority)),
        "train_seconds": round(seconds, 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
        "classes": list(data.classes),
        "confusion_matrix": cm.tolist(),
    }
    if not args.no_baseline:
        results |= bow_baseline(data, rng=np.random.default_rng(args.seed))
    plot_confusion_matrix(cm, session.run_dir / "confusion_matrix.png", class_names=data.classes)
    session.write_results(results)  # last: it marks the run as finished
    line = f"test accuracy {test_acc:.4f} (majority class {results['majority_test_acc']:.4f}"
    if "bow_test_acc" in results:
        line += f", bag-of-words logistic regression {results['bow_test_acc']:.4f}"
    print(line + f"), {seconds:.0f} s of training")
    print(f"run folder: {session.run_dir}")
    return 0


def bow_baseline(data: Any, *, rng: np.random.Generator) -> dict[str, Any]:
    """The bag-of-words logistic regression's validation and test accuracy, its L2 tuned on validation."""
    from ..analysis.text_baselines import fit_bow_logreg

    bow = fit_bow_logreg(
        data.train, data.val, data.test, vocab_size=len(data.vocab), num_classes=len(data.classes), rng=rng
    )
    return {"bow_weight_decay": bow.weight_decay, "bow_val_acc": bow.val_acc, "bow_test_acc": bow.test_acc}
