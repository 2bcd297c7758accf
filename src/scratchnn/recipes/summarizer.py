"""``scratchnn train summarizer``: a Transformer that writes a Debian package's synopsis from its description.

The model is :class:`~scratchnn.models.Seq2SeqTransformer`, trained with teacher forcing (AdamW, linear
warmup then cosine decay, label smoothing, gradient clipping) on (document, summary) pairs
(:mod:`.summarizer_data`). After each epoch the Trainer's validation loss is joined by ROUGE-1/2/L of
greedy summaries of ``--eval-docs`` validation documents; the weights of the epoch with the best mean of
the three are kept. At the end the test split is summarized greedily and with beam search and scored with ROUGE
F1 (``rouge-score``, stemmed) against the lead-k baseline (k tuned on validation) and the first
sentence. The run folder gets ``tokenizer.json`` and ``model.safetensors`` for ``scratchnn summarize``,
``results.json`` with the table and ``examples.md`` with 10 random test documents summarized four ways.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import _config
from .._validate import positive_int
from ..train.callbacks import Callback, TrainerView
from .common import add_text_flags, add_training_flags, make_optimizer, warmup_cosine
from .session import Session

__all__ = ["add_parser", "run_from_args", "load_summarizer", "summarize_texts"]

MODEL_FLAGS = ("vocab_size", "d_model", "nhead", "layers", "dim_feedforward", "dropout", "positions", "norm_first")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``summarizer`` to the subcommands of ``scratchnn train``."""
    p = subparsers.add_parser(
        "summarizer",
        help="train a Transformer summarizer (Debian description -> synopsis, or your JSON lines / CSV pairs)",
        description="Train an encoder-decoder Transformer written from scratch to summarize; report ROUGE-1/2/L "
        "of greedy and beam-search summaries on the test split against the lead-k and first-sentence "
        "baselines. Writes a run folder with config.json, metrics.jsonl, checkpoints/, curves.png, "
        "tokenizer.json, model.safetensors (for `scratchnn summarize`), results.json and examples.md. "
        "Needs the text extra: pip install 'scratchnn[text]'.",
    )
    add_text_flags(p)
    p.add_argument(
        "--data", nargs="+", default=None, metavar="FILE",
        help="JSON lines or CSV files with document and summary fields: one (split 90/5/5) or three (train, "
        "validation, test); default: the Debian descriptions",
    )  # fmt: skip
    add = p.add_argument
    add("--vocab-size", type=positive_int, default=4000, help="BPE vocabulary (default: 4000)")
    add("--source-len", type=positive_int, default=48, help="document tokens kept, from the start (default: 48)")
    add("--target-len", type=positive_int, default=20, help="summary tokens, EOS included (default: 20)")
    add("--d-model", type=positive_int, default=128, help="model width (default: 128)")
    add("--nhead", type=positive_int, default=4, help="attention heads (default: 4)")
    add("--layers", type=positive_int, default=2, help="encoder layers and decoder layers, each (default: 2)")
    add("--dim-feedforward", type=positive_int, default=512, help="feed-forward width (default: 512)")
    add("--dropout", type=float, default=0.0, help="dropout probability (default: 0.0)")
    add("--positions", choices=("learned", "sinusoidal"), default="learned", help="position embeddings")
    add(
        "--norm-first",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pre-LN layers (default); --no-norm-first: post-LN, the course project's",
    )
    add("--label-smoothing", type=float, default=0.1, help="label smoothing of the loss (default: 0.1)")
    add("--warmup-steps", type=int, default=200, help="linear warmup steps before the cosine decay (default: 200)")
    add("--beam-size", type=positive_int, default=4, help="beam search's beams at test time (default: 4)")
    add("--length-penalty", type=float, default=1.0, help="beam search's length penalty (default: 1.0)")
    add("--no-repeat-ngram-size", type=int, default=3, help="no n-gram twice in a summary (default: 3; 0: off)")
    add(
        "--eval-docs",
        type=int,
        default=1000,
        help="validation documents summarized greedily after each epoch; the epoch with the best mean "
        "ROUGE-1/2/L F1 on them is kept (default: 1000; 0: the best validation loss instead)",
    )
    add(
        "--threads",
        type=positive_int,
        default=1,
        help="BLAS and intra-op threads (default: 1; on a 2-core machine a default step takes 0.16 s at one "
        "thread and 0.14 s at two when nothing else runs, 0.17 to 0.18 s at two while another process holds a core)",
    )
    add_training_flags(
        p, kind="summarizer", lr=2e-3, epochs=8, seed_help="seed for init, dropout and shuffling", clip=1.0
    )
    p.set_defaults(batch_size=32, weight_decay=0.01)


class RougeCallback(Callback):
    """After each epoch: ROUGE of greedy summaries of validation documents, into the history entry."""

    def __init__(self, model: Any, tok: Any, X: np.ndarray, refs: list[str], target_len: int) -> None:
        self.model, self.tok, self.X, self.refs, self.target_len = model, tok, X, refs, target_len

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, Any]) -> None:
        from ..text import rouge_scores

        if not self.refs:
            return
        preds = summarize_ids(self.model, self.tok, self.X, self.target_len, beam_size=1)
        scores = rouge_scores(preds, self.refs)
        logs.update({f"val_{k}": v for k, v in scores.items()})
        logs["val_rouge"] = sum(scores.values()) / len(scores)  # the mean of the three picks the best epoch


class SaveTokenizer(Callback):
    """Writes the tokenizer into the run folder once the Trainer has made it (a resumed run has it already)."""

    def __init__(self, tok: Any, path: Path) -> None:
        self.tok, self.path = tok, path

    def on_train_begin(self, trainer: TrainerView) -> None:
        if not self.path.exists():
            self.tok.save(self.path)


def summarize_ids(model: Any, tok: Any, X: np.ndarray, max_len: int, *, beam_size: int = 1, batch: int = 64,
                  **beam: Any) -> list[str]:  # fmt: skip
    """Summaries of the sources X (N, S) as text: greedy (beam_size 1) or beam search, in batches."""
    from ..models import beam_search, greedy_decode

    out: list[np.ndarray] = []
    for i in range(0, len(X), batch):
        kw = dict(max_len=max_len, start_id=tok.bos_id, eos_id=tok.eos_id)
        if beam_size == 1:
            out += greedy_decode(model, X[i : i + batch], **kw).tokens
        else:
            out += beam_search(model, X[i : i + batch], beam_size=beam_size, **kw, **beam).tokens
    return list(tok.decode_batch(out))


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``scratchnn train summarizer`` with parsed flags; returns the exit status."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads, user_api="blas"):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from ..models import Seq2SeqTransformer
    from ..nn import CrossEntropyLoss
    from ..serialization import save
    from ..train import EarlyStopping, Trainer
    from . import summarizer_data as sd

    # the best epoch is the one whose greedy summaries score best (mean validation ROUGE-1/2/L F1): the
    # label-smoothed validation loss turns up epochs before ROUGE stops rising (measured: docs/experiments.md)
    best = ("val_rouge", "max") if args.eval_docs > 0 else ("val_loss", "min")
    session = Session(args, "summarizer", monitor=best[0], mode=best[1])
    _config.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    corpus = sd.load_pairs(args)
    train = corpus.train
    if args.limit is not None:
        train = [train[i] for i in np.sort(np.random.default_rng([args.seed, 1]).permutation(len(train))[: args.limit])]
    tok = sd.tokenizer_for(session.run_dir, train, args.vocab_size)
    X_train, y_train = sd.encode_pairs(tok, train, args.source_len, args.target_len)
    val = corpus.val[: args.val_size] if args.val_size else corpus.val
    X_val, y_val = sd.encode_pairs(tok, val, args.source_len, args.target_len)
    model = Seq2SeqTransformer(
        tok.vocab_size, args.d_model, args.nhead, args.layers, args.layers, args.dim_feedforward, args.dropout,
        norm_first=args.norm_first, positions=args.positions, max_len=max(args.source_len, args.target_len),
        pad_id=tok.pad_id, rng=rng,
    )  # fmt: skip
    task = sd.TeacherForced(model, args.source_len)
    optimizer = make_optimizer(args.optimizer, task.parameters(), args.lr, args.weight_decay)
    steps = args.epochs * math.ceil(len(X_train) / args.batch_size)
    scheduler = warmup_cosine(optimizer, args.warmup_steps, steps) if args.schedule == "cosine" else None
    eval_docs = corpus.val[: args.eval_docs]
    callbacks = [
        RougeCallback(model, tok, sd.encode_sources(tok, [p.document for p in eval_docs], args.source_len),
                      [p.summary for p in eval_docs], args.target_len),
        stopper := EarlyStopping(monitor=best[0], mode=best[1], patience=args.epochs, restore_best_weights=True),
        SaveTokenizer(tok, session.run_dir / "tokenizer.json"),
    ]  # fmt: skip
    config = session.config(
        args, corpus=corpus.source, num_train=len(X_train), num_val=len(X_val), num_test=len(corpus.test),
        tokenizer_vocab=tok.vocab_size, parameters=int(sum(p.data.size for p in model.parameters())),
    )  # fmt: skip
    trainer = Trainer(
        task, CrossEntropyLoss(label_smoothing=args.label_smoothing), optimizer, scheduler=scheduler,
        scheduler_interval="step", batch_size=args.batch_size, clip_grad_norm=args.clip_grad_norm,
        epochs=args.epochs, callbacks=[*callbacks, *session.callbacks], run_dir=session.run_dir, config=config,
        verbose=not args.quiet, rng=rng, metrics=(),
    )  # fmt: skip
    if not session.fit(trainer, X_train, y_train, X_val, y_val):
        return session.exit_status
    seconds = session.stopwatch.seconds
    save(model.state_dict(), session.run_dir / "model.safetensors", overwrite=True)  # the best epoch's weights
    results = evaluate(model, tok, corpus, args, trainer, seconds)
    results["best_epoch"] = stopper.best_epoch  # whose weights model.safetensors holds
    session.write_results(results)  # last: it marks the run as finished
    t = results["test"]
    print(
        "test ROUGE-1/2/L: "
        + ", ".join(f"{name} {t[name]['rouge1']:.2f}/{t[name]['rouge2']:.2f}/{t[name]['rougeL']:.2f}" for name in t)
        + f"  ({seconds:.0f} s of training)"
    )
    print(f"run folder: {session.run_dir}")
    return 0


def evaluate(
    model: Any, tok: Any, corpus: Any, args: argparse.Namespace, trainer: Any, seconds: float
) -> dict[str, Any]:
    """Test ROUGE of greedy and beam summaries and of the two baselines; examples.md in the run folder."""
    from ..text import best_lead_k, first_sentence, lead_words, rouge_scores
    from . import summarizer_data as sd

    verbose = not args.quiet
    test_docs, refs = [p.document for p in corpus.test], [p.summary for p in corpus.test]
    X_test = sd.encode_sources(tok, test_docs, args.source_len)
    if verbose:
        print(f"summarizing {len(test_docs):,} test documents (greedy, then beam search with {args.beam_size} beams)")
    greedy = summarize_ids(model, tok, X_test, args.target_len)
    beam = summarize_ids(
        model, tok, X_test, args.target_len, beam_size=args.beam_size, length_penalty=args.length_penalty,
        no_repeat_ngram_size=args.no_repeat_ngram_size,
    )  # fmt: skip
    k, _ = best_lead_k([p.document for p in corpus.val], [p.summary for p in corpus.val], range(1, 21))
    lead = [lead_words(d, k) for d in test_docs]
    first = [first_sentence(d) for d in test_docs]
    pct = lambda s: {key: round(100 * v, 2) for key, v in s.items()}  # noqa: E731
    test = {
        "greedy": pct(rouge_scores(greedy, refs)),
        f"beam {args.beam_size}": pct(rouge_scores(beam, refs)),
        f"lead-{k}": pct(rouge_scores(lead, refs)),
        "first sentence": pct(rouge_scores(first, refs)),
    }
    pick = np.random.default_rng(args.seed).choice(len(test_docs), size=min(10, len(test_docs)), replace=False)
    examples = [
        {"document": test_docs[i], "reference": refs[i], f"lead-{k}": lead[i], "greedy": greedy[i], "beam": beam[i]}
        for i in sorted(int(j) for j in pick)
    ]
    write_examples(Path(trainer.run_dir) / "examples.md", examples)
    keys = ("epoch", "val_loss", "val_rouge1", "val_rouge2", "val_rougeL", "val_rouge")
    history = [{key: e[key] for key in e if key in keys} for e in trainer.history]
    return {"test": test, "lead_k": k, "epochs": trainer.epoch, "steps": trainer.step,
            "train_seconds": round(seconds, 1), "history": history, "examples": examples}  # fmt: skip


def write_examples(path: Path, examples: list[dict[str, str]]) -> None:
    """The examples as Markdown: each document (its first 400 characters), then its four summaries."""
    lines = ["# Test documents and their summaries", ""]
    for i, ex in enumerate(examples, 1):
        doc = " ".join(ex["document"].split())
        lines += [f"## {i}", "", f"> {doc[:400]}{' ...' if len(doc) > 400 else ''}", ""]
        lines += [f"- **{key}**: {ex[key]}" for key in ex if key != "document"]
        lines.append("")
    path.write_text("\n".join(lines))


def load_summarizer(run: str | Path) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, config) of a finished ``train summarizer`` run folder, the model in eval mode."""
    from ..models import Seq2SeqTransformer
    from ..serialization import load
    from ..text import BPETokenizer

    run = Path(run).expanduser()
    if not (run / "model.safetensors").is_file():
        raise FileNotFoundError(f"{run}: no model.safetensors: a finished `scratchnn train summarizer` run folder")
    cfg = json.loads((run / "config.json").read_text())["config"]
    tok = BPETokenizer.load(run / "tokenizer.json")
    model = Seq2SeqTransformer(
        tok.vocab_size, cfg["d_model"], cfg["nhead"], cfg["layers"], cfg["layers"], cfg["dim_feedforward"],
        cfg["dropout"], norm_first=cfg["norm_first"], positions=cfg["positions"],
        max_len=max(cfg["source_len"], cfg["target_len"]), pad_id=tok.pad_id,
    )  # fmt: skip
    model.load_state_dict(load(run / "model.safetensors"))
    return model.eval(), tok, cfg


def summarize_texts(run: str | Path, texts: list[str], *, beam_size: int | None = None) -> list[str]:
    """Summaries of ``texts`` by the model of a finished run, with its beam search settings."""
    from . import summarizer_data as sd

    model, tok, cfg = load_summarizer(run)
    X = sd.encode_sources(tok, texts, cfg["source_len"])
    beams = cfg["beam_size"] if beam_size is None else beam_size
    kw = (
        {}
        if beams == 1
        else dict(length_penalty=cfg["length_penalty"], no_repeat_ngram_size=cfg["no_repeat_ngram_size"])
    )
    return summarize_ids(model, tok, X, cfg["target_len"], beam_size=beams, **kw)
