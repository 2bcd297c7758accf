"""``Solver``: the CS231n/CS182 course's training class, as a thin adapter over :class:`Trainer`.

    solver = Solver(model, data, update_rule="sgd_momentum", optim_config={"learning_rate": 1e-2},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100)
    solver.train()
    solver.loss_history, solver.train_acc_history, solver.val_acc_history, solver.best_val_acc

Differences from the course, each on purpose: an epoch visits every training sample once in a new
random order (shuffled batches *without* replacement; the course draws each batch with
replacement and counts ``N // batch_size`` iterations per epoch, here there are
``ceil(N / batch_size)``); accuracy subsamples are drawn without replacement; the update rules are
:mod:`scratchnn.optim`'s, which match the course's formulas (``sgd_momentum`` keeps torch's
velocity, which differs from the course's only while the learning rate changes); checkpoints are
safetensors + JSON files, not pickles.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from .._config import get_rng
from .._validate import check_float, check_int, invalid_type, invalid_value
from ..nn.module import Module
from ..nn.parameter import Param
from ..serialization import save
from .callbacks import Callback, TrainerView
from .steps import batched_scores, eval_mode
from .trainer import Trainer

__all__ = ["Solver"]

# course update rule -> (optimizer class name, {course optim_config key: (torch argument, course default)})
_COURSE_RULES: dict[str, tuple[str, dict[str, tuple[str, float]]]] = {
    "sgd": ("SGD", {"learning_rate": ("lr", 1e-2)}),
    "sgd_momentum": ("SGD", {"learning_rate": ("lr", 1e-2), "momentum": ("momentum", 0.9)}),
    "rmsprop": ("RMSprop", {"learning_rate": ("lr", 1e-2), "decay_rate": ("alpha", 0.99), "epsilon": ("eps", 1e-8)}),
    "adam": (
        "Adam",
        {"learning_rate": ("lr", 1e-3), "beta1": ("beta1", 0.9), "beta2": ("beta2", 0.999), "epsilon": ("eps", 1e-8)},
    ),
}
_OURS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}
_RENAME = {"learning_rate": "lr", "epsilon": "eps", "decay_rate": "alpha"}


def _make_optimizer(update_rule: str, config: dict[str, Any], params: list[Param]) -> optim.Optimizer:
    if not isinstance(update_rule, str):
        raise invalid_type("update_rule", "a str such as 'sgd', 'sgd_momentum', 'rmsprop', 'adam'", update_rule)
    kwargs: dict[str, Any]
    if update_rule in _COURSE_RULES:
        cls_name, keys = _COURSE_RULES[update_rule]
        unknown = sorted(set(config) - set(keys))
        if unknown:
            raise invalid_value("optim_config", f"keys among {sorted(keys)} for update_rule={update_rule!r}", unknown)
        kwargs = {arg: float(config.get(key, default)) for key, (arg, default) in keys.items()}
    elif update_rule.lower() in _OURS:
        cls_name = _OURS[update_rule.lower()]
        kwargs = {_RENAME.get(k, k): v for k, v in config.items()}
    else:
        raise invalid_value(
            "update_rule", "one of " + ", ".join(repr(r) for r in [*_COURSE_RULES, *_OURS.values()]), update_rule
        )
    if "beta1" in kwargs or "beta2" in kwargs:
        kwargs["betas"] = (float(kwargs.pop("beta1", 0.9)), float(kwargs.pop("beta2", 0.999)))
    optimizer: optim.Optimizer = getattr(optim, cls_name)(params, **kwargs)
    return optimizer


def _optional_count(value: Any, name: str) -> int | None:
    return None if value is None else check_int(value, name, low=1)


class _CourseModel(Module):
    """A course-style model (``params`` dict + ``loss``) seen as a Module whose Params share its arrays."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        object.__setattr__(self, "inner", model)
        for name in list(model.params):
            self._parameters[name] = Param(model.params[name])
        self._sync()

    def _sync(self) -> None:  # an optimizer may rebind p.data; the course model must see the new array
        for name, p in self._parameters.items():
            if self.inner.params[name] is not p.data:
                self.inner.params[name] = p.data

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        self._sync()
        return self.inner.loss(X, y)


class _SolverCallback(Callback):
    def __init__(self, solver: Solver) -> None:
        self.solver = solver

    def on_batch_end(self, trainer: TrainerView, step: int, logs: dict[str, Any]) -> None:
        s = self.solver
        s.loss_history.append(logs["loss"])
        if s.verbose and (step - 1) % s.print_every == 0:
            print(f"(Iteration {step} / {s.num_iterations}) loss: {logs['loss']:f}")
        assert trainer.train_loader is not None
        if step == 1 and len(trainer.train_loader) > 1:  # the course also checks after the first iteration
            s._record_accuracies()

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, Any]) -> None:
        self.solver.epoch = epoch
        self.solver._record_accuracies()


class Solver:
    """Train a classification model the course's way (see the module docstring for the differences).

    Args:
        model: a scratchnn model or any course model with ``params`` (name -> array) and
            ``loss(X, y=None)`` returning scores, or ``(loss, grads)`` keyed like ``params``.
        data: dict with ``X_train``, ``y_train``, ``X_val``, ``y_val``.
        update_rule: 'sgd', 'sgd_momentum', 'rmsprop', 'adam' (course ``optim_config`` keys
            learning_rate, momentum, decay_rate, beta1, beta2, epsilon) or a scratchnn.optim name
            ('SGD', 'Adagrad', 'RMSprop', 'Adam', 'AdamW', with their torch arguments).
        optim_config: the update rule's hyperparameters.
        lr_decay: learning-rate factor applied after each epoch.
        batch_size, num_epochs: as in the course.
        num_train_samples: training samples the train accuracy is measured on (None: all).
        num_val_samples: validation samples the val accuracy is measured on (None: all).
        checkpoint_name: if set, ``<name>_epoch_<k>.safetensors`` (+ ``.json``) after each check.
        print_every: print the loss every this many iterations; verbose: print at all.
        rng: generator for shuffling and accuracy subsamples (not a course option).
    """

    def __init__(self, model: Any, data: dict[str, np.ndarray], **kwargs: Any) -> None:
        self.model = model
        for key in ("X_train", "y_train", "X_val", "y_val"):
            if key not in data:
                raise invalid_value("data", "a dict with keys X_train, y_train, X_val, y_val", sorted(data))
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = dict(kwargs.pop("optim_config", {}))
        self.lr_decay = check_float(kwargs.pop("lr_decay", 1.0), "lr_decay", low=0.0, low_open=True)
        self.batch_size = check_int(kwargs.pop("batch_size", 100), "batch_size", low=1)
        self.num_epochs = check_int(kwargs.pop("num_epochs", 10), "num_epochs", low=0)
        self.num_train_samples = _optional_count(kwargs.pop("num_train_samples", 1000), "num_train_samples")
        self.num_val_samples = _optional_count(kwargs.pop("num_val_samples", None), "num_val_samples")
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = check_int(kwargs.pop("print_every", 10), "print_every", low=1)
        self.verbose = bool(kwargs.pop("verbose", True))
        self.rng = get_rng(kwargs.pop("rng", None))
        if kwargs:
            raise ValueError(f"Unrecognized arguments {', '.join(sorted(kwargs))}")
        if not isinstance(model, Module) and not (hasattr(model, "params") and callable(getattr(model, "loss", None))):
            raise invalid_type("model", "a scratchnn Module or a course model with .params and .loss(X, y)", model)
        self.module = model if isinstance(model, Module) else _CourseModel(model)
        self.trainer: Trainer | None = None
        self._reset()

    def _reset(self) -> None:
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []

    @property
    def num_iterations(self) -> int:
        return self.num_epochs * math.ceil(len(self.X_train) / self.batch_size)

    def train(self) -> None:
        """Run the optimization; afterwards the model holds the params of the best validation accuracy."""
        self._check_checkpoint_files()
        params = list(self.module.parameters())
        optimizer = _make_optimizer(self.update_rule, self.optim_config, params)
        scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.lr_decay) if self.lr_decay != 1 else None
        self.trainer = Trainer(
            self.module,
            None,
            optimizer,
            scheduler=scheduler,
            batch_size=self.batch_size,
            epochs=self.num_epochs,
            callbacks=[_SolverCallback(self)],
            verbose=False,
            rng=self.rng,
            metrics=(),
        )
        self.trainer.fit(self.X_train, self.y_train)
        if self.best_params:
            for name, p in self.module.named_parameters():
                p.data[...] = self.best_params[name]
        if isinstance(self.module, _CourseModel):
            self.module._sync()

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Accuracy of the model on ``(X, y)``, or on ``num_samples`` of them drawn at random."""
        num_samples = _optional_count(num_samples, "num_samples")
        if num_samples is not None and len(X) > num_samples:
            idx = self.rng.choice(len(X), num_samples, replace=False)
            X, y = X[idx], y[idx]
        with eval_mode(self.module):
            scores = batched_scores(self.module, None, X, check_int(batch_size, "batch_size", low=1))
        return float(np.mean(np.argmax(scores, axis=1) == y))

    def _record_accuracies(self) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()
        if self.verbose:
            print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {name: p.data.copy() for name, p in self.module.named_parameters()}

    def _checkpoint_path(self, epoch: int) -> Path:
        return Path(f"{self.checkpoint_name}_epoch_{epoch}.safetensors")

    def _check_checkpoint_files(self) -> None:
        if self.checkpoint_name is None:
            return
        for epoch in range(self.num_epochs + 1):
            for path in (self._checkpoint_path(epoch), self._checkpoint_path(epoch).with_suffix(".json")):
                if path.exists():
                    raise FileExistsError(
                        f"{path} exists; the Solver does not overwrite checkpoints: choose another checkpoint_name"
                    )

    def _save_checkpoint(self) -> None:
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": {name: p.data for name, p in self.module.named_parameters()},
            "update_rule": self.update_rule,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        save(checkpoint, self._checkpoint_path(self.epoch))
