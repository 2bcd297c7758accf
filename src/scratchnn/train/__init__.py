"""Training: the model-agnostic ``Trainer``, callbacks, exact-resume checkpoints, run folders, the course ``Solver``."""

from ..figures.history import plot_history
from .augment import RandomHorizontalFlip
from .bptt import stream_batches, truncated_bptt_epoch
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import load_checkpoint, save_checkpoint
from .divergence import TrainingDiverged
from .interrupt import Interrupted, StopOnSignal
from .metrics import accuracy
from .run_dir import make_run_dir, read_jsonl
from .solver import Solver
from .trainer import Trainer

__all__ = [
    "Trainer",
    "TrainingDiverged",
    "Solver",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "StopOnSignal",
    "Interrupted",
    "RandomHorizontalFlip",
    "save_checkpoint",
    "load_checkpoint",
    "make_run_dir",
    "read_jsonl",
    "plot_history",
    "accuracy",
    "stream_batches",
    "truncated_bptt_epoch",
]
