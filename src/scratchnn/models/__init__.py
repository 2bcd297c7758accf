"""Assembled networks, one file per area, each a Module that also keeps the course contract."""

from .bag_of_words import BagOfWordsClassifier, NGramFeatures, bag_of_words
from .char_ngram import CharNGram
from .char_ngram_tune import NGramTuning, tune_char_ngram
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

# baselines of the text areas: a count-based character model (models/char_ngram.py, char_ngram_tune.py)
# and logistic regression on a bag of n-grams (models/bag_of_words.py)
__all__ += ["CharNGram", "NGramTuning", "tune_char_ngram", "BagOfWordsClassifier", "NGramFeatures", "bag_of_words"]

# autoencoders (models/autoencoder/): vanilla, denoising and masked MLP autoencoders and their loss
from .autoencoder import Autoencoder, ConvAutoencoder, DenoisingAutoencoder, MaskedAutoencoder, ReconstructionLoss  # noqa: E402

__all__ += ["Autoencoder", "ConvAutoencoder", "DenoisingAutoencoder", "MaskedAutoencoder", "ReconstructionLoss"]

# the Transformer summarizer (models/transformer/): the encoder-decoder and its greedy and beam-search decoding
from .transformer import Decoded, Seq2SeqTransformer, beam_search, greedy_decode  # noqa: E402

__all__ += ["Seq2SeqTransformer", "greedy_decode", "beam_search", "Decoded"]

# the masked-image autoencoder (models/transformer/mae.py) on a ViT encoder, and the ViT's CLS classifier (vit.py)
from .transformer import MaskedImageAutoencoder, ViTClassifier, ViTEncoder  # noqa: E402

__all__ += ["MaskedImageAutoencoder", "ViTEncoder", "ViTClassifier"]
