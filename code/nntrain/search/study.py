"""Searches with Optuna: an objective built from a search space, and studies stored in an
SQLite file or a database server, so that a search can be interrupted and resumed, and
shared by workers on one machine or many.

Optuna (https://optuna.org) proposes each trial's hyperparameters with a sampler (random,
or the tree-structured Parzen estimator that concentrates on the promising regions, its
default) and stops unpromising trials early with a pruner, from the intermediate values the
objective reports. Everything it learns lives in a *storage*; with a relational database
(here an SQLite file, ``sqlite:///path``) a study outlives the Python process:

* **Interrupted and resumed.** Run some trials, close the notebook, and later call
  :func:`create_study` with the same file and name: the study is loaded with every trial it
  had, and ``study.optimize`` adds to it.
* **Several workers.** Processes that open the same study in the same storage share it:
  each asks the storage for its next trial and records the result there. This is Optuna's
  documented way to parallelize a search; SQLite serves a few processes on one machine, and
  a database server (PostgreSQL, MySQL) serves machines that reach it over the network: the
  same call with a URL, e.g. ``create_study("postgresql+psycopg://user@host:5432/db",
  "digits")``.
* **Workers that die.** A worker killed mid-trial leaves its trial ``RUNNING`` for ever,
  unless the study has a heartbeat (``heartbeat_interval`` of :func:`create_study`): then
  the next trial any worker starts marks it ``FAIL``.
* **Successive halving and Hyperband.** The objective reports the validation accuracy of
  every epoch, so ``optuna.pruners.SuccessiveHalvingPruner`` and
  ``optuna.pruners.HyperbandPruner`` stop the trials that rank low at a rung (see
  :mod:`nntrain.search.halving` for the same algorithms over batched trials).

Optuna is an optional dependency of the package (the book's ``requirements.txt`` pins it):
it is imported when these functions are called, not when :mod:`nntrain.search` is.

Example::

    space = {"learning_rate": LogUniform(1e-3, 1e-1), "reg": LogUniform(1e-6, 1e-2)}
    study = create_study("search.db", "digits")         # created, or loaded if it exists
    study.optimize(optuna_objective(data, hidden_dims=[100], epochs=10, space=space),
                   n_trials=20)
    study.best_params                                   # {'learning_rate': ..., 'reg': ...}
"""

from __future__ import annotations

import math
import os
import re
from numbers import Integral

from .. import validation as check
from ..reference.fc_net import FullyConnectedNet
from ..train import TrainingDiverged, train
from .batched import STOP_FACTOR
from .spaces import Choice, IntUniform, LogUniform, Uniform, check_space

__all__ = [
    "OBJECTIVE_KEYS",
    "OPTUNA_OPTION",
    "BATCH_SIZE_RANGE",
    "suggest",
    "optuna_objective",
    "create_study",
]

#: The hyperparameters an objective's space may hold, the arguments of
#: :func:`nntrain.train.train` and of :class:`nntrain.reference.fc_net.FullyConnectedNet` that a
#: search varies. Those not in the space take the values given to
#: :func:`optuna_objective`, or these defaults.
OBJECTIVE_KEYS = {
    "learning_rate": 1e-2,
    "momentum": 0.9,
    "batch_size": 100,
    "lr_decay": 1.0,
    "reg": 0.0,
    "weight_scale": 1e-2,
}


def _optuna():
    try:
        import optuna
    except ImportError as err:  # pragma: no cover - optuna is pinned in requirements.txt
        raise ImportError(
            "nntrain.search.study needs Optuna: pip install optuna "
            "(the book pins optuna==5.0.0 in requirements.txt)"
        ) from err
    return optuna


def suggest(trial, space):
    """Ask an Optuna trial for one value per dimension of ``space``.

    :class:`~nntrain.search.spaces.LogUniform` becomes ``trial.suggest_float(name, low,
    high, log=True)``, :class:`~nntrain.search.spaces.Uniform` ``suggest_float``,
    :class:`~nntrain.search.spaces.IntUniform` ``suggest_int`` and
    :class:`~nntrain.search.spaces.Choice` ``suggest_categorical``.

    Args:
        trial: an ``optuna.Trial``.
        space: a dict of name -> dimension.

    Returns:
        A dict ``{name: value}``, the trial format of :func:`~nntrain.search.spaces.random_search`.
    """
    check_space(space)
    values = {}
    for name, dim in space.items():
        if isinstance(dim, LogUniform):
            values[name] = trial.suggest_float(name, dim.low, dim.high, log=True)
        elif isinstance(dim, Uniform):
            values[name] = trial.suggest_float(name, dim.low, dim.high)
        elif isinstance(dim, IntUniform):
            values[name] = trial.suggest_int(name, dim.low, dim.high)
        else:
            values[name] = trial.suggest_categorical(name, list(dim.options))
    return values


#: What Optuna can store as a categorical option, and how a batch size may be searched.
OPTUNA_OPTION = check.Instance(
    (type(None), bool, int, float, str),
    "None, a bool, an int, a float or a string (Optuna's categorical options)",
)
BATCH_SIZE_RANGE = check.Instance((IntUniform, Choice), "an IntUniform or a Choice")


def optuna_objective(data, *, hidden_dims, epochs, space, seed=0, **fixed):
    """An Optuna objective: train a :class:`nntrain.reference.fc_net.FullyConnectedNet` with the
    hyperparameters a trial suggests from ``space``; return the best validation accuracy.

    Each call samples the space with :func:`suggest`, trains with
    :func:`nntrain.train.train` (initial weights and minibatch order from ``seed``), and
    after every epoch reports the validation accuracy (``trial.report(acc, epoch)``), so that
    the study's pruner can stop an unpromising trial (it then ends as ``PRUNED``): with
    ``optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)`` or
    ``optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs,
    reduction_factor=3)``, whose resource is then the epoch, this is successive halving or
    Hyperband one trial at a time (Optuna's asynchronous versions). A trial
    whose loss explodes (more than three times its first value, the rule of
    :func:`~nntrain.search.batched.should_stop`, or NaN) is not an error: it returns the
    best validation accuracy of the epochs it completed (0.0 if none), and its user
    attribute ``"diverged"`` holds the reason.

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays, normalized).
        hidden_dims: widths of the hidden layers, e.g. ``[100]``.
        epochs: passes over the training set per trial.
        space: a dict of name -> dimension, names among :data:`OBJECTIVE_KEYS`.
        seed: seed of the initial weights and of the minibatch order, shared by all trials.
        **fixed: values for the hyperparameters of :data:`OBJECTIVE_KEYS` that are not
            searched, e.g. ``momentum=0.95``.

    Returns:
        A function of an ``optuna.Trial`` returning a float, higher for a better trial (so
        the study's direction is ``"maximize"``, the default of :func:`create_study`).
    """
    arrays, num_classes = check.classification_splits(data)
    input_dim = arrays["train"][0].shape[1]
    check.relu_net_sizes(hidden_dims, input_dim, num_classes)
    hidden_dims = list(hidden_dims)
    check.positive_int("epochs", epochs)
    check_space(space)
    check.unknown_keys("space", space, list(OBJECTIVE_KEYS))
    check.unknown_keys("the fixed hyperparameters", fixed, list(OBJECTIVE_KEYS))
    for name, dim in space.items():
        for i, option in enumerate(dim.options if isinstance(dim, Choice) else ()):
            OPTUNA_OPTION.check(f"space[{name!r}].options[{i}]", option)
    if "batch_size" in space:
        BATCH_SIZE_RANGE.check("space['batch_size']", space["batch_size"])
    both = sorted(set(fixed) & set(space))
    if both:
        raise check.InvalidArgument(f"{both} are both searched (in space) and fixed; choose one")
    defaults = {**OBJECTIVE_KEYS, **fixed}

    def objective(trial):
        optuna = _optuna()
        hp = {**defaults, **suggest(trial, space)}
        net = FullyConnectedNet(
            hidden_dims,
            input_dim=input_dim,
            num_classes=num_classes,
            weight_scale=hp["weight_scale"],
            reg=hp["reg"],
            seed=seed,
        )
        pruned = False

        def report(history):
            nonlocal pruned
            trial.report(history.val_acc[-1], len(history.val_acc))
            pruned = trial.should_prune()
            return pruned

        try:
            history = train(
                net,
                data,
                learning_rate=hp["learning_rate"],
                momentum=hp["momentum"],
                batch_size=int(hp["batch_size"]),
                epochs=epochs,
                lr_decay=hp["lr_decay"],
                seed=seed,
                keep_best=False,
                max_loss_ratio=STOP_FACTOR,
                until=report,
                progress=False,
            )
        except TrainingDiverged as err:
            trial.set_user_attr("diverged", str(err))
            return max(err.history.val_acc, default=0.0)
        if pruned:
            raise optuna.TrialPruned(
                f"pruned after epoch {len(history.val_acc)} at validation "
                f"accuracy {history.val_acc[-1]:.3f}"
            )
        return max(history.val_acc)

    return objective


#: The start of a database URL (``dialect+driver://``), as SQLAlchemy writes them.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _storage(storage, timeout):
    """``(url, where, connect_args)`` of a study's ``storage``: a database URL, or an SQLite
    file path whose folder exists; ``where`` names it in messages, without a password."""
    if isinstance(storage, str) and _URL.match(storage):
        url = storage
        where = re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)  # no password in messages
    else:
        path = os.fspath(storage)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"the folder of the study file {path!r} does not exist: {folder}"
            )
        url, where = f"sqlite:///{path}", path
    if url.startswith("sqlite"):
        connect_args = {"timeout": timeout}
    elif url.startswith("postgresql"):
        connect_args = {"connect_timeout": max(1, math.ceil(timeout))}
    else:
        connect_args = {}
    return url, where, connect_args


@check.declared(
    direction=check.Options("maximize", "minimize"),
    timeout=check.POSITIVE,
    heartbeat_interval=check.Interval(Integral, 1, None, none=True),
    grace_period=check.Interval(Integral, 1, None, none=True),
)
def create_study(
    storage,
    study_name,
    *,
    direction="maximize",
    sampler=None,
    pruner=None,
    timeout=30.0,
    heartbeat_interval=None,
    grace_period=None,
):
    """Create an Optuna study in an SQLite file or a database server, or load it if it
    exists.

    The same call starts a search, resumes it after an interruption (every earlier trial is
    loaded from the storage) and opens it in another worker process, on this machine or,
    with a database server, on another one. It is ``optuna.create_study(storage=...,
    study_name=study_name, load_if_exists=True, ...)`` on an
    ``optuna.storages.RDBStorage``:

    * a file path is the SQLite database ``sqlite:///path``, told to wait up to ``timeout``
      seconds for a lock held by another worker instead of failing at once;
    * a URL is passed as it is, e.g. ``postgresql+psycopg://user:password@host:5432/db``
      (PostgreSQL through psycopg 3, pinned in the book's requirements; the database must
      exist, Optuna creates its tables) or ``mysql+pymysql://...``; for PostgreSQL,
      ``timeout`` bounds the wait for a connection.

    **Heartbeat.** A worker killed mid-trial (a preempted node, a closed laptop) cannot
    mark its trial finished, and Optuna leaves it ``RUNNING``. With ``heartbeat_interval``
    every running trial records a heartbeat in the storage that often (a thread of the
    worker), and each worker, before it starts a trial in ``study.optimize``, marks
    ``FAIL`` every trial whose last heartbeat is older than ``grace_period``
    (``optuna.storages.fail_stale_trials``): the interrupted trial is not lost, and the
    study goes on. To run it again, give the storage Optuna's
    ``optuna.storages.RetryFailedTrialCallback`` (build the ``RDBStorage`` yourself).

    **Shared file systems.** Without a database server, machines that share a folder over
    NFS can share a study through Optuna's journal storage instead:
    ``optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))``,
    an append-only log of operations guarded by a lock file, which works where SQLite's
    ``fcntl`` locks are unreliable (as on many NFS mounts); pass it to
    ``optuna.create_study(storage=..., load_if_exists=True)``. It has no heartbeat.

    Args:
        storage: the database file (a path, created if missing; its folder must exist), or
            a database URL (``dialect+driver://...``).
        study_name: the study's name; one database may hold several studies.
        direction: ``"maximize"`` (accuracies, the default) or ``"minimize"`` (losses).
        sampler: an ``optuna.samplers`` object, or None for Optuna's default (TPE). Workers
            sharing a study should not share a sampler seed, or they propose the same
            trials.
        pruner: an ``optuna.pruners`` object, or None for Optuna's default (median).
        timeout: seconds to wait for SQLite's lock, or for a PostgreSQL connection.
        heartbeat_interval: seconds between a running trial's heartbeats, a positive
            integer; None (the default) records none (Optuna marks it experimental).
        grace_period: seconds without a heartbeat after which a running trial is stale, a
            positive integer; None gives Optuna's default, twice ``heartbeat_interval``.

    Returns:
        An ``optuna.Study``.

    Raises:
        FileNotFoundError: the folder of a ``storage`` path does not exist.
        TypeError: ``storage`` is neither a path nor a URL.
        ValueError: an empty ``study_name``, an unknown ``direction``, a bad heartbeat, or
            an existing study of that name whose direction differs.
    """
    optuna = _optuna()
    if not isinstance(storage, (str, os.PathLike)):
        raise check.InvalidArgument(
            f"storage must be a file path or a database URL such as "
            f"'postgresql+psycopg://user@host:5432/db', got {type(storage).__name__}"
        )
    if not isinstance(study_name, str) or not study_name:
        raise check.InvalidArgument(f"study_name must be a non-empty string, got {study_name!r}")
    if grace_period is not None and heartbeat_interval is None:
        raise check.InvalidArgument(
            f"grace_period needs heartbeat_interval (a study without heartbeats has no "
            f"stale trials), got grace_period={grace_period!r} alone"
        )
    url, where, connect_args = _storage(storage, timeout)
    rdb = optuna.storages.RDBStorage(
        url,
        engine_kwargs={"connect_args": connect_args},
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
    )
    study = optuna.create_study(
        storage=rdb,
        study_name=study_name,
        direction=direction,
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    if study.direction.name.lower() != direction:
        raise check.InvalidArgument(
            f"the study {study_name!r} in {where} was created with direction "
            f"{study.direction.name.lower()!r}, not {direction!r}"
        )
    return study
