"""SGD with momentum (heavy ball or Nesterov), dampening and L2 weight decay, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._validate import check_float, invalid_value
from ..nn.parameter import Param
from ._foreach import foreach
from .optimizer import Optimizer, check_bool, check_rate, check_unit, decayed_grad

__all__ = ["SGD", "sgd_update"]


def sgd_update(
    param: np.ndarray,
    grad: np.ndarray,
    momentum_buffer: np.ndarray | None,
    grad_buf: np.ndarray | None,
    tmp: np.ndarray,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    first: bool,
) -> None:
    """One SGD step on arrays, in place (``param``, ``momentum_buffer``; ``grad`` is only read).

        g = grad + weight_decay * param              (-grad to maximize)
        b = g                     on the first step  (no dampening: torch's rule)
        b = momentum * b + (1 - dampening) * g       afterwards
        param -= lr * (g + momentum * b)             Nesterov
        param -= lr * b                              heavy ball;  param -= lr * g without momentum

    ``grad_buf`` holds g when weight decay or maximize needs it; ``tmp`` is scratch.
    """
    d_p = decayed_grad(grad, param, grad_buf, weight_decay, maximize)
    if momentum_buffer is not None:
        if first:
            np.copyto(momentum_buffer, d_p)
        else:
            momentum_buffer *= momentum
            if dampening:
                np.multiply(d_p, 1 - dampening, out=tmp)
                momentum_buffer += tmp
            else:
                momentum_buffer += d_p
        if nesterov:
            np.multiply(momentum_buffer, momentum, out=tmp)
            d_p = np.add(tmp, d_p, out=tmp)
        else:
            d_p = momentum_buffer
    np.multiply(d_p, -lr, out=tmp)
    param += tmp


class SGD(Optimizer):
    """Stochastic gradient descent, torch's update rule step for step (see :func:`sgd_update`).

    Vanilla SGD is ``momentum=0``; ``nesterov=True`` needs ``momentum > 0`` and ``dampening == 0``.
    State per param: ``momentum_buffer`` (only with momentum, created on the first step).
    Unlike torch, ``lr`` and ``weight_decay`` must be finite, ``momentum`` in [0, 1) and ``dampening`` in [0, 1].
    """

    def __init__(
        self,
        params: Iterable[Param] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        group["lr"] = check_rate(group["lr"], "lr")
        group["momentum"] = check_unit(group["momentum"], "momentum")
        group["dampening"] = check_float(group["dampening"], "dampening", low=0.0, high=1.0)
        group["weight_decay"] = check_rate(group["weight_decay"], "weight_decay")
        group["nesterov"] = check_bool(group["nesterov"], "nesterov")
        group["maximize"] = check_bool(group["maximize"], "maximize")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise invalid_value(
                "nesterov", "False unless momentum > 0 and dampening == 0 (Nesterov momentum)", group["nesterov"]
            )

    _nullable_state = frozenset({"momentum_buffer"})  # torch's SGD state before the first step

    def _state_names(self, group: dict[str, Any]) -> tuple[set[str], set[str]]:
        return ({"momentum_buffer"} if group["momentum"] != 0 else set()), {"momentum_buffer"}

    def _update_group(self, group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        scalars = {k: group[k] for k in ("momentum", "dampening", "weight_decay", "nesterov", "maximize")}
        scalars["lr"] = float(group["lr"])  # a scheduler or user may have set a NumPy scalar: keep float32 float32
        needs_grad_buf = group["weight_decay"] != 0 or group["maximize"]
        jobs = []
        for p in group["params"]:
            buf, first = None, False
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.empty_like(p.data)
                    first = True
            grad_buf = self._buffer(p, 1) if needs_grad_buf else None
            jobs.append(((p.data, p.grad, buf, grad_buf, self._buffer(p)), {**scalars, "first": first}))
        foreach(sgd_update, jobs)
