r"""Saddle points: the :class:`Saddle` :math:`\tfrac12 (x^2 - y^2)`, how many steps an update
rule takes to leave it (:func:`escape_steps`), and how rare minima are among random
critical points (:func:`random_critical_point_is_minimum`, Dauphin et al. 2014).
"""

from __future__ import annotations

import math

import numpy as np

from .. import validation
from .runs import iterates, rule_arguments

__all__ = ["Saddle", "escape_steps", "random_critical_point_is_minimum"]


class Saddle:
    r"""The saddle :math:`f(x, y) = \tfrac12 (x^2 - y^2)`, the simplest critical point that
    is not a minimum.

    Its gradient is :math:`(x, -y)` and its Hessian :math:`\mathrm{diag}(1, -1)`: gradient
    descent with step :math:`\eta` maps :math:`x \to (1 - \eta) x` (towards the saddle) and
    :math:`y \to (1 + \eta) y` (away from it), so a start at height :math:`y_0 \ne 0`
    leaves the band :math:`|y| \le r` after

    .. math::
        t^* = \Big\lfloor \frac{\ln(r / |y_0|)}{\ln(1 + \eta)} \Big\rfloor + 1

    steps, a count that grows without bound as :math:`y_0 \to 0`; at :math:`y_0 = 0`
    exactly it never leaves, unless noise pushes it off the ridge.

    Example:
        >>> Saddle().gradient(np.array([1.0, 2.0])).tolist()
        [1.0, -2.0]
    """

    dim = 2
    hessian = np.diag([1.0, -1.0])

    def value(self, w):
        """:math:`f` at ``w`` of shape ``(2,)`` or ``(..., 2)``."""
        w = self._point(w)
        return 0.5 * (w[..., 0] ** 2 - w[..., 1] ** 2)

    def gradient(self, w):
        """:math:`\\nabla f = (x, -y)`, the shape of ``w``."""
        return self._point(w) * np.array([1.0, -1.0])

    @staticmethod
    def _point(w):
        w = validation.array("w", np.asarray(w, dtype=np.float64), min_ndim=1)
        if w.shape[-1] != 2:
            raise ValueError(f"w must have shape (..., 2) for the 2-D saddle, got {w.shape}")
        return w


def escape_steps(rule, config, start, radius=1.0, max_steps=10_000, noise=0.0, rng=None):
    r"""The number of steps an update rule takes to leave the :class:`Saddle`.

    .. math::
        t^* = \min\{t : |y_t| > \mathrm{radius}\},

    each step using the gradient of :math:`\tfrac12 (x^2 - y^2)` plus, with ``noise``
    :math:`\sigma > 0`, a draw of :math:`\mathcal{N}(0, \sigma^2 I)` (the minibatch noise of
    SGD, which knocks the iterate off the ridge :math:`y = 0`; Ge et al. 2015).

    Args:
        rule, config: as in :func:`~nntrain.landscape.runs.trajectory`.
        start: ``(x0, y0)``.
        radius: the half-width of the band to leave, ``> 0``.
        max_steps: the most steps to try, ``>= 0``.
        noise: the standard deviation :math:`\sigma \ge 0` of the gradient noise.
        rng: a ``numpy.random.Generator``, needed when ``noise > 0``.

    Returns:
        :math:`t^*` as an int (0 when ``start`` is already outside), or None if the iterate
        is still inside after ``max_steps`` steps.

    Example:
        >>> def sgd(w, dw, config):
        ...     return w - config["learning_rate"] * dw, config
        >>> escape_steps(sgd, {"learning_rate": 0.1}, [1.0, 1e-3])  # ln(1000)/ln(1.1) = 72.5
        73
    """
    saddle = Saddle()
    config, start = rule_arguments(saddle, rule, config, start)
    validation.positive("radius", radius)
    max_steps = validation.non_negative_int("max_steps", max_steps)
    validation.positive("noise", noise, allow_zero=True)
    if noise > 0:
        validation.numpy_generator(rng)
    if abs(start[1]) > radius:
        return 0
    for t, w in zip(range(1, max_steps + 1), iterates(saddle, rule, config, start, noise, rng)):
        if abs(w[1]) > radius:
            return t
    return None


def random_critical_point_is_minimum(n, samples, rng):
    r"""The fraction of random symmetric matrices with only positive eigenvalues: how often
    a critical point of a random function in :math:`n` dimensions is a minimum.

    The Hessians are drawn from the Gaussian orthogonal ensemble, :math:`H = (A +
    A^\top)/\sqrt2` with :math:`A_{ij} \sim \mathcal{N}(0, 1)` (off-diagonal entries of
    variance 1, diagonal ones of variance 2; the fraction does not depend on the overall
    scale). For :math:`n = 1` it is 1/2, for :math:`n = 2` exactly :math:`(2 - \sqrt2)/4
    \approx 0.146`, then about 0.025, 0.0024, 1.2e-4 for :math:`n = 3, 4, 5`, falling like
    :math:`e^{-\theta n^2}`, :math:`\theta = \ln 3 / 4` for large :math:`n` (Dean &
    Majumdar 2006): in high dimensions almost every *typical* critical point is a saddle.
    The unshifted ensemble is the picture at a typical height only: at a critical point of a
    Gaussian random function the Hessian is a GOE matrix shifted by an amount set by the
    function's value there, so points high up are saddles and points near the bottom mostly
    minima (Bray & Dean 2007, *Statistics of critical points of Gaussian fields on
    large-dimensional spaces*), the result behind Dauphin et al. 2014 (*Identifying and
    attacking the saddle point problem in high-dimensional non-convex optimization*).

    Args:
        n: the dimension, ``>= 1``.
        samples: the number of matrices to draw, ``>= 1``.
        rng: a ``numpy.random.Generator``.

    Returns:
        The fraction, a float in ``[0, 1]``.

    Example:
        >>> random_critical_point_is_minimum(1, 10_000, np.random.default_rng(0))
        0.4974
    """
    validation.positive_int("n", n)
    validation.positive_int("samples", samples)
    validation.numpy_generator(rng)
    chunk = max(1, 2**21 // (n * n))  # about 16 MB of matrices at a time
    minima = 0
    for first in range(0, samples, chunk):
        a = rng.standard_normal((min(chunk, samples - first), n, n))
        lowest = np.linalg.eigvalsh((a + a.transpose(0, 2, 1)) / math.sqrt(2))[:, 0]
        minima += int((lowest > 0).sum())
    return minima / samples
