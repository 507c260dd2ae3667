"""NumPy reference implementations with explicit forward and backward passes.

Float64 by default and the cs231n calling convention:
``<name>_forward(x, ...) -> (out, cache)`` and ``<name>_backward(dout, cache)``.
The PyTorch twin :mod:`nntrain.torch` mirrors every module and function name here.
"""

from . import init as init  # reachable as nntrain.reference.init, as torch.nn.init is
from . import optim as optim  # reachable as nntrain.reference.optim, as torch.optim is
from .activations import (
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
from .dropout import dropout_backward, dropout_forward
from .fc_net import FullyConnectedNet
from .layers import affine_backward, affine_forward
from .losses import l1_loss, l2_loss, softmax_loss, svm_loss
from .normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from .penalties import elastic_net_penalty, l1_penalty, l2_penalty, max_norm, soft_threshold
from .preprocessing import PCA, Center, ChannelMean, MeanImage, NotFittedError, Standardize, Whiten

__all__ = [
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "PCA",
    "Center",
    "ChannelMean",
    "MeanImage",
    "NotFittedError",
    "Standardize",
    "Whiten",
    "FullyConnectedNet",
    "affine_backward",
    "affine_forward",
    "dropout_backward",
    "dropout_forward",
    "elastic_net_penalty",
    "elu_backward",
    "elu_forward",
    "gelu_backward",
    "gelu_forward",
    "l1_loss",
    "l1_penalty",
    "l2_loss",
    "l2_penalty",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "max_norm",
    "maxout_backward",
    "maxout_forward",
    "prelu_backward",
    "prelu_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "silu_backward",
    "silu_forward",
    "soft_threshold",
    "softmax_loss",
    "svm_loss",
    "tanh_backward",
    "tanh_forward",
]
