"""The table of techniques that every common check runs on (``test_common_checks.py``), in
the spirit of scikit-learn's estimator checks and tinygrad's ``helper_test_op``.

A :class:`Technique` names a forward/backward pair (or a loss) that both trees implement
under the same names, the PyTorch twin's autograd ``Function``, a PyTorch built-in that
computes the same thing, and a draw of inputs on which a centred difference can check the
gradient (kinks and ties kept out of the step's reach). Adding a row to :data:`TECHNIQUES`
gives a technique every common test; ``test_every_technique_is_in_the_table`` fails until a
new forward pass or loss of the package has its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import torch
import torch.nn.functional as F

TREES = {"reference": R, "torch": T}


def to_tree(tree, a):
    """``a`` (a NumPy array, or a dict of them, or anything else) in the kind ``tree`` takes."""
    if isinstance(a, dict):
        return {k: to_tree(tree, v) for k, v in a.items()}
    if tree is T and isinstance(a, np.ndarray):
        return torch.tensor(a)
    return a


def away(rng, shape, gap=0.1):
    """Random values at least ``gap`` from 0 (away from a kink at 0)."""
    v = rng.standard_normal(shape)
    return np.sign(v + (v == 0)) * (np.abs(v) + gap)


@dataclass(frozen=True)
class Technique:
    """One row of the table.

    ``draw(rng)`` returns ``(arrays, extra)``: the float64 arrays the technique is
    differentiated in, and a function giving the other arguments afresh for each call
    (labels, a hyperparameter, a ``bn_param`` that the forward pass updates), as NumPy
    values. ``builtin(*tensors, *extra)`` is PyTorch's own computation of the output.
    ``backward`` is ``None`` for a loss, whose function returns ``(loss, dscores)``.
    ``h`` is the step of the centred difference: a linear or quadratic piece is
    differenced exactly by any step, so a piecewise one takes a step shorter than the gap
    its draw keeps from the kinks (0.1), large enough for rounding not to show.
    """

    name: str
    forward: str
    backward: str | None
    function: str
    draw: Callable
    builtin: Callable
    h: float = 1e-5

    @property
    def is_loss(self):
        return self.backward is None

    def run(self, tree, arrays, extra, dout):
        """``(out, grads)`` of this technique in ``tree`` on NumPy ``arrays``; ``dout`` is
        the upstream gradient of a layer (a loss takes none)."""
        args = [to_tree(tree, a) for a in (*arrays, *extra())]
        if self.is_loss:
            loss, dscores = getattr(tree, self.forward)(*args)
            return loss, (dscores,)
        out, cache = getattr(tree, self.forward)(*args)
        grads = getattr(tree, self.backward)(to_tree(tree, dout), cache)
        return out, grads if isinstance(grads, tuple) else (grads,)

    def output(self, arrays, extra):
        """The reference's output (a loss's value) on ``arrays``."""
        out = getattr(R, self.forward)(*arrays, *extra())
        return out[0]


def _elementwise(name, function, builtin, draw=away, extra=(), h=0.05):
    return Technique(
        name,
        f"{name}_forward",
        f"{name}_backward",
        function,
        lambda rng: ((draw(rng, (4, 5)),), lambda: extra),
        builtin,
        h,
    )


def _smooth(rng, shape):
    return rng.uniform(-3, 3, shape)


def _prelu(rng):
    return (away(rng, (4, 3, 2)), rng.uniform(-0.5, 0.5, 3)), lambda: ()


def _maxout(rng):
    return (
        rng.standard_normal((4, 5)),
        rng.standard_normal((2, 5, 3)),
        rng.normal(0, 1, (2, 3)),
    ), (lambda: ())


def _maxout_builtin(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    return torch.stack([x2 @ w[j] + b[j] for j in range(w.shape[0])]).max(dim=0).values


def _affine(rng):
    return (
        rng.standard_normal((4, 2, 3)),
        rng.standard_normal((6, 5)),
        rng.standard_normal(5),
    ), lambda: ()


def _batchnorm(shape, mode):
    def draw(rng):
        c = shape[1]
        arrays = (2 + 3 * rng.standard_normal(shape), rng.uniform(0.5, 2, c), rng.normal(0, 1, c))
        running_mean, running_var = rng.normal(0, 1, c), rng.uniform(0.5, 2, c)

        def extra():
            if mode == "train":
                return ({"mode": "train"},)
            stats = {"running_mean": running_mean.copy(), "running_var": running_var.copy()}
            return ({"mode": "test", **stats},)

        return arrays, extra

    return draw


def _batchnorm_builtin(x, gamma, beta, bn_param):
    training = bn_param["mode"] == "train"
    stats = [bn_param.get(k) for k in ("running_mean", "running_var")]
    return F.batch_norm(x, *stats, gamma, beta, training=training, eps=1e-5)


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


def _regression(kink):
    def draw(rng):
        target = rng.standard_normal((4, 3))
        pred = target + away(rng, (4, 3)) if kink else rng.standard_normal((4, 3))
        return (pred,), lambda: (target,)

    return draw


#: The seed of torch's global generator under which :func:`_dropout_builtin` draws its mask.
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


def _svm_builtin(scores, y, delta):
    return scores.shape[1] * F.multi_margin_loss(scores, y, margin=delta)


TECHNIQUES = [
    _elementwise("sigmoid", "SigmoidFunction", torch.sigmoid, _smooth, h=1e-5),
    _elementwise("tanh", "TanhFunction", torch.tanh, _smooth, h=1e-5),
    _elementwise("relu", "ReLUFunction", torch.relu),
    _elementwise("leaky_relu", "LeakyReLUFunction", F.leaky_relu, extra=(0.1,)),
    _elementwise("elu", "ELUFunction", F.elu, extra=(1.0,), h=1e-5),
    _elementwise("gelu", "GELUFunction", F.gelu, _smooth, h=1e-5),
    _elementwise("silu", "SiLUFunction", F.silu, _smooth, h=1e-5),
    Technique("prelu", "prelu_forward", "prelu_backward", "PReLUFunction", _prelu, F.prelu, 0.05),
    Technique(
        "maxout", "maxout_forward", "maxout_backward", "MaxoutFunction", _maxout, _maxout_builtin
    ),
    Technique(
        "affine",
        "affine_forward",
        "affine_backward",
        "AffineFunction",
        _affine,
        lambda x, w, b: F.linear(x.reshape(x.shape[0], -1), w.T, b),
        h=0.5,
    ),
    Technique(
        "batchnorm (graph)",
        "batchnorm_forward",
        "batchnorm_backward",
        "BatchNormFunction",
        _batchnorm((6, 4), "train"),
        _batchnorm_builtin,
    ),
    Technique(
        "batchnorm (closed form)",
        "batchnorm_forward",
        "batchnorm_backward_alt",
        "BatchNormFunction",
        _batchnorm((6, 4), "train"),
        _batchnorm_builtin,
    ),
    Technique(
        "batchnorm (test mode)",
        "batchnorm_forward",
        "batchnorm_backward_alt",
        "BatchNormFunction",
        _batchnorm((6, 4), "test"),
        _batchnorm_builtin,
    ),
    Technique(
        "spatial batchnorm",
        "spatial_batchnorm_forward",
        "spatial_batchnorm_backward",
        "SpatialBatchNormFunction",
        _batchnorm((2, 3, 2, 2), "train"),
        _batchnorm_builtin,
    ),
    Technique(
        "dropout (train mode)",
        "dropout_forward",
        "dropout_backward",
        "DropoutFunction",
        _dropout("train"),
        _dropout_builtin,
        h=0.5,
    ),
    Technique(
        "dropout (test mode)",
        "dropout_forward",
        "dropout_backward",
        "DropoutFunction",
        _dropout("test"),
        _dropout_builtin,
        h=0.5,
    ),
    Technique(
        "softmax loss", "softmax_loss", None, "SoftmaxLossFunction", _softmax, F.cross_entropy
    ),
    Technique("svm loss", "svm_loss", None, "SVMLossFunction", _svm, _svm_builtin, 0.05),
    Technique("l2 loss", "l2_loss", None, "L2LossFunction", _regression(False), F.mse_loss, 0.5),
    Technique("l1 loss", "l1_loss", None, "L1LossFunction", _regression(True), F.l1_loss, 0.05),
]
