"""The text extra's libraries (``tokenizers``, ``rouge-score``), imported on first use, never at import time.

``import scratchnn`` and everything that is not subword tokenization or ROUGE work without them; the
first call that needs one imports it here and, where it is missing, says how to install it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL_HINT = "pip install 'scratchnn[text]'"


def require(module: str, needed_by: str) -> ModuleType:
    """``importlib.import_module(module)``, or an ImportError that names the extra to install.

    Args:
        module: the import name (``"tokenizers"``, ``"rouge_score.rouge_scorer"``).
        needed_by: what needs it, for the message (``"BPETokenizer"``, ``"rouge_scores"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        package = module.split(".")[0]
        raise ImportError(
            f"{needed_by} needs the `{package}` package, an optional dependency of scratchnn: {INSTALL_HINT}"
        ) from e
