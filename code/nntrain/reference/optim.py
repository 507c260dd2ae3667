r"""Update rules, NumPy reference (cs231n convention): how a parameter moves, given its gradient.

Every rule has the signature ``rule(w, dw, config=None) -> (next_w, config)``. ``w`` is a
parameter, ``dw`` the gradient of the loss with respect to it, and ``config`` a dict that
holds the rule's hyperparameters and its state between calls, under cs231n's keys: a
missing hyperparameter gets cs231n's default (``config.setdefault``, the values in
:data:`DEFAULTS`), a missing array of state (:data:`STATE`) starts at zeros. The rule
returns a new array ``next_w`` (``w`` itself is left as it is) and the same ``config`` dict,
updated. The state belongs to one parameter, so a training loop keeps one config per
parameter, as cs231n's ``Solver`` and :func:`nntrain.train.train` do:

>>> import numpy as np
>>> w, config = np.ones(3), {"learning_rate": 0.1}
>>> for _ in range(2):
...     w, config = sgd_momentum(w, 2 * w, config)   # the gradient of |w|^2
>>> w, sorted(config)
(array([0.46, 0.46, 0.46]), ['learning_rate', 'momentum', 'velocity'])

Every rule checks its inputs (``w`` and ``dw`` float arrays of one shape, ``config`` a dict
of the rule's keys with values in range) and raises a ``TypeError`` or ``ValueError`` that
names what is wrong; each rule's docstring lists only its ``config`` keys. Below,
:math:`\eta` is the learning rate, :math:`g` the gradient ``dw`` and every operation on
arrays is elementwise.

**cs231n's conventions and PyTorch's.** The rules compute what ``torch.optim`` computes, in
cs231n's notation; two differences matter.

* *Momentum.* cs231n keeps a velocity already scaled by the learning rate,
  :math:`v \leftarrow \mu v - \eta g,\ w \leftarrow w + v`; ``torch.optim.SGD`` keeps a
  buffer of gradients, :math:`b \leftarrow \mu b + g,\ w \leftarrow w - \eta b`. At a
  constant rate :math:`v = -\eta b` at every step, and the two trajectories are the same.
  Once the rate changes (a decay schedule) they part: cs231n's velocity still carries the
  steps taken at the old rate, while PyTorch's buffer, which is not scaled by :math:`\eta`,
  is multiplied by the new rate at once. The same holds for Nesterov momentum.
* *Epsilon.* Both add :math:`\epsilon` outside the square root,
  :math:`g / (\sqrt{\cdot} + \epsilon)`, in Adagrad, RMSprop and Adam; only the defaults
  differ (``torch.optim.Adagrad`` takes ``eps=1e-10``, :func:`adagrad` 1e-8).

The names map as ``learning_rate`` = ``lr``, ``decay_rate`` = RMSprop's ``alpha``,
``beta1, beta2`` = ``betas``, ``epsilon`` = ``eps``. The PyTorch twin
:mod:`nntrain.torch.optim` has the same rules on tensors, and ``torch.optim``-style
optimizers.

Used in chapter 8 (the optimization landscape).
"""

from __future__ import annotations

import numpy as np

from .. import validation as check

__all__ = [
    "DEFAULTS",
    "STATE",
    "sgd",
    "sgd_momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "RULES",
]

#: The hyperparameters of every rule, with cs231n's defaults (and Adam's step count ``t``).
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0},
    "adamw": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "t": 0,
        "weight_decay": 1e-2,
    },
}

#: The arrays of state every rule keeps in ``config``, each of the shape of ``w``.
STATE = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "nesterov": ("velocity",),
    "adagrad": ("cache",),
    "rmsprop": ("cache",),
    "adam": ("m", "v"),
    "adamw": ("m", "v"),
}


def _config(rule, w, dw, config):
    """``config`` checked with ``w`` and ``dw``, completed with the defaults of ``rule``."""
    return check.update_inputs(w, dw, config, check.ndarray, DEFAULTS[rule], STATE[rule])


def sgd(w, dw, config=None):
    r"""Vanilla stochastic gradient descent: a step against the gradient.

    .. math::
        w \leftarrow w - \eta\, g.

    Robbins and Monro (1951), *A stochastic approximation method*.

    Config: ``learning_rate`` :math:`\eta > 0` (default 1e-2).

    Example:
        >>> sgd(np.array([1.0, 2.0]), np.array([1.0, -1.0]))[0]
        array([0.99, 2.01])
    """
    config = _config("sgd", w, dw, config)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    r"""SGD with (classical) momentum: the step is a velocity that keeps going.

    .. math::
        v \leftarrow \mu v - \eta\, g, \qquad w \leftarrow w + v.

    Polyak (1964), *Some methods of speeding up the convergence of iteration methods*. Along
    a direction where the gradient keeps its sign the velocity builds up to
    :math:`-\eta g / (1 - \mu)`, ten plain steps for :math:`\mu = 0.9`; where it flips,
    the steps cancel. Same trajectory as ``torch.optim.SGD(momentum=mu)`` at a
    constant rate (see the module docstring).

    Config: ``learning_rate`` :math:`\eta > 0` (default 1e-2), ``momentum``
    :math:`\mu \in [0, 1)` (default 0.9) and ``velocity`` :math:`v`, an array of the shape of
    ``w`` (zeros at the start).
    """
    config = _config("sgd_momentum", w, dw, config)
    v = config.setdefault("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov(w, dw, config=None):
    r"""SGD with Nesterov momentum: the gradient is taken where momentum is heading.

    Nesterov's update evaluates the gradient at the look-ahead point
    :math:`\theta + \mu v`. Written for the look-ahead variable :math:`w = \theta + \mu v`
    itself, so that ``dw`` is the gradient at ``w`` (the rewriting of cs231n's notes),

    .. math::
        v_{prev} = v, \qquad v \leftarrow \mu v - \eta\, g, \qquad
        w \leftarrow w - \mu\, v_{prev} + (1 + \mu)\, v.

    Nesterov (1983), *A method for solving the convex programming problem with convergence
    rate O(1/k^2)*; Sutskever, Martens, Dahl and Hinton (2013), *On the importance of
    initialization and momentum in deep learning*. Same trajectory as
    ``torch.optim.SGD(momentum=mu, nesterov=True)`` at a constant rate.

    Config: ``learning_rate`` :math:`\eta > 0` (default 1e-2), ``momentum``
    :math:`\mu \in [0, 1)` (default 0.9) and ``velocity`` :math:`v`, an array of the shape of
    ``w`` (zeros at the start).
    """
    config = _config("nesterov", w, dw, config)
    v_prev = config.setdefault("velocity", np.zeros_like(w))
    mu = config["momentum"]
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config


def adagrad(w, dw, config=None):
    r"""Adagrad: every coordinate's step divided by the root of its summed squared gradients.

    .. math::
        c \leftarrow c + g^2, \qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{c} + \epsilon}.

    Duchi, Hazan and Singer (2011), *Adaptive subgradient methods for online learning and
    stochastic optimization*. Coordinates with large gradients slow down, rare ones keep a
    large step; since the cache :math:`c` only grows, every step shrinks over time. Equal to
    ``torch.optim.Adagrad(lr, eps=epsilon)`` (whose default ``eps`` is 1e-10).

    Config: ``learning_rate`` :math:`\eta > 0` (default 1e-2), ``epsilon``
    :math:`\epsilon \geq 0` (default 1e-8) and ``cache`` :math:`c`, an array of the shape of
    ``w`` (zeros at the start).
    """
    config = _config("adagrad", w, dw, config)
    cache = config.setdefault("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop(w, dw, config=None):
    r"""RMSprop: Adagrad with a leaky cache, a running average of the squared gradients.

    .. math::
        c \leftarrow \rho\, c + (1 - \rho)\, g^2, \qquad
        w \leftarrow w - \eta\, \frac{g}{\sqrt{c} + \epsilon}.

    Tieleman and Hinton (2012), *Lecture 6.5, rmsprop: divide the gradient by a running
    average of its recent magnitude* (Coursera, Neural Networks for Machine Learning). The
    cache forgets old gradients at the rate :math:`1 - \rho`, so the steps no longer shrink
    for ever. Equal to ``torch.optim.RMSprop(lr, alpha=decay_rate, eps=epsilon)``.

    Config: ``learning_rate`` :math:`\eta > 0` (default 1e-2), ``decay_rate``
    :math:`\rho \in [0, 1)` (default 0.99), ``epsilon`` :math:`\epsilon \geq 0` (default 1e-8)
    and ``cache`` :math:`c`, an array of the shape of ``w`` (zeros at the start).
    """
    config = _config("rmsprop", w, dw, config)
    rho = config["decay_rate"]
    cache = rho * config.setdefault("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam(w, dw, config=None):
    r"""Adam: momentum on the gradient, RMSprop's scaling, both corrected for their zero start.

    With the step count :math:`t` incremented first (so the first step has :math:`t = 1`),

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2,

        \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
        w \leftarrow w - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}.

    Kingma and Ba (2015), *Adam: a method for stochastic optimization*. The running averages
    start at 0 and would make the first steps tiny; the bias correction divides that start
    out, so the first step has a size of about :math:`\eta` in every coordinate, whatever
    the scale of the gradient. Equal to ``torch.optim.Adam(lr, betas=(beta1, beta2),
    eps=epsilon)``.

    Config: ``learning_rate`` :math:`\eta > 0` (default 1e-3), ``beta1`` and ``beta2`` in
    :math:`[0, 1)` (defaults 0.9 and 0.999), ``epsilon`` :math:`\epsilon \geq 0` (default 1e-8),
    the moments ``m`` and ``v`` (arrays of the shape of ``w``, zeros at the start) and the step
    count ``t`` (default 0).

    Example:
        >>> next_w, config = adam(np.zeros(2), np.array([3.0, -0.001]))
        >>> next_w.round(6), config["t"]
        (array([-0.001,  0.001]), 1)
    """
    config = _config("adam", w, dw, config)
    return _adam_step(w, dw, config), config


def adamw(w, dw, config=None):
    r"""AdamW: Adam with decoupled weight decay, a shrinking of ``w`` apart from the gradient.

    .. math::
        w \leftarrow (1 - \eta \lambda)\, w,

    then the step of :func:`adam` from the decayed ``w``, as ``torch.optim.AdamW`` does.

    Loshchilov and Hutter (2019), *Decoupled weight decay regularization*. An L2 penalty
    added to the loss goes through Adam's scaling, so coordinates with large gradients are
    barely regularized; decaying the weights directly shrinks every coordinate by the same
    factor. Equal to ``torch.optim.AdamW(lr, betas=(beta1, beta2), eps=epsilon,
    weight_decay=weight_decay)``.

    Config: :func:`adam`'s keys and ``weight_decay`` :math:`\lambda \geq 0` (default 1e-2).
    """
    config = _config("adamw", w, dw, config)
    decayed = (1 - config["learning_rate"] * config["weight_decay"]) * w
    return _adam_step(decayed, dw, config), config


def _adam_step(w, dw, config):
    """Adam's update of ``w`` (a checked ``config``, which gets the new ``m``, ``v``, ``t``)."""
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    m = beta1 * config.setdefault("m", np.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * config.setdefault("v", np.zeros_like(w)) + (1 - beta2) * dw**2
    config["m"], config["v"] = m, v
    m_hat = m / (1 - beta1 ** config["t"])
    v_hat = v / (1 - beta2 ** config["t"])
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])


#: Every rule by name, for a training loop that takes the rule as a string.
RULES = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}
