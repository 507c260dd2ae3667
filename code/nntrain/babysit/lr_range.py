r"""The learning-rate range test: one short run whose learning rate grows at every step.

Smith (2017), *Cyclical Learning Rates for Training Neural Networks* (WACV; arXiv 2015):
train for a few hundred minibatches while the learning rate rises from a value far too low
to one far too high, and read off where the loss falls fastest and where it blows up. The
fastai library made it a one-liner, ``lr_find`` (Howard and Gugger 2020), which this
follows: the rate grows geometrically, one step per minibatch,

.. math::
    \eta_t = \eta_{\text{start}} \left(\frac{\eta_{\text{stop}}}{\eta_{\text{start}}}
    \right)^{t / (T - 1)}, \qquad t = 0, \dots, T - 1,

the loss is smoothed by a bias-corrected exponential moving average,

.. math::
    a_t = \beta a_{t-1} + (1 - \beta) L_t, \qquad \bar L_t = \frac{a_t}{1 - \beta^{t+1}},

and the run stops once :math:`\bar L_t` exceeds 4 times its lowest value so far (or the
loss is not finite): past that point the rate is too high and nothing more is learnt.

**The suggestion** (:func:`minimum_over_10`) is fastai's "minimum/10" rule: one tenth of the
rate at the minimum of the smoothed loss. At the minimum the rate is already at the edge of
stability (the loss turns upwards just after it), so a tenth of it is a rate that still
makes fast progress with room to spare; it is also steadier from run to run than the rate of
steepest descent, which differentiates a noisy curve. It is a rate for a short run: on the
digits (a 64-100-10 net, standardized) the suggestions are 0.12 to 0.38, while chapter 6's
sweep of 10 epochs of SGD with momentum 0.9 in batches of 50 is best at 0.03 to 0.1 and does
worse at 0.3; for a long run, start from the suggestion and tune downwards. The moving
average lags the raw loss by about :math:`1/(1 - \beta)` steps, which moves the minimum to a
slightly higher rate; the factor of ten absorbs that.

The run is one call of :func:`nntrain.train.train` on a copy of the model, with two hooks:
the growing rate as its ``schedule``, and the smoothed loss as its ``stop`` condition.

Used in chapter 6 (babysitting the learning process) and by
:func:`nntrain.babysit.steps.checklist`.
"""

from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .. import validation as check
from ..reference import optim as reference_optim
from ..train import TrainingDiverged, train
from .models import seeded, working_copy

__all__ = ["SUGGESTION_RULE", "RangeTest", "lr_range_test", "minimum_over_10"]

#: The suggestion rule of :func:`lr_range_test`, by its fastai name.
SUGGESTION_RULE = "minimum/10"


@dataclass
class RangeTest:
    """The outcome of :func:`lr_range_test`.

    Attributes:
        rates: the learning rate of every step taken, increasing.
        losses: the training loss of every step (its minibatch's, before the update).
        smoothed: the smoothed loss :math:`\\bar L_t` of every step.
        suggestion: one tenth of the rate at the minimum of ``smoothed`` (NaN when no
            step had a finite loss).
        diverged: whether the run stopped early, at a smoothed loss over ``divergence``
            times the best (recorded) or at a loss that is not finite (not recorded).
        rule: the suggestion rule, ``"minimum/10"``.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    diverged: bool
    rule: str = SUGGESTION_RULE

    def plot(self, ax):
        """The smoothed loss against the learning rate (log axis), the suggestion marked
        by a dashed line; returns ``ax``."""
        ax.plot(self.rates, self.smoothed, label="smoothed loss")
        if math.isfinite(self.suggestion):
            ax.axvline(self.suggestion, ls="--", c="C1", label=f"suggestion {self.suggestion:.2g}")
        ax.set(xscale="log", xlabel="learning rate", ylabel="training loss")
        ax.legend()
        return ax


@check.declared(
    start=check.POSITIVE,
    stop=check.POSITIVE,
    steps=check.Interval(Integral, 2, None),
    batch_size=check.POSITIVE_INT,
    update_rule=check.Options(*reference_optim.RULES),
    smoothing=check.RATE,
    divergence=check.Interval(Real, 1, None, closed="neither"),
    seed=check.SEED,
)
def lr_range_test(
    model,
    data,
    *,
    start=1e-6,
    stop=10.0,
    steps=100,
    batch_size=64,
    update_rule="sgd_momentum",
    smoothing=0.9,
    divergence=4.0,
    seed=0,
):
    r"""Train a copy of ``model`` with a learning rate growing geometrically from ``start``
    to ``stop``, one step per minibatch, and suggest a learning rate (see the module
    docstring: Smith 2017; fastai's ``lr_find`` and its "minimum/10" rule).

    ``model`` itself is not changed: the run trains a deep copy, in training mode, with
    its regularization as it is (the recorded loss is the training loss, penalty
    included), and the global random generators are seeded for it and restored after it.

    Args:
        model: a reference or torch classifier (see :mod:`nntrain.train`).
        data: a dict with the training split ``X_train``, ``y_train`` (NumPy arrays);
            minibatches are drawn from it without replacement, epoch after epoch.
        start: the first learning rate, > 0.
        stop: the last learning rate, > ``start``.
        steps: the number of steps :math:`T \ge 2` from ``start`` to ``stop``.
        batch_size: examples per step (all of them if there are fewer).
        update_rule: a rule of :data:`nntrain.reference.optim.RULES` with its default
            hyperparameters but the learning rate; by default SGD with momentum 0.9, the
            default of :func:`nntrain.train.train`, so the suggestion is a
            ``learning_rate`` for it.
        smoothing: :math:`\beta \in [0, 1)` of the moving average (0: no smoothing),
            whose memory is about :math:`1/(1 - \beta)` steps. fastai takes 0.98, 50
            steps, half of a 100-step run; the default 0.9 remembers 10 steps (0.7
            decades of rate from 1e-6 to 10), and its suggestions were as stable from
            seed to seed on the digits (spread under 0.4 decades over 5 seeds for either).
        divergence: stop once the smoothed loss exceeds this multiple (> 1) of its best.
        seed: seed of the minibatch order and of the global generators during the run.

    Returns:
        A :class:`RangeTest`.

    Raises:
        ValueError: an argument out of range, data without a training split, a model
            without a trainable parameter.
        TypeError: an argument of the wrong type.

    Example:
        >>> from nntrain.data import load_digits_split
        >>> from nntrain.reference import FullyConnectedNet
        >>> data = load_digits_split()
        >>> net = FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0)
        >>> result = lr_range_test(net, data)
        >>> 1e-3 < result.suggestion < 1, result.diverged
        (True, True)
    """
    if stop <= start:
        raise ValueError(f"stop must be larger than start, got start={start} and stop={stop}")
    X, y = check.training_split(data)
    copy = _trainable_copy(model)
    rates = start * (stop / start) ** (np.arange(steps) / (steps - 1))
    curve = _Curve(rates, smoothing, divergence)
    size = min(batch_size, X.shape[0])
    with seeded(seed, copy), contextlib.suppress(TrainingDiverged):
        # minibatches without replacement, epoch after epoch, until the curve stops the run
        train(
            copy,
            {"X_train": X, "y_train": y},
            update_rule=update_rule,
            batch_size=size,
            epochs=math.ceil(steps / (X.shape[0] // size)),
            seed=seed,
            schedule=curve.rate,
            stop=curve.stop,
            drop_last=True,
            evaluate=False,
            keep_best=False,
            max_loss_ratio=sys.float_info.max,  # divergence is the curve's to judge
            progress=False,
        )
    return curve.result()


def _trainable_copy(model):
    """A deep copy of ``model`` to train (with a trainable parameter, or an error)."""
    copy, adapted = working_copy(model)
    if not adapted.trainable():
        raise ValueError(
            f"model must have a trainable parameter, found none in {type(model).__name__} "
            "(all requires_grad=False?)"
        )
    return copy


def minimum_over_10(rates, smoothed):
    """fastai's "minimum/10" suggestion: one tenth of the rate at the minimum of the smoothed
    loss (NaN for an empty curve).

    Example:
        >>> minimum_over_10(np.array([0.01, 0.1, 1.0]), [2.0, 1.5, 9.0])
        0.01
    """
    if not len(smoothed):
        return math.nan
    return float(rates[int(np.argmin(smoothed))] / 10)


class _Curve:
    """The range test's hooks into :func:`nntrain.train.train`: the learning rate of every
    step (``rate``), and the smoothed loss, recorded after every step, which stops the run
    (``stop``) once it exceeds ``divergence`` times its best or the loss is not finite."""

    def __init__(self, rates, smoothing, divergence):
        self.rates, self.smoothing, self.divergence = rates, smoothing, divergence
        self.losses, self.smoothed, self.average, self.diverged = [], [], 0.0, False

    def rate(self, t):
        return self.rates[t]

    def stop(self, history):
        loss = history.loss[-1]
        if not math.isfinite(loss):
            self.diverged = True
            return True
        t = len(self.losses)
        self.average = self.smoothing * self.average + (1 - self.smoothing) * loss
        self.losses.append(loss)
        self.smoothed.append(self.average / (1 - self.smoothing ** (t + 1)))
        self.diverged = self.smoothed[-1] > self.divergence * min(self.smoothed)
        return self.diverged or len(self.losses) == len(self.rates)

    def result(self):
        """The :class:`RangeTest` of the steps taken."""
        tried = self.rates[: len(self.losses)]
        suggestion = minimum_over_10(tried, self.smoothed)
        return RangeTest(
            tried, np.array(self.losses), np.array(self.smoothed), suggestion, self.diverged
        )
