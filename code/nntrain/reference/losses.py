"""Loss functions, NumPy reference: each returns ``(loss, dscores)`` or ``(loss, dpred)``.

The classification losses take class scores (logits) of shape ``(N, C)`` and integer labels
``y`` of shape ``(N,)`` in ``[0, C)``, and average over the batch, as in the cs231n
assignments; the regression losses take predictions ``pred`` of any shape with at least one
dimension and ``target`` of the same shape, and average over every element, as
``torch.nn.functional.mse_loss`` and ``l1_loss`` do with their default
``reduction="mean"``. The loss is a float and the gradient has the shape of ``scores``
(or ``pred``).
"""

from __future__ import annotations

import numpy as np

from .. import validation as check

__all__ = [
    "softmax_loss",
    "svm_loss",
    "l2_loss",
    "l1_loss",
]


def softmax_loss(scores, y):
    r"""Softmax cross-entropy loss, averaged over the batch.

    .. math::
        L = \frac{1}{N} \sum_{i=1}^{N} -\log \frac{e^{s_{i y_i}}}{\sum_j e^{s_{ij}}},
        \qquad \frac{\partial L}{\partial s_{ij}} = \frac{p_{ij} - \mathbb{1}[j = y_i]}{N},

    where :math:`p_{ij}` is the softmax of row :math:`i`. Subtracting each row's maximum
    before exponentiating leaves :math:`L` unchanged and keeps it finite for scores of
    magnitude :math:`10^4` and beyond.

    Example:
        >>> loss, _ = softmax_loss(np.zeros((4, 10)), np.arange(4))
        >>> round(loss, 4)  # ln 10 for uniform scores
        2.3026

    Chapter 0 introduces it; chapter 6 checks the initial loss against it.
    """
    check.scores_and_labels(scores, y, check.ndarray)
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return float(loss), dscores / n


def svm_loss(scores, y, delta=1.0):
    r"""Multiclass hinge (SVM) loss of Weston and Watkins (1999), averaged over the batch.

    .. math::
        L = \frac{1}{N} \sum_{i=1}^{N} \sum_{j \ne y_i} \max(0,\; s_{ij} - s_{i y_i} + \Delta)

    Every wrong class whose score comes within :math:`\Delta` of the correct one adds to the
    loss; once all margins are met the loss is exactly zero and stops pushing. The gradient
    is :math:`1/N` on each violating wrong class and minus the number of violations over
    :math:`N` on the correct class.

    ``torch.nn.functional.multi_margin_loss`` computes the same sum divided by ``C``.

    Args:
        delta: the margin :math:`\Delta > 0`.

    Example:
        >>> round(svm_loss(np.array([[3.2, 5.1, -1.7]]), np.array([0]))[0], 10)
        2.9

    Used in chapter 0.
    """
    check.scores_and_labels(scores, y, check.ndarray)
    check.positive("delta", delta)
    n = scores.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, scores - scores[rows, y][:, None] + delta)
    margins[rows, y] = 0
    loss = margins.sum() / n
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    return float(loss), dscores / n


def l2_loss(pred, target):
    r"""Squared-error regression loss, averaged over every element.

    .. math::
        L = \frac{1}{M} \sum_{k=1}^{M} (p_k - t_k)^2, \qquad
        \frac{\partial L}{\partial p_k} = \frac{2 (p_k - t_k)}{M}

    The gradient grows with the error, so a few large errors (outliers) dominate the
    update: chapter 0 shows outliers pulling an L2 fit away while L1 ignores them.
    """
    check.pred_and_target(pred, target, check.ndarray)
    diff = pred - target
    return float((diff**2).mean()), 2 * diff / diff.size


def l1_loss(pred, target):
    r"""Absolute-error regression loss, averaged over every element.

    .. math::
        L = \frac{1}{M} \sum_{k=1}^{M} |p_k - t_k|, \qquad
        \frac{\partial L}{\partial p_k} = \frac{\operatorname{sign}(p_k - t_k)}{M}

    Every error pulls with the same strength whatever its size, so outliers weigh less
    than under :func:`l2_loss`. The gradient at exactly zero error is taken to be 0, as in
    PyTorch.
    """
    check.pred_and_target(pred, target, check.ndarray)
    diff = pred - target
    return float(np.abs(diff).mean()), np.sign(diff) / diff.size
