"""Autoencoders (models/autoencoder/): MLP vanilla, denoising and masked, convolutional, and their loss."""

from .conv import ConvAutoencoder
from .denoising import DenoisingAutoencoder
from .loss import ReconstructionLoss
from .masked import MaskedAutoencoder
from .mlp import Autoencoder

__all__ = ["Autoencoder", "ConvAutoencoder", "DenoisingAutoencoder", "MaskedAutoencoder", "ReconstructionLoss"]
