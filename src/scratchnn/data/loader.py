"""``DataLoader``: mini-batches over arrays, a fresh permutation per epoch, resumable mid-epoch."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import check_int, invalid_shape, invalid_type, invalid_value

_STATE_KEYS = ("epoch", "batches_yielded", "num_samples", "batch_size", "shuffle", "drop_last")


class DataLoader:
    """Iterate over ``(xb, yb)`` mini-batches of ``X`` and ``y`` (or ``xb`` alone when ``y`` is None).

    With ``shuffle=True`` every epoch visits the samples in a new random order, each sample exactly
    once (a permutation, i.e. sampling *without* replacement; the course's ``Solver`` samples with
    replacement). Each ``iter(loader)`` starts an epoch; the last batch is smaller unless
    ``drop_last``. Batches keep ``X``'s and ``y``'s dtypes; without shuffling they are views of ``X``
    and ``y`` (slices), with shuffling copies (fancy indexing). ``len(loader)`` is the number of
    batches per epoch.

    Exact resume. ``state_dict()`` records the epoch count, how many batches of the current epoch
    were yielded, the generator's state *just before* this epoch's permutation was drawn, and the
    generator's state now. ``load_state_dict()`` restores the generator's current state and arms a
    resume: the next ``iter(loader)`` redraws the same permutation from a private copy of the saved
    epoch-start state (the live generator is not touched) and yields only the batches not yet
    yielded; the iteration after that starts a new epoch as usual. So training N steps, saving,
    loading into a fresh loader and continuing yields exactly the batches of an uninterrupted run.
    One iteration at a time is assumed: the state describes the most recently started epoch.

    Args:
        X: samples along the first axis, any dtype (float images, int token ids, ...).
        y: targets with the same first-axis length, or None.
        batch_size: samples per batch (>= 1).
        shuffle: draw a new permutation each epoch.
        drop_last: drop the final incomplete batch.
        rng: generator for the permutations; None uses scratchnn's default generator
            (:func:`scratchnn.manual_seed`), looked up at each epoch.

    Shape:
        X: (N, *);  y: (N, *);  xb: (B, *), yb: (B, *) with B = batch_size (smaller in the last batch)
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray | None = None,
        batch_size: int = 64,
        shuffle: bool = False,
        drop_last: bool = False,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(X, np.ndarray):
            raise invalid_type("X", "a numpy.ndarray", X)
        if X.ndim < 1 or len(X) < 1:
            raise invalid_shape("X", "(N, *) with N >= 1 samples", X.shape)
        if y is not None:
            if not isinstance(y, np.ndarray):
                raise invalid_type("y", "a numpy.ndarray or None", y)
            if y.ndim < 1 or len(y) != len(X):
                raise invalid_shape("y", f"({len(X)}, *) to match X's {len(X)} samples", y.shape)
        batch_size = check_int(batch_size, "batch_size", low=1)
        for flag, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise invalid_type(flag, "a bool", value)
        if drop_last and batch_size > len(X):
            raise invalid_value(
                "batch_size", f"at most {len(X)} (the number of samples) when drop_last=True", batch_size
            )
        if rng is not None:
            get_rng(rng)  # type check only: None must stay None so manual_seed() later still applies
        self.X = X
        self.y = y
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = rng
        self.epoch = 0  # epochs started so far
        self._batches_yielded = 0  # batches of the current epoch handed out so far
        self._epoch_rng_state: dict[str, Any] | None = None  # generator state before this epoch's permutation
        self._resume = False  # set by load_state_dict: the next iteration continues the saved epoch

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[Any]:
        if self._resume and self.epoch > 0 and self._batches_yielded < len(self):
            start, order = self._batches_yielded, self._replay_order()
        else:
            start, order = 0, self._new_epoch()
        self._resume = False
        return self._generate(order, start)

    def _new_epoch(self) -> np.ndarray | None:
        self.epoch += 1
        self._batches_yielded = 0
        if not self.shuffle:
            self._epoch_rng_state = None
            return None
        rng = get_rng(self.rng)
        self._epoch_rng_state = dict(copy.deepcopy(rng.bit_generator.state))
        return rng.permutation(len(self.X))

    def _replay_order(self) -> np.ndarray | None:
        if not self.shuffle:
            return None
        state = self._epoch_rng_state
        assert state is not None  # load_state_dict guarantees it for a shuffled loader mid-epoch
        bit_generator = getattr(np.random, state["bit_generator"])()  # a kind _rng_state checked
        bit_generator.state = state
        return np.random.Generator(bit_generator).permutation(len(self.X))

    def _generate(self, order: np.ndarray | None, start: int) -> Iterator[Any]:
        n, b = len(self.X), self.batch_size
        for i in range(start, len(self)):
            lo, hi = i * b, min((i + 1) * b, n)
            idx = slice(lo, hi) if order is None else order[lo:hi]
            self._batches_yielded = i + 1  # counted when handed out: a checkpoint taken now resumes after it
            xb = self.X[idx]  # (N, *) -> (B, *)
            yield xb if self.y is None else (xb, self.y[idx])

    def state_dict(self) -> dict[str, Any]:
        """Where iteration stands (JSON-serialisable for the default PCG64 generator); see the class doc."""
        state: dict[str, Any] = {
            "epoch": self.epoch,
            "batches_yielded": self._batches_yielded,
            "num_samples": len(self.X),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            "epoch_rng_state": copy.deepcopy(self._epoch_rng_state),
            "rng_state": copy.deepcopy(get_rng(self.rng).bit_generator.state) if self.shuffle else None,
        }
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the next iteration resumes the saved epoch where it stopped.

        Restores the generator's state too (for ``rng=None`` that is scratchnn's default generator,
        which the trainer's checkpoint also restores to the same value).

        Raises:
            ValueError: a key is missing, or the state belongs to a loader with another number of
                samples, batch size, shuffle or drop_last.
        """
        if not isinstance(state_dict, dict):
            raise invalid_type("state_dict", "a dict from DataLoader.state_dict()", state_dict)
        missing = [k for k in (*_STATE_KEYS, "epoch_rng_state", "rng_state") if k not in state_dict]
        if missing:
            raise invalid_value("state_dict", f"a DataLoader.state_dict() with the keys {missing}", sorted(state_dict))
        mine = {"num_samples": len(self.X), "batch_size": self.batch_size, "shuffle": self.shuffle,
                "drop_last": self.drop_last}  # fmt: skip
        theirs = {k: state_dict[k] for k in mine}
        if not all(isinstance(theirs[k], (int, np.integer)) and theirs[k] == v for k, v in mine.items()):
            raise invalid_value("state_dict", f"the state of a loader with {mine} (this one)", theirs)
        epoch = check_int(state_dict["epoch"], "state_dict['epoch']", low=0)
        done = check_int(state_dict["batches_yielded"], "state_dict['batches_yielded']", low=0, high=len(self))
        epoch_state = _rng_state(state_dict["epoch_rng_state"], "state_dict['epoch_rng_state']")
        rng_state = _rng_state(state_dict["rng_state"], "state_dict['rng_state']")
        if self.shuffle and epoch > 0 and (epoch_state is None or rng_state is None):
            raise invalid_value("state_dict", "both rng states for a shuffled loader", "None for one of them")
        if self.shuffle and rng_state is not None:
            get_rng(self.rng).bit_generator.state = rng_state  # checked by _rng_state: cannot fail halfway
        self.epoch = epoch
        self._batches_yielded = done
        self._epoch_rng_state = epoch_state
        self._resume = True


def _rng_state(state: Any, name: str) -> dict[str, Any] | None:
    """None, or a NumPy bit generator's state (the dict ``bit_generator.state`` gives), checked by loading it
    into a fresh generator of its kind: a junk state is the template error, never NumPy's own."""
    if state is None:
        return None
    expected = "None or a NumPy bit generator's state (a dict with 'bit_generator' and 'state')"
    if not isinstance(state, dict):
        raise invalid_type(name, expected, state)
    cls = getattr(np.random, str(state.get("bit_generator")), None)
    if not (isinstance(cls, type) and issubclass(cls, np.random.BitGenerator)):
        raise invalid_value(name, expected, state)
    try:
        cls().state = copy.deepcopy(state)
    except (TypeError, ValueError, KeyError, OverflowError):
        raise invalid_value(name, expected, state) from None
    return copy.deepcopy(state)
