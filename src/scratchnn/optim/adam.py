"""Adam and AdamW (Adam with decoupled weight decay), as ``torch.optim.Adam`` / ``torch.optim.AdamW``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._validate import invalid_type
from ..nn.parameter import Param
from ._foreach import foreach
from .optimizer import Optimizer, check_bool, check_positive, check_rate, check_unit, decayed_grad

__all__ = ["Adam", "AdamW", "adam_update"]


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    grad_buf: np.ndarray | None,
    tmp: np.ndarray,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
    step: int,
) -> None:
    """One Adam step on arrays, in place (``param`` and the moments), ``step`` counting from 1.

        param *= 1 - lr * weight_decay                     decoupled (AdamW)
        g = grad + weight_decay * param                    L2 (Adam);  -grad to maximize
        m = lerp(m, g, 1 - beta1)                          = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        v_max = max(v_max, v)                              amsgrad: v_max replaces v below
        param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)

    In torch's order of operations (the last line as torch computes it with ``capturable=True``,
    ``param += m / (sqrt(v) / (bc2 * -step_size) + eps / -step_size)``), so float64 trajectories
    agree to rounding. ``grad_buf`` holds g when L2 decay or maximize needs it; ``tmp`` is scratch.
    """
    if decoupled_weight_decay:
        if weight_decay:
            param *= 1 - lr * weight_decay
        weight_decay = 0.0
    g = decayed_grad(grad, param, grad_buf, weight_decay, maximize)
    np.subtract(g, exp_avg, out=tmp)
    tmp *= 1 - beta1
    exp_avg += tmp
    np.multiply(g, 1 - beta2, out=tmp)
    tmp *= g
    exp_avg_sq *= beta2
    exp_avg_sq += tmp
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        v = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    # torch's capturable form of the update: the step size folded into the denominator, one pass
    # fewer than sqrt / bc2 + eps, m / that, * -step_size, += (12 passes in all instead of 13)
    neg_step_size = -lr / (1 - beta1**step)
    if neg_step_size == 0:  # lr = 0 (a schedule's last step): the moments move, the param does not
        return
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    np.sqrt(v, out=tmp)
    scale, info = bias_correction2_sqrt * neg_step_size, np.finfo(param.dtype)
    if abs(scale) > info.tiny and abs(eps / neg_step_size) < info.max:
        tmp /= scale
        tmp += eps / neg_step_size
        np.divide(exp_avg, tmp, out=tmp)
    else:  # a tiny lr: eps / step_size would overflow the dtype (inf + 0 / 0 = NaN); the plain order underflows to 0
        tmp /= bias_correction2_sqrt
        tmp += eps
        np.divide(exp_avg, tmp, out=tmp)
        tmp *= neg_step_size
    param += tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), torch's update rule step for step (see :func:`adam_update`).

    ``weight_decay`` is an L2 term added to the gradient; with ``decoupled_weight_decay=True``
    it shrinks the weights directly instead, which is :class:`AdamW`. State per param, created at
    the first step: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq`` (amsgrad).
    Unlike torch, ``lr`` and ``weight_decay`` must be finite and ``eps`` > 0.
    """

    def __init__(
        self,
        params: Iterable[Param] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        group["lr"] = check_rate(group["lr"], "lr")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise invalid_type("betas", "a pair of floats (beta1, beta2)", betas)
        group["betas"] = tuple(check_unit(b, f"betas[{i}]") for i, b in enumerate(betas))
        group["eps"] = check_positive(group["eps"], "eps")
        group["weight_decay"] = check_rate(group["weight_decay"], "weight_decay")
        group["amsgrad"] = check_bool(group["amsgrad"], "amsgrad")
        group["maximize"] = check_bool(group["maximize"], "maximize")
        group["decoupled_weight_decay"] = check_bool(group["decoupled_weight_decay"], "decoupled_weight_decay")

    def _state_names(self, group: dict[str, Any]) -> tuple[set[str], set[str]]:
        return {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if group["amsgrad"] else set()), set()

    def _update_group(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        scalars = dict(
            lr=float(group["lr"]),
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
            maximize=group["maximize"],
        )
        needs_grad_buf = group["maximize"] or (group["weight_decay"] != 0 and not group["decoupled_weight_decay"])
        jobs = []
        for p in group["params"]:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = np.zeros_like(p.data)
            state["step"] += 1
            grad_buf = self._buffer(p, 1) if needs_grad_buf else None
            arrays = (
                p.data,
                p.grad,
                state["exp_avg"],
                state["exp_avg_sq"],
                state["max_exp_avg_sq"] if group["amsgrad"] else None,
                grad_buf,
                self._buffer(p),
            )
            jobs.append((arrays, {**scalars, "step": state["step"]}))
        foreach(adam_update, jobs)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): ``param *= 1 - lr * weight_decay``.

    :class:`Adam` with ``decoupled_weight_decay=True`` and ``weight_decay=1e-2`` by default, as torch.
    """

    def __init__(
        self,
        params: Iterable[Param] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["decoupled_weight_decay"] = True  # also when loading an Adam state_dict, as torch's AdamW
