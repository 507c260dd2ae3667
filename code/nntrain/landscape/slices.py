r"""The loss along lines and planes through parameter space (Goodfellow, Vinyals & Saxe
2015; Li et al. 2018): :func:`interpolate`, :func:`line`, :func:`plane`, with
filter-normalized random directions (:func:`filter_normalized_direction`) and the
:func:`cosine` between two directions.
"""

from __future__ import annotations

import numpy as np

from .. import validation
from ..models import adapt, split

__all__ = ["LAYOUTS", "interpolate", "line", "plane", "filter_normalized_direction", "cosine"]

#: The layouts of a weight array that :func:`filter_normalized_direction` knows. ``"in_out"``
#: is ``(D_in, D_out)`` (the cs231n one, used by both of this package's nets: each column is
#: one output unit's incoming weights), ``"out_in"`` is ``(D_out, D_in, ...)`` (PyTorch's
#: ``nn.Linear`` and ``nn.Conv2d``: each slice along axis 0 is one unit or filter).
LAYOUTS = ("in_out", "out_in")


def interpolate(loss_fn, theta_a, theta_b, alphas):
    r"""The loss along the straight line between two parameter vectors (Goodfellow, Vinyals
    & Saxe 2015, *Qualitatively characterizing neural network optimization problems*).

    .. math::
        L\big((1 - \alpha)\,\theta_a + \alpha\,\theta_b\big),

    at :math:`\alpha = 0` exactly :math:`L(\theta_a)`, at :math:`\alpha = 1` exactly
    :math:`L(\theta_b)`; from the initial to the trained weights the curve is typically a
    smooth, monotone descent.

    Args:
        loss_fn: ``loss_fn(theta) -> float`` (:func:`~nntrain.landscape.params.loss_at`).
        theta_a, theta_b: flat vectors of one shape ``(P,)``.
        alphas: the points :math:`\alpha`, a 1-D sequence (values outside [0, 1] extend
            the line).

    Returns:
        An array of losses, one per :math:`\alpha`.
    """
    validation.function("loss_fn", loss_fn, "a function of a flat parameter vector")
    theta_a = validation.vector("theta_a", theta_a)
    theta_b = validation.vector("theta_b", theta_b, theta_a.size)
    return np.array(
        [
            float(loss_fn((1 - a) * theta_a + a * theta_b))
            for a in validation.vector("alphas", alphas)
        ]
    )


def line(loss_fn, theta, direction, alphas):
    r"""The loss along a direction through ``theta``, :math:`L(\theta + \alpha d)` for each
    :math:`\alpha` (with a :func:`filter_normalized_direction`, Li et al. 2018's 1-D plot).

    Returns:
        An array of losses, one per :math:`\alpha`.
    """
    validation.function("loss_fn", loss_fn, "a function of a flat parameter vector")
    theta = validation.vector("theta", theta)
    d = validation.vector("direction", direction, theta.size)
    return np.array([float(loss_fn(theta + a * d)) for a in validation.vector("alphas", alphas)])


def plane(loss_fn, theta, d1, d2, alphas, betas):
    r"""The loss on the plane through ``theta`` spanned by two directions (Li et al. 2018).

    .. math::
        Z_{ij} = L(\theta + \alpha_j d_1 + \beta_i d_2),

    laid out for ``matplotlib``'s ``contour(alphas, betas, Z)``: one row per
    :math:`\beta`, one column per :math:`\alpha`.

    Returns:
        An array of shape ``(len(betas), len(alphas))``.
    """
    validation.function("loss_fn", loss_fn, "a function of a flat parameter vector")
    theta = validation.vector("theta", theta)
    d1, d2 = validation.vector("d1", d1, theta.size), validation.vector("d2", d2, theta.size)
    alphas, betas = validation.vector("alphas", alphas), validation.vector("betas", betas)
    return np.array([[float(loss_fn(theta + a * d1 + b * d2)) for a in alphas] for b in betas])


def filter_normalized_direction(params, rng, *, layout=None):
    r"""A random direction scaled filter by filter like the parameters (Li, Xu, Taylor,
    Studer & Goldstein 2018, *Visualizing the loss landscape of neural nets*).

    A Gaussian vector :math:`d` is drawn (``rng.standard_normal(P)``, cut like the
    parameters); each filter of it (the weights into one unit) is rescaled to the norm of
    the same filter of the parameters,

    .. math::
        d_{i,j} \leftarrow \frac{d_{i,j}}{\lVert d_{i,j} \rVert}\,\lVert \theta_{i,j} \rVert
        \quad (\text{layer } i, \text{ filter } j),

    and the 1-D parameters (biases, batch normalization's :math:`\gamma, \beta`) get 0, Li
    et al.'s ``ignore="biasbn"``. A ReLU net computes the same function when a layer's
    weights and biases are multiplied by :math:`c > 0` and the next layer's weights divided
    by :math:`c`; the normalized direction scales along, so the plot of
    :math:`L(\theta + \alpha d)` does not change under that symmetry, while a raw Gaussian
    direction would show a sharper or flatter valley.

    Args:
        params: a model (see :mod:`nntrain.models`), or a dict or list of NumPy
            arrays.
        rng: a ``numpy.random.Generator``.
        layout: how a weight holds its filters, one of :data:`LAYOUTS`: ``"in_out"`` (a
            filter is a column of a ``(D_in, D_out)`` weight, the slices along the last
            axis), ``"out_in"`` (a filter is a slice along axis 0, PyTorch's ``(D_out, D_in,
            ...)``). None picks it from the kind: ``"out_in"`` for a torch module other
            than :class:`nntrain.torch.fc_net.FullyConnectedNet`, ``"in_out"`` for this package's
            nets and for dicts and lists of arrays.

    Returns:
        The direction, flat (shape ``(P,)``,
        :func:`~nntrain.landscape.params.flatten_params`'s order).

    Example:
        >>> from nntrain.reference import FullyConnectedNet
        >>> net = FullyConnectedNet([4], input_dim=3, num_classes=2, seed=0)
        >>> d = filter_normalized_direction(net, np.random.default_rng(0))
        >>> bool(np.isclose(np.linalg.norm(d[:12]), np.linalg.norm(net.params["W1"])))
        True
    """
    adapter = adapt(params, containers=True, name="params")
    validation.numpy_generator(rng)
    if layout is None:
        layout = adapter.layout
    validation.one_of("layout", layout, LAYOUTS)
    arrays = [np.asarray(a, dtype=np.float64) for a in adapter.arrays()]
    pieces = split(rng.standard_normal(sum(a.size for a in arrays)), arrays)
    for w, d in zip(arrays, pieces):
        if w.ndim <= 1:
            d[...] = 0
            continue
        axes = tuple(range(w.ndim - 1)) if layout == "in_out" else tuple(range(1, w.ndim))
        norm_w = np.sqrt((w * w).sum(axis=axes, keepdims=True))
        d *= norm_w / np.sqrt((d * d).sum(axis=axes, keepdims=True))
    return np.concatenate([d.ravel() for d in pieces])


def cosine(u, v):
    r"""The cosine of the angle between two flat vectors, :math:`u^\top v / (\lVert u\rVert
    \lVert v\rVert)`. A random direction in :math:`\mathbb{R}^P` is nearly orthogonal to any
    fixed one (:math:`\mathbb{E}\cos^2 = 1/P`), which is why a random plane through the
    trained weights hardly ever contains the path training took."""
    u = validation.vector("u", u)
    v = validation.vector("v", v, u.size)
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0 or nv == 0:
        raise validation.InvalidArgument("u and v must be non-zero vectors, got one of norm 0")
    return float(u @ v) / (nu * nv)
