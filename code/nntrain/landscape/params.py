r"""A model's parameters as one flat float64 vector: :func:`flatten_params` and
:func:`set_flat_params` convert, :func:`loss_at` and :func:`batch_gradient` wrap a model (any
kind of :mod:`nntrain.models`) as a function of that vector (or of a batch of
example indices). Every one leaves the model's parameters, running statistics and mode as
they were.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import validation
from ..models import adapt

__all__ = ["flatten_params", "set_flat_params", "loss_at", "batch_gradient"]


def flatten_params(params):
    """The parameters of a model as one flat float64 vector (a copy).

    The order is fixed: a reference net's ``params`` in key order (``W1, b1, W2, b2, ...``,
    with ``gamma{i}, beta{i}`` after ``b{i}`` under batch normalization), each array in C
    order (row after row of a ``(D_in, D_out)`` weight); a torch module's
    ``named_parameters()`` (the same names and order for
    :class:`nntrain.torch.fc_net.FullyConnectedNet`, so twins give equal vectors); a dict or list
    of NumPy arrays in its own order.

    Args:
        params: a model (see :mod:`nntrain.models`), or a dict or list of NumPy
            arrays.

    Returns:
        An array of shape ``(P,)``, ``P`` the number of parameters.

    Example:
        >>> from nntrain.reference import FullyConnectedNet
        >>> flatten_params(FullyConnectedNet([4], input_dim=3, num_classes=2)).shape
        (26,)
    """
    return adapt(params, containers=True, name="params").get()


def set_flat_params(params, theta):
    """Write the flat vector ``theta`` into the parameters, in :func:`flatten_params`'s
    order (in place, in each array's or tensor's own dtype and device).

    Args:
        params: as in :func:`flatten_params`.
        theta: an array of shape ``(P,)``.
    """
    adapter = adapt(params, containers=True, name="params")
    adapter.set(validation.vector("theta", theta))


def loss_at(model, X, y):
    r"""The training loss of ``model`` on ``(X, y)`` as a function of a flat parameter vector.

    The function sets the parameters to :math:`\theta`, evaluates the training objective
    and puts the parameters (and running statistics, and mode) back, so the model is never
    left changed. The objective is the one training minimizes, in training mode: the
    reference net's ``loss(X, y)[0]`` (data loss plus L2 penalty, batch normalization with
    the batch's statistics), the same for :class:`nntrain.torch.fc_net.FullyConnectedNet`, softmax
    cross-entropy on the outputs for any other ``nn.Module``. A model with dropout gives a
    different value at every call: remove it, or write a ``loss_fn`` of your own.

    Args:
        model: see :mod:`nntrain.models`.
        X: inputs ``(N, ...)``: NumPy for a reference net; NumPy or a tensor for a torch
            model (moved to its device and dtype).
        y: labels ``(N,)`` (or regression targets).

    Returns:
        ``loss_fn(theta) -> float`` for ``theta`` of shape ``(P,)``.

    Example:
        >>> from nntrain.reference import FullyConnectedNet
        >>> net = FullyConnectedNet([5], input_dim=2, num_classes=3, seed=0)
        >>> f = loss_at(net, np.ones((4, 2)), np.array([0, 1, 2, 0]))
        >>> round(f(np.zeros(33)), 4)  # all weights zero: uniform scores, ln 3
        1.0986
        >>> bool(net.params["W1"].any())  # the net keeps its own weights
        True
    """
    adapter = adapt(model)
    X, y = adapter.inputs(X, y)

    def loss_fn(theta):
        theta = validation.vector("theta", theta)
        with adapter.kept():
            adapter.set(theta)
            return adapter.loss(X, y)

    return loss_fn


def batch_gradient(model, X, y):
    r"""The gradient of the training loss on a subset of the examples, as a function of
    their indices, at the model's current parameters.

    .. math::
        g(B) = \nabla_\theta \frac{1}{|B|} \sum_{i \in B} \ell_i(\theta) \quad
        (\text{plus the penalty's gradient}),

    flattened in :func:`flatten_params`'s order, for
    :func:`~nntrain.landscape.noise.minibatch_gradient_variance`. With batch normalization
    the examples of a batch interact, and the variance law of
    :func:`~nntrain.landscape.noise.predicted_variance` holds only roughly.

    Args:
        model, X, y: as in :func:`loss_at`.

    Returns:
        ``grad_fn(indices) -> array (P,)`` for a 1-D integer array of indices.
    """
    adapter = adapt(model)
    X, y = adapter.inputs(X, y)

    def grad_fn(indices):
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"indices must be a non-empty 1-D array of integers, got {idx.dtype} array "
                f"of shape {idx.shape}"
            )
        if validation.is_tensor(X):
            idx = torch.as_tensor(idx, device=X.device)
        with adapter.kept():
            return adapter.gradient(X[idx], y[idx])

    return grad_fn
