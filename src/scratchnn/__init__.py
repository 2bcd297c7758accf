"""scratchnn: deep learning from scratch in NumPy.

Every layer's forward and backward pass is derived by hand (docs/derivations/), checked against
numerical gradients and against PyTorch.

Every public subpackage is an attribute after ``import scratchnn`` (``scratchnn.optim.Adam``), as in
torch and NumPy: ``ops`` (the math), ``nn`` (torch.nn-mirroring modules), ``optim``, ``models``,
``data``, ``text`` (subword tokens, batching, ROUGE), ``train``, ``gradcheck``, ``analysis``, ``figures``,
``recipes`` (what ``scratchnn train`` runs) and ``experiments``. Heavy optional libraries (matplotlib, Ray,
tokenizers, rouge-score) are imported only when used.
"""

from . import analysis, data, experiments, figures, gradcheck, models, nn, ops, optim, recipes, text, train
from ._config import get_default_dtype, get_rng_state, manual_seed, set_default_dtype, set_rng_state
from ._version import __version__
from .serialization import load, save

__all__ = [
    "ops",
    "nn",
    "optim",
    "models",
    "data",
    "text",
    "train",
    "gradcheck",
    "analysis",
    "figures",
    "recipes",
    "experiments",
    "save",
    "load",
    "manual_seed",
    "set_default_dtype",
    "get_default_dtype",
    "get_rng_state",
    "set_rng_state",
    "__version__",
]
