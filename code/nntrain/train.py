"""One training loop for reference (NumPy) and PyTorch models.

A model is anything with the cs231n interface: a dict-like ``params`` and a method
``loss(X, y=None)`` returning the scores, or ``(loss, grads)`` with one gradient per entry of
``params``. Both :class:`nntrain.reference.FullyConnectedNet` and
:class:`nntrain.torch.FullyConnectedNet` qualify, so every chapter trains with this loop.
Any other ``torch.nn.Module`` that maps inputs to class scores trains too: its parameters
are ``named_parameters()`` and its loss is the softmax cross-entropy, differentiated by
autograd.

The update is stochastic gradient descent with (classical) momentum,

.. math::
    v \\leftarrow \\mu v - \\eta \\nabla_\\theta L, \\qquad \\theta \\leftarrow \\theta + v,

applied in place to each parameter. A NaN, an infinite loss or a loss that grows beyond
``max_loss_ratio`` times its first value stops training with :class:`TrainingDiverged`, so a
broken model is never returned as if it had trained.

Layers that behave differently in training and at test time (batch normalization) are
handled as PyTorch does: a torch model is put in ``train()`` mode for the updates and in
``eval()`` mode whenever it is evaluated (accuracies, the validation loss), and the
reference nets follow the cs231n convention (``loss(X)`` runs in test mode, ``loss(X, y)`` in
train mode). The validation loss is computed from test-mode scores, so evaluating never
updates running statistics, and ``keep_best`` restores them with the weights.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import validation as check


def quiet() -> bool:
    """True when progress bars should stay hidden (the book build and the tests set
    ``NNTRAIN_QUIET=1``, so the HTML carries no bar)."""
    return os.environ.get("NNTRAIN_QUIET", "") not in ("", "0")


@dataclass
class History:
    """What :func:`train` records.

    Attributes:
        loss: the training loss (with the penalty) at every iteration.
        train_acc: training accuracy after every epoch (classification only).
        val_acc: validation accuracy after every epoch (classification only).
        val_loss: validation data loss after every epoch.
        best_epoch: the epoch whose parameters were kept (``keep_best``), counted from 1.
        seconds: wall-clock time of the whole run.
    """

    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0


class TrainingDiverged(RuntimeError):
    """Raised when the loss becomes NaN, infinite or explodes; ``.history`` holds the run so
    far, ``.iteration`` the iteration where it happened."""

    def __init__(self, message, iteration, history):
        super().__init__(message)
        self.iteration, self.history = iteration, history


def _is_torch(model) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, torch.nn.Module)


def _params(model):
    """The model's parameters by name: ``model.params``, or an ``nn.Module``'s own."""
    if hasattr(model, "params"):
        return model.params
    if _is_torch(model):
        return dict(model.named_parameters())
    raise TypeError(
        f"model must have params and loss(X, y) or be a torch.nn.Module, got {type(model).__name__}"
    )


def _scores(model, X):
    return model.loss(X) if hasattr(model, "loss") else model(X)


@contextlib.contextmanager
def _evaluating(model):
    """Test-time behaviour for the block: ``eval()`` and no autograd for a torch model
    (its previous mode is restored afterwards); nothing to do for a reference model,
    whose ``loss(X)`` is already the test-mode pass."""
    if not _is_torch(model):
        yield
        return
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _data_loss(model, X, y, scores):
    """The loss of the test-mode ``scores`` of ``X`` against ``y``, with no regularization
    penalty."""
    name = getattr(model, "loss_name", None)
    if _is_torch(model):
        if name is None:
            import torch.nn.functional as F

            return F.cross_entropy(scores, y)
        from .torch.fc_net import LOSSES

        y = check.net_targets(model, X, y, model.num_classes, check.tensor)  # (N,) -> (N, 1)
        return LOSSES[name].apply(scores, y)
    if name is not None:
        from .reference.fc_net import LOSSES

        y = check.net_targets(model, X, y, model.num_classes, check.ndarray)
        return LOSSES[name](scores, y)[0]
    if not hasattr(model, "reg"):  # another cs231n-style model
        return model.loss(X, y)[0]
    reg, model.reg = model.reg, 0.0
    try:
        return model.loss(X, y)[0]
    finally:
        model.reg = reg


def _loss_and_grads(model, X, y):
    """``model.loss(X, y)``, or softmax cross-entropy and autograd for a plain module."""
    if hasattr(model, "loss"):
        return model.loss(X, y)
    import torch
    import torch.nn.functional as F

    params = _params(model)
    with torch.enable_grad():
        loss = F.cross_entropy(model(X), y)
        grads = torch.autograd.grad(loss, list(params.values()))
    return loss.detach(), dict(zip(params, grads))


def _as_model_input(model, X, y=None):
    """Convert NumPy data to tensors on the model's device and dtype (torch models only)."""
    if not _is_torch(model):
        return X, y
    import torch

    w = next(iter(_params(model).values()))
    X = torch.as_tensor(X, dtype=w.dtype, device=w.device)
    if y is not None:
        y = torch.as_tensor(y, device=w.device)
        y = y.to(w.dtype) if y.is_floating_point() else y.long()
    return X, y


def _classifies(model) -> bool:
    return getattr(model, "loss_name", "softmax") in ("softmax", "svm")


def accuracy(model, X, y, batch_size=1000):
    """Fraction of examples in ``X`` whose highest score is the label in ``y``."""
    n = X.shape[0]
    if n == 0:
        raise ValueError("accuracy needs at least one example, got an empty X")
    correct = 0
    for start in range(0, n, batch_size):
        xb, _ = _as_model_input(model, X[start : start + batch_size])
        with _evaluating(model):
            pred = _scores(model, xb).argmax(1)
        correct += int((_numpy(pred) == y[start : start + batch_size]).sum())
    return correct / n


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _no_grad(model):
    if _is_torch(model):
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


def _snapshot(model):
    """A copy of everything training changes: the parameters and the running statistics
    (a torch model's whole ``state_dict``; a reference model's ``params`` and
    ``bn_params``)."""
    if _is_torch(model):
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {k: v.copy() for k, v in model.params.items()}, copy.deepcopy(
        getattr(model, "bn_params", None)
    )


def _restore(model, saved):
    if _is_torch(model):
        model.load_state_dict(saved)
        return
    params, bn_params = saved
    for k, v in params.items():
        model.params[k][...] = v
    if bn_params is not None:
        model.bn_params = bn_params


def train(
    model,
    data,
    *,
    learning_rate=1e-2,
    momentum=0.9,
    batch_size=100,
    epochs=10,
    lr_decay=1.0,
    seed=0,
    keep_best=True,
    max_loss_ratio=1e3,
    until=None,
    progress=None,
    train_accuracy=True,
):
    """Train ``model`` in place with minibatch SGD and momentum; return its :class:`History`.

    Each epoch visits the training set once in a fresh random order, in minibatches of
    ``batch_size``; the learning rate is multiplied by ``lr_decay`` after every epoch. After
    each epoch the loop measures accuracy (classification) and the validation loss. With
    ``keep_best`` the parameters of the best epoch (highest validation accuracy, or lowest
    validation loss for regression) are restored at the end, as in the cs231n ``Solver``.

    Args:
        model: a reference or torch model (see the module docstring).
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        learning_rate: the step size :math:`\\eta > 0`.
        momentum: :math:`\\mu \\in [0, 1)`; 0 gives plain SGD.
        batch_size: examples per update.
        epochs: passes over the training set.
        lr_decay: factor applied to the learning rate after each epoch.
        seed: seed of the minibatch order.
        keep_best: restore the best epoch's parameters at the end.
        max_loss_ratio: stop when the loss exceeds this multiple of its first value.
        until: a function of the :class:`History`, called after every epoch; training stops
            early when it returns True (e.g. ``lambda h: h.train_acc[-1] >= 0.95``).
        progress: show a ``tqdm`` bar; None shows one unless ``NNTRAIN_QUIET`` is set.
        train_accuracy: measure the accuracy on the whole training set after every epoch
            (a forward pass over it); False leaves ``History.train_acc`` empty, for a sweep
            that ranks runs by validation accuracy alone.

    Returns:
        The run's :class:`History`.

    Raises:
        TrainingDiverged: the loss became NaN or infinite, or exploded; the message names
            the iteration and suggests a lower learning rate.

    Example:
        >>> import nntrain
        >>> from nntrain.data import load_digits_split
        >>> data = load_digits_split()
        >>> net = nntrain.FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0)
        >>> hist = train(net, data, learning_rate=0.05, epochs=5, progress=False)
        >>> len(hist.val_acc), max(hist.val_acc) > 0.9
        (5, True)
    """
    for key in ("X_train", "y_train", "X_val", "y_val"):
        if key not in data:
            raise ValueError(
                f"data must be a dict with X_train, y_train, X_val, y_val; {key} is missing"
            )
    check.positive("learning_rate", learning_rate)
    check.positive("momentum", momentum, allow_zero=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    check.positive_int("batch_size", batch_size)
    check.positive_int("epochs", epochs)
    check.positive("lr_decay", lr_decay)
    check.positive("max_loss_ratio", max_loss_ratio)
    for split in ("train", "val"):
        n, m = data[f"X_{split}"].shape[0], data[f"y_{split}"].shape[0]
        if n == 0 or m != n:
            raise ValueError(
                f"X_{split} and y_{split} must hold the same non-zero number of "
                f"examples, got {n} and {m}"
            )
        check.array(f"X_{split}", data[f"X_{split}"], floating=False, finite=True)
        labels, classes = data[f"y_{split}"], getattr(model, "num_classes", None)
        if classes is not None and _classifies(model):  # once here, not in every loss
            check.labels(f"y_{split}", np.asarray(labels), n, classes, like=np.asarray(labels))
    X, y = data["X_train"], data["y_train"]
    n = X.shape[0]

    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    params = _params(model)
    velocity = {
        k: 0 * p.detach() if hasattr(p, "detach") else np.zeros_like(p) for k, p in params.items()
    }
    history = History()
    best_score, best_params = -math.inf, None
    steps_per_epoch = math.ceil(n / batch_size)
    lr = learning_rate
    start = time.perf_counter()
    show = (not quiet()) if progress is None else progress
    for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not show, leave=False):
        if _is_torch(model):
            model.train()
        order = rng.permutation(n)
        for step in range(steps_per_epoch):
            idx = order[step * batch_size : (step + 1) * batch_size]
            xb, yb = _as_model_input(model, X[idx], y[idx])
            loss, grads = _loss_and_grads(model, xb, yb)
            loss = float(loss)
            history.loss.append(loss)
            it = len(history.loss)
            if not math.isfinite(loss) or loss > max_loss_ratio * max(history.loss[0], 1e-12):
                what = (
                    "not finite"
                    if not math.isfinite(loss)
                    else (
                        f"{loss:.3g}, over {max_loss_ratio:g} times the first loss "
                        f"{history.loss[0]:.3g}"
                    )
                )
                raise TrainingDiverged(
                    f"training diverged at iteration {it} (epoch {epoch}): the loss is {what}. "
                    f"Try a lower learning rate than {lr:g}.",
                    it,
                    history,
                )
            with _no_grad(model):
                for k, p in params.items():
                    velocity[k] = momentum * velocity[k] - lr * grads[k]
                    p += velocity[k]
        lr *= lr_decay
        score = _end_of_epoch(model, data, history, train_accuracy)
        if score > best_score:
            best_score, history.best_epoch = score, epoch
            if keep_best:
                best_params = _snapshot(model)
        if until is not None and until(history):
            break
    if best_params is not None:
        _restore(model, best_params)
    for k, p in params.items():
        if not np.isfinite(_numpy(p)).all():
            raise TrainingDiverged(
                f"parameter {k} holds NaN or infinite values after training; "
                f"try a lower learning rate than {learning_rate:g}.",
                len(history.loss),
                history,
            )
    history.seconds = time.perf_counter() - start
    return history


def best_val_acc(model, data, **kwargs):
    """The score of one run in a sweep: train ``model`` with :func:`train` (``kwargs`` are
    its arguments; the training accuracy is not measured unless ``train_accuracy=True``)
    and return the best validation accuracy of any epoch, or NaN if training diverged
    (:class:`TrainingDiverged`), so that a sweep goes on past a bad setting.

    Example:
        >>> import nntrain
        >>> from nntrain.data import load_digits_split
        >>> data = load_digits_split()
        >>> net = nntrain.FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0)
        >>> best_val_acc(net, data, learning_rate=0.05, epochs=3, progress=False) > 0.9
        True
    """
    try:
        history = train(model, data, **{"train_accuracy": False, **kwargs})
    except TrainingDiverged:
        return math.nan
    if not history.val_acc:
        raise ValueError("best_val_acc needs a classifier: the run recorded no accuracy")
    return max(history.val_acc)


def _end_of_epoch(model, data, history, train_accuracy):
    """Record the epoch's metrics; return the score that ranks epochs (higher is better)."""
    Xv, yv = _as_model_input(model, data["X_val"], data["y_val"])
    with _evaluating(model):  # one test-mode pass gives the data loss and the accuracy
        scores = _scores(model, Xv)
        val_loss = float(_data_loss(model, Xv, yv, scores))
    history.val_loss.append(val_loss)
    if not _classifies(model):
        return -val_loss if math.isfinite(val_loss) else -math.inf
    if train_accuracy:
        history.train_acc.append(accuracy(model, data["X_train"], data["y_train"]))
    history.val_acc.append(float((_numpy(scores).argmax(1) == data["y_val"]).mean()))
    return history.val_acc[-1]
