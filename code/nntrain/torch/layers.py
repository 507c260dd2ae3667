"""Layers with weights, PyTorch twin of :mod:`nntrain.reference.layers`.

The functions take tensors on any device and follow the reference's math and layout
(an affine weight is ``(D_in, D_out)``, the transpose of ``torch.nn.Linear.weight``).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import validation as check
from ._function import layer_function

__all__ = [
    "affine_forward",
    "affine_backward",
    "AffineFunction",
    "Affine",
]


def affine_forward(x, w, b):
    r"""Fully connected layer :math:`\mathrm{out} = x W + b` on tensors.

    Same arguments, shapes and cache as :func:`nntrain.reference.layers.affine_forward`.
    """
    d_in = check.affine_inputs(x, w, b, check.tensor)
    out = torch.addmm(b, x.reshape(x.shape[0], d_in), w)
    return out, (x, w, b)


def affine_backward(dout, cache):
    r"""Backward pass of :func:`affine_forward`: ``(dx, dw, db)``.

    .. math::
        dx = dout\, W^\top, \quad dW = x^\top dout, \quad db = \textstyle\sum_n dout_n
    """
    x, w, _ = cache
    check.upstream(dout, (x.shape[0], w.shape[1]), check.tensor, x=x, w=w)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(0)


AffineFunction = layer_function("AffineFunction", affine_forward, affine_backward)


class Affine(nn.Module):
    """Fully connected layer as an ``nn.Module``, computed by :class:`AffineFunction`.

    Args:
        in_features: ``D_in``.
        out_features: ``D_out``.
        weight_scale: the weight starts as ``weight_scale * standard normal``, the bias at 0.

    Shapes:
        input ``(N, *)`` flattening to ``(N, D_in)``; output ``(N, D_out)``;
        ``weight`` is ``(D_in, D_out)``.
    """

    def __init__(self, in_features, out_features, weight_scale=1e-2):
        super().__init__()
        check.positive_int("in_features", in_features)
        check.positive_int("out_features", out_features)
        check.positive("weight_scale", weight_scale)
        self.weight = nn.Parameter(weight_scale * torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return AffineFunction.apply(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.weight.shape[0]}, out_features={self.weight.shape[1]}"
