"""``Module``: the stateful shell around the ops, mirroring ``torch.nn.Module``.

A module's ``forward`` computes its output with an ops pair and keeps the cache; its
``backward(grad_out)`` feeds the cache to the op's backward, *accumulates* parameter gradients
into ``Param.grad`` and returns the gradient with respect to its input(s), or None when called
with ``input_grad=False`` (the input is data, as torch's input with ``requires_grad=False``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .._validate import check_bool, check_float_dtype, check_grad, invalid_type
from .hooks import RemovableHandle
from .parameter import Param
from .state_dict import IncompatibleKeys, loadable

_UNCHECKED: Any = object()  # ``_saved()`` without an upstream gradient to check (tests' and users' own modules)


class Module:
    """Base class of every layer, loss and model.

    Subclasses assign ``Param`` and ``Module`` attributes in ``__init__`` (they are registered
    by name, as in torch), keep running statistics with :meth:`register_buffer`, and
    implement ``forward`` and ``backward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_cache", None)
        object.__setattr__(self, "_out_spec", None)
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        if isinstance(value, Param):
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            self.__dict__.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self.__dict__.pop(name, None)
            self._modules[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, np.ndarray):
                raise invalid_type(name, "a numpy.ndarray buffer or None", value)
            self._buffers[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """A non-trainable array saved in ``state_dict`` (running mean, running var, ...)."""
        if array is not None and not isinstance(array, np.ndarray):
            raise invalid_type(name, "a numpy.ndarray or None", array)
        self.__dict__.pop(name, None)
        self._buffers[name] = array

    # ---------------------------------------------------------------- forward / backward
    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_out: Any, *, input_grad: bool = True) -> Any:
        """Accumulate parameter gradients into ``Param.grad``; return the gradient w.r.t. the input.

        dL/dx for dL/dout = ``grad_out``, from the cache of the last forward; every parameter
        gets ``p.grad += dL/dp``. ``input_grad=False`` says the input is data, as torch's input
        with ``requires_grad=False``: the parameter gradients are the same, the input gradient's
        work is skipped (a third of a first Linear's backward) and None is returned. A container
        passes it on to the child that receives its input; the others always get True.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        out = self.forward(*inputs, **kwargs)
        if self._forward_hooks:
            for hook in tuple(self._forward_hooks.values()):
                result = hook(self, inputs, out)
                if result is not None:  # a hook may replace the output, as in torch
                    out = result
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple[Any, ...], Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every ``module(...)`` (torch's name and semantics).

        A hook that returns something other than None replaces the output. Returns a handle whose
        ``remove()`` unregisters the hook. Hooks run on ``module(x)``, not on ``module.forward(x)``.
        """
        return RemovableHandle(self._forward_hooks, hook)

    def _save(self, cache: Any, out: Any = None) -> None:
        """Keep what backward needs (called by forward) and the output's shape and dtype, which
        :meth:`_saved` holds ``grad_out`` to: every module's one check of it (docs/dtypes.md)."""
        d = self.__dict__  # written directly: this runs on every forward (object.__setattr__ costs twice as much)
        d["_cache"] = cache
        d["_out_spec"] = (out.shape, out.dtype) if isinstance(out, np.ndarray) else None

    def _saved(self, grad_out: Any = _UNCHECKED) -> Any:
        """The cache of the last forward, a clear error if there was none; ``grad_out``, when given, must
        have the shape and dtype of that forward's output (``Invalid shape for `grad_out`: ...``)."""
        cache, spec = self._cache, self._out_spec
        if cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(): call the module on an input first"
            )
        if spec is not None and grad_out is not _UNCHECKED:
            check_grad(grad_out, "grad_out", spec[0], spec[1])
        return cache

    def clear_cache(self) -> None:
        """Drop the cached activations of this module and its children (frees memory)."""
        for m in self.modules():
            object.__setattr__(m, "_cache", None)
            object.__setattr__(m, "_out_spec", None)

    # ---------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Param]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_prefix, mod in mods:
            for name, p in mod._parameters.items():
                if id(p) in seen:  # shared weights are listed once, as in torch
                    continue
                seen.add(id(p))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Param]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, np.ndarray]]:
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_prefix, mod in mods:
            for name, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> Module:
        mode = check_bool(mode, "mode")  # torch: "training mode is expected to be boolean"; "no" was True here
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def to(self, dtype: Any) -> Module:
        """Cast every parameter and floating buffer to ``dtype`` in place (torch's ``.to(dtype)``).

        Only float32 and float64 (docs/dtypes.md): anything else, float16 and complex included (which
        torch accepts), is a TypeError before anything is cast."""
        dt = check_float_dtype(dtype)
        for m in self.modules():
            for p in m._parameters.values():
                p.astype(dt)
            for name, b in list(m._buffers.items()):
                if b is not None and b.dtype.kind == "f":
                    m._buffers[name] = b.astype(dt)
        self.clear_cache()
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ---------------------------------------------------------------- state
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and buffer, by dotted name, in torch's order and naming."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for prefix, mod in self.named_modules():
            for name, p in mod._parameters.items():
                out[f"{prefix}.{name}" if prefix else name] = p.data.copy()
            for name, b in mod._buffers.items():
                if b is not None:
                    out[f"{prefix}.{name}" if prefix else name] = b.copy()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the module's parameters and buffers in place: all of them, or none.

        Accepts the module's own ``state_dict()`` or a torch one converted to NumPy
        (``{k: v.numpy() for k, v in sd.items()}``). Every key, shape and dtype is checked before
        anything is copied, so a load that fails leaves the module as it was. A floating array goes
        into a parameter of any float dtype (cast as torch's ``copy_`` does: float64 -> float32
        rounds); an integer or bool array into a float parameter is an error, integer buffers take
        integers only. With ``strict`` a missing or unexpected key is a ``ValueError`` (torch: ``RuntimeError``).
        """
        if not isinstance(state_dict, Mapping):
            raise invalid_type("state_dict", "a mapping of names to arrays", state_dict)
        targets: dict[str, tuple[np.ndarray, str]] = {}  # key -> (the array to copy into, what it is)
        for prefix, mod in self.named_modules():
            for name, p in mod._parameters.items():
                targets[f"{prefix}.{name}" if prefix else name] = (p.data, "parameter")
            for name, b in mod._buffers.items():
                if b is not None:
                    targets[f"{prefix}.{name}" if prefix else name] = (b, "buffer")
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise ValueError(
                f"Invalid value for `state_dict`: expected the keys of {type(self).__name__}.state_dict(). "
                f"Received: missing keys {missing}, unexpected keys {unexpected}"
            )
        # every value checked and cast first, so the copies cannot fail halfway
        loaded = {k: loadable(k, state_dict[k], *target) for k, target in targets.items() if k in state_dict}
        for key, value in loaded.items():
            np.copyto(targets[key][0], value, casting="no")
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, m in self._modules.items():
                child = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"
