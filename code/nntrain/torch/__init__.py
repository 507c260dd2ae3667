"""The PyTorch twin of :mod:`nntrain.reference`: same modules, functions and arguments.

Each technique appears three ways: the ``<name>_forward``/``<name>_backward`` functions on
tensors (any device), a ``torch.autograd.Function`` that runs them (``AffineFunction``), and an
``nn.Module`` that drops into an ordinary PyTorch model (``Affine``).
"""

from .activations import ReLU, ReLUFunction, relu_backward, relu_forward
from .fc_net import FullyConnectedNet
from .layers import Affine, AffineFunction, affine_backward, affine_forward
from .losses import (
    L1Loss,
    L1LossFunction,
    L2Loss,
    L2LossFunction,
    SoftmaxLoss,
    SoftmaxLossFunction,
    SVMLoss,
    SVMLossFunction,
    l1_loss,
    l2_loss,
    softmax_loss,
    svm_loss,
)

__all__ = [
    "Affine", "AffineFunction", "FullyConnectedNet", "L1Loss", "L1LossFunction", "L2Loss",
    "L2LossFunction", "ReLU", "ReLUFunction", "SVMLoss", "SVMLossFunction", "SoftmaxLoss",
    "SoftmaxLossFunction", "affine_backward", "affine_forward", "l1_loss", "l2_loss",
    "relu_backward", "relu_forward", "softmax_loss", "svm_loss",
]
