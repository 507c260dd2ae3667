"""Elementwise nonlinearities and maxout, PyTorch twin of :mod:`nntrain.reference.activations`.

The functions take tensors on any device and compute the reference's formulas. Where
PyTorch has one fused kernel for a formula (``F.leaky_relu``, ``aten.threshold_backward``,
``aten.tanh_backward``, ...), the twin calls it: one pass over the data instead of one per
operation, so a twin runs at the speed of the built-in (``make bench`` measures it), and
the tests check every twin against the reference's explicit math.

Each technique also comes as an autograd Function that
runs our backward pass (``SigmoidFunction``, ``PReLUFunction``, ...) and as an ``nn.Module``
(``Sigmoid``, ``PReLU``, ...) that agrees with PyTorch's built-in of the same name.
Hyperparameters (a slope, the ELU's ``alpha``) are plain numbers passed after the tensors;
the Functions give them no gradient. Outputs keep the dtype of ``x``, and the modules of
the elementwise functions take an input of any shape and return that shape (:class:`PReLU`
and :class:`Maxout` state theirs).

Used in chapter 1 (the ReLU from chapter 0 on).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import validation as check
from ._function import layer_function

__all__ = [
    "sigmoid_forward",
    "sigmoid_backward",
    "SigmoidFunction",
    "Sigmoid",
    "tanh_forward",
    "tanh_backward",
    "TanhFunction",
    "Tanh",
    "relu_forward",
    "relu_backward",
    "ReLUFunction",
    "ReLU",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "LeakyReLUFunction",
    "LeakyReLU",
    "prelu_forward",
    "prelu_backward",
    "PReLUFunction",
    "PReLU",
    "elu_forward",
    "elu_backward",
    "ELUFunction",
    "ELU",
    "gelu_forward",
    "gelu_backward",
    "GELUFunction",
    "GELU",
    "silu_forward",
    "silu_backward",
    "SiLUFunction",
    "SiLU",
    "maxout_forward",
    "maxout_backward",
    "MaxoutFunction",
    "Maxout",
]

# --------------------------------------------------------------------------- sigmoid


def sigmoid_forward(x):
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})` on a tensor; the cache is
    ``out``. Same math as :func:`nntrain.reference.activations.sigmoid_forward`;
    ``torch.sigmoid`` is the stable primitive (exact 0 and 1 at :math:`\mp 10^4`).

    Example:
        >>> sigmoid_forward(torch.tensor([0.0]))[0]
        tensor([0.5000])
    """
    check.tensor("x", x)
    out = torch.sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    r"""Backward of :func:`sigmoid_forward`: ``dout * out * (1 - out)``, one tensor."""
    out = cache
    check.upstream(dout, out.shape, check.tensor, out=out)
    return torch.ops.aten.sigmoid_backward(dout, out)  # dout * out * (1 - out), fused


SigmoidFunction = layer_function("SigmoidFunction", sigmoid_forward, sigmoid_backward)


class Sigmoid(nn.Module):
    """Logistic sigmoid as an ``nn.Module`` (like ``nn.Sigmoid``), computed by
    :class:`SigmoidFunction`.
    """

    def forward(self, x):
        return SigmoidFunction.apply(x)


# --------------------------------------------------------------------------- tanh


def tanh_forward(x):
    r"""Hyperbolic tangent on a tensor; the cache is ``out``. Same math as
    :func:`nntrain.reference.activations.tanh_forward`.

    Example:
        >>> tanh_forward(torch.tensor([0.0]))[0]
        tensor([0.])
    """
    check.tensor("x", x)
    out = torch.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    r"""Backward of :func:`tanh_forward`: ``dout * (1 - out**2)``, one tensor."""
    out = cache
    check.upstream(dout, out.shape, check.tensor, out=out)
    return torch.ops.aten.tanh_backward(dout, out)  # dout * (1 - out**2), fused


TanhFunction = layer_function("TanhFunction", tanh_forward, tanh_backward)


class Tanh(nn.Module):
    """Hyperbolic tangent as an ``nn.Module`` (like ``nn.Tanh``), computed by
    :class:`TanhFunction`.
    """

    def forward(self, x):
        return TanhFunction.apply(x)


# --------------------------------------------------------------------------- ReLU


def relu_forward(x):
    r"""ReLU :math:`\max(0, x)` on a tensor; the cache is ``x``.

    Example:
        >>> relu_forward(torch.tensor([-1.0, 2.0]))[0]
        tensor([0., 2.])
    """
    check.tensor("x", x)
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    r"""Backward of :func:`relu_forward`: ``dout * 1[x > 0]``, one tensor."""
    x = cache
    check.upstream(dout, x.shape, check.tensor, x=x)
    return torch.ops.aten.threshold_backward(dout, x, 0)  # dout * 1[x > 0], fused


ReLUFunction = layer_function("ReLUFunction", relu_forward, relu_backward)


class ReLU(nn.Module):
    """ReLU as an ``nn.Module``, computed by :class:`ReLUFunction`."""

    def forward(self, x):
        return ReLUFunction.apply(x)


# --------------------------------------------------------------------------- leaky ReLU


def leaky_relu_forward(x, negative_slope=0.01):
    r"""Leaky ReLU on a tensor: ``x`` where :math:`x > 0`, ``negative_slope * x`` elsewhere;
    the cache is ``(x, negative_slope)``. Same math and arguments as
    :func:`nntrain.reference.activations.leaky_relu_forward`.

    Example:
        >>> leaky_relu_forward(torch.tensor([-2.0, 3.0]), 0.5)[0]
        tensor([-1.,  3.])
    """
    check.tensor("x", x)
    slope = check.finite_real("negative_slope", negative_slope)
    return nn.functional.leaky_relu(x, slope), (x, slope)  # where(x > 0, x, slope x), fused


def leaky_relu_backward(dout, cache):
    r"""Backward of :func:`leaky_relu_forward`: ``dout`` where :math:`x > 0`,
    ``negative_slope * dout`` elsewhere (at 0 too), one tensor."""
    x, slope = cache
    check.upstream(dout, x.shape, check.tensor, x=x)
    return torch.ops.aten.leaky_relu_backward(dout, x, slope, False)  # fused


LeakyReLUFunction = layer_function("LeakyReLUFunction", leaky_relu_forward, leaky_relu_backward)


class LeakyReLU(nn.Module):
    """Leaky ReLU as an ``nn.Module`` (like ``nn.LeakyReLU``), computed by
    :class:`LeakyReLUFunction`.

    Args:
        negative_slope: the slope for :math:`x \\le 0`, any finite real number.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check.finite_real("negative_slope", negative_slope)

    def forward(self, x):
        return LeakyReLUFunction.apply(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


# --------------------------------------------------------------------------- PReLU


def _prelu_alpha(x, alpha):
    """``alpha`` checked against ``x`` and shaped to broadcast along its channel axis 1."""
    check.tensor("alpha", alpha, ndim=1)
    check.same_kind(("x", "alpha"), x, alpha)
    return alpha.reshape(check.channel_vector("alpha", alpha, x))


def prelu_forward(x, alpha):
    r"""Parametric ReLU on tensors: ``x`` where :math:`x > 0`, ``alpha_c * x`` elsewhere,
    ``alpha`` of shape ``(1,)`` or ``(C,)`` for the channel axis 1 of ``x``; the cache is
    ``(x, alpha)``. Same math, shapes and layout as
    :func:`nntrain.reference.activations.prelu_forward` and ``torch.nn.PReLU``.

    Example:
        >>> prelu_forward(torch.tensor([[-2.0, 3.0]]), torch.tensor([0.25]))[0]
        tensor([[-0.5000,  3.0000]])
    """
    check.tensor("x", x)
    a = _prelu_alpha(x, alpha)
    # max(0, x) + alpha min(0, x), fused; torch.where is several times slower on CPU
    return torch.addcmul(x.clamp(min=0), a, x.clamp(max=0)), (x, alpha)


def prelu_backward(dout, cache):
    r"""Backward of :func:`prelu_forward`: ``(dx, dalpha)``, with
    ``dalpha`` summing ``dout * min(x, 0)`` over every axis but the channel axis (over all
    axes when ``alpha`` has one entry)."""
    x, alpha = cache
    check.upstream(dout, x.shape, check.tensor, x=x)
    a = _prelu_alpha(x, alpha)
    slope = torch.addcmul(a, (x > 0).to(dout.dtype), 1 - a)  # 1 where x > 0, alpha elsewhere
    dx = dout * slope
    g = dout * x.clamp(max=0)
    if alpha.shape[0] == 1:
        dalpha = g.sum().reshape(1)
    else:
        dalpha = g.sum(dim=(0, *range(2, x.ndim)))
    return dx, dalpha.to(alpha.dtype)


PReLUFunction = layer_function("PReLUFunction", prelu_forward, prelu_backward)


class PReLU(nn.Module):
    """Parametric ReLU as an ``nn.Module`` (like ``nn.PReLU``), computed by
    :class:`PReLUFunction`.

    Args:
        num_parameters: the number of slopes: 1 (shared) or the number of channels ``C``.
        init: the initial value of every slope.

    Shapes:
        input ``(N, C, *)`` (any shape when ``num_parameters`` is 1); output the same
        shape; ``weight`` is ``(num_parameters,)``.
    """

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        check.positive_int("num_parameters", num_parameters)
        init = check.finite_real("init", init)
        self.num_parameters = num_parameters
        self.weight = nn.Parameter(torch.full((num_parameters,), init))

    def forward(self, x):
        return PReLUFunction.apply(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


# --------------------------------------------------------------------------- ELU


def elu_forward(x, alpha=1.0):
    r"""ELU on a tensor: ``x`` where :math:`x > 0`, ``alpha * expm1(min(x, 0))`` elsewhere;
    the cache is ``(x, alpha)``. Same math and arguments as
    :func:`nntrain.reference.activations.elu_forward`.

    Example:
        >>> elu_forward(torch.tensor([-1e4, 2.0]))[0]
        tensor([-1.,  2.])
    """
    check.tensor("x", x)
    a = check.finite_real("alpha", alpha)
    return nn.functional.elu(x, a), (x, a)  # where(x > 0, x, a expm1(x)), fused


def elu_backward(dout, cache):
    r"""Backward of :func:`elu_forward`: ``dout`` where :math:`x > 0`,
    ``dout * alpha * exp(x)`` elsewhere, one tensor."""
    x, a = cache
    check.upstream(dout, x.shape, check.tensor, x=x)
    # where(x > 0, dout, dout * a * exp(x)), fused
    return torch.ops.aten.elu_backward(dout, a, 1, 1, False, x)


ELUFunction = layer_function("ELUFunction", elu_forward, elu_backward)


class ELU(nn.Module):
    """ELU as an ``nn.Module`` (like ``nn.ELU``), computed by :class:`ELUFunction`.

    Args:
        alpha: the saturation value for large negative inputs, any finite real number.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check.finite_real("alpha", alpha)

    def forward(self, x):
        return ELUFunction.apply(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


# --------------------------------------------------------------------------- GELU


def gelu_forward(x):
    r"""Exact GELU :math:`x\,\Phi(x)` on a tensor, :math:`\Phi` the standard normal
    CDF; the cache is ``x``. Same math as
    :func:`nntrain.reference.activations.gelu_forward`.

    Example:
        >>> gelu_forward(torch.tensor([0.0, 1e4]))[0]
        tensor([    0., 10000.])
    """
    check.tensor("x", x)
    # x * Phi(x) with Phi from erfc, exact in the far negative tail, where F.gelu's erf
    # form loses every digit
    return torch.special.erfc(x * -math.sqrt(0.5)).mul_(x).mul_(0.5), x


def gelu_backward(dout, cache):
    r"""Backward of :func:`gelu_forward`: ``dout * (Phi(x) + x * phi(x))``, one tensor."""
    x = cache
    check.upstream(dout, x.shape, check.tensor, x=x)
    return torch.ops.aten.gelu_backward(dout, x)  # dout * (Phi(x) + x phi(x)), fused


GELUFunction = layer_function("GELUFunction", gelu_forward, gelu_backward)


class GELU(nn.Module):
    """Exact GELU as an ``nn.Module`` (like ``nn.GELU(approximate="none")``), computed by
    :class:`GELUFunction`.
    """

    def forward(self, x):
        return GELUFunction.apply(x)


# --------------------------------------------------------------------------- SiLU


def silu_forward(x):
    r"""SiLU (Swish) :math:`x\,\sigma(x)` on a tensor; the cache is ``x`` (the fused
    backward recomputes the sigmoid). Same math as
    :func:`nntrain.reference.activations.silu_forward`.

    Example:
        >>> silu_forward(torch.tensor([0.0, 1e4]))[0]
        tensor([    0., 10000.])
    """
    check.tensor("x", x)
    return torch.sigmoid(x).mul_(x), x


def silu_backward(dout, cache):
    r"""Backward of :func:`silu_forward`: ``dout * s * (1 + x * (1 - s))`` with
    ``s = sigmoid(x)``, one tensor."""
    x = cache
    check.upstream(dout, x.shape, check.tensor, x=x)
    return torch.ops.aten.silu_backward(dout, x)  # dout * s * (1 + x (1 - s)), fused


SiLUFunction = layer_function("SiLUFunction", silu_forward, silu_backward)


class SiLU(nn.Module):
    """SiLU (Swish) as an ``nn.Module`` (like ``nn.SiLU``), computed by
    :class:`SiLUFunction`.
    """

    def forward(self, x):
        return SiLUFunction.apply(x)


# --------------------------------------------------------------------------- maxout


def maxout_forward(x, w, b):
    r"""Maxout on tensors: the largest of the ``k`` affine maps ``x_flat @ w[j] + b[j]``,
    output by output; the cache is ``(x, w, b, winner)``. Same arguments, shapes and ties
    (the first winning piece) as :func:`nntrain.reference.activations.maxout_forward`.

    Example:
        >>> w = torch.stack([torch.eye(2), torch.zeros(2, 2)])
        >>> maxout_forward(torch.tensor([[-1.0, 2.0]]), w, torch.zeros(2, 2))[0]
        tensor([[0., 2.]])
    """
    d_in = check.affine_inputs(x, w, b, check.tensor, pieces=True)
    z = torch.matmul(x.reshape(x.shape[0], d_in), w) + b[:, None, :]  # (k, N, D_out)
    winner = z.argmax(dim=0)
    out = z.gather(0, winner[None])[0]
    return out, (x, w, b, winner)


def maxout_backward(dout, cache):
    r"""Backward of :func:`maxout_forward`: ``(dx, dw, db)``, the gradient flowing only
    through the winning piece of each output."""
    x, w, _, winner = cache
    check.upstream(dout, winner.shape, check.tensor, x=x, w=w)
    k = w.shape[0]
    g = torch.zeros((k, *dout.shape), dtype=dout.dtype, device=dout.device)
    g.scatter_(0, winner[None], dout[None])
    x2 = x.reshape(x.shape[0], -1)
    dx = torch.matmul(g, w.transpose(1, 2)).sum(dim=0).reshape(x.shape)
    dw = torch.matmul(x2.T, g)
    return dx, dw, g.sum(dim=1)


MaxoutFunction = layer_function("MaxoutFunction", maxout_forward, maxout_backward)


class Maxout(nn.Module):
    """Maxout layer as an ``nn.Module``, computed by :class:`MaxoutFunction`.

    Args:
        in_features: ``D_in``.
        out_features: ``D_out``.
        k: the number of pieces (an affine map each).
        weight_scale: weights start as ``weight_scale * standard normal``, biases at 0.

    Shapes:
        input ``(N, *)`` flattening to ``(N, D_in)``; output ``(N, D_out)``; ``weight`` is
        ``(k, D_in, D_out)`` and ``bias`` ``(k, D_out)``: ``k`` times the parameters of an
        affine layer.
    """

    def __init__(self, in_features, out_features, k=2, weight_scale=1e-2):
        super().__init__()
        check.positive_int("in_features", in_features)
        check.positive_int("out_features", out_features)
        check.positive_int("k", k)
        check.positive("weight_scale", weight_scale)
        self.weight = nn.Parameter(weight_scale * torch.randn(k, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(k, out_features))

    def forward(self, x):
        return MaxoutFunction.apply(x, self.weight, self.bias)

    def extra_repr(self):
        k, d_in, d_out = self.weight.shape
        return f"in_features={d_in}, out_features={d_out}, k={k}"
