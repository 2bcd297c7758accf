"""What every gradient-check row is made of: the row types, the tolerance, the step, kink-free inputs.

An op row names an ops pair (or a loss) and makes its inputs; a module row builds a module (float64)
and its inputs. ``check_op`` / ``check_module`` draw a random (not all-ones) upstream gradient:
``dout`` for ops and modules, ``dloss`` for losses (a scalar for 'mean'/'sum', an array for 'none').
Inputs are kept away from kinks: ReLU/LeakyReLU away from 0, hinge margins away from 0, max ties apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import nn
from ..numeric import ExactZeros

TOL = 1e-7  # worst relative error allowed, unless a row says why it needs more
# Central-difference step: the error is ~h^2 |f'''| / 6 (truncation) + eps |f| / h (rounding); h = 1e-5
# balances the two for O(1) values. At 1e-6 the rounding noise (~1e-10) reaches 1e-7 relative on the
# small gradient entries (~1e-4) that class weights with label smoothing produce.
H = 1e-5
F64 = np.float64


@dataclass
class OpRow:
    id: str
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    make: Callable[[np.random.Generator], dict[str, np.ndarray]]  # seeded rng -> the forward's arrays
    kwargs: dict[str, Any] = field(default_factory=dict)
    loss: bool = False
    tol: float = TOL
    exact_zeros: ExactZeros | None = None  # (input name, value) -> entries whose gradient is 0 by construction


@dataclass
class ModuleRow:
    id: str
    make: Callable[[np.random.Generator], tuple[nn.Module, tuple[np.ndarray, ...]]]  # rng -> (module, inputs)
    tol: float = TOL
    exact_zeros: ExactZeros | None = None  # (parameter name, value) -> entries whose gradient is 0 by construction


def away_from_zero(x: np.ndarray, gap: float = 0.05) -> np.ndarray:
    """Push values out of (-gap, gap), so no finite difference step crosses a kink at 0."""
    return np.where(x >= 0, x + gap, x - gap)


def distinct(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Values 0.1 apart in random order: no two entries of a pooling window tie (max pooling's kink)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) - n / 2).reshape(shape) * 0.1


def args(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """A module row's inputs from an op row's input dict, in order."""
    return tuple(inputs.values())


def randn(r: np.random.Generator, *shape: int) -> tuple[np.ndarray, ...]:
    """One standard-normal input of ``shape``, as a module row's input tuple."""
    return (r.standard_normal(shape),)
