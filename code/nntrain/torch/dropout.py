r"""Dropout, PyTorch twin of :mod:`nntrain.reference.dropout`.

:func:`dropout_forward` and :func:`dropout_backward` take the reference's arguments and
``dropout_param`` (``p`` the probability of *keeping* a unit, cs231n's convention), with
tensors on any device. The uniform draws come from a ``torch.Generator`` on the tensor's
device seeded with ``dropout_param["seed"]`` when there is one, from torch's global
generator otherwise (as ``nn.Dropout``'s). The two trees draw from different generators,
so the same seed gives each tree its own mask; an explicit ``dropout_param["mask"]`` gives
both the same numbers.

:class:`DropoutFunction` runs the pair under autograd, and :class:`Dropout` is a drop-in
replacement for ``torch.nn.Dropout``: it takes PyTorch's *drop* probability ``p`` (the
keep probability is ``1 - p``), drops in ``.train()`` mode and is the identity in
``.eval()`` mode.

Used in chapter 5 (regularization).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import validation as check
from ._function import layer_function

__all__ = [
    "dropout_forward",
    "dropout_backward",
    "DropoutFunction",
    "Dropout",
]


def dropout_forward(x, dropout_param):
    r"""Inverted dropout of a tensor: :math:`\mathrm{out} = x \odot \mathbb{1}[u < p] / p`
    in train mode, ``x`` in test mode, with ``p`` the *keep* probability.

    Same arguments, math and cache as
    :func:`nntrain.reference.dropout.dropout_forward`; a ``mask`` in ``dropout_param`` is a
    boolean tensor on ``x``'s device. With a ``seed`` the draws come from
    ``torch.Generator(device=x.device).manual_seed(seed)``, so the mask depends on the seed
    and the device type (CPU and CUDA generators differ), not on the call.

    Example:
        >>> out, _ = dropout_forward(torch.ones(2, 4), {"mode": "train", "p": 0.5, "seed": 1})
        >>> out  # not the reference's mask for this seed: another generator
        tensor([[0., 2., 2., 0.],
                [2., 0., 2., 0.]])
    """
    check.tensor("x", x)
    mode, p, seed, mask = check.dropout_settings(dropout_param, x, check.tensor)
    if mode == "test":
        return x, (None, tuple(x.shape))
    if mask is None:
        rng = None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
        u = torch.rand(x.shape, generator=rng, dtype=x.dtype, device=x.device)
        scaled = u.lt_(p).div_(p)  # (u < p) / p, in u's memory
    else:
        scaled = mask.to(x.dtype).div_(p)
    return x * scaled, (scaled, tuple(x.shape))


def dropout_backward(dout, cache):
    r"""Backward pass of :func:`dropout_forward`: ``dout * mask`` in train mode, ``dout``
    in test mode."""
    mask, shape = check.dropout_cache(cache)
    check.upstream(dout, shape, check.tensor)
    return dout if mask is None else dout * mask


DropoutFunction = layer_function("DropoutFunction", dropout_forward, dropout_backward)


class Dropout(nn.Module):
    r"""Inverted dropout as an ``nn.Module``, a drop-in replacement for ``torch.nn.Dropout``,
    computed by :class:`DropoutFunction`.

    In training mode each element is zeroed with probability ``p`` and the others are
    scaled by :math:`1 / (1 - p)`; in eval mode the module is the identity. The mask comes
    from torch's global generator, as ``nn.Dropout``'s does (``torch.manual_seed`` makes it
    reproducible), drawn by ``torch.rand`` rather than ``nn.Dropout``'s Bernoulli kernel,
    so the two draw different masks from the same seed; given one mask they compute the
    same numbers (``tests/test_regularization.py``).

    Args:
        p: the probability of *dropping* an element, PyTorch's convention, in ``[0, 1)``
            (``nn.Dropout`` also takes 1, which zeroes everything; the keep probability
            ``1 - p`` of the functions must be positive).

    Shapes:
        input of any shape; output the same shape.

    Example:
        >>> drop = Dropout(0.5).eval()
        >>> drop(torch.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p=0.5):
        super().__init__()
        check.fraction("p", p)
        self.p = p

    def forward(self, x):
        mode = "train" if self.training else "test"
        return DropoutFunction.apply(x, {"mode": mode, "p": 1 - self.p})

    def extra_repr(self):
        return f"p={self.p}"
