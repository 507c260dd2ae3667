"""Weight initialization schemes, PyTorch twin of :mod:`nntrain.reference.init`.

The same schemes, on a tensor of any device, filled in place like ``torch.nn.init``: each
function is named after its reference twin with a trailing underscore (``xavier_uniform_``
for :func:`nntrain.reference.init.xavier_uniform`), takes the ``tensor`` to fill instead of
a ``shape``, fills it under ``torch.no_grad()`` (so a parameter that requires a gradient can
be initialized; its ``requires_grad`` is left as it is) and returns that same tensor. The
tensor keeps its dtype and device. :func:`calculate_gain` keeps its name.

The standard deviations are computed here from the formulas of the reference (Glorot and
Bengio 2010, He et al. 2015, LeCun et al. 1998; see :mod:`nntrain.reference.init`); the
draws use the tensor's own ``uniform_`` and ``normal_``, the primitives of
``torch.nn.init``, so that with the same generator state the values are those of
``torch.nn.init``'s function of the same name (``lecun_normal_``, which PyTorch lacks, is
its ``kaiming_normal_`` with ``nonlinearity="linear"``).

**Layout and fans.** The layout is PyTorch's: a ``torch.nn.Linear`` weight has shape
``(out_features, in_features)`` (``out = x @ w.T``), a convolution weight
``(out_channels, in_channels, *kernel)``, so

.. math::
    n_{in} = \\mathrm{shape}[1] \\cdot \\prod \\mathrm{shape}[2:], \\qquad
    n_{out} = \\mathrm{shape}[0] \\cdot \\prod \\mathrm{shape}[2:],

that is ``fan_in = shape[1]`` for a linear weight. The reference's affine weights are the
transpose, ``(D_in, D_out)``, with ``fan_in = shape[0]``: a reference weight ``w`` and the
tensor ``w.T`` have the same fans. Convolution weights have the same layout in both trees.

**Randomness.** ``rng`` is an optional :class:`torch.Generator` on the tensor's device type;
``None`` draws from PyTorch's global generator (seeded by :func:`nntrain.seed` or
``torch.manual_seed``).

**Arguments.** ``tensor`` is a floating-point tensor of any device (with at least 2
dimensions for the schemes that need fans); every other argument (``value``, ``std``,
``gain``, ``a``, ``mode``, ``nonlinearity``) is the reference's, with its meaning, its
default and its check, and each function returns ``tensor``. "The values of
``torch.nn.init.<name>``" below means: for the same generator state.

Used in chapter 3 (weight initialization), for PyTorch layers on any device.
"""

from __future__ import annotations

import math

import torch

from .. import validation as check
from ..reference import init as reference_init
from ..reference.init import MODES, NONLINEARITIES

__all__ = [
    "NONLINEARITIES",
    "MODES",
    "calculate_gain",
    "zeros_",
    "constant_",
    "normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "lecun_normal_",
    "fans",
]


def fans(shape):
    """``(fan_in, fan_out)`` of a weight of the given shape, in PyTorch's layout.

    A linear weight ``(out, in)`` has ``fan_in = in = shape[1]`` and
    ``fan_out = out = shape[0]`` (the reference, with its ``(D_in, D_out)`` layout, takes
    ``fan_in = shape[0]``). A convolution weight ``(out, in, *kernel)`` has
    ``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``, as in the reference.
    Raises ``ValueError`` for a shape with fewer than 2 dimensions.
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(
            "tensor must have at least 2 dimensions to define fan_in and fan_out "
            f"((out_features, in_features) or (out_channels, in_channels, *kernel)), "
            f"got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _tensor(tensor):
    """Check the tensor to fill: a floating-point torch tensor. Its values are not checked
    (``torch.empty`` may hold NaNs, and they are about to be overwritten)."""
    return check.tensor("tensor", tensor)


def _std(fan, gain=1.0):
    r""":math:`\mathrm{gain} / \sqrt{\mathrm{fan}}`, or ``nan`` for a fan of 0 (an empty
    tensor, which has no entry to fill)."""
    return gain / math.sqrt(fan) if fan else math.nan


def _uniform(tensor, bound, rng):
    """Fill ``tensor`` from U(-bound, bound) in place (nothing to fill if it is empty)."""
    rng = check.torch_generator(rng, tensor)
    if tensor.numel():
        with torch.no_grad():
            tensor.uniform_(-bound, bound, generator=rng)
    return tensor


def _normal(tensor, std, rng):
    """Fill ``tensor`` from N(0, std^2) in place (nothing to fill if it is empty)."""
    rng = check.torch_generator(rng, tensor)
    if tensor.numel():
        with torch.no_grad():
            tensor.normal_(0.0, std, generator=rng)
    return tensor


def _xavier_std(tensor, gain):
    """Glorot and Bengio's standard deviation, after checking ``tensor`` and ``gain``."""
    fan_in, fan_out = fans(_tensor(tensor).shape)
    check.positive("gain", gain, allow_zero=True)
    if fan_in + fan_out == 0:
        return math.nan
    return float(gain) * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(tensor, a, mode, nonlinearity):
    """He et al.'s standard deviation, after checking every argument."""
    fan = fans(_tensor(tensor).shape)[check.one_of("mode", mode, MODES)]
    return _std(fan, calculate_gain(nonlinearity, a))


def calculate_gain(nonlinearity, param=None):
    """The recommended gain of a nonlinearity: :func:`nntrain.reference.init.calculate_gain`
    itself, with the names and values of ``torch.nn.init.calculate_gain``.

    Example:
        >>> calculate_gain("tanh")
        1.6666666666666667
    """
    return reference_init.calculate_gain(nonlinearity, param)


# --------------------------------------------------------------------------- constants


def zeros_(tensor, *, rng=None):
    """Fill ``tensor`` with zeros; twin of :func:`nntrain.reference.init.zeros`.

    Example:
        >>> zeros_(torch.empty(2, 3)).sum()
        tensor(0.)
    """
    _tensor(tensor)
    with torch.no_grad():
        return tensor.zero_()


def constant_(tensor, value, *, rng=None):
    """Fill ``tensor`` with ``value``; twin of :func:`nntrain.reference.init.constant`.

    Example:
        >>> constant_(torch.empty(2, dtype=torch.float64), 0.1)
        tensor([0.1000, 0.1000], dtype=torch.float64)
    """
    _tensor(tensor)
    value = check.finite_real("value", value)
    with torch.no_grad():
        return tensor.fill_(value)


def normal_(tensor, std, *, rng=None):
    r"""Fill ``tensor`` from :math:`\mathcal{N}(0, \mathrm{std}^2)`; twin of
    :func:`nntrain.reference.init.normal`."""
    _tensor(tensor)
    check.positive("std", std, allow_zero=True)
    return _normal(tensor, float(std), rng)


# --------------------------------------------------------------------------- Glorot


def xavier_uniform_(tensor, gain=1.0, *, rng=None):
    r"""Glorot (Xavier) uniform, :math:`\mathcal{U}(-b, b)` with
    :math:`b = \mathrm{gain} \cdot \sqrt{6 / (n_{in} + n_{out})}`; twin of
    :func:`nntrain.reference.init.xavier_uniform`, the values of
    ``torch.nn.init.xavier_uniform_``. PyTorch's fans (see the module docstring)."""
    return _uniform(tensor, math.sqrt(3.0) * _xavier_std(tensor, gain), rng)


def xavier_normal_(tensor, gain=1.0, *, rng=None):
    r"""Glorot (Xavier) normal, :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = \mathrm{gain} \cdot \sqrt{2 / (n_{in} + n_{out})}`; twin of
    :func:`nntrain.reference.init.xavier_normal`, the values of
    ``torch.nn.init.xavier_normal_``. PyTorch's fans (see the module docstring)."""
    return _normal(tensor, _xavier_std(tensor, gain), rng)


# --------------------------------------------------------------------------- He


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    r"""He (Kaiming) uniform, :math:`\mathcal{U}(-b, b)` with
    :math:`b = \mathrm{gain} \cdot \sqrt{3 / n}`; twin of
    :func:`nntrain.reference.init.kaiming_uniform`, the values of
    ``torch.nn.init.kaiming_uniform_``.

    PyTorch's fans (see the module docstring).

    Example:
        >>> w = kaiming_uniform_(torch.empty(100, 200), nonlinearity="relu")
        >>> bool(w.abs().max() <= math.sqrt(6 / 200))
        True
    """
    return _uniform(tensor, math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity), rng)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    r"""He (Kaiming) normal, :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = \mathrm{gain} / \sqrt{n}`; twin of
    :func:`nntrain.reference.init.kaiming_normal`, the values of
    ``torch.nn.init.kaiming_normal_``. PyTorch's fans (see the module docstring)."""
    return _normal(tensor, _kaiming_std(tensor, a, mode, nonlinearity), rng)


# --------------------------------------------------------------------------- LeCun


def lecun_normal_(tensor, *, rng=None):
    r"""LeCun normal, :math:`\mathcal{N}(0, 1 / n_{in})`; twin of
    :func:`nntrain.reference.init.lecun_normal`. PyTorch has no function of this name; its
    ``kaiming_normal_`` with ``nonlinearity="linear"`` draws the same values. PyTorch's fans
    (see the module docstring)."""
    fan_in, _ = fans(_tensor(tensor).shape)
    return _normal(tensor, _std(fan_in), rng)
