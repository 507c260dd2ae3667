"""Elementwise nonlinearities, NumPy reference (cs231n convention).

Chapter 0 uses the ReLU; chapter 1 is about all of them.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check


def relu_forward(x):
    r"""Rectified linear unit, :math:`\mathrm{out} = \max(0, x)` elementwise.

    Popularised for deep nets by Krizhevsky, Sutskever and Hinton (2012), *ImageNet
    Classification with Deep Convolutional Neural Networks*.

    Args:
        x: an array of any shape.

    Returns:
        ``(out, cache)``: ``out`` has the shape of ``x``; the cache is ``x``.

    Example:
        >>> relu_forward(np.array([-1.0, 2.0]))[0]
        array([0., 2.])
    """
    check.ndarray("x", x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    r"""Backward pass of :func:`relu_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \cdot \mathbb{1}[x > 0]

    (the gradient at exactly 0 is taken to be 0, as in PyTorch).

    Returns:
        ``dx`` with the shape of ``x`` (a single array, as in cs231n, since the ReLU has no
        parameters).
    """
    x = cache
    check.ndarray("dout", dout)
    check.shape("dout", dout, tuple(x.shape))
    return dout * (x > 0)
