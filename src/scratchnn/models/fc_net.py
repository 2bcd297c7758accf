"""``FullyConnectedNet``: the course's multi-layer network, also a scratchnn Module.

{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax, with parameters named
W1, b1, gamma1, beta1, ..., WL, bL (gamma/beta for the hidden layers when normalized).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

import numpy as np

from .._config import get_rng
from .._validate import (
    check_array,
    check_choice,
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
from ..ops.affine import affine_backward, affine_forward
from ..ops.batchnorm import batchnorm_backward_alt, batchnorm_forward
from ..ops.dropout import dropout_backward, dropout_forward
from ..ops.layernorm import layernorm_backward, layernorm_forward
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
        own = self._module._parameters  # the course models' params are top-level: no tree walk per lookup
        return own[key].data if key in own else self._params()[key].data

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

    Each hidden layer is affine - [batchnorm | layernorm] - relu - [dropout]; the last is affine.

    Args:
        hidden_dims: sizes of the hidden layers.
        input_dim: D, the flattened input size.
        num_classes: number of classes C.
        dropout: drop probability p (torch's meaning; the course's ``dropout_keep_ratio`` is 1 - p);
            0 means no dropout.
        normalization: None, 'batchnorm' or 'layernorm' after each hidden affine layer, with
            parameters gamma1, beta1, ... (ones, zeros). BatchNorm keeps torch's running statistics
            (momentum 0.1 weighting the new batch, unbiased variance) as the buffers running_mean1,
            running_var1, num_batches_tracked1, ...; eval mode uses them, so a sample scores the same
            alone as inside any batch.
        reg: L2 strength; the loss adds 0.5 * reg * sum(W^2) over weights only (not biases, gammas, betas).
        weight_scale: std of the 'normal' init (the course's N(0, weight_scale^2)).
        weight_init: 'normal' (course default), 'he' (std sqrt(2 / fan_in)) or
            'xavier' (std sqrt(2 / (fan_in + fan_out))); ``weight_scale`` applies to 'normal' only.
        dtype: parameter dtype, float32 or float64 (float64 for numerical gradient checks); ``X`` must have it.
        seed: seeds the initialization and, as in the course, fixes the dropout masks: every
            train-mode pass draws its masks from a fresh ``np.random.default_rng(seed)``, so the same
            masks on every call (what a numerical gradient check of a network with dropout needs;
            train with ``seed=None`` for fresh masks).
        rng: keyword-only; with ``seed=None``, the generator for the initialization and the masks
            (None: scratchnn's default generator, see ``scratchnn.manual_seed``).

    Modes: ``loss(X)`` runs in eval mode, ``loss(X, y)`` in train mode (the course contract, whatever
    ``.train()`` / ``.eval()`` say); ``forward`` / ``backward`` use the module's own mode.

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
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if isinstance(hidden_dims, (int, str)) or not isinstance(hidden_dims, Sequence):
            raise invalid_type("hidden_dims", "a sequence of ints (one per hidden layer)", hidden_dims)
        dims = [check_int(input_dim, "input_dim", low=1)]
        dims += [check_int(h, "hidden_dims[i]", low=1) for h in hidden_dims]
        dims += [check_int(num_classes, "num_classes", low=1)]
        self.dropout = check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.normalization = check_choice(normalization, "normalization", (None, "batchnorm", "layernorm"))
        self.reg = check_float(reg, "reg", low=0.0, finite=True)
        self.weight_scale = check_float(weight_scale, "weight_scale", low=0.0, finite=True)
        self.weight_init = check_choice(weight_init, "weight_init", ("normal", "he", "xavier"))
        if seed is not None and rng is not None:
            raise invalid_value("rng", "None when a seed is given (the seed fixes the generator)", rng)
        self.seed = None if seed is None else check_int(seed, "seed", low=0)
        self._rng = rng
        dt = check_float_dtype(dtype)
        self.num_layers = len(dims) - 1
        self.input_dim, self.num_classes = dims[0], dims[-1]
        init_rng = np.random.default_rng(self.seed) if self.seed is not None else get_rng(rng)
        sizes = {"input_dim": input_dim, "hidden_dims": list(hidden_dims), "num_classes": num_classes}
        for i in range(self.num_layers):
            fan_in, fan_out = dims[i], dims[i + 1]
            w = new_array((fan_in, fan_out), dt, sizes)  # course layout (D, M), not torch's (M, D)
            std = {
                "normal": self.weight_scale,
                "he": np.sqrt(2.0 / fan_in),
                "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
            }[self.weight_init]
            try:
                init.normal_(w, 0.0, float(std), rng=init_rng)
            except ValueError:  # draws beyond the dtype's range: named as the argument that made them
                raise invalid_value("weight_scale", f"a scale whose weights {dt} holds", weight_scale) from None
            setattr(self, f"W{i + 1}", Param(w))
            setattr(self, f"b{i + 1}", Param(new_array((fan_out,), dt, sizes, 0.0)))
            if self.normalization is not None and i < self.num_layers - 1:
                setattr(self, f"gamma{i + 1}", Param(new_array((fan_out,), dt, sizes, 1.0)))
                setattr(self, f"beta{i + 1}", Param(new_array((fan_out,), dt, sizes, 0.0)))
            if self.normalization == "batchnorm" and i < self.num_layers - 1:
                self.register_buffer(f"running_mean{i + 1}", new_array((fan_out,), dt, sizes, 0.0))
                self.register_buffer(f"running_var{i + 1}", new_array((fan_out,), dt, sizes, 1.0))
                self.register_buffer(f"num_batches_tracked{i + 1}", np.array(0, dtype=np.int64))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The parameters' dtype (changes with ``.to(dtype)``)."""
        dt: np.dtype[Any] = self.W1.dtype
        return dt

    @property
    def params(self) -> ParamDict:
        """The course's ``model.params``: W1, b1, (gamma1, beta1,) ... as live arrays."""
        return ParamDict(self)

    # ---------------------------------------------------------------- the math
    def _normalize(self, i: int, h: np.ndarray, train: bool) -> tuple[np.ndarray, Any]:
        gamma, beta = self.params[f"gamma{i}"], self.params[f"beta{i}"]
        if self.normalization == "layernorm":
            return layernorm_forward(h, gamma, beta, {})
        bn_param = {
            "mode": "train" if train else "test",
            "running_mean": getattr(self, f"running_mean{i}"),
            "running_var": getattr(self, f"running_var{i}"),
            "num_batches_tracked": int(getattr(self, f"num_batches_tracked{i}")),
        }
        out, cache = batchnorm_forward(h, gamma, beta, bn_param)
        if train:  # the buffers, in place (the op hands back new arrays)
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                getattr(self, f"{name}{i}")[...] = bn_param[name]
        return out, cache

    def _scores(self, X: np.ndarray, train: bool) -> tuple[np.ndarray, list[Any]]:
        check_array(X, "X")
        if X.ndim < 2 or int(np.prod(X.shape[1:])) != self.input_dim:
            raise invalid_shape("X", f"(N, ...) with {self.input_dim} features per sample", X.shape)
        if X.dtype != self.dtype:
            raise TypeError(
                f"Invalid dtype for `X`: expected {self.dtype} to match the model's dtype. Received: X.dtype={X.dtype}"
            )
        batchnorm = self.normalization == "batchnorm" and self.num_layers > 1  # no hidden layer: nothing to normalize
        if train and batchnorm and X.shape[0] < 2:  # named here, not as the op's `x`
            raise invalid_shape("X", "(N, ...) with N >= 2 for batchnorm's batch statistics in training", X.shape)
        drop = train and self.dropout > 0
        # with a seed, every train-mode pass draws the same masks (the course's gradient-check device)
        mask_rng = None
        if drop:
            mask_rng = np.random.default_rng(self.seed) if self.seed is not None else get_rng(self._rng)
        dropout_param = {"p": self.dropout, "mode": "train"}
        caches = []
        h = X
        for i in range(1, self.num_layers):
            h, fc_cache = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])  # (N, H_i)
            norm_cache = None
            if self.normalization is not None:
                h, norm_cache = self._normalize(i, h, train)
            h, relu_cache = relu_forward(h)
            drop_cache = None
            if drop:
                h, drop_cache = dropout_forward(h, dropout_param, rng=mask_rng)
            caches.append((fc_cache, norm_cache, relu_cache, drop_cache))
        L = self.num_layers
        scores, cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])  # (N, C)
        caches.append(cache)
        return scores, caches

    def _grads(self, dscores: np.ndarray, caches: list[Any], need_dX: bool = True) -> tuple[Any, dict[str, Any]]:
        grads: dict[str, np.ndarray] = {}
        L = self.num_layers
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L - 1], need_dx=need_dX or L > 1)
        for i in range(L - 1, 0, -1):
            fc_cache, norm_cache, relu_cache, drop_cache = caches[i - 1]
            if drop_cache is not None:
                dh = dropout_backward(dh, drop_cache)
            dh = relu_backward(dh, relu_cache)
            if self.normalization == "batchnorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(dh, norm_cache)
            elif self.normalization == "layernorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layernorm_backward(dh, norm_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, fc_cache, need_dx=need_dX or i > 1)
        return dh, grads

    # ---------------------------------------------------------------- course contract
    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """Scores for ``X`` in eval mode (when ``y`` is None), or ``(loss, grads)`` in train mode.

        loss = softmax cross-entropy + 0.5 * reg * sum_l ||W_l||^2;  dW_l gets + reg * W_l. Grads are
        keyed like ``params``. Train mode normalizes with batch statistics (updating the running ones)
        and applies dropout; eval mode uses the running statistics and no dropout.
        """
        scores, caches = self._scores(X, train=y is not None)
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
        """Scores (N, C) in the module's mode (``.train()`` / ``.eval()``); ``reg`` is not applied here."""
        scores, caches = self._scores(X, train=self.training)
        self._save(caches, scores)
        return scores

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """dX (None with ``input_grad=False``: the first affine skips it); each param.grad += its gradient."""
        dX, grads = self._grads(grad_out, self._saved(grad_out), need_dX=input_grad)
        params = dict(self.named_parameters())
        for k, g in grads.items():
            params[k].accumulate_grad(g)
        return dX

    def extra_repr(self) -> str:
        hidden = [self.params[f"W{i}"].shape[1] for i in range(1, self.num_layers)]
        text = f"hidden_dims={hidden}, input_dim={self.input_dim}, num_classes={self.num_classes}"
        if self.normalization is not None:
            text += f", normalization={self.normalization!r}"
        return text + (f", dropout={self.dropout}" if self.dropout > 0 else "")
