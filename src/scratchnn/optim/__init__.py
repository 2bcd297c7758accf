"""Optimizers and learning-rate schedules mirroring ``torch.optim``: same arguments, defaults and updates."""

from . import lr_scheduler
from ._foreach import get_num_threads, set_num_threads
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "lr_scheduler",
    "get_num_threads",
    "set_num_threads",
]
