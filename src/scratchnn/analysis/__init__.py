"""Analyses of trained and untrained networks: gradient-flow diagnostics, gradients through time, text baselines,
linear probes of frozen encoders and the PCA baseline."""

from .gradient_flow import GradientFlow, activation_stats, grad_norms, param_norms, update_ratios
from .linear_probe import ProbeResult, encode_batched, linear_probe
from .pca import PCAEncoder, pca, principal_angles
from .text_baselines import BowLogReg, fit_bow_logreg, majority_accuracy
from .through_time import FlowThroughTime, module_flow, rnn_flow, rnn_flow_grid, scaled_rnn

__all__ = ["GradientFlow", "activation_stats", "grad_norms", "param_norms", "update_ratios"]
__all__ += ["FlowThroughTime", "module_flow", "rnn_flow", "rnn_flow_grid", "scaled_rnn"]  # through time
__all__ += ["BowLogReg", "fit_bow_logreg", "majority_accuracy"]  # text-classification baselines
__all__ += ["linear_probe", "ProbeResult", "encode_batched", "pca", "PCAEncoder", "principal_angles"]  # probes, PCA
