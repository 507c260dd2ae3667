r"""Dropout, NumPy reference (cs231n convention).

Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov (2014), *Dropout: A Simple Way
to Prevent Neural Networks from Overfitting*. In training every unit is kept with
probability :math:`p` and zeroed otherwise, independently for every example and every
call, so that no unit can rely on particular others being present; the net trained is a
random thinned sub-network at every step, and the full net at test time approximates the
average of all of them.

**Inverted dropout.** The paper scales the weights by :math:`p` at test time, so that a
unit's expected input there equals its input during training. The common form does the
scaling during training instead, dividing the kept units by :math:`p`:

.. math::
    m_i = \frac{\mathbb{1}[u_i < p]}{p}, \quad u_i \sim U[0, 1), \qquad
    \mathrm{out} = x \odot m \; \text{(train)}, \qquad \mathrm{out} = x \; \text{(test)},

so that :math:`\mathbb{E}[\mathrm{out}_i] = p \cdot x_i / p = x_i` and the test-time code is
the identity, unchanged by dropout. The backward pass applies the same mask.

**Which p.** The libraries disagree on what the number means:

* cs231n's assignment 2 (used here), ``dropout_param["p"]``: the probability of *keeping* a
  unit; its ``FullyConnectedNet`` calls it ``dropout_keep_ratio``.
* TensorFlow 1's ``tf.nn.dropout(x, keep_prob)``: the probability of keeping, the same.
* PyTorch's ``nn.Dropout(p=0.5)`` and ``F.dropout(x, p)``, Keras's ``Dropout(rate)``, d2l's
  ``dropout_layer(X, dropout)``: the probability of *dropping*, :math:`1 - p` here
  (:class:`nntrain.torch.dropout.Dropout` takes it so, to drop into a PyTorch model).

All of them scale the kept units by ``1 / keep probability`` in training.

**The mask's randomness.** The state of the layer lives in the dict ``dropout_param``:

* ``mode``: ``"train"`` or ``"test"``, required;
* ``p``: the keep probability, in :math:`(0, 1]`, required (1 keeps every unit);
* ``seed``: optional; the uniform draws then come from ``np.random.default_rng(seed)``, so
  the mask is the same at every call with that seed and shape, which a gradient check
  needs (cs231n calls ``np.random.seed(seed)``, which would reseed NumPy's global
  generator for everyone; a private generator leaves it alone). Without a seed the draws
  come from NumPy's global generator, as cs231n's ``np.random.rand`` does and as
  ``nn.Dropout`` draws from torch's: :func:`nntrain.seed` makes them reproducible;
* ``mask``: optional, instead of a seed; a boolean array of ``x``'s shape, True for the units
  kept. Nothing is drawn: the same mask then gives the same numbers in both trees, which
  draw from different generators (:mod:`nntrain.torch.dropout`).

Used in chapter 5 (regularization).
"""

from __future__ import annotations

import numpy as np

from .. import validation as check

__all__ = [
    "dropout_forward",
    "dropout_backward",
]


def dropout_forward(x, dropout_param):
    r"""Inverted dropout: in train mode each unit is kept with probability ``p`` and scaled
    by ``1 / p``, in test mode the identity.

    .. math::
        \mathrm{out} = x \odot m, \qquad m = \frac{\mathbb{1}[u < p]}{p}, \;
        u \sim U[0, 1)^{\text{shape of } x} \quad \text{(train)}; \qquad
        \mathrm{out} = x \quad \text{(test)}.

    Args:
        x: inputs of any shape.
        dropout_param: the layer's state, a dict with ``mode``, ``p`` (the probability
            of *keeping* a unit) and optionally ``seed`` or ``mask``, as the module
            docstring says.

    Returns:
        ``(out, cache)``: ``out`` of the shape of ``x`` and the cache ``(mask, shape)``, with
        ``mask`` the scaled mask :math:`m` in ``x``'s dtype (``None`` in test mode).

    Example:
        >>> dropout_param = {"mode": "train", "p": 0.5, "seed": 1}
        >>> out, _ = dropout_forward(np.ones((2, 4)), dropout_param)
        >>> out  # every unit 0 or 1 / p
        array([[0., 0., 2., 0.],
               [2., 2., 0., 2.]])
        >>> np.array_equal(dropout_forward(np.ones((2, 4)), dropout_param)[0], out)  # seeded
        True
        >>> dropout_forward(np.ones(3), {"mode": "test", "p": 0.5})[0]
        array([1., 1., 1.])
    """
    check.ndarray("x", x)
    mode, p, seed, mask = check.dropout_settings(dropout_param, x, check.ndarray)
    if mode == "test":
        return x, (None, x.shape)
    if mask is None:
        rng = np.random if seed is None else np.random.default_rng(seed)
        mask = rng.random(x.shape) < p
    scaled = mask.astype(x.dtype) / x.dtype.type(p)  # (u < p) / p
    return x * scaled, (scaled, x.shape)


def dropout_backward(dout, cache):
    r"""Backward pass of :func:`dropout_forward`: the units dropped get no gradient, the
    kept ones the upstream gradient scaled by ``1 / p``.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}} \odot m
        \quad \text{(train)}, \qquad
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}}
        \quad \text{(test)}.

    ``dout`` and the returned ``dx`` have the shape of ``x``.
    """
    mask, shape = check.dropout_cache(cache)
    check.upstream(dout, shape, check.ndarray)
    return dout if mask is None else dout * mask
