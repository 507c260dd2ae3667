"""Multi-fidelity search: successive halving and Hyperband over batched trials.

Most configurations of a random search are poor, and a few epochs already show which. So
spend little on each of many configurations and more on the few that look best.
**Successive halving** (Jamieson & Talwalkar 2016, *Non-stochastic best arm identification
and hyperparameter optimization*, AISTATS) trains :math:`n` configurations for a small
budget of :math:`r` epochs, keeps the best :math:`1/\\eta` of them by validation accuracy,
trains those :math:`\\eta` times longer, and repeats until one configuration remains or
the largest budget :math:`R` is reached. Rung :math:`i` holds

.. math::
    n_i = \\max\\!\\left(1, \\lfloor n\\,\\eta^{-i} \\rfloor\\right) \\text{ trials, each
    trained to } r_i = \\left\\lfloor R\\,\\eta^{\\,i-s} \\right\\rfloor \\text{ epochs},
    \\qquad i = 0, \\dots, s, \\quad s = \\lfloor \\log_\\eta (R / r) \\rfloor,

so that the budgets grow by :math:`\\eta` from :math:`r_0 \\ge r` to :math:`r_s = R`
(:math:`r_i = r\\,\\eta^i` exactly when :math:`R/r` is a power of :math:`\\eta`); the
schedule ends early after a rung of one trial (:func:`halving_schedule`).

How many configurations to start with is a trade-off: many configurations with a small
:math:`r` bet that a short run ranks them well; few with a large :math:`r` bet that it
does not. **Hyperband** (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar 2018,
*Hyperband: a novel bandit-based approach to hyperparameter optimization*, JMLR 18) hedges
by running one successive halving per bet, the *brackets*
:math:`s = s_{\\max}, \\dots, 0` (:func:`hyperband_schedule`):

.. math::
    s_{\\max} = \\lfloor \\log_\\eta (R / r) \\rfloor, \\qquad
    n_s = \\left\\lceil \\frac{s_{\\max} + 1}{s + 1}\\, \\eta^{s} \\right\\rceil, \\qquad
    r_s = R\\,\\eta^{-s},

from the most aggressive bracket (:math:`n_{s_{\\max}}` configurations from :math:`r`
epochs) to plain random search (:math:`s = 0`: :math:`s_{\\max} + 1` configurations for
:math:`R` epochs each). Every bracket is given about the same budget, :math:`(s_{\\max} +
1) R` epochs if each rung trained its trials from scratch (Li et al.'s accounting), about
:math:`R\\,(s_{\\max} + 1) / (s + 1)` per rung.

**Cost.** Every rung trains its trials with :func:`~nntrain.search.batched.train_batched`,
and the trials kept for the next rung go on from their parameters and momentum
(:func:`~nntrain.search.batched.resume_batched`; training to :math:`r_i` and resuming to
:math:`r_{i+1}` gives what training to :math:`r_{i+1}` at once gives). So rung :math:`i`
costs :math:`n_i (r_i - r_{i-1})` trial-epochs (:math:`r_{-1} = 0`), and ``epochs_spent``
sums them: the budget to compare at, since a random search of :math:`m` configurations
trained for :math:`R` epochs costs :math:`m R`. A trial that diverges stops at once (the
rule of :func:`~nntrain.search.batched.should_stop`), costs nothing from then on and ranks
last; it is still charged its rung's epochs, as Hyperband's accounting does.

The same idea for trials run one at a time, or by several workers: Optuna's
``optuna.pruners.SuccessiveHalvingPruner`` (the asynchronous version of Li et al. 2020, *A
system for massively parallel hyperparameter tuning*, MLSys, which lets a trial go on as
soon as it ranks in the top :math:`1/\\eta` of those that have reached its rung) and
``optuna.pruners.HyperbandPruner``, with :func:`~nntrain.search.study.optuna_objective`,
which reports the validation accuracy after every epoch::

    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27,
                                            reduction_factor=3)
    study = create_study("search.db", "digits", pruner=pruner)
    study.optimize(optuna_objective(data, hidden_dims=[100], epochs=27, space=space),
                   n_trials=100)

Written for chapter 7 (hyperparameter optimization).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from .. import validation as check
from .batched import TrialResult, resume_batched, train_batched
from .spaces import random_search

__all__ = [
    "halving_schedule",
    "hyperband_schedule",
    "Rung",
    "HalvingResult",
    "HyperbandResult",
    "successive_halving",
    "hyperband",
]


def _check_budgets(min_epochs, max_epochs, eta):
    """The number of budget steps :math:`s = \\lfloor \\log_\\eta (R / r) \\rfloor`, computed
    with integers."""
    check.positive_int("min_epochs", min_epochs)
    check.positive_int("max_epochs", max_epochs)
    if max_epochs < min_epochs:
        raise ValueError(
            f"max_epochs must be >= min_epochs ({min_epochs}), got max_epochs={max_epochs}"
        )
    if isinstance(eta, bool) or not isinstance(eta, numbers.Integral) or eta < 2:
        raise ValueError(f"eta must be an integer >= 2, got {eta!r}")
    s = 0
    while min_epochs * eta ** (s + 1) <= max_epochs:
        s += 1
    return s


def halving_schedule(n, min_epochs, max_epochs, eta=3):
    """The rungs of successive halving: how many trials each trains, and to how many epochs.

    .. math::
        n_i = \\max\\!\\left(1, \\lfloor n\\,\\eta^{-i} \\rfloor\\right), \\qquad
        r_i = \\left\\lfloor R\\,\\eta^{\\,i-s} \\right\\rfloor, \\qquad
        s = \\lfloor \\log_\\eta (R / r) \\rfloor,

    for :math:`i = 0, \\dots, s`, ending early after the first rung of one trial
    (Jamieson & Talwalkar 2016; the inner loop of Li et al. 2018's Hyperband).

    Args:
        n: configurations in the first rung, a positive integer.
        min_epochs: the smallest budget :math:`r`, a positive integer.
        max_epochs: the largest budget :math:`R \\ge r`.
        eta: the factor :math:`\\eta`, an integer >= 2: each rung keeps :math:`1/\\eta` of
            the trials and trains them :math:`\\eta` times longer.

    Returns:
        A list of ``(n_i, r_i)`` pairs, one per rung.

    Example:
        >>> halving_schedule(27, 1, 27)
        [(27, 1), (9, 3), (3, 9), (1, 27)]
        >>> halving_schedule(4, 1, 27)  # one remains after the second rung
        [(4, 1), (1, 3)]
        >>> halving_schedule(10, 1, 10)  # budgets from the top: 10/9, 10/3, 10, floored
        [(10, 1), (3, 3), (1, 10)]
    """
    check.positive_int("n", n)
    s = _check_budgets(min_epochs, max_epochs, eta)
    rungs = []
    for i in range(s + 1):
        rungs.append((max(1, n // eta**i), max_epochs * eta**i // eta**s))
        if rungs[-1][0] == 1:
            break
    return rungs


def hyperband_schedule(min_epochs, max_epochs, eta=3):
    """The brackets of Hyperband (Li et al. 2018), each a successive halving schedule.

    Bracket :math:`s = s_{\\max}, \\dots, 0` starts :math:`n_s = \\lceil (s_{\\max}+1)
    \\eta^s / (s+1) \\rceil` configurations at :math:`r_s = R\\,\\eta^{-s}` epochs
    (floored), with :math:`s_{\\max} = \\lfloor \\log_\\eta (R / r) \\rfloor`; its rungs are
    :func:`halving_schedule` ``(n_s, r_s, R, eta)``, :math:`s + 1` of them, the last at
    :math:`R`.

    Args:
        min_epochs: the smallest budget :math:`r`, a positive integer.
        max_epochs: the largest budget :math:`R \\ge r`.
        eta: the factor :math:`\\eta`, an integer >= 2.

    Returns:
        A list of :math:`s_{\\max} + 1` brackets, each a list of ``(n_i, r_i)`` pairs.

    Example:
        >>> for bracket in hyperband_schedule(1, 81):  # Li et al. 2018, Table 1
        ...     print(bracket)
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
        [(34, 3), (11, 9), (3, 27), (1, 81)]
        [(15, 9), (5, 27), (1, 81)]
        [(8, 27), (2, 81)]
        [(5, 81)]
    """
    s_max = _check_budgets(min_epochs, max_epochs, eta)
    return [
        halving_schedule(-(-(s_max + 1) * eta**s // (s + 1)), max_epochs // eta**s, max_epochs, eta)
        for s in range(s_max, -1, -1)
    ]


@dataclass
class Rung:
    """One rung of successive halving.

    Attributes:
        epochs: the budget :math:`r_i`: every trial of the rung has been trained this long.
        trials: the trials trained in this rung, as indices into the search's ``trials``
            (in increasing order).
        scores: their validation accuracies after ``epochs`` epochs, in the same order (NaN
            for a trial that stopped early).
    """

    epochs: int
    trials: list
    scores: list


@dataclass
class HalvingResult:
    """What :func:`successive_halving` returns.

    Attributes:
        trials: every configuration tried, with the defaults of missing keys filled in.
        rungs: one :class:`Rung` per rung, first to last.
        results: one :class:`~nntrain.search.batched.TrialResult` per trial, as trained in
            the last rung it reached.
        winner: the index of the best trial of the last rung.
        epochs_spent: the trial-epochs trained, :math:`\\sum_i n_i (r_i - r_{i-1})`.
    """

    trials: list
    rungs: list
    results: list
    winner: int
    epochs_spent: int

    @property
    def best(self) -> TrialResult:
        """The winner's :class:`~nntrain.search.batched.TrialResult`."""
        return self.results[self.winner]


@dataclass
class HyperbandResult:
    """What :func:`hyperband` returns.

    Attributes:
        brackets: one :class:`HalvingResult` per bracket, :math:`s = s_{\\max}` first.
        trials: every configuration tried, bracket after bracket.
        results: one :class:`~nntrain.search.batched.TrialResult` per trial, in the same
            order.
        winner: the index (into ``trials``) of the best bracket winner, all of them
            trained for ``max_epochs``.
        epochs_spent: the trial-epochs of all brackets.
    """

    brackets: list
    trials: list
    results: list
    winner: int
    epochs_spent: int

    @property
    def best(self) -> TrialResult:
        """The winner's :class:`~nntrain.search.batched.TrialResult`."""
        return self.results[self.winner]


def _rank(result):
    """The sort key of a trial at the end of a rung, higher is better: its latest validation
    accuracy, ties broken by the lower validation loss; a stopped trial comes last."""
    if result.stopped or not result.history.val_acc:
        return (-math.inf, -math.inf)
    return (result.history.val_acc[-1], -result.history.val_loss[-1])


def _score(result):
    return math.nan if result.stopped else result.history.val_acc[-1]


def successive_halving(
    data,
    trials,
    *,
    min_epochs,
    max_epochs,
    eta=3,
    hidden_dims,
    batch_size,
    momentum=0.9,
    seed=0,
    device=None,
    dtype=torch.float64,
):
    """Successive halving over batched trials (Jamieson & Talwalkar 2016).

    The rungs follow :func:`halving_schedule` ``(len(trials), min_epochs, max_epochs,
    eta)``. The first trains every trial to :math:`r_0` epochs with
    :func:`~nntrain.search.batched.train_batched`; each next one keeps the :math:`n_i`
    best trials of the last (highest validation accuracy at the end of the rung, ties
    broken by the lower validation loss, stopped trials last) and resumes them to
    :math:`r_i` epochs with :func:`~nntrain.search.batched.resume_batched`, so rung
    :math:`i` costs :math:`n_i (r_i - r_{i-1})` trial-epochs.

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        trials: a non-empty list of trial dicts (keys among
            :data:`~nntrain.search.batched.TRIAL_KEYS`), e.g. from
            :func:`~nntrain.search.spaces.random_search`.
        min_epochs: the smallest budget :math:`r`.
        max_epochs: the largest budget :math:`R`.
        eta: the factor :math:`\\eta`, an integer >= 2.
        hidden_dims, batch_size, momentum, seed, device, dtype: as for
            :func:`~nntrain.search.batched.train_batched`, shared by every trial and rung.

    Returns:
        A :class:`HalvingResult`: the trials, the rungs with their scores, every trial's
        latest result, the winner and the trial-epochs spent.

    Example:
        >>> from nntrain.data import load_digits_split
        >>> from nntrain.search import LogUniform, random_search
        >>> data = load_digits_split(seed=0)
        >>> trials = random_search({"learning_rate": LogUniform(1e-3, 1)}, 9, 0)
        >>> search = successive_halving(data, trials, min_epochs=1, max_epochs=9,
        ...                             hidden_dims=[20], batch_size=100, device="cpu")
        >>> [(len(rung.trials), rung.epochs) for rung in search.rungs]
        [(9, 1), (3, 3), (1, 9)]
        >>> search.epochs_spent  # 9 * 1 + 3 * (3 - 1) + 1 * (9 - 3), against 81 for all
        21
    """
    if isinstance(trials, dict) or not isinstance(trials, (list, tuple)):
        raise TypeError(f"trials must be a list of trial dicts, got {type(trials).__name__}")
    if not trials:
        raise ValueError("trials must hold at least one trial, got an empty list")
    schedule = halving_schedule(len(trials), min_epochs, max_epochs, eta)
    shared = dict(
        hidden_dims=hidden_dims,
        batch_size=batch_size,
        momentum=momentum,
        seed=seed,
        device=device,
        dtype=dtype,
    )
    results = train_batched(data, trials, epochs=schedule[0][1], **shared)
    kept = list(range(len(trials)))
    rungs = [Rung(schedule[0][1], kept, [_score(results[k]) for k in kept])]
    spent = len(kept) * schedule[0][1]
    for (count, epochs), (_, before) in zip(schedule[1:], schedule):
        kept = sorted(sorted(kept, key=lambda k: _rank(results[k]), reverse=True)[:count])
        for k, result in zip(kept, resume_batched(data, [results[k] for k in kept], epochs=epochs)):
            results[k] = result
        rungs.append(Rung(epochs, kept, [_score(results[k]) for k in kept]))
        spent += count * (epochs - before)
    winner = max(kept, key=lambda k: _rank(results[k]))
    return HalvingResult([r.trial for r in results], rungs, results, winner, spent)


def hyperband(
    data,
    space,
    *,
    min_epochs,
    max_epochs,
    eta=3,
    rng=0,
    hidden_dims,
    batch_size,
    momentum=0.9,
    seed=0,
    device=None,
    dtype=torch.float64,
):
    """Hyperband (Li et al. 2018): one successive halving per bracket of
    :func:`hyperband_schedule`, each on configurations drawn at random from ``space``.

    Bracket :math:`s` draws its :math:`n_s` configurations with
    :func:`~nntrain.search.spaces.random_search` (one generator for all brackets, so the
    brackets try different configurations) and runs :func:`successive_halving` on them
    from :math:`r_s` to ``max_epochs``. The winner is the best of the bracket winners, all
    trained for ``max_epochs`` (highest validation accuracy, ties broken by the lower
    validation loss).

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        space: a search space of ``learning_rate``, ``reg`` and ``weight_scale`` dimensions
            (:mod:`nntrain.search.spaces`).
        min_epochs: the smallest budget :math:`r`.
        max_epochs: the largest budget :math:`R`.
        eta: the factor :math:`\\eta`, an integer >= 2.
        rng: a ``numpy.random.Generator`` or a non-negative int seed, for the draws.
        hidden_dims, batch_size, momentum, seed, device, dtype: as for
            :func:`~nntrain.search.batched.train_batched`.

    Returns:
        A :class:`HyperbandResult`.

    Example:
        >>> from nntrain.data import load_digits_split
        >>> from nntrain.search import LogUniform
        >>> data = load_digits_split(seed=0)
        >>> search = hyperband(data, {"learning_rate": LogUniform(1e-3, 1)}, min_epochs=1,
        ...                    max_epochs=9, hidden_dims=[20], batch_size=100, device="cpu")
        >>> [len(b.trials) for b in search.brackets], search.epochs_spent
        ([9, 5, 3], 69)
    """
    schedule = hyperband_schedule(min_epochs, max_epochs, eta)
    if not isinstance(rng, np.random.Generator):
        if isinstance(rng, bool) or not isinstance(rng, numbers.Integral) or rng < 0:
            raise TypeError(
                f"rng must be a numpy.random.Generator or a non-negative int seed, got {rng!r}"
            )
        rng = np.random.default_rng(int(rng))
    draws = [random_search(space, bracket[0][0], rng) for bracket in schedule]
    brackets = [
        successive_halving(
            data,
            trials,
            min_epochs=bracket[0][1],
            max_epochs=max_epochs,
            eta=eta,
            hidden_dims=hidden_dims,
            batch_size=batch_size,
            momentum=momentum,
            seed=seed,
            device=device,
            dtype=dtype,
        )
        for trials, bracket in zip(draws, schedule)
    ]
    offsets = np.cumsum([0] + [len(b.trials) for b in brackets])
    best = max(range(len(brackets)), key=lambda b: _rank(brackets[b].best))
    return HyperbandResult(
        brackets,
        [t for b in brackets for t in b.trials],
        [r for b in brackets for r in b.results],
        int(offsets[best]) + brackets[best].winner,
        sum(b.epochs_spent for b in brackets),
    )
