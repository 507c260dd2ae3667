"""Elementwise nonlinearities and maxout, NumPy reference (cs231n convention).

Chapter 0 uses the ReLU; chapter 1 is about all of them. Every nonlinearity is a pair
``<name>_forward(x, ...) -> (out, cache)`` and ``<name>_backward(dout, cache)``. An
elementwise forward takes a floating-point ``x`` of any shape and returns ``out`` of its
shape and dtype (each docstring says what its cache holds); its backward takes the upstream
gradient ``dout``, shaped like ``x``, with that cache, and returns ``dx`` alone, shaped like
``x``, since the function has no parameters. PReLU and maxout, whose parameters are learned,
return ``(dx, dparam, ...)`` and state their shapes.

**Numerical stability.** Every function accepts inputs of any finite magnitude (the tests go
to :math:`\\pm 10^4` in float32 and float64) without an overflow warning, a NaN or an inf:

* the sigmoid exponentiates only :math:`-|x|`, so ``exp`` never exceeds 1;
* the ELU applies ``expm1`` to :math:`\\min(x, 0)` only, never to a large positive number;
* the GELU takes the Gaussian CDF from ``erfc``, which is accurate in the far left tail
  where :math:`1 + \\mathrm{erf}` would cancel, and the Gaussian density of a clipped
  argument (it is exactly 0 in floating point beyond :math:`|x| = 40` anyway).

**Dtypes.** Every function computes in the dtype of ``x``: a float32 input gives float32
outputs and gradients (hyperparameters such as a slope are plain Python floats, which do not
promote an array). The reference is meant to be run in float64, its default everywhere.

**SciPy.** NumPy has no ``erf``; the GELU uses :func:`scipy.special.erfc` (SciPy is a
dependency of ``nntrain``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

from .. import validation as check

__all__ = [
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "prelu_forward",
    "prelu_backward",
    "elu_forward",
    "elu_backward",
    "gelu_forward",
    "gelu_backward",
    "silu_forward",
    "silu_backward",
    "maxout_forward",
    "maxout_backward",
]

#: Beyond this magnitude the Gaussian density is exactly 0 in float32 and float64.
_PDF_CLIP = 40.0


def _sigmoid(x):
    """The logistic function, exponentiating only ``-|x|`` (no overflow for any ``x``)."""
    z = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


# --------------------------------------------------------------------------- sigmoid


def sigmoid_forward(x):
    r"""Logistic sigmoid, elementwise: squashes every real number into :math:`(0, 1)`.

    The classic unit of early neural nets; LeCun, Bottou, Orr and Müller (1998), *Efficient
    BackProp*, explain why its non-zero-centred output and its saturation slow training.

    .. math::
        \sigma(x) = \frac{1}{1 + e^{-x}} =
        \begin{cases} 1 / (1 + e^{-|x|}) & x \ge 0 \\
                      e^{-|x|} / (1 + e^{-|x|}) & x < 0 \end{cases}

    The second form is the one computed: it exponentiates only :math:`-|x|`, so it never
    overflows; :math:`\sigma(-10^4)` is exactly 0 and :math:`\sigma(10^4)` exactly 1.

    The cache is ``out``.

    Example:
        >>> sigmoid_forward(np.array([-1e4, 0.0, 1e4]))[0]
        array([0. , 0.5, 1. ])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    out = _sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    r"""Backward pass of :func:`sigmoid_forward`, from the saved output alone.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \sigma(x)\,\bigl(1 - \sigma(x)\bigr)

    The local gradient is at most :math:`1/4` (at 0) and vanishes as :math:`|x|` grows: a
    saturated unit passes almost no gradient back.
    """
    out = cache
    check.upstream(dout, out.shape, check.ndarray, out=out)
    return dout * out * (1 - out)


# --------------------------------------------------------------------------- tanh


def tanh_forward(x):
    r"""Hyperbolic tangent, elementwise: a zero-centred sigmoid with range :math:`(-1, 1)`.

    Recommended over the logistic sigmoid by LeCun, Bottou, Orr and Müller (1998),
    *Efficient BackProp*, because its outputs are centred on 0.

    .. math::
        \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\,\sigma(2x) - 1

    Computed by ``np.tanh``, which is stable for every input.

    The cache is ``out``.

    Example:
        >>> tanh_forward(np.array([-1e4, 0.0, 1e4]))[0]
        array([-1.,  0.,  1.])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    r"""Backward pass of :func:`tanh_forward`, from the saved output alone.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \bigl(1 - \tanh^2(x)\bigr)
    """
    out = cache
    check.upstream(dout, out.shape, check.ndarray, out=out)
    return dout * (1 - out * out)


# --------------------------------------------------------------------------- ReLU


def relu_forward(x):
    r"""Rectified linear unit, :math:`\mathrm{out} = \max(0, x)` elementwise.

    Popularised for deep nets by Krizhevsky, Sutskever and Hinton (2012), *ImageNet
    Classification with Deep Convolutional Neural Networks*.

    .. math::
        \mathrm{ReLU}(x) = \max(0, x)

    The cache is ``x``.

    Example:
        >>> relu_forward(np.array([-1.0, 2.0]))[0]
        array([0., 2.])

    Used from chapter 0 on; compared with the others in chapter 1.
    """
    check.ndarray("x", x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    r"""Backward pass of :func:`relu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \mathbb{1}[x > 0]

    (the gradient at exactly 0 is taken to be 0, as in PyTorch).
    """
    x = cache
    check.upstream(dout, x.shape, check.ndarray, x=x)
    return dout * (x > 0)


# --------------------------------------------------------------------------- leaky ReLU


def leaky_relu_forward(x, negative_slope=0.01):
    r"""Leaky ReLU: the identity for positive inputs, a small slope for negative ones.

    Maas, Hannun and Ng (2013), *Rectifier Nonlinearities Improve Neural Network Acoustic
    Models*: the small negative slope keeps a gradient flowing through units that a ReLU
    would leave dead.

    .. math::
        \mathrm{LeakyReLU}(x) = \begin{cases} x & x > 0 \\
                                             a\,x & x \le 0 \end{cases}
        \qquad a = \texttt{negative\_slope}

    The cache is ``(x, negative_slope)``.

    Args:
        negative_slope: the slope :math:`a` for :math:`x \le 0`; any finite real number
            (0 gives the ReLU, 1 the identity; as in PyTorch, a negative value is allowed).

    Example:
        >>> leaky_relu_forward(np.array([-2.0, 3.0]), negative_slope=0.1)[0]
        array([-0.2,  3. ])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    slope = check.finite_real("negative_slope", negative_slope)
    return np.where(x > 0, x, slope * x), (x, slope)


def leaky_relu_backward(dout, cache):
    r"""Backward pass of :func:`leaky_relu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}

    (the gradient at exactly 0 is :math:`a`, as in PyTorch).
    """
    x, slope = cache
    check.upstream(dout, x.shape, check.ndarray, x=x)
    return dout * np.where(x > 0, 1, slope).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- PReLU


def _prelu_alpha(x, alpha):
    """``alpha`` checked against ``x`` and shaped to broadcast along its channel axis 1."""
    check.ndarray("alpha", alpha, ndim=1)
    return alpha.reshape(check.channel_vector("alpha", alpha, x))


def prelu_forward(x, alpha):
    r"""Parametric ReLU: a leaky ReLU whose negative slope is learned, per channel.

    He, Zhang, Ren and Sun (2015), *Delving Deep into Rectifiers: Surpassing Human-Level
    Performance on ImageNet Classification*. Same layout as ``torch.nn.PReLU``: ``alpha``
    holds one slope shared by every entry, or one per channel, the channel axis of an input
    of shape ``(N, C, *)`` being axis 1.

    .. math::
        \mathrm{PReLU}(x)_{n c \dots} = \begin{cases} x_{n c \dots} & x_{n c \dots} > 0 \\
        \alpha_c\, x_{n c \dots} & x_{n c \dots} \le 0 \end{cases}

    Args:
        x: a floating-point array of shape ``(N, C, *)``, or of any shape when ``alpha``
            has shape ``(1,)``.
        alpha: the slopes, shape ``(1,)`` or ``(C,)``.

    Returns:
        ``(out, cache)``: ``out`` has the shape and dtype of ``x``; the cache is
        ``(x, alpha)``.

    Example:
        >>> x = np.array([[-1.0, -1.0], [2.0, -4.0]])  # N = 2, C = 2
        >>> prelu_forward(x, np.array([0.1, 0.5]))[0]
        array([[-0.1, -0.5],
               [ 2. , -2. ]])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    a = _prelu_alpha(x, alpha)
    out = np.where(x > 0, x, a * x).astype(x.dtype, copy=False)
    return out, (x, alpha)


def prelu_backward(dout, cache):
    r"""Backward pass of :func:`prelu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \begin{cases} 1 & x > 0 \\ \alpha_c & x \le 0 \end{cases}, \qquad
        \frac{\partial L}{\partial \alpha_c} = \sum_{n, \dots}
        \frac{\partial L}{\partial \mathrm{out}_{n c \dots}} \min(x_{n c \dots}, 0)

    The slope's gradient sums over every axis but the channel axis (over every axis when
    ``alpha`` has one entry), as for ``torch.nn.PReLU.weight``.

    Args:
        dout: upstream gradient, shaped like ``x``.
        cache: the ``(x, alpha)`` saved by :func:`prelu_forward`.

    Returns:
        ``(dx, dalpha)`` with the shapes of ``x`` and ``alpha``.
    """
    x, alpha = cache
    check.upstream(dout, x.shape, check.ndarray, x=x)
    a = _prelu_alpha(x, alpha)
    dx = dout * np.where(x > 0, 1, a).astype(x.dtype, copy=False)
    g = dout * np.minimum(x, 0)
    if alpha.shape[0] == 1:
        dalpha = g.sum().reshape(1)
    else:
        dalpha = g.sum(axis=(0, *range(2, x.ndim)))
    return dx, dalpha.astype(alpha.dtype, copy=False)


# --------------------------------------------------------------------------- ELU


def elu_forward(x, alpha=1.0):
    r"""Exponential linear unit: the identity for positive inputs, a smooth exponential
    saturating at :math:`-\alpha` for negative ones.

    Clevert, Unterthiner and Hochreiter (2015), *Fast and Accurate Deep Network Learning by
    Exponential Linear Units (ELUs)*: negative outputs push the mean activation towards 0.

    .. math::
        \mathrm{ELU}(x) = \begin{cases} x & x > 0 \\
                                       \alpha\,(e^{x} - 1) & x \le 0 \end{cases}

    Computed as ``alpha * expm1(min(x, 0))`` on the negative side, so a large positive
    ``x`` is never exponentiated and :math:`e^x - 1` keeps its precision near 0.

    The cache is ``(x, alpha)``.

    Args:
        alpha: the saturation value :math:`\alpha`; any finite real number (the paper takes
            :math:`\alpha > 0`; PyTorch accepts any value, and so does this function).

    Example:
        >>> elu_forward(np.array([-1e4, 0.0, 2.0]))[0]
        array([-1.,  0.,  2.])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    a = check.finite_real("alpha", alpha)
    out = np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))
    return out, (x, a)


def elu_backward(dout, cache):
    r"""Backward pass of :func:`elu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \begin{cases} 1 & x > 0 \\ \alpha\, e^{x} & x \le 0 \end{cases}

    (at exactly 0 the gradient is :math:`\alpha`, as in PyTorch; the two sides meet there
    when :math:`\alpha = 1`).
    """
    x, a = cache
    check.upstream(dout, x.shape, check.ndarray, x=x)
    return dout * np.where(x > 0, 1, a * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- GELU


def gelu_forward(x):
    r"""Gaussian error linear unit (exact form): the input weighted by the standard normal
    probability of being below it.

    Hendrycks and Gimpel (2016), *Gaussian Error Linear Units (GELUs)*. This is the exact
    form (``torch.nn.GELU(approximate="none")``), not the tanh approximation.

    .. math::
        \mathrm{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\Bigl(1 + \mathrm{erf}\bigl(x/\sqrt{2}\bigr)
        \Bigr) = \frac{x}{2}\,\mathrm{erfc}\bigl(-x/\sqrt{2}\bigr)

    The last form is the one computed: it keeps full relative precision in the left tail,
    where :math:`1 + \mathrm{erf}` would cancel to 0.

    The cache is ``x``.

    Example:
        >>> gelu_forward(np.array([-1e4, 0.0, 1e4]))[0]
        array([   -0.,     0., 10000.])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    cdf = 0.5 * erfc(-x / math.sqrt(2))
    return (x * cdf).astype(x.dtype, copy=False), x


def gelu_backward(dout, cache):
    r"""Backward pass of :func:`gelu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \bigl(\Phi(x) + x\,\varphi(x)\bigr), \qquad
        \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}

    (the density is evaluated at ``x`` clipped to :math:`[-40, 40]`, beyond which it is
    exactly 0 in floating point, so :math:`x^2` cannot overflow).
    """
    x = cache
    check.upstream(dout, x.shape, check.ndarray, x=x)
    cdf = 0.5 * erfc(-x / math.sqrt(2))
    xc = np.clip(x, -_PDF_CLIP, _PDF_CLIP)
    pdf = np.exp(-0.5 * xc * xc) / math.sqrt(2 * math.pi)
    return dout * (cdf + x * pdf).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- SiLU


def silu_forward(x):
    r"""Sigmoid-weighted linear unit (SiLU, also called Swish): the input times its sigmoid.

    Elfwing, Uchibe and Doya (2018), *Sigmoid-Weighted Linear Units for Neural Network
    Function Approximation in Reinforcement Learning*; rediscovered by Ramachandran, Zoph
    and Le (2017) as *Swish*.

    .. math::
        \mathrm{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}

    The sigmoid is the stable one of :func:`sigmoid_forward`.

    The cache is ``(x, sigmoid(x))``.

    Example:
        >>> silu_forward(np.array([-1e4, 0.0, 1e4]))[0]
        array([   -0.,     0., 10000.])

    Used in chapter 1.
    """
    check.ndarray("x", x)
    s = _sigmoid(x)
    return x * s, (x, s)


def silu_backward(dout, cache):
    r"""Backward pass of :func:`silu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \bigl(\sigma(x) + x\,\sigma(x)\,(1 - \sigma(x))\bigr)
    """
    x, s = cache
    check.upstream(dout, x.shape, check.ndarray, x=x)
    return dout * (s * (1 + x * (1 - s)))


# --------------------------------------------------------------------------- maxout


def maxout_forward(x, w, b):
    r"""Maxout unit: the largest of :math:`k` affine maps of the input, output by output.

    Goodfellow, Warde-Farley, Mirza, Courville and Bengio (2013), *Maxout Networks*. With
    two pieces it contains the ReLU (second piece 0) and the leaky ReLU (second piece a
    multiple of the first), at the price of :math:`k` times the parameters of an affine
    layer. Each example is flattened to a row vector of length :math:`D_{in}`, then

    .. math::
        \mathrm{out}_{n e} = \max_{j = 1, \dots, k}\;
        \bigl(x_n W^{(j)} + b^{(j)}\bigr)_e,
        \qquad W^{(j)} \in \mathbb{R}^{D_{in} \times D_{out}},\;
        b^{(j)} \in \mathbb{R}^{D_{out}}.

    Ties go to the first piece that attains the maximum (``argmax``).

    Args:
        x: inputs of shape ``(N, d_1, ..., d_m)``, with ``D_in = d_1 * ... * d_m``.
        w: weights of the ``k`` pieces, shape ``(k, D_in, D_out)``, ``k >= 1``.
        b: biases of the ``k`` pieces, shape ``(k, D_out)``.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D_out)`` and the cache
        ``(x, w, b, winner)``, with ``winner`` the ``(N, D_out)`` index of the winning piece.

    Example:
        >>> w = np.stack([np.eye(2), np.zeros((2, 2))])  # pieces x and 0: a ReLU
        >>> maxout_forward(np.array([[-1.0, 2.0]]), w, np.zeros((2, 2)))[0]
        array([[0., 2.]])

    Used in chapter 1.
    """
    d_in = check.affine_inputs(x, w, b, check.ndarray, pieces=True)
    z = x.reshape(x.shape[0], d_in) @ w + b[:, None, :]  # (k, N, D_out)
    winner = z.argmax(axis=0)
    out = np.take_along_axis(z, winner[None], axis=0)[0]
    return out, (x, w, b, winner)


def maxout_backward(dout, cache):
    r"""Backward pass of :func:`maxout_forward`: the gradient goes to the winning piece.

    With :math:`g^{(j)}_{n e} = \partial L / \partial \mathrm{out}_{n e}` where piece
    :math:`j` wins and 0 elsewhere,

    .. math::
        \frac{\partial L}{\partial x} = \sum_j g^{(j)} W^{(j)\top}, \quad
        \frac{\partial L}{\partial W^{(j)}} = x^\top g^{(j)}, \quad
        \frac{\partial L}{\partial b^{(j)}} = \sum_n g^{(j)}_n.

    Args:
        dout: upstream gradient of shape ``(N, D_out)``.
        cache: the ``(x, w, b, winner)`` saved by :func:`maxout_forward`.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x``, ``w`` and ``b``.
    """
    x, w, b, winner = cache
    check.upstream(dout, winner.shape, check.ndarray, x=x, w=w)
    k = w.shape[0]
    g = (np.arange(k)[:, None, None] == winner[None]) * dout[None]  # (k, N, D_out)
    x2 = x.reshape(x.shape[0], -1)
    dx = (g @ w.transpose(0, 2, 1)).sum(axis=0).reshape(x.shape)
    dw = x2.T @ g
    db = g.sum(axis=1)
    return dx, dw, db
