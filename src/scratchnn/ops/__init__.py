"""The math: pure forward/backward function pairs, no state (names follow CS231n/CS182)."""

from .activations import (
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from .affine import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward
from .attention import (
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_backward_naive,
    scaled_dot_product_attention_forward,
    scaled_dot_product_attention_forward_naive,
)
from .batchnorm import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from .conv import conv_backward, conv_backward_fast, conv_forward, conv_forward_fast
from .conv_naive import conv_backward_naive, conv_forward_naive
from .conv_transpose import conv_transpose_backward, conv_transpose_forward
from .conv_transpose_naive import conv_transpose_backward_naive, conv_transpose_forward_naive
from .dropout import dropout_backward, dropout_forward
from .embedding import word_embedding_backward, word_embedding_forward
from .groupnorm import spatial_groupnorm_backward, spatial_groupnorm_forward
from .layernorm import layernorm_backward, layernorm_forward
from .losses import multi_margin_loss, softmax_loss, svm_loss
from .patches import patchify_backward, patchify_forward, unpatchify_backward, unpatchify_forward
from .pointwise_losses import bce_with_logits_loss, mse_loss, reconstruction_loss
from .pool import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_backward_fast,
    max_pool_forward,
    max_pool_forward_fast,
)
from .pool_naive import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from .random_masking import (
    random_masking_backward,
    random_masking_forward,
    restore_backward,
    restore_forward,
)
from .recurrent import (
    gru_backward,
    gru_forward,
    gru_layer_backward,
    gru_layer_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_layer_backward,
    lstm_layer_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_layer_backward,
    rnn_layer_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from .temporal import temporal_affine_backward, temporal_affine_forward, temporal_softmax_loss

__all__ = [
    "affine_forward",
    "affine_backward",
    "affine_relu_forward",
    "affine_relu_backward",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "gelu_forward",
    "gelu_backward",
    "softmax_forward",
    "softmax_backward",
    "softmax_loss",
    "svm_loss",
    "multi_margin_loss",
    "mse_loss",
    "reconstruction_loss",
    "bce_with_logits_loss",
]

# normalization and dropout (ops/batchnorm.py, layernorm.py, groupnorm.py, dropout.py)
__all__ += ["batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"]
__all__ += ["spatial_batchnorm_forward", "spatial_batchnorm_backward"]
__all__ += ["layernorm_forward", "layernorm_backward", "spatial_groupnorm_forward", "spatial_groupnorm_backward"]
__all__ += ["dropout_forward", "dropout_backward"]

# convolution and pooling (ops/conv.py, conv_naive.py, conv_transpose.py, conv_transpose_naive.py, pool.py, ...)
__all__ += ["conv_forward_naive", "conv_backward_naive", "conv_forward", "conv_backward"]
__all__ += ["conv_forward_fast", "conv_backward_fast"]
__all__ += ["conv_transpose_forward_naive", "conv_transpose_backward_naive"]
__all__ += ["conv_transpose_forward", "conv_transpose_backward"]
__all__ += ["max_pool_forward_naive", "max_pool_backward_naive", "avg_pool_forward_naive", "avg_pool_backward_naive"]
__all__ += ["max_pool_forward", "max_pool_backward", "max_pool_forward_fast", "max_pool_backward_fast"]
__all__ += ["avg_pool_forward", "avg_pool_backward", "adaptive_avg_pool_forward", "adaptive_avg_pool_backward"]

# embeddings and temporal layers (ops/embedding.py, ops/temporal.py)
__all__ += ["word_embedding_forward", "word_embedding_backward"]
__all__ += ["temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss"]

# recurrent: vanilla RNN, LSTM, GRU (ops/recurrent/)
__all__ += ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]
__all__ += ["rnn_layer_forward", "rnn_layer_backward"]
__all__ += ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"]
__all__ += ["lstm_layer_forward", "lstm_layer_backward"]
__all__ += ["gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"]
__all__ += ["gru_layer_forward", "gru_layer_backward"]

# attention: scaled dot-product attention and its naive twin (ops/attention/; masks in scratchnn.ops.attention)
__all__ += ["scaled_dot_product_attention_forward", "scaled_dot_product_attention_backward"]
__all__ += ["scaled_dot_product_attention_forward_naive", "scaled_dot_product_attention_backward_naive"]
# the masked-image autoencoder's patches and token masking (ops/patches.py, ops/random_masking.py)
__all__ += ["patchify_forward", "patchify_backward", "unpatchify_forward", "unpatchify_backward"]
__all__ += ["random_masking_forward", "random_masking_backward", "restore_forward", "restore_backward"]
