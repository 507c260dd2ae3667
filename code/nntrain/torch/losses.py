"""Loss functions, PyTorch twin of :mod:`nntrain.reference.losses`.

Each function returns ``(loss, dscores)`` with ``loss`` a 0-d tensor, like the reference;
the autograd Functions and modules below make them usable as ordinary PyTorch losses.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import validation as check
from ._function import loss_function

__all__ = [
    "softmax_loss",
    "svm_loss",
    "l2_loss",
    "l1_loss",
    "SoftmaxLossFunction",
    "SVMLossFunction",
    "L2LossFunction",
    "L1LossFunction",
    "SoftmaxLoss",
    "SVMLoss",
    "L2Loss",
    "L1Loss",
]


def _picked(scores, y):
    """``scores[i, y[i]]`` as a column, and the column of labels. ``gather`` refuses a label
    outside ``[0, C)`` without reading the labels on the host first; on a CPU its error
    becomes the reference's ``ValueError`` (on a GPU it is a device-side assert)."""
    picked = y[:, None]
    try:
        return scores.gather(1, picked), picked
    except RuntimeError as error:
        if "out of bounds" not in str(error):
            raise
        raise ValueError(
            f"y must hold labels in [0, {scores.shape[1]}), got one outside ({error})"
        ) from None


def softmax_loss(scores, y):
    r"""Softmax cross-entropy averaged over the batch, with its gradient ``(p - onehot) / N``.

    Same math as :func:`nntrain.reference.losses.softmax_loss`; equals ``F.cross_entropy``.
    """
    check.scores_and_labels(scores, y, check.tensor)
    n = scores.shape[0]
    log_probs = torch.log_softmax(scores, dim=1)
    correct, picked = _picked(log_probs, y)
    loss = -correct.mean()
    # d loss / d log_probs is -onehot / n; through the log-softmax, g - p * sum(g) = (p -
    # onehot) / n, in PyTorch's fused kernel. The op is private: its signature (grad, output,
    # dim, input_dtype) is that of PyTorch 2.13.0 (pinned in requirements.txt). Kept because
    # it is what F.cross_entropy's backward runs, bit for bit; the public formula
    # (exp(log_probs) - onehot) / n is faster on a CPU but differs in the last bit, since the
    # kernel's exp is not torch.exp's (tests/test_losses.py checks both ways).
    g = torch.zeros_like(log_probs).scatter_(1, picked, -1.0 / n)
    return loss, torch.ops.aten._log_softmax_backward_data(g, log_probs, 1, scores.dtype)


def svm_loss(scores, y, delta=1.0):
    r"""Multiclass hinge loss (Weston-Watkins) averaged over the batch, with its gradient.

    Same math as :func:`nntrain.reference.losses.svm_loss`; equals ``C * F.multi_margin_loss``.
    """
    check.scores_and_labels(scores, y, check.tensor)
    check.positive("delta", delta)
    n = scores.shape[0]
    correct, picked = _picked(scores, y)
    margins = (scores - correct + delta).clamp(min=0).scatter_(1, picked, 0)
    dscores = (margins > 0).to(scores.dtype)
    dscores.scatter_(1, picked, -dscores.sum(dim=1, keepdim=True))
    return margins.sum() / n, dscores / n


def l2_loss(pred, target):
    r"""Mean squared error over every element, gradient ``2 (p - t) / M``; equals
    ``F.mse_loss``."""
    check.pred_and_target(pred, target, check.tensor)
    diff = pred - target
    m = diff.numel()
    loss = torch.dot(diff.view(-1), diff.view(-1)) / m  # sum of squares without a copy
    return loss, diff.mul_(2 / m)


def l1_loss(pred, target):
    r"""Mean absolute error over every element, gradient ``sign(p - t) / M``; equals
    ``F.l1_loss``."""
    check.pred_and_target(pred, target, check.tensor)
    diff = pred - target
    return diff.abs().mean(), diff.sign() / diff.numel()


SoftmaxLossFunction = loss_function("SoftmaxLossFunction", softmax_loss)
SVMLossFunction = loss_function("SVMLossFunction", svm_loss)
L2LossFunction = loss_function("L2LossFunction", l2_loss, target_grad=True)
L1LossFunction = loss_function("L1LossFunction", l1_loss, target_grad=True)


class SoftmaxLoss(nn.Module):
    """Softmax cross-entropy as a module: ``SoftmaxLoss()(scores, y)``."""

    def forward(self, scores, y):
        return SoftmaxLossFunction.apply(scores, y)


class SVMLoss(nn.Module):
    """Multiclass hinge loss as a module, with margin ``delta``."""

    def __init__(self, delta=1.0):
        super().__init__()
        check.positive("delta", delta)
        self.delta = delta

    def forward(self, scores, y):
        return SVMLossFunction.apply(scores, y, self.delta)


class L2Loss(nn.Module):
    """Mean squared error as a module."""

    def forward(self, pred, target):
        return L2LossFunction.apply(pred, target)


class L1Loss(nn.Module):
    """Mean absolute error as a module."""

    def forward(self, pred, target):
        return L1LossFunction.apply(pred, target)
