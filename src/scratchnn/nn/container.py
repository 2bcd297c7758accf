"""Containers and shape-only layers: Sequential, ModuleList, Identity, Flatten."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, overload

import numpy as np

from .._validate import check_array, check_int, check_iterable, invalid_shape, invalid_type
from .module import Module


class Identity(Module):
    """out = x; dx = dout. Constructor arguments are accepted and ignored, as in torch.

    Differs from torch: the input is a float32 or float64 array (docs/dtypes.md), not anything at all.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, "input")
        self._save(True, x)
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        self._saved(grad_out)
        return grad_out if input_grad else None


class Flatten(Module):
    """Flattens axes ``start_dim..end_dim`` into one (torch's defaults keep the batch axis).

    Differs from torch: the input is a float32 or float64 array (docs/dtypes.md), as everywhere here.

    Shape:
        input: (N, *dims);  output: (N, prod(dims)) with the defaults start_dim=1, end_dim=-1
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int(start_dim, "start_dim")
        self.end_dim = check_int(end_dim, "end_dim")

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, "input")
        start = self.start_dim % x.ndim if x.ndim else 0
        end = self.end_dim % x.ndim if x.ndim else 0
        if x.ndim == 0 or start > end:
            raise invalid_shape(
                "input",
                f"at least {max(self.start_dim, self.end_dim) + 1} dims with "
                f"start_dim={self.start_dim} <= end_dim={self.end_dim}",
                x.shape,
            )
        merged = math.prod(x.shape[start : end + 1])  # written out: -1 cannot be inferred for an empty batch
        out = x.reshape(*x.shape[:start], merged, *x.shape[end + 1 :])  # (N, C, H, W) -> (N, C*H*W)
        self._save(x.shape, out)
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        x_shape = self._saved(grad_out)
        return grad_out.reshape(x_shape) if input_grad else None

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse. Children are named "0", "1", ...

    or by the keys of an ``OrderedDict`` passed as the only argument (as torch).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        by_name = len(args) == 1 and isinstance(args[0], OrderedDict)
        items: Iterable[tuple[str, Any]] = args[0].items() if by_name else ((str(i), m) for i, m in enumerate(args))
        for name, m in items:
            if not isinstance(m, Module):  # named as the argument it came in: args[1], args[0]['fc']
                raise invalid_type(f"args[0][{name!r}]" if by_name else f"args[{name}]", "a scratchnn.nn.Module", m)
            setattr(self, name, m)

    def forward(self, x: Any) -> Any:
        if not self._modules:  # the identity, which checks its input as Identity does
            check_array(x, "input")
        for m in self._modules.values():
            x = m(x)
        self._save(True, x)
        return x

    def backward(self, grad_out: Any, *, input_grad: bool = True) -> Any:
        """Each child's backward, last to first; only the first child sees our input, so only it gets ``input_grad``."""
        self._saved(grad_out)
        mods = tuple(self._modules.values())
        if not mods:
            return grad_out if input_grad else None
        for m in reversed(mods[1:]):
            grad_out = m.backward(grad_out)
        return mods[0].backward(grad_out, input_grad=input_grad)

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise invalid_type("module", "a scratchnn.nn.Module", module)
        setattr(self, str(len(self._modules)), module)
        return self

    @overload
    def __getitem__(self, idx: int) -> Module: ...
    @overload
    def __getitem__(self, idx: slice) -> Sequential: ...

    def __getitem__(self, idx: int | slice) -> Module | Sequential:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return mods[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered (names "0", "1", ...); it has no forward."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for m in () if modules is None else check_iterable(modules, "modules", "an iterable of Modules or None"):
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise invalid_type("module", "a scratchnn.nn.Module", module)
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in check_iterable(modules, "modules", "an iterable of Modules"):
            self.append(m)
        return self

    def __getitem__(self, idx: int) -> Module:
        return list(self._modules.values())[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())
