r"""The babysitting checklist: the checks to run before a long training run, with verdicts.

CS231n's notes on babysitting the learning process, and Karpathy's *A Recipe for Training
Neural Networks* (2019), ask for the same few checks before any tuning; each is one
:class:`~nntrain.babysit.Check` here, by name:

``initial_loss``
    At initialization, with small weights, the scores are near zero and the softmax
    spreads its probability evenly, so the data loss is :math:`-\ln(1/C) = \ln C`
    (2.303 for 10 classes); for the multiclass hinge loss every one of the :math:`C - 1`
    wrong classes violates its margin by 1, so the loss is :math:`C - 1`. The check
    passes within a factor of :data:`INITIAL_LOSS_FACTOR` (2) of that, both ways: scores
    of standard deviation :math:`s` add about :math:`s^2/2` to the softmax loss, so the
    bound :math:`2 \ln C` lets scores start with :math:`s` up to about
    :math:`\sqrt{2 \ln C}` (2.1 for 10 classes). Measured on standardized digits
    (64-100-10 ReLU nets, the training split, 5 to 10 seeds each): weights of scale 1e-2
    or 1e-3 give 2.303 (ratio 1.00), He initialization 2.97 to 3.12 (at most 1.36),
    ``weight_scale`` :math:`\sqrt{2/64}` in both layers 3.18 to 3.51 (1.52), a
    default-initialized ``nn.Sequential`` 2.31 to 2.34; the last layer of the
    :math:`\sqrt{2/64}` net twice as large gives 5.12 to 5.85 (at least 2.22), 30 times
    70 to 82, and a default ``nn.Sequential`` with its last layer 30 times larger 9.4 to
    10.1 (at least 4.08). A loss far above :math:`\ln C` means scores that start large
    (the net is confidently wrong before it has learnt anything, and its first steps go
    to undoing that), far below a model that already knows the answers.
``regularization_raises_loss``
    Raising the regularization strength raises the loss, and by exactly the penalty:
    for L2, :math:`L(\lambda) - L(0) = \tfrac{\lambda}{2} \sum_\ell \lVert W_\ell \rVert^2`.
    For models with a ``reg`` attribute (both trees' ``FullyConnectedNet``); n/a for
    others, whose penalty is usually the optimizer's ``weight_decay``.
``overfit_small``
    With regularization off, a healthy model fits :data:`SMALL_SET` (20) training
    examples perfectly: within :data:`OVERFIT_ITERATIONS` (300) full-batch steps of Adam
    at :data:`OVERFIT_LEARNING_RATE` (3e-3) it reaches 100% training accuracy with its
    training loss below :data:`OVERFIT_LOSS_FRACTION` (1%) of its first value (on 20
    points accuracy alone comes cheap: tiny scores already have the right argmax after
    a step or two, at a loss still near :math:`\ln C`; Karpathy asks for the lowest
    achievable loss). Measured on standardized digits, 5 seeds each: 64-100-10 nets need
    21 to 41 steps (weights 1e-2 or 1e-3, He, a default ``nn.Sequential``, the torch
    twin, batch normalization, the hinge loss), 41 to 46 with dropout keeping 80% of
    the units (left on: see below), 58 to 69 keeping 50%, three hidden layers of scale
    1e-2 35 to 52. A model that cannot do this has a bug, not a tuning problem. Dropout
    stays as the model has it (the accuracy is measured in test mode, without it).
``examples_independent``
    Karpathy's check: the output for one example does not depend on the other examples
    of its batch, :math:`\partial s_i / \partial x_j = 0` for :math:`i \ne j`; a forward
    pass that mixes the batch (a mean over the batch axis, a wrong ``view`` or
    broadcast) fails it.
``learning_rate``
    A learning-rate range test (:func:`~nntrain.babysit.lr_range_test`, SGD with
    momentum 0.9) from :data:`LR_SEEDS` (3) seeds: passes when the smoothed loss falls
    by at least 5% (:data:`LR_LOSS_FALL`) in every run and the suggestions lie within
    :data:`LR_SPREAD` (1) decade of each other. Measured on 64-100-10 digits nets over 5
    seeds: suggestions 0.12 to 0.38 on standardized digits, spread 0.14 to 0.28 decades
    (5 epochs of SGD train best at 0.1 to 0.3); the slowest healthy start measured,
    weights of 1e-2 on pixels scaled to [0, 1], has its loss fall by 9.8 to 17% only; a
    dead net's or an input-blind net's by under 1%, with suggestions spread over 2.2 to
    4.5 decades.

Every check runs on a copy of the model (see :mod:`nntrain.babysit.models`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import validation as check
from ..reference.fc_net import PENALTIES
from ..train import TrainingDiverged, train
from .lr_range import SUGGESTION_RULE, lr_range_test
from .models import (
    balanced_sample,
    class_count,
    evaluate,
    loss_name,
    seeded,
    torch,
    trainable,
    working_copy,
)
from .report import Check, Report

#: ``initial_loss`` passes within this factor of :math:`\ln C` (or :math:`C - 1`), both ways.
INITIAL_LOSS_FACTOR = 2.0
#: The initial loss is measured on at most this many training examples.
INITIAL_LOSS_EXAMPLES = 1000
#: ``overfit_small`` trains on this many examples, the classes taken in turn.
SMALL_SET = 20
#: ... for at most this many full-batch steps of Adam ...
OVERFIT_ITERATIONS = 300
#: ... at this learning rate ...
OVERFIT_LEARNING_RATE = 3e-3
#: ... to 100% accuracy and a loss below this fraction of its first value.
OVERFIT_LOSS_FRACTION = 0.01
#: ``examples_independent`` looks at a batch of this many examples ...
INDEPENDENCE_BATCH = 8
#: ... and passes when the largest influence of one example on another's scores is below
#: this fraction of the largest influence of an example on its own.
INDEPENDENCE_TOLERANCE = 1e-6
#: ``learning_rate`` runs the range test from this many seeds ...
LR_SEEDS = 3
#: ... and passes when their suggestions lie within this many decades.
LR_SPREAD = 1.0
#: ... and the smoothed loss fell below this fraction of its first value.
LR_LOSS_FALL = 0.95


def checklist(model, data, *, num_classes=None, seed=0):
    """Run the babysitting checks on a classifier; return their :class:`Report`.

    The checks (see the module docstring for what each measures and why its threshold):
    ``initial_loss``, ``regularization_raises_loss``, ``overfit_small``,
    ``examples_independent`` and ``learning_rate``. ``model`` is not changed: each
    check works on a deep copy, and the global random generators (NumPy's, torch's) are
    left in the state they were in.

    Args:
        model: a classifier: a plain ``torch.nn.Module`` mapping a batch of inputs to class
            scores ``(N, C)`` (trained on the softmax cross-entropy),
            :class:`nntrain.torch.FullyConnectedNet` or
            :class:`nntrain.reference.FullyConnectedNet` (with ``loss="softmax"`` or
            ``"svm"``).
        data: the dict of splits every chapter uses; the checks use its training split
            ``X_train``, ``y_train`` (NumPy arrays, labels in ``[0, C)``).
        num_classes: the number of classes :math:`C`, checked against the model's output;
            None takes it from the output.
        seed: seed of every draw (subsets, minibatch order, dropout masks).

    Returns:
        A :class:`~nntrain.babysit.Report`: print it for a text table, or let a notebook
        show it as an HTML table.

    Raises:
        TypeError: ``data`` that is not a dict of NumPy arrays, a model of another kind.
        ValueError: no training split, a model whose output is not ``(N, C)`` scores,
            ``num_classes`` or labels that disagree with it, a regression model.

    Example:
        >>> from nntrain.data import load_digits_split
        >>> from nntrain.reference import FullyConnectedNet
        >>> data = load_digits_split()
        >>> data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
        >>> report = checklist(FullyConnectedNet([100], input_dim=64, seed=0), data)
        >>> [(c.name, c.verdict) for c in report.checks]  # doctest: +NORMALIZE_WHITESPACE
        [('initial_loss', 'pass'), ('regularization_raises_loss', 'pass'),
         ('overfit_small', 'pass'), ('examples_independent', 'pass'),
         ('learning_rate', 'pass')]
    """
    X, y = check.training_split(data)
    name = loss_name(model)
    _, adapted = working_copy(model)
    classes = class_count(model, adapted, X, y, num_classes)
    rng = np.random.default_rng(seed)
    return Report(
        [
            _initial_loss(model, X, y, name, classes, rng),
            _regularization_raises_loss(model, X, y, rng, seed),
            _overfit_small(model, X, y, rng, seed),
            _examples_independent(model, X, rng),
            _learning_rate(model, data, seed),
        ]
    )


def _initial_loss(model, X, y, name, classes, rng):
    """The test-mode data loss of the untouched model against :math:`\\ln C` or
    :math:`C - 1`."""
    _, adapted = working_copy(model)
    idx = rng.permutation(X.shape[0])[:INITIAL_LOSS_EXAMPLES]
    xb, yb = adapted.inputs(X[idx], y[idx])
    with adapted.evaluating():
        loss = float(adapted.data_loss(xb, yb, adapted.scores(xb)))
    target, formula = (
        (math.log(classes), f"ln {classes}") if name == "softmax" else (classes - 1.0, "C - 1")
    )
    low, high = target / INITIAL_LOSS_FACTOR, target * INITIAL_LOSS_FACTOR
    advice = (
        "the scores start too large: scale the last layer's weights down (e.g. by 10, or "
        "initialize them with a small weight_scale) and set its bias to zero or to the "
        "log of each class's frequency"
        if not loss <= high  # a NaN too
        else "the model is already confident at initialization: make sure it is untrained "
        "and that the labels do not leak into the inputs"
    )
    return Check(
        "initial_loss",
        bool(low <= loss <= high),
        loss,
        f"{low:.3g} to {high:.3g} ({formula} = {target:.4g}, within a factor "
        f"{INITIAL_LOSS_FACTOR:g})",
        advice,
        f"{name} data loss in test mode on {len(idx)} training examples",
    )


def _regularization_raises_loss(model, X, y, rng, seed):
    """:math:`L(\\lambda) - L(0)` against the penalty, with :math:`\\lambda` chosen so that
    the penalty equals the data loss (the loss doubles)."""
    if not hasattr(model, "reg"):
        return Check(
            "regularization_raises_loss",
            None,
            None,
            "a higher loss with a higher reg",
            "",
            "the model has no reg attribute (a torch module's penalty is usually the "
            "optimizer's weight_decay)",
        )
    copy, adapted = working_copy(model)
    idx = rng.permutation(X.shape[0])[:INITIAL_LOSS_EXAMPLES]
    xb, yb = adapted.inputs(X[idx], y[idx])
    kind = getattr(model, "reg_type", "l2")
    weights = [adapted.numpy(w).astype(np.float64) for w in adapted.weight_matrices()]
    unit = sum(PENALTIES[kind](w, 1.0, getattr(model, "l1_ratio", 0.5))[0] for w in weights)

    def loss_at(reg):
        copy.reg = reg
        with seeded(seed, copy):  # the same dropout masks at both strengths
            return float(adapted.loss_and_grads(xb, yb)[0])

    base = loss_at(0.0)
    if unit == 0 or not math.isfinite(base):
        return Check(
            "regularization_raises_loss",
            None,
            None,
            "a higher loss with a higher reg",
            "",
            "no weight matrix, or all its weights zero: the penalty is zero at any reg"
            if unit == 0
            else "the loss at reg = 0 is not finite",
        )
    strength = base / unit
    rise, expected = loss_at(strength) - base, strength * unit
    exact = math.isclose(rise, expected, rel_tol=1e-3)
    return Check(
        "regularization_raises_loss",
        bool(rise > 0 and exact),
        rise,
        f"reg * R(W) = {expected:.4g} at reg = {strength:.3g} ({kind} penalty)",
        "the loss does not include the penalty as it should: add reg * R(W) of every "
        "weight matrix to the data loss (and reg * R'(W) to their gradients)",
        f"rise of the training loss from reg = 0 to reg = {strength:.3g}",
    )


def _overfit_small(model, X, y, rng, seed):
    """Train a copy, regularization off, on :data:`SMALL_SET` examples to 100% accuracy
    and a loss below :data:`OVERFIT_LOSS_FRACTION` of its first value."""
    idx = balanced_sample(rng, y, SMALL_SET)
    small = {"X_train": X[idx], "y_train": y[idx], "X_val": X[idx], "y_val": y[idx]}
    copy, adapted = working_copy(model)
    if hasattr(copy, "reg"):
        copy.reg = 0.0
    expected = (
        f"100% and a loss under {OVERFIT_LOSS_FRACTION:.0%} of the first within "
        f"{OVERFIT_ITERATIONS} steps (Adam, lr {OVERFIT_LEARNING_RATE:g}, full batch of "
        f"{len(idx)})"
    )
    advice = (
        "a model that cannot fit a few examples has a bug: check that every parameter is "
        "trainable (requires_grad) and receives a gradient, that units are not dead "
        "(nntrain.diagnostics), that the output depends on the input and that the loss "
        "matches the labels"
    )
    if not trainable(copy, adapted):
        return Check("overfit_small", False, 0.0, expected, advice, "no trainable parameter")

    def fitted(history):
        return history.train_acc[-1] == 1.0 and (
            history.loss[-1] <= OVERFIT_LOSS_FRACTION * history.loss[0]
        )

    with seeded(seed, copy):
        try:
            history = train(
                copy,
                small,
                update_rule="adam",
                learning_rate=OVERFIT_LEARNING_RATE,
                batch_size=len(idx),
                epochs=OVERFIT_ITERATIONS,
                seed=seed,
                keep_best=False,
                progress=False,
                until=fitted,
            )
        except TrainingDiverged as e:
            return Check("overfit_small", False, math.nan, expected, advice, str(e))
    accuracy = history.train_acc[-1]
    dropout = ", dropout left on" if getattr(copy, "dropout_param", None) else ""
    return Check(
        "overfit_small",
        fitted(history),
        accuracy,
        expected,
        advice,
        f"training accuracy {accuracy:.0%} after {len(history.loss)} steps, loss "
        f"{history.loss[0]:.3g} -> {history.loss[-1]:.3g}, regularization off{dropout}",
    )


def _examples_independent(model, X, rng):
    """The largest influence of one example's input on another example's scores, relative
    to the largest influence of an example on its own, in test mode."""
    copy, adapted = working_copy(model)
    n = min(INDEPENDENCE_BATCH, X.shape[0] // 2)
    idx = rng.permutation(X.shape[0])[: 2 * n]
    batch, others = X[idx[:n]], X[idx[n:]]
    if torch is not None and isinstance(copy, torch.nn.Module):
        own, cross, how = _gradient_influence(adapted, batch, rng)
    else:
        own, cross, how = _replacement_influence(adapted, batch, others)
    ratio = cross / own if own > 0 else math.inf if cross > 0 else math.nan
    note = f"{how}, a batch of {n}, in test mode"
    if adapted.batch_statistics:
        note += (
            "; batch normalization mixes the batch in training mode by design (the batch's "
            "statistics), which is not counted"
        )
    if math.isnan(ratio):
        note = "the scores do not depend on the inputs at all, so this cannot be told"
    return Check(
        "examples_independent",
        None if math.isnan(ratio) else bool(ratio <= INDEPENDENCE_TOLERANCE),
        ratio,
        f"0 (at most {INDEPENDENCE_TOLERANCE:g})",
        "the scores of one example depend on the other examples of its batch: look for "
        "an operation over the batch axis in the forward pass (a mean or a sum over dim 0, "
        "a view or reshape that mixes examples, broadcasting against the batch)",
        note,
    )


def _gradient_influence(adapted, batch, rng):
    """Karpathy's check by autograd: with :math:`u_i = r \\cdot s_i` (a fixed random
    projection ``r`` of example i's scores, so that scores that always sum to the same
    value still count), the largest :math:`\\lVert \\partial u_i / \\partial x_j \\rVert`
    for :math:`j = i` and for :math:`j \\ne i`."""
    xb, _ = adapted.inputs(batch)
    xb.requires_grad_(True)
    adapted.model.eval()
    with torch.enable_grad():
        scores = adapted.scores(xb)
        r = torch.as_tensor(rng.standard_normal(scores.shape[1]), dtype=scores.dtype)
        r = r.to(scores.device)
        norms = []
        for i in range(len(batch)):
            (g,) = torch.autograd.grad(scores[i] @ r, xb, retain_graph=True, allow_unused=True)
            g = torch.zeros_like(xb) if g is None else g
            norms.append(torch.linalg.vector_norm(g.reshape(len(batch), -1), dim=1))
    influence = adapted.numpy(torch.stack(norms))  # [i, j]: of x_j on u_i
    return _own_and_cross(influence, "gradient of one example's scores (autograd)")


def _replacement_influence(adapted, batch, others):
    """The same question by forward passes alone: replace example j's input by another
    example and see how much every example's scores move."""
    base = adapted.numpy(evaluate(adapted, batch))
    influence = np.zeros((len(batch), len(batch)))
    for j in range(len(batch)):
        changed = batch.copy()
        changed[j] = others[j]
        moved = adapted.numpy(evaluate(adapted, changed)) - base
        influence[:, j] = np.abs(moved).reshape(len(batch), -1).max(axis=1)
    return _own_and_cross(influence, "change of every example's scores when one input changes")


def _own_and_cross(influence, how):
    """The largest entry on and off the diagonal of ``influence[i, j]``."""
    off = ~np.eye(len(influence), dtype=bool)
    return float(np.diag(influence).max()), float(influence[off].max()), how


def _learning_rate(model, data, seed):
    """The range test from :data:`LR_SEEDS` seeds: its median suggestion and spread."""
    expected = (
        f"a loss falling by {1 - LR_LOSS_FALL:.0%} or more and a suggestion stable within "
        f"{LR_SPREAD:g} decade over {LR_SEEDS} seeds"
    )
    advice = (
        "the loss did not fall at any learning rate, or the suggestion moves with the "
        "seed: check the data and labels, the initialization (nntrain.diagnostics) and the "
        "backward pass; for a stable suggestion try a larger batch or more steps "
        "(lr_range_test)"
    )
    copy, adapted = working_copy(model)
    if not trainable(copy, adapted):
        return Check("learning_rate", False, math.nan, expected, advice, "no trainable parameter")
    runs = [lr_range_test(copy, data, seed=seed + k) for k in range(LR_SEEDS)]
    suggestions = np.array([r.suggestion for r in runs])
    fell = all(r.losses.size and r.smoothed.min() <= LR_LOSS_FALL * r.smoothed[0] for r in runs)
    spread = float(np.log10(suggestions.max() / suggestions.min())) if fell else math.nan
    shown = ", ".join(f"{s:.2g}" for s in suggestions)
    how = (
        f"range test (SGD momentum 0.9, rule {SUGGESTION_RULE}), seeds {seed} to "
        f"{seed + LR_SEEDS - 1}: {shown}"
    )
    return Check(
        "learning_rate",
        bool(fell and spread <= LR_SPREAD),
        float(np.median(suggestions)),
        expected,
        advice,
        how + (f", spread {spread:.2f} decades" if fell else "; the smoothed loss did not fall"),
    )
