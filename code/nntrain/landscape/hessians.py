r"""The Hessian of a network's loss (:func:`hessian`) and its eigenvalues
(:func:`hessian_spectrum`): exact by autograd for a PyTorch module, by finite differences
of the analytic gradient for a cs231n-style net.
"""

from __future__ import annotations

import numpy as np

from .. import validation
from ..models import adapt

__all__ = ["hessian", "hessian_spectrum"]


def hessian(model, X, y, *, eps=1e-5):
    r"""The Hessian of the training loss with respect to all parameters, a symmetric
    ``(P, P)`` matrix in :func:`~nntrain.landscape.params.flatten_params`'s order.

    For a ``torch.nn.Module`` other than this package's net it is exact: autograd
    differentiates the gradient again (``torch.autograd.functional.hessian``). The nets of
    this package compute their gradients with the book's own backward passes, which autograd
    cannot differentiate a second time, so for them (and any cs231n-style model) column
    :math:`j` is the central difference of the analytic gradient,

    .. math::
        H_{:, j} = \frac{\nabla L(\theta + \epsilon e_j) - \nabla L(\theta - \epsilon
        e_j)}{2\epsilon}, \qquad H \leftarrow \tfrac12 (H + H^\top),

    accurate to about :math:`10^{-8}` relative in float64 (use float64 parameters: in
    float32 the differences drown in rounding). A ReLU net's loss is piecewise smooth; a
    kink within :math:`\epsilon` of the point spoils its column. The objective is
    :func:`~nntrain.landscape.params.loss_at`'s (training mode); parameters, running
    statistics and mode are restored.

    Args:
        model, X, y: as in :func:`~nntrain.landscape.params.loss_at`.
        eps: the finite-difference step :math:`\epsilon > 0`.

    Returns:
        An array of shape ``(P, P)``, float64.

    Example:
        >>> from nntrain.reference import FullyConnectedNet
        >>> net = FullyConnectedNet([3], input_dim=2, num_classes=2, activation="tanh", seed=0)
        >>> H = hessian(net, np.ones((4, 2)), np.array([0, 1, 1, 0]))
        >>> H.shape, bool(np.allclose(H, H.T))
        ((17, 17), True)

    Used in chapter 8, after Sagun et al. 2017 (*Empirical analysis of the Hessian of
    over-parametrized neural networks*).
    """
    validation.positive("eps", eps)
    adapter = adapt(model)
    X, y = adapter.inputs(X, y)
    with adapter.kept():
        if adapter.is_torch and not adapter.own_loss:
            h = adapter.hessian(X, y)
        else:
            theta = adapter.get()
            h = np.empty((theta.size, theta.size))
            for j in range(theta.size):
                step = np.zeros_like(theta)
                step[j] = eps
                adapter.set(theta + step)
                up = adapter.gradient(X, y)
                adapter.set(theta - step)
                h[:, j] = (up - adapter.gradient(X, y)) / (2 * eps)
    return (h + h.T) / 2


def hessian_spectrum(model, X, y, *, eps=1e-5):
    """The eigenvalues of :func:`hessian`, in ascending order (``numpy.linalg.eigvalsh``).

    Returns:
        An array of shape ``(P,)``.
    """
    return np.linalg.eigvalsh(hessian(model, X, y, eps=eps))
