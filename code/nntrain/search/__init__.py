"""Hyperparameter optimization: search spaces, grid and random search, coarse-to-fine
refinement, many trials trained at once, and Optuna studies that survive interruptions.

The pieces, one module each:

* :mod:`nntrain.search.spaces`: the dimensions of a search space
  (:class:`~nntrain.search.spaces.LogUniform`, :class:`~nntrain.search.spaces.Uniform`,
  :class:`~nntrain.search.spaces.IntUniform`, :class:`~nntrain.search.spaces.Choice`) and the two
  classic strategies, :func:`~nntrain.search.spaces.grid_search` and
  :func:`~nntrain.search.spaces.random_search`, which return trials in one format.
* :mod:`nntrain.search.refine`: coarse to fine; :func:`~nntrain.search.refine.narrow` a space around
  the best trials, :func:`~nntrain.search.refine.edge_warnings` when a best value sits at the edge
  of its range, and :func:`~nntrain.search.refine.widen` to move that edge.
* :mod:`nntrain.search.batched`: :func:`~nntrain.search.batched.train_batched` trains K networks
  that differ in learning rate, ``reg`` and ``weight_scale`` in one batched computation (the math of
  the stacked nets is :mod:`nntrain.search.stacked`), stopping each diverging trial by the rule of
  :func:`~nntrain.search.batched.should_stop` (it then leaves the computation);
  :func:`~nntrain.search.batched.resume_batched` trains them further.
* :mod:`nntrain.search.halving`: multi-fidelity search with their schedules
  (:func:`~nntrain.search.halving.halving_schedule`,
  :func:`~nntrain.search.halving.hyperband_schedule`) and the trial-epochs they spend.
  :func:`~nntrain.search.halving.halve` runs successive halving (Jamieson & Talwalkar 2016) with any
  trainer given as a ``fit`` function: :func:`~nntrain.search.halving.batched_fit` resumes batched
  trials from rung to rung, :func:`~nntrain.search.halving.train_fit` trains any model of either
  tree with :func:`nntrain.train.train`. :func:`~nntrain.search.halving.successive_halving` and
  :func:`~nntrain.search.halving.hyperband` (Li et al. 2018) run them over batched trials.
* :mod:`nntrain.search.study`: :func:`~nntrain.search.study.optuna_objective` (built on
  :func:`~nntrain.search.study.suggest`) and :func:`~nntrain.search.study.create_study`, to run a
  search with Optuna, stored in an SQLite file that can be resumed and shared by several worker
  processes. Optuna is imported only when these are called.

Random rather than grid search, and ranges on a log scale, follow Bergstra & Bengio (2012),
*Random search for hyper-parameter optimization*, JMLR 13.

Every name is importable from ``nntrain.search`` directly::

    from nntrain.search import LogUniform, random_search, train_batched

Used in chapter 7 (hyperparameter optimization).
"""

from __future__ import annotations

from .batched import (
    TRIAL_KEYS,
    TrainSpec,
    TrialResult,
    resume_batched,
    should_stop,
    train_batched,
)
from .halving import (
    TRAIN_KEYS,
    HalvingResult,
    HyperbandResult,
    Rung,
    SearchResult,
    TrainedTrial,
    batched_fit,
    halve,
    halving_schedule,
    hyperband,
    hyperband_schedule,
    successive_halving,
    train_fit,
)
from .refine import edge_warnings, narrow, widen
from .spaces import Choice, IntUniform, LogUniform, Uniform, grid_search, random_search
from .study import OBJECTIVE_KEYS, create_study, optuna_objective, suggest

__all__ = [
    "Choice",
    "IntUniform",
    "LogUniform",
    "Uniform",
    "grid_search",
    "random_search",
    "edge_warnings",
    "narrow",
    "widen",
    "TRIAL_KEYS",
    "TrainSpec",
    "TrialResult",
    "should_stop",
    "train_batched",
    "resume_batched",
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
    "OBJECTIVE_KEYS",
    "create_study",
    "optuna_objective",
    "suggest",
]
