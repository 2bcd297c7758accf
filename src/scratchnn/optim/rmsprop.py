"""RMSprop: steps scaled by a running root mean square of the gradient, as ``torch.optim.RMSprop``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..nn.parameter import Param
from ._foreach import foreach
from .optimizer import Optimizer, check_bool, check_positive, check_rate, check_unit, decayed_grad

__all__ = ["RMSprop", "rmsprop_update"]


def rmsprop_update(
    param: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    grad_avg: np.ndarray | None,
    momentum_buffer: np.ndarray | None,
    grad_buf: np.ndarray | None,
    tmp: np.ndarray,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    maximize: bool,
) -> None:
    """One RMSprop step on arrays, in place (``param`` and the state arrays that are not None).

    g = grad + weight_decay * param                 (-grad to maximize)
    square_avg = alpha * square_avg + (1 - alpha) * g^2
    grad_avg = lerp(grad_avg, g, 1 - alpha)         centered only
    avg = sqrt(max(square_avg - grad_avg^2, 0)) + eps   centered (torch: no max, NaN when rounding
                                                         makes the variance negative);  sqrt(square_avg) + eps otherwise
    b = momentum * b + g / avg;  param -= lr * b    with momentum (b starts at zeros)
    param -= lr * g / avg                           without
    """
    g = decayed_grad(grad, param, grad_buf, weight_decay, maximize)
    np.multiply(g, 1 - alpha, out=tmp)
    tmp *= g
    square_avg *= alpha
    square_avg += tmp
    if grad_avg is not None:
        np.subtract(g, grad_avg, out=tmp)
        tmp *= 1 - alpha
        grad_avg += tmp
        np.multiply(grad_avg, grad_avg, out=tmp)
        np.subtract(square_avg, tmp, out=tmp)
        np.maximum(tmp, 0, out=tmp)  # a variance, >= 0 but for rounding: torch takes the root of -1e-9 (NaN)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(square_avg, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += tmp
        np.multiply(momentum_buffer, -lr, out=tmp)
    else:
        tmp *= -lr
    param += tmp


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; Graves' centered form), torch's update rule step for step.

    See :func:`rmsprop_update`. State per param, created at the first step: ``step`` (int),
    ``square_avg``, ``momentum_buffer`` (momentum > 0) and ``grad_avg`` (centered).
    Unlike torch, ``lr`` and ``weight_decay`` must be finite, ``alpha`` and ``momentum`` in [0, 1), ``eps`` > 0,
    and the centered variance is clipped at 0 (rounding can make it negative, which gives torch NaN).
    """

    def __init__(
        self,
        params: Iterable[Param] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        group["lr"] = check_rate(group["lr"], "lr")
        group["momentum"] = check_unit(group["momentum"], "momentum")
        group["alpha"] = check_unit(group["alpha"], "alpha")
        group["eps"] = check_positive(group["eps"], "eps")
        group["weight_decay"] = check_rate(group["weight_decay"], "weight_decay")
        group["centered"] = check_bool(group["centered"], "centered")
        group["maximize"] = check_bool(group["maximize"], "maximize")

    def _state_names(self, group: dict[str, Any]) -> tuple[set[str], set[str]]:
        names = {"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] > 0 else set())
        return names | ({"grad_avg"} if group["centered"] else set()), set()

    def _update_group(self, group: dict[str, Any]) -> None:
        scalars = {k: group[k] for k in ("alpha", "eps", "weight_decay", "momentum", "maximize")}
        scalars["lr"] = float(group["lr"])
        needs_grad_buf = group["weight_decay"] != 0 or group["maximize"]
        jobs = []
        for p in group["params"]:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p.data)
                if group["momentum"] > 0:
                    state["momentum_buffer"] = np.zeros_like(p.data)
                if group["centered"]:
                    state["grad_avg"] = np.zeros_like(p.data)
            state["step"] += 1
            grad_buf = self._buffer(p, 1) if needs_grad_buf else None
            arrays = (
                p.data,
                p.grad,
                state["square_avg"],
                state["grad_avg"] if group["centered"] else None,
                state["momentum_buffer"] if group["momentum"] > 0 else None,
                grad_buf,
                self._buffer(p),
            )
            jobs.append((arrays, scalars))
        foreach(rmsprop_update, jobs)
