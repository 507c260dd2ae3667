r"""Update rules run on a bowl: :func:`trajectory` and :func:`iterations_to` run any rule of
the cs231n form ``rule(w, dw, config) -> (next_w, config)`` (:mod:`nntrain.reference.optim`)
on a :class:`~nntrain.landscape.bowls.Quadratic` (or any problem with a ``gradient(w)``
method), to check it against the closed-form rates of :mod:`nntrain.landscape.bowls`.
:func:`rule_arguments` and :func:`iterates` are the checks and the loop they share with
:func:`~nntrain.landscape.saddles.escape_steps`.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import validation
from .bowls import Quadratic

__all__ = ["DIVERGED", "CONFIG", "iterates", "rule_arguments", "trajectory", "iterations_to"]

#: :func:`iterations_to` gives up (returns None) once the distance to the minimum has grown
#: to this many times its starting value: the rule diverges, and stopping there keeps the
#: iterates from overflowing.
DIVERGED = 1e8


#: An update rule's ``config``, a dict of hyperparameters (and state), or None for the
#: rule's defaults.
CONFIG = validation.Instance(dict, "a dict such as {'learning_rate': 0.1}", none=True)


def _step(rule, w, dw, config):
    """One step of ``rule``, its result checked."""
    out = rule(w, dw, config)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise validation.InvalidArgument(
            f"rule must return (next_w, config), got {type(out).__name__} from "
            f"{getattr(rule, '__name__', rule)}"
        )
    next_w, config = out
    if not (isinstance(next_w, np.ndarray) and next_w.shape == w.shape):
        raise validation.InvalidArgument(
            f"rule must return next_w of shape {w.shape} like w, got "
            f"{getattr(next_w, 'shape', type(next_w).__name__)}"
        )
    if not isinstance(config, dict):
        raise validation.InvalidArgument(
            f"rule must return its config as a dict, got {type(config).__name__}"
        )
    return next_w, config


def iterates(problem, rule, config, w0, noise=0.0, rng=None):
    """Yield ``w_1, w_2, ...`` from ``w0``: each step feeds ``rule`` the gradient of
    ``problem`` (plus ``noise`` times a standard normal vector)."""
    w = np.array(w0, dtype=np.float64)  # a copy: a rule may update w in place
    while True:
        dw = problem.gradient(w)
        if noise:
            dw = dw + noise * rng.standard_normal(w.shape)
        w, config = _step(rule, w, dw, config)
        yield w


def rule_arguments(problem, rule, config, w0):
    """Check the arguments of a run of ``rule`` on ``problem`` (an object with a
    ``gradient(w)`` method): returns a deep copy of ``config`` and ``w0`` as a float64
    point of the problem."""
    if not callable(getattr(problem, "gradient", None)):
        raise validation.InvalidArgument(
            "quadratic must be a Quadratic, a Saddle or another object with a gradient(w) "
            f"method, got {type(problem).__name__}"
        )
    validation.function("rule", rule, "an update rule rule(w, dw, config) -> (next_w, config)")
    # A deep copy, so that the rule's state (velocity, caches) never leaks back to the caller.
    config = copy.deepcopy(CONFIG.check("config", config)) or {}
    w0 = validation.vector("w0", w0, getattr(problem, "dim", None))
    g = np.asarray(problem.gradient(w0))
    if g.shape != w0.shape:
        raise validation.InvalidArgument(
            f"w0 must be a point of the problem, whose gradient there has shape {g.shape}; "
            f"got w0 of shape {w0.shape}"
        )
    return config, w0


def trajectory(quadratic, rule, config, w0, steps):
    r"""The iterates of an update rule on a bowl (or any problem with a gradient).

    .. math::
        w_{t+1} = \mathrm{rule}(w_t, \nabla f(w_t), \mathrm{config}_t), \qquad
        t = 0, \dots, \mathrm{steps} - 1.

    Args:
        quadratic: a :class:`~nntrain.landscape.bowls.Quadratic`, the
            :class:`~nntrain.landscape.saddles.Saddle`, or any object with a ``gradient(w)``
            method.
        rule: ``rule(w, dw, config) -> (next_w, config)``, the cs231n form of
            :mod:`nntrain.reference.optim`; it may update ``w`` in place.
        config: the rule's hyperparameters (``{"learning_rate": 0.1, "momentum": 0.9}``),
            or None for the rule's defaults. It is deep-copied: the caller's dict, and any
            state in it, is left unchanged.
        w0: the starting point, shape ``(d,)``.
        steps: the number of updates, ``>= 0``.

    Returns:
        The iterates :math:`w_0, \dots, w_{steps}`, an array of shape ``(steps + 1, d)``.

    Example:
        >>> def sgd(w, dw, config):
        ...     return w - config["learning_rate"] * dw, config
        >>> path = trajectory(Quadratic([1.0, 4.0]), sgd, {"learning_rate": 0.25}, [1, 1], 2)
        >>> path.tolist()
        [[1.0, 1.0], [0.75, 0.0], [0.5625, 0.0]]
    """
    config, w0 = rule_arguments(quadratic, rule, config, w0)
    steps = validation.non_negative_int("steps", steps)
    path = np.empty((steps + 1, w0.size))
    path[0] = w0
    for t, w in zip(range(1, steps + 1), iterates(quadratic, rule, config, w0)):
        path[t] = w
    return path


def iterations_to(quadratic, rule, config, w0, tol, max_steps):
    r"""The number of steps an update rule takes to come within ``tol`` of the minimum.

    .. math::
        t^* = \min\{t \ge 0 : \lVert w_t - w^* \rVert \le \mathrm{tol}\}.

    The distance (rather than :math:`f - f^*`) makes the count of a method of rate
    :math:`r` about :math:`\ln(\lVert w_0 - w^*\rVert / \mathrm{tol}) / (-\ln r)`; exactly
    so for gradient descent at :func:`~nntrain.landscape.bowls.gd_optimal`'s step on a 2-D
    bowl, where both eigen-directions shrink by :math:`r` at every step.

    Args:
        quadratic: a :class:`~nntrain.landscape.bowls.Quadratic`.
        rule, config, w0: as in :func:`trajectory`.
        tol: the distance to reach, ``> 0``.
        max_steps: the most steps to try, ``>= 0``.

    Returns:
        :math:`t^*` as an int, or None if it is not reached within ``max_steps`` steps, or
        if the distance grows past :data:`DIVERGED` times its start (the rule diverges).
    """
    if not isinstance(quadratic, Quadratic):
        raise validation.InvalidArgument(
            "quadratic must be a Quadratic (whose minimum is known), got "
            f"{type(quadratic).__name__}"
        )
    config, w0 = rule_arguments(quadratic, rule, config, w0)
    validation.positive("tol", tol)
    max_steps = validation.non_negative_int("max_steps", max_steps)
    start = float(np.linalg.norm(w0 - quadratic.center))
    if start <= tol:
        return 0
    for t, w in zip(range(1, max_steps + 1), iterates(quadratic, rule, config, w0)):
        distance = float(np.linalg.norm(w - quadratic.center))
        if distance <= tol:
            return t
        if not distance <= DIVERGED * start:  # also catches NaN
            return None
    return None
