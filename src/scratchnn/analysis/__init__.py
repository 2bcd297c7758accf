"""Analyses of trained and untrained networks: gradient-flow diagnostics (more arrive with later areas)."""

from .gradient_flow import GradientFlow, activation_stats, grad_norms, param_norms, update_ratios
from .through_time import FlowThroughTime, module_flow, rnn_flow, rnn_flow_grid, scaled_rnn

__all__ = [
    "FlowThroughTime",
    "GradientFlow",
    "activation_stats",
    "grad_norms",
    "module_flow",
    "param_norms",
    "rnn_flow",
    "rnn_flow_grid",
    "scaled_rnn",
    "update_ratios",
]
