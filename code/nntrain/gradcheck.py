"""Numerical gradients by centred differences, to check a hand-written backward pass.

For a function :math:`f` and a step :math:`h`,

.. math::
    \\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h},

whose error shrinks like :math:`h^2` (the one-sided difference only like :math:`h`). Compare
the result with an analytic gradient through :func:`rel_error`; in float64 a correct
backward pass typically gives a relative error below 1e-7.

The names and arguments are those of the cs231n assignments, so a teacher's existing
checks work unchanged. Used in every chapter, and by :mod:`nntrain.checks`.
"""

from __future__ import annotations

import numpy as np

from . import validation as check

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
]


def eval_numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function ``f`` at ``x`` (an array, perturbed in place and
    restored), one centred difference per entry.

    Args:
        f: a function of one array argument returning a number.
        x: a float array; it is modified during the call and restored exactly.
        h: the step.

    Returns:
        An array shaped like ``x``.

    Example:
        >>> g = eval_numerical_gradient(lambda a: float((a ** 2).sum()), np.array([1.0, -2.0]))
        >>> np.round(g, 6)
        array([ 2., -4.])
    """
    check.ndarray("x", x, finite=True)
    check.positive("h", h)
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of ``sum(f(x) * df)`` at ``x``: what a backward pass returns for an array
    output ``f(x)`` when the upstream gradient is ``df``.

    Args:
        f: a function of one array argument returning an array shaped like ``df``.
        x: a float array; it is modified during the call and restored exactly.
        df: the upstream gradient.
        h: the step.

    Returns:
        An array shaped like ``x``.
    """
    check.ndarray("df", df, finite=True)
    return eval_numerical_gradient(lambda a: np.sum(f(a) * df), x, h)


def rel_error(x, y):
    r"""Largest elementwise relative error :math:`\max |x - y| / \max(10^{-8}, |x| + |y|)`.

    Example:
        >>> rel_error(np.array([1.0]), np.array([1.0 + 1e-9])) < 1e-8
        True
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
