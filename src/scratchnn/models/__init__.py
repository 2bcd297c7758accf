"""Assembled networks, one file per area, each a Module that also keeps the course contract."""

from .char_ngram import CharNGram
from .char_ngram_tune import NGramTuning, tune_char_ngram
from .convnet import ConvNet
from .fc_net import FullyConnectedNet
from .three_layer_convnet import ThreeLayerConvNet

__all__ = ["FullyConnectedNet"]

# convolutional networks (models/three_layer_convnet.py, models/convnet.py)
__all__ += ["ThreeLayerConvNet", "ConvNet"]

# count-based baselines of the text areas, no Module (models/char_ngram.py, models/char_ngram_tune.py)
__all__ += ["CharNGram", "NGramTuning", "tune_char_ngram"]
