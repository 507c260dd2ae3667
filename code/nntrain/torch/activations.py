"""Elementwise nonlinearities, PyTorch twin of :mod:`nntrain.reference.activations`."""

from __future__ import annotations

from torch import nn

from .. import _validate as check
from ._function import layer_function


def relu_forward(x):
    r"""ReLU :math:`\max(0, x)` on a tensor; the cache is ``x``."""
    check.tensor("x", x)
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    r"""Backward of :func:`relu_forward`: ``dout * 1[x > 0]``, one tensor."""
    x = cache
    check.tensor("dout", dout)
    check.shape("dout", dout, tuple(x.shape))
    return dout * (x > 0)


ReLUFunction = layer_function("ReLUFunction", relu_forward, relu_backward)


class ReLU(nn.Module):
    """ReLU as an ``nn.Module``, computed by :class:`ReLUFunction`."""

    def forward(self, x):
        return ReLUFunction.apply(x)
