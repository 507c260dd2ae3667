"""The package's own measurement behind each chapter's graded experiment.

A graded experiment asks the student for a function that runs a small experiment and returns
one number, e.g. ``my_experiment(seed)``: the validation accuracy of a net trained with some
setting, the share of dead units at some depth. :func:`nntrain.checks.check_measurement`
calls the student's function at the exercise's settings (and, when a teacher grades, at
others) and compares each number with the function registered here under the same name.

Registering one takes a decorator: the name the exercise uses, the relative tolerance (a
different but correct way of running the same experiment must land inside it: float64 NumPy
against float64 torch, a loop against a vectorized line), and the modules whose code answers
the exercise outright, which the student's experiment must not call (this module is always
among them). Each chapter adds its measurements in its own section below, and their
names to ``__all__``.

Example:
    >>> @measurement("doctest_mean_of_normals", tol=1e-12)
    ... def mean_of_normals(seed, n=5):
    ...     return float(np.random.default_rng(seed).standard_normal(n).mean())
    >>> MEASUREMENTS["doctest_mean_of_normals"].compute(seed=0) == mean_of_normals(0)
    True
    >>> del MEASUREMENTS["doctest_mean_of_normals"]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np  # noqa: F401 (the chapters' measurements below use it)

__all__ = [
    "Measurement",
    "MEASUREMENTS",
    "measurement",
    # each chapter's measurements, in the order of the sections below
    "moons_overfitting_gap",
    "dead_relu_share",
    "lda_validation_accuracy",
    "last_layer_std",
    "train_mode_cost",
    "elastic_net_sparsity",
    "input_independent_accuracies",
    "input_independent_gap",
    "coarse_to_fine_gain",
    "interpolation_barrier",
]


@dataclass(frozen=True)
class Measurement:
    """What :func:`nntrain.checks.check_measurement` compares a student's experiment with."""

    compute: Callable[..., float]
    tol: float
    solved_by: tuple[str, ...]


#: name -> :class:`Measurement`, filled by :func:`measurement`.
MEASUREMENTS: dict[str, Measurement] = {}


def measurement(name: str, *, tol: float, solved_by: tuple[str, ...] = ()):
    """Register ``compute(**setting) -> float`` as the package's measurement ``name``."""
    if name in MEASUREMENTS:
        raise ValueError(f"a measurement named {name!r} is already registered")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be a relative tolerance in (0, 1), got {tol!r}")

    def register(compute):
        MEASUREMENTS[name] = Measurement(compute, tol, (__name__, *solved_by))
        return compute

    return register


# --- chapter 0: a network end to end ------------------------------------------------------


@measurement("moons_overfitting_gap", tol=1e-6)
def moons_overfitting_gap(seed, hidden_units):
    """Chapter 0: training minus validation accuracy of the capacity slider's net without
    regularization, ``FullyConnectedNet([hidden_units, hidden_units], 2, 2,
    weight_scale=0.5, seed=seed)``, trained on the first 100 points of ``make_moons(600,
    noise=0.3, random_state=0)`` and validated on the other 500: 60 epochs of SGD with
    momentum at learning rate 0.03, batches of 10 shuffled with ``seed``, the net as
    training leaves it (not its best epoch). The same steps give the same number to
    rounding."""
    from sklearn.datasets import make_moons

    from .reference import FullyConnectedNet
    from .train import train

    X, y = make_moons(600, noise=0.3, random_state=0)
    moons = dict(X_train=X[:100], y_train=y[:100], X_val=X[100:], y_val=y[100:])
    net = FullyConnectedNet([hidden_units, hidden_units], 2, 2, weight_scale=0.5, seed=seed)
    history = train(
        net,
        moons,
        learning_rate=0.03,
        epochs=60,
        batch_size=10,
        keep_best=False,
        seed=seed,
        progress=False,
    )
    return float(history.train_acc[-1] - history.val_acc[-1])


# --- chapter 1: activations ---------------------------------------------------------------


@measurement("dead_relu_share", tol=1e-9)
def dead_relu_share(seed, learning_rate, epochs=3):
    """Chapter 1: the fraction of the hidden units of a 64-50-50-10 ReLU net (He's scale,
    ``seed``) that are dead on the training digits (pixels divided by 16) after ``epochs``
    of SGD with momentum at ``learning_rate``, batches of 50 shuffled with ``seed``, the net
    as training leaves it (not its best epoch): a unit is dead when its pre-activation is at
    most 0 on every training example."""
    from .data import load_digits_split
    from .diagnostics import record, summarize
    from .reference import FullyConnectedNet
    from .train import train

    digits = load_digits_split(seed=0)
    digits = {k: v / 16 if k.startswith("X") else v for k, v in digits.items()}
    net = FullyConnectedNet([50, 50], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
    train(
        net,
        digits,
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=50,
        seed=seed,
        keep_best=False,
        progress=False,
        train_accuracy=False,
    )
    return float(np.mean([s.dead for s in summarize(record(net, digits["X_train"]))]))


# --- chapter 2: preprocessing -------------------------------------------------------------


@measurement("lda_validation_accuracy", tol=1e-6)
def lda_validation_accuracy(seed):
    """Chapter 2: the best validation accuracy of a 9-100-10 ReLU net (He's scale, ``seed``)
    on digits projected by linear discriminant analysis fitted on the training digits alone.
    The split is ``load_digits_split(seed=seed)``; one generator,
    ``np.random.default_rng(seed)``, keeps 100 training digits, then 100 validation digits
    (``choice(n, 100, replace=False)`` on each split); scikit-learn's
    ``LinearDiscriminantAnalysis()`` is fitted on the kept training digits and their labels;
    the net trains at learning rate 0.01 for 30 epochs in batches of 25 shuffled with
    ``seed``. The same steps give the same number to rounding; the accuracy on the test
    digits, a few thousandths away, does not pass."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from .data import load_digits_split
    from .reference import FullyConnectedNet
    from .train import train

    split = load_digits_split(seed=seed)
    rng = np.random.default_rng(seed)
    data = {}
    for part in ("train", "val"):
        keep = rng.choice(len(split[f"X_{part}"]), 100, replace=False)
        data[f"X_{part}"], data[f"y_{part}"] = split[f"X_{part}"][keep], split[f"y_{part}"][keep]
    lda = LinearDiscriminantAnalysis().fit(data["X_train"], data["y_train"])
    data = {k: lda.transform(v) if k.startswith("X") else v for k, v in data.items()}
    net = FullyConnectedNet([100], 9, 10, weight_scale=np.sqrt(2 / 9), seed=seed)
    history = train(
        net,
        data,
        learning_rate=0.01,
        epochs=30,
        batch_size=25,
        seed=seed,
        progress=False,
        train_accuracy=False,
    )
    return float(max(history.val_acc))


# --- chapter 3: initialization ------------------------------------------------------------


@measurement("last_layer_std", tol=1e-9)
def last_layer_std(seed, scale, depth=10, width=100, n=200):
    """Chapter 3: the standard deviation of the last hidden layer's activations in a
    ``depth`` x ``width`` tanh net with weights ``scale`` x N(0, 1) and zero biases, fed
    ``n`` examples of unit-variance noise. One generator, ``np.random.default_rng(seed)``,
    draws the noise first, shape ``(n, width)``, then each weight matrix, ``(width, width)``,
    from the first layer to the last."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, width))
    for _ in range(depth):
        h = np.tanh(h @ (scale * rng.standard_normal((width, width))))
    return float(h.std())


# --- chapter 4: batch normalization -------------------------------------------------------


@measurement("train_mode_cost", tol=1e-9)
def train_mode_cost(seed, batch=8, epochs=2):
    """Chapter 4: what classifying in train mode costs a batch-normalized net, in validation
    accuracy (test mode minus train mode).

    The 64-100-100-100-10 ReLU net (``FullyConnectedNet``, batch normalization before each
    ReLU, weight scale sqrt(2/64), ``seed``) trains on the standardized digits
    (``load_digits_split(seed=0)``, each pixel standardized with the training split's mean
    and standard deviation) with ``train`` at learning rate 0.05 for ``epochs`` epochs in
    batches of 50 shuffled with ``seed``. The validation digits are then classified in the
    order ``np.random.default_rng(seed).permutation(n)``, in consecutive batches of
    ``batch`` (the last one may be smaller), once in each mode, each mode starting from the
    running statistics that training left (a train-mode pass updates them).
    """
    import copy

    from .data import load_digits_split, map_inputs
    from .reference import FullyConnectedNet
    from .reference.preprocessing import Standardize
    from .train import train

    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    net = FullyConnectedNet(
        [100, 100, 100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed, normalization="batchnorm"
    )
    train(net, data, learning_rate=0.05, epochs=epochs, batch_size=50, seed=seed, progress=False)
    X, y = data["X_val"], data["y_val"]
    order = np.random.default_rng(seed).permutation(len(X))
    trained = copy.deepcopy(net.bn_params)
    accuracy = {}
    for mode in ("test", "train"):
        net.bn_params = copy.deepcopy(trained)
        batches = [order[i : i + batch] for i in range(0, len(X), batch)]
        correct = sum(
            np.sum(net.forward(X[b], mode=mode)[0].argmax(axis=1) == y[b]) for b in batches
        )
        accuracy[mode] = correct / len(X)
    return float(accuracy["test"] - accuracy["train"])


# --- chapter 5: regularization ------------------------------------------------------------


def _standardized_digits():
    """The digits of chapters 5 and 6: ``load_digits_split(seed=0)``, each pixel standardized
    with the training split's mean and standard deviation."""
    from .data import load_digits_split, map_inputs
    from .reference.preprocessing import Standardize

    raw = load_digits_split(seed=0)
    return map_inputs(raw, Standardize().fit(raw["X_train"]).transform)


@measurement("elastic_net_sparsity", tol=1e-3)
def elastic_net_sparsity(seed, reg=2e-2, l1_share=0.5, epochs=5):
    """Chapter 5: the share of first-layer weights that are exactly 0 after training the
    64-100-10 ReLU net (``FullyConnectedNet``, weight scale sqrt(2/64), ``seed``, no penalty
    of its own) on the standardized digits with the elastic net applied proximally.

    Each of ``epochs`` epochs visits the training digits in the order
    ``rng.permutation(n)``, with one ``rng = np.random.default_rng(seed)`` for the run, in
    minibatches of 50; each step moves every parameter by plain SGD (lr 0.05), the weights
    with the L2 part's gradient added and then soft-thresholded by the L1 part:
    ``W <- soft_threshold(W - lr (dW + reg (1 - l1_share) W), lr reg l1_share)``.
    """
    from .reference import FullyConnectedNet
    from .reference.penalties import soft_threshold

    digits, lr = _standardized_digits(), 0.05
    X, y = digits["X_train"], digits["y_train"]
    net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 50):
            idx = order[start : start + 50]
            _, grads = net.loss(X[idx], y[idx])
            for k, w in net.params.items():
                if k.startswith("W"):
                    step = w - lr * (grads[k] + reg * (1 - l1_share) * w)
                    net.params[k] = soft_threshold(step, lr * reg * l1_share)
                else:
                    net.params[k] = w - lr * grads[k]
    return float(np.mean(net.params["W1"] == 0))


# --- chapter 6: babysitting the learning process ------------------------------------------


def input_independent_accuracies(seed, epochs=3):
    """Chapter 6: Karpathy's input-independent baseline beside the real run.

    The 64-100-10 ReLU net (``FullyConnectedNet``, weight scale sqrt(2/64), ``seed``) is
    trained by ``train`` (lr 0.03, minibatches of 50 shuffled with ``seed``, ``epochs``
    epochs, ``keep_best=False``) twice: on the standardized digits, and on the same digits
    with every input of every split set to 0. Returns the final validation accuracy of each,
    ``(real, baseline)``.
    """
    from .data import map_inputs
    from .reference import FullyConnectedNet
    from .train import train

    digits = _standardized_digits()
    accuracies = []
    for data in (digits, map_inputs(digits, np.zeros_like)):
        net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
        hist = train(
            net,
            data,
            learning_rate=0.03,
            epochs=epochs,
            batch_size=50,
            seed=seed,
            keep_best=False,
            progress=False,
        )
        accuracies.append(hist.val_acc[-1])
    return tuple(accuracies)


@measurement("input_independent_gap", tol=1e-3)
def input_independent_gap(seed, epochs=3):
    """Chapter 6: validation accuracy with the real inputs minus the input-independent
    baseline's (:func:`input_independent_accuracies`)."""
    real, baseline = input_independent_accuracies(seed, epochs)
    return real - baseline


# --- chapter 7: hyperparameter optimization -----------------------------------------------


@measurement("coarse_to_fine_gain", tol=1e-9)
def coarse_to_fine_gain(seed, n=16, keep=0.25, epochs=2):
    """Chapter 7: what one coarse-to-fine step gains, the fine stage's median best
    validation accuracy minus the coarse stage's, both stages of ``n`` trials trained for
    ``epochs`` epochs.

    The trials are those of the chapter's coarse space (learning rate log-uniform in
    [1e-5, 10], regularization in [1e-6, 1], weight scale in [1e-3, 1]), drawn by
    ``random_search`` with one generator, ``np.random.default_rng(seed)``: the coarse
    trials first, then the fine ones from ``narrow(space, coarse trials, coarse scores,
    keep=keep)``. Each stage trains with ``train_batched`` (hidden layer of 50, batches of
    50, ``seed``, its other defaults) on the standardized digits (``load_digits_split
    (seed=0)``, standardized with the training split's statistics); a trial's score is its
    best validation accuracy, 0 where it is NaN.
    """
    from .data import load_digits_split, map_inputs
    from .reference.preprocessing import Standardize
    from .search import LogUniform, narrow, random_search, train_batched

    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    space = {
        "learning_rate": LogUniform(1e-5, 10.0),
        "reg": LogUniform(1e-6, 1.0),
        "weight_scale": LogUniform(1e-3, 1.0),
    }
    rng = np.random.default_rng(seed)

    def scores(trials):
        results = train_batched(
            data, trials, hidden_dims=[50], epochs=epochs, batch_size=50, seed=seed
        )
        return np.nan_to_num([r.best_val_acc for r in results])

    coarse = random_search(space, n, rng)
    coarse_scores = scores(coarse)
    fine = random_search(narrow(space, coarse, coarse_scores, keep=keep), n, rng)
    return float(np.median(scores(fine)) - np.median(coarse_scores))


# --- chapter 8: the optimization landscape ------------------------------------------------


@measurement("interpolation_barrier", tol=1e-6, solved_by=("nntrain.landscape.slices",))
def interpolation_barrier(seed, epochs=5):
    """The loss barrier between two trained digits nets (chapter 8's Exercise 5): two 64-16-10
    ReLU nets trained from seeds ``seed`` and ``seed + 1``, the training loss at 11 evenly
    spaced points of the straight line between their parameters, the highest over the larger
    of the two endpoints'."""
    from .data import load_digits_split, map_inputs
    from .landscape.params import flatten_params, loss_at
    from .reference import FullyConnectedNet
    from .reference.preprocessing import Standardize
    from .train import train

    digits = load_digits_split(seed=0)
    digits = map_inputs(digits, Standardize().fit(digits["X_train"]).transform)
    ends = []
    for s in (seed, seed + 1):
        net = FullyConnectedNet([16], 64, 10, weight_scale=np.sqrt(2 / 64), seed=s)
        train(
            net, digits, learning_rate=0.05, epochs=epochs, batch_size=50, seed=s, keep_best=False
        )
        ends.append(flatten_params(net))
    loss_fn = loss_at(net, digits["X_train"], digits["y_train"])
    losses = [loss_fn((1 - a) * ends[0] + a * ends[1]) for a in np.linspace(0, 1, 11)]
    return max(losses) / max(losses[0], losses[-1])
