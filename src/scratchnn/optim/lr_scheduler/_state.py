"""Checks of a scheduler's saved state, entry by entry, as its constructor checks the same values.

``load_state_dict`` used to set whatever it was given, so a state edited by hand (or another scheduler's)
failed later inside ``step()`` with Python's own errors ("unsupported operand type(s) for +=: 'dict' and
'int'"). Each entry now passes the check of its key before anything is set (a failed load changes
nothing); keys without a check here are copied as they are.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from ..._validate import check_choice, check_float, check_int, check_iterable, invalid_type, invalid_value

Check = Callable[[Any, str, int], Any]  # (value, name for messages, number of param groups) -> the value to set


def _int(low: int) -> Check:
    return lambda v, where, n: check_int(v, where, low=low)


def _float(low: float | None = 0.0, high: float | None = None, *, finite: bool = True, **kw: Any) -> Check:
    return lambda v, where, n: check_float(v, where, low=low, high=high, finite=finite, **kw)


def _lrs(v: Any, where: str, n: int) -> list[float]:
    """One finite float >= 0 per param group."""
    values = check_iterable(v, where, f"a list of {n} lrs, one per param group")
    if len(values) != n:
        raise invalid_value(where, f"a list of {n} lrs, one per param group", v)
    return [check_float(x, f"{where}[i]", low=0.0, finite=True) for x in values]


def _milestones(v: Any, where: str, n: int) -> Any:
    """A list of epochs, or torch's Counter {epoch: times}."""
    if isinstance(v, Mapping):
        return {check_int(k, f"{where} key", low=0): check_int(c, f"{where}[epoch]", low=1) for k, c in v.items()}
    return [check_int(m, f"{where}[i]", low=0) for m in check_iterable(v, where, "a list of epochs (ints)")]


def _sorted_epochs(v: Any, where: str, n: int) -> list[int]:
    epochs = _milestones(v, where, n)
    if isinstance(epochs, dict) or epochs != sorted(epochs):
        raise invalid_value(where, "a list of epochs in increasing order", v)
    return epochs


def _optional_rate(v: Any, where: str, n: int) -> float | None:
    return None if v is None else check_float(v, where, low=0.0, finite=True)


def _metric(v: Any, where: str, n: int) -> float:
    """The best metric so far: any number, inf before the first epoch."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise invalid_type(where, "a number (the best metric so far)", v)
    return float(v)


def _worse(v: Any, where: str, n: int) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or v not in (math.inf, -math.inf):
        raise invalid_value(where, "inf or -inf", v)
    return float(v)


CHECKS: dict[str, Check] = {
    "last_epoch": _int(-1),
    "_step_count": _int(0),
    "base_lrs": _lrs,
    "_last_lr": _lrs,
    "min_lrs": _lrs,
    "step_size": _int(1),
    "gamma": _float(),
    "milestones": _milestones,
    "_milestones": _sorted_epochs,
    "start_factor": _float(0.0, 1.0, low_open=True),
    "end_factor": _float(0.0, 1.0),
    "total_iters": _int(1),
    "T_max": _int(1),
    "eta_min": _float(),
    "factor": _float(0.0, 1.0, high_open=True),
    "default_min_lr": _optional_rate,
    "patience": _int(0),
    "cooldown": _int(0),
    "cooldown_counter": _int(0),
    "num_bad_epochs": _int(0),
    "eps": _float(finite=False),
    "threshold": _float(finite=False),
    "mode": lambda v, where, n: check_choice(v, where, ("min", "max")),
    "threshold_mode": lambda v, where, n: check_choice(v, where, ("rel", "abs")),
    "mode_worse": _worse,
    "best": _metric,
}


def checked_state(state_dict: Any, keys: tuple[str, ...], owner: str, n_groups: int) -> dict[str, Any]:
    """The entries ``keys`` of ``state_dict``, each checked (and copied); the template error for the first bad one."""
    if not isinstance(state_dict, Mapping):
        raise invalid_type("state_dict", f"a mapping from {owner}.state_dict()", state_dict)
    missing = [key for key in keys if key not in state_dict]
    if missing:
        raise invalid_value("state_dict", f"a {owner} state_dict with keys {missing}", sorted(state_dict))
    out = {}
    for key in keys:
        value = copy.deepcopy(state_dict[key])
        check = CHECKS.get(key)
        out[key] = value if check is None else check(value, f"state_dict['{key}']", n_groups)
    return out
