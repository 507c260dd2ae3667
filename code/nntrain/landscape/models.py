"""Models as flat parameter vectors: the adapters behind :mod:`nntrain.landscape.params`,
:mod:`~nntrain.landscape.hessians` and :mod:`~nntrain.landscape.slices`.

A model is a reference :class:`~nntrain.reference.FullyConnectedNet` (or any cs231n-style
model: a ``params`` dict of NumPy arrays and ``loss(X, y) -> (loss, grads)``), its twin
:class:`nntrain.torch.FullyConnectedNet`, or any ``torch.nn.Module`` mapping inputs to class
scores; where only parameters are needed, a dict or list of NumPy arrays will do too.
:func:`model_adapter` wraps each kind in one interface: ``arrays()``, ``get()`` and
``set(theta)`` (the parameters, as one flat float64 vector cut by :func:`split`),
``layout`` (how a weight holds its filters), and for models ``inputs(X, y)``, ``kept()`` (a
context that restores parameters, running statistics and mode), ``loss(X, y)`` and
``gradient(X, y)``.
"""

from __future__ import annotations

import contextlib
import copy
import math

import numpy as np

from .. import validation


def _is_torch_module(model):
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - exercised only without torch installed
        return False
    return isinstance(model, nn.Module)


class Arrays:
    """The adapter of a dict (in key order) or list of NumPy arrays, the ``"in_out"``
    layout by default."""

    layout = "in_out"

    def __init__(self, params):
        self.params = params

    def arrays(self):
        values = self.params.values() if isinstance(self.params, dict) else self.params
        arrays = list(values)
        for i, a in enumerate(arrays):
            if not isinstance(a, np.ndarray):
                raise TypeError(
                    f"params must hold NumPy arrays, got {type(a).__name__} at position {i} "
                    "(pass a torch model itself rather than its tensors)"
                )
        return arrays

    def get(self):
        return np.concatenate([np.ravel(a).astype(np.float64) for a in self.arrays()])

    def set(self, theta):
        for a, piece in zip(self.arrays(), split(theta, self.arrays())):
            a[...] = piece


class NumpyModel(Arrays):
    """The adapter of a cs231n-style model of NumPy arrays: ``params`` and ``loss(X, y) ->
    (loss, grads)`` in training mode (batch normalization with the batch's statistics)."""

    def __init__(self, model):  # no copy of params: read from the model at every use
        self.model = model

    @property
    def params(self):
        return self.model.params

    def inputs(self, X, y):
        return validation.ndarray("X", X, min_ndim=2), y

    @contextlib.contextmanager
    def kept(self):
        """Restore the parameters and the running statistics on leaving."""
        saved = [a.copy() for a in self.arrays()]
        bn_params = copy.deepcopy(getattr(self.model, "bn_params", None))
        try:
            yield
        finally:
            for a, s in zip(self.arrays(), saved):
                a[...] = s
            if bn_params is not None:
                self.model.bn_params = bn_params

    def loss(self, X, y):
        """The training objective alone. A reference net runs its forward pass without the
        backward one: the same loss function and penalty its ``loss(X, y)`` adds, to the
        last bit; any other model its own ``loss(X, y)``."""
        from ..reference.fc_net import LOSSES, FullyConnectedNet

        if type(self.model) is FullyConnectedNet:  # a subclass may change loss(X, y)
            validation.net_targets(self.model, X, y, self.model.num_classes, validation.ndarray)
            scores = self.model.forward(X, mode="train")[0]
            return float(LOSSES[self.model.loss_name](scores, y)[0] + self.model.penalty())
        return float(self.model.loss(X, y)[0])

    def gradient(self, X, y):
        grads = self.model.loss(X, y)[1]
        return np.concatenate([np.ravel(grads[k]).astype(np.float64) for k in self.params])


class TorchModel:
    """The adapter of a ``torch.nn.Module``: its ``named_parameters()``, in training mode;
    the loss is the net's own for :class:`nntrain.torch.FullyConnectedNet` (whose weights are
    ``(D_in, D_out)``), softmax cross-entropy on the outputs for any other module
    (``(D_out, D_in, ...)`` weights)."""

    def __init__(self, model):
        from ..torch.fc_net import FullyConnectedNet

        self.model = model
        self.own_loss = isinstance(model, FullyConnectedNet)
        self.layout = "in_out" if self.own_loss else "out_in"

    def tensors(self):
        return [p for _, p in self.model.named_parameters()]

    def arrays(self):
        return [p.detach().cpu().numpy() for p in self.tensors()]

    def get(self):
        return np.concatenate([np.ravel(a).astype(np.float64) for a in self.arrays()])

    def set(self, theta):
        import torch

        with torch.no_grad():
            for p, piece in zip(self.tensors(), split(theta, self.tensors())):
                p.copy_(torch.as_tensor(piece, dtype=p.dtype, device=p.device))

    def inputs(self, X, y):
        """NumPy or torch data as tensors on the model's device, in its dtype."""
        import torch

        first = next(iter(self.tensors()), None)
        if first is None:
            raise ValueError("model must have parameters, got a module with none")
        if not (isinstance(X, np.ndarray) or validation.is_tensor(X)):
            raise TypeError(f"X must be a NumPy array or a torch tensor, got {type(X).__name__}")
        X = torch.as_tensor(X, dtype=first.dtype, device=first.device)
        y = torch.as_tensor(y, device=first.device)
        return X, (y.to(first.dtype) if y.is_floating_point() else y.long())

    @contextlib.contextmanager
    def kept(self):
        """Training mode inside; parameters, buffers and mode restored on leaving."""
        saved = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        was_training = self.model.training
        self.model.train()
        try:
            yield
        finally:
            self.model.load_state_dict(saved)
            self.model.train(was_training)

    def objective(self, scores, y):
        import torch.nn.functional as F

        if self.own_loss:
            from ..torch.fc_net import LOSSES

            return LOSSES[self.model.loss_name].apply(scores, y) + self.model.penalty()
        return F.cross_entropy(scores, y)

    def loss(self, X, y):
        import torch

        with torch.no_grad():
            return float(self.objective(self.model(X), y))

    def gradient(self, X, y):
        import torch

        with torch.enable_grad():
            if self.own_loss:
                grads = self.model.loss(X, y)[1]
                grads = [grads[k] for k in self.model.params]
            else:
                grads = torch.autograd.grad(self.objective(self.model(X), y), self.tensors())
        return np.concatenate([g.detach().cpu().double().numpy().ravel() for g in grads])

    def hessian(self, X, y):
        """Exact, by autograd, over the flattened parameters (``torch.func.functional_call``
        puts a vector's pieces in place of the parameters)."""
        import torch
        from torch.func import functional_call

        names = [n for n, _ in self.model.named_parameters()]
        shapes = [p.shape for p in self.tensors()]
        sizes = [p.numel() for p in self.tensors()]
        theta = torch.cat([p.detach().reshape(-1) for p in self.tensors()])

        def f(theta):
            pieces = [t.view(s) for t, s in zip(theta.split(sizes), shapes)]
            return self.objective(functional_call(self.model, dict(zip(names, pieces)), (X,)), y)

        with torch.enable_grad():
            return torch.autograd.functional.hessian(f, theta).cpu().double().numpy()


def split(theta, arrays):
    """``theta`` cut into pieces shaped like ``arrays`` (NumPy arrays or tensors)."""
    sizes = [math.prod(a.shape) for a in arrays]
    validation.shape("theta", theta, (sum(sizes),))
    ends = np.cumsum(sizes)
    return [theta[e - s : e].reshape(tuple(a.shape)) for a, s, e in zip(arrays, sizes, ends)]


def model_adapter(model, *, containers=False, name="model"):
    """The adapter of ``model`` (the argument ``name``): a torch module, a cs231n-style
    model of NumPy arrays or, with ``containers``, a dict or list of NumPy arrays."""
    if _is_torch_module(model):
        return TorchModel(model)
    if isinstance(getattr(model, "params", None), dict) and callable(getattr(model, "loss", None)):
        return NumpyModel(model)
    if containers and isinstance(model, (dict, list, tuple)):
        return Arrays(model)
    wanted = ", or a dict or list of NumPy arrays" if containers else ""
    raise TypeError(
        f"{name} must be a nntrain.reference.FullyConnectedNet (or another model with a params "
        f"dict and loss(X, y)), a nntrain.torch.FullyConnectedNet or a torch.nn.Module{wanted}; "
        f"got {type(model).__name__}"
    )
