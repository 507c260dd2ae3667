"""One training loop for reference (NumPy) and PyTorch models.

A model is anything with the cs231n interface: a dict-like ``params`` and a method
``loss(X, y=None)`` returning the scores, or ``(loss, grads)`` with one gradient per entry of
``params``. Both :class:`nntrain.reference.FullyConnectedNet` and
:class:`nntrain.torch.FullyConnectedNet` qualify, so every chapter trains with this loop.
Any other ``torch.nn.Module`` that maps inputs to class scores trains too: its parameters
are ``named_parameters()`` and its loss is the softmax cross-entropy, differentiated by
autograd.

The update is one of the rules of :mod:`nntrain.reference.optim`, chosen by name
(``update_rule``) with its hyperparameters in a dict (``optim_config``), as in cs231n's
``Solver``; by default stochastic gradient descent with (classical) momentum,

.. math::
    v \\leftarrow \\mu v - \\eta \\nabla_\\theta L, \\qquad \\theta \\leftarrow \\theta + v.

Every parameter gets its own copy of the config, which holds that parameter's state (the
velocity, Adam's moments), and its new value is written back in place. A reference model
is updated by the NumPy rules, a torch model by their twins in :mod:`nntrain.torch.optim`:
the same math, so the two kinds of model follow the same trajectory.

With ``max_norm=c`` every weight matrix is projected after every update, each unit's
incoming weights onto the ball of radius ``c`` (:func:`nntrain.reference.max_norm`,
Srivastava et al. 2014); the adapter knows where a model keeps its weight matrices and in
which layout.

A NaN, an infinite loss or a loss that grows beyond ``max_loss_ratio`` times its first
value stops training with :class:`TrainingDiverged`, so a broken model is never returned
as if it had trained.

Layers that behave differently in training and at test time (batch normalization) are
handled as PyTorch does: a torch model is put in ``train()`` mode for the updates and in
``eval()`` mode whenever it is evaluated (accuracies, the validation loss), and the
reference nets follow the cs231n convention (``loss(X)`` runs in test mode, ``loss(X, y)`` in
train mode). The validation loss is computed from test-mode scores, so evaluating never
updates running statistics, and ``keep_best`` restores them with the weights.

Everything that differs between the two kinds of model (converting the data, computing the
gradients, switching modes, copying the state) lives in one small adapter per kind, chosen
in one place; the loop itself is written once.
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
from .reference import optim as reference_optim
from .reference import penalties as reference_penalties


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
        update_ratio: with ``train(..., record_update_ratio=True)``, each parameter's
            update-to-weight ratio :math:`\\lVert \\Delta W \\rVert / \\lVert W \\rVert` at every
            iteration, a dict parameter name -> list of floats (empty otherwise).
    """

    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    update_ratio: dict = field(default_factory=dict)


class TrainingDiverged(RuntimeError):
    """Raised when the loss becomes NaN, infinite or explodes; ``.history`` holds the run so
    far, ``.iteration`` the iteration where it happened."""

    def __init__(self, message, iteration, history):
        super().__init__(message)
        self.iteration, self.history = iteration, history

    def __reduce__(self):
        # pickled with all three arguments, so that it crosses from a worker process of
        # nntrain.parallel.fork_map (the default would call TrainingDiverged(message))
        return type(self), (str(self), self.iteration, self.history)


def _is_torch(model) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, torch.nn.Module)


def _classifies(model) -> bool:
    return getattr(model, "loss_name", "softmax") in ("softmax", "svm")


class _ReferenceModel:
    """What the loop needs of a cs231n-style model of NumPy arrays: ``params`` and
    ``loss(X, y=None)``, which runs in test mode without ``y``."""

    def __init__(self, model):
        self.model, self.params = model, model.params
        self.batch_statistics = bool(getattr(model, "bn_params", None))
        self.rules = reference_optim.RULES

    def inputs(self, X, y=None):
        return X, y

    def loss_and_grads(self, X, y):
        return self.model.loss(X, y)

    def scores(self, X):
        return self.model.loss(X)

    def data_loss(self, X, y, scores):
        """The loss of the test-mode ``scores`` of ``X``, without the regularization."""
        model, name = self.model, getattr(self.model, "loss_name", None)
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

    def training(self):
        """Nothing to switch: ``loss(X, y)`` is the training pass."""

    def evaluating(self):
        return contextlib.nullcontext()

    def updating(self):
        return contextlib.nullcontext()

    def numpy(self, x):
        return np.asarray(x)

    def clone(self, p):
        """A copy of the parameter ``p``."""
        return p.copy()

    def update_ratio(self, p, before):
        """``norm(p - before) / norm(before)`` (Frobenius norms), a float: inf where
        ``before`` is zero and ``p`` is not, NaN where both are."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.linalg.norm(p - before) / np.linalg.norm(before))

    def weight_matrices(self):
        """The weights, ``(D_in, D_out)``: the entries of ``params`` named ``W...``."""
        return [p for k, p in self.params.items() if k.startswith("W") and p.ndim == 2]

    def constrain(self, c):
        """Every weight matrix projected onto the max-norm ball of radius ``c``, in place."""
        for w in self.weight_matrices():
            w[...] = reference_penalties.max_norm(w, c)

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


class _TorchModel:
    """What the loop needs of a ``torch.nn.Module``: the cs231n interface when it has one
    (:class:`nntrain.torch.FullyConnectedNet`), else ``model(X)`` giving class scores,
    trained on the softmax cross-entropy by autograd. The parameters of such a module that
    do not require gradients (``requires_grad=False``: frozen) are not trained."""

    def __init__(self, model):
        self.model = model
        self.params = (
            model.params
            if hasattr(model, "params")
            else {k: p for k, p in model.named_parameters() if p.requires_grad}
        )
        # batch norm computes statistics of the minibatch (nn.BatchNorm* and the twins)
        self.batch_statistics = any(hasattr(m, "running_mean") for m in model.modules())
        from .torch import optim as torch_optim

        self.rules = torch_optim.RULES

    def inputs(self, X, y=None):
        """NumPy data as tensors on the model's device, in its dtype (those of its first
        parameter, trained or frozen; float32 on the CPU for a module without any)."""
        import torch

        w = next(self.model.parameters(), None)
        dtype, device = (torch.float32, "cpu") if w is None else (w.dtype, w.device)
        X = torch.as_tensor(X, dtype=dtype, device=device)
        if y is not None:
            y = torch.as_tensor(y, device=device)
            y = y.to(dtype) if y.is_floating_point() else y.long()
        return X, y

    def loss_and_grads(self, X, y):
        if hasattr(self.model, "loss"):
            return self.model.loss(X, y)
        import torch
        import torch.nn.functional as F

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
            import torch.nn.functional as F

            return F.cross_entropy(scores, y)
        from .torch.fc_net import LOSSES

        y = check.net_targets(self.model, X, y, self.model.num_classes, check.tensor)
        return LOSSES[name].apply(scores, y)

    def training(self):
        self.model.train()

    @contextlib.contextmanager
    def evaluating(self):
        """``eval()`` and no autograd for the block; the previous mode comes back after."""
        import torch

        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.model.train(was_training)

    def updating(self):
        import torch

        return torch.no_grad()

    def numpy(self, x):
        return x.detach().cpu().numpy()

    def clone(self, p):
        """A copy of the parameter ``p``, on its device."""
        return p.detach().clone()

    def update_ratio(self, p, before):
        """``norm(p - before) / norm(before)``, computed on the device, then read on the
        host (``.item()``, which waits for the device): inf where ``before`` is zero and
        ``p`` is not, NaN where both are."""
        import torch

        return (torch.linalg.vector_norm(p - before) / torch.linalg.vector_norm(before)).item()

    def weight_matrices(self):
        """The weights as ``(D_in, D_out)`` views, one column per unit: the ``params``
        named ``W...`` of a cs231n-style model; else every ``nn.Linear``'s weight,
        transposed (it is stored ``(D_out, D_in)``), and every ``nntrain.torch.Affine``'s."""
        if hasattr(self.model, "params"):
            return [p for k, p in self.params.items() if k.startswith("W") and p.ndim == 2]
        from torch import nn

        from .torch.layers import Affine

        return [
            m.weight.T if isinstance(m, nn.Linear) else m.weight
            for m in self.model.modules()
            if isinstance(m, (nn.Linear, Affine))
        ]

    def constrain(self, c):
        """Every weight matrix projected onto the max-norm ball of radius ``c``, in place
        (under ``updating``: no autograd)."""
        from .torch.penalties import max_norm

        for w in self.weight_matrices():
            w.copy_(max_norm(w, c))

    def snapshot(self):
        """The whole ``state_dict`` (parameters and running statistics), copied."""
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self, saved):
        self.model.load_state_dict(saved)


def adapt(model):
    """The adapter of ``model`` (see the module docstring): what the loop, and the checks of
    :mod:`nntrain.babysit`, need of a model of either kind, behind one interface. This is
    the one place that tells a torch model from a reference one.

    Raises:
        TypeError: for an object that is neither a ``torch.nn.Module`` nor has ``params``
            and ``loss(X, y)``.
    """
    if _is_torch(model):
        return _TorchModel(model)
    if hasattr(model, "params") and hasattr(model, "loss"):
        return _ReferenceModel(model)
    raise TypeError(
        f"model must have params and loss(X, y) or be a torch.nn.Module, got {type(model).__name__}"
    )


def accuracy(model, X, y, batch_size=1000):
    """Fraction of examples in ``X`` whose highest score is the label in ``y``."""
    n = X.shape[0]
    if n == 0:
        raise ValueError("accuracy needs at least one example, got an empty X")
    adapted, correct = adapt(model), 0
    for start in range(0, n, batch_size):
        xb, _ = adapted.inputs(X[start : start + batch_size])
        with adapted.evaluating():
            pred = adapted.numpy(adapted.scores(xb)).argmax(1)
        correct += int((pred == y[start : start + batch_size]).sum())
    return correct / n


def train(
    model,
    data,
    *,
    update_rule="sgd_momentum",
    optim_config=None,
    learning_rate=None,
    momentum=None,
    batch_size=100,
    epochs=10,
    lr_decay=1.0,
    seed=0,
    keep_best=True,
    max_loss_ratio=1e3,
    until=None,
    progress=None,
    train_accuracy=True,
    max_norm=None,
    record_update_ratio=False,
):
    """Train ``model`` in place with minibatch updates; return its :class:`History`.

    Each epoch visits the training set once in a fresh random order, in minibatches of
    ``batch_size`` (for a model with batch normalization, a last minibatch of a single
    example is skipped: its batch variance is undefined, and PyTorch users drop it with
    ``drop_last``). Each minibatch's gradient moves every parameter by ``update_rule``
    (SGD with momentum by default), and the learning rate of every parameter's config is
    multiplied by ``lr_decay`` after every epoch, as in cs231n's ``Solver``. After
    each epoch the loop measures accuracy (classification) and the validation loss. With
    ``keep_best`` the parameters of the best epoch (highest validation accuracy, or lowest
    validation loss for regression) are restored at the end, as in the cs231n ``Solver``.

    Args:
        model: a reference or torch model (see the module docstring).
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        update_rule: the name of a rule of :data:`nntrain.reference.optim.RULES`:
            ``"sgd"``, ``"sgd_momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
            ``"adam"`` or ``"adamw"``.
        optim_config: the rule's hyperparameters, a dict under its keys (e.g.
            ``{"learning_rate": 1e-3, "beta1": 0.9}`` for ``"adam"``); the missing ones get
            the rule's defaults (:data:`nntrain.reference.optim.DEFAULTS`).
        learning_rate: the step size :math:`\\eta > 0`, a shorthand for
            ``optim_config={"learning_rate": ...}``; None leaves it to ``optim_config`` or
            to the rule's default (1e-2 for the SGD rules, Adagrad and RMSprop, 1e-3 for
            Adam and AdamW). Giving it in both places is an error.
        momentum: :math:`\\mu \\in [0, 1)` of ``"sgd_momentum"`` and ``"nesterov"`` (0 gives
            plain SGD), a shorthand for ``optim_config={"momentum": ...}``; None leaves it
            to ``optim_config`` or to the default 0.9. Giving it in both places, or with a
            rule that has no momentum, is an error.
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
        max_norm: None (default), or the radius :math:`c > 0` of a max-norm constraint:
            after every update, every unit's incoming weight vector that has grown beyond
            norm ``c`` is scaled back to it (:func:`nntrain.reference.max_norm`, Srivastava
            et al. 2014). The weight matrices are the ``params`` named ``W...``
            of a reference model and of :class:`nntrain.torch.FullyConnectedNet` (layout
            ``(D_in, D_out)``: the columns), or every ``nn.Linear`` weight (its rows) and
            :class:`nntrain.torch.Affine` weight of another ``nn.Module``; biases and batch
            normalization's :math:`\\gamma`, :math:`\\beta` are left alone.
        record_update_ratio: record every parameter's update-to-weight ratio at every
            iteration in ``History.update_ratio`` (off by default, which leaves the loop as
            it is),

            .. math::
                r_t = \\frac{\\lVert W_{t+1} - W_t \\rVert}{\\lVert W_t \\rVert}

            (Frobenius norms; :math:`W_{t+1}` after a ``max_norm`` projection), which
            CS231n's notes want near :math:`10^{-3}`. Its cost is a copy of every
            parameter, a subtraction and two norms per step, and for a torch model one
            ``.item()`` per parameter per step, which waits for the device. A parameter
            that is zero before its step (a bias at initialization) gets inf.

    Returns:
        The run's :class:`History`.

    Raises:
        TrainingDiverged: the loss became NaN or infinite, or exploded; the message names
            the iteration and suggests a lower learning rate.
        ValueError: an unknown ``update_rule`` (the message lists the names), a
            hyperparameter out of range or unknown to the rule, or one given twice; a
            ``max_norm`` for a model without weight matrices.
        TypeError: an ``optim_config`` that is not a dict, or a hyperparameter that is not
            a number.

    Example:
        >>> import nntrain
        >>> from nntrain.data import load_digits_split
        >>> data = load_digits_split()
        >>> net = nntrain.FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0)
        >>> hist = train(net, data, learning_rate=0.05, epochs=5, progress=False)
        >>> len(hist.val_acc), max(hist.val_acc) > 0.9
        (5, True)
        >>> net = nntrain.FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0)
        >>> hist = train(net, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
        ...              epochs=5, progress=False)
        >>> max(hist.val_acc) > 0.9
        True
    """
    _check_hyperparameters(learning_rate, momentum, batch_size, epochs, lr_decay, max_loss_ratio)
    if max_norm is not None:
        check.positive("max_norm", max_norm)
    check.flag("record_update_ratio", record_update_ratio)
    start_config = _start_config(update_rule, optim_config, learning_rate, momentum)
    _check_data(model, data)
    X, y = data["X_train"], data["y_train"]
    n = X.shape[0]

    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    adapted = adapt(model)
    if max_norm is not None and not adapted.weight_matrices():
        raise ValueError(
            f"max_norm needs weight matrices to constrain, found none in {type(model).__name__}"
        )
    params, rule = adapted.params, adapted.rules[update_rule]
    configs = {k: dict(start_config) for k in params}  # one per parameter: its own state
    history = History()
    if record_update_ratio:
        history.update_ratio = {k: [] for k in params}
    best_score, best_params = -math.inf, None
    steps_per_epoch = math.ceil(n / batch_size)
    lr = start_config["learning_rate"]
    start = time.perf_counter()
    show = (not quiet()) if progress is None else progress
    for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not show, leave=False):
        adapted.training()
        order = rng.permutation(n)
        for step in range(steps_per_epoch):
            idx = order[step * batch_size : (step + 1) * batch_size]
            if len(idx) == 1 and adapted.batch_statistics:
                continue  # no batch variance of one example (PyTorch's drop_last)
            xb, yb = adapted.inputs(X[idx], y[idx])
            # the first step runs every check of the model and the rule; the later ones
            # repeat it on other examples of the data checked above, so they skip them
            with check.trusted() if history.loss else contextlib.nullcontext():
                loss, grads = adapted.loss_and_grads(xb, yb)
                history.loss.append(float(loss))
                _check_divergence(history, max_loss_ratio, epoch, lr)
                with adapted.updating():
                    if record_update_ratio:
                        before = {k: adapted.clone(p) for k, p in params.items()}
                    for k, p in params.items():
                        p[...], configs[k] = rule(p, grads[k], configs[k])
                    if max_norm is not None:
                        adapted.constrain(max_norm)
                    if record_update_ratio:
                        for k, p in params.items():
                            history.update_ratio[k].append(adapted.update_ratio(p, before[k]))
        lr *= lr_decay
        for config in configs.values():
            config["learning_rate"] = lr
        score = _end_of_epoch(adapted, data, history, train_accuracy)
        if score > best_score:
            best_score, history.best_epoch = score, epoch
            if keep_best:
                best_params = adapted.snapshot()
        if until is not None and until(history):
            break
    if best_params is not None:
        adapted.restore(best_params)
    _check_parameters(adapted, history, start_config["learning_rate"])
    history.seconds = time.perf_counter() - start
    return history


def _check_hyperparameters(learning_rate, momentum, batch_size, epochs, lr_decay, max_loss_ratio):
    """The rules of :func:`train`'s numeric arguments (``learning_rate`` and ``momentum``
    when given)."""
    if learning_rate is not None:
        check.positive("learning_rate", learning_rate)
    if momentum is not None:
        check.fraction("momentum", momentum)
    check.positive_int("batch_size", batch_size)
    check.positive_int("epochs", epochs)
    check.positive("lr_decay", lr_decay)
    check.positive("max_loss_ratio", max_loss_ratio)


def _start_config(update_rule, optim_config, learning_rate, momentum):
    """The config every parameter's copy starts from: ``optim_config`` (copied) with the
    ``learning_rate`` and ``momentum`` keywords in it and the rule's defaults filled in."""
    check.one_of("update_rule", update_rule, tuple(reference_optim.RULES))
    defaults = reference_optim.DEFAULTS[update_rule]
    config = check.rule_keywords(
        update_rule, optim_config, defaults, learning_rate=learning_rate, momentum=momentum
    )
    return check.update_config(config, defaults, (), name="optim_config")


def _check_data(model, data):
    """The data, checked once where it enters (the layers check only metadata): both
    splits, as many labels as examples, finite inputs and, for a classifier, labels in
    ``[0, C)``."""
    for key in ("X_train", "y_train", "X_val", "y_val"):
        if key not in data:
            raise ValueError(
                f"data must be a dict with X_train, y_train, X_val, y_val; {key} is missing"
            )
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


def _check_divergence(history, max_loss_ratio, epoch, lr):
    """Raise :class:`TrainingDiverged` if the last loss is not finite or has grown past
    ``max_loss_ratio`` times the first."""
    loss, first, it = history.loss[-1], history.loss[0], len(history.loss)
    if math.isfinite(loss) and loss <= max_loss_ratio * max(first, 1e-12):
        return
    what = (
        "not finite"
        if not math.isfinite(loss)
        else f"{loss:.3g}, over {max_loss_ratio:g} times the first loss {first:.3g}"
    )
    raise TrainingDiverged(
        f"training diverged at iteration {it} (epoch {epoch}): the loss is {what}. "
        f"Try a lower learning rate than {lr:g}.",
        it,
        history,
    )


def _check_parameters(adapted, history, learning_rate):
    """Raise :class:`TrainingDiverged` if a parameter holds NaN or infinite values."""
    for k, p in adapted.params.items():
        if not np.isfinite(adapted.numpy(p)).all():
            raise TrainingDiverged(
                f"parameter {k} holds NaN or infinite values after training; "
                f"try a lower learning rate than {learning_rate:g}.",
                len(history.loss),
                history,
            )


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


def _end_of_epoch(adapted, data, history, train_accuracy):
    """Record the epoch's metrics; return the score that ranks epochs (higher is better)."""
    Xv, yv = adapted.inputs(data["X_val"], data["y_val"])
    with adapted.evaluating():  # one test-mode pass gives the data loss and the accuracy
        scores = adapted.scores(Xv)
        val_loss = float(adapted.data_loss(Xv, yv, scores))
    history.val_loss.append(val_loss)
    if not _classifies(adapted.model):
        return -val_loss if math.isfinite(val_loss) else -math.inf
    if train_accuracy:
        history.train_acc.append(accuracy(adapted.model, data["X_train"], data["y_train"]))
    history.val_acc.append(float((adapted.numpy(scores).argmax(1) == data["y_val"]).mean()))
    return history.val_acc[-1]
