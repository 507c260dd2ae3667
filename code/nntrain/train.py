"""One training loop for reference (NumPy) and PyTorch models.

A model is anything with the cs231n interface: a dict-like ``params`` and a method
``loss(X, y=None)`` returning the scores, or ``(loss, grads)`` with one gradient per entry of
``params``. Both :class:`nntrain.reference.fc_net.FullyConnectedNet` and
:class:`nntrain.torch.fc_net.FullyConnectedNet` qualify, so every chapter trains with this loop.
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
incoming weights onto the ball of radius ``c`` (:func:`nntrain.reference.penalties.max_norm`,
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
gradients, switching modes, copying the state) lives in the adapter of :mod:`nntrain.models`;
the loop itself is written once, cut as cs231n's ``Solver`` is (set-up, a step per
minibatch, the end of an epoch), with hooks for what varies from run to run: a learning-rate
``schedule`` per iteration, a ``stop`` condition, the max-norm projection and the
update-ratio recorder. :func:`nntrain.babysit.lr_range.lr_range_test` is one call of it.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
from tqdm.auto import tqdm

from . import validation as check
from .models import adapt
from .reference import optim as reference_optim

__all__ = ["History", "TrainingDiverged", "accuracy", "best_val_acc", "quiet", "train"]


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


#: A step size or a radius: a number > 0, or None.
_POSITIVE_OR_NONE = check.Interval(Real, 0, None, closed="neither", none=True)


@check.declared(
    learning_rate=_POSITIVE_OR_NONE,
    momentum=check.Interval(Real, 0, 1, closed="left", none=True),
    batch_size=check.POSITIVE_INT,
    epochs=check.POSITIVE_INT,
    lr_decay=check.POSITIVE,
    seed=check.SEED,
    max_loss_ratio=check.POSITIVE,
    max_norm=_POSITIVE_OR_NONE,
    record_update_ratio=check.FLAG,
    schedule=check.Function("a function of the iteration", none=True),
    stop=check.Function("a function of the History", none=True),
    drop_last=check.FLAG,
    evaluate=check.FLAG,
)
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
    schedule=None,
    stop=None,
    drop_last=False,
    evaluate=True,
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

    The loop is cut as ``Solver`` is: the set-up, one step per minibatch (``_step``:
    loss and gradients, the update), the end of an epoch (``_end_of_epoch``:
    measurements, the best epoch, ``until``), and hooks around each update: the
    learning-rate ``schedule``, the ``max_norm`` projection and the update-ratio recorder.

    Args:
        model: a reference or torch model (see :mod:`nntrain.models`).
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays; the training
            split alone with ``evaluate=False``).
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
        seed: seed of the minibatch order, an integer >= 0.
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
            norm ``c`` is scaled back to it (:func:`nntrain.reference.penalties.max_norm`,
            Srivastava et al. 2014). The weight matrices are the ``params`` named ``W...``
            of a reference model and of :class:`nntrain.torch.fc_net.FullyConnectedNet` (layout
            ``(D_in, D_out)``: the columns), or every ``nn.Linear`` weight (its rows) and
            :class:`nntrain.torch.layers.Affine` weight of another ``nn.Module``; biases and batch
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
        schedule: None, or a function of the iteration :math:`t = 0, 1, \\dots` (the number
            of updates taken so far) giving the learning rate of update :math:`t`, in place
            of the config's (e.g. the growing rate of
            :func:`nntrain.babysit.lr_range.lr_range_test`).
        stop: None, or a function of the :class:`History`, called after every
            iteration's loss is recorded and before its update; training stops when it
            returns True (before that update).
        drop_last: skip the last minibatch of an epoch when it holds fewer than
            ``batch_size`` examples (PyTorch's ``DataLoader(drop_last=True)``).
        evaluate: measure the validation loss and accuracy after every epoch (the default);
            False measures nothing at the end of an epoch (no ``keep_best``, and ``data``
            needs only its training split).

    Returns:
        The run's :class:`History`.

    Raises:
        TrainingDiverged: the loss became NaN or infinite, or exploded; the message names
            the iteration and suggests a lower learning rate.
        ValueError: an unknown ``update_rule`` (the message lists the names), a
            hyperparameter out of range or unknown to the rule, or one given twice; a
            ``max_norm`` for a model without weight matrices; a negative ``seed``.
        TypeError: an ``optim_config`` that is not a dict, a hyperparameter that is not
            a number, a ``seed`` that is not an integer (``True`` included).

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
    config = _start_config(update_rule, optim_config, learning_rate, momentum)
    _check_data(model, data, ("train", "val") if evaluate else ("train",))
    run = _Run(adapt(model), data, update_rule, config, seed)
    run.batch_size, run.drop_last, run.stop, run.until = batch_size, drop_last, stop, until
    run.lr_decay, run.max_loss_ratio, run.keep_best = lr_decay, max_loss_ratio, keep_best
    run.evaluate, run.train_accuracy = evaluate, train_accuracy
    run.hooks = _hooks(run, schedule, max_norm, record_update_ratio)
    show = (not quiet()) if progress is None else progress
    for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not show, leave=False):
        if _epoch(run, epoch) or _end_of_epoch(run, epoch):
            break
    return _finish(run)


# ------------------------------------------------------------------------------ the loop


class _Run:
    """What the parts of one :func:`train` run share (cs231n's ``Solver`` keeps it on
    ``self``): the adapted model, the data, the rule and each parameter's config (its own
    state), the minibatch order, the options and hooks :func:`train` sets, the
    :class:`History` and the best epoch so far."""

    def __init__(self, adapted, data, update_rule, config, seed):
        self.adapted, self.data, self.rule = adapted, data, adapted.rules[update_rule]
        self.configs = {k: dict(config) for k in adapted.params}
        self.lr = self.start_lr = config["learning_rate"]
        self.rng = np.random.default_rng(seed)
        self.hooks, self.history = [], History()
        self.best_score, self.best_params = -math.inf, None
        self.start = time.perf_counter()


def _epoch(run, epoch):
    """One pass over the training set, one :func:`_step` per minibatch; True when the
    ``stop`` hook ended training."""
    run.adapted.training()
    for idx in _minibatches(run):
        if _step(run, idx, epoch):
            return True
    return False


def _minibatches(run):
    """The index arrays of one epoch's minibatches, in a fresh random order."""
    n, size = run.data["X_train"].shape[0], run.batch_size
    order = run.rng.permutation(n)
    for start in range(0, n - size + 1 if run.drop_last else n, size):
        idx = order[start : start + size]
        if len(idx) == 1 and run.adapted.batch_statistics:
            continue  # no batch variance of one example (PyTorch's drop_last)
        yield idx


def _step(run, idx, epoch):
    """One minibatch: the loss and gradients, the ``stop`` hook, the divergence check and
    the update; True when ``stop`` ended training (before the update)."""
    adapted, history = run.adapted, run.history
    xb, yb = adapted.inputs(run.data["X_train"][idx], run.data["y_train"][idx])
    # the first step runs every check of the model and the rule; the later ones repeat it
    # on other examples of the data checked above, so they skip them
    with check.trusted() if history.loss else contextlib.nullcontext():
        loss, grads = adapted.loss_and_grads(xb, yb)
        history.loss.append(float(loss))
        if run.stop is not None and run.stop(history):
            return True
        _check_divergence(history, run.max_loss_ratio, epoch, run.lr)
        with adapted.updating():
            for hook in run.hooks:
                hook.before_update(run)
            for k, p in adapted.params.items():
                p[...], run.configs[k] = run.rule(p, grads[k], run.configs[k])
            for hook in run.hooks:
                hook.after_update(run)
    return False


def _end_of_epoch(run, epoch):
    """The learning-rate decay, the epoch's measurements and the best epoch so far; True
    when ``until`` ends training."""
    run.lr *= run.lr_decay
    for config in run.configs.values():
        config["learning_rate"] = run.lr
    if run.evaluate:
        score = _evaluate(run.adapted, run.data, run.history, run.train_accuracy)
        if score > run.best_score:
            run.best_score, run.history.best_epoch = score, epoch
            run.best_params = run.adapted.snapshot() if run.keep_best else None
    return run.until is not None and run.until(run.history)


def _finish(run):
    """The best epoch's parameters put back, the parameters checked, the time taken."""
    if run.best_params is not None:
        run.adapted.restore(run.best_params)
    _check_parameters(run.adapted, run.history, run.start_lr)
    run.history.seconds = time.perf_counter() - run.start
    return run.history


# ----------------------------------------------------------------------------- the hooks


class _Hook:
    """Something done around every update, under ``updating()`` (no autograd)."""

    def before_update(self, run):
        """Called before the rule moves the parameters."""

    def after_update(self, run):
        """Called after the rule (and the hooks before this one) moved them."""


class _Schedule(_Hook):
    """Every parameter's learning rate set to ``schedule(t)`` before update ``t``."""

    def __init__(self, schedule):
        self.schedule = schedule

    def before_update(self, run):
        t = len(run.history.loss) - 1
        lr = float(self.schedule(t))
        if not (math.isfinite(lr) and lr > 0):  # the rule's own check is off after step 0
            raise check.InvalidArgument(f"schedule({t}) must be a finite rate > 0, got {lr}")
        for config in run.configs.values():
            config["learning_rate"] = lr


class _MaxNorm(_Hook):
    """Every weight matrix projected onto the max-norm ball of radius ``c``."""

    def __init__(self, c):
        self.c = c

    def after_update(self, run):
        run.adapted.constrain(self.c)


class _UpdateRatio(_Hook):
    """The recorder of every parameter's update-to-weight ratio, in
    ``History.update_ratio``."""

    def __init__(self, run):
        run.history.update_ratio = {k: [] for k in run.adapted.params}

    def before_update(self, run):
        self.before = {k: run.adapted.clone(p) for k, p in run.adapted.params.items()}

    def after_update(self, run):
        for k, p in run.adapted.params.items():
            run.history.update_ratio[k].append(run.adapted.update_ratio(p, self.before[k]))


def _hooks(run, schedule, max_norm, record_update_ratio):
    """The hooks of a run, in the order they act: the schedule, the max-norm projection,
    the update-ratio recorder (which sees the projected weights)."""
    hooks = []
    if schedule is not None:
        hooks.append(_Schedule(schedule))
    if max_norm is not None:
        if not run.adapted.weight_matrices():
            model = type(run.adapted.model).__name__
            raise ValueError(f"max_norm needs weight matrices to constrain, found none in {model}")
        hooks.append(_MaxNorm(max_norm))
    if record_update_ratio:
        hooks.append(_UpdateRatio(run))
    return hooks


# ---------------------------------------------------------------------------- the checks


def _start_config(update_rule, optim_config, learning_rate, momentum):
    """The config every parameter's copy starts from: ``optim_config`` (copied) with the
    ``learning_rate`` and ``momentum`` keywords in it and the rule's defaults filled in."""
    check.one_of("update_rule", update_rule, tuple(reference_optim.RULES))
    defaults = reference_optim.DEFAULTS[update_rule]
    config = check.rule_keywords(
        update_rule, optim_config, defaults, learning_rate=learning_rate, momentum=momentum
    )
    return check.update_config(config, defaults, (), name="optim_config")


def _check_data(model, data, splits):
    """The data, checked once where it enters (the layers check only metadata): the
    ``splits`` (``"train"``, ``"val"``), as many labels as examples, finite inputs and, for
    a classifier, labels in ``[0, C)``."""
    check.data_splits(data, [f"{xy}_{split}" for split in splits for xy in "Xy"])
    for split in splits:
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


def _classifies(model) -> bool:
    return getattr(model, "loss_name", "softmax") in ("softmax", "svm")


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


def _evaluate(adapted, data, history, train_accuracy):
    """Record the epoch's measurements; return the score that ranks epochs (higher is
    better)."""
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
