"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients, as ``torch.optim.Adagrad``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..nn.parameter import Param
from ._foreach import foreach
from .optimizer import Optimizer, check_bool, check_positive, check_rate, decayed_grad

__all__ = ["Adagrad", "adagrad_update"]


def adagrad_update(
    param: np.ndarray,
    grad: np.ndarray,
    state_sum: np.ndarray,
    grad_buf: np.ndarray | None,
    tmp: np.ndarray,
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
    step: int,
) -> None:
    """One Adagrad step on arrays, in place (``param``, ``state_sum``), ``step`` counting from 1.

    g = grad + weight_decay * param     (-grad to maximize)
    sum += g * g
    param -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(sum) + eps)
    """
    g = decayed_grad(grad, param, grad_buf, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    np.multiply(g, g, out=tmp)
    state_sum += tmp
    np.sqrt(state_sum, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    tmp *= -clr
    param += tmp


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), torch's update rule step for step (see :func:`adagrad_update`).

    State per param, created here as in torch: ``step`` (int) and ``sum`` (filled with
    ``initial_accumulator_value``). Unlike torch, ``lr``, ``lr_decay``, ``weight_decay`` and
    ``initial_accumulator_value`` must be finite and ``eps`` > 0.
    """

    def __init__(
        self,
        params: Iterable[Param] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _check_group(self, group: dict[str, Any]) -> None:
        group["lr"] = check_rate(group["lr"], "lr")
        group["lr_decay"] = check_rate(group["lr_decay"], "lr_decay")
        group["weight_decay"] = check_rate(group["weight_decay"], "weight_decay")
        group["initial_accumulator_value"] = check_rate(group["initial_accumulator_value"], "initial_accumulator_value")
        group["eps"] = check_positive(group["eps"], "eps")
        group["maximize"] = check_bool(group["maximize"], "maximize")

    def _state_names(self, group: dict[str, Any]) -> tuple[set[str], set[str]]:
        return {"step", "sum"}, set()

    def _init_state(self, p: Param, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p] = {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}
        return state

    def _update_group(self, group: dict[str, Any]) -> None:
        scalars = {k: group[k] for k in ("lr_decay", "weight_decay", "eps", "maximize")}
        scalars["lr"] = float(group["lr"])
        needs_grad_buf = group["weight_decay"] != 0 or group["maximize"]
        jobs = []
        for p in group["params"]:
            state = self.state.get(p) or self._init_state(p, group)  # a group added after construction
            state["step"] += 1
            grad_buf = self._buffer(p, 1) if needs_grad_buf else None
            jobs.append(((p.data, p.grad, state["sum"], grad_buf, self._buffer(p)), {**scalars, "step": state["step"]}))
        foreach(adagrad_update, jobs)
