"""A fully connected network of any depth, PyTorch twin of
:class:`nntrain.reference.fc_net.FullyConnectedNet`."""

from __future__ import annotations

import torch
from torch import nn

from .. import validation as check
from ..reference import fc_net as reference
from .activations import ELU, GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Tanh
from .dropout import DropoutFunction
from .layers import AffineFunction
from .losses import L1LossFunction, L2LossFunction, SoftmaxLossFunction, SVMLossFunction
from .normalization import BatchNorm1d
from .penalties import elastic_net_penalty, l1_penalty, l2_penalty

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "PENALTIES",
    "FullyConnectedNet",
    "set_up",
]

#: Nonlinearities a hidden layer may use, by the names of the reference's
#: :data:`~nntrain.reference.fc_net.ACTIVATIONS`, each mapped to the module class each hidden
#: layer gets, so forward hooks (:mod:`nntrain.diagnostics`) see it.
ACTIVATIONS = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
}
#: Losses the network may be trained with, by name.
LOSSES = {
    "softmax": SoftmaxLossFunction,
    "svm": SVMLossFunction,
    "l2": L2LossFunction,
    "l1": L1LossFunction,
}
#: Penalties on the weights, by name, each ``penalty(w, reg, l1_ratio) -> (loss, dw)``.
PENALTIES = {
    "l2": lambda w, reg, l1_ratio: l2_penalty(w, reg),
    "l1": lambda w, reg, l1_ratio: l1_penalty(w, reg),
    "elastic_net": elastic_net_penalty,
}


class FullyConnectedNet(nn.Module):
    r"""The reference network as an ``nn.Module`` built from this package's autograd Functions.

    Same arguments and the same initial weights for the same ``seed`` as
    :class:`nntrain.reference.fc_net.FullyConnectedNet` (they are drawn by the same NumPy
    generator), so the two can be compared number for number. ``params`` is an
    ``nn.ParameterDict`` keyed ``W1, b1, ..., WL, bL``; move the net with ``.to(device)``.

    With ``normalization="batchnorm"`` each hidden layer normalizes with a module of
    ``norms`` (its running statistics; ``gamma{i}`` and ``beta{i}`` are in ``params``), which
    follows the module's mode: ``net.train()`` uses batch statistics, ``net.eval()`` the
    running averages, as every PyTorch model. Each hidden nonlinearity is a module of
    ``nonlinearities`` (an ``nn.ModuleList``), so hooks can watch it. ``net(X)`` returns the
    scores; ``net.loss(X, y)`` returns ``(loss, grads)`` like the reference, with the
    gradients computed by autograd through our backward passes.

    With ``dropout_keep_ratio < 1`` each hidden layer ends with dropout
    (:class:`~nntrain.torch.dropout.DropoutFunction`, placed as in the reference, whose
    docstring tells how it shifts the variance a later batch normalization sees), active in
    training mode, ``net.train()``, the identity in ``net.eval()``. Its state is the reference's
    ``dropout_param`` (``mode``, set from the module's mode at every call, ``p`` and the
    net's ``seed``): with the seed, every call draws the same masks, for a gradient check,
    from a ``torch.Generator`` seeded with it on the input's device (so they are not the
    reference's masks). Remove the seed (``del net.dropout_param["seed"]``) for fresh
    masks from torch's global generator at every step, as a training run wants.
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        activation="relu",
        weight_scale=1e-2,
        reg=0.0,
        dtype=torch.float32,
        seed=None,
        loss="softmax",
        normalization=None,
        norm_placement="before",
        dropout_keep_ratio=1.0,
        reg_type="l2",
        l1_ratio=0.5,
    ):
        super().__init__()
        params = set_up(self, locals())
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
        self.params = params.to(dtype)  # filled in order: W1, b1, W2, b2, ...
        # running statistics only (affine=False): gamma and beta are params["gamma1"], ...
        norms = (BatchNorm1d(d, affine=False).to(dtype) for d in self.hidden_dims)
        self.norms = nn.ModuleList(norms if normalization else [])
        self.nonlinearities = nn.ModuleList(ACTIVATIONS[activation]() for _ in self.hidden_dims)

    def forward(self, X):
        """Class scores of shape ``(N, num_classes)`` for inputs ``X`` of shape ``(N, *)``."""
        h = X.reshape(X.shape[0], -1)
        for i in range(1, self.num_layers):
            h = AffineFunction.apply(h, self.params[f"W{i}"], self.params[f"b{i}"])
            if self.normalization and self.norm_placement == "before":
                h = self._batchnorm(h, i)
            h = self.nonlinearities[i - 1](h)
            if self.normalization and self.norm_placement == "after":
                h = self._batchnorm(h, i)
            if self.dropout_param:
                self.dropout_param["mode"] = "train" if self.training else "test"
                h = DropoutFunction.apply(h, self.dropout_param)
        L = self.num_layers
        return AffineFunction.apply(h, self.params[f"W{L}"], self.params[f"b{L}"])

    def _batchnorm(self, h, i):
        """Normalize with the i-th layer's statistics (batch or running, by the module's
        mode), then scale and shift by ``gamma{i}``, ``beta{i}``."""
        return self.norms[i - 1](h) * self.params[f"gamma{i}"] + self.params[f"beta{i}"]

    def penalty(self):
        r"""The penalty on the weights, :math:`\mathrm{reg} \sum_\ell R(W_\ell)` with
        :math:`R` the one named by ``reg_type`` at unit strength (by default
        :math:`\tfrac12 \mathrm{reg} \sum_\ell \lVert W_\ell\rVert^2`), a 0-d tensor
        that autograd differentiates."""
        weights = [p for name, p in self.params.items() if name.startswith("W")]
        penalty = PENALTIES[self.reg_type]
        return self.reg * sum(penalty(w, 1.0, self.l1_ratio)[0] for w in weights)

    def loss(self, X, y=None):
        """Scores, or ``(loss, grads)`` when targets are given, as in the reference."""
        y = check.net_targets(self, X, y, self.num_classes, check.tensor)
        X = X.to(self.params["W1"].dtype)
        if y is None:
            return self(X)
        with torch.enable_grad():
            total = LOSSES[self.loss_name].apply(self(X), y) + self.penalty()
            names = list(self.params)
            grads = torch.autograd.grad(total, [self.params[n] for n in names])
        return total.detach(), dict(zip(names, grads))


def set_up(net, arguments):
    """:func:`nntrain.reference.fc_net.set_up` (the same checks, settings and numbers), with
    the parameters as an ``nn.ParameterDict`` of float64 tensors."""
    params = nn.ParameterDict()  # filled in the reference's order (a dict would be sorted)
    for name, p in reference.set_up(net, arguments).items():
        params[name] = nn.Parameter(torch.tensor(p))
    return params
