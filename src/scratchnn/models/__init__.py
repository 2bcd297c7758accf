"""Assembled networks, one file per area, each a Module that also keeps the course contract."""

from .cnn import ThreeLayerConvNet
from .convnet import ConvNet
from .fc_net import FullyConnectedNet

__all__ = ["FullyConnectedNet"]

# convolutional networks (models/cnn.py, models/convnet.py)
__all__ += ["ThreeLayerConvNet", "ConvNet"]
