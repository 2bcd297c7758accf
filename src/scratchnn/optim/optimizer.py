"""``Optimizer``: the base class of every update rule, mirroring ``torch.optim.Optimizer``.

It holds ``param_groups`` (dicts of hyperparameters plus ``'params'``) and ``state`` (per-Param
dicts of buffers and step counts), and saves both in torch's ``state_dict`` format: params are
replaced by their index in group order, so the dict fits any optimizer built over params of the
same shapes.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .._numerics import quiet_fp
from .._validate import check_float, check_iterable, invalid_shape, invalid_type, invalid_value
from ..nn.parameter import Param

__all__ = ["Optimizer", "check_bool", "check_rate", "check_positive", "check_unit", "decayed_grad"]


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


class Optimizer:
    """Base class: subclasses check hyperparameters in ``_check_group`` and update in ``_update_group``.

    ``params`` is an iterable of :class:`~scratchnn.nn.Param` or of param-group dicts
    (``{'params': [...], 'lr': 0.1}``); keys a group leaves out come from ``defaults``.
    Unlike torch, every Param is updated at each step: scratchnn gradients are zeros, never ``None``.
    Unlike torch, hyperparameters that can only produce inf or NaN (``lr=inf``, ``eps=0``, a decay
    factor of 1 or more, an lr or eps that the params' dtype cannot hold: 1e300 or 1e-50 in float32)
    are refused when the optimizer is built, and an lr a scheduler or user set since when it steps;
    each subclass says which. An update that overflows gives inf without NumPy's warnings, as in torch.
    With :func:`scratchnn.optim.set_num_threads` above 1, large params are updated in chunks on
    threads, bitwise the serial result (the updates are elementwise).
    """

    def __init__(self, params: Iterable[Param] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self._check_group(self.defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: defaultdict[Param, dict[str, Any]] = defaultdict(dict)  # {} for a param not stepped yet
        self._scratch: dict[tuple[Param, int], np.ndarray] = {}
        if isinstance(params, (Param, np.ndarray, dict)):
            raise invalid_type("params", "an iterable of Params or of param-group dicts", params)
        items = check_iterable(params, "params", "an iterable of Params or of param-group dicts")
        if not items:
            raise invalid_value("params", "a non-empty iterable of Params or param-group dicts", items)
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    # ---------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of params with its own hyperparameters (e.g. a layer to fine-tune)."""
        if not isinstance(param_group, dict):
            raise invalid_type("param_group", "a dict with a 'params' key", param_group)
        if "params" not in param_group:
            raise invalid_value("param_group", "a dict with a 'params' key", param_group)
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise invalid_type("params", "an ordered collection of Params (a set's order changes between runs)", params)
        group["params"] = (
            [params]
            if isinstance(params, Param)
            else check_iterable(params, "params", "a Param or an iterable of Params")
        )
        for p in group["params"]:
            if not isinstance(p, Param):
                raise invalid_type("params", "scratchnn.nn.Param objects", p)
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        self._check_dtype_range(group)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise invalid_value("params", "each Param once (this group lists one twice)", group["params"])
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in group["params"]):
            raise invalid_value("params", "Params that are in no other parameter group", group["params"])
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate (and normalise in place) a group's hyperparameters; subclasses override."""

    # the float hyperparameters that enter the update as numbers of the params' dtype
    _DTYPE_RANGE = ("lr", "weight_decay", "eps", "lr_decay", "initial_accumulator_value")

    def _check_dtype_range(self, group: dict[str, Any]) -> None:
        """Each float hyperparameter must be a number of the group's params' dtype: an lr of 1e300 is inf in
        float32 (and 0 * inf NaN, even for a zero gradient), an eps of 1e-50 is 0 there (0 / 0 at a zero
        gradient). torch builds such optimizers and steps to NaN."""
        for dtype in {p.data.dtype for p in group["params"]}:
            info = np.finfo(dtype)
            top, tiny = float(info.max), float(info.tiny)  # Python floats: 1e300 > np.float32(...) casts 1e300
            for name in self._DTYPE_RANGE:
                value = group.get(name)
                if value is not None and value > top:
                    raise invalid_value(name, f"a float that the params' {dtype} holds, <= {top:.4g}", value)
            eps = group.get("eps")
            if eps is not None and eps < tiny:
                raise invalid_value("eps", f"a float that the params' {dtype} holds, >= {tiny:.4g}", eps)

    # ---------------------------------------------------------------- stepping
    def zero_grad(self) -> None:
        """Reset every param's gradient to zeros (torch's ``zero_grad(set_to_none=False)``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every param from its ``.grad``; ``closure`` (re)computes the loss first and is returned."""
        loss = closure() if closure is not None else None
        for i, group in enumerate(self.param_groups):
            _check_lr(group, i)
        with quiet_fp():  # an update that overflows gives inf, as in torch, without NumPy's warnings
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_group()")

    def _buffer(self, p: Param, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like ``p`` (kept between steps; not state, never saved)."""
        buf = self._scratch.get((p, slot))
        if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
            buf = self._scratch[(p, slot)] = np.empty_like(p.data)
        return buf

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {name: array | number}}, 'param_groups': [{..., 'params': [index]}]}`` (copies)."""
        index: dict[Param, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _copy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(p, len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[p]: {k: _copy(v) for k, v in s.items()} for p, s in self.state.items() if p in index and s}
        return {"state": state, "param_groups": groups}

    _nullable_state: frozenset[str] = frozenset()  # state names that may hold None

    def _state_names(self, group: dict[str, Any]) -> tuple[set[str], set[str]] | None:
        """The names in a stepped param's state under ``group``'s hyperparameters: (required, optional).

        ``load_state_dict`` refuses a state with other names (another optimizer type's, say); None
        (this base class) skips that check. Names in ``_nullable_state`` may hold None.
        """
        return None

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a ``state_dict()`` (ours, a JSON round trip of it, or torch's converted to NumPy).

        Everything is checked before anything changes, so a load that fails leaves the optimizer
        as it was: the number and sizes of the param groups, each group's hyperparameters (all of
        this optimizer's, valid), and each param's state: the names this optimizer type keeps for
        its group's hyperparameters (an Adam state does not load into SGD; torch does not check),
        the shapes, floating dtypes (cast to the param's dtype, as torch does) and step counts.
        Hyperparameters (lr, ...) come from the dict.
        """
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or "param_groups" not in state_dict:
            raise invalid_type("state_dict", "a mapping with 'state' and 'param_groups' keys", state_dict)
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(_is_group(g) for g in saved_groups):
            raise invalid_value("state_dict['param_groups']", "a list of dicts with a 'params' list", saved_groups)
        if not isinstance(saved_state, Mapping):
            raise invalid_type("state_dict['state']", "a mapping from param index to its state", saved_state)
        if len(saved_groups) != len(self.param_groups):
            raise invalid_value(
                "len(state_dict['param_groups'])",
                f"{len(self.param_groups)}, the optimizer's number of parameter groups",
                len(saved_groups),
            )
        by_index: dict[int, tuple[Param, dict[str, Any]]] = {}  # saved index -> (param, its new group)
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            where = f"state_dict['param_groups'][{i}]"
            if len(saved["params"]) != len(group["params"]):
                raise invalid_value(
                    f"len({where}['params'])",
                    f"{len(group['params'])}, the size of the optimizer's group {i}",
                    len(saved["params"]),
                )
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                name = type(self).__name__
                expected = f"a group with all of {name}'s hyperparameters, not lacking {missing} (another optimizer's?)"
                raise invalid_value(where, expected, sorted(saved))
            new = {k: _copy(v) for k, v in saved.items() if k != "params"}
            if isinstance(new.get("betas"), list):  # a JSON round trip turns torch's tuple into a list
                new["betas"] = tuple(new["betas"])
            new["params"] = group["params"]
            self._check_group(new)
            self._check_dtype_range(new)
            new_groups.append(new)
            for k, p in zip(saved["params"], group["params"]):
                if not _is_index(k) or int(k) in by_index:
                    raise invalid_value(f"{where}['params']", "distinct int indices", saved["params"])
                by_index[int(k)] = (p, new)
        state: defaultdict[Param, dict[str, Any]] = defaultdict(dict)
        for key, saved_param_state in saved_state.items():
            k = int(key) if _is_index(key) else -1  # JSON turns the int keys into strings
            if k not in by_index:
                raise invalid_value("state_dict['state']", f"keys in [0, {len(by_index)})", key)
            p, group = by_index[k]
            state[p] = self._load_state(p, group, f"state_dict['state'][{k}]", saved_param_state)
        self.param_groups = new_groups
        self.state = state

    def _load_state(self, p: Param, group: dict[str, Any], where: str, saved: Any) -> dict[str, Any]:
        if not isinstance(saved, Mapping):
            raise invalid_type(where, "a dict of state names to arrays and numbers", saved)
        names, expected = set(saved), self._state_names(group)
        if names and expected is not None and not (expected[0] <= names <= expected[0] | expected[1]):
            required, optional = sorted(expected[0]), sorted(expected[1] - expected[0])
            also = f" and optionally {optional}" if optional else ""
            raise ValueError(
                f"Invalid value for `{where}`: expected the state {type(self).__name__} keeps with its group's "
                f"hyperparameters, keys {required}{also} (another optimizer type's state does not fit). "
                f"Received: keys {sorted(names)}"
            )
        return {name: self._load_value(p, f"{where}['{name}']", name, v) for name, v in saved.items()}

    def _load_value(self, p: Param, where: str, name: str, value: Any) -> Any:
        if name == "step":  # torch keeps it as a float tensor; a count is an int
            step = np.asarray(value)
            if step.shape != () or step.dtype.kind not in "iuf" or not (np.isfinite(step) and 0 <= step == int(step)):
                raise invalid_value(where, "a step count (an int >= 0)", value)
            return int(step)
        if value is None and name in self._nullable_state:  # torch's SGD before its first step
            return value
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise invalid_type(where, f"a floating array like the param (dtype {p.data.dtype})", value)
        if arr.shape != p.data.shape:
            raise invalid_shape(where, f"{p.data.shape} (the param's shape)", arr.shape)
        with np.errstate(over="ignore"):  # reported below, by name
            cast = arr.astype(p.data.dtype, copy=True)
        if (np.isinf(cast) & ~np.isinf(arr)).any():  # float64 values beyond float32's range
            raise invalid_value(where, f"values that the param's {p.data.dtype} holds", value)
        return cast

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


def check_rate(value: Any, name: str) -> float:
    """A finite float >= 0 (``lr``, ``weight_decay``, ``lr_decay``); torch also accepts inf and NaN."""
    return check_float(value, name, low=0.0, high=math.inf, high_open=True)


def check_positive(value: Any, name: str) -> float:
    """A finite float > 0 (``eps``: with 0 a zero denominator gives 0/0 = NaN; torch accepts 0)."""
    return check_float(value, name, low=0.0, low_open=True, high=math.inf, high_open=True)


def check_unit(value: Any, name: str) -> float:
    """A float in [0, 1): a running average's decay (``momentum``, ``alpha``, ``betas``), as torch's ``betas``."""
    return check_float(value, name, low=0.0, high=1.0, high_open=True)


def check_bool(value: Any, name: str) -> bool:
    """A flag (``amsgrad``, ``nesterov``, ``maximize``, ...); returns it as a Python bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise invalid_type(name, "a bool", value)
    return bool(value)


def decayed_grad(
    grad: np.ndarray, param: np.ndarray, out: np.ndarray | None, weight_decay: float, maximize: bool
) -> np.ndarray:
    """The gradient a step follows: ``-grad`` to maximize, plus ``weight_decay * param`` (L2), into ``out``.

    Returns ``grad`` itself when neither applies (``out`` may then be None); ``grad`` is never written.
    """
    if weight_decay:
        assert out is not None
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(out, grad, out=out)
        return out
    if maximize:
        assert out is not None
        return np.negative(grad, out=out)
    return grad


def _check_lr(group: dict[str, Any], i: int) -> None:
    """The lr a step uses, which a scheduler or the user may have set since the group was checked."""
    lr = group["lr"]
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise invalid_type(f"param_groups[{i}]['lr']", "a float >= 0", lr)
    limit = min((float(np.finfo(p.data.dtype).max) for p in group["params"]), default=math.inf)
    if not 0 <= float(lr) <= limit:  # NaN too
        raise invalid_value(
            f"param_groups[{i}]['lr']", f"a float in [0, {limit:.4g}] (finite in the params' dtype)", lr
        )


def _is_index(key: Any) -> bool:
    """An int, or the string of one (JSON's object keys)."""
    if isinstance(key, str):
        return key.isdigit()
    return isinstance(key, (int, np.integer)) and not isinstance(key, bool) and bool(key >= 0)


def _is_group(group: Any) -> bool:
    return isinstance(group, Mapping) and isinstance(group.get("params"), (list, tuple))
