"""``Trainer``: the training loop for any scratchnn model, with validation, callbacks and exact resume."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .._config import get_rng
from .._validate import check_choice, check_float, check_int, invalid_type
from ..data.loader import DataLoader
from ..nn.module import Module
from ..optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from ..optim.optimizer import Optimizer
from . import checkpoint as ckpt
from .callbacks import Callback, ModelCheckpoint, check_callbacks, dispatch
from .divergence import DivergenceCheck
from .metrics import Metric, RunningMean, epoch_bar, format_entry, resolve_metrics
from .run_dir import RunLog
from .state import TrainerState, callback_states, check_optimizer_params
from .steps import batched_scores, check_fit_data, eval_mode, evaluate_arrays, train_step

__all__ = ["Trainer"]


class Trainer:
    """Train ``model`` with ``optimizer`` on ``criterion``: epochs of shuffled batches without replacement.

    Per step: ``model.train()``, ``logits = model(xb)``, ``loss = criterion(logits, yb)``, zero the
    grads, ``model.backward(criterion.backward(), input_grad=False)`` (the batch is data: no dx),
    optionally ``clip_grad_norm_``, ``optimizer.step()`` and, with ``scheduler_interval='step'``,
    ``scheduler.step()``. With ``criterion=None`` the model keeps the course contract instead:
    ``loss, grads = model.loss(xb, yb)`` with grads keyed like ``model.named_parameters()``. After
    each epoch: validation (eval mode, batched, no backward), a history entry, the epoch scheduler
    step (``ReduceLROnPlateau`` gets the validation loss, the train loss without validation data)
    and the callbacks.

    ``epochs`` and ``max_steps`` are totals: ``fit`` trains until either is reached, so a trainer
    that loaded a checkpoint continues from the saved step (mid-epoch included) to the same end.
    A non-finite loss, gradient, param or validation loss ends ``fit`` with :class:`TrainingDiverged`
    before any callback or checkpoint sees it (:mod:`.divergence`).

    Args:
        model: a :class:`~scratchnn.nn.Module`.
        criterion: a loss module (``loss = crit(logits, y)``, ``dlogits = crit.backward()``), or None.
        optimizer: a :mod:`scratchnn.optim` optimizer over the model's params (frozen ones may be left
            out). Unlike torch, a param of neither the model nor the criterion is an error.
        scheduler: a :mod:`scratchnn.optim.lr_scheduler` scheduler, or None.
        scheduler_interval: 'epoch' or 'step': when ``scheduler.step()`` is called.
        batch_size: samples per training (and evaluation) batch.
        epochs: total epochs; max_steps: total optimizer steps (None: no limit).
        clip_grad_norm: max global L2 norm of the gradients (None: no clipping).
        callbacks: :class:`~scratchnn.train.Callback` objects.
        run_dir: a new (absent or empty) folder for ``config.json``, ``metrics.jsonl``,
            ``checkpoints/`` (a :class:`ModelCheckpoint` is added if none is given) and ``curves.png``.
        config: what to record in ``config.json`` besides the trainer's own settings.
        verbose: a progress bar per epoch on a terminal and one summary line per epoch.
        rng: generator for the shuffling; None spawns one from scratchnn's default generator.
        metrics: metric names or callables ``fn(scores, y) -> float`` ('accuracy' is logged as ``acc``).
    """

    def __init__(
        self,
        model: Module,
        criterion: Module | None,
        optimizer: Optimizer,
        *,
        scheduler: LRScheduler | None = None,
        scheduler_interval: str = "epoch",
        batch_size: int = 128,
        epochs: int = 10,
        max_steps: int | None = None,
        clip_grad_norm: float | None = None,
        callbacks: Sequence[Callback] = (),
        run_dir: str | os.PathLike[str] | None = None,
        config: dict[str, Any] | None = None,
        verbose: bool = True,
        rng: np.random.Generator | None = None,
        metrics: Sequence[str | Metric] = ("accuracy",),
    ) -> None:
        if not isinstance(model, Module):
            raise invalid_type("model", "a scratchnn.nn.Module", model)
        if criterion is None and not callable(getattr(model, "loss", None)):
            raise invalid_type("model", "a Module with loss(X, y) -> (loss, grads) when criterion is None", model)
        if not isinstance(optimizer, Optimizer):
            raise invalid_type("optimizer", "a scratchnn.optim.Optimizer", optimizer)
        if scheduler is not None and not isinstance(scheduler, LRScheduler):
            raise invalid_type("scheduler", "a scratchnn.optim.lr_scheduler scheduler or None", scheduler)
        check_optimizer_params(model, criterion, optimizer)
        self.model, self.criterion, self.optimizer, self.scheduler = model, criterion, optimizer, scheduler
        self.scheduler_interval = check_choice(scheduler_interval, "scheduler_interval", ("epoch", "step"))
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval == "step":
            raise ValueError(
                "Invalid value for `scheduler_interval`: expected 'epoch' for ReduceLROnPlateau "
                "(it steps on the validation loss). Received: scheduler_interval='step'"
            )
        self.batch_size = check_int(batch_size, "batch_size", low=1)
        self.epochs = check_int(epochs, "epochs", low=0)
        self.max_steps = None if max_steps is None else check_int(max_steps, "max_steps", low=0)
        self.clip_grad_norm = (
            None if clip_grad_norm is None else check_float(clip_grad_norm, "clip_grad_norm", low=0.0, low_open=True)
        )
        self.callbacks = check_callbacks(callbacks)
        self.run_dir = None if run_dir is None else Path(run_dir).expanduser()
        if self.run_dir is not None and not any(isinstance(cb, ModelCheckpoint) for cb in self.callbacks):
            self.callbacks.append(ModelCheckpoint())
        self.config = dict(config or {})
        self.verbose = bool(verbose)
        self.rng = get_rng(rng) if rng is not None else get_rng().spawn(1)[0]
        self.metrics = resolve_metrics(metrics)
        self.history: list[dict[str, Any]] = []
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.stop_training = False
        self.resumed = False  # set by load_checkpoint
        self.train_loader: DataLoader | None = None
        self._batch_in_epoch = 0
        self._running = RunningMean()  # train loss and metrics over the current epoch so far
        self._epoch_seconds = 0.0
        self._loader_state: dict[str, Any] | None = None  # from a checkpoint, applied by the next fit
        self._run = RunLog()  # the run folder, opened by the first fit; metrics.jsonl written behind checkpoints
        self._check = DivergenceCheck(model)  # a non-finite loss, gradient or param stops training

    # ------------------------------------------------------------------------------------- training
    def fit(
        self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None
    ) -> list[dict[str, Any]]:
        """Train until ``epochs`` / ``max_steps`` (or a callback stops it); return the history.

        The history is a list with one dict per epoch: ``epoch``, ``step``, ``train_loss`` (mean
        over the epoch), ``train_<metric>`` (on the training batches as seen, in train mode),
        ``val_loss`` and ``val_<metric>`` (with validation data), ``lr`` and ``time`` (seconds spent
        training in the epoch).
        When training stops mid-epoch, a last entry with ``partial: True`` covers the batches done
        (it is replaced by the full entry when training continues). Data with NaN or inf is a
        ``ValueError`` naming the argument; divergence a :class:`TrainingDiverged`.
        """
        check_fit_data(X_train, y_train, X_val, y_val)
        self._run.open(self.run_dir, self.config, vars(self))
        loader = DataLoader(X_train, y_train, batch_size=self.batch_size, shuffle=True, rng=self.rng)
        state = self._loader_state or (self.train_loader.state_dict() if self.train_loader else None)
        if state is not None and self._batch_in_epoch > 0:  # finish the stopped epoch, in its order
            loader.load_state_dict(state)
        self.train_loader, self._loader_state = loader, None
        self.stop_training = False
        self._dispatch("on_train_begin")
        while not self._finished():
            epoch = self.epoch + 1
            if self._batch_in_epoch == 0:
                self._dispatch("on_epoch_begin", epoch)
            elif self.history and self.history[-1].get("partial"):
                self.history.pop()  # the epoch that entry covers goes on now
            if self._run_epoch(loader, epoch):
                self._end_epoch(epoch, X_val, y_val)
            else:
                self._log(self._entry(epoch, X_val, y_val, partial=True))
                break
        # not on an exception: a step cut short leaves no consistent state to checkpoint
        self._dispatch("on_train_end")
        self._run.flush(self.run_dir)
        if self.run_dir is not None and self.history:
            from ..figures.history import plot_history  # matplotlib is imported only here

            plot_history(self.history, self.run_dir / "curves.png")
        return self.history

    def _finished(self) -> bool:
        out_of_steps = self.max_steps is not None and self.step >= self.max_steps
        return self.stop_training or self.epoch >= self.epochs or out_of_steps

    def _run_epoch(self, loader: DataLoader, epoch: int) -> bool:
        """Train on the epoch's remaining batches; True when the epoch was completed."""
        if self._batch_in_epoch == len(loader):  # resumed from a checkpoint of the epoch's last step
            return True
        self.model.train()
        start = time.perf_counter()
        bar = epoch_bar(len(loader), self._batch_in_epoch, f"Epoch {epoch}/{self.epochs}", self.verbose)
        try:
            for xb, yb in loader:
                check = self._check.at(epoch, self.step + 1)
                loss, scores = train_step(
                    self.model, self.criterion, self.optimizer, xb, yb, clip_grad_norm=self.clip_grad_norm, check=check
                )
                self.step += 1
                self._batch_in_epoch += 1
                values = {"loss": loss}
                if scores is not None:
                    values.update({key: fn(scores, yb) for _, key, fn in self.metrics})
                self._running.update(values, len(xb))
                if self.scheduler is not None and self.scheduler_interval == "step":
                    self.scheduler.step()
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                bar.update()
                now = time.perf_counter()  # counted per step: a checkpoint taken in on_batch_end has the time so far
                self._epoch_seconds, start = self._epoch_seconds + now - start, now
                self._dispatch("on_batch_end", self.step, {"loss": loss, "batch": self._batch_in_epoch})
                if self._finished() and self._batch_in_epoch < len(loader):
                    return False
        finally:
            bar.close()
            self._epoch_seconds += time.perf_counter() - start
        return True

    def _entry(
        self, epoch: int, X_val: np.ndarray | None, y_val: np.ndarray | None, partial: bool = False
    ) -> dict[str, Any]:
        means = self._running.means()
        entry: dict[str, Any] = {"epoch": epoch, "step": self.step, "train_loss": means.get("loss")}
        entry.update({f"train_{k}": v for k, v in means.items() if k != "loss"})
        if X_val is not None and y_val is not None:
            val = self._check.validation(lambda: self.evaluate(X_val, y_val))
            entry["val_loss"] = val["loss"]
            entry.update({f"val_{key}": val[name] for name, key, _ in self.metrics})
        entry["lr"] = float(self.optimizer.param_groups[0]["lr"])
        entry["time"] = self._epoch_seconds
        if partial:
            entry["partial"] = True
        return entry

    def _end_epoch(self, epoch: int, X_val: np.ndarray | None, y_val: np.ndarray | None) -> None:
        entry = self._entry(epoch, X_val, y_val)
        self._log(entry)
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step(entry.get("val_loss", entry["train_loss"]))
            else:
                self.scheduler.step()
        self.epoch, self._batch_in_epoch, self._epoch_seconds, self._running = epoch, 0, 0.0, RunningMean()
        self._dispatch("on_epoch_end", epoch, entry)
        self._run.flush(self.run_dir)  # the entry's line only now: after the checkpoint that holds it

    def _log(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
        self._run.log(entry)
        if self.verbose:
            tqdm.write(format_entry(entry, self.epochs), file=sys.stdout)

    def _dispatch(self, hook: str, *args: Any) -> None:
        dispatch(self.callbacks, hook, self, *args)  # mypy checks here that a Trainer is a TrainerView

    # ------------------------------------------------------------------------------------- inference
    def evaluate(self, X: np.ndarray, y: np.ndarray, batch_size: int | None = None) -> dict[str, float]:
        """Mean loss and metrics over ``(X, y)`` in eval mode, e.g. ``{'loss': 0.31, 'accuracy': 0.9}``.

        Metrics are keyed by their full names here ('accuracy'), by short names in the history.
        """
        bs = self.batch_size if batch_size is None else check_int(batch_size, "batch_size", low=1)
        with eval_mode(self.model):
            return evaluate_arrays(self.model, self.criterion, X, y, bs, self.metrics)

    def predict(self, X: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Scores (logits) for ``X``, in eval mode and in batches. Shape: X: (N, *) -> (N, C); N may be 0."""
        bs = self.batch_size if batch_size is None else check_int(batch_size, "batch_size", low=1)
        with eval_mode(self.model):
            return batched_scores(self.model, self.criterion, X, bs)

    # ------------------------------------------------------------------------------------- state
    def save_checkpoint(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Save everything needed to continue this training exactly (see :mod:`.checkpoint`)."""
        state = TrainerState(
            epoch=self.epoch,
            step=self.step,
            batch_in_epoch=self._batch_in_epoch,
            running=self._running.state_dict(),
            epoch_seconds=self._epoch_seconds,
            history=self.history,
            rng=self.rng.bit_generator.state,
            data_loader=self.train_loader.state_dict() if self.train_loader is not None else self._loader_state,
            callbacks=callback_states(self.callbacks),
        )
        ckpt.save_checkpoint(path, self.model, self.optimizer, self.scheduler, trainer=state, overwrite=overwrite)

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Load a checkpoint of :meth:`save_checkpoint` into this trainer's (freshly built) objects.

        All or nothing: when the model, the optimizer (its type too), the scheduler or the callbacks
        do not fit, a ``ValueError`` (or ``TypeError``) names the file and nothing has changed. The
        next :meth:`fit` continues from the saved step; a ``run_dir`` that holds the checkpoint's run
        is accepted by it, its ``metrics.jsonl`` first cut back to (or completed up to) the checkpoint.
        """
        state = ckpt.load_trainer_checkpoint(path, self.model, self.optimizer, self.scheduler, self.callbacks, self.rng)
        self.epoch, self.step, self._batch_in_epoch = state.epoch, state.step, state.batch_in_epoch
        self._running, self._epoch_seconds = RunningMean(), state.epoch_seconds
        self._running.load_state_dict(state.running)
        self.history = list(state.history)
        self._loader_state, self.train_loader = state.data_loader, None  # the next fit() applies it to its loader
        self.resumed = True
        self._run.resume(Path(path).expanduser().resolve(), self.history, self.step)
