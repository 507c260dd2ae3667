"""Input checks shared by the whole package: the one home of every check (in the spirit of
scikit-learn's ``utils/validation.py``).

Every public function of the package calls these before doing any math, so a wrong shape,
dtype or label is reported with a message that names the argument, what was expected and
what arrived, instead of surfacing later as a silent broadcasting surprise; one mistake
gets one wording and one exception type, in either tree. The array helpers accept NumPy
arrays and torch tensors alike. Besides them live the argument rules that several modules
share: hyperparameters, the configs of update rules and the arguments of optimizers,
batch normalization's ``bn_param``, ``FullyConnectedNet``'s constructor and targets (both
trees), and the data of a batched search.

Forward and backward passes check metadata only (type, shape, dtype, device): scanning the
values costs a pass over the data on every call, and on a GPU a read of the result stalls
the device. Values (NaN, infinity) are checked once, where data enters: ``finite=True`` in
the training loop's data, a preprocessing ``fit``, a gradient check.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import threading

import numpy as np

try:  # torch is a dependency, but the reference tree must not need it to import.
    import torch
except ImportError:  # pragma: no cover - exercised only without torch installed
    torch = None


class NotFittedError(ValueError):
    """A fit-then-transform object (:mod:`nntrain.reference.preprocessing`) was used before
    ``fit``. A ``ValueError``, like scikit-learn's exception of the same name."""


def is_tensor(x) -> bool:
    return torch is not None and isinstance(x, torch.Tensor)


class _Trust(threading.local):
    """Whether this thread is inside :func:`trusted`."""

    on = False


_trust = _Trust()


@contextlib.contextmanager
def trusted():
    """Skip the array checks (:func:`array`, :func:`ndarray`, :func:`tensor`,
    :func:`same_kind`, :func:`shape`, :func:`labels`, :func:`positive`) in this thread for
    the block.

    For a loop that repeats one computation on inputs that have passed every check already:
    :func:`nntrain.train.train` checks its data once, runs its first step with every check,
    and the later steps, which differ only in which examples the minibatch holds, under
    this. On a small net the checks cost about a quarter of a step. Any error a check would
    have caught has been caught at the first step.
    """
    before = _trust.on
    _trust.on = True
    try:
        yield
    finally:
        _trust.on = before


def array(name: str, x, *, ndim=None, min_ndim=None, floating=True, finite=False):
    """Check that ``x`` is an array (or tensor) of the right rank, dtype and values.

    Args:
        name: the argument's name, used in the error message.
        x: the value to check.
        ndim: the exact number of dimensions required, if any.
        min_ndim: the smallest number of dimensions allowed, if any.
        floating: require a floating-point dtype.
        finite: require every entry to be finite (no NaN, no inf): a pass over the data,
            for where data enters, never in a forward or backward pass.

    Returns:
        ``x`` unchanged, so that checks can be written inline.
    """
    if _trust.on:
        return x
    if not (isinstance(x, np.ndarray) or is_tensor(x)):
        raise TypeError(f"{name} must be a NumPy array or a torch tensor, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if floating:
        is_float = x.is_floating_point() if is_tensor(x) else np.issubdtype(x.dtype, np.floating)
        if not is_float:
            raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    size = x.numel() if is_tensor(x) else x.size
    if finite and size:
        ok = bool(torch.isfinite(x).all()) if is_tensor(x) else bool(np.isfinite(x).all())
        if not ok:
            raise ValueError(f"{name} contains NaN or infinite values")
    return x


def ndarray(name: str, x, **checks):
    """:func:`array` for the NumPy reference: ``x`` must be a NumPy array."""
    if _trust.on:
        return x
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array, got {type(x).__name__} "
            "(nntrain.reference works on NumPy arrays; nntrain.torch takes tensors)"
        )
    return array(name, x, **checks)


def tensor(name: str, x, **checks):
    """:func:`array` for the PyTorch twin: ``x`` must be a torch tensor."""
    if _trust.on:
        return x
    if not is_tensor(x):
        raise TypeError(
            f"{name} must be a torch tensor, got {type(x).__name__} "
            "(nntrain.torch works on tensors; nntrain.reference takes NumPy arrays)"
        )
    return array(name, x, **checks)


def same_kind(names: tuple[str, ...], *xs) -> None:
    """Check that all arguments are of one kind (all NumPy or all torch on one device)."""
    if _trust.on:
        return
    tensors = [is_tensor(x) for x in xs]
    if any(tensors) and not all(tensors):
        kinds = ", ".join(f"{n}: {type(x).__name__}" for n, x in zip(names, xs))
        raise TypeError(f"mix of NumPy arrays and torch tensors ({kinds}); use one kind")
    if all(tensors) and xs:
        devices = {x.device for x in xs}
        if len(devices) > 1:
            where = ", ".join(f"{n}: {x.device}" for n, x in zip(names, xs))
            raise ValueError(f"tensors on different devices ({where})")


def shape(name: str, x, expected: tuple) -> None:
    """Check ``x.shape`` against ``expected``, where ``None`` matches any size."""
    if _trust.on:
        return
    got = tuple(x.shape)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        sizes = ["any" if e is None else str(e) for e in expected]
        want = "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {want}, got {got}")


def labels(name: str, y, n: int, num_classes: int, *, like) -> None:
    """Check integer class labels: shape ``(n,)``, the same kind (NumPy, or torch on the same
    device) as the scores ``like`` and, for NumPy arrays, every value in ``[0, num_classes)``
    (NumPy's indexing would take a label of -1 for the last class without a word). The values
    of a tensor are not read, which would stall a GPU: the twins pick the labels' scores with
    ``gather``, which refuses an out-of-range label itself, and the training loop checks
    the labels of its data once, before training."""
    if _trust.on:
        return
    if not (isinstance(y, np.ndarray) or is_tensor(y)):
        raise TypeError(f"{name} must be an array of class labels, got {type(y).__name__}")
    same_kind(("scores", name), like, y)
    if is_tensor(y):
        is_int = not y.is_floating_point() and not y.is_complex() and y.dtype != torch.bool
    else:
        is_int = isinstance(y, np.ndarray) and np.issubdtype(y.dtype, np.integer)
    if not is_int:
        raise TypeError(
            f"{name} must be an integer array of class labels, got "
            f"{getattr(y, 'dtype', type(y).__name__)}"
        )
    shape(name, y, (n,))
    if n and not is_tensor(y):
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{name} must hold labels in [0, {num_classes}), got values from {lo} to {hi}"
            )


def positive(name: str, value, *, allow_zero=False) -> None:
    """Check a positive (or non-negative) real number."""
    if _trust.on:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")


def positive_int(name: str, value) -> None:
    """Check a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# ------------------------------------------------------ layers' inputs (both trees)


def affine_inputs(x, w, b, kind, *, pieces=False):
    """Check the inputs of an affine map ``x W + b`` and return ``D_in``: ``x`` of shape
    ``(N, d_1, ..., d_m)`` with ``D_in = d_1 * ... * d_m``, ``w`` of shape ``(D_in, D_out)``
    and ``b`` of shape ``(D_out,)``; with ``pieces`` (maxout), ``w`` is ``(k, D_in, D_out)``
    with ``k >= 1`` and ``b`` is ``(k, D_out)``. ``kind`` is the tree's array check
    (:func:`ndarray` or :func:`tensor`); tensors must also share one device and dtype."""
    kind("x", x, min_ndim=1)
    kind("w", w, ndim=3 if pieces else 2)
    kind("b", b, ndim=2 if pieces else 1)
    same_kind(("x", "w", "b"), x, w, b)
    if is_tensor(x) and not x.dtype == w.dtype == b.dtype:
        raise TypeError(f"x, w and b must share one dtype, got {x.dtype}, {w.dtype} and {b.dtype}")
    if pieces and w.shape[0] < 1:
        raise ValueError(f"w must hold k >= 1 pieces, shape (k, D_in, D_out), got {tuple(w.shape)}")
    d_in = math.prod(x.shape[1:])
    shape("w", w, (None, d_in, None) if pieces else (d_in, None))
    shape("b", b, (w.shape[0], w.shape[2]) if pieces else (w.shape[1],))
    return d_in


def upstream(dout, expected, kind, **cached):
    """Check the upstream gradient of a backward pass: ``dout`` of shape ``expected``, an
    array of the tree's kind (``kind``), like the arrays its forward pass cached (given by
    name, e.g. ``x=x``, reported as ``cache x``)."""
    kind("dout", dout, ndim=len(expected))
    for name, array in cached.items():
        kind(f"cache {name}", array)
        same_kind(("dout", f"cache {name}"), dout, array)
    shape("dout", dout, tuple(expected))


def channel_vector(name, v, x):
    """Check a per-channel parameter ``v`` of shape ``(1,)`` (one value for every entry) or
    ``(C,)`` with ``C = x.shape[1]`` (PReLU's layout); return the shape that broadcasts it
    along axis 1 of ``x``."""
    c = v.shape[0]
    if c == 1:
        return (1,) * x.ndim
    if x.ndim < 2:
        raise ValueError(
            f"{name} must have shape (1,) for x with fewer than 2 dimensions (no channel "
            f"axis), got {name} of shape {tuple(v.shape)} and x of shape {tuple(x.shape)}"
        )
    if c != x.shape[1]:
        raise ValueError(
            f"{name} must have shape (1,) or (C,) with C = x.shape[1] = {x.shape[1]}, "
            f"got {tuple(v.shape)}"
        )
    return (1, c) + (1,) * (x.ndim - 2)


def scores_and_labels(scores, y, kind):
    """Check a classification loss's inputs: ``scores`` ``(N, C)`` with ``N >= 1`` and
    labels ``y`` ``(N,)`` (:func:`labels`)."""
    kind("scores", scores, ndim=2)
    labels("y", y, scores.shape[0], scores.shape[1], like=scores)
    if scores.shape[0] == 0:
        raise ValueError("scores must hold at least one example, got shape (0, C)")


def pred_and_target(pred, target, kind):
    """Check a regression loss's inputs: ``pred`` and ``target`` of one kind and shape,
    with at least one value."""
    kind("pred", pred, min_ndim=1)
    kind("target", target, min_ndim=1)
    same_kind(("pred", "target"), pred, target)
    shape("target", target, tuple(pred.shape))
    if math.prod(pred.shape) == 0:
        raise ValueError("pred must hold at least one value, got an empty array")


# ------------------------------------------------------ preprocessing (both trees)


def real_data(name, X, kind, *, min_ndim):
    """Check data to preprocess: an array of the tree's kind (``kind``) of real, finite
    numbers; integers (raw ``uint8`` pixels) come back as floats (NumPy's float64, torch's
    default dtype)."""
    X = kind(name, X, min_ndim=min_ndim, floating=False)
    if is_tensor(X):
        real, integer = not (X.is_complex() or X.dtype == torch.bool), not X.is_floating_point()
    else:
        integer = np.issubdtype(X.dtype, np.integer)
        real = integer or np.issubdtype(X.dtype, np.floating)
    if not real:
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if integer:
        X = X.to(torch.get_default_dtype()) if is_tensor(X) else X.astype(np.float64)
    return array(name, X, finite=True)


def fit_examples(transform, X):
    """A preprocessing ``fit`` needs at least 2 examples to estimate statistics."""
    if X.shape[0] < 2:
        raise ValueError(
            f"{type(transform).__name__}.fit needs at least 2 examples to estimate "
            f"statistics, got X of shape {tuple(X.shape)}"
        )


def fitted(transform):
    """Check that a preprocessing object was fitted (``fit`` sets ``feature_shape_``)."""
    if not hasattr(transform, "feature_shape_"):
        raise NotFittedError(
            f"this {type(transform).__name__} is not fitted yet: call fit(X_train) first"
        )


def feature_shape(transform, name, X, expected):
    """Check that ``X`` has the feature shape ``expected``: the one ``transform`` saw in
    ``fit``, or PCA's ``k`` coordinates."""
    if tuple(X.shape[1:]) != tuple(expected):
        raise ValueError(
            f"{name} must have shape (N, {', '.join(map(str, expected))}) like the data "
            f"{type(transform).__name__} was fitted on, got {tuple(X.shape)}"
        )


# ------------------------------------------------------------- hyperparameters


def finite_real(name, value):
    """Check a hyperparameter: a finite real number (not a bool). Returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def gain_param(param):
    """Check ``calculate_gain``'s ``param``, the negative slope of ``"leaky_relu"``: a finite
    real number (a ``ValueError`` otherwise, as in PyTorch). Returns it as a float."""
    if isinstance(param, bool) or not isinstance(param, numbers.Real):
        raise ValueError(
            f"param (the negative slope of leaky_relu) must be a real number, got {param!r}"
        )
    if not math.isfinite(param):
        raise ValueError(f"param (the negative slope of leaky_relu) must be finite, got {param!r}")
    return float(param)


def one_of(name, value, options):
    """Check that ``value`` is one of the strings ``options``; return its index."""
    if not isinstance(value, str) or value not in options:
        names = [repr(o) for o in options]
        wanted = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return options.index(value)


def weight_shape(shape):
    """Check the shape of a weight to draw: a non-negative integer or a sequence of them.
    Returns it as a tuple."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape
    ):
        raise TypeError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    if any(s < 0 for s in shape):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {tuple(shape)}")
    return tuple(int(s) for s in shape)


def numpy_generator(rng):
    """Check that ``rng`` is a NumPy ``Generator`` (the reference's only source of
    randomness)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__} "
            "(pass np.random.default_rng(seed))"
        )
    return rng


def torch_generator(rng, tensor):
    """Check ``rng``: ``None`` (the global generator) or a ``torch.Generator`` for the
    tensor's device type."""
    if rng is None:
        return None
    if not isinstance(rng, torch.Generator):
        raise TypeError(
            f"rng must be a torch.Generator or None, got {type(rng).__name__} "
            "(pass torch.Generator().manual_seed(seed), or None for the global generator)"
        )
    if rng.device.type != tensor.device.type:
        raise ValueError(
            f"rng must be a generator for the tensor's device type: rng is on {rng.device}, "
            f"tensor on {tensor.device} (pass torch.Generator(device=tensor.device))"
        )
    return rng


# ------------------------------- update rules and optimizers (both trees)


def fraction(name, value):
    """Check the decay rate of a running average (a momentum, a beta): a real number in
    ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1), got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def non_negative(**values):
    """Check hyperparameters, given by name, that must be finite and >= 0 (an optimizer's
    ``lr``, ``eps``, ``weight_decay``...)."""
    for name, value in values.items():
        positive(name, value, allow_zero=True)


def betas(value):
    """Check Adam's ``betas``: a pair of decay rates in ``[0, 1)``. Returns it as a tuple."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {value!r}")
    for i, beta in enumerate(value):
        fraction(f"betas[{i}]", beta)
    return tuple(value)


def step_count(name, value):
    """Check a number of steps taken so far: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 0 (a step count), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0 (a step count), got {value!r}")


def nesterov_momentum(nesterov, momentum, dampening):
    """Nesterov momentum needs a momentum and no dampening (as in ``torch.optim.SGD``)."""
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            "nesterov=True needs momentum > 0 and dampening = 0, got "
            f"momentum={momentum} and dampening={dampening}"
        )


def optimized_parameter(p):
    """A parameter that an optimizer of :mod:`nntrain.torch.optim` updates: real, with a
    dense gradient (metadata only)."""
    if p.is_complex() or p.grad.is_sparse:
        raise TypeError(
            "these optimizers update real parameters with dense gradients, got a "
            f"{'complex parameter' if p.is_complex() else 'sparse gradient'} "
            "(use torch.optim's built-ins for those)"
        )


#: The hyperparameters of an update rule that are decay rates, in ``[0, 1)``.
RATES = ("momentum", "decay_rate", "beta1", "beta2")


def update_config(config, defaults, state, name="config"):
    """Check the ``config`` of an update rule ``rule(w, dw, config)``: ``None`` (a fresh
    dict) or a dict whose keys are the rule's hyperparameters (``defaults``) and arrays of
    state (``state``). The missing hyperparameters get their defaults (``setdefault``) and
    each is checked: ``learning_rate > 0``, the :data:`RATES` in ``[0, 1)``, ``epsilon``
    and ``weight_decay >= 0``, the step count ``t`` an integer >= 0. Returns the dict;
    ``name`` is the argument's name in the messages."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TypeError(f"{name} must be a dict or None, got {type(config).__name__}")
    unknown = [key for key in config if key not in defaults and key not in state]
    if unknown:
        raise ValueError(
            f"{name} has unknown keys {unknown}; the known ones are {[*defaults, *state]}"
        )
    for key, default in defaults.items():
        value, entry = config.setdefault(key, default), f"{name}[{key!r}]"
        if key == "t":
            step_count(entry, value)
        elif key in RATES:
            fraction(entry, value)
        else:
            positive(entry, value, allow_zero=key != "learning_rate")
    return config


def rule_keywords(update_rule, optim_config, defaults, **keywords):
    """Check the update-rule arguments of :func:`nntrain.train.train`: ``optim_config``
    ``None`` or a dict, and every keyword given (not ``None``: ``learning_rate=``,
    ``momentum=``) a hyperparameter of the rule (``defaults``) that ``optim_config`` does
    not set as well. Returns a new dict, ``optim_config`` with the keywords in it."""
    if optim_config is None:
        optim_config = {}
    if not isinstance(optim_config, dict):
        raise TypeError(f"optim_config must be a dict or None, got {type(optim_config).__name__}")
    config = dict(optim_config)
    for key, value in keywords.items():
        if value is None:
            continue
        if key not in defaults:
            raise ValueError(
                f"{key} is not a hyperparameter of update_rule={update_rule!r}, whose "
                f"hyperparameters are {list(defaults)}; got {key}={value!r}"
            )
        if key in optim_config:
            raise ValueError(
                f"{key} is given twice, as {key}={value!r} and in optim_config "
                f"({optim_config[key]!r}); give it in one place"
            )
        config[key] = value
    return config


def update_inputs(w, dw, config, kind, defaults, state):
    """Check the inputs of an update rule: ``w`` and ``dw`` float arrays of the tree's kind
    (``kind``) and of one shape, ``config`` by :func:`update_config`, and every array of
    ``state`` already in it of the kind and shape of ``w``. Returns the config."""
    kind("w", w)
    kind("dw", dw)
    same_kind(("w", "dw"), w, dw)
    shape("dw", dw, tuple(w.shape))
    config = update_config(config, defaults, state)
    for key in state:
        if key in config:
            kind(f"config[{key!r}]", config[key])
            same_kind(("w", f"config[{key!r}]"), w, config[key])
            shape(f"config[{key!r}]", config[key], tuple(w.shape))
    return config


# ---------------------------------------------- batch normalization's bn_param


#: The keys :func:`batchnorm_forward` reads from (and writes to) ``bn_param``.
BN_KEYS = ("mode", "eps", "momentum", "running_mean", "running_var", "num_batches_tracked")


BN_MODES = ("train", "test")


def bn_settings(bn_param):
    """Check ``bn_param`` (a dict with a valid ``mode``, ``eps`` and ``momentum``, and no
    unknown keys) and return ``(mode, eps, momentum)`` with the defaults filled in."""
    if not isinstance(bn_param, dict):
        raise TypeError(
            f"bn_param must be a dict such as {{'mode': 'train'}}, got {type(bn_param).__name__}"
        )
    unknown = [k for k in bn_param if k not in BN_KEYS]
    if unknown:
        raise ValueError(f"bn_param has unknown keys {unknown}; the known ones are {list(BN_KEYS)}")
    if "mode" not in bn_param:
        raise ValueError(
            f"bn_param must contain 'mode' ('train' or 'test'), got keys {list(bn_param)}"
        )
    mode = bn_param["mode"]
    if not (isinstance(mode, str) and mode in BN_MODES):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    eps = bn_param.get("eps", 1e-5)
    positive("bn_param['eps']", eps, allow_zero=True)
    momentum = momentum_rate("bn_param['momentum']", bn_param.get("momentum", 0.1))
    return mode, float(eps), momentum


def momentum_rate(name, momentum):
    """Check a momentum: a real number in ``[0, 1]`` (returned as a float) or ``None``."""
    if momentum is None:
        return None
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(
            f"{name} must be a real number in [0, 1] or None, got {type(momentum).__name__}"
        )
    if not 0 <= momentum <= 1:
        raise ValueError(f"{name} must be in [0, 1] or None, got {momentum}")
    return float(momentum)


def bn_count(bn_param):
    """The number of training batches seen so far, ``bn_param['num_batches_tracked']``
    (0 when absent): a non-negative integer."""
    count = bn_param.get("num_batches_tracked", 0)
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise TypeError(
            "bn_param['num_batches_tracked'] must be a non-negative integer, got "
            f"{type(count).__name__}"
        )
    if count < 0:
        raise ValueError(
            f"bn_param['num_batches_tracked'] must be a non-negative integer, got {count!r}"
        )
    return int(count)


def two_values_per_feature(shape, count):
    """Train mode needs more than one value per feature to compute a variance."""
    if count < 2:
        raise ValueError(
            "train mode needs more than one value per feature (channel) to compute a batch "
            "variance; the variance of one example is undefined (PyTorch refuses it too), "
            f"got x of shape {tuple(shape)}"
        )


def bn_cache(cache):
    """A cache of :func:`batchnorm_forward`: a dict with a ``mode``."""
    if not (isinstance(cache, dict) and cache.get("mode") in BN_MODES):
        raise TypeError(
            f"cache must be the dict returned by batchnorm_forward, got {type(cache).__name__}"
        )
    return cache


# ---------------------------------- FullyConnectedNet's arguments (both trees)


#: Normalizations a hidden layer of ``FullyConnectedNet`` may use (None: none), and where.
NORMALIZATIONS = (None, "batchnorm")
PLACEMENTS = ("before", "after")


def net_normalization(normalization, placement):
    """Validate the normalization arguments shared by both trees' ``FullyConnectedNet``."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    if placement not in PLACEMENTS:
        raise ValueError(
            f"norm_placement must be 'before' or 'after' the nonlinearity, got {placement!r}"
        )


def net_architecture(
    hidden_dims, input_dim, num_classes, activation, weight_scale, loss, *, activations, losses
):
    """Validate the constructor arguments shared by both trees' ``FullyConnectedNet``;
    ``activations`` and ``losses`` hold the names the caller's network knows.

    Returns the layer sizes ``[input_dim, *hidden_dims, num_classes]``.
    """
    if isinstance(hidden_dims, numbers.Integral) or not hasattr(hidden_dims, "__iter__"):
        raise TypeError(f"hidden_dims must be a list of layer widths, got {hidden_dims!r}")
    hidden_dims = list(hidden_dims)
    for i, h in enumerate(hidden_dims):
        positive_int(f"hidden_dims[{i}]", h)
    positive_int("input_dim", input_dim)
    positive_int("num_classes", num_classes)
    positive("weight_scale", weight_scale)
    if activation not in activations:
        raise ValueError(f"activation must be one of {sorted(activations)}, got {activation!r}")
    if loss not in losses:
        raise ValueError(f"loss must be one of {sorted(losses)}, got {loss!r}")
    return [input_dim, *hidden_dims, num_classes]


def relu_net_sizes(hidden_dims, input_dim, num_classes):
    """:func:`net_architecture` for the ReLU nets with a softmax loss that batched search
    (and its Optuna objective) trains; returns the layer sizes."""
    return net_architecture(
        hidden_dims,
        input_dim,
        num_classes,
        "relu",
        1.0,
        "softmax",
        activations=("relu",),
        losses=("softmax",),
    )


def net_targets(net, X, y, n_outputs, kind):
    """Validate the inputs of ``net.loss(X, y)``: the flattened feature size and the targets.

    Classification losses take integer labels of shape ``(N,)``; regression losses take
    float targets of shape ``(N, num_classes)``, or ``(N,)`` when there is one output.
    ``kind`` is ``ndarray`` or ``tensor``, the input check of the caller's tree.
    Returns ``y`` in the shape the loss function expects.
    """
    kind("X", X, min_ndim=2)
    d = int(np.prod(X.shape[1:]))
    if d != net.input_dim:
        raise ValueError(
            f"X must have {net.input_dim} features per example, got shape {tuple(X.shape)}"
        )
    positive("reg", net.reg, allow_zero=True)
    if y is None or net.loss_name in ("softmax", "svm"):
        return y
    kind("y", y, min_ndim=1)
    if y.ndim == 1 and n_outputs == 1:
        y = y.reshape(-1, 1)
    shape("y", y, (X.shape[0], n_outputs))
    return y


# -------------------------------- a classification data set for batched search


def classification_splits(data):
    """The flattened inputs and the labels of both splits, and the number of classes."""
    if not isinstance(data, dict):
        raise TypeError(
            f"data must be a dict with X_train, y_train, X_val, y_val, got {type(data).__name__}"
        )
    for key in ("X_train", "y_train", "X_val", "y_val"):
        if key not in data:
            raise ValueError(
                f"data must be a dict with X_train, y_train, X_val, y_val; {key} is missing"
            )
    arrays = {}
    for split in ("train", "val"):
        X = ndarray(
            f"X_{split}", np.asarray(data[f"X_{split}"]), min_ndim=2, floating=False, finite=True
        )
        y = np.asarray(data[f"y_{split}"])
        if X.shape[0] == 0 or y.shape != (X.shape[0],):
            raise ValueError(
                f"X_{split} and y_{split} must hold the same non-zero number of "
                f"examples, got shapes {X.shape} and {y.shape}"
            )
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(
                f"y_{split} must hold class labels, integers >= 0; got dtype "
                f"{y.dtype} and values from {y.min()} to {y.max()}"
            )
        arrays[split] = X.reshape(X.shape[0], -1), y
    if arrays["train"][0].shape[1] != arrays["val"][0].shape[1]:
        raise ValueError(
            f"X_train and X_val must have the same number of features, got "
            f"{arrays['train'][0].shape[1]} and {arrays['val'][0].shape[1]}"
        )
    num_classes = int(max(arrays["train"][1].max(), arrays["val"][1].max())) + 1
    return arrays, num_classes


# ------------------------------------ the landscape's arguments (nntrain.landscape)


def reals(name, x, ok=None, wanted="a finite real number"):
    """Check a real number or an array of them (a list, a tuple, a NumPy array): every
    entry finite and, with ``ok``, passing ``ok(entries)`` (``wanted`` says what passes, in
    the message). Returns it as a float64 array."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be {wanted} or an array of them, got {type(x).__name__}")
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold real numbers, got {x!r}") from None
    good = np.isfinite(a)
    if ok is not None:
        good &= ok(np.where(good, a, 0.0))
    if not good.all():
        raise ValueError(f"{name} must be {wanted}, got {a[~good].flat[0]}")
    return a


def vector(name, x, size=None):
    """Check a flat vector of finite real numbers (of length ``size`` if given). Returns a
    1-D float64 copy of ``x``."""
    try:
        x = np.array(x, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a 1-D array of real numbers, got {x!r:.60}") from None
    x = array(name, x, ndim=1, finite=True)
    if size is not None:
        shape(name, x, (size,))
    return x


def non_negative_int(name, value):
    """Check a non-negative integer (a number of steps, where 0 is allowed). Returns it as
    an int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def function(name, f, wanted):
    """Check that ``f`` is callable; ``wanted`` says what it should be, in the message."""
    if not callable(f):
        raise TypeError(f"{name} must be {wanted}, got {type(f).__name__}")


# ------------------------------------ dropout and weight penalties (both trees)


#: The keys :func:`dropout_forward` reads from ``dropout_param``.
DROPOUT_KEYS = ("mode", "p", "seed", "mask")


def keep_probability(name, p):
    """Check a probability of keeping a unit (cs231n's dropout ``p``): a real number in
    ``(0, 1]``. Returns it as a float."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(
            f"{name} must be a keep probability, a real number in (0, 1], got {type(p).__name__}"
        )
    if not 0 < p <= 1:
        raise ValueError(f"{name} must be a keep probability in (0, 1], got {p}")
    return float(p)


def mixing_ratio(name, value):
    """Check the share of one term in a mixture (the elastic net's ``l1_ratio``): a real
    number in ``[0, 1]``. Returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def penalty_inputs(w, kind, *, ndim=None, **hyperparameters):
    """Check the inputs of a penalty or of a step on the weights
    (:mod:`nntrain.reference.penalties`): ``w`` an array of the tree's kind ``kind`` (with
    ``ndim`` dimensions if given), then each hyperparameter, given by name: ``reg`` and
    ``threshold`` finite and >= 0, ``c`` finite and > 0, ``l1_ratio`` in ``[0, 1]``."""
    kind("w", w, ndim=ndim)
    for name, value in hyperparameters.items():
        if name == "l1_ratio":
            mixing_ratio(name, value)
        else:
            positive(name, value, allow_zero=name != "c")


def dropout_settings(dropout_param, x, kind):
    """Check ``dropout_param`` against the input ``x``: a dict with ``mode`` (``"train"`` or
    ``"test"``) and ``p`` (:func:`keep_probability`), and optionally ``seed`` (an integer
    >= 0) or ``mask`` (a boolean array of ``x``'s shape and of the tree's kind ``kind``),
    not both; no unknown keys. Returns ``(mode, p, seed, mask)``, ``None`` for those absent."""
    if not isinstance(dropout_param, dict):
        raise TypeError(
            "dropout_param must be a dict such as {'mode': 'train', 'p': 0.5}, got "
            f"{type(dropout_param).__name__}"
        )
    unknown = [k for k in dropout_param if k not in DROPOUT_KEYS]
    if unknown:
        raise ValueError(
            f"dropout_param has unknown keys {unknown}; the known ones are {list(DROPOUT_KEYS)}"
        )
    if "mode" not in dropout_param or "p" not in dropout_param:
        raise ValueError(
            "dropout_param must contain 'mode' ('train' or 'test') and 'p' (the probability "
            f"of keeping a unit), got keys {list(dropout_param)}"
        )
    mode = dropout_param["mode"]
    if not (isinstance(mode, str) and mode in BN_MODES):
        raise ValueError(f"dropout_param['mode'] must be 'train' or 'test', got {mode!r}")
    p = keep_probability("dropout_param['p']", dropout_param["p"])
    seed, mask = dropout_param.get("seed"), dropout_param.get("mask")
    if seed is not None and mask is not None:
        raise ValueError("dropout_param takes a 'seed' or a 'mask', not both; got both")
    if seed is not None:
        seed = non_negative_int("dropout_param['seed']", seed)
    if mask is not None:
        kind("dropout_param['mask']", mask, floating=False)
        same_kind(("x", "dropout_param['mask']"), x, mask)
        if mask.dtype not in (np.bool_, getattr(torch, "bool", None)):
            raise TypeError(
                f"dropout_param['mask'] must be a boolean array (True: keep), got {mask.dtype}"
            )
        shape("dropout_param['mask']", mask, tuple(x.shape))
    return mode, p, seed, mask


def dropout_cache(cache):
    """A cache of :func:`dropout_forward`: the pair ``(mask, shape)``, ``mask`` ``None`` in
    test mode."""
    if not (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[1], tuple)):
        raise TypeError(
            "cache must be the (mask, shape) pair returned by dropout_forward, got "
            f"{type(cache).__name__}"
        )
    return cache


def net_regularization(dropout_keep_ratio, reg_type, l1_ratio, *, penalties):
    """Validate the regularization arguments shared by both trees' ``FullyConnectedNet``;
    ``penalties`` holds the names of the penalties the caller's network knows."""
    keep_probability("dropout_keep_ratio", dropout_keep_ratio)
    one_of("reg_type", reg_type, tuple(penalties))
    mixing_ratio("l1_ratio", l1_ratio)


# ------------------------------------ babysitting a classifier (nntrain.babysit, train)


def flag(name, value):
    """Check a switch: ``True`` or ``False`` (not 0, 1 or None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def training_split(data):
    """The training split of a dict of splits (``X_train``, ``y_train``; other keys are
    ignored), checked: NumPy inputs of shape ``(N, ...)``, finite, and ``N >= 2`` integer
    labels ``>= 0`` of shape ``(N,)``. Returns ``(X_train, y_train)``."""
    if not isinstance(data, dict):
        raise TypeError(
            f"data must be a dict of splits with X_train and y_train, got {type(data).__name__}"
        )
    for key in ("X_train", "y_train"):
        if key not in data:
            raise ValueError(
                f"data must hold a training split, X_train and y_train; {key} is missing "
                f"(keys: {sorted(data)})"
            )
    X = ndarray("X_train", data["X_train"], min_ndim=2, floating=False, finite=True)
    y = ndarray("y_train", data["y_train"], floating=False)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y_train must be an integer array of class labels, got {y.dtype}")
    shape("y_train", y, (X.shape[0],))
    if X.shape[0] < 2 or y.min() < 0:
        raise ValueError(
            f"data must hold at least 2 training examples with labels >= 0, got {X.shape[0]} "
            f"with labels from {y.min() if y.size else None} to {y.max() if y.size else None}"
        )
    return X, y


def class_scores(scores, n, num_classes=None):
    """Check a classifier's output on ``n`` inputs: class scores of shape ``(n, C)`` with
    ``C >= 2`` (and ``C == num_classes`` when that is given). Returns ``C``."""
    got = tuple(scores.shape)
    if len(got) != 2 or got[0] != n or got[1] < 2:
        raise ValueError(
            f"the model must map a batch of {n} inputs to class scores of shape ({n}, C) "
            f"with C >= 2, got shape {got}"
        )
    if num_classes is not None and got[1] != num_classes:
        raise ValueError(
            f"num_classes is {num_classes} but the model returns {got[1]} scores per example"
        )
    return got[1]


def image_shape(shape, size):
    """Check the shape of one image, a tuple of positive integers whose product is
    ``size`` (the number of inputs of a layer). Returns it as a tuple."""
    if not (isinstance(shape, (tuple, list)) and shape):
        raise TypeError(f"shape must be a tuple of image dimensions such as (8, 8), got {shape!r}")
    for i, s in enumerate(shape):
        positive_int(f"shape[{i}]", s)
    if math.prod(shape) != size:
        raise ValueError(
            f"shape {tuple(shape)} holds {math.prod(shape)} pixels but the first layer takes "
            f"{size} inputs"
        )
    return tuple(shape)


def image_stack(name, images):
    """Check images for a roughness measure: a float array of one image ``(H, W)``, a
    stack ``(N, H, W)`` or colour images ``(N, H, W, C)``, with ``H, W >= 2`` and finite
    values. Returns a float64 array ``(N, H, W, C)``."""
    x = array(name, images, floating=False, finite=True)
    x = x.detach().cpu().numpy() if is_tensor(x) else x
    if not 2 <= x.ndim <= 4:
        raise ValueError(
            f"{name} must be an image (H, W), a stack (N, H, W) or colour images "
            f"(N, H, W, C), got shape {tuple(x.shape)}"
        )
    x = x.reshape((1,) * (3 - x.ndim) + x.shape) if x.ndim < 3 else x
    x = x[..., None] if x.ndim == 3 else x
    if x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(
            f"{name} must have images of at least 2x2 pixels (neighbours to compare), "
            f"got shape {tuple(images.shape)}"
        )
    return x.astype(np.float64)
