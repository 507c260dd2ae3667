r"""Weight penalties and the steps that enforce them, NumPy reference.

A penalty :math:`\mathrm{reg} \cdot R(W)` added to the data loss pulls the weights towards
0. Each penalty function takes a weight array ``w`` of any shape and a strength
``reg >= 0`` and returns ``(loss, dw)``, a float and an array of the shape of ``w``: the
penalty and its gradient, to add to the data loss and to the weights' gradient (the biases
are usually left out). Two
regularizers work on the weights directly, after an update, instead of through the
gradient: :func:`soft_threshold`, the proximal step of the L1 penalty, and
:func:`max_norm`, the projection onto a max-norm constraint.

**L2 and weight decay.** cs231n writes the L2 penalty with a factor one half,
:math:`\tfrac12 \mathrm{reg} \sum w^2`, so that its gradient is :math:`\mathrm{reg}\, w`:
plain SGD on it multiplies every weight by :math:`1 - \eta\, \mathrm{reg}` at each step,
which is why L2 is called *weight decay*. PyTorch's optimizers take
``weight_decay=``:math:`\lambda` and add :math:`\lambda w` to the gradient: the same as
:func:`l2_penalty` with ``reg`` :math:`= \lambda` (for SGD, with or without momentum;
for Adam the added term is then rescaled per weight, which AdamW's *decoupled* decay,
Loshchilov and Hutter 2019, avoids). Keras's ``l2(l)`` has no half, :math:`l \sum w^2`,
so its ``l`` is half of ``reg``.

**L1 and sparsity.** :math:`\mathrm{reg} \sum |w|` pulls every weight towards 0 at the
same rate :math:`\mathrm{reg}` whatever its size, so small weights reach 0 while the L2
pull on them fades; its gradient :math:`\mathrm{reg}\, \mathrm{sign}(w)` is a subgradient
(0 is taken at 0). Gradient steps on it make weights hover around 0 rather than reach it;
the proximal step :func:`soft_threshold` sets them to exactly 0.

Used in chapter 5 (regularization).
"""

from __future__ import annotations

import numpy as np

from .. import validation as check

__all__ = [
    "l2_penalty",
    "l1_penalty",
    "elastic_net_penalty",
    "soft_threshold",
    "max_norm",
]


def l2_penalty(w, reg):
    r"""The L2 penalty with cs231n's one half, and its gradient.

    .. math::
        L = \tfrac12\, \mathrm{reg} \sum_{ij} w_{ij}^2, \qquad
        \frac{\partial L}{\partial w} = \mathrm{reg}\, w.

    The same as ``weight_decay=reg`` in ``torch.optim.SGD`` (see the module docstring).
    Tikhonov (1943); Krogh and Hertz (1992), *A Simple Weight Decay Can Improve
    Generalization*.

    Example:
        >>> l2_penalty(np.array([1.0, -2.0]), 0.1)
        (0.25, array([ 0.1, -0.2]))
    """
    check.penalty_inputs(w, check.ndarray, reg=reg)
    return 0.5 * reg * float((w * w).sum()), reg * w


def l1_penalty(w, reg):
    r"""The L1 penalty (the lasso's, Tibshirani 1996) and a subgradient.

    .. math::
        L = \mathrm{reg} \sum_{ij} |w_{ij}|, \qquad
        \frac{\partial L}{\partial w} = \mathrm{reg}\, \mathrm{sign}(w),

    with :math:`\mathrm{sign}(0) = 0`: :math:`|w|` has no derivative at 0, and 0 is the
    subgradient that leaves a weight at 0 where it is (PyTorch's ``abs`` takes it too).

    Example:
        >>> l1_penalty(np.array([1.0, -2.0, 0.0]), 0.5)
        (1.5, array([ 0.5, -0.5,  0. ]))
    """
    check.penalty_inputs(w, check.ndarray, reg=reg)
    return reg * float(np.abs(w).sum()), reg * np.sign(w)


def elastic_net_penalty(w, reg, l1_ratio):
    r"""The elastic net: a mixture of the L1 and L2 penalties.

    Zou and Hastie (2005), *Regularization and variable selection via the elastic net*,
    penalize :math:`\lambda_1 \sum |w| + \lambda_2 \sum w^2`; written here, as in glmnet
    and scikit-learn's ``ElasticNet(alpha, l1_ratio)``, with one strength and the share of
    the L1 term, and with cs231n's one half on the L2 term:

    .. math::
        L = \mathrm{reg} \Bigl(\rho \sum_{ij} |w_{ij}|
            + (1 - \rho)\, \tfrac12 \sum_{ij} w_{ij}^2\Bigr), \qquad
        \frac{\partial L}{\partial w} = \mathrm{reg} \bigl(\rho\, \mathrm{sign}(w)
            + (1 - \rho)\, w\bigr),

    with :math:`\rho` = ``l1_ratio``: :func:`l1_penalty` at :math:`\rho = 1` and
    :func:`l2_penalty` at :math:`\rho = 0`, exactly. So :math:`\lambda_1 = \mathrm{reg}\,
    \rho` and :math:`\lambda_2 = \mathrm{reg}\,(1 - \rho) / 2`. The L1 part makes weights
    sparse, the L2 part spreads the weight among correlated inputs instead of picking one.

    Args:
        l1_ratio: the share :math:`\rho` of the L1 term, in ``[0, 1]``.

    Example:
        >>> elastic_net_penalty(np.array([1.0, -2.0]), 1.0, 0.5)  # 0.5 * 3 + 0.5 * 2.5
        (2.75, array([ 1. , -1.5]))
    """
    check.penalty_inputs(w, check.ndarray, reg=reg, l1_ratio=l1_ratio)
    l1, dl1 = l1_penalty(w, reg * l1_ratio)
    l2, dl2 = l2_penalty(w, reg * (1 - l1_ratio))
    return l1 + l2, dl1 + dl2


def soft_threshold(w, threshold):
    r"""Soft thresholding: the proximal step of the L1 penalty, which sets small weights to
    exactly 0.

    .. math::
        \mathrm{prox}_{t |\cdot|}(w) = \arg\min_z \tfrac12 (z - w)^2 + t |z|
        = \mathrm{sign}(w) \max(|w| - t,\, 0),

    elementwise: every weight moves by :math:`t` towards 0 and stops there. Proximal
    gradient descent (ISTA; Daubechies, Defrise and De Mol 2004) on
    :math:`\mathrm{data}(w) + \mathrm{reg} \sum |w|` takes a gradient step on the data loss
    alone and then ``soft_threshold(w, learning_rate * reg)``: weights whose data gradient
    cannot hold them away from 0 become 0, where subgradient steps would make them
    oscillate around it. Computed as :math:`w - \mathrm{clip}(w, -t, t)`, the same
    numbers, with the zeros all :math:`+0`; ``torch.nn.functional.softshrink(w, t)``
    computes the same.

    Args:
        w: an array of any shape.
        threshold: :math:`t \ge 0`.

    Returns:
        An array of the shape of ``w``.

    Example:
        >>> soft_threshold(np.array([1.5, -0.2, 0.5, -3.0]), 0.5)
        array([ 1. ,  0. ,  0. , -2.5])
    """
    check.penalty_inputs(w, check.ndarray, threshold=threshold)
    return w - np.clip(w, -threshold, threshold)


def max_norm(w, c):
    r"""The max-norm constraint: every unit's incoming weight vector projected onto the
    ball of radius ``c``.

    Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov (2014), *Dropout: A Simple
    Way to Prevent Neural Networks from Overfitting*, section 5.1: after every update, a
    unit whose incoming weights :math:`w_j` (a column of ``W``, in the reference's
    ``(D_in, D_out)`` layout) have grown beyond :math:`\lVert w_j \rVert_2 = c` is scaled
    back onto the sphere, the others are left as they are:

    .. math::
        w_j \leftarrow w_j \cdot \frac{c}{\max(\lVert w_j \rVert_2,\, c)}.

    The weights then stay bounded however large the learning rate, which is what lets
    dropout nets train with large steps; typical :math:`c` lie between 3 and 4. A column
    inside the ball is returned unchanged, bit for bit; one outside gets norm :math:`c` (to
    rounding). ``torch.renorm(w, 2, 1, c)`` computes nearly the same (it divides by the
    norm plus :math:`10^{-7}`); for ``nn.Linear``'s ``(D_out, D_in)`` weight, the rows
    are the units: ``max_norm(weight.T, c).T``.

    Args:
        w: weights of shape ``(D_in, D_out)``.
        c: the largest norm of a column, ``> 0``.

    Returns:
        An array of the shape of ``w``.

    Example:
        >>> max_norm(np.array([[3.0, 0.3], [4.0, 0.4]]), 1.0)  # norms 5 and 0.5
        array([[0.6, 0.3],
               [0.8, 0.4]])
    """
    check.penalty_inputs(w, check.ndarray, ndim=2, c=c)
    norms = np.sqrt((w * w).sum(axis=0))  # (D_out,): one per unit
    return w * (c / np.maximum(norms, c))
