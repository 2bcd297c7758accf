"""``ThreeLayerConvNet``: the course's conv - relu - 2x2 max pool - affine - relu - affine - softmax network.

Built directly from the ops (as the course builds it), with parameters W1, b1, W2, b2, W3, b3 in the
course layouts. It keeps the course contract (``params``, ``loss(X, y)``) and is a scratchnn Module
(``forward`` / ``backward`` accumulating into ``Param.grad``). The configurable Fashion-MNIST network
built from ``nn`` modules is :class:`~scratchnn.models.ConvNet` (models/convnet.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import (
    check_array,
    check_float,
    check_float_dtype,
    check_int,
    check_labels,
    invalid_shape,
    invalid_type,
    invalid_value,
)
from ..nn import init
from ..nn.module import Module
from ..nn.parameter import Param, new_array
from ..ops.activations import relu_backward, relu_forward
from ..ops.affine import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward
from ..ops.conv import conv_backward, conv_forward
from ..ops.losses import softmax_loss
from ..ops.pool import max_pool_backward, max_pool_forward
from .fc_net import ParamDict

__all__ = ["ThreeLayerConvNet"]


class ThreeLayerConvNet(Module):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax, with the course's constructor.

    The convolution has stride 1 and zero padding (filter_size - 1) // 2, so an odd filter keeps
    H x W; the pool halves it (floor). All weights are drawn from N(0, weight_scale^2), biases are zero.

    Args:
        input_dim: (C, H, W) of one input image.
        num_filters: F, the number of convolution filters.
        filter_size: HH = WW, the filters' height and width.
        hidden_dim: H, the size of the hidden affine layer.
        num_classes: number of classes.
        weight_scale: std of the weight initialization.
        reg: L2 strength; ``loss(X, y)`` adds 0.5 * reg * (|W1|^2 + |W2|^2 + |W3|^2), not the biases.
        dtype: parameter dtype, float32 or float64 (float64 for numerical gradient checks); ``X`` must have it.
        seed: seeds the initialization; rng (keyword-only): the generator when ``seed`` is None
            (None: scratchnn's default generator, see ``scratchnn.manual_seed``).

    Shape:
        X: (N, C, H, W);  scores: (N, num_classes)
        W1: (F, C, HH, WW);  b1: (F,);  W2: (F * (H // 2) * (W // 2), hidden_dim);  b2: (hidden_dim,)
        W3: (hidden_dim, num_classes);  b3: (num_classes,)
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype: Any = np.float32,
        seed: int | None = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if isinstance(input_dim, (int, str)) or not isinstance(input_dim, Sequence) or len(input_dim) != 3:
            raise invalid_type("input_dim", "a sequence (C, H, W) of three ints", input_dim)
        C, H, W = (check_int(d, "input_dim[i]", low=1) for d in input_dim)
        F = check_int(num_filters, "num_filters", low=1)
        self.filter_size = check_int(filter_size, "filter_size", low=1)
        hidden = check_int(hidden_dim, "hidden_dim", low=1)
        self.num_classes = check_int(num_classes, "num_classes", low=1)
        self.weight_scale = check_float(weight_scale, "weight_scale", low=0.0, finite=True)
        self.reg = check_float(reg, "reg", low=0.0, finite=True)
        if seed is not None and rng is not None:
            raise invalid_value("rng", "None when a seed is given (the seed fixes the generator)", rng)
        self.input_dim = (C, H, W)
        self.pad = (self.filter_size - 1) // 2
        Hc, Wc = H + 2 * self.pad - self.filter_size + 1, W + 2 * self.pad - self.filter_size + 1
        if Hc < 2 or Wc < 2:
            raise invalid_value(
                "input_dim",
                f"an image the {self.filter_size}x{self.filter_size} convolution maps "
                "to at least 2x2 (for the 2x2 pool)",
                input_dim,
            )
        self.pooled_dim = F * (Hc // 2) * (Wc // 2)
        dt = check_float_dtype(dtype)
        gen = np.random.default_rng(check_int(seed, "seed", low=0)) if seed is not None else get_rng(rng)
        shapes = {
            "W1": (F, C, self.filter_size, self.filter_size),
            "W2": (self.pooled_dim, hidden),
            "W3": (hidden, self.num_classes),
        }
        sizes = {"input_dim": input_dim, "num_filters": F, "filter_size": filter_size, "hidden_dim": hidden,
                 "num_classes": num_classes}  # fmt: skip
        for i, (name, shape) in enumerate(shapes.items(), start=1):
            try:
                w = init.normal_(new_array(shape, dt, sizes), 0.0, self.weight_scale, rng=gen)
            except ValueError as e:  # draws beyond the dtype's range: named as the argument that made them
                if "`std`" not in str(e):
                    raise
                raise invalid_value("weight_scale", f"a scale whose weights {dt} holds", weight_scale) from None
            setattr(self, name, Param(w))
            setattr(self, f"b{i}", Param(new_array((shape[0] if i == 1 else shape[1],), dt, sizes, 0.0)))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The parameters' dtype (changes with ``.to(dtype)``)."""
        dt: np.dtype[Any] = self.W1.dtype
        return dt

    @property
    def params(self) -> ParamDict:
        """The course's ``model.params``: W1, b1, W2, b2, W3, b3 as live arrays."""
        return ParamDict(self)

    # ---------------------------------------------------------------- the math
    def _scores(self, X: np.ndarray) -> tuple[np.ndarray, tuple[Any, ...]]:
        check_array(X, "X")
        if X.ndim != 4 or X.shape[1:] != self.input_dim:
            raise invalid_shape("X", f"(N, {', '.join(map(str, self.input_dim))})", X.shape)
        if X.dtype != self.dtype:
            raise TypeError(
                f"Invalid dtype for `X`: expected {self.dtype} to match the model's dtype. Received: X.dtype={X.dtype}"
            )
        p = self.params
        a, conv_cache = conv_forward(X, p["W1"], p["b1"], 1, self.pad)  # (N, C, H, W) -> (N, F, H, W)
        r, relu_cache = relu_forward(a)
        pooled, pool_cache = max_pool_forward(r, 2, 2)  # (N, F, H, W) -> (N, F, H/2, W/2)
        h, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])  # (N, F, H/2, W/2) -> (N, hidden)
        scores, out_cache = affine_forward(h, p["W3"], p["b3"])  # (N, hidden) -> (N, num_classes)
        return scores, (conv_cache, relu_cache, pool_cache, hidden_cache, out_cache)

    def _grads(self, dscores: np.ndarray, caches: tuple[Any, ...], need_dX: bool) -> tuple[Any, dict[str, Any]]:
        conv_cache, relu_cache, pool_cache, hidden_cache, out_cache = caches
        g: dict[str, Any] = {}
        dh, g["W3"], g["b3"] = affine_backward(dscores, out_cache)
        dpooled, g["W2"], g["b2"] = affine_relu_backward(dh, hidden_cache)
        da = relu_backward(max_pool_backward(dpooled, pool_cache), relu_cache)
        dX, g["W1"], g["b1"] = conv_backward(da, conv_cache, need_dx=need_dX)
        return dX, {k: g[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")}

    # ---------------------------------------------------------------- course contract
    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """Scores for ``X`` (when ``y`` is None), or ``(loss, grads)`` with grads keyed like ``params``.

        loss = softmax cross-entropy + 0.5 * reg * sum_l ||W_l||^2;  dW_l gets + reg * W_l.
        """
        scores, caches = self._scores(X)
        if y is None:
            return scores
        check_labels(y, "y", scores.shape[0], self.num_classes)
        data_loss, dscores = softmax_loss(scores, y)
        _, grads = self._grads(dscores, caches, need_dX=False)
        reg_loss = 0.0
        for name in ("W1", "W2", "W3"):
            w = self.params[name]
            reg_loss += 0.5 * self.reg * float(np.sum(w * w))
            grads[name] += self.reg * w
        return float(data_loss) + reg_loss, grads

    # ---------------------------------------------------------------- Module contract
    def forward(self, X: np.ndarray) -> np.ndarray:
        """Scores (N, num_classes); ``reg`` is not applied here (use the optimizer's weight decay)."""
        scores, caches = self._scores(X)
        self._save(caches, scores)
        return scores

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dX (None with ``input_grad=False``: the first conv skips it); each param.grad += its gradient."""
        dX, grads = self._grads(grad_out, self._saved(grad_out), need_dX=input_grad)
        params = dict(self.named_parameters())
        for k, g in grads.items():
            params[k].accumulate_grad(g)
        return dX

    def extra_repr(self) -> str:
        F, hidden = self.W1.shape[0], self.W2.shape[1]
        return (
            f"input_dim={self.input_dim}, num_filters={F}, filter_size={self.filter_size}, "
            f"hidden_dim={hidden}, num_classes={self.num_classes}"
        )
