"""Numerical gradient checks: the course helpers, ``check_op`` / ``check_module``, and the table of every op and module.

- :mod:`.numeric`: central differences (``eval_numerical_gradient``, ``eval_numerical_gradient_array``,
  ``rel_error``, the course names) and ``check_op`` / ``check_module``, which return the worst relative
  error per argument, and ``split_forward`` (an op's outputs and cache, one output or several);
- :mod:`.rows`: one row per op and per module, by area (dense, spatial, norm, ...);
- :mod:`.table`: runs every row and prints the table (`scratchnn gradcheck`).
"""

from .numeric import (
    check_module,
    check_op,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
    split_forward,
)

__all__ = [
    "rel_error",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "check_op",
    "check_module",
    "split_forward",
]
