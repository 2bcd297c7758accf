"""Assembled networks, one file per area, each a Module that also keeps the course contract."""

from .convnet import ConvNet
from .fc_net import FullyConnectedNet
from .three_layer_convnet import ThreeLayerConvNet

__all__ = ["FullyConnectedNet"]

# convolutional networks (models/three_layer_convnet.py, models/convnet.py)
__all__ += ["ThreeLayerConvNet", "ConvNet"]

# recurrent networks (models/sequence_classifier.py, models/char_rnn.py)
from .char_rnn import CharRNN  # noqa: E402
from .sequence_classifier import RecurrentClassifier  # noqa: E402

__all__ += ["RecurrentClassifier", "CharRNN"]
