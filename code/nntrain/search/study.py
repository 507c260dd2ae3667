"""Searches with Optuna: an objective built from a search space, and studies stored in an
SQLite file, so that a search can be interrupted and resumed, and shared by workers.

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
  documented way to parallelize a search; SQLite serves a few processes on one machine (a
  cluster needs a database server such as PostgreSQL or MySQL, the same code with another
  URL).

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

import os

from .. import validation as check
from ..reference.fc_net import FullyConnectedNet
from ..train import TrainingDiverged, train
from .batched import STOP_FACTOR
from .spaces import Choice, IntUniform, LogUniform, Uniform, check_space

__all__ = ["OBJECTIVE_KEYS", "suggest", "optuna_objective", "create_study"]

#: The hyperparameters an objective's space may hold, the arguments of
#: :func:`nntrain.train.train` and of :class:`nntrain.reference.FullyConnectedNet` that a
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


def _check_objective_space(space):
    check_space(space)
    unknown = sorted(set(space) - set(OBJECTIVE_KEYS))
    if unknown:
        raise ValueError(
            f"space has unknown hyperparameters {unknown}; an objective varies "
            f"only {sorted(OBJECTIVE_KEYS)}"
        )
    for name, dim in space.items():
        if isinstance(dim, Choice):
            for option in dim.options:
                if option is not None and not isinstance(option, (bool, int, float, str)):
                    raise TypeError(
                        f"Optuna's categorical options must be None, bools, ints, "
                        f"floats or strings; space[{name!r}] holds {option!r}"
                    )
    if "batch_size" in space and isinstance(space["batch_size"], (Uniform, LogUniform)):
        raise TypeError(
            f"batch_size must be searched with IntUniform or Choice, got {space['batch_size']!r}"
        )


def optuna_objective(data, *, hidden_dims, epochs, space, seed=0, **fixed):
    """An Optuna objective: train a :class:`nntrain.reference.FullyConnectedNet` with the
    hyperparameters a trial suggests from ``space``; return the best validation accuracy.

    Each call samples the space with :func:`suggest`, trains with
    :func:`nntrain.train.train` (initial weights and minibatch order from ``seed``), and
    after every epoch reports the validation accuracy (``trial.report(acc, epoch)``), so that
    the study's pruner can stop an unpromising trial (it then ends as ``PRUNED``). A trial
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
    _check_objective_space(space)
    unknown = sorted(set(fixed) - set(OBJECTIVE_KEYS))
    if unknown:
        raise TypeError(
            f"optuna_objective got unexpected keyword arguments {unknown}; fixed "
            f"hyperparameters must be among {sorted(OBJECTIVE_KEYS)}"
        )
    both = sorted(set(fixed) & set(space))
    if both:
        raise ValueError(f"{both} are both searched (in space) and fixed; choose one")
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


def create_study(
    path, study_name, *, direction="maximize", sampler=None, pruner=None, timeout=30.0
):
    """Create an Optuna study stored in the SQLite file ``path``, or load it if it exists.

    The same call starts a search, resumes it after an interruption (every earlier trial is
    loaded from the file) and opens it in another worker process. It is
    ``optuna.create_study(storage=f"sqlite:///{path}", study_name=study_name,
    load_if_exists=True, ...)``, with SQLite told to wait up to ``timeout`` seconds for a
    lock held by another worker instead of failing at once.

    Args:
        path: the database file (created if missing; its folder must exist).
        study_name: the study's name; one file may hold several studies.
        direction: ``"maximize"`` (accuracies, the default) or ``"minimize"`` (losses).
        sampler: an ``optuna.samplers`` object, or None for Optuna's default (TPE). Workers
            sharing a study should not share a sampler seed, or they propose the same
            trials.
        pruner: an ``optuna.pruners`` object, or None for Optuna's default (median).
        timeout: seconds to wait for the database lock.

    Returns:
        An ``optuna.Study``.

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist.
        ValueError: an empty ``study_name``, an unknown ``direction``, or an existing study
            of that name whose direction differs.
    """
    optuna = _optuna()
    path = os.fspath(path)
    if not isinstance(study_name, str) or not study_name:
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}")
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"the folder of the study file {path!r} does not exist: {folder}")
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": timeout}}
    )
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction=direction,
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    if study.direction.name.lower() != direction:
        raise ValueError(
            f"the study {study_name!r} in {path} was created with direction "
            f"{study.direction.name.lower()!r}, not {direction!r}"
        )
    return study
