"""``--set key=value``: typed overrides of an experiment's frozen ``Config`` dataclass.

A value is parsed by the type annotation of the field it sets:

=============================  =========================================================
annotation                     accepted text
=============================  =========================================================
``int``                        ``3``, ``-2``, ``10_000``
``float``                      ``0.1``, ``1e-3``, ``3`` (an int is a float too)
``bool``                       ``true/false``, ``yes/no``, ``on/off``, ``1/0`` (any case)
``str``                        anything, taken as it is
``Literal["a", "b"]``          one of the listed values
``tuple[int, ...]``, ``list``  comma-separated items, brackets optional: ``64,32``, ``(64, 32)``, ``()``
``tuple[float, float]``        exactly that many items
``X | None``                   ``none`` (or ``null``) for None, else an X
=============================  =========================================================

Unknown keys and ill-typed values raise ``ValueError`` in the project's one-line template::

    Invalid value for `lr`: expected a float. Received: lr='fast'
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from ..._validate import invalid_value

__all__ = ["apply_overrides", "parse_set_args", "parse_value", "describe_type"]

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NONE = ("none", "null")


def describe_type(tp: Any) -> str:
    """How a field's type reads in an error message: 'an int', 'a tuple of floats', 'one of 'a', 'b''."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is int:
        return "an int"
    if tp is float:
        return "a float"
    if tp is bool:
        return "a bool (true or false)"
    if tp is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if _is_optional(tp):
        inner = [a for a in args if a is not type(None)]
        return f"{describe_type(inner[0])} or none"
    if origin in (tuple, list):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return f"{len(args)} comma-separated items ({', '.join(_plain(a) for a in args)})"
        return f"comma-separated {_plain(args[0])}s"
    return f"a {getattr(tp, '__name__', tp)}"


def _plain(tp: Any) -> str:
    return {int: "int", float: "float", bool: "bool", str: "string"}.get(tp, describe_type(tp))


def _is_optional(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp) and len(get_args(tp)) == 2


def parse_value(name: str, tp: Any, text: str) -> Any:
    """``text`` parsed as type ``tp``; a ``ValueError`` naming ``name``, the type and ``text`` otherwise."""
    origin, args = get_origin(tp), get_args(tp)
    s = text.strip()
    error = invalid_value(name, describe_type(tp), text)
    if _is_optional(tp):
        if s.lower() in _NONE:
            return None
        inner = next(a for a in args if a is not type(None))
        try:
            return parse_value(name, inner, text)
        except ValueError:
            raise error from None
    if tp is bool:
        if s.lower() in _TRUE:
            return True
        if s.lower() in _FALSE:
            return False
        raise error
    if tp is int:
        try:
            return int(s)
        except ValueError:
            raise error from None
    if tp is float:
        try:
            return float(s)
        except ValueError:
            raise error from None
    if tp is str:
        return text
    if origin is Literal:
        for choice in args:
            if str(choice) == s:
                return choice
        raise error
    if origin in (tuple, list):
        if s[:1] + s[-1:] in ("()", "[]"):
            s = s[1:-1]
        items = [item.strip() for item in s.split(",")] if s.strip() else []
        if items and items[-1] == "":  # a trailing comma, as in "(3,)"
            items.pop()
        variadic = origin is list or (len(args) == 2 and args[1] is Ellipsis)
        item_types = [args[0]] * len(items) if variadic else list(args)
        if len(item_types) != len(items):
            raise error
        try:
            values = [parse_value(name, t, item) for t, item in zip(item_types, items)]
        except ValueError:
            raise error from None
        return tuple(values) if origin is tuple else values
    raise TypeError(f"--set cannot parse a field of type {tp!r} (field `{name}`); give the field a simpler type")


def parse_set_args(pairs: list[str] | None) -> dict[str, str]:
    """``["lr=0.1", "hidden_dims=64,32"]`` -> ``{"lr": "0.1", "hidden_dims": "64,32"}`` (the last one wins)."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise invalid_value("--set", "key=value", pair)
        out[key.strip()] = value
    return out


def apply_overrides(config: Any, overrides: Mapping[str, Any] | None, *, experiment: str = "experiment") -> Any:
    """A copy of the frozen dataclass ``config`` with ``overrides`` set (strings parsed by the field's type).

    Non-string values are used as they are (for callers in Python). The dataclass's ``__post_init__``
    checks, if it has any, run on the result.
    """
    if not overrides:
        return config
    fields = {f.name: f for f in dataclasses.fields(config) if f.init}
    hints = typing.get_type_hints(type(config))
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in fields:
            raise invalid_value("--set", f"a key of the {experiment} config ({', '.join(fields)})", f"{key}={value}")
        changes[key] = parse_value(key, hints[key], value) if isinstance(value, str) else value
    return dataclasses.replace(config, **changes)
