"""``torch.nn.utils``' counterparts: gradient clipping (clip_grad.py) and packed sequences (rnn.py).

``scratchnn.nn.utils.clip_grad_norm_`` etc. are re-exported here, as in torch; the sequence helpers
are ``scratchnn.nn.utils.rnn.pack_padded_sequence`` / ``pad_packed_sequence`` / ``PackedSequence``.
"""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["rnn", "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]
