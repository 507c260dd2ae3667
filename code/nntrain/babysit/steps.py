r"""The babysitting checklist: the checks to run before a long training run, with verdicts.

CS231n's notes on babysitting the learning process, and Karpathy's *A Recipe for Training
Neural Networks* (2019), ask for the same few checks before any tuning; each is one
:class:`~nntrain.babysit.report.Check` here, by name, asked in the mode its question is about
(the report states it). A check passes, fails, does not apply (n/a), or passes with a
warning (``"warn"``): a plausible number that is suspicious, with its likely cause.

``initial_loss``
    At initialization, with small weights, the scores are near zero and the softmax
    spreads its probability evenly, so the data loss is :math:`-\ln(1/C) = \ln C`
    (2.303 for 10 classes); for the multiclass hinge loss every one of the :math:`C - 1`
    wrong classes violates its margin by 1, so the loss is :math:`C - 1`. It is the loss
    the first training step sees, so it is measured in training mode (batch statistics,
    dropout on; the test-mode loss is in the note where it differs: batch normalization
    whose running statistics have seen no data normalizes nothing in test mode). It
    passes within a factor of :data:`INITIAL_LOSS_FACTOR` (2) of that, both ways: scores
    of standard deviation :math:`s` add about :math:`s^2/2` to the softmax loss, so the
    bound :math:`2 \ln C` lets scores start with :math:`s` up to about
    :math:`\sqrt{2 \ln C}` (2.1 for 10 classes). It warns above
    :data:`INITIAL_LOSS_WARN` (1.25) times the target, where scores start larger than
    they need to (the net is confidently wrong, and its first steps go to undoing that);
    when every example gets the same scores (the output does not depend on the input:
    dead units, a last layer of zeros; the loss is then :math:`\ln C` to many digits);
    and when the scores are probabilities (every row in :math:`[0, 1]` summing to 1),
    which cross-entropy would take for raw scores. Measured on standardized digits
    (64-100-10 ReLU nets, 1000 examples of the training split in batches of 100, seeds
    0 to 9): weights of scale 1e-2 or 1e-3 give 2.302 to 2.304 (ratio 1.00); weights of
    scale :math:`\sqrt{2/64}` in both layers (chapter 6's default net) 3.20 to 3.53, 1.39
    to 1.53 times :math:`\ln 10`, all warned (chapter 6's seed 0 gives 3.53); a
    default-initialized ``nn.Sequential`` 2.28 to 2.36; the last layer of the
    :math:`\sqrt{2/64}` net 30 times larger gives 71 to 83, and a default
    ``nn.Sequential`` with its last layer 30 times larger 8.7 to 10.7 (at least 3.76
    times :math:`\ln 10`). A loss far below :math:`\ln C` means a model that already
    knows the answers.
``regularization_raises_loss``
    Raising the regularization strength raises the loss, and by exactly the penalty:
    for L2, :math:`L(\lambda) - L(0) = \tfrac{\lambda}{2} \sum_\ell \lVert W_\ell \rVert^2`;
    and it changes the gradient by exactly the penalty's gradient,
    :math:`\nabla L(\lambda) - \nabla L(0) = \lambda R'(W)` (:math:`\lambda W` for L2) for
    every weight matrix and 0 for every other parameter (to a relative
    :data:`REGULARIZATION_TOLERANCE`), so a penalty left out of the loss or out of the
    gradient fails. For models with a ``reg`` attribute (both trees'
    ``FullyConnectedNet``); n/a for others, whose penalty is usually the optimizer's
    ``weight_decay``.
``overfit_small``
    With regularization off, a healthy model fits :data:`SMALL_SET` (20) training
    examples perfectly: within :data:`OVERFIT_ITERATIONS` (300) full-batch steps of Adam
    at :data:`OVERFIT_LEARNING_RATE` (3e-3) it reaches 100% training accuracy with its
    training loss below :data:`OVERFIT_LOSS_FRACTION` (1%) of its first value (on 20
    points accuracy alone comes cheap: tiny scores already have the right argmax after
    a step or two, at a loss still near :math:`\ln C`; Karpathy asks for the lowest
    achievable loss). The fit is judged in training mode, the mode it is trained in:
    the loss of every step and the accuracy of a training-mode pass (test mode would
    judge batch normalization by running statistics that lag behind the weights, by
    far with a momentum of 0.01; the test-mode accuracy is in the note, and a fit that
    test mode does not reproduce warns). Measured on
    standardized digits, 5 seeds each: 64-100-10 nets need 21 to 41 steps (weights 1e-2
    or 1e-3, He, a default ``nn.Sequential``, the torch twin, batch normalization, the
    hinge loss), 41 to 46 with dropout keeping 80% of the units (left on), 58 to 69
    keeping 50%, three hidden layers of scale 1e-2 35 to 52. A model that cannot do
    this has a bug, not a tuning problem. A softmax cross-entropy that stalls at
    :math:`\ln(1 + (C - 1)/e)` (1.46 for 10 classes), the lowest it can reach on
    probabilities, is the signature of probabilities fed to it, and the advice says so.
``examples_independent``
    Karpathy's check: the output for one example does not depend on the other examples
    of its batch, :math:`\partial s_i / \partial x_j = 0` for :math:`i \ne j`; a forward
    pass that mixes the batch (a mean over the batch axis, a wrong ``view`` or
    broadcast) fails it. Asked in test mode and in training mode, with autograd where a
    gradient reaches the input and otherwise (an embedding of tokens, a NumPy model) by
    replacing one example's input and watching the others' scores. Batch normalization
    mixes the batch in training mode by design: a torch module's training mode is
    judged with its batch normalizations on their running statistics, and the
    influence of the batch's statistics is reported beside the verdict, as expected.
``learning_rate``
    A learning-rate range test (:func:`~nntrain.babysit.lr_range.lr_range_test`, SGD with
    momentum 0.9, batches of 64, 100 steps) from :data:`LR_SEEDS` (3) seeds: passes
    when the smoothed loss falls by at least 5% (:data:`LR_LOSS_FALL`) in every run and
    the suggestions lie within :data:`LR_SPREAD` (1) decade of each other. Measured on
    64-100-10 digits nets over 5 seeds: suggestions 0.12 to 0.38 on standardized digits,
    spread 0.14 to 0.28 decades; the slowest healthy start measured, weights of 1e-2 on
    pixels scaled to [0, 1], has its loss fall by 9.8 to 17% only; a dead net's or an
    input-blind net's by under 1%, with suggestions spread over 2.2 to 4.5 decades. The
    suggestion is a rate for a short run near the edge of stability, not the best rate
    for a long one: chapter 6's sweep of the same net (10 epochs of SGD with momentum
    0.9, batches of 50) is best at 0.03 to 0.1, and 0.3 does worse. The check is blind
    to a gradient's scale, which only moves the suggestion (gradients of the summed loss,
    64 times too large in batches of 64, give 0.0028 for chapter 6's net instead of
    0.20): that is ``gradient_check``'s.
``gradient_check``
    The analytic gradient against centred differences (the check chapter 6 teaches),
    in float64, in training mode, on :data:`GRADIENT_BATCH` (8) examples: for
    :data:`GRADIENT_ENTRIES` (5) random entries of every parameter,
    :math:`|a - n| / (|a| + |n|)` (entries where both are 0 skipped), whose median per
    parameter must stay below :data:`GRADIENT_TOLERANCE` (a median, so that a ReLU's
    kink crossed by the step does not fail a correct gradient); with regularization off
    (the data gradient) and, for a model with ``reg``, on (at the strength
    ``regularization_raises_loss`` uses). For models whose gradients are written by
    hand: a reference model's backward pass, and the custom ``torch.autograd.Function``
    s of a torch module (the torch twins, or a reader's own); n/a for a module built of
    PyTorch's operations only, whose autograd needs no check. A gradient N times too
    large (a sum where the loss takes a mean) gives a relative error of
    :math:`(N - 1)/(N + 1)` and is named as such. A gradient right with the
    regularization off and wrong with it on is the penalty's: it warns here and fails
    ``regularization_raises_loss``.

Every check runs on a copy of the model (see :mod:`nntrain.babysit.models`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import validation as check
from ..reference import optim as reference_optim
from ..reference.fc_net import PENALTIES
from .lr_range import SUGGESTION_RULE, lr_range_test
from .models import (
    balanced_sample,
    class_count,
    custom_functions,
    float64_copy,
    loss_name,
    seeded,
    working_copy,
)
from .report import Check, Report

__all__ = [
    "checklist",
    "INITIAL_LOSS_FACTOR",
    "INITIAL_LOSS_WARN",
    "INITIAL_LOSS_EXAMPLES",
    "INITIAL_LOSS_BATCH",
    "REGULARIZATION_TOLERANCE",
    "SMALL_SET",
    "OVERFIT_ITERATIONS",
    "OVERFIT_LEARNING_RATE",
    "OVERFIT_LOSS_FRACTION",
    "INDEPENDENCE_BATCH",
    "INDEPENDENCE_TOLERANCE",
    "LR_SEEDS",
    "LR_SPREAD",
    "LR_LOSS_FALL",
    "GRADIENT_BATCH",
    "GRADIENT_ENTRIES",
    "GRADIENT_STEP",
    "GRADIENT_TOLERANCE",
]

#: ``initial_loss`` passes within this factor of :math:`\ln C` (or :math:`C - 1`), both ways ...
INITIAL_LOSS_FACTOR = 2.0
#: ... and warns above this factor.
INITIAL_LOSS_WARN = 1.25
#: The initial loss is measured on at most this many training examples ...
INITIAL_LOSS_EXAMPLES = 1000
#: ... in batches of this many (batch statistics are a batch's).
INITIAL_LOSS_BATCH = 100
#: ``regularization_raises_loss`` passes when the loss's and the gradient's change match the
#: penalty's to this relative error.
REGULARIZATION_TOLERANCE = 1e-3
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
#: ``gradient_check`` differentiates the loss of this many training examples ...
GRADIENT_BATCH = 8
#: ... at this many random entries of every parameter ...
GRADIENT_ENTRIES = 5
#: ... with this step :math:`h` (float64) ...
GRADIENT_STEP = 1e-5
#: ... and passes when every parameter's median relative error is below this.
GRADIENT_TOLERANCE = 1e-5


def checklist(model, data, *, num_classes=None, seed=0):
    """Run the babysitting checks on a classifier; return their
    :class:`~nntrain.babysit.report.Report`.

    The checks (see the module docstring for what each measures, in which mode, and why
    its threshold): ``initial_loss``, ``regularization_raises_loss``, ``overfit_small``,
    ``examples_independent``, ``learning_rate`` and ``gradient_check``. ``model`` is not
    changed: each check works on a deep copy, and the global random generators (NumPy's,
    torch's) are left in the state they were in.

    Args:
        model: a classifier: a plain ``torch.nn.Module`` mapping a batch of inputs to class
            scores ``(N, C)`` (trained on the softmax cross-entropy; inputs arrive as
            tensors of its parameters' dtype, so a model of tokens casts them to ``long``
            itself), :class:`nntrain.torch.fc_net.FullyConnectedNet` or
            :class:`nntrain.reference.fc_net.FullyConnectedNet` (with ``loss="softmax"`` or
            ``"svm"``).
        data: the dict of splits every chapter uses; the checks use its training split
            ``X_train``, ``y_train`` (NumPy arrays, labels in ``[0, C)``).
        num_classes: the number of classes :math:`C`, checked against the model's output;
            None takes it from the output.
        seed: seed of every draw (subsets, minibatch order, dropout masks).

    Returns:
        A :class:`~nntrain.babysit.report.Report`: print it for a text table, or let a notebook
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
         ('learning_rate', 'pass'), ('gradient_check', 'pass')]
    """
    X, y = check.training_split(data)
    name = loss_name(model)
    _, adapted = working_copy(model)
    classes = class_count(model, adapted, X, y, num_classes)
    rng = np.random.default_rng(seed)
    with seeded(seed, model):  # every draw of the global generators, seeded and undone
        # first, on a generator of its own: whether the data gradient is right tells
        # regularization_raises_loss whether a wrong gradient change is the penalty's
        gradients = _gradient_check(model, X, y, np.random.default_rng((seed, 6)), seed)
        return Report(
            [
                _initial_loss(model, X, y, name, classes, rng, seed),
                _regularization_raises_loss(model, X, y, rng, seed, gradients.passed is False),
                _overfit_small(model, X, y, name, classes, rng, seed),
                _examples_independent(model, X, rng, seed),
                _learning_rate(model, data, seed),
                gradients,
            ]
        )


def _not_applicable(name, expected, why):
    """The :class:`Check` of a check that does not apply to the model: no verdict, nothing
    measured, and ``why`` in its note."""
    return Check(name, None, None, expected, "", why)


# ------------------------------------------------------------------------ initial_loss


def _initial_loss(model, X, y, name, classes, rng, seed):
    """The training-mode data loss of the untouched model against :math:`\\ln C` or
    :math:`C - 1`, with warnings for a loss above 1.25 times that, scores that do not
    depend on the input, and scores that are probabilities."""
    loss, test_loss, scores, mode, how = _initial_losses(model, X, y, rng, seed)
    target, formula = (
        (math.log(classes), f"ln {classes}") if name == "softmax" else (classes - 1.0, "C - 1")
    )
    low, high = target / INITIAL_LOSS_FACTOR, target * INITIAL_LOSS_FACTOR
    passed = bool(low <= loss <= high)
    advice = (
        "the scores start too large: scale the last layer's weights down (e.g. by 10, or "
        "initialize them with a small weight_scale) and set its bias to zero or to the "
        "log of each class's frequency; check that the inputs are standardized (raw "
        "pixels of 0 to 255 make large scores too)"
        if not loss <= high  # a NaN too
        else "the model is already confident at initialization: make sure it is untrained "
        "and that the labels do not leak into the inputs"
    )
    note = f"{name} data loss on {how}"
    if mode == "training" and not math.isclose(loss, test_loss, rel_tol=1e-6):
        note += f"; in test mode {test_loss:.4g}"
    return Check(
        "initial_loss",
        passed,
        loss,
        f"{low:.3g} to {high:.3g} ({formula} = {target:.4g}, within a factor "
        f"{INITIAL_LOSS_FACTOR:g}; a warning above {INITIAL_LOSS_WARN * target:.3g})",
        advice,
        note,
        warning=_initial_warning(loss, target, scores, name) if passed else "",
        mode=mode,
    )


def _initial_losses(model, X, y, rng, seed):
    """``(loss, test_loss, scores, mode, how)``: the mean data loss of the untouched model
    on at most :data:`INITIAL_LOSS_EXAMPLES` training examples in batches of
    :data:`INITIAL_LOSS_BATCH`, in training mode (``mode`` "test" for a model without one)
    and in test mode, the scores it was measured on, and those examples in words."""
    copy, adapted = working_copy(model)
    idx = rng.permutation(X.shape[0])[:INITIAL_LOSS_EXAMPLES]
    batches = np.array_split(idx, math.ceil(len(idx) / INITIAL_LOSS_BATCH))
    loss, test_loss, scores, mode = 0.0, 0.0, [], "training"
    with seeded(seed, copy):
        for b in batches:
            xb, yb = adapted.inputs(X[b], y[b])
            with adapted.evaluating():
                test_scores = adapted.scores(xb)
                test_loss += float(adapted.data_loss(xb, yb, test_scores)) * len(b)
            with torch.no_grad(), adapted.in_mode(training=True) as score:
                s = test_scores if score is None else score(xb)
                mode = mode if score is not None else "test"
                loss += float(adapted.data_loss(xb, yb, s)) * len(b)
            scores.append(np.asarray(adapted.numpy(s), dtype=np.float64))
    how = f"{len(idx)} training examples in batches of {len(batches[0])}"
    return loss / len(idx), test_loss / len(idx), np.concatenate(scores), mode, how


def _initial_warning(loss, target, scores, name):
    """Why a passing initial loss is suspicious, or an empty string."""
    spread = float(np.ptp(scores, axis=0).max())
    if spread <= 1e-12 * max(1.0, float(np.abs(scores).max())):
        return (
            f"every example gets the same scores (loss {loss:.7g}): the output does not "
            "depend on the input: dead units (every ReLU off), a constant input or a last "
            "layer of zeros; fine only if the last layer starts at zero on purpose"
        )
    rows = scores.sum(axis=1)
    if name == "softmax" and scores.min() >= 0 and np.allclose(rows, 1.0, atol=1e-5):
        return (
            "the scores are probabilities (each row in [0, 1], summing to 1): the "
            "cross-entropy expects raw scores (logits) and applies the softmax itself; "
            "remove the model's final softmax"
        )
    if loss > INITIAL_LOSS_WARN * target:
        return (
            f"the loss starts {loss / target:.2f} times {target:.4g}: the scores start "
            "larger than they need to, and the first steps go to undoing that; scale the "
            "last layer's weights down (by 10) and check that the inputs are standardized"
        )
    return ""


# ---------------------------------------------------------- regularization_raises_loss


def _loss_and_grads(adapted, xb, yb, seed):
    """A training step's loss and gradients (NumPy float64), the random draws seeded."""
    adapted.training()
    with seeded(seed, adapted.model):
        loss, grads = adapted.loss_and_grads(xb, yb)
    return float(loss), {k: np.asarray(adapted.numpy(g), np.float64) for k, g in grads.items()}


def _weight_names(adapted):
    """The names of the weight matrices, which the penalty acts on: the 2-D ``params``
    named ``W...``, as both trees' ``FullyConnectedNet`` name them (a module without such
    names has no penalty to check: n/a)."""
    return [k for k, p in adapted.params.items() if k.startswith("W") and len(p.shape) == 2]


def _penalty(model, adapted, reg):
    """``(R, dR)``: the penalty at strength ``reg`` and its gradient per weight matrix."""
    kind, ratio = getattr(model, "reg_type", "l2"), getattr(model, "l1_ratio", 0.5)
    parts = {
        k: PENALTIES[kind](np.asarray(adapted.numpy(adapted.params[k]), np.float64), reg, ratio)
        for k in _weight_names(adapted)
    }
    return sum(v for v, _ in parts.values()), {k: g for k, (_, g) in parts.items()}


def _balanced_strength(model, adapted, xb, yb, seed):
    """``(reg, loss at reg 0)``: the strength at which the penalty equals the data loss
    (NaN when the penalty is zero or the loss not finite)."""
    model.reg = 0.0
    base = _loss_and_grads(adapted, xb, yb, seed)[0]
    unit = _penalty(model, adapted, 1.0)[0]
    return (base / unit if unit > 0 and math.isfinite(base) else math.nan), base


#: Why ``regularization_raises_loss`` does not apply to a model without ``reg``.
_NO_REG = (
    "the model has no reg attribute (a torch module's penalty is usually the "
    "optimizer's weight_decay)"
)


def _regularization_raises_loss(model, X, y, rng, seed, gradient_wrong=False):
    """:math:`L(\\lambda) - L(0)` and :math:`\\nabla L(\\lambda) - \\nabla L(0)` against
    the penalty and its gradient, with :math:`\\lambda` chosen so that the penalty equals
    the data loss (the loss doubles). With ``gradient_wrong`` (``gradient_check`` failed
    with the regularization off) the gradient's change is not judged, only shown: the
    whole gradient is wrong, not the penalty's part."""
    name, expected = "regularization_raises_loss", "a higher loss with a higher reg"
    if not hasattr(model, "reg"):
        return _not_applicable(name, expected, _NO_REG)
    copy, adapted = working_copy(model)
    idx = rng.permutation(X.shape[0])[:INITIAL_LOSS_EXAMPLES]
    xb, yb = adapted.inputs(X[idx], y[idx])
    strength, base = _balanced_strength(copy, adapted, xb, yb, seed)
    if not math.isfinite(strength):
        return _not_applicable(
            name,
            expected,
            "the loss at reg = 0 is not finite"
            if not math.isfinite(base)
            else "no weight matrix, or all its weights zero: the penalty is zero at any reg",
        )
    rise, penalty, grad_error = _penalty_change(copy, adapted, xb, yb, seed, strength, base)
    loss_right = rise > 0 and math.isclose(rise, penalty, rel_tol=REGULARIZATION_TOLERANCE)
    grad_right = grad_error <= REGULARIZATION_TOLERANCE or gradient_wrong
    return Check(
        name,
        bool(loss_right and grad_right),
        rise,
        f"reg * R(W) = {penalty:.4g} at reg = {strength:.3g} "
        f"({getattr(model, 'reg_type', 'l2')} penalty), and the gradient's change reg * R'(W)",
        _penalty_advice(loss_right, grad_right),
        f"rise of the training loss from reg = 0 to reg = {strength:.3g}; the gradient's "
        f"change differs from reg * R'(W) by {grad_error:.2g} of its largest entry",
        warning=(
            "the gradient's change is not reg * R'(W), but the gradient is wrong with the "
            "regularization off already (gradient_check): fix that first"
            if gradient_wrong and grad_error > REGULARIZATION_TOLERANCE
            else ""
        ),
        mode="training",
    )


def _penalty_change(model, adapted, xb, yb, seed, strength, base):
    """``(rise, penalty, grad_error)``: the rise of the loss from reg 0 (loss ``base``) to
    ``strength``, the penalty at ``strength``, and the largest difference between the
    gradient's change and the penalty's gradient, relative to the latter's largest entry
    (every parameter's change counted: 0 expected where the penalty does not act)."""
    _, g0 = _loss_and_grads(adapted, xb, yb, seed)
    penalty, dpenalty = _penalty(model, adapted, strength)
    model.reg = strength
    loss, g1 = _loss_and_grads(adapted, xb, yb, seed)
    scale = max(float(np.abs(g).max()) for g in dpenalty.values())
    grad_error = max(float(np.abs(g1[k] - g0[k] - dpenalty.get(k, 0.0)).max()) / scale for k in g0)
    return loss - base, penalty, grad_error


def _penalty_advice(loss_right, grad_right):
    """What to fix: the penalty in the loss, in the gradient, or both."""
    advice = []
    if not loss_right:
        advice.append(
            "the loss does not include the penalty as it should: add reg * R(W) of every "
            "weight matrix to the data loss"
        )
    if not grad_right:
        advice.append(
            "the gradient does not change by the penalty's gradient: add reg * R'(W) "
            "(reg * W for L2) to the gradient of every weight matrix, and nothing to the "
            "other parameters'"
        )
    return "; ".join(advice) or (
        "the loss does not include the penalty as it should: add reg * R(W) of every "
        "weight matrix to the data loss (and reg * R'(W) to their gradients)"
    )


# ----------------------------------------------------------------------- overfit_small


#: ``overfit_small``'s advice when a model cannot fit the small set.
_OVERFIT_ADVICE = (
    "a model that cannot fit a few examples has a bug: check that every parameter is "
    "trainable (requires_grad) and receives a gradient, that units are not dead "
    "(nntrain.diagnostics), that the output depends on the input and that the loss "
    "matches the labels"
)


def _overfit_small(model, X, y, name, classes, rng, seed):
    """Train a copy, regularization off, on :data:`SMALL_SET` examples to 100% training-mode
    accuracy and a training loss below :data:`OVERFIT_LOSS_FRACTION` of its first value."""
    idx = balanced_sample(rng, y, SMALL_SET)
    copy, adapted = working_copy(model)
    if hasattr(copy, "reg"):
        copy.reg = 0.0
    expected = (
        f"100% and a loss under {OVERFIT_LOSS_FRACTION:.0%} of the first within "
        f"{OVERFIT_ITERATIONS} steps (Adam, lr {OVERFIT_LEARNING_RATE:g}, full batch of "
        f"{len(idx)})"
    )
    advice = _OVERFIT_ADVICE
    if not adapted.trainable():
        return Check("overfit_small", False, 0.0, expected, advice, "no trainable parameter")
    xb, yb = adapted.inputs(X[idx], y[idx])
    losses, accuracy, mode = _fit_small(copy, adapted, xb, yb, y[idx], seed)
    if not math.isfinite(losses[-1]):
        note = f"the loss became {losses[-1]} at step {len(losses)}"
        return Check("overfit_small", False, math.nan, expected, advice, note)
    fitted = accuracy == 1.0 and losses[-1] <= OVERFIT_LOSS_FRACTION * losses[0]
    if not fitted:  # the accuracy the model reached, after its last step
        accuracy, mode = _accuracy(adapted, xb, y[idx])
    dropout = ", dropout left on" if getattr(copy, "dropout_param", None) else ""
    note = (
        f"training accuracy {accuracy:.0%} after {len(losses)} steps, loss "
        f"{losses[0]:.3g} -> {losses[-1]:.3g}, regularization off{dropout}"
    )
    warning = ""
    if mode == "training":
        shown, warning = _test_mode_fit(adapted, xb, y[idx], accuracy, fitted)
        note += shown
    if not fitted and name == "softmax":
        advice = _stall_advice(min(losses), classes) or advice
    return Check(
        "overfit_small", fitted, accuracy, expected, advice, note, warning=warning, mode=mode
    )


def _fit_small(model, adapted, xb, yb, y, seed):
    """``(losses, accuracy, mode)``: full-batch steps of Adam at
    :data:`OVERFIT_LEARNING_RATE` until the training loss is below
    :data:`OVERFIT_LOSS_FRACTION` of its first value and the accuracy (labels ``y``,
    measured only from then on, NaN before) is 100%, for at most
    :data:`OVERFIT_ITERATIONS` steps; it stops at a loss that is not finite, the last of
    ``losses``."""
    params, rule = adapted.params, adapted.rules["adam"]
    configs = {
        k: dict(reference_optim.DEFAULTS["adam"], learning_rate=OVERFIT_LEARNING_RATE)
        for k in params
    }
    losses, accuracy, mode = [], math.nan, "training"
    with seeded(seed, model):
        for _ in range(OVERFIT_ITERATIONS):
            adapted.training()
            loss, grads = adapted.loss_and_grads(xb, yb)
            losses.append(float(loss))
            if not math.isfinite(losses[-1]):
                break
            if losses[-1] <= OVERFIT_LOSS_FRACTION * losses[0]:
                accuracy, mode = _accuracy(adapted, xb, y)  # only once it can count
                if accuracy == 1.0:
                    break
            with adapted.updating():
                for k, p in params.items():
                    p[...], configs[k] = rule(p, grads[k], configs[k])
    return losses, accuracy, mode


def _test_mode_fit(adapted, xb, y, accuracy, fitted):
    """``(shown, warning)``: the test-mode accuracy for the note, and a warning when a fit
    in training mode (``accuracy``) does not hold in test mode ("" when it does)."""
    test_accuracy, _ = _accuracy(adapted, xb, y, training=False)
    warning = ""
    if fitted and test_accuracy < accuracy:
        warning = (
            f"fitted in training mode, but only {test_accuracy:.0%} in test mode: the "
            "running statistics of batch normalization lag behind the weights (normal "
            "for a while with a small momentum such as 0.01; a bug if they never catch "
            "up: momentum 0, running statistics frozen or reset)"
        )
    return f"; test-mode accuracy {test_accuracy:.0%}", warning


def _stall_advice(lowest, classes):
    """For a softmax loss that did not fit: the advice when its lowest value ``lowest``
    stalled just above :math:`\\ln(1 + (C - 1)/e)`, the signature of probabilities fed to
    the loss ("" otherwise)."""
    floor = math.log(1 + (classes - 1) / math.e)
    if not floor <= lowest <= 1.1 * floor:
        return ""
    return (
        f"the loss stalls at {lowest:.3g}, just above ln(1 + (C - 1)/e) = "
        f"{floor:.3g}, the lowest cross-entropy of probabilities: the model's outputs "
        "are probabilities (a softmax at its end) that the loss takes for raw scores; "
        "remove the softmax (the loss applies it)"
    )


def _accuracy(adapted, xb, y, training=True):
    """``(accuracy, mode)`` of the scores of ``xb`` in training mode (in test mode when
    ``training`` is False, or for a model without a training mode)."""
    with torch.no_grad(), adapted.in_mode(training) as score:
        scores = None if score is None else score(xb)
    if scores is None:
        training = False
        with adapted.evaluating():
            scores = adapted.scores(xb)
    predicted = np.asarray(adapted.numpy(scores)).argmax(axis=1)
    return float((predicted == y).mean()), "training" if training else "test"


# ---------------------------------------------------------------- examples_independent


#: ``examples_independent``'s advice when the examples of a batch influence each other.
_INDEPENDENCE_ADVICE = (
    "the scores of one example depend on the other examples of its batch: look for "
    "an operation over the batch axis in the forward pass (a mean or a sum over dim 0, "
    "a view or reshape that mixes examples, broadcasting against the batch, a "
    "sequence model given (batch, sequence) where it expects (sequence, batch))"
)


def _examples_independent(model, X, rng, seed):
    """The largest influence of one example's input on another example's scores, relative
    to the largest influence of an example on its own, in test mode and in training mode
    (a torch module's batch normalizations on their running statistics there, their
    own influence reported apart)."""
    judged, note = _independence(model, X, rng, seed)
    ratios = [v for v in judged.values() if not math.isnan(v)]
    if not ratios:
        note = "the scores do not depend on the inputs at all, so this cannot be told"
    failing = [m for m, v in judged.items() if v > INDEPENDENCE_TOLERANCE]
    advice = _INDEPENDENCE_ADVICE
    if failing == ["training"]:
        advice += ", in the code that runs in training mode only (under self.training)"
    modes = " and ".join(m for m in ("training", "test") if m in judged)
    return Check(
        "examples_independent",
        bool(not failing) if ratios else None,
        max(ratios) if ratios else math.nan,
        f"0 (at most {INDEPENDENCE_TOLERANCE:g})",
        advice,
        note,
        mode=modes or "test",
    )


def _independence(model, X, rng, seed):
    """``(judged, note)``: the influence ratio (:func:`_influence`) of each mode judged,
    NaN where it cannot be told, and how it was measured; the influence of batch
    normalization's batch statistics in training mode is measured apart and shown in the
    note, not judged."""
    copy, adapted = working_copy(model)
    n = min(INDEPENDENCE_BATCH, X.shape[0] // 2)
    idx = rng.permutation(X.shape[0])[: 2 * n]
    batch, others = X[idx[:n]], X[idx[n:]]
    r = rng.standard_normal(1000)  # the projection of the scores (its first C entries)
    torch_bn = adapted.is_torch and adapted.batch_statistics
    test, how = _influence(adapted, batch, others, r, seed, training=False)
    train, _ = _influence(adapted, batch, others, r, seed, training=True, statistics=False)
    judged = {"test": test}
    expected_mixing = None
    if torch_bn:
        judged["training"] = train
        expected_mixing, _ = _influence(adapted, batch, others, r, seed, training=True)
    elif adapted.batch_statistics:  # a reference net: its batch norm cannot be set apart
        expected_mixing = train
    elif not math.isnan(train):
        judged["training"] = train
    shown = ", ".join(f"{m} mode {v:.3g}" for m, v in judged.items())
    note = f"{how}, a batch of {n}: {shown}"
    if math.isnan(train) and not adapted.batch_statistics:
        note += " (no training mode: a model without forward(X, mode))"
    if expected_mixing is not None:
        note += (
            "; batch normalization mixes the batch in training by design (the batch's "
            f"statistics): influence {expected_mixing:.3g}, expected, not counted ("
            + (
                "training mode judged with the running statistics)"
                if torch_bn
                else "a reference net's training mode is not judged)"
            )
        )
    return judged, note


def _influence(adapted, batch, others, r, seed, training, statistics=True):
    """``(ratio, how)``: the largest influence of one example on another's scores over the
    largest of an example on its own, in one mode: by autograd where a gradient reaches
    the input, else by replacing inputs (NaN when the scores depend on no input, or the
    model has no such mode)."""
    with adapted.in_mode(training, statistics) as score:
        if score is None:
            return math.nan, ""
        influence = None
        if adapted.is_torch:
            influence = _gradient_influence(adapted, score, batch, r)
        how = "gradient of one example's scores (autograd)"
        if influence is None:
            influence = _replacement_influence(adapted, score, batch, others, seed)
            how = "change of every example's scores when one input changes"
    off = ~np.eye(len(influence), dtype=bool)
    own, cross = float(np.diag(influence).max()), float(influence[off].max())
    return (cross / own if own > 0 else math.inf if cross > 0 else math.nan), how


def _gradient_influence(adapted, score, batch, r):
    """Karpathy's check by autograd: with :math:`u_i = r \\cdot s_i` (a fixed random
    projection ``r`` of example i's scores, so that scores that always sum to the same
    value still count), ``[i, j]`` holds :math:`\\lVert \\partial u_i / \\partial x_j
    \\rVert`; None when no gradient reaches the input (an embedding of tokens)."""
    xb, _ = adapted.inputs(batch)
    if not xb.is_floating_point():
        return None
    xb.requires_grad_(True)
    with torch.enable_grad():
        scores = score(xb)
        if not scores.requires_grad:
            return None
        proj = torch.as_tensor(r[: scores.shape[1]], dtype=scores.dtype, device=scores.device)
        norms, reached = [], False
        for i in range(len(batch)):
            (g,) = torch.autograd.grad(scores[i] @ proj, xb, retain_graph=True, allow_unused=True)
            reached = reached or g is not None
            g = torch.zeros_like(xb) if g is None else g
            norms.append(torch.linalg.vector_norm(g.reshape(len(batch), -1), dim=1))
    return adapted.numpy(torch.stack(norms)) if reached else None


def _replacement_influence(adapted, score, batch, others, seed):
    """The same question by forward passes alone (the same dropout masks in each):
    replace example j's input by another example's, ``[i, j]`` holds how far example i's
    scores move."""

    def scores(x):
        xb, _ = adapted.inputs(x)
        with torch.no_grad(), seeded(seed, adapted.model):
            return np.asarray(adapted.numpy(score(xb)), dtype=np.float64)

    base = scores(batch)
    influence = np.zeros((len(batch), len(batch)))
    for j in range(len(batch)):
        changed = batch.copy()
        changed[j] = others[j]
        moved = scores(changed) - base
        influence[:, j] = np.abs(moved).reshape(len(batch), -1).max(axis=1)
    return influence


# ----------------------------------------------------------------------- learning_rate


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
    if not adapted.trainable():
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
        mode="training",
    )


# ---------------------------------------------------------------------- gradient_check


#: Why ``gradient_check`` does not apply to a module of PyTorch's operations only.
_AUTOGRAD_ONLY = (
    "every operation of the model is PyTorch's own, whose gradients autograd "
    "derives: nothing written by hand to check (a custom autograd.Function "
    "would be)"
)


def _gradient_check(model, X, y, rng, seed):
    """Centred differences in float64 against the analytic gradient, at reg 0 and (for a
    model with ``reg``) at the strength where the penalty equals the data loss; a gradient
    wrong with the regularization on only warns (``regularization_raises_loss`` fails)."""
    expected = f"median relative error per parameter under {GRADIENT_TOLERANCE:g}"
    copy, adapted = float64_copy(model)
    idx = rng.permutation(X.shape[0])[:GRADIENT_BATCH]
    xb, yb = adapted.inputs(X[idx], y[idx])
    what = _hand_written(adapted, xb)
    if what is None:
        return _not_applicable("gradient_check", expected, _AUTOGRAD_ONLY)
    if not adapted.trainable():
        return _not_applicable("gradient_check", expected, "no trainable parameter")
    errors, ratios = _gradient_errors(copy, adapted, xb, yb, seed, rng)
    worst = {label: max(e.values(), default=0.0) for label, e in errors.items()}
    off_right = worst["reg off"] <= GRADIENT_TOLERANCE
    on_right = all(v <= GRADIENT_TOLERANCE for v in worst.values())
    penalty_checked = hasattr(copy, "reg")
    shown = ", ".join(f"{label} {v:.2g}" for label, v in worst.items())
    warning = ""
    if off_right and not on_right and penalty_checked:
        warning = (
            "right with the regularization off, wrong with it on: the penalty's gradient "
            "or value (regularization_raises_loss tells which)"
        )
    return Check(
        "gradient_check",
        bool(off_right and (on_right or penalty_checked)),
        max(worst.values()),
        expected,
        _gradient_advice(off_right, errors["reg off"], ratios["reg off"], len(idx)),
        f"{what}: centred differences (h = {GRADIENT_STEP:g}, float64, training mode) at "
        f"{GRADIENT_ENTRIES} entries of each parameter, {len(idx)} examples; worst median "
        f"error {shown}",
        warning=warning,
        mode="training",
    )


def _hand_written(adapted, xb):
    """What of the model has gradients written by hand, in words: a reference model's
    backward pass, or a torch module's custom autograd Functions (None when it has none)."""
    if not adapted.is_torch:
        return "the hand-written backward pass"
    with adapted.in_mode(training=True) as score, torch.enable_grad():
        functions = custom_functions(score(xb))
    return "custom autograd Functions " + ", ".join(functions) if functions else None


def _gradient_errors(model, adapted, xb, yb, seed, rng):
    """``(errors, ratios)`` of :func:`_numerical_errors` by strength, labelled: "reg off"
    and, for a model with ``reg``, the strength at which the penalty equals the data loss
    (where that is finite); the same entries at each strength."""
    strengths = {"reg off": 0.0}
    if hasattr(model, "reg"):
        strength, _ = _balanced_strength(model, adapted, xb, yb, seed)
        if math.isfinite(strength):
            strengths[f"reg {strength:.3g}"] = strength
    picks = np.random.default_rng(rng.integers(2**32))
    errors, ratios = {}, {}
    for label, reg in strengths.items():
        if hasattr(model, "reg"):
            model.reg = reg
        errors[label], ratios[label] = _numerical_errors(adapted, xb, yb, seed, picks)
    return errors, ratios


def _gradient_advice(right, errors, ratios, n):
    """The advice of ``gradient_check``: where the data gradient (regularization off) is
    wrong (``right`` False), which parameters and by what factor (a factor of ``n``, the
    batch size, named: a sum where the loss takes a mean); else the penalty's gradient."""
    advice = "the analytic gradient disagrees with the loss's centred differences"
    if right:
        return advice + (
            " with the regularization on only: the penalty's gradient is missing or wrong "
            "(add reg * R'(W) to every weight matrix's gradient)"
        )
    bad = [k for k, v in errors.items() if v > GRADIENT_TOLERANCE]
    advice += f" in {', '.join(bad)}"
    found = [r for k in bad for r in ratios[k]]
    factor = float(np.median(found)) if found else math.nan
    if math.isclose(factor, n, rel_tol=0.05):
        advice += (
            f": it is {factor:.3g} times too large, N = {n}, the batch size: the "
            "loss takes a mean over the batch and the gradient a sum (divide by N)"
        )
    elif math.isfinite(factor) and not math.isclose(factor, 1.0, rel_tol=0.05):
        advice += f": analytic / numerical is {factor:.3g} there (median)"
    return advice + "; check the backward pass, one layer at a time (nntrain.gradcheck)"


def _numerical_errors(adapted, xb, yb, seed, picks):
    """``(errors, ratios)``: per parameter, the median of :math:`|a - n| / (|a| + |n|)`
    over :data:`GRADIENT_ENTRIES` random entries (where the two are not both 0), and the
    ratios :math:`a / n` of those entries (where :math:`n \ne 0`)."""

    def loss():
        return _loss_and_grads(adapted, xb, yb, seed)

    _, grads = loss()
    errors, ratios, h = {}, {}, GRADIENT_STEP
    for k, p in adapted.params.items():
        g = grads[k].reshape(-1)
        per_entry, ratios[k] = [], []
        for i in picks.choice(g.size, size=min(GRADIENT_ENTRIES, g.size), replace=False):
            index = np.unravel_index(i, tuple(p.shape))
            with adapted.updating():
                old = float(p[index])
                p[index] = old + h
            plus = loss()[0]
            with adapted.updating():
                p[index] = old - h
            minus = loss()[0]
            with adapted.updating():
                p[index] = old
            numerical, analytic = (plus - minus) / (2 * h), float(g[i])
            scale = abs(analytic) + abs(numerical)
            if scale > 1e-10:
                per_entry.append(abs(analytic - numerical) / scale)
            if abs(numerical) > 1e-8:
                ratios[k].append(analytic / numerical)
        if per_entry:
            errors[k] = float(np.median(per_entry))
    return errors, ratios
