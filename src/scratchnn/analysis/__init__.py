"""Analyses of trained and untrained networks: gradient-flow diagnostics (more arrive with later areas)."""

from .gradient_flow import GradientFlow, activation_stats, grad_norms, param_norms, update_ratios
from .text_baselines import BowLogReg, fit_bow_logreg, majority_accuracy

__all__ = ["GradientFlow", "activation_stats", "grad_norms", "param_norms", "update_ratios"]
__all__ += ["BowLogReg", "fit_bow_logreg", "majority_accuracy"]  # text-classification baselines
