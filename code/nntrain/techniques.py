"""The registry of techniques: every layer and loss of the two trees, one row each.

A row (:class:`Technique`) says what the package's checks need to know about a technique:
the names of its forward and backward passes (the same in :mod:`nntrain.reference` and
:mod:`nntrain.torch`), the twin's autograd ``Function``, a PyTorch built-in that computes the
same, an example draw of inputs and, when the twin has one, its ``nn.Module`` beside
PyTorch's (:class:`Module`). Three readers share the table, in the spirit of scikit-learn's
``all_estimators()`` and tinygrad's single ``helper_test_op``:

* the tests (``tests/test_common_checks.py``): every row gets the common checks (its gradient
  against centred differences, the twin against the reference, the built-in and the
  ``Function`` against the reference, float32, bad input, the GPU, no host reads of a module);
* the grader (:func:`nntrain.checks.check_layer`): a row's draw is the default input of the
  exercise named after it;
* the benchmarks (``benchmarks/twins.py``): every :class:`Module` is timed against PyTorch's.

:data:`RULES` does the same for the update rules (:mod:`nntrain.reference.optim`): each
row is a rule and a ``config`` beside the ``torch.optim`` optimizer that takes the same
steps (``tests/test_optim.py`` follows both for 200 steps).

Adding a technique adds one row to :data:`TECHNIQUES` (see CONTRIBUTING.md); a test fails
until a new forward pass, loss or ``Function`` of the package has its row.

Example:
    >>> row = technique("relu")
    >>> row.forward, row.backward, row.function
    ('relu_forward', 'relu_backward', 'ReLUFunction')
    >>> (x,), extra = row.draw(np.random.default_rng(0))
    >>> out, (dx,) = row.run(reference, (x,), extra, np.ones_like(x))
    >>> bool((out == np.maximum(x, 0)).all()), bool((dx == (x > 0)).all())
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import reference
from . import torch as twin

__all__ = [
    "DROPOUT_SEED",
    "Module",
    "RULES",
    "Rule",
    "TECHNIQUES",
    "Technique",
    "away",
    "modules",
    "svm_builtin",
    "technique",
    "to_tree",
]


def to_tree(tree, a):
    """``a`` (a NumPy array, a dict of them, or anything else) in the kind ``tree`` takes:
    tensors for :mod:`nntrain.torch`, unchanged for :mod:`nntrain.reference`."""
    if isinstance(a, dict):
        return {k: to_tree(tree, v) for k, v in a.items()}
    if tree is twin and isinstance(a, np.ndarray):
        return torch.tensor(a)
    return a


def away(rng, shape, point=0.0, gap=0.1):
    """Random values at least ``gap`` from ``point`` (a kink, or a point where a slope
    vanishes and finite differences cannot resolve a relative error)."""
    x = rng.standard_normal(shape)
    return point + x + np.where(x >= 0, gap, -gap)


@dataclass(frozen=True)
class Module:
    """A twin ``nn.Module`` of :mod:`nntrain.torch` and PyTorch's module that computes the
    same thing, both made for an input of a given shape.

    ``twin(shape)`` and ``builtin(shape)`` make the two modules (``builtin`` is ``None`` when
    PyTorch has none); ``inputs(gen, shape)`` draws their inputs with the torch generator
    ``gen``; ``shape`` is the benchmark's input shape and ``small`` the tests'.
    """

    twin: Callable
    builtin: Callable | None
    inputs: Callable
    shape: tuple
    small: tuple

    def label(self, shape=None):
        """``"Twin / BuiltIn"`` (PyTorch's class, or the one it adapts), or the one name
        when both are the same."""
        shape = self.small if shape is None else shape
        a = type(self.twin(shape)).__name__
        b = next(c for c in type(self.builtin(shape)).__mro__ if c.__module__.startswith("torch"))
        return a if a == b.__name__ else f"{a} / {b.__name__}"


@dataclass(frozen=True)
class Technique:
    """One row of the registry.

    ``draw(rng)`` returns ``(arrays, extra)``: the float64 arrays the technique is
    differentiated in, and a function giving the other arguments afresh for each call
    (labels, a hyperparameter, a ``bn_param`` that the forward pass updates), as NumPy
    values. The first call of ``draw`` is also the grader's default input for the exercise
    named ``name`` (:func:`nntrain.checks.check_layer`), which grades the forward pass on
    the arrays alone, with the arguments ``fixed()`` after them (batch norm's train mode).
    ``builtin(*tensors, *extra)`` is PyTorch's own computation of the output.
    ``backward`` is ``None`` for a loss, whose function returns ``(loss, dscores)``.
    ``h`` is the step of the centred difference: a linear or quadratic piece is
    differenced exactly by any step, so a piecewise one takes a step shorter than the gap
    its draw keeps from the kinks (0.1), large enough for rounding not to show.
    ``module`` is the twin's ``nn.Module`` (:class:`Module`), on one row per module.
    """

    name: str
    forward: str
    backward: str | None
    function: str
    draw: Callable
    builtin: Callable
    h: float = 1e-5
    module: Module | None = None
    fixed: Callable = tuple

    @property
    def is_loss(self):
        return self.backward is None

    def run(self, tree, arrays, extra, dout):
        """``(out, grads)`` of this technique in ``tree`` (:mod:`nntrain.reference` or
        :mod:`nntrain.torch`) on NumPy ``arrays``; ``dout`` is the upstream gradient of a
        layer (a loss takes none)."""
        args = [to_tree(tree, a) for a in (*arrays, *extra())]
        if self.is_loss:
            loss, dscores = getattr(tree, self.forward)(*args)
            return loss, (dscores,)
        out, cache = getattr(tree, self.forward)(*args)
        grads = getattr(tree, self.backward)(to_tree(tree, dout), cache)
        return out, grads if isinstance(grads, tuple) else (grads,)

    def output(self, arrays, extra):
        """The reference's output (a loss's value) on ``arrays``."""
        out = getattr(reference, self.forward)(*arrays, *extra())
        return out[0]

    def graded_forward(self):
        """The reference's forward pass as the grader calls it: the arrays, then any
        hyperparameter, with ``fixed()`` appended (e.g. ``{"mode": "train"}``)."""
        forward = getattr(reference, self.forward)
        fixed = self.fixed()
        if not fixed:
            return forward

        def graded(*args):
            return forward(*args, *self.fixed())

        graded.__name__ = graded.__qualname__ = f"{self.name}_train_forward"
        return graded


# --------------------------------------------------------------------------- draws


def _features_inputs(gen, shape):
    return (torch.randn(shape, generator=gen),)


def _label_inputs(gen, shape):
    return torch.randn(shape, generator=gen), torch.randint(0, shape[1], shape[:1], generator=gen)


def _target_inputs(gen, shape):
    return torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)


def _activation(twin_module, builtin_module=None):
    """The :class:`Module` of an activation (the same arguments for both, none by default)."""
    return Module(
        twin=lambda s: twin_module(),
        builtin=lambda s: (builtin_module or getattr(nn, twin_module.__name__))(),
        inputs=_features_inputs,
        shape=(512, 4096),
        small=(8, 6),
    )


def _loss_module(twin_module, builtin_module, inputs):
    return Module(lambda s: twin_module(), lambda s: builtin_module(), inputs, (4096, 100), (8, 5))


def _elementwise(name, function, builtin, draw, extra=(), h=0.05, module=None):
    return Technique(
        name,
        f"{name}_forward",
        f"{name}_backward",
        function,
        lambda rng: ((draw(rng, (4, 5)),), lambda: extra),
        builtin,
        h=h,
        module=module,
    )


def _smooth(rng, shape):
    return rng.standard_normal(shape)


def _vanishing_slope_at(point):  # GELU'(x) = 0 at x = -0.7518, SiLU'(x) = 0 at x = -1.2785
    return lambda rng, shape: away(rng, shape, point, 0.25)


def _prelu(rng):
    return (away(rng, (4, 3, 2)), rng.uniform(0.05, 0.5, 3)), lambda: ()


def _maxout(rng):
    while True:  # redraw until the winning piece leads every other by at least 0.1
        x, w, b = (
            rng.standard_normal((4, 3, 2)),
            rng.standard_normal((2, 6, 5)),
            rng.standard_normal((2, 5)),
        )
        z = np.sort(x.reshape(4, 6) @ w + b[:, None, :], axis=0)
        if np.all(z[-1] - z[-2] >= 0.1):
            return (x, w, b), lambda: ()


def _maxout_builtin(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    return torch.stack([x2 @ w[j] + b[j] for j in range(w.shape[0])]).max(dim=0).values


def _affine(rng):
    return (
        rng.standard_normal((4, 3, 2)),
        rng.standard_normal((6, 5)),
        rng.standard_normal(5),
    ), lambda: ()


def _affine_builtin(x, w, b):
    return F.linear(x.reshape(x.shape[0], -1), w.T, b)


def _batchnorm(shape, mode):
    def draw(rng):
        c = shape[1]
        arrays = (
            3 * rng.standard_normal(shape) + 1,
            rng.uniform(0.5, 2, c),
            rng.standard_normal(c),
        )
        if mode == "train":
            return arrays, _train_mode
        running_mean, running_var = rng.normal(0, 1, c), rng.uniform(0.5, 2, c)

        def extra():
            stats = {"running_mean": running_mean.copy(), "running_var": running_var.copy()}
            return ({"mode": "test", **stats},)

        return arrays, extra

    return draw


def _train_mode():
    return ({"mode": "train"},)


def _batchnorm_builtin(x, gamma, beta, bn_param):
    training = bn_param["mode"] == "train"
    stats = [bn_param.get(k) for k in ("running_mean", "running_var")]
    return F.batch_norm(x, *stats, gamma, beta, training=training, eps=1e-5)


def _layernorm(rng):
    d = 5
    arrays = 3 * rng.standard_normal((4, d)) + 1, rng.uniform(0.5, 2, d), rng.standard_normal(d)
    return arrays, lambda: ()


def _layernorm_builtin(x, gamma, beta):
    return F.layer_norm(x, x.shape[-1:], gamma, beta, eps=1e-5)


def _labels(rng, n, c):
    return rng.integers(0, c, n)


def _softmax(rng):
    scores, y = 3 * rng.standard_normal((5, 4)), _labels(rng, 5, 4)
    return (scores,), lambda: (y,)


def _svm(rng):
    # every margin s_j - s_y + delta (j != y) at least 0.1 from the kink at 0
    delta, y = 0.7, _labels(rng, 5, 4)
    s_y = rng.standard_normal(5)
    scores = s_y[:, None] - delta + away(rng, (5, 4))
    scores[np.arange(5), y] = s_y
    return (scores,), lambda: (y, delta)


def svm_builtin(scores, y, delta=1.0):
    """The reference's hinge loss with built-ins: ``F.multi_margin_loss`` also averages over
    the classes, so it is multiplied by their number."""
    return scores.shape[1] * F.multi_margin_loss(scores, y, margin=delta)


class _SummedMultiMarginLoss(nn.MultiMarginLoss):
    """``nn.MultiMarginLoss`` summed over the wrong classes (:func:`svm_builtin`)."""

    def forward(self, scores, y):
        return svm_builtin(scores, y, self.margin)


def _regression(kink):
    def draw(rng):
        target = rng.standard_normal((4, 3))
        pred = target + away(rng, (4, 3)) if kink else rng.standard_normal((4, 3))
        return (pred,), lambda: (target,)

    return draw


#: The seed of torch's global generator under which the dropout built-in draws its mask.
DROPOUT_SEED = 7


def _dropout_builtin(x, dropout_param):
    """``F.dropout`` with PyTorch's drop probability ``1 - p``, its mask drawn from torch's
    global generator seeded with :data:`DROPOUT_SEED` (the generator's state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(DROPOUT_SEED)
        training = dropout_param["mode"] == "train"
        return F.dropout(x, 1 - dropout_param["p"], training=training)


def _dropout(mode, p=0.75):
    """Inputs and a ``dropout_param`` whose mask is the one ``F.dropout`` draws (read off
    its output on ones), so that both trees and the built-in drop the same units."""

    def draw(rng):
        x = rng.standard_normal((4, 5))
        ones = torch.ones(x.shape, dtype=torch.float64)
        mask = (_dropout_builtin(ones, {"mode": "train", "p": p}) != 0).numpy()
        return (x,), lambda: ({"mode": mode, "p": p, "mask": mask},)

    return draw


def _width(shape):
    return math.prod(shape[1:])


# --------------------------------------------------------------------------- the table

#: Every technique of the two trees. The first row of a name is the grader's.
TECHNIQUES = [
    _elementwise("sigmoid", "SigmoidFunction", torch.sigmoid, _smooth, h=1e-5,
                 module=_activation(twin.Sigmoid)),
    _elementwise("tanh", "TanhFunction", torch.tanh, _smooth, h=1e-5,
                 module=_activation(twin.Tanh)),
    _elementwise("relu", "ReLUFunction", torch.relu, away, module=_activation(twin.ReLU)),
    _elementwise(
        "leaky_relu", "LeakyReLUFunction", F.leaky_relu, away, extra=(0.1,),
        module=Module(lambda s: twin.LeakyReLU(0.01), lambda s: nn.LeakyReLU(0.01),
                      _features_inputs, (512, 4096), (8, 6)),
    ),
    _elementwise("elu", "ELUFunction", F.elu, away, extra=(1.0,), h=1e-5,
                 module=_activation(twin.ELU)),
    _elementwise("gelu", "GELUFunction", F.gelu, _vanishing_slope_at(-0.7518), h=1e-5,
                 module=_activation(twin.GELU)),
    _elementwise("silu", "SiLUFunction", F.silu, _vanishing_slope_at(-1.2785), h=1e-5,
                 module=_activation(twin.SiLU)),
    Technique("prelu", "prelu_forward", "prelu_backward", "PReLUFunction", _prelu, F.prelu,
              h=0.05, module=_activation(twin.PReLU)),
    Technique(
        "maxout", "maxout_forward", "maxout_backward", "MaxoutFunction", _maxout,
        _maxout_builtin,
        module=Module(lambda s: twin.Maxout(_width(s), s[1], 2), None, _features_inputs,
                      (512, 1024), (8, 6)),
    ),
    Technique(
        "affine", "affine_forward", "affine_backward", "AffineFunction", _affine,
        _affine_builtin, h=0.5,
        module=Module(lambda s: twin.Affine(_width(s), s[1]),
                      lambda s: nn.Linear(_width(s), s[1]), _features_inputs, (512, 1024),
                      (8, 6)),
    ),
    Technique(
        "batchnorm", "batchnorm_forward", "batchnorm_backward", "BatchNormFunction",
        _batchnorm((8, 5), "train"), _batchnorm_builtin, fixed=_train_mode,
        module=Module(lambda s: twin.BatchNorm1d(s[1]), lambda s: nn.BatchNorm1d(s[1]),
                      _features_inputs, (512, 4096), (8, 6)),
    ),
    Technique(
        "batchnorm (closed form)", "batchnorm_forward", "batchnorm_backward_alt",
        "BatchNormFunction", _batchnorm((8, 5), "train"), _batchnorm_builtin,
        fixed=_train_mode,
    ),
    Technique(
        "batchnorm (test mode)", "batchnorm_forward", "batchnorm_backward_alt",
        "BatchNormFunction", _batchnorm((6, 4), "test"), _batchnorm_builtin,
    ),
    Technique(
        "spatial_batchnorm", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
        "SpatialBatchNormFunction", _batchnorm((2, 3, 2, 2), "train"), _batchnorm_builtin,
        fixed=_train_mode,
        module=Module(lambda s: twin.BatchNorm2d(s[1]), lambda s: nn.BatchNorm2d(s[1]),
                      _features_inputs, (64, 64, 16, 16), (8, 3, 4, 4)),
    ),
    Technique(
        "layernorm", "layernorm_forward", "layernorm_backward", "LayerNormFunction",
        _layernorm, _layernorm_builtin,
        module=Module(lambda s: twin.LayerNorm(s[-1]), lambda s: nn.LayerNorm(s[-1]),
                      _features_inputs, (512, 4096), (8, 6)),
    ),
    Technique(
        "dropout (train mode)", "dropout_forward", "dropout_backward", "DropoutFunction",
        _dropout("train"), _dropout_builtin, h=0.5,
        module=Module(lambda s: twin.Dropout(0.5), lambda s: nn.Dropout(0.5),
                      _features_inputs, (512, 4096), (8, 6)),
    ),
    Technique(
        "dropout (test mode)", "dropout_forward", "dropout_backward", "DropoutFunction",
        _dropout("test"), _dropout_builtin, h=0.5,
    ),
    Technique(
        "softmax_loss", "softmax_loss", None, "SoftmaxLossFunction", _softmax, F.cross_entropy,
        module=_loss_module(twin.SoftmaxLoss, nn.CrossEntropyLoss, _label_inputs),
    ),
    Technique(
        "svm_loss", "svm_loss", None, "SVMLossFunction", _svm, svm_builtin, h=0.05,
        module=_loss_module(twin.SVMLoss, _SummedMultiMarginLoss, _label_inputs),
    ),
    Technique(
        "l2_loss", "l2_loss", None, "L2LossFunction", _regression(False), F.mse_loss, h=0.5,
        module=_loss_module(twin.L2Loss, nn.MSELoss, _target_inputs),
    ),
    Technique(
        "l1_loss", "l1_loss", None, "L1LossFunction", _regression(True), F.l1_loss, h=0.05,
        module=_loss_module(twin.L1Loss, nn.L1Loss, _target_inputs),
    ),
]  # fmt: skip


def technique(name):
    """The first row named ``name`` (the grader's name of an exercise, e.g. ``"relu"``).

    >>> technique("conv")
    Traceback (most recent call last):
    ...
    KeyError: "no technique named 'conv' in nntrain.techniques.TECHNIQUES"
    """
    for row in TECHNIQUES:
        if row.name == name:
            return row
    raise KeyError(f"no technique named {name!r} in nntrain.techniques.TECHNIQUES")


def modules():
    """The rows whose twin has an ``nn.Module``, with it: ``[(row, module), ...]``."""
    return [(row, row.module) for row in TECHNIQUES if row.module is not None]


# --------------------------------------------------------------------------- update rules


@dataclass(frozen=True)
class Rule:
    """An update rule of :mod:`nntrain.reference.optim` (``name``, a key of its ``RULES``)
    with a ``config`` (``None``: the rule's defaults), beside ``builtin(params)``, the
    ``torch.optim`` optimizer that follows the same trajectory."""

    name: str
    config: dict | None
    builtin: Callable

    @property
    def id(self):
        return f"{self.name}-{'set' if self.config else 'defaults'}"


#: Every update rule against its torch.optim built-in, with its hyperparameters set and at
#: its defaults.
RULES = [
    Rule("sgd", {"learning_rate": 0.05}, lambda p: torch.optim.SGD(p, lr=0.05)),
    Rule("sgd", None, lambda p: torch.optim.SGD(p, lr=1e-2)),
    Rule(
        "sgd_momentum",
        {"learning_rate": 0.05, "momentum": 0.9},
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    Rule("sgd_momentum", None, lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9)),
    Rule(
        "nesterov",
        {"learning_rate": 0.05, "momentum": 0.8},
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    Rule(
        "adagrad",
        {"learning_rate": 0.3, "epsilon": 1e-10},
        lambda p: torch.optim.Adagrad(p, lr=0.3),  # torch's eps=1e-10, also outside the sqrt
    ),
    Rule("adagrad", None, lambda p: torch.optim.Adagrad(p, lr=1e-2, eps=1e-8)),
    Rule(
        "rmsprop",
        {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-6},
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6),
    ),
    Rule("rmsprop", None, lambda p: torch.optim.RMSprop(p, lr=1e-2, alpha=0.99, eps=1e-8)),
    Rule(
        "adam",
        {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6},
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6),
    ),
    Rule("adam", None, lambda p: torch.optim.Adam(p)),
    Rule(
        "adamw",
        {"learning_rate": 0.02, "weight_decay": 0.5},
        lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.5),
    ),
    Rule("adamw", None, lambda p: torch.optim.AdamW(p)),
]
