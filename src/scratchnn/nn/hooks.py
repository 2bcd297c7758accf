"""Forward hooks' handles (torch's ``torch.utils.hooks.RemovableHandle``)."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` unregisters the hook (torch's name)."""

    _ids = itertools.count()

    def __init__(self, hooks: OrderedDict[int, Any], hook: Any) -> None:
        self.id = next(RemovableHandle._ids)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
