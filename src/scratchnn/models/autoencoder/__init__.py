"""MLP autoencoders (models/autoencoder/): vanilla, denoising and masked, and their reconstruction loss."""

from .denoising import DenoisingAutoencoder
from .loss import ReconstructionLoss
from .masked import MaskedAutoencoder
from .mlp import Autoencoder

__all__ = ["Autoencoder", "DenoisingAutoencoder", "MaskedAutoencoder", "ReconstructionLoss"]
