"""``scratchnn train char-rnn``: a character-level language model on the English descriptions of Debian packages.

The text is every distinct long description of the split (``data.char_corpus``), characters seen fewer
than 5 times in train mapped to ``<unk>``. Training reads random windows of ``--seq-len`` characters
(each from a zero state, shuffled, an epoch covering the training text once); the per-epoch validation
loss is on windows too. The final numbers read the validation and test text as streams, the state
carried from chunk to chunk (as the n-gram baseline reads it, every character conditioned on all
before it), in bits per character = cross-entropy / ln 2. The baseline is an interpolated modified
Kneser-Ney character n-gram (order <= 5) with its order and discounts tuned on validation
(``models.char_ngram``). The run folder gets ``vocab.json`` and ``model.safetensors`` (the best epoch's
weights) for ``scratchnn sample``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import _config
from .._validate import positive_int
from .common import add_recurrent_flags, add_text_flags, add_training_flags, make_optimizer, make_scheduler
from .session import Session

__all__ = ["add_parser", "run_from_args", "stream_bits_per_char", "windows", "load_run_model", "sample_text"]

MIN_COUNT = 5  # rarer characters become <unk>


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``char-rnn`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "char-rnn",
        help="train a character-level language model (RNN, LSTM or GRU) on Debian package descriptions",
        description="Train a character-level language model written from scratch on the English descriptions of "
        "Debian packages and report validation and test bits per character against a tuned character n-gram. "
        "Writes a run folder with config.json, metrics.jsonl, checkpoints/, curves.png, results.json, vocab.json "
        "and model.safetensors (for `scratchnn sample`).",
    )
    add_text_flags(p)
    add_recurrent_flags(p, hidden=256, layers=1, dropout=0.0, embedding_dim=64)
    p.add_argument("--seq-len", type=positive_int, default=128, help="characters per training window (default: 128)")
    p.add_argument("--no-baseline", action="store_true", help="skip the character n-gram baseline")
    add_training_flags(
        p, kind="char-rnn", lr=1e-2, epochs=1, seed_help="seed for init, dropout and shuffling", clip=1.0
    )
    # batch 32 and lr 1e-2: at a fixed 200 s of training on 2 cores, validation bits/char were 2.53 at
    # (batch 64, lr 3e-3), 2.34 at (32, 3e-3), 2.35 at (16, 2e-3), 2.07 at (64, 1e-2), 2.59 at (64, 2e-2),
    # 1.99 at (32, 1e-2): half the batch gives twice the steps for 0.55x the time per step
    p.set_defaults(batch_size=32, val_size=2000)
    for action in p._actions:
        if action.dest == "val_size":
            action.help = "validation windows evaluated after each epoch (default: 2000; the final numbers use all)"
        if action.dest == "limit":
            action.help = "use only the first N training windows (quick runs)"
        if action.dest == "batch_size":
            action.help = "windows per minibatch (default: 32)"


def windows(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows of a stream and their targets (the next character of each position).

    Shape:
        ids: (L,);  x, y: (M, seq_len) with M = (L - 1) // seq_len
    """
    M = (len(ids) - 1) // seq_len
    x = ids[: M * seq_len].reshape(M, seq_len)  # (M, T)
    y = ids[1 : M * seq_len + 1].reshape(M, seq_len)  # (M, T)
    return x, y


def stream_bits_per_char(
    model: Any, ids: np.ndarray, *, lanes: int = 256, chunk: int = 256, desc: str | None = None
) -> float:
    """Bits per character of ``model`` on a stream, read in ``lanes`` contiguous parts with the state carried.

    Each lane starts from a zero state, so the first characters of the ``lanes`` parts are read with
    no context: with 256 lanes on the 2.3M-character validation stream that is about one character
    in 9,000. Many lanes make few sequential steps, which is what costs in NumPy. ``desc`` names the
    progress bar (shown on a terminal only).
    """
    from ..nn import CrossEntropyLoss
    from ..train.bptt import stream_batches
    from ..train.metrics import epoch_bar

    lanes = max(1, min(lanes, (len(ids) - 1) // 2))
    crit = CrossEntropyLoss(reduction="sum")
    model.eval()
    state, total, count = None, 0.0, 0
    with epoch_bar(math.ceil((len(ids) - 1) // lanes / chunk), 0, desc or "", desc is not None) as bar:
        for x, y in stream_batches(ids, lanes, chunk):  # x, y: (lanes, <= chunk)
            total += float(crit(model(x, state), y))
            state, count = model.state, count + y.size
            bar.update()
    return total / count / math.log(2)


def load_text(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """The vocabulary and the train, val and test streams of character ids."""
    from ..data import char_corpus, char_vocab, load_debian_descriptions, split_descriptions

    records = load_debian_descriptions(args.path, lists_dir=args.lists_dir)
    splits = split_descriptions(records)
    texts = [char_corpus(part) for part in splits]
    vocab = char_vocab(texts[0], min_count=MIN_COUNT)
    train, val, test = (vocab.encode(t) for t in texts)
    return vocab, train, val, test


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train char-rnn`` with parsed flags; returns the exit status."""
    from ..models import CharRNN
    from ..nn import CrossEntropyLoss
    from ..serialization import save
    from ..train import Callback, EarlyStopping, Trainer

    session = Session(args, "char-rnn")
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    vocab, train_ids, val_ids, test_ids = load_text(args)
    picker = np.random.default_rng([args.seed, 1])  # the subsets below, apart from training's generator
    X_train, y_train = windows(train_ids, args.seq_len)
    if args.limit is not None:  # a random subset of the windows, not the first packages by name
        pick = np.sort(picker.permutation(len(X_train))[: args.limit])
        X_train, y_train = X_train[pick], y_train[pick]
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_val, y_val = windows(val_ids, args.seq_len)
    pick = np.sort(picker.permutation(len(X_val))[: args.val_size])
    X_val, y_val = (X_val[pick], y_val[pick]) if args.val_size else (None, None)

    model = CharRNN(
        len(vocab), args.embedding_dim, args.hidden, args.layers, cell=args.cell, dropout=args.dropout, rng=rng
    )
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    steps_per_epoch = math.ceil(len(X_train) / args.batch_size)
    scheduler, interval = make_scheduler(optimizer, args.schedule, args.epochs, steps_per_epoch)
    callbacks: list[Callback] = []
    if X_val is not None:  # keep the weights of the best validation epoch
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.epochs, restore_best_weights=True))
    config = session.config(
        args,
        vocab_size=len(vocab),
        train_chars=int(len(train_ids)),
        val_chars=int(len(val_ids)),
        test_chars=int(len(test_ids)),
        num_train_windows=len(X_train),
        parameters=int(sum(p.data.size for p in model.parameters())),
    )
    trainer = Trainer(
        model, CrossEntropyLoss(), optimizer, scheduler=scheduler, scheduler_interval=interval,
        batch_size=args.batch_size, clip_grad_norm=args.clip_grad_norm, epochs=args.epochs,
        callbacks=[*callbacks, *session.callbacks], run_dir=session.run_dir, config=config,
        verbose=not args.quiet, rng=rng, metrics=(),
    )  # fmt: skip
    if not session.fit(trainer, X_train, y_train, X_val, y_val):
        return session.exit_status  # stopped by a signal: the command that resumes it was printed
    seconds = session.stopwatch.seconds
    save(model.state_dict(), session.run_dir / "model.safetensors", overwrite=True)  # the best epoch's weights
    vocab.save(session.run_dir / "vocab.json")
    if not args.quiet:
        print(f"evaluating on the validation and test streams ({len(val_ids):,} and {len(test_ids):,} characters)")
    desc = None if args.quiet else "evaluating"
    results: dict[str, Any] = {
        "cell": args.cell,
        "val_bpc": stream_bits_per_char(model, val_ids, desc=desc),
        "test_bpc": stream_bits_per_char(model, test_ids, desc=desc),
        "train_seconds": round(seconds, 1),
        "epochs": trainer.epoch,
        "steps": trainer.step,
    }
    if not args.no_baseline:
        if not args.quiet:
            print("fitting the character n-gram baseline (orders 1-5, discounts tuned on validation)")
        results |= ngram_baseline(train_ids, val_ids, test_ids, len(vocab))
    sample = model.sample(vocab.encode("This package "), 300, temperature=0.8, rng=np.random.default_rng(0))
    results["sample"] = "This package " + "".join(vocab.decode(sample))
    session.write_results(results)  # last: it marks the run as finished
    line = f"validation {results['val_bpc']:.3f} bits/char, test {results['test_bpc']:.3f}"
    if "ngram_val_bpc" in results:
        line += f"  (n-gram baseline: {results['ngram_val_bpc']:.3f} / {results['ngram_test_bpc']:.3f})"
    print(line + f", {seconds:.0f} s of training")
    print(f"run folder: {session.run_dir}")
    return 0


def ngram_baseline(train_ids: np.ndarray, val_ids: np.ndarray, test_ids: np.ndarray, V: int) -> dict[str, Any]:
    """The character n-gram's validation and test bits per character, its order and discounts tuned on validation."""
    from ..models.char_ngram_tune import tune_char_ngram

    tuned = tune_char_ngram(train_ids, val_ids, vocab_size=V)
    return {
        "ngram_order": tuned.order,
        "ngram_smoothing": tuned.smoothing,
        "ngram_val_bpc": tuned.val_bpc,
        "ngram_test_bpc": tuned.model.bits_per_char(test_ids),
        "ngram_table": tuned.table,
    }


def load_run_model(run_dir: str | Path) -> tuple[Any, Any]:
    """The CharRNN of a finished ``train char-rnn`` run folder and its vocabulary."""
    import json

    from ..data.vocab import Vocab
    from ..models import CharRNN
    from ..serialization import load

    run = Path(run_dir).expanduser()
    files = [run / name for name in ("config.json", "vocab.json", "model.safetensors")]
    try:
        config = json.loads(files[0].read_text())["config"]
        finished = config["command"] == "train char-rnn" and all(f.is_file() for f in files)
    except (OSError, ValueError, KeyError, TypeError):
        finished = False
    if not finished:
        raise ValueError(
            "Invalid value for `RUN_DIR`: expected the folder of a finished `scratchnn train char-rnn` run (with "
            f"config.json, vocab.json and model.safetensors). Received: RUN_DIR={str(run)!r}"
        )
    model = CharRNN(
        config["vocab_size"], config["embedding_dim"], config["hidden"], config["layers"], cell=config["cell"]
    )
    model.load_state_dict(load(run / "model.safetensors"))
    return model, Vocab.load(run / "vocab.json")


def sample_text(run_dir: str | Path, prompt: str, length: int, temperature: float, seed: int, until_end: bool) -> str:
    """``prompt`` and ``length`` characters drawn after it by a run's model (``scratchnn sample``)."""
    from ..data import DOC_SEPARATOR

    model, vocab = load_run_model(run_dir)
    if not prompt:
        raise ValueError("Invalid value for `--prompt`: expected at least one character. Received: --prompt=''")
    stop = vocab.index.get(DOC_SEPARATOR) if until_end else None
    ids = model.sample(
        vocab.encode(prompt), length, temperature=temperature, stop=stop, rng=np.random.default_rng(seed)
    )
    return prompt + "".join(vocab.decode(ids)).replace(DOC_SEPARATOR, "\n")
