r"""Quadratic bowls: :math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)` with chosen
eigenvalues, where every first-order method can be solved in closed form, one
eigen-direction at a time (Goh 2017, *Why Momentum Really Works*, Distill).

:class:`Quadratic` is the bowl (:func:`rotation` turns its axes); :func:`gd_rate` and
:func:`momentum_rate` are the rates of gradient descent and heavy-ball momentum along one
eigen-direction (:func:`momentum_matrix`, the iteration matrix behind the latter),
:func:`gd_optimal` and :func:`momentum_optimal` their best settings on a bowl,
:func:`gd_max_step` and :func:`momentum_max_step` their divergence thresholds.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from .. import validation
from ..validation import POSITIVE, RATE, Interval

__all__ = [
    "CONDITION",
    "rotation",
    "Quadratic",
    "gd_rate",
    "gd_optimal",
    "gd_max_step",
    "momentum_matrix",
    "momentum_rate",
    "momentum_optimal",
    "momentum_max_step",
]

#: A condition number, the ratio of the largest eigenvalue to the smallest (>= 1).
CONDITION = Interval(Real, 1, None, closed="left")


def rotation(angle, dim=2):
    r"""The rotation by ``angle`` (radians) in the plane of the first two coordinates of
    :math:`\mathbb{R}^{dim}`, identity on the others.

    .. math::
        R = \begin{pmatrix} \cos\theta & -\sin\theta \\ \sin\theta & \cos\theta
        \end{pmatrix} \oplus I_{dim - 2}.
    """
    validation.positive_int("dim", dim)
    angle = float(validation.reals("angle", angle))
    if dim < 2 and angle != 0:
        raise validation.InvalidArgument(
            f"angle must be 0 for a 1-D bowl (nothing to rotate), got {angle}"
        )
    r = np.eye(dim)
    if dim >= 2:
        c, s = math.cos(angle), math.sin(angle)
        r[:2, :2] = [[c, -s], [s, c]]
    return r


class Quadratic:
    r"""A quadratic bowl with chosen curvatures.

    .. math::
        f(w) = \tfrac12 (w - w^*)^\top H (w - w^*), \qquad
        H = R\,\mathrm{diag}(\lambda_1, \dots, \lambda_d)\,R^\top, \qquad f^* = 0,

    with :math:`R` the :func:`rotation` by ``angle``: at ``angle=0`` the axes of the
    ellipses are the coordinate axes (a per-coordinate method such as Adagrad sees the
    curvatures directly), rotated by :math:`\theta` they are not. The gradient is
    :math:`H (w - w^*)` and the condition number :math:`\kappa = \lambda_{max} /
    \lambda_{min}`. Every first-order method acts on each eigen-direction of :math:`H`
    separately, which is why the rates of this module are functions of one eigenvalue.

    Args:
        eigenvalues: the curvatures :math:`\lambda_i > 0`, one per dimension.
        angle: rotation of the eigenvectors in the plane of the first two coordinates.
        center: the minimum :math:`w^*`, shape ``(d,)``; zero by default.

    Attributes:
        eigenvalues: the :math:`\lambda_i`, shape ``(d,)``.
        eigenvectors: :math:`R`, whose column :math:`i` has eigenvalue :math:`\lambda_i`.
        hessian: the matrix :math:`H`, shape ``(d, d)``.
        center: the minimum :math:`w^*`.
        dim: :math:`d`.
        lam_min, lam_max, kappa: the extreme eigenvalues and their ratio :math:`\kappa`.

    Example:
        >>> bowl = Quadratic([1.0, 10.0], angle=np.pi / 4)  # eigenvectors (1, 1), (-1, 1)
        >>> round(float(bowl.value(np.array([-1.0, 1.0]))), 12), bowl.kappa
        (10.0, 10.0)

    Used in chapter 8.
    """

    def __init__(self, eigenvalues, *, angle=0.0, center=None):
        lam = validation.reals("eigenvalues", eigenvalues, POSITIVE)
        if lam.ndim != 1 or lam.size == 0:
            raise validation.InvalidArgument(
                f"eigenvalues must be a non-empty 1-D sequence, got shape {lam.shape}"
            )
        self.eigenvalues, self.dim = lam, lam.size
        self.eigenvectors = rotation(angle, self.dim)
        self.hessian = (self.eigenvectors * lam) @ self.eigenvectors.T
        self.hessian = (self.hessian + self.hessian.T) / 2
        self.center = (
            np.zeros(self.dim) if center is None else validation.vector("center", center, self.dim)
        )
        self.lam_min, self.lam_max = float(lam.min()), float(lam.max())
        self.kappa = self.lam_max / self.lam_min

    @classmethod
    def conditioned(cls, kappa, *, dim=2, lam_min=1.0, angle=0.0, center=None):
        r"""The bowl of condition number ``kappa``: eigenvalues spaced geometrically from
        ``lam_min`` (the first coordinate, the long axis of the ellipses) to ``kappa *
        lam_min`` (the last)."""
        kappa = float(validation.reals("kappa", kappa, CONDITION))
        validation.positive_int("dim", dim)
        validation.positive("lam_min", lam_min)
        if dim == 1 and kappa != 1:
            raise validation.InvalidArgument(
                f"a 1-D bowl has condition number 1, got kappa={kappa}"
            )
        lam = np.geomspace(lam_min, kappa * lam_min, dim)
        return cls(lam, angle=angle, center=center)

    def _offset(self, w):
        w = validation.array("w", np.asarray(w, dtype=np.float64), min_ndim=1)
        if w.shape[-1] != self.dim:
            raise validation.InvalidArgument(
                f"w must have shape (..., {self.dim}) for this {self.dim}-D bowl, got {w.shape}"
            )
        return w - self.center

    def value(self, w):
        """:math:`f(w)` for ``w`` of shape ``(d,)``, or of shape ``(..., d)`` (a grid of
        points, for a contour plot), giving an array of shape ``(...)``."""
        e = self._offset(w)
        return 0.5 * np.einsum("...i,ij,...j->...", e, self.hessian, e)

    def gradient(self, w):
        r""":math:`\nabla f(w) = H (w - w^*)`, the shape of ``w``."""
        return self._offset(w) @ self.hessian

    def __repr__(self):
        return f"Quadratic(eigenvalues={self.eigenvalues.tolist()}, kappa={self.kappa:g})"


def gd_rate(alpha, lam):
    r"""The rate of gradient descent along an eigen-direction of curvature ``lam``.

    The error along it is multiplied by :math:`1 - \alpha\lambda` at every step, so

    .. math::
        \mathrm{rate}(\alpha, \lambda) = |1 - \alpha\lambda|,

    below 1 (convergence) exactly when :math:`0 < \alpha < 2/\lambda`. The rate on a bowl
    is the largest over its eigenvalues: ``gd_rate(alpha, bowl.eigenvalues).max()``.

    Args:
        alpha: the step size (learning rate) :math:`> 0`; a number or an array.
        lam: the curvature (any finite real; negative at a saddle); a number or an array,
            broadcast against ``alpha``.

    Example:
        >>> float(gd_rate(0.5, 1.0)), float(gd_rate(0.5, 3.0))
        (0.5, 0.5)
    """
    return np.abs(1 - validation.reals("alpha", alpha, POSITIVE) * validation.reals("lam", lam))


def gd_optimal(lam_min, lam_max):
    r"""The step size that minimizes the rate of gradient descent on a bowl, and that rate.

    The rate :math:`\max(|1-\alpha\lambda_{min}|, |1-\alpha\lambda_{max}|)` is smallest
    where the two are equal:

    .. math::
        \alpha^* = \frac{2}{\lambda_{min} + \lambda_{max}}, \qquad
        \mathrm{rate}^* = \frac{\kappa - 1}{\kappa + 1}, \quad
        \kappa = \lambda_{max}/\lambda_{min},

    so reaching an error :math:`\epsilon` takes about :math:`\tfrac{\kappa}{2}
    \ln(1/\epsilon)` steps: proportional to the condition number.

    Returns:
        ``(alpha, rate)`` as floats.
    """
    lam_min, lam_max = _spectrum_ends(lam_min, lam_max)
    kappa = lam_max / lam_min
    return 2 / (lam_min + lam_max), (kappa - 1) / (kappa + 1)


def gd_max_step(lam_max):
    r"""The divergence threshold of gradient descent, :math:`2/\lambda_{max}`: any larger
    step makes the steepest direction grow (at it, the error oscillates without decay)."""
    validation.positive("lam_max", lam_max)
    return 2 / lam_max


def _spectrum_ends(lam_min, lam_max):
    validation.positive("lam_min", lam_min)
    validation.positive("lam_max", lam_max)
    if lam_max < lam_min:
        raise validation.InvalidArgument(
            f"lam_max must be >= lam_min, got lam_min={lam_min}, lam_max={lam_max}"
        )
    return float(lam_min), float(lam_max)


def momentum_matrix(alpha, beta, lam):
    r"""The iteration matrix of heavy-ball momentum along one eigen-direction.

    The update is the cs231n one (Polyak's heavy ball),
    :math:`v \leftarrow \beta v - \alpha \nabla f(w),\; w \leftarrow w + v`. Along an
    eigenvector :math:`q` of curvature :math:`\lambda`, with :math:`x = q^\top (w - w^*)`
    and :math:`u = q^\top v`, the gradient is :math:`\lambda x`, so
    :math:`u_{t+1} = \beta u_t - \alpha\lambda x_t` and :math:`x_{t+1} = x_t + u_{t+1} =
    \beta u_t + (1 - \alpha\lambda) x_t`:

    .. math::
        \begin{pmatrix} u_{t+1} \\ x_{t+1} \end{pmatrix} = M
        \begin{pmatrix} u_t \\ x_t \end{pmatrix}, \qquad
        M = \begin{pmatrix} \beta & -\alpha\lambda \\ \beta & 1 - \alpha\lambda
        \end{pmatrix}.

    Goh (2017) writes the same method with :math:`z = -v/\alpha`; his matrix is similar to
    :math:`M` (same eigenvalues, same rates).

    Args:
        alpha: the step size :math:`> 0`.
        beta: the momentum :math:`\beta \in [0, 1)`.
        lam: the curvature :math:`\lambda`.

    Returns:
        :math:`M`, a ``(2, 2)`` array acting on the state ``(velocity, position)``.
    """
    alpha = float(validation.reals("alpha", alpha, POSITIVE))
    beta, lam = float(validation.reals("beta", beta, RATE)), float(validation.reals("lam", lam))
    return np.array([[beta, -alpha * lam], [beta, 1 - alpha * lam]])


def momentum_rate(alpha, beta, lam):
    r"""The rate of heavy-ball momentum along an eigen-direction: the spectral radius of
    :func:`momentum_matrix`.

    The eigenvalues of :math:`M` solve :math:`r^2 - (1 + \beta - \alpha\lambda) r + \beta
    = 0`; their product is :math:`\det M = \beta`. Where the discriminant
    :math:`(1 + \beta - \alpha\lambda)^2 - 4\beta` is negative, i.e. for
    :math:`(1-\sqrt\beta)^2 < \alpha\lambda < (1+\sqrt\beta)^2`, they are a complex pair
    and the iterates spiral in at

    .. math::
        \mathrm{rate} = |r| = \sqrt{\beta},

    whatever :math:`\alpha\lambda` (one published copy of Goh's article prints
    :math:`2\sqrt\beta`, which would exceed 1 for every :math:`\beta > 1/4`); otherwise
    the rate is the larger real root in absolute value,
    :math:`\tfrac12 (|1 + \beta - \alpha\lambda| + \sqrt{\text{discriminant}})`. It is
    below 1 exactly for :math:`0 < \alpha\lambda < 2 + 2\beta`.

    Args:
        alpha: the step size :math:`> 0`; a number or an array.
        beta: the momentum in :math:`[0, 1)`; a number or an array.
        lam: the curvature; a number or an array (the three are broadcast together).

    Example:
        >>> round(float(momentum_rate(0.5, 0.9, 1.0)), 4)  # sqrt(0.9)
        0.9487
    """
    alpha, beta = validation.reals("alpha", alpha, POSITIVE), validation.reals("beta", beta, RATE)
    b = 1 + beta - alpha * validation.reals("lam", lam)
    disc = b * b - 4 * beta
    real = (np.abs(b) + np.sqrt(np.maximum(disc, 0))) / 2
    return np.where(disc < 0, np.sqrt(beta), real)


def momentum_optimal(lam_min, lam_max):
    r"""The step size and momentum that minimize the rate of heavy-ball momentum on a bowl
    (Polyak 1964; Goh 2017), and that rate.

    .. math::
        \alpha^* = \Big(\frac{2}{\sqrt{\lambda_{min}} + \sqrt{\lambda_{max}}}\Big)^2,
        \qquad \beta^* = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \qquad
        \mathrm{rate}^* = \sqrt{\beta^*} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.

    Every eigenvalue then lies in the complex regime of :func:`momentum_rate` (the two
    extreme ones on its edge, where :math:`M` has a double eigenvalue), so reaching an
    error :math:`\epsilon` takes about :math:`\tfrac{\sqrt\kappa}{2} \ln(1/\epsilon)`
    steps: proportional to :math:`\sqrt\kappa` instead of :math:`\kappa`.

    Returns:
        ``(alpha, beta, rate)`` as floats.
    """
    lam_min, lam_max = _spectrum_ends(lam_min, lam_max)
    root = math.sqrt(lam_max / lam_min)
    rate = (root - 1) / (root + 1)
    return (2 / (math.sqrt(lam_min) + math.sqrt(lam_max))) ** 2, rate**2, rate


def momentum_max_step(beta, lam_max):
    r"""The divergence threshold of heavy-ball momentum, :math:`(2 + 2\beta)/\lambda_{max}`:
    there :math:`M` has the eigenvalue :math:`-1` (the characteristic polynomial at
    :math:`r = -1` is :math:`2 + 2\beta - \alpha\lambda`); momentum allows steps up to
    :math:`1 + \beta` times larger than gradient descent."""
    beta = float(validation.reals("beta", beta, RATE))
    validation.positive("lam_max", lam_max)
    return (2 + 2 * beta) / lam_max
