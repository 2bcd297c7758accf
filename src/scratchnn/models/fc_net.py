"""``FullyConnectedNet``: the course's multi-layer network, also a scratchnn Module.

{affine - relu} x (L - 1) - affine - softmax, with parameters named W1, b1, ..., WL, bL.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

import numpy as np

from .._validate import check_array, check_choice, check_float, check_int, check_labels, invalid_shape, invalid_type
from ..nn import init
from ..nn.module import Module
from ..nn.parameter import Param
from ..ops.affine import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward
from ..ops.losses import softmax_loss


class ParamDict(MutableMapping[str, np.ndarray]):
    """``model.params`` of the course contract: name -> the very array a ``Param`` holds.

    Reading gives the live array (so in-place edits, as in the course's numerical gradient
    checks, reach the model); assigning replaces the Param's value (so ``model.params[k] = w``
    from course update loops works too).
    """

    def __init__(self, module: Module) -> None:
        self._module = module

    def _params(self) -> dict[str, Param]:
        return dict(self._module.named_parameters())

    def __getitem__(self, key: str) -> np.ndarray:
        return self._params()[key].data

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        params = self._params()
        if key not in params:
            raise KeyError(f"{type(self._module).__name__} has no parameter {key!r}; it has {list(params)}")
        p = params[key]
        value = np.asarray(value)
        if value.shape != p.shape:
            raise invalid_shape(f"params['{key}']", str(p.shape), value.shape)
        p.data = value.astype(p.dtype, copy=False)

    def __delitem__(self, key: str) -> None:
        raise TypeError("parameters of a model cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._params())

    def __len__(self) -> int:
        return len(self._params())

    def __repr__(self) -> str:
        return "ParamDict(" + ", ".join(f"{k}: {v.shape}" for k, v in self.items()) + ")"


class FullyConnectedNet(Module):
    """A fully connected ReLU network with the course's constructor and ``loss`` contract.

    Args:
        hidden_dims: sizes of the hidden layers.
        input_dim: D, the flattened input size.
        num_classes: number of classes C.
        dropout: drop probability (torch's meaning; the course's ``dropout_keep_ratio`` is 1 - p).
        normalization: None (batch/layer norm come with the normalization layers).
        reg: L2 strength; the loss adds 0.5 * reg * sum(W^2) over weights only (not biases).
        weight_scale: std of the 'normal' init (the course's N(0, weight_scale^2)).
        weight_init: 'normal' (course default), 'he' (std sqrt(2 / fan_in)) or
            'xavier' (std sqrt(2 / (fan_in + fan_out))); ``weight_scale`` applies to 'normal' only.
        dtype: parameter dtype; float64 for numerical gradient checks.
        seed: seeds the initialization (and, with dropout, the masks).

    Shape:
        X: (N, d_1, ..., d_k) with prod(d_i) = D;  scores: (N, C)
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout: float = 0.0,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        weight_init: str = "normal",
        dtype: Any = np.float32,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(hidden_dims, (int, str)) or not isinstance(hidden_dims, Sequence):
            raise invalid_type("hidden_dims", "a sequence of ints (one per hidden layer)", hidden_dims)
        dims = [check_int(input_dim, "input_dim", low=1)]
        dims += [check_int(h, "hidden_dims[i]", low=1) for h in hidden_dims]
        dims += [check_int(num_classes, "num_classes", low=1)]
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        if self.dropout > 0:
            raise NotImplementedError("FullyConnectedNet(dropout>0) arrives with the dropout layer")
        self.normalization = check_choice(normalization, "normalization", (None,))
        self.reg = check_float(reg, "reg", low=0.0)
        self.weight_scale = check_float(weight_scale, "weight_scale", low=0.0)
        self.weight_init = check_choice(weight_init, "weight_init", ("normal", "he", "xavier"))
        dt = np.dtype(dtype)
        self.num_layers = len(dims) - 1
        self.input_dim, self.num_classes = dims[0], dims[-1]
        rng = np.random.default_rng(seed)
        for i in range(self.num_layers):
            fan_in, fan_out = dims[i], dims[i + 1]
            w = np.empty((fan_in, fan_out), dtype=dt)  # course layout (D, M), not torch's (M, D)
            std = {"normal": self.weight_scale, "he": np.sqrt(2.0 / fan_in),
                   "xavier": np.sqrt(2.0 / (fan_in + fan_out))}[self.weight_init]
            init.normal_(w, 0.0, float(std), rng=rng)
            setattr(self, f"W{i + 1}", Param(w))
            setattr(self, f"b{i + 1}", Param(np.zeros(fan_out, dtype=dt)))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The parameters' dtype (changes with ``.to(dtype)``)."""
        dt: np.dtype[Any] = self.W1.dtype
        return dt

    @property
    def params(self) -> ParamDict:
        """The course's ``model.params``: W1, b1, ... as live arrays."""
        return ParamDict(self)

    # ---------------------------------------------------------------- the math
    def _scores(self, X: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        check_array(X, "X")
        if X.ndim < 2 or int(np.prod(X.shape[1:])) != self.input_dim:
            raise invalid_shape("X", f"(N, ...) with {self.input_dim} features per sample", X.shape)
        if X.dtype != self.dtype:
            raise TypeError(f"Invalid dtype for `X`: expected {self.dtype} to match the model's dtype. "
                            f"Received: X.dtype={X.dtype}")
        caches = []
        h = X
        for i in range(1, self.num_layers):
            h, cache = affine_relu_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])  # (N, H_i)
            caches.append(cache)
        L = self.num_layers
        scores, cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])  # (N, C)
        caches.append(cache)
        return scores, caches

    def _grads(self, dscores: np.ndarray, caches: list[Any], need_dX: bool = True) -> tuple[Any, dict[str, Any]]:
        grads: dict[str, np.ndarray] = {}
        L = self.num_layers
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L - 1], need_dx=need_dX or L > 1)
        for i in range(L - 1, 0, -1):
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dh, caches[i - 1], need_dx=need_dX or i > 1)
        return dh, grads

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
        weights = [self.params[f"W{i}"] for i in range(1, self.num_layers + 1)]
        reg_loss = 0.5 * self.reg * sum(float(np.sum(w * w)) for w in weights)
        _, grads = self._grads(dscores, caches, need_dX=False)
        for i, w in enumerate(weights, start=1):
            grads[f"W{i}"] += self.reg * w
        return float(data_loss) + reg_loss, grads

    # ---------------------------------------------------------------- Module contract
    def forward(self, X: np.ndarray) -> np.ndarray:
        """Scores (N, C); ``reg`` is not applied here (use the optimizer's weight decay)."""
        scores, caches = self._scores(X)
        self._save(caches)
        return scores

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        dX, grads = self._grads(grad_out, self._saved(), need_dX=self.needs_input_grad)
        params = dict(self.named_parameters())
        for k, g in grads.items():
            params[k].grad += g
        return dX

    def extra_repr(self) -> str:
        hidden = [self.params[f"W{i}"].shape[1] for i in range(1, self.num_layers)]
        return f"hidden_dims={hidden}, input_dim={self.input_dim}, num_classes={self.num_classes}"
