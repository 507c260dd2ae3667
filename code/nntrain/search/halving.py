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

**Training and cost.** The schedules are pure arithmetic, and :func:`halve` runs them with
any trainer, given as a function ``fit(trials, epochs, resume_from)`` (the split of
Optuna's pruners and objectives). :func:`batched_fit` trains a rung's trials in one
batched computation (:func:`~nntrain.search.batched.train_batched`), and the trials kept
for the next rung go on from their parameters and momentum
(:func:`~nntrain.search.batched.resume_batched`; training to :math:`r_i` and resuming to
:math:`r_{i+1}` gives what training to :math:`r_{i+1}` at once gives): this is what
:func:`successive_halving` and :func:`hyperband` use. :func:`train_fit` trains any model of
either tree, one trial at a time, with :func:`nntrain.train.train`. Either way rung
:math:`i` costs :math:`n_i (r_i - r_{i-1})` trial-epochs (:math:`r_{-1} = 0`), and
``epochs_spent`` sums them: the budget to compare at, since a random search of :math:`m`
configurations trained for :math:`R` epochs costs :math:`m R`. A trial that diverges stops
(the batched rule is :func:`~nntrain.search.batched.should_stop`), costs nothing from then
on and ranks last; it is still charged its rung's epochs, as Hyperband's accounting does.

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

import inspect
import math
from dataclasses import asdict, dataclass
from numbers import Integral

import numpy as np
import torch

from .. import validation as check
from ..train import History, TrainingDiverged, train
from .batched import TrainSpec, resume_batched, train_batched
from .spaces import random_search

__all__ = [
    "halving_schedule",
    "hyperband_schedule",
    "Rung",
    "SearchResult",
    "HalvingResult",
    "HyperbandResult",
    "TrainedTrial",
    "TRAIN_KEYS",
    "halve",
    "batched_fit",
    "train_fit",
    "successive_halving",
    "hyperband",
]


#: The rules of the budgets of both schedules.
_BUDGETS = dict(
    min_epochs=check.POSITIVE_INT,
    max_epochs=check.POSITIVE_INT,
    eta=check.Interval(Integral, 2, None),
)


def _steps(min_epochs, max_epochs, eta):
    """The number of budget steps :math:`s = \\lfloor \\log_\\eta (R / r) \\rfloor`, computed
    with integers."""
    if max_epochs < min_epochs:
        raise check.InvalidArgument(
            f"max_epochs must be >= min_epochs ({min_epochs}), got max_epochs={max_epochs}"
        )
    s = 0
    while min_epochs * eta ** (s + 1) <= max_epochs:
        s += 1
    return s


@check.declared(n=check.POSITIVE_INT, **_BUDGETS)
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
    s = _steps(min_epochs, max_epochs, eta)
    rungs = []
    for i in range(s + 1):
        rungs.append((max(1, n // eta**i), max_epochs * eta**i // eta**s))
        if rungs[-1][0] == 1:
            break
    return rungs


@check.declared(**_BUDGETS)
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
    s_max = _steps(min_epochs, max_epochs, eta)
    brackets = []
    for s in range(s_max, -1, -1):
        # n_s = ceil((s_max + 1) eta^s / (s + 1)), as -floor(-a / b): exact in integers
        n = -(-(s_max + 1) * eta**s // (s + 1))
        brackets.append(halving_schedule(n, max_epochs // eta**s, max_epochs, eta))
    return brackets


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
class SearchResult:
    """What a multi-fidelity search returns (:class:`HalvingResult`, :class:`HyperbandResult`).

    Attributes:
        trials: every configuration tried (as its result holds it: with the defaults of
            missing keys filled in, for :func:`~nntrain.search.batched.train_batched`).
        results: one result per trial, the last one its fit returned: a
            :class:`~nntrain.search.batched.TrialResult` (:func:`batched_fit`) or a
            :class:`TrainedTrial` (:func:`train_fit`).
        winner: the index (into ``trials``) of the best trial of the last rung.
        epochs_spent: the trial-epochs trained, :math:`\\sum_i n_i (r_i - r_{i-1})` per
            successive halving.
    """

    trials: list
    results: list
    winner: int
    epochs_spent: int

    @property
    def best(self):
        """The winner's result."""
        return self.results[self.winner]


@dataclass
class HalvingResult(SearchResult):
    """What :func:`halve` and :func:`successive_halving` return: a :class:`SearchResult`
    and its ``rungs``, one :class:`Rung` per rung, first to last."""

    rungs: list


@dataclass
class HyperbandResult(SearchResult):
    """What :func:`hyperband` returns: a :class:`SearchResult` over all brackets (trials
    and results bracket after bracket; the winner is the best bracket winner, all of them
    trained for ``max_epochs``) and the ``brackets``, one :class:`HalvingResult` per
    bracket, :math:`s = s_{\\max}` first."""

    brackets: list


@dataclass
class TrainedTrial:
    """What :func:`train_fit` gives for one trial.

    Attributes:
        trial: the trial's hyperparameters.
        model: its model, trained in place by :func:`nntrain.train.train`.
        history: the :class:`~nntrain.train.History` of all its epochs so far, rung after
            rung.
        stopped: whether ``train`` gave up on it (:class:`~nntrain.train.TrainingDiverged`);
            its history then ends there.
    """

    trial: dict
    model: object
    history: History
    stopped: bool = False


def _rank(result):
    """The sort key of a trial at the end of a rung, higher is better: its latest validation
    accuracy, ties broken by the lower validation loss; a stopped trial comes last."""
    if result.stopped or not result.history.val_acc:
        return (-math.inf, -math.inf)
    return (result.history.val_acc[-1], -result.history.val_loss[-1])


def _score(result):
    return math.nan if result.stopped else result.history.val_acc[-1]


def _trial_list(trials):
    return check.non_empty_list("trials", trials, check.Instance(dict, "a dict"), "trial dicts")


def halve(trials, schedule, fit):
    """Successive halving (Jamieson & Talwalkar 2016) of ``trials`` along ``schedule``,
    trained by ``fit``.

    The first rung fits every trial to :math:`r_0` epochs, ``fit(trials, r_0, None)``; each
    next one keeps the :math:`n_i` best trials of the last (highest validation accuracy at
    the end of the rung, ties broken by the lower validation loss, stopped trials last) and
    fits them on to :math:`r_i` epochs, ``fit(kept, r_i, their_results)``, so rung :math:`i`
    costs :math:`n_i (r_i - r_{i-1})` trial-epochs.

    Args:
        trials: a non-empty list of configurations (dicts), e.g. from
            :func:`~nntrain.search.spaces.random_search`.
        schedule: the rungs, a list of ``(n_i, r_i)`` pairs such as :func:`halving_schedule`
            ``(len(trials), min_epochs, max_epochs, eta)`` gives; ``n_0`` is ``len(trials)``.
        fit: a function ``fit(trials, epochs, resume_from)`` that returns one result per
            trial, trained for ``epochs`` epochs in all: ``resume_from`` is None in the first
            rung, then the trials' results of the rung before, to go on from (or to ignore,
            training from scratch). A result has the attributes ``trial`` (the
            configuration), ``history`` (a :class:`~nntrain.train.History` with
            ``val_acc`` and ``val_loss`` after every epoch) and ``stopped`` (True for a run
            given up). :func:`batched_fit` (all trials of a rung in one batched
            computation) and :func:`train_fit` (any model, with :func:`nntrain.train.train`)
            make one.

    Returns:
        A :class:`HalvingResult`: the trials, the rungs with their scores, every trial's
        latest result, the winner and the trial-epochs spent.

    Example:
        >>> import nntrain
        >>> from nntrain.data import load_digits_split
        >>> data = load_digits_split(seed=0)
        >>> fit = train_fit(data, lambda t: nntrain.FullyConnectedNet([20], 64, 10, seed=0),
        ...                 batch_size=100, progress=False)
        >>> trials = [{"learning_rate": lr} for lr in (1e-4, 1e-3, 0.01, 0.1)]
        >>> search = halve(trials, halving_schedule(4, 1, 4, eta=2), fit)
        >>> [rung.trials for rung in search.rungs]
        [[0, 1, 2, 3], [2, 3], [2]]
        >>> search.epochs_spent  # 4 * 1 + 2 * (2 - 1) + 1 * (4 - 2)
        8
    """
    trials = _trial_list(trials)
    if not schedule or schedule[0][0] != len(trials):
        raise check.InvalidArgument(
            f"schedule must start with a rung of all {len(trials)} trials, got {schedule!r}"
        )
    check.Function("a function fit(trials, epochs, resume_from)").check("fit", fit)
    epochs = schedule[0][1]
    results = list(fit(trials, epochs, None))
    kept = list(range(len(trials)))
    rungs = [Rung(epochs, kept, [_score(results[k]) for k in kept])]
    spent = len(kept) * epochs
    for count, epochs in schedule[1:]:
        kept = sorted(sorted(kept, key=lambda k: _rank(results[k]), reverse=True)[:count])
        resumed = fit([trials[k] for k in kept], epochs, [results[k] for k in kept])
        for k, result in zip(kept, resumed):
            results[k] = result
        spent += count * (epochs - rungs[-1].epochs)
        rungs.append(Rung(epochs, kept, [_score(results[k]) for k in kept]))
    winner = max(kept, key=lambda k: _rank(results[k]))
    return HalvingResult(
        trials=[r.trial for r in results],
        results=results,
        winner=winner,
        epochs_spent=spent,
        rungs=rungs,
    )


def batched_fit(data, spec):
    """The fit of :func:`halve` for the batched trainer: a rung's trials are trained in one
    batched computation, :func:`~nntrain.search.batched.train_batched` ``(data, trials,
    epochs=..., **spec)`` in the first rung, and the kept trials go on from their parameters
    and momentum with :func:`~nntrain.search.batched.resume_batched` (training to
    :math:`r_i` and resuming to :math:`r_{i+1}` gives what training to :math:`r_{i+1}` at
    once gives).

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        spec: a :class:`~nntrain.search.batched.TrainSpec`, the arguments every trial and
            rung shares.

    Returns:
        A function ``fit(trials, epochs, resume_from)``.
    """
    check.Instance(TrainSpec, "a TrainSpec").check("spec", spec)

    def fit(trials, epochs, resume_from):
        if resume_from is None:
            return train_batched(data, trials, epochs=epochs, **asdict(spec))
        return resume_batched(data, resume_from, epochs=epochs)

    return fit


#: The keys of a trial that :func:`train_fit` passes to :func:`nntrain.train.train`, its
#: keyword arguments other than ``epochs`` (``learning_rate``, ``momentum``, ...).
TRAIN_KEYS = tuple(inspect.signature(train).parameters)[2:]


def train_fit(data, build, **train_args):
    """The fit of :func:`halve` for any model that :func:`nntrain.train.train` trains, of
    either tree: each trial is trained on its own.

    In the first rung, ``build(trial)`` makes the trial's model (say a
    :class:`nntrain.reference.fc_net.FullyConnectedNet` or a
    :class:`nntrain.torch.fc_net.FullyConnectedNet` with the trial's ``weight_scale``), and
    ``train`` trains it with ``train_args`` and the trial's keys that are arguments of ``train``
    (:data:`TRAIN_KEYS`: ``learning_rate``, ``momentum``, ``batch_size``, ...). A kept trial goes on
    from its model's parameters for the epochs it lacks, its minibatch orders seeded by ``seed``
    plus the epochs done; the update rule's state (the momentum) starts afresh, so unlike
    :func:`batched_fit` this is not the run ``train`` would make in one call. ``keep_best`` defaults
    to False here, so that a trial goes on from its latest parameters. A trial whose loss explodes
    (:class:`~nntrain.train.TrainingDiverged`) is stopped.

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        build: a function of a trial that returns a new model.
        **train_args: arguments of :func:`nntrain.train.train` shared by every trial.

    Returns:
        A function ``fit(trials, epochs, resume_from)`` whose results are
        :class:`TrainedTrial`.
    """
    check.Function("a function of a trial that returns a new model").check("build", build)
    train_args = {"keep_best": False, **train_args}

    def fit(trials, epochs, resume_from):
        if resume_from is None:
            resume_from = [TrainedTrial(trial, build(trial), History()) for trial in trials]
        return [_train_on(result, data, epochs, train_args) for result in resume_from]

    return fit


def _train_on(result, data, epochs, train_args):
    """The :class:`TrainedTrial` ``result`` trained on to ``epochs`` epochs in all."""
    if result.stopped:
        return result
    done = len(result.history.val_acc)
    args = {**train_args, **{k: v for k, v in result.trial.items() if k in TRAIN_KEYS}}
    args["seed"] = args.get("seed", 0) + done
    try:
        more, stopped = train(result.model, data, epochs=epochs - done, **args), False
    except TrainingDiverged as diverged:
        more, stopped = diverged.history, True
    before = result.history
    history = History(
        loss=before.loss + more.loss,
        train_acc=before.train_acc + more.train_acc,
        val_acc=before.val_acc + more.val_acc,
        val_loss=before.val_loss + more.val_loss,
        seconds=before.seconds + more.seconds,
    )
    if history.val_acc:
        history.best_epoch = int(np.argmax(history.val_acc)) + 1
    return TrainedTrial(result.trial, result.model, history, stopped)


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
    """Successive halving over batched trials: :func:`halve` with the rungs of
    :func:`halving_schedule` ``(len(trials), min_epochs, max_epochs, eta)`` and
    :func:`batched_fit`.

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays).
        trials: a non-empty list of trial dicts (keys among
            :data:`~nntrain.search.batched.TRIAL_KEYS`), e.g. from
            :func:`~nntrain.search.spaces.random_search`.
        min_epochs: the smallest budget :math:`r`.
        max_epochs: the largest budget :math:`R`.
        eta: the factor :math:`\\eta`, an integer >= 2.
        hidden_dims, batch_size, momentum, seed, device, dtype: as for
            :func:`~nntrain.search.batched.train_batched`, shared by every trial and rung
            (:class:`~nntrain.search.batched.TrainSpec`).

    Returns:
        A :class:`HalvingResult`.

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
    trials = _trial_list(trials)
    schedule = halving_schedule(len(trials), min_epochs, max_epochs, eta)
    spec = TrainSpec(hidden_dims, batch_size, momentum, seed, device, dtype)
    return halve(trials, schedule, batched_fit(data, spec))


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
    """Hyperband (Li et al. 2018) over batched trials: one :func:`halve` per bracket of
    :func:`hyperband_schedule`, each on configurations drawn at random from ``space``.

    Bracket :math:`s` draws its :math:`n_s` configurations with
    :func:`~nntrain.search.spaces.random_search` (one generator for all brackets, so the
    brackets try different configurations) and halves them from :math:`r_s` to
    ``max_epochs`` with :func:`batched_fit`. The winner is the best of the bracket winners,
    all trained for ``max_epochs`` (highest validation accuracy, ties broken by the lower
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
    rng = check.generator("rng", rng)  # one generator for all brackets
    fit = batched_fit(data, TrainSpec(hidden_dims, batch_size, momentum, seed, device, dtype))
    draws = [random_search(space, bracket[0][0], rng) for bracket in schedule]
    brackets = [halve(trials, bracket, fit) for trials, bracket in zip(draws, schedule)]
    offsets = np.cumsum([0] + [len(b.trials) for b in brackets])
    best = max(range(len(brackets)), key=lambda b: _rank(brackets[b].best))
    return HyperbandResult(
        trials=[t for b in brackets for t in b.trials],
        results=[r for b in brackets for r in b.results],
        winner=int(offsets[best]) + brackets[best].winner,
        epochs_spent=sum(b.epochs_spent for b in brackets),
        brackets=brackets,
    )
