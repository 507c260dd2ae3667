"""One adapter for a model of either kind: what the package's services need of a model.

A model is a cs231n-style model of NumPy arrays (a ``params`` dict and ``loss(X, y=None)``
returning the scores, or ``(loss, grads)``: :class:`nntrain.reference.fc_net.FullyConnectedNet`),
or a ``torch.nn.Module``: :class:`nntrain.torch.fc_net.FullyConnectedNet`, with the same
interface, or any module mapping inputs to class scores, trained on the softmax
cross-entropy by autograd. :func:`adapt` wraps either kind in one interface, and is the one
place in the package that tells them apart; the training loop (:mod:`nntrain.train`), the
landscape tools (:mod:`nntrain.landscape`), the babysitting checks (:mod:`nntrain.babysit`)
and the diagnostics talk to the adapter only:

* the data: ``inputs(X, y)`` (NumPy data as the model's kind of array) and ``numpy(x)``;
* the parameters: ``params`` (the trained ones, by name), ``trainable()``, ``clone(p)``,
  ``weight_matrices()``, ``constrain(c)`` (max-norm), ``update_ratio(p, before)`` and, as
  one flat float64 vector, ``get()`` and ``set(theta)`` (``layout`` says how a weight holds
  its units);
* the passes: ``loss_and_grads(X, y)`` (a training step), ``scores(X)``,
  ``data_loss(X, y, scores)``, ``loss(X, y)`` and ``gradient(X, y)`` (the training
  objective, as a float and as a flat vector);
* the modes: ``training()``, ``evaluating()`` (test mode, no autograd), ``updating()`` (no
  autograd), ``in_mode(training)`` (the scores in one mode) and ``kept()`` (everything put
  back after the block);
* the state: ``snapshot()`` and ``restore(saved)`` (parameters and running statistics),
  ``double()`` (float64);
* the update rules of the model's kind, ``rules`` (:mod:`nntrain.reference.optim` or
  :mod:`nntrain.torch.optim`), and ``is_torch``.

Example:
    >>> import numpy as np
    >>> from nntrain.reference import FullyConnectedNet
    >>> adapted = adapt(FullyConnectedNet([4], input_dim=3, num_classes=2, seed=0))
    >>> adapted.is_torch, adapted.get().shape, adapted.trainable()
    (False, (26,), 4)
    >>> loss, grads = adapted.loss_and_grads(*adapted.inputs(np.ones((5, 3)), np.zeros(5, int)))
    >>> sorted(grads)
    ['W1', 'W2', 'b1', 'b2']
"""

from __future__ import annotations

import contextlib
import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from . import validation as check
from .reference import optim as reference_optim
from .reference.fc_net import LOSSES as REFERENCE_LOSSES
from .reference.fc_net import FullyConnectedNet as ReferenceNet
from .reference.penalties import max_norm
from .torch import optim as torch_optim
from .torch.fc_net import LOSSES as TORCH_LOSSES
from .torch.fc_net import FullyConnectedNet as TorchNet
from .torch.layers import Affine
from .torch.penalties import max_norm as torch_max_norm

__all__ = [
    "Arrays",
    "ReferenceModel",
    "TorchModel",
    "adapt",
    "is_torch",
    "split",
    "update_ratio",
]


def is_torch(model) -> bool:
    """Whether ``model`` is a ``torch.nn.Module``."""
    return isinstance(model, nn.Module)


def update_ratio(p, before):
    """``norm(p - before) / norm(before)`` (Frobenius norms) of two NumPy arrays or two
    tensors, a float: inf where ``before`` is zero and ``p`` is not, NaN where both are. For
    tensors it is computed on their device, then read on the host (``.item()``, which waits
    for the device).

    Example:
        >>> update_ratio(np.array([3.0, 5.0]), np.array([0.0, 5.0]))
        0.6
    """
    if check.is_tensor(p):
        return (torch.linalg.vector_norm(p - before) / torch.linalg.vector_norm(before)).item()
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.linalg.norm(p - before) / np.linalg.norm(before))


def split(theta, arrays):
    """``theta`` cut into pieces shaped like ``arrays`` (NumPy arrays or tensors)."""
    sizes = [math.prod(a.shape) for a in arrays]
    check.shape("theta", theta, (sum(sizes),))
    ends = np.cumsum(sizes)
    return [theta[e - s : e].reshape(tuple(a.shape)) for a, s, e in zip(arrays, sizes, ends)]


def _weights(params):
    """The 2-D entries of ``params`` named ``W...``: the weight matrices of both trees'
    ``FullyConnectedNet``, ``(D_in, D_out)``."""
    return [p for k, p in params.items() if k.startswith("W") and p.ndim == 2]


class Arrays:
    """The adapter of a dict (in key order) or list of NumPy arrays: the parameters alone,
    as one flat vector, in the ``"in_out"`` layout."""

    layout = "in_out"

    def __init__(self, params):
        self.params = params

    def arrays(self):
        """The arrays, in order (a tensor among them is refused)."""
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
        """The parameters as one flat float64 vector."""
        return np.concatenate([np.ravel(a).astype(np.float64) for a in self.arrays()])

    def set(self, theta):
        """Write the flat vector ``theta`` into the parameters, in place."""
        for a, piece in zip(self.arrays(), split(theta, self.arrays())):
            a[...] = piece


class ReferenceModel(Arrays):
    """The adapter of a cs231n-style model of NumPy arrays: ``params`` and ``loss(X,
    y=None)``, which runs in test mode without ``y`` and in training mode with it."""

    is_torch = False
    rules = reference_optim.RULES

    def __init__(self, model):  # no copy of params: read from the model at every use
        self.model = model
        self.batch_statistics = bool(getattr(model, "bn_params", None))

    @property
    def params(self):
        return self.model.params

    def inputs(self, X, y=None):
        return check.ndarray("X", X, min_ndim=2), y

    def numpy(self, x):
        return np.asarray(x)

    def trainable(self):
        """The number of trained parameter arrays."""
        return len(self.params)

    def clone(self, p):
        """A copy of the parameter ``p``."""
        return p.copy()

    def update_ratio(self, p, before):
        """:func:`update_ratio` of the parameter ``p`` and its copy ``before``."""
        return update_ratio(p, before)

    def weight_matrices(self):
        """The weights, ``(D_in, D_out)``: the entries of ``params`` named ``W...``."""
        return _weights(self.params)

    def constrain(self, c):
        """Every weight matrix projected onto the max-norm ball of radius ``c``, in place."""
        for w in self.weight_matrices():
            w[...] = max_norm(w, c)

    def loss_and_grads(self, X, y):
        return self.model.loss(X, y)

    def scores(self, X):
        return self.model.loss(X)

    def data_loss(self, X, y, scores):
        """The loss of the test-mode ``scores`` of ``X``, without the regularization."""
        model, name = self.model, getattr(self.model, "loss_name", None)
        if name is not None:
            y = check.net_targets(model, X, y, model.num_classes, check.ndarray)
            return REFERENCE_LOSSES[name](scores, y)[0]
        if not hasattr(model, "reg"):  # another cs231n-style model
            return model.loss(X, y)[0]
        reg, model.reg = model.reg, 0.0
        try:
            return model.loss(X, y)[0]
        finally:
            model.reg = reg

    def loss(self, X, y):
        """The training objective alone, a float. A reference net runs its forward pass
        without the backward one: the same loss function and penalty its ``loss(X, y)``
        adds, to the last bit; any other model its own ``loss(X, y)``."""
        if type(self.model) is ReferenceNet:  # a subclass may change loss(X, y)
            check.net_targets(self.model, X, y, self.model.num_classes, check.ndarray)
            scores = self.model.forward(X, mode="train")[0]
            return float(
                REFERENCE_LOSSES[self.model.loss_name](scores, y)[0] + self.model.penalty()
            )
        return float(self.model.loss(X, y)[0])

    def gradient(self, X, y):
        """The gradient of the training objective, as one flat float64 vector."""
        grads = self.model.loss(X, y)[1]
        return np.concatenate([np.ravel(grads[k]).astype(np.float64) for k in self.params])

    def training(self):
        """Nothing to switch: ``loss(X, y)`` is the training pass."""

    def evaluating(self):
        return contextlib.nullcontext()

    def updating(self):
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def in_mode(self, training, batch_statistics=True):
        """The scores of a batch in one mode, for the block: ``loss(X)`` in test mode,
        ``forward(X, mode="train")`` in training mode; None for a cs231n-style model
        without such a ``forward`` (``batch_statistics`` is the torch adapter's)."""
        if not training:
            yield self.scores
        elif callable(getattr(self.model, "forward", None)):
            yield lambda xb: self.model.forward(xb, mode="train")[0]
        else:
            yield None

    def snapshot(self):
        """The parameters and the batch-normalization running statistics, copied."""
        return {k: v.copy() for k, v in self.params.items()}, copy.deepcopy(
            getattr(self.model, "bn_params", None)
        )

    def restore(self, saved):
        params, bn_params = saved
        for k, v in params.items():
            self.params[k][...] = v
        if bn_params is not None:
            self.model.bn_params = bn_params

    @contextlib.contextmanager
    def kept(self):
        """Restore the parameters and the running statistics on leaving."""
        saved = self.snapshot()
        try:
            yield
        finally:
            self.restore(saved)

    def double(self):
        """The model's parameters (and ``dtype``, when it has one) in float64, in place."""
        for k, v in self.params.items():
            self.params[k] = np.asarray(v, dtype=np.float64)
        if hasattr(self.model, "dtype"):
            self.model.dtype = np.float64


class TorchModel:
    """The adapter of a ``torch.nn.Module``: the cs231n interface when it has one
    (:class:`nntrain.torch.fc_net.FullyConnectedNet`, whose weights are ``(D_in, D_out)``), else
    ``model(X)`` giving class scores, trained on the softmax cross-entropy by autograd
    (``(D_out, D_in, ...)`` weights). The parameters of such a module that do not require
    gradients (``requires_grad=False``: frozen) are not trained; the flat vector holds
    every parameter."""

    is_torch = True
    rules = torch_optim.RULES

    def __init__(self, model):
        self.model = model
        self.params = (
            model.params
            if hasattr(model, "params")
            else {k: p for k, p in model.named_parameters() if p.requires_grad}
        )
        # batch norm computes statistics of the minibatch (nn.BatchNorm* and the twins)
        self.batch_statistics = any(hasattr(m, "running_mean") for m in model.modules())
        self.own_loss = isinstance(model, TorchNet)
        self.layout = "in_out" if self.own_loss else "out_in"

    def inputs(self, X, y=None):
        """NumPy (or torch) data as tensors on the model's device, in its dtype (those of
        its first parameter, trained or frozen; float32 on the CPU for a module without
        any)."""
        if not (isinstance(X, np.ndarray) or check.is_tensor(X)):
            raise TypeError(f"X must be a NumPy array or a torch tensor, got {type(X).__name__}")
        w = next(self.model.parameters(), None)
        dtype, device = (torch.float32, "cpu") if w is None else (w.dtype, w.device)
        X = torch.as_tensor(X, dtype=dtype, device=device)
        if y is not None:
            y = torch.as_tensor(y, device=device)
            y = y.to(dtype) if y.is_floating_point() else y.long()
        return X, y

    def numpy(self, x):
        return x.detach().cpu().numpy()

    def trainable(self):
        """The number of trained parameter tensors (those that require gradients)."""
        return sum(bool(p.requires_grad) for p in self.params.values())

    def clone(self, p):
        """A copy of the parameter ``p``, on its device."""
        return p.detach().clone()

    def update_ratio(self, p, before):
        """:func:`update_ratio` of the parameter ``p`` and its copy ``before``."""
        return update_ratio(p, before)

    def weight_matrices(self):
        """The weights as ``(D_in, D_out)`` views, one column per unit: the ``params``
        named ``W...`` of a cs231n-style model; else every ``nn.Linear``'s weight,
        transposed (it is stored ``(D_out, D_in)``), and every ``nntrain.torch.Affine``'s."""
        if hasattr(self.model, "params"):
            return _weights(self.params)
        return [
            m.weight.T if isinstance(m, nn.Linear) else m.weight
            for m in self.model.modules()
            if isinstance(m, (nn.Linear, Affine))
        ]

    def constrain(self, c):
        """Every weight matrix projected onto the max-norm ball of radius ``c``, in place
        (under ``updating``: no autograd)."""
        for w in self.weight_matrices():
            w.copy_(torch_max_norm(w, c))

    def tensors(self):
        """Every parameter, trained or frozen, in ``named_parameters()`` order."""
        return [p for _, p in self.model.named_parameters()]

    def arrays(self):
        return [p.detach().cpu().numpy() for p in self.tensors()]

    def get(self):
        """Every parameter as one flat float64 vector."""
        if not self.tensors():
            raise ValueError("model must have parameters, got a module with none")
        return np.concatenate([np.ravel(a).astype(np.float64) for a in self.arrays()])

    def set(self, theta):
        """Write the flat vector ``theta`` into the parameters, in their dtype and device."""
        with torch.no_grad():
            for p, piece in zip(self.tensors(), split(theta, self.tensors())):
                p.copy_(torch.as_tensor(piece, dtype=p.dtype, device=p.device))

    def loss_and_grads(self, X, y):
        if hasattr(self.model, "loss"):
            return self.model.loss(X, y)
        with torch.enable_grad():
            loss = F.cross_entropy(self.model(X), y)
            grads = torch.autograd.grad(loss, list(self.params.values()))
        return loss.detach(), dict(zip(self.params, grads))

    def scores(self, X):
        return self.model.loss(X) if hasattr(self.model, "loss") else self.model(X)

    def data_loss(self, X, y, scores):
        """The loss of the test-mode ``scores`` of ``X``, without the regularization."""
        name = getattr(self.model, "loss_name", None)
        if name is None:
            return F.cross_entropy(scores, y)
        y = check.net_targets(self.model, X, y, self.model.num_classes, check.tensor)
        return TORCH_LOSSES[name].apply(scores, y)

    def objective(self, scores, y):
        """The training objective of ``scores``: the net's own loss and penalty, or the
        softmax cross-entropy."""
        if self.own_loss:
            return TORCH_LOSSES[self.model.loss_name].apply(scores, y) + self.model.penalty()
        return F.cross_entropy(scores, y)

    def loss(self, X, y):
        """The training objective, a float."""
        with torch.no_grad():
            return float(self.objective(self.model(X), y))

    def gradient(self, X, y):
        """The gradient of the training objective, as one flat float64 vector."""
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
        names = [n for n, _ in self.model.named_parameters()]
        shapes = [p.shape for p in self.tensors()]
        sizes = [p.numel() for p in self.tensors()]
        theta = torch.cat([p.detach().reshape(-1) for p in self.tensors()])

        def f(theta):
            pieces = [t.view(s) for t, s in zip(theta.split(sizes), shapes)]
            scores = functional_call(self.model, dict(zip(names, pieces)), (X,))
            return self.objective(scores, y)

        with torch.enable_grad():
            return torch.autograd.functional.hessian(f, theta).cpu().double().numpy()

    def training(self):
        self.model.train()

    @contextlib.contextmanager
    def evaluating(self):
        """``eval()`` and no autograd for the block; the previous mode comes back after."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.model.train(was_training)

    def updating(self):
        return torch.no_grad()

    @contextlib.contextmanager
    def in_mode(self, training, batch_statistics=True):
        """The scores of a batch in one mode, for the block: training mode (dropout on,
        batch normalization with the batch's statistics; with ``batch_statistics=False``
        the batch normalizations use their running statistics) or test mode. Autograd is
        left as it is; the model's mode comes back after the block."""
        was_training = self.model.training
        self.model.train(training)
        if training and not batch_statistics:
            for m in self.model.modules():
                if hasattr(m, "running_mean"):
                    m.eval()
        try:
            yield self.scores
        finally:
            self.model.train(was_training)

    def snapshot(self):
        """The whole ``state_dict`` (parameters and running statistics), copied."""
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self, saved):
        self.model.load_state_dict(saved)

    @contextlib.contextmanager
    def kept(self):
        """Training mode inside; parameters, buffers and mode restored on leaving."""
        saved = self.snapshot()
        was_training = self.model.training
        self.model.train()
        try:
            yield
        finally:
            self.restore(saved)
            self.model.train(was_training)

    def double(self):
        """The module in float64, in place (moved to the CPU from Apple's MPS, which has no
        float64)."""
        if any(p.device.type == "mps" for p in self.model.parameters()):
            self.model.cpu()
        self.model.double()


def adapt(model, *, containers=False, name="model"):
    """The adapter of ``model`` (the argument ``name``): a :class:`TorchModel` for a
    ``torch.nn.Module``, a :class:`ReferenceModel` for a model with a ``params`` dict and
    ``loss(X, y)``, and with ``containers`` an :class:`Arrays` for a dict or list of NumPy
    arrays.

    Raises:
        TypeError: for an object of another kind.
    """
    if is_torch(model):
        return TorchModel(model)
    if isinstance(getattr(model, "params", None), dict) and callable(getattr(model, "loss", None)):
        return ReferenceModel(model)
    if containers and isinstance(model, (dict, list, tuple)):
        return Arrays(model)
    wanted = ", or a dict or list of NumPy arrays" if containers else ""
    raise TypeError(
        f"{name} must be a nntrain.reference.FullyConnectedNet (or another model with a params "
        f"dict and loss(X, y)), a nntrain.torch.FullyConnectedNet or a torch.nn.Module{wanted}; "
        f"got {type(model).__name__}"
    )
