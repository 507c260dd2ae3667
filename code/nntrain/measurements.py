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
among them). Each chapter adds its measurements in its own section below.

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


# --- chapter 1: activations ---------------------------------------------------------------


# --- chapter 2: preprocessing -------------------------------------------------------------


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


# --- chapter 5: regularization ------------------------------------------------------------


# --- chapter 6: babysitting the learning process ------------------------------------------


# --- chapter 7: hyperparameter optimization -----------------------------------------------


# --- chapter 8: the optimization landscape ------------------------------------------------
