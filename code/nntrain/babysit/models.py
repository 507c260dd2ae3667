"""What the babysitting checks need of a model of any kind, without touching the user's.

Every check works on a *copy* of the model (``copy.deepcopy``), so the parameters, buffers
(batch normalization's running statistics) and settings (``reg``) of the model a user
brings stay as they were; and every draw of randomness comes either from a private
``numpy.random.Generator`` or from the global generators (NumPy's, which the reference
dropout uses, and torch's, which ``nn.Dropout`` uses), seeded for the check and restored
after it (:func:`seeded`), so a check is reproducible and leaves the user's random
streams where they were.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch

from .. import validation as check
from ..models import adapt, is_torch

__all__ = [
    "CLASSIFIER_LOSSES",
    "balanced_sample",
    "class_count",
    "custom_functions",
    "evaluate",
    "float64_copy",
    "loss_name",
    "seeded",
    "working_copy",
]

#: The losses of a classifier, by ``loss_name`` (a torch module without one is trained on
#: the softmax cross-entropy).
CLASSIFIER_LOSSES = ("softmax", "svm")


def working_copy(model):
    """A deep copy of ``model`` and its adapter (:func:`nntrain.models.adapt`)."""
    twin = copy.deepcopy(model)
    return twin, adapt(twin)


@contextlib.contextmanager
def seeded(seed, model=None):
    """Seed NumPy's and torch's global generators with ``seed`` for the block, and put
    back their states after it: torch's on the CPU and on the CUDA devices of ``model``'s
    parameters (by ``torch.random.fork_rng``), the only ones it seeds."""
    state = np.random.get_state()
    devices = []
    if is_torch(model):
        devices = sorted(
            {p.device.index or 0 for p in model.parameters() if p.device.type == "cuda"}
        )
    with torch.random.fork_rng(devices=devices):
        # not torch.manual_seed, which would also reseed (or, before CUDA starts, schedule a
        # reseed of) the CUDA generators that fork_rng does not restore
        torch.random.default_generator.manual_seed(seed)
        for d in devices:
            torch.cuda.default_generators[d].manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)


def loss_name(model):
    """``"softmax"`` or ``"svm"``: the loss the model is trained on."""
    name = getattr(model, "loss_name", "softmax")
    if name not in CLASSIFIER_LOSSES:
        raise ValueError(
            f"model must be a classifier, with loss_name 'softmax' or 'svm', got loss_name "
            f"{name!r} (a regression loss)"
        )
    return name


def class_count(model, adapted, X, y, num_classes):
    """The number of classes ``C``: the width of the model's scores on two examples,
    checked against ``num_classes`` (when given), ``model.num_classes`` (when it has one)
    and the training labels (every one in ``[0, C)``)."""
    if num_classes is not None:
        check.positive_int("num_classes", num_classes)
    scores = adapted.numpy(evaluate(adapted, X[:2]))
    classes = check.class_scores(scores, 2, num_classes)
    own = getattr(model, "num_classes", None)
    if own is not None and own != classes:
        raise ValueError(
            f"model.num_classes is {own} but the model returns {classes} scores per example"
        )
    check.labels("y_train", y, y.shape[0], classes, like=y)
    return classes


def evaluate(adapted, X):
    """The test-mode scores of the NumPy inputs ``X`` (no autograd, modes restored)."""
    xb, _ = adapted.inputs(X)
    with adapted.evaluating():
        return adapted.scores(xb)


def balanced_sample(rng, y, size):
    """Indices of ``size`` examples (or all of them, if fewer), taking the classes in turn
    (each class's examples and the order of the classes shuffled by ``rng``): 2 of each of
    10 classes for ``size=20``, one of each of 20 classes out of 100."""
    classes = rng.permutation(np.unique(y))
    pools = [list(rng.permutation(np.flatnonzero(y == c))) for c in classes]
    picked = []
    while len(picked) < min(size, y.shape[0]):
        for pool in pools:
            if pool and len(picked) < size:
                picked.append(pool.pop())
    return np.array(picked)


def float64_copy(model):
    """A deep copy of ``model`` in float64 and its adapter, converted by the adapter's
    ``double``: a torch module by ``.double()``, on the CPU if it was on Apple's MPS, which has
    no float64 (:meth:`nntrain.models.TorchModel.double`); a reference model by its ``params``
    and ``dtype`` (:meth:`nntrain.models.ReferenceModel.double`)."""
    twin = copy.deepcopy(model)
    adapt(twin).double()
    return twin, adapt(twin)


def custom_functions(scores):
    """The names of the custom ``torch.autograd.Function`` s in the graph that computed
    ``scores`` (a tensor), sorted; empty when every operation is PyTorch's own."""
    names, seen = set(), set()
    stack = [scores.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, torch.autograd.function.BackwardCFunction):
            names.add(type(node).__name__.removesuffix("Backward"))
        stack.extend(f for f, _ in node.next_functions)
    return sorted(names)
