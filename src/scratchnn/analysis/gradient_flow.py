"""Gradient-flow diagnostics: gradient norms, update-to-weight ratios, activation statistics, dead ReLUs.

At initialization::

    grad_norms(model)              # {param name: ||grad||_2} after a backward pass
    activation_stats(model, X)     # one dict per activation layer: mean, std, dead_frac

During training, the :class:`GradientFlow` callback records every ``every`` optimizer steps

- ``grad_norm[name]``    = ||g||_2 of each parameter's gradient (as the optimizer used it, after clipping);
- ``update_ratio[name]`` = ||w_after - w_before||_2 / ||w_before||_2 for that step (healthy training
  sits near 1e-3, a rule of thumb from CS231n);
- per activation layer, on that step's training batch (train mode, the weights before the step):
  ``mean`` and ``std`` of its output and, for ReLU, ``dead_frac``: the fraction of units whose
  output is 0 for every sample of the batch (a unit is one entry of a sample's output).

Activation layers are the modules of ``layer_types`` (ReLU, LeakyReLU, Tanh, Sigmoid, GELU by
default), found with ``model.named_modules()`` and read with forward hooks; a ``FullyConnectedNet``,
whose ReLUs are ops rather than modules, reports its hidden layers ``relu1`` ... ``relu{L-1}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._validate import check_choice, check_int
from ..nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, Tanh
from ..nn.hooks import RemovableHandle
from ..nn.module import Module
from ..train.callbacks import Callback, TrainerView
from ..train.run_dir import append_jsonl

__all__ = [
    "ACTIVATION_TYPES",
    "grad_norms",
    "param_norms",
    "update_ratios",
    "layer_stats",
    "activation_stats",
    "ActivationRecorder",
    "GradientFlow",
]

ACTIVATION_TYPES: tuple[type[Module], ...] = (ReLU, LeakyReLU, Tanh, Sigmoid, GELU)


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


def grad_norms(model: Module) -> dict[str, float]:
    """``{name: ||param.grad||_2}`` for every parameter, in ``named_parameters`` order (float64 sums)."""
    return {name: _norm(p.grad) for name, p in model.named_parameters()}


def param_norms(model: Module) -> dict[str, float]:
    """``{name: ||param||_2}`` for every parameter."""
    return {name: _norm(p.data) for name, p in model.named_parameters()}


def update_ratios(before: dict[str, np.ndarray], model: Module) -> dict[str, float]:
    """``{name: ||w - w_before||_2 / ||w_before||_2}``; ``before`` is ``{name: copy of p.data}``.

    A parameter whose ``w_before`` is all zeros (a bias at initialization) gets ``inf`` when it
    moved and 0.0 when it did not.
    """
    out: dict[str, float] = {}
    for name, p in model.named_parameters():
        w0 = before[name]
        step, size = _norm(p.data.astype(np.float64) - w0), _norm(w0)
        out[name] = step / size if size > 0 else (float("inf") if step > 0 else 0.0)
    return out


def layer_stats(name: str, kind: str, out: np.ndarray) -> dict[str, Any]:
    """Mean, std (population, float64) and, for ReLU, the fraction of units dead on the whole batch."""
    flat = out.reshape(out.shape[0], -1) if out.ndim > 1 else out.reshape(-1, 1)  # (N, *) -> (N, units)
    stats: dict[str, Any] = {
        "layer": name,
        "type": kind,
        "mean": float(np.mean(flat, dtype=np.float64)),
        "std": float(np.std(flat, dtype=np.float64)),
        "dead_frac": None,
    }
    if kind == "ReLU":
        stats["dead_frac"] = float(np.mean(np.all(flat <= 0, axis=0)))
    return stats


def _fc_hidden(model: Any) -> list[dict[str, Any]]:
    """The hidden ReLU outputs of a FullyConnectedNet, read from the caches of the forward pass just run.

    Its ReLUs are ops, not modules, so no hook sees them; each hidden layer's cache is
    ``(fc_cache, norm_cache, relu_cache, dropout_cache)`` and the ReLU's cache is its input. Reading
    it, rather than recomputing, keeps batchnorm's running statistics and the dropout masks' generator
    untouched. The stats are of the ReLU output, before dropout.
    """
    stats = []
    for i, layer_cache in enumerate(model._cache[:-1], start=1):
        _, _, relu_in, _ = layer_cache
        stats.append(layer_stats(f"relu{i}", "ReLU", np.maximum(relu_in, 0)))  # (N, H_i)
    return stats


class ActivationRecorder:
    """Forward hooks that, once :meth:`arm` is called, record the stats of the model's next forward pass.

    ``training`` restricts recording to forward passes in that mode (the :class:`GradientFlow`
    callback records training steps, not the validation passes in between); after one recorded
    forward of the whole model the recorder disarms itself. Use as a context manager (hooks
    removed on exit), or call :meth:`remove`.
    """

    def __init__(
        self, model: Module, layer_types: Sequence[type[Module]] | None = None, *, training: bool | None = None
    ) -> None:
        from ..models.fc_net import FullyConnectedNet

        types = tuple(ACTIVATION_TYPES if layer_types is None else layer_types)
        self.training = training
        self.armed = False
        self.stats: list[dict[str, Any]] = []
        self._fc = False
        self._handles: list[RemovableHandle] = []
        for name, m in model.named_modules():
            if isinstance(m, types):
                self._handles.append(m.register_forward_hook(self._hook(name or type(m).__name__)))
        self._fc = not self._handles and isinstance(model, FullyConnectedNet)
        self._handles.append(model.register_forward_hook(self._root_hook))  # runs after every child's hook

    def arm(self) -> None:
        self.armed, self.stats = True, []

    def _recording(self, module: Module) -> bool:
        return self.armed and (self.training is None or module.training == self.training)

    def _hook(self, name: str) -> Callable[[Module, tuple[Any, ...], Any], None]:
        def hook(module: Module, inputs: tuple[Any, ...], out: Any) -> None:
            if self._recording(module):
                self.stats.append(layer_stats(name, type(module).__name__, out))

        return hook

    def _root_hook(self, model: Module, inputs: tuple[Any, ...], out: Any) -> None:
        if self._recording(model):
            if self._fc:
                self.stats.extend(_fc_hidden(model))
            self.armed = False

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> ActivationRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


@contextmanager
def _kept_state(model: Module, train: bool) -> Iterator[None]:
    """Run in the given mode, then restore the mode and every module's cache as they were."""
    modes = {id(m): m.training for m in model.modules()}
    caches = {id(m): m._cache for m in model.modules()}
    model.train(train)
    try:
        yield
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])
            object.__setattr__(m, "_cache", caches[id(m)])


def activation_stats(
    model: Module, X: np.ndarray, *, layer_types: Sequence[type[Module]] | None = None
) -> list[dict[str, Any]]:
    """Per activation layer, in forward order: ``{"layer", "type", "mean", "std", "dead_frac"}`` on ``X``.

    One forward pass in eval mode; the model's mode and cached activations are left as they were.
    ``dead_frac`` (ReLU only, else None) is the fraction of units that output 0 for every sample.
    """
    with ActivationRecorder(model, layer_types) as rec, _kept_state(model, train=False):
        rec.arm()
        model(X)
    return rec.stats


class GradientFlow(Callback):
    """Record gradient norms, update-to-weight ratios and activation stats while the Trainer trains.

    Every ``every`` steps (``interval='step'``), or at the last step of every ``every``-th epoch
    (``interval='epoch'``), one record goes to :attr:`records` (and, with a run folder, as a JSON
    line to ``<run_dir>/gradient_flow.jsonl``)::

        {"step": 120, "epoch": 2, "grad_norm": {"W1": ...}, "update_ratio": {"W1": ...},
         "activations": [{"layer": "relu1", "type": "ReLU", "mean": ..., "std": ..., "dead_frac": ...}]}

    The last record of an epoch is also copied into that epoch's ``trainer.history`` entry as flat
    keys ``grad_norm/<param>``, ``update_ratio/<param>``, ``act_mean/<layer>``, ``act_std/<layer>``,
    ``dead_frac/<layer>`` (``metrics.jsonl`` is written before callbacks run and does not get them).
    Records are not part of checkpoints. Activations are read on ``model(x)``, so a Trainer on the
    course path (``criterion=None``, ``model.loss(x, y)``) records gradients and ratios only.
    """

    def __init__(
        self,
        every: int = 1,
        *,
        interval: str = "step",
        activations: bool = True,
        layer_types: Sequence[type[Module]] | None = None,
    ) -> None:
        self.every = check_int(every, "every", low=1)
        self.interval = check_choice(interval, "interval", ("step", "epoch"))
        self.activations = bool(activations)
        self.layer_types = layer_types
        self.records: list[dict[str, Any]] = []
        self._before: dict[str, np.ndarray] | None = None
        self._recorder: ActivationRecorder | None = None

    def _due(self, step: int, epoch: int, batch: int, batches: int) -> bool:
        """Whether step ``step`` (batch ``batch`` of ``batches`` in epoch ``epoch``) is recorded."""
        if self.interval == "step":
            return step % self.every == 0
        return batch == batches and epoch % self.every == 0

    def _prepare(self, trainer: TrainerView, step: int, epoch: int, batch: int) -> None:
        """Before step ``step``: keep the weights and arm the hooks if it is to be recorded."""
        assert trainer.train_loader is not None
        if self._due(step, epoch, batch, len(trainer.train_loader)):
            self._before = {n: p.data.astype(np.float64) for n, p in trainer.model.named_parameters()}
            if self._recorder is not None:
                self._recorder.arm()

    def on_train_begin(self, trainer: TrainerView) -> None:
        if self.activations and self._recorder is None:
            self._recorder = ActivationRecorder(trainer.model, self.layer_types, training=True)
        batch = getattr(trainer, "_batch_in_epoch", 0)
        self._prepare(trainer, trainer.step + 1, trainer.epoch + 1, batch + 1)

    def on_batch_end(self, trainer: TrainerView, step: int, logs: dict[str, Any]) -> None:
        assert trainer.train_loader is not None
        epoch, batch = trainer.epoch + 1, int(logs["batch"])
        if self._before is not None:
            record = {
                "step": step,
                "epoch": epoch,
                "grad_norm": grad_norms(trainer.model),
                "update_ratio": update_ratios(self._before, trainer.model),
                "activations": self._recorder.stats if self._recorder is not None else [],
            }
            self._before = None
            self.records.append(record)
            if trainer.run_dir is not None:
                append_jsonl(trainer.run_dir / "gradient_flow.jsonl", record)
        if batch == len(trainer.train_loader):
            self._prepare(trainer, step + 1, epoch + 1, 1)
        else:
            self._prepare(trainer, step + 1, epoch, batch + 1)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, Any]) -> None:
        if not self.records or self.records[-1]["epoch"] != epoch:
            return
        last = self.records[-1]
        logs.update({f"grad_norm/{k}": v for k, v in last["grad_norm"].items()})
        logs.update({f"update_ratio/{k}": v for k, v in last["update_ratio"].items()})
        for layer in last["activations"]:
            for key in ("mean", "std", "dead_frac"):
                if layer[key] is not None:
                    logs[f"{'act_' if key != 'dead_frac' else ''}{key}/{layer['layer']}"] = layer[key]

    def on_train_end(self, trainer: TrainerView) -> None:
        if self._recorder is not None:
            self._recorder.remove()
            self._recorder = None
        self._before = None
