"""Assembled networks, one file per area, each a Module that also keeps the course contract."""

from .fc_net import FullyConnectedNet

__all__ = ["FullyConnectedNet"]
