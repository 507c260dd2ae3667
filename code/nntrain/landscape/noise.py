r"""Gradient noise against batch size: the measured variance of minibatch gradients
(:func:`minibatch_gradient_variance`), the variance of per-example gradients
(:func:`per_example_variance`) and the sampling law that predicts the former from the
latter (:func:`predicted_variance`).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .. import validation
from ..validation import Interval

__all__ = ["minibatch_gradient_variance", "per_example_variance", "predicted_variance"]


def _batch_sizes(name, batch_sizes, n):
    """Batch sizes (a number or a 1-D sequence) as an integer array, each in ``[1, n]``."""
    return validation.integers(name, batch_sizes, Interval(Integral, 1, n))


def minibatch_gradient_variance(grad_fn, n, batch_sizes, draws, rng, *, spread=False):
    r"""How far minibatch gradients stray from the full gradient, for each batch size.

    .. math::
        V(B) = \mathbb{E}\,\lVert g(\mathcal{B}) - g(\{1, \dots, N\}) \rVert^2,

    estimated from ``draws`` batches :math:`\mathcal{B}` of :math:`B` distinct examples
    (drawn without replacement, as an epoch's shuffled batches are). It follows
    :func:`predicted_variance`: :math:`1/B` for small batches, falling to 0 at the full
    batch.

    Args:
        grad_fn: ``grad_fn(indices) -> array (P,)``, the gradient of the mean loss over
            those examples (:func:`~nntrain.landscape.params.batch_gradient` builds one
            from a model).
        n: the number of examples :math:`N`.
        batch_sizes: the sizes :math:`B` to measure, each in ``[1, n]``.
        draws: batches per size, ``>= 1``.
        rng: a ``numpy.random.Generator``.
        spread: also return each estimate's standard error, the standard deviation of the
            ``draws`` squared deviations over :math:`\sqrt{\text{draws}}` (per-example
            gradients are heavy-tailed, so small batches need many draws for a tight one).

    Returns:
        An array of :math:`V(B)`, one per batch size; with ``spread``, a pair of arrays
        ``(V, standard_errors)``.
    """
    validation.function("grad_fn", grad_fn, "a function of example indices returning a gradient")
    validation.positive_int("n", n)
    sizes = _batch_sizes("batch_sizes", batch_sizes, n)
    validation.positive_int("draws", draws)
    validation.numpy_generator(rng)
    full = np.asarray(grad_fn(np.arange(n)), dtype=np.float64)
    out, se = np.empty(sizes.size), np.zeros(sizes.size)
    for k, b in enumerate(sizes):
        deviations = [
            np.asarray(grad_fn(rng.choice(n, size=int(b), replace=False))) - full
            for _ in range(draws)
        ]
        squared = np.array([float(d @ d) for d in deviations])
        out[k] = squared.mean()
        if draws > 1:
            se[k] = squared.std(ddof=1) / np.sqrt(draws)
    return (out, se) if spread else out


def per_example_variance(grad_fn, n):
    r"""The variance of the per-example gradients around their mean,
    :math:`\sigma^2 = \frac1N \sum_i \lVert g(\{i\}) - \bar g \rVert^2` (a trace: summed over
    the parameters), from ``n`` calls of ``grad_fn``."""
    validation.function("grad_fn", grad_fn, "a function of example indices returning a gradient")
    validation.positive_int("n", n)
    g = np.stack([np.asarray(grad_fn(np.array([i])), dtype=np.float64) for i in range(n)])
    return float(((g - g.mean(axis=0)) ** 2).sum(axis=1).mean())


def predicted_variance(per_example_variance, n, b):
    r"""The variance of the mean of :math:`B` of :math:`N` per-example gradients drawn
    without replacement (the finite-population correction of survey sampling; Cochran
    1977, *Sampling Techniques*):

    .. math::
        V(B) = \frac{\sigma^2}{B} \cdot \frac{N - B}{N - 1},

    :math:`\sigma^2/B` while :math:`B \ll N`, exactly 0 at :math:`B = N`. Doubling the batch
    halves the noise, so the noise scale of McCandlish et al. 2018 (*An empirical model of
    large-batch training*) sets the batch beyond which larger ones stop paying.

    Args:
        per_example_variance: :math:`\sigma^2 \ge 0` (:func:`per_example_variance`).
        n: the number of examples, ``>= 2``.
        b: the batch size(s), in ``[1, n]``.

    Example:
        >>> predicted_variance(2.0, 101, np.array([1, 10, 101])).tolist()
        [2.0, 0.182, 0.0]
    """
    validation.positive("per_example_variance", per_example_variance, allow_zero=True)
    validation.positive_int("n", n)
    if n < 2:
        raise validation.InvalidArgument(
            f"n must be at least 2 (the variance needs N - 1 > 0), got {n}"
        )
    sizes = _batch_sizes("b", b, n)
    out = per_example_variance * (n - sizes) / (sizes * (n - 1))
    return float(out[0]) if np.ndim(b) == 0 else out
