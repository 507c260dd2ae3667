"""NumPy reference implementations with explicit forward and backward passes.

Float64 by default and the cs231n calling convention:
``<name>_forward(x, ...) -> (out, cache)`` and ``<name>_backward(dout, cache)``.
The PyTorch twin :mod:`nntrain.torch` mirrors every module and function name here.
"""

from .activations import relu_backward, relu_forward
from .fc_net import FullyConnectedNet
from .layers import affine_backward, affine_forward
from .losses import l1_loss, l2_loss, softmax_loss, svm_loss

__all__ = [
    "FullyConnectedNet",
    "affine_backward",
    "affine_forward",
    "l1_loss",
    "l2_loss",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "svm_loss",
]
