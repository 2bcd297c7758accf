"""The experiments ``scratchnn experiment`` knows, by name.

Each row names the module (imported only when the experiment runs, so ``scratchnn experiment
list`` stays fast), a one-line title and the measured runtimes of the quick and full versions
on 2 cores. Adding an experiment is one row here plus its folder.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from ..._validate import invalid_value

__all__ = ["ExperimentInfo", "EXPERIMENTS", "get_info", "load_experiment"]


@dataclass(frozen=True)
class ExperimentInfo:
    """One registry row: ``module`` is a dotted path, runtimes are what ``experiment list`` prints."""

    module: str
    title: str
    quick_runtime: str
    full_runtime: str


EXPERIMENTS: dict[str, ExperimentInfo] = {
    "optimizers": ExperimentInfo(
        "scratchnn.experiments.optimizers",
        "SGD, momentum, Nesterov, AdaGrad, RMSprop, Adam, AdamW on Fashion-MNIST, each at its best lr",
        "~6 s",
        "~4 min",
    ),
    "initialization": ExperimentInfo(
        "scratchnn.experiments.initialization",
        "zeros, N(0, 0.01^2), N(0, 1), Xavier, He on 10-layer tanh/ReLU nets; tiny/huge/Kaiming curve fitting",
        "~15 s",
        "~4 min",
    ),
    "momentum": ExperimentInfo(
        "scratchnn.experiments.momentum",
        "heavy-ball momentum on least squares: predicted (eigenvalue) against measured convergence rates",
        "~5 s",
        "~15 s",
    ),
    "batchnorm": ExperimentInfo(
        "scratchnn.experiments.batchnorm",
        "an 8-layer net at 20 weight scales from 1e-4 to 1, with and without BatchNorm (the course's sweep)",
        "~10 s",
        "~2 min",
    ),
    "batchnorm-batchsize": ExperimentInfo(
        "scratchnn.experiments.batchnorm_batchsize",
        "BatchNorm at batch sizes 5 to 200 against LayerNorm and no normalization, on an 8-layer net",
        "~5 s",
        "~2 min",
    ),
    "dropout": ExperimentInfo(
        "scratchnn.experiments.dropout",
        "train and validation accuracy at dropout p = 0, 0.25, 0.5, 0.75 on 500 samples: the generalization gap",
        "~3 s",
        "~40 s",
    ),
    "rnn-gradients": ExperimentInfo(
        "scratchnn.experiments.rnn_gradients",
        "vanishing/exploding gradients through time over weight and bias scales; RNN vs LSTM vs GRU; running mean",
        "~10 s",
        "~10 min",
    ),
    "autoencoder-bottleneck": ExperimentInfo(
        "scratchnn.experiments.autoencoder_bottleneck",
        "linear vanilla/denoising/masked autoencoders at bottleneck 5 to 500: reconstruction and linear probe",
        "~7 s",
        "~9 min",
    ),
    "autoencoder-probe": ExperimentInfo(
        "scratchnn.experiments.autoencoder_probe",
        "MLP (vanilla/denoising/masked) and conv autoencoders on Fashion-MNIST: probes on 200/1000/all labels vs PCA",
        "~10 s",
        "~5 min",
    ),
}


def get_info(name: str) -> ExperimentInfo:
    """The registry row of ``name``; a ``ValueError`` listing the known names otherwise."""
    if name not in EXPERIMENTS:
        raise invalid_value("name", "an experiment name: " + ", ".join(sorted(EXPERIMENTS)), name)
    return EXPERIMENTS[name]


def load_experiment(name: str) -> ModuleType:
    """Import the experiment's module and check that it has ``Config``, ``QUICK``, ``run`` and ``report``."""
    module = importlib.import_module(get_info(name).module)
    missing = [attr for attr in ("Config", "QUICK", "run", "report") if not hasattr(module, attr)]
    if missing:
        raise TypeError(
            f"experiment module {module.__name__} lacks {', '.join(missing)} (see experiments/harness/runner.py)"
        )
    return module
