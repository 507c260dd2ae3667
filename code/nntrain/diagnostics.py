"""How healthy is each layer? Per-layer statistics of activations and gradients.

A network trains well when every hidden layer passes on a signal of reasonable size in both
directions: activations neither collapsing to zero nor pinned at the ends of the
nonlinearity's range, gradients neither vanishing nor exploding. This module records, for
one batch, what every hidden nonlinearity receives and returns and the gradient of the loss
with respect to its output, then summarizes each layer:

* ``mean`` and ``std`` of the activations (the outputs of the nonlinearity);
* ``saturated``: the fraction of (example, unit) entries whose *local gradient*
  :math:`f'(z)` is below 5% of the nonlinearity's largest slope, so that almost no gradient
  passes back through them (a tanh near :math:`\\pm 1`, a ReLU with a negative input);
* ``dead``: the fraction of units that are saturated on *every* example of the batch, and
  so pass back no gradient at all (a dead ReLU, a tanh stuck at one end);
* ``grad_std``: the standard deviation of :math:`\\partial L / \\partial h`, the gradient
  arriving at the layer's output (when targets are given).

It works on the reference :class:`~nntrain.reference.fc_net.FullyConnectedNet` and, through forward
hooks, on any ``torch.nn.Module`` whose nonlinearities are modules (``nn.Tanh``,
``nn.ReLU``, ..., and this package's :mod:`nntrain.torch` activations): each such module is
one layer. Used by the chapters on activations, initialization and batch normalization.

Example:
    >>> from nntrain.diagnostics import record, summarize
    >>> from nntrain.reference import FullyConnectedNet
    >>> net = FullyConnectedNet([50, 50], input_dim=10, activation="tanh", seed=0)
    >>> stats = summarize(record(net, np.random.default_rng(0).standard_normal((64, 10))))
    >>> [s.name for s in stats]
    ['tanh 1', 'tanh 2']
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import validation
from .models import is_torch
from .reference.fc_net import ACTIVATIONS, LOSSES
from .reference.fc_net import FullyConnectedNet as ReferenceNet
from .torch import activations as ours
from .torch.fc_net import LOSSES as TORCH_LOSSES
from .torch.fc_net import FullyConnectedNet as TorchNet

__all__ = [
    "SATURATION",
    "LayerRecord",
    "LayerStats",
    "plot_histograms",
    "plot_stats",
    "record",
    "summarize",
    "table",
]

#: A unit counts as saturated where its local gradient is below this fraction of the
#: nonlinearity's largest slope.
SATURATION = 0.05


@dataclass
class LayerRecord:
    """What one hidden nonlinearity saw on one batch (arrays of shape ``(N, units)``).

    Attributes:
        name: the layer's name, e.g. ``"tanh 3"``.
        pre: the nonlinearity's inputs :math:`z` (the pre-activations).
        post: its outputs :math:`h = f(z)` (the activations).
        local: the local gradient :math:`f'(z)`, elementwise, divided by the largest slope
            of :math:`f`, so that 1 is "passes gradients at full strength"; None for a
            nonlinearity that is not elementwise.
        grad: :math:`\\partial L/\\partial h`, or None when no targets were given.
    """

    name: str
    pre: np.ndarray
    post: np.ndarray
    local: np.ndarray | None
    grad: np.ndarray | None


@dataclass
class LayerStats:
    """The summary of one :class:`LayerRecord` (see the module docstring)."""

    name: str
    mean: float
    std: float
    saturated: float
    dead: float
    grad_std: float | None


# ----------------------------------------------------------------------------- recording


def _flat(x):
    return x.reshape(x.shape[0], -1)


#: Where the largest slope of a nonlinearity is looked for (both trees use these points).
_PEAK_GRID = np.linspace(-20, 20, 4001)


def _reference_local(activation, z):
    """f'(z) / max f' for a reference activation, from its own backward pass."""
    forward, backward = ACTIVATIONS[activation]
    peak = backward(np.ones_like(_PEAK_GRID), forward(_PEAK_GRID)[1]).max()
    return backward(np.ones_like(z), forward(z)[1]) / peak


def _record_reference(net, X, y, training):
    X = validation.ndarray("X", X, min_ndim=2)
    saved = copy.deepcopy(net.bn_params)  # recording leaves the running statistics alone
    try:
        if y is not None:  # the net's own check of the targets, without running it twice
            y = validation.net_targets(net, X, y, net.num_classes, validation.ndarray)
        scores, caches, hidden = net.forward(X, mode="train" if training else "test")
        dhidden = [None] * len(hidden)
        if y is not None:
            _, dscores = LOSSES[net.loss_name](scores, y)
            dhidden = net.backward(dscores, caches)[1]
    finally:
        net.bn_params = saved
    return [
        LayerRecord(f"{net.activation} {i}", z, h, _reference_local(net.activation, z), g)
        for i, ((z, h), g) in enumerate(zip(hidden, dhidden), start=1)
    ]


#: Module classes that count as a hidden nonlinearity (one layer each).
_ACTIVATION_TYPES = (
    nn.ReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.SELU,
    nn.CELU,
    nn.Softplus,
    nn.Mish,
    nn.ReLU6,
    nn.Hardtanh,
    ours.ReLU,
    ours.Tanh,
    ours.Sigmoid,
    ours.LeakyReLU,
    ours.PReLU,
    ours.ELU,
    ours.GELU,
    ours.SiLU,
    ours.Maxout,
)


def _torch_local(module, z):
    """f'(z) / max f' for an elementwise module, by autograd; None if not elementwise."""
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        out = module(z)
        if out.shape != z.shape:
            return None
        (local,) = torch.autograd.grad(out.sum(), z)
        grid = torch.as_tensor(_PEAK_GRID, dtype=z.dtype, device=z.device)
        grid = grid.reshape(-1, *[1] * (z.dim() - 1)).expand(-1, *z.shape[1:]).clone()
        grid.requires_grad_(True)
        (slopes,) = torch.autograd.grad(module(grid).sum(), grid)
    return (local / slopes.max()).detach()


def _record_torch(model, X, y, training):
    X = validation.tensor("X", X, min_ndim=2)
    layers = [m for m in model.modules() if isinstance(m, _ACTIVATION_TYPES)]
    if not layers:
        raise ValueError(
            "the model has no nonlinearity modules to watch (nn.ReLU, nn.Tanh, ..., or the "
            "nntrain.torch activations); functional calls such as torch.relu cannot be hooked"
        )
    seen = []  # (module, input, output) per call, in the order of the forward pass

    def hook(module, inputs, output):
        seen.append((module, inputs[0], output))

    handles = [m.register_forward_hook(hook) for m in layers]
    was_training = model.training
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.train(training)
    try:
        with torch.set_grad_enabled(y is not None):
            loss = _torch_loss(model, X, y)
            # the gradient reaching each layer's output, leaving parameters' .grad alone
            grads = [None] * len(seen)
            if loss is not None:
                grads = torch.autograd.grad(loss, [out for _, _, out in seen], allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
        model.load_state_dict(saved)  # running statistics as they were
        model.train(was_training)
    return [_torch_record(k, m, z, h, g) for k, ((m, z, h), g) in enumerate(zip(seen, grads), 1)]


def _torch_loss(model, X, y):
    """Run the forward pass (the hooks record it); the loss when there are targets ``y``:
    the net's own for :class:`nntrain.torch.fc_net.FullyConnectedNet`, else cross-entropy."""
    if isinstance(model, TorchNet):
        scores = model(X.to(model.params["W1"].dtype))
        return None if y is None else TORCH_LOSSES[model.loss_name].apply(scores, y)
    scores = model(X)
    return None if y is None else F.cross_entropy(scores, y)


def _torch_record(k, module, z, h, grad):
    """The :class:`LayerRecord` of the k-th hooked nonlinearity, as NumPy arrays."""

    def numpy(t):
        return None if t is None else _flat(t.detach()).cpu().numpy()

    name = f"{type(module).__name__.lower()} {k}"
    return LayerRecord(name, numpy(z), numpy(h), numpy(_torch_local(module, z)), numpy(grad))


def record(model, X, y=None, *, training=False):
    """Run ``model`` on the batch ``X`` and record every hidden nonlinearity.

    Args:
        model: a reference :class:`~nntrain.reference.fc_net.FullyConnectedNet` (with NumPy
            ``X``), or any ``torch.nn.Module`` (with a tensor ``X``) whose nonlinearities
            are modules; each call of such a module is one layer, in the order of the
            forward pass.
        X: a batch of inputs, shape ``(N, ...)``.
        y: optional integer labels of shape ``(N,)``; with them the loss is
            backpropagated and each record holds :math:`\\partial L/\\partial h`. The loss
            is the net's own for a ``FullyConnectedNet``, softmax cross-entropy on the
            outputs for any other module. Parameter gradients are not kept.
        training: record the training-mode pass (batch normalization with the batch's
            statistics, dropout active) instead of the test-mode one. Either way the
            model's running statistics and mode are left as they were.

    Returns:
        A list of :class:`LayerRecord`, one per hidden nonlinearity.

    Raises:
        TypeError: for a model of another kind, or ``X`` of the wrong kind.
        ValueError: for a torch model with no nonlinearity module.
    """
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r}")
    if isinstance(model, ReferenceNet):
        return _record_reference(model, X, y, training)
    if is_torch(model):
        return _record_torch(model, X, y, training)
    raise TypeError(
        "model must be a nntrain.reference.FullyConnectedNet or a torch.nn.Module, got "
        f"{type(model).__name__}"
    )


# ---------------------------------------------------------------------------- statistics


def summarize(records, *, saturation=SATURATION):
    """The :class:`LayerStats` of each record (see the module docstring for the definitions).

    Args:
        records: the list returned by :func:`record`.
        saturation: the fraction of the largest slope below which an entry counts as
            saturated (default 5%).

    Returns:
        A list of :class:`LayerStats`, in the order of ``records``. ``saturated`` and
        ``dead`` are NaN for a nonlinearity that is not elementwise (maxout).
    """
    validation.positive("saturation", saturation)
    stats = []
    for r in records:
        if r.local is None:
            saturated = dead = float("nan")
        else:
            stuck = np.abs(r.local) < saturation
            saturated, dead = float(stuck.mean()), float(stuck.all(axis=0).mean())
        stats.append(
            LayerStats(
                r.name,
                float(r.post.mean()),
                float(r.post.std()),
                saturated,
                dead,
                None if r.grad is None else float(r.grad.std()),
            )
        )
    return stats


def table(stats):
    """A plain-text table of :class:`LayerStats`, one line per layer."""
    lines = [f"{'layer':12} {'mean':>9} {'std':>9} {'saturated':>10} {'dead':>7} {'grad std':>10}"]
    for s in stats:
        grad = "-" if s.grad_std is None else f"{s.grad_std:10.2e}"
        lines.append(
            f"{s.name:12} {s.mean:9.4f} {s.std:9.4f} {s.saturated:10.1%} {s.dead:7.1%} {grad:>10}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------- plots


def plot_histograms(fig, records, *, which="post", bins=41, range=None, max_layers=10):
    """One histogram per layer, side by side, sharing the x axis (the classic picture of
    activations collapsing to zero or piling up at the ends of a tanh). Titles and ticks take
    matplotlib's current sizes: the book's :data:`~nntrain.plots.STYLE` after
    :func:`~nntrain.plots.use_style`, like every other figure.

    Args:
        fig: a :class:`matplotlib.figure.Figure` to draw on (it should be empty).
        records: the list returned by :func:`record`.
        which: ``"post"`` (activations), ``"pre"`` (pre-activations) or ``"grad"``
            (gradients with respect to the activations).
        bins: the number of histogram bins (odd, so that a symmetric range has a bin
            centred on zero).
        range: ``(low, high)`` of the bins; None spans the values of all layers.
        max_layers: at most this many layers are drawn, evenly spaced through the net.

    Returns:
        The list of axes.
    """
    if which not in ("post", "pre", "grad"):
        raise ValueError(f"which must be 'post', 'pre' or 'grad', got {which!r}")
    validation.positive_int("max_layers", max_layers)
    if not records:
        raise ValueError("records is empty: the model has no hidden layer to show")
    if which == "grad" and any(r.grad is None for r in records):
        raise ValueError("which='grad' needs records made with targets y")
    picked = np.unique(np.linspace(0, len(records) - 1, min(max_layers, len(records))).round())
    chosen = [records[int(i)] for i in picked]
    values = [np.asarray(getattr(r, which)).ravel() for r in chosen]
    if range is None:
        low = min(v.min() for v in values)
        high = max(v.max() for v in values)
        range = (low, high) if high > low else (low - 1, high + 1)
    axes = fig.subplots(1, len(chosen), sharex=True, sharey=True, squeeze=False)[0]
    for ax, r, v in zip(axes, chosen, values):
        weights = np.full(v.shape, 1 / v.size)
        ax.hist(v, bins=bins, range=range, weights=weights, color="C0", histtype="stepfilled")
        ax.set_title(r.name)
    axes[0].set_ylabel("fraction")
    return list(axes)


def plot_stats(ax, stats, *, label=None):
    """The std of the activations per layer, on a log axis; returns ``ax``."""
    layers = np.arange(1, len(stats) + 1)
    ax.plot(layers, [s.std for s in stats], marker="o", label=label)
    ax.set(yscale="log", xlabel="layer", ylabel="std of activations", xticks=layers)
    return ax
