r"""Weight penalties and the steps that enforce them, PyTorch twin of
:mod:`nntrain.reference.penalties`.

The same functions, arguments and conventions on tensors (any device): each penalty
returns ``(loss, dw)`` with ``loss`` a 0-d tensor, computed from ``w`` with tensor
operations, so autograd differentiates it too, to the ``dw`` returned
(``FullyConnectedNet.penalty`` relies on it). :func:`max_norm` works on the reference's
``(D_in, D_out)`` layout, the columns being the units, as the reference's does: it is the
twin of a function, not of a module's weight. For ``nn.Linear.weight``, stored
``(D_out, D_in)``, pass the transpose: ``max_norm(linear.weight.T, c).T``
(:func:`nntrain.train.train` does so with ``max_norm=``).

Used in chapter 5 (regularization).
"""

from __future__ import annotations

import torch

from .. import validation as check

__all__ = [
    "l2_penalty",
    "l1_penalty",
    "elastic_net_penalty",
    "soft_threshold",
    "max_norm",
]


def l2_penalty(w, reg):
    r"""The L2 penalty :math:`\tfrac12 \mathrm{reg} \sum w^2` and its gradient
    :math:`\mathrm{reg}\, w`; ``weight_decay=reg`` in ``torch.optim.SGD`` adds the same
    gradient. See :func:`nntrain.reference.penalties.l2_penalty`.

    Example:
        >>> l2_penalty(torch.tensor([1.0, -2.0]), 0.1)
        (tensor(0.2500), tensor([ 0.1000, -0.2000]))
    """
    check.penalty_inputs(w, check.tensor, reg=reg)
    return 0.5 * reg * (w * w).sum(), reg * w


def l1_penalty(w, reg):
    r"""The L1 penalty :math:`\mathrm{reg} \sum |w|` and the subgradient
    :math:`\mathrm{reg}\, \mathrm{sign}(w)` (0 at 0, as autograd's for ``abs``). See
    :func:`nntrain.reference.penalties.l1_penalty`."""
    check.penalty_inputs(w, check.tensor, reg=reg)
    return reg * w.abs().sum(), reg * w.sign()


def elastic_net_penalty(w, reg, l1_ratio):
    r"""The elastic net :math:`\mathrm{reg}\,(\rho \sum |w| + (1 - \rho) \tfrac12 \sum w^2)`
    with :math:`\rho` = ``l1_ratio``, and its gradient; see
    :func:`nntrain.reference.penalties.elastic_net_penalty` for the convention."""
    check.penalty_inputs(w, check.tensor, reg=reg, l1_ratio=l1_ratio)
    l1, dl1 = l1_penalty(w, reg * l1_ratio)
    l2, dl2 = l2_penalty(w, reg * (1 - l1_ratio))
    return l1 + l2, dl1 + dl2


def soft_threshold(w, threshold):
    r"""Soft thresholding :math:`\mathrm{sign}(w) \max(|w| - t, 0)`, the proximal step of
    the L1 penalty, computed as :math:`w - \mathrm{clip}(w, -t, t)`; equals
    ``torch.nn.functional.softshrink(w, t)``. See
    :func:`nntrain.reference.penalties.soft_threshold`.

    Example:
        >>> soft_threshold(torch.tensor([1.5, -0.2, 0.5, -3.0]), 0.5)
        tensor([ 1.0000,  0.0000,  0.0000, -2.5000])
    """
    check.penalty_inputs(w, check.tensor, threshold=threshold)
    return w - torch.clamp(w, -threshold, threshold)


def max_norm(w, c):
    r"""Every column of ``w`` (``(D_in, D_out)``, a unit's incoming weights) projected onto
    the ball of radius ``c``: :math:`w_j \leftarrow w_j\, c / \max(\lVert w_j \rVert_2, c)`.
    See :func:`nntrain.reference.penalties.max_norm`; ``torch.renorm(w, 2, 1, c)`` is
    nearly the same (it divides by the norm plus :math:`10^{-7}`).

    Example:
        >>> max_norm(torch.tensor([[3.0, 0.3], [4.0, 0.4]]), 1.0)
        tensor([[0.6000, 0.3000],
                [0.8000, 0.4000]])
    """
    check.penalty_inputs(w, check.tensor, ndim=2, c=c)
    norms = (w * w).sum(dim=0).sqrt()
    return w * (c / norms.clamp(min=c))
