"""Weight initialization schemes, NumPy reference: new float64 arrays drawn at the right scale.

A network whose weights start too small passes ever smaller signals forward and ever smaller
gradients back; one whose weights start too large saturates or explodes. The schemes here
pick the scale of the random weights from the *fans* of a layer so that, for a given
nonlinearity, the variance of the activations (forward) or of the gradients (backward) stays
roughly the same from layer to layer. A layer with :math:`n_{in}` inputs per output unit
(``fan_in``) and :math:`n_{out}` outputs per input unit (``fan_out``) gets weights of mean 0
and standard deviation

* Glorot and Bengio (2010), *Understanding the difficulty of training deep feedforward
  neural networks* (:func:`xavier_uniform`, :func:`xavier_normal`), a compromise between
  the forward and the backward pass:
  :math:`\\sigma = \\mathrm{gain} \\cdot \\sqrt{2 / (n_{in} + n_{out})}`;
* He, Zhang, Ren and Sun (2015), *Delving deep into rectifiers* (:func:`kaiming_uniform`,
  :func:`kaiming_normal`), which accounts for the ReLU zeroing half of its inputs:
  :math:`\\sigma = \\mathrm{gain} / \\sqrt{n}`, with :math:`n` the fan in (forward) or the
  fan out (backward) and :math:`\\mathrm{gain} = \\sqrt{2}` for the ReLU;
* LeCun, Bottou, Orr and Müller (1998), *Efficient BackProp* (:func:`lecun_normal`):
  :math:`\\sigma = 1 / \\sqrt{n_{in}}`, unit variance for a linear (or tanh-like) unit.

The gain of every nonlinearity comes from :func:`calculate_gain`, with the values and names
of ``torch.nn.init.calculate_gain``. A uniform draw :math:`\\mathcal{U}(-b, b)` has standard
deviation :math:`b / \\sqrt{3}`, so the uniform variants use the bound
:math:`b = \\sqrt{3}\\,\\sigma` and have the same variance as the normal ones.

**Layouts and fans.** The reference follows the cs231n layout: an affine weight has shape
``(D_in, D_out)`` (``out = x @ w``), so ``fan_in = shape[0]`` and ``fan_out = shape[1]``; a
convolution weight has shape ``(F, C, HH, WW)``, so ``fan_in = C * HH * WW`` and
``fan_out = F * HH * WW``. PyTorch stores an affine weight the other way round,
``(out_features, in_features)`` (``out = x @ w.T``), and ``torch.nn.init`` takes
``fan_in = shape[1]``: passing a reference affine weight shape to PyTorch's formula swaps the
two fans. Convolution weights have the same layout in both (``(out, in, *kernel)``), so
their fans agree. The PyTorch twin :mod:`nntrain.torch.init` uses PyTorch's layout.

**Interface.** Every function takes the ``shape`` of the array to create, a tuple of
non-negative integers (with at least 2 dimensions for the schemes that need fans), and
returns a new float64 array of that shape; the random ones draw from ``rng``, a
:class:`numpy.random.Generator` (``np.random.default_rng(seed)``), which is required so
that every draw is reproducible. :func:`zeros`, :func:`constant` and :func:`normal` take
any rank; :func:`zeros` and :func:`constant` also accept ``rng`` and ignore it, so that all
schemes can be called the same way. Every argument is checked, with a ``TypeError`` or
``ValueError`` that names it.

Used in chapter 3 (weight initialization).
"""

from __future__ import annotations

import math

import numpy as np

from .. import validation as check

__all__ = [
    "NONLINEARITIES",
    "MODES",
    "calculate_gain",
    "zeros",
    "constant",
    "normal",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "lecun_normal",
    "fans",
]

#: The names for which the gain is 1: linear layers and convolutions without a nonlinearity.
_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)

#: Every name :func:`calculate_gain` accepts, in the order of its documentation.
NONLINEARITIES = _LINEAR + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")

#: The fan modes of :func:`kaiming_uniform` and :func:`kaiming_normal`.
MODES = ("fan_in", "fan_out")


def calculate_gain(nonlinearity, param=None):
    r"""The recommended gain of a nonlinearity: the factor that keeps activations at scale.

    Same names and values as ``torch.nn.init.calculate_gain``:

    * ``"linear"``, ``"conv1d"``, ``"conv2d"``, ``"conv3d"``, ``"conv_transpose1d"``,
      ``"conv_transpose2d"``, ``"conv_transpose3d"`` and ``"sigmoid"``: :math:`1`;
    * ``"tanh"``: :math:`5 / 3`;
    * ``"relu"``: :math:`\sqrt{2}`;
    * ``"leaky_relu"`` with negative slope :math:`a` (``param``, default 0.01):
      :math:`\sqrt{2 / (1 + a^2)}`;
    * ``"selu"``: :math:`3 / 4`.

    The ReLU gain :math:`\sqrt{2}` makes up for the half of the second moment
    :math:`\mathbb{E}[z^2]` that the ReLU sets to 0 for a symmetric pre-activation :math:`z`
    (He et al. 2015); the leaky ReLU keeps a fraction :math:`a^2` of that half's second
    moment.
    The SELU value is PyTorch's empirical choice; for a self-normalizing network use
    ``"linear"`` instead, which gives weights of variance :math:`1 / n_{in}`.

    Args:
        nonlinearity: the name of the nonlinearity, one of :data:`NONLINEARITIES`.
        param: the negative slope of ``"leaky_relu"`` (default 0.01); ignored by every
            other nonlinearity, as in PyTorch.

    Returns:
        The gain, a Python float.

    Example:
        >>> calculate_gain("relu") == math.sqrt(2)
        True
        >>> round(calculate_gain("leaky_relu", 0.2), 4)
        1.3868
    """
    check.one_of("nonlinearity", nonlinearity, NONLINEARITIES)
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    slope = 0.01 if param is None else check.gain_param(param)  # leaky_relu
    return math.sqrt(2.0 / (1 + slope**2))


# --------------------------------------------------------------------------- checks


def fans(shape):
    """``(fan_in, fan_out)`` of a weight of the given shape, in the reference layout.

    An affine weight ``(D_in, D_out)`` has ``fan_in = D_in`` and ``fan_out = D_out`` (PyTorch,
    with its ``(out, in)`` layout, takes ``fan_in = shape[1]``). A convolution weight
    ``(F, C, *kernel)`` has ``fan_in = C * prod(kernel)`` and ``fan_out = F * prod(kernel)``,
    as in PyTorch. Raises ``ValueError`` for a shape with fewer than 2 dimensions.
    """
    shape = check.weight_shape(shape)
    if len(shape) < 2:
        raise ValueError(
            "shape must have at least 2 dimensions to define fan_in and fan_out "
            f"((D_in, D_out) or (F, C, HH, WW)), got {shape}"
        )
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _std(fan, gain=1.0):
    r""":math:`\mathrm{gain} / \sqrt{\mathrm{fan}}`, or ``nan`` for a fan of 0 (an empty
    weight, which has no entry to draw)."""
    return gain / math.sqrt(fan) if fan else math.nan


def _xavier_std(shape, gain):
    r"""Glorot and Bengio's :math:`\mathrm{gain} \cdot \sqrt{2 / (n_{in} + n_{out})}`,
    after checking ``shape`` and ``gain``."""
    fan_in, fan_out = fans(shape)
    check.positive("gain", gain, allow_zero=True)
    if fan_in + fan_out == 0:
        return math.nan
    return float(gain) * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(shape, a, mode, nonlinearity):
    r"""He et al.'s :math:`\mathrm{gain} / \sqrt{n}`, with the fan :math:`n` chosen by
    ``mode``, after checking every argument."""
    fan = fans(shape)[check.one_of("mode", mode, MODES)]
    return _std(fan, calculate_gain(nonlinearity, a))


def _lecun_std(shape):
    r"""LeCun's :math:`1 / \sqrt{n_{in}}`, after checking ``shape``."""
    return _std(fans(shape)[0])


def _uniform(shape, bound, rng):
    """A float64 draw from U(-bound, bound), or zeros for an empty ``shape``."""
    rng = check.numpy_generator(rng)
    if math.prod(shape) == 0:
        return np.zeros(shape)
    return rng.uniform(-bound, bound, size=shape)


def _normal(shape, std, rng):
    """A float64 draw from N(0, std^2), or zeros for an empty ``shape``."""
    rng = check.numpy_generator(rng)
    if math.prod(shape) == 0:
        return np.zeros(shape)
    return rng.normal(0.0, std, size=shape)


# --------------------------------------------------------------------------- constants


def zeros(shape, *, rng=None):
    """An array of zeros: the usual start for biases (never for the weights of a layer,
    whose units would then all compute, and learn, the same thing).

    Example:
        >>> zeros((2, 3))
        array([[0., 0., 0.],
               [0., 0., 0.]])
    """
    return np.zeros(check.weight_shape(shape), dtype=np.float64)


def constant(shape, value, *, rng=None):
    """An array filled with one value (for example a small positive bias before a ReLU).

    Args:
        value: the value of every entry, a finite real number.

    Example:
        >>> constant((2,), 0.1)
        array([0.1, 0.1])
    """
    shape = check.weight_shape(shape)
    value = check.finite_real("value", value)
    return np.full(shape, value, dtype=np.float64)


def normal(shape, std, *, rng):
    r"""Weights drawn from :math:`\mathcal{N}(0, \mathrm{std}^2)`, a scale chosen by hand.

    This is the ``weight_scale * standard normal`` start of
    :class:`nntrain.reference.fc_net.FullyConnectedNet`; the schemes below choose ``std`` from the
    fans instead.

    Args:
        std: the standard deviation, a finite real number >= 0 (0 gives zeros).

    Example:
        >>> normal((3, 4), 0.01, rng=np.random.default_rng(0)).shape
        (3, 4)
    """
    shape = check.weight_shape(shape)
    check.positive("std", std, allow_zero=True)
    return _normal(shape, float(std), rng)


# --------------------------------------------------------------------------- Glorot


def xavier_uniform(shape, gain=1.0, *, rng):
    r"""Glorot (Xavier) uniform initialization: :math:`\mathcal{U}(-b, b)` with

    .. math::
        b = \sqrt{3}\,\sigma = \mathrm{gain} \cdot \sqrt{\frac{6}{n_{in} + n_{out}}}.

    Glorot and Bengio (2010), *Understanding the difficulty of training deep feedforward
    neural networks*: the variance :math:`2 / (n_{in} + n_{out})` is the compromise between
    :math:`1 / n_{in}`, which keeps the forward activations at scale, and
    :math:`1 / n_{out}`, which does the same for the backward gradients.

    Fans of the reference layout (see the module docstring).

    Args:
        gain: the factor for the nonlinearity that follows, from :func:`calculate_gain`; a
            finite real number >= 0.

    Example:
        >>> w = xavier_uniform((300, 100), rng=np.random.default_rng(0))
        >>> bool(abs(w).max() <= math.sqrt(6 / 400))
        True
    """
    shape = check.weight_shape(shape)
    std = _xavier_std(shape, gain)
    return _uniform(shape, math.sqrt(3.0) * std, rng)


def xavier_normal(shape, gain=1.0, *, rng):
    r"""Glorot (Xavier) normal initialization: :math:`\mathcal{N}(0, \sigma^2)` with

    .. math::
        \sigma = \mathrm{gain} \cdot \sqrt{\frac{2}{n_{in} + n_{out}}}.

    Glorot and Bengio (2010); see :func:`xavier_uniform`, which has the same variance and
    the same ``gain``. Fans of the reference layout (see the module docstring).

    Example:
        >>> w = xavier_normal((300, 100), rng=np.random.default_rng(0))
        >>> round(float(w.std() / math.sqrt(2 / 400)), 1)
        1.0
    """
    shape = check.weight_shape(shape)
    return _normal(shape, _xavier_std(shape, gain), rng)


# --------------------------------------------------------------------------- He


def kaiming_uniform(shape, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng):
    r"""He (Kaiming) uniform initialization: :math:`\mathcal{U}(-b, b)` with

    .. math::
        b = \sqrt{3}\,\sigma = \mathrm{gain} \cdot \sqrt{\frac{3}{n}},

    where the gain is ``calculate_gain(nonlinearity, a)`` and :math:`n` is ``fan_in``
    (``mode="fan_in"``, the default: the variance of the activations is kept in the forward
    pass) or ``fan_out`` (``mode="fan_out"``: the variance of the gradients is kept in the
    backward pass). He, Zhang, Ren and Sun (2015), *Delving deep into rectifiers*. The
    defaults are PyTorch's: a leaky ReLU of slope ``a = 0``, that is a ReLU, gain
    :math:`\sqrt{2}`.

    Fans of the reference layout (see the module docstring).

    Args:
        a: the negative slope of the leaky ReLU that follows (used only with
            ``nonlinearity="leaky_relu"``).
        mode: ``"fan_in"`` or ``"fan_out"``.
        nonlinearity: the nonlinearity that follows, a name accepted by
            :func:`calculate_gain`; meant for ``"relu"`` and ``"leaky_relu"``.

    Example:
        >>> w = kaiming_uniform((200, 100), nonlinearity="relu", rng=np.random.default_rng(0))
        >>> bool(abs(w).max() <= math.sqrt(6 / 200))
        True
    """
    shape = check.weight_shape(shape)
    std = _kaiming_std(shape, a, mode, nonlinearity)
    return _uniform(shape, math.sqrt(3.0) * std, rng)


def kaiming_normal(shape, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng):
    r"""He (Kaiming) normal initialization: :math:`\mathcal{N}(0, \sigma^2)` with

    .. math::
        \sigma = \frac{\mathrm{gain}}{\sqrt{n}},

    where the gain is ``calculate_gain(nonlinearity, a)`` and :math:`n` is ``fan_in``
    (``mode="fan_in"``, the default) or ``fan_out`` (``mode="fan_out"``). He, Zhang, Ren and
    Sun (2015), *Delving deep into rectifiers*; for a ReLU network,
    :math:`\sigma = \sqrt{2 / n_{in}}`. See :func:`kaiming_uniform`, which has the same
    variance.

    Fans of the reference layout (see the module docstring).

    Args:
        a, mode, nonlinearity: as in :func:`kaiming_uniform`.

    Example:
        >>> w = kaiming_normal((500, 100), nonlinearity="relu", rng=np.random.default_rng(0))
        >>> round(float(w.std() / math.sqrt(2 / 500)), 1)
        1.0
    """
    shape = check.weight_shape(shape)
    return _normal(shape, _kaiming_std(shape, a, mode, nonlinearity), rng)


# --------------------------------------------------------------------------- LeCun


def lecun_normal(shape, *, rng):
    r"""LeCun normal initialization: :math:`\mathcal{N}(0, \sigma^2)` with

    .. math::
        \sigma = \frac{1}{\sqrt{n_{in}}}.

    LeCun, Bottou, Orr and Müller (1998), *Efficient BackProp*: with inputs of unit variance,
    every pre-activation then has unit variance too, in the range where a sigmoid-like unit
    is neither linear nor saturated. It is :func:`kaiming_normal` with
    ``nonlinearity="linear"``, and the initialization of self-normalizing (SELU) networks.

    Fans of the reference layout (see the module docstring).

    Example:
        >>> w = lecun_normal((400, 100), rng=np.random.default_rng(0))
        >>> round(float(w.std() * math.sqrt(400)), 1)
        1.0
    """
    shape = check.weight_shape(shape)
    return _normal(shape, _lecun_std(shape), rng)
