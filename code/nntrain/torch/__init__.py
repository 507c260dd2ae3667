"""The PyTorch twin of :mod:`nntrain.reference`: same modules, functions and arguments.

Each technique appears three ways: the ``<name>_forward``/``<name>_backward`` functions on
tensors (any device), a ``torch.autograd.Function`` that runs them (``AffineFunction``), and an
``nn.Module`` that drops into an ordinary PyTorch model (``Affine``).
"""

from . import init as init  # reachable as nntrain.torch.init, as torch.nn.init is
from .activations import (
    ELU,
    GELU,
    ELUFunction,
    GELUFunction,
    LeakyReLU,
    LeakyReLUFunction,
    Maxout,
    MaxoutFunction,
    PReLU,
    PReLUFunction,
    ReLU,
    ReLUFunction,
    Sigmoid,
    SigmoidFunction,
    SiLU,
    SiLUFunction,
    Tanh,
    TanhFunction,
    elu_backward,
    elu_forward,
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    maxout_backward,
    maxout_forward,
    prelu_backward,
    prelu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    silu_backward,
    silu_forward,
    tanh_backward,
    tanh_forward,
)
from .fc_net import FullyConnectedNet
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNormFunction,
    SpatialBatchNormFunction,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from .preprocessing import PCA, Center, ChannelMean, MeanImage, NotFittedError, Standardize, Whiten
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
    "BatchNorm1d", "BatchNorm2d", "BatchNormFunction", "SpatialBatchNormFunction",
    "batchnorm_backward", "batchnorm_backward_alt", "batchnorm_forward",
    "spatial_batchnorm_backward", "spatial_batchnorm_forward",
    "PCA", "Center", "ChannelMean", "MeanImage", "NotFittedError", "Standardize", "Whiten",
    "Affine", "AffineFunction", "ELU", "ELUFunction", "FullyConnectedNet", "GELU",
    "GELUFunction", "L1Loss", "L1LossFunction", "L2Loss", "L2LossFunction", "LeakyReLU",
    "LeakyReLUFunction", "Maxout", "MaxoutFunction", "PReLU", "PReLUFunction", "ReLU",
    "ReLUFunction", "SVMLoss", "SVMLossFunction", "SiLU", "SiLUFunction", "Sigmoid",
    "SigmoidFunction", "SoftmaxLoss", "SoftmaxLossFunction", "Tanh", "TanhFunction",
    "affine_backward", "affine_forward", "elu_backward", "elu_forward", "gelu_backward",
    "gelu_forward", "l1_loss", "l2_loss", "leaky_relu_backward", "leaky_relu_forward",
    "maxout_backward", "maxout_forward", "prelu_backward", "prelu_forward", "relu_backward",
    "relu_forward", "sigmoid_backward", "sigmoid_forward", "silu_backward", "silu_forward",
    "softmax_loss", "svm_loss", "tanh_backward", "tanh_forward",
]
