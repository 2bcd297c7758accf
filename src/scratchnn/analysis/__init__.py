"""Analyses of trained and untrained networks: gradient-flow diagnostics (more arrive with later areas)."""

from .gradient_flow import GradientFlow, activation_stats, grad_norms, param_norms, update_ratios

__all__ = ["GradientFlow", "activation_stats", "grad_norms", "param_norms", "update_ratios"]
