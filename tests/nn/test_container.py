"""Sequential and ModuleList refuse what is not a Module with the template, naming the argument it came in."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pytest

from scratchnn import nn

BAD: list[tuple[str, Callable[[], Any], str]] = [
    # found by fuzzing: the name was "module 1", which is no argument; a ModuleList of an int failed in a for loop
    ("positional", lambda: nn.Sequential(nn.ReLU(), 3), "Invalid type for `args[1]`: expected a scratchnn.nn.Module. "
     "Received: args[1] of type int"),
    ("OrderedDict", lambda: nn.Sequential(OrderedDict(fc=nn.ReLU(), act="relu")), "Invalid type for `args[0]['act']`: "
     "expected a scratchnn.nn.Module. Received: args[0]['act'] of type str"),
    ("ModuleList of an int", lambda: nn.ModuleList(3), "Invalid type for `modules`: expected an iterable of Modules "
     "or None. Received: modules of type int"),  # type: ignore[arg-type]
    ("ModuleList item", lambda: nn.ModuleList([nn.ReLU(), None]), "Invalid type for `module`: expected a "
     "scratchnn.nn.Module. Received: module of type NoneType"),
]  # fmt: skip


@pytest.mark.parametrize("call,text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_what_is_not_a_module_is_the_template_type_error(call: Callable[[], Any], text: str) -> None:
    with pytest.raises(TypeError, match="^" + re.escape(text) + "$"):
        call()
