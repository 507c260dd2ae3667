"""Input checks shared by the whole package: the one home of every check (in the spirit of
scikit-learn's ``utils/validation.py`` and ``_param_validation.py``).

Every public function of the package calls these before doing any math, so a wrong shape,
dtype or label is reported with a message that names the argument, what was expected and
what arrived, instead of surfacing later as a silent broadcasting surprise; one mistake
gets one wording and one exception, :class:`InvalidArgument` (both a ``TypeError`` and a
``ValueError``), in either tree.

The file reads in three parts:

* **The machinery.** Rules on scalars are declared as data: :class:`Interval` (``Real`` or
  ``Integral``, with its bounds and closure), :class:`Seed`, :class:`Options`,
  :class:`Flag`, :class:`Instance`, :class:`Function`, each refusing a value in one format
  (``{name} must be {what}, got {got}``, the "got" clause by :func:`got`). Arguments are
  checked by :func:`params` or the :func:`declared` decorator, dicts of settings by
  :func:`settings` (unknown keys by :func:`unknown_keys`), lists by
  :func:`non_empty_list`. The tests walk the declarations to generate bad inputs.
* **Arrays**, NumPy or torch alike (:func:`array`, :func:`ndarray`, :func:`tensor`,
  :func:`shape`, :func:`labels`, ...).
* **The rules several modules share**, declared once: the hyperparameters of the update
  rules (:data:`HYPERPARAMETERS`), batch normalization's ``bn_param`` (:data:`BN_PARAM`),
  ``dropout_param`` (:data:`DROPOUT_PARAM`), ``FullyConnectedNet``'s arguments
  (:data:`NET`), and the checks of the layers, losses and preprocessing of both trees.

It stays one module (not a package) because its callers use one namespace (``from .. import
validation as check``; ``check.positive``, ``check.Interval``) and :func:`trusted` switches
the array checks off through one module-level flag.

Forward and backward passes check metadata only (type, shape, dtype, device): scanning the
values costs a pass over the data on every call, and on a GPU a read of the result stalls
the device. Values (NaN, infinity) are checked once, where data enters: ``finite=True`` in
the training loop's data, a preprocessing ``fit``, a gradient check.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
import threading
from numbers import Integral, Real

import numpy as np

try:  # torch is a dependency, but the reference tree must not need it to import.
    import torch
except ImportError:  # pragma: no cover - exercised only without torch installed
    torch = None

__all__ = [
    "NotFittedError",
    "is_tensor",
    "InvalidArgument",
    "got",
    "Constraint",
    "Interval",
    "Seed",
    "Options",
    "Flag",
    "Instance",
    "Function",
    "POSITIVE",
    "NON_NEGATIVE",
    "FINITE",
    "POSITIVE_INT",
    "NON_NEGATIVE_INT",
    "RATE",
    "SHARE",
    "KEEP",
    "SEED",
    "MOMENTUM",
    "FLAG",
    "seed",
    "generator",
    "increasing",
    "params",
    "declared",
    "unknown_keys",
    "settings",
    "non_empty_list",
    "has_keys",
    "data_splits",
    "trusted",
    "array",
    "ndarray",
    "tensor",
    "same_kind",
    "same_dtype",
    "shape",
    "labels",
    "positive",
    "positive_int",
    "affine_inputs",
    "upstream",
    "channel_vector",
    "scores_and_labels",
    "pred_and_target",
    "real_data",
    "fit_examples",
    "fitted",
    "feature_shape",
    "finite_real",
    "gain_param",
    "one_of",
    "weight_shape",
    "numpy_generator",
    "torch_generator",
    "fraction",
    "non_negative",
    "betas",
    "nesterov_momentum",
    "optimized_parameter",
    "HYPERPARAMETERS",
    "update_config",
    "rule_keywords",
    "update_inputs",
    "BN_MODES",
    "BN_PARAM",
    "BN_KEYS",
    "bn_settings",
    "momentum_rate",
    "bn_count",
    "running_stats",
    "two_values_per_feature",
    "bn_inputs",
    "bn_cache",
    "NORMALIZATIONS",
    "PLACEMENTS",
    "net_normalization",
    "NET",
    "net_architecture",
    "relu_net_sizes",
    "net_targets",
    "classification_splits",
    "reals",
    "integers",
    "vector",
    "non_negative_int",
    "function",
    "DROPOUT_PARAM",
    "DROPOUT_KEYS",
    "penalty_inputs",
    "dropout_settings",
    "dropout_cache",
    "net_regularization",
    "training_split",
    "class_scores",
    "image_shape",
    "image_stack",
]


class NotFittedError(ValueError):
    """A fit-then-transform object (:mod:`nntrain.reference.preprocessing`) was used before
    ``fit``. A ``ValueError``, like scikit-learn's exception of the same name."""


def is_tensor(x) -> bool:
    return torch is not None and isinstance(x, torch.Tensor)


# ------------------------------------------ the machinery: constraints declared as data


class InvalidArgument(TypeError, ValueError):
    """A bad argument: the one exception every check of the package raises. It is both a
    ``TypeError`` and a ``ValueError`` (like scikit-learn's ``InvalidParameterError``), so
    code that catches either, and the tests written before it, keep working."""


def got(value, *, wrong_type: bool) -> str:
    """The "got ..." clause of every message: a number (not a bool) by its value;
    anything else by its type name when its type is wrong, by its ``repr`` when its value is.

    >>> got(2.0, wrong_type=True), got("0.1", wrong_type=True), got("gelu", wrong_type=False)
    ('2.0', 'str', "'gelu'")
    """
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return str(value)
    return type(value).__name__ if wrong_type else repr(value)


class Constraint:
    """A rule for one argument, declared as data. :meth:`check` raises
    :class:`InvalidArgument` in one format: ``{name} must be {kind}, got {type}`` when the
    type is wrong, ``{name} must be {bounds}, got {value}`` when the value is. With
    ``none=True``, ``None`` passes too. Subclasses say what passes (``is_kind``,
    ``is_good``), in words (``kind``, ``bounds``), and give a few values that fail
    (``bad_values``, for the tests generated from the declarations)."""

    def __init__(self, *, none=False):
        self.none = none

    def is_kind(self, value) -> bool:
        return True

    def is_good(self, value) -> bool:
        return True

    def kind(self) -> str:
        raise NotImplementedError

    def bounds(self) -> str:
        return self.kind()

    def convert(self, value):
        return value

    def bad_values(self) -> list:
        return []

    def example(self):
        """A value that passes (for the generated tests)."""
        return None

    def _words(self, text):
        return f"{text} or None" if self.none else text

    def check(self, name, value):
        """Check ``value``, the argument ``name``; return it (converted: a float for a real
        interval, an int for an integer one)."""
        if value is None and self.none:
            return None
        if not self.is_kind(value):
            wanted, wrong_type = self.kind(), True
        elif not self.is_good(value):
            wanted, wrong_type = self.bounds(), False
        else:
            return self.convert(value)
        raise InvalidArgument(
            f"{name} must be {self._words(wanted)}, got {got(value, wrong_type=wrong_type)}"
        )

    def __repr__(self):
        return f"{type(self).__name__}({self._words(self.kind())!r})"


class Interval(Constraint):
    """A number of type ``Real`` or ``Integral`` (never a bool) between ``low`` and ``high``
    (``None``: unbounded), ``closed`` at ``"both"`` ends, the ``"left"``, the ``"right"`` or
    ``"neither"``; a real number must also be finite. ``what`` names the quantity in the
    messages ("a keep probability").

    >>> Interval(Real, 0, 1, closed="left").check("beta1", 0.9)
    0.9
    >>> Interval(Real, 0, 1, closed="left").check("beta1", 1.0)
    Traceback (most recent call last):
    ...
    nntrain.validation.InvalidArgument: beta1 must be in [0, 1), got 1.0
    >>> Interval(Integral, 1, None).check("n", 2.0)
    Traceback (most recent call last):
    ...
    nntrain.validation.InvalidArgument: n must be a positive integer, got 2.0
    """

    def __init__(self, type_, low, high, *, closed="both", what=None, none=False):
        super().__init__(none=none)
        if type_ not in (Real, Integral) or closed not in ("both", "left", "right", "neither"):
            raise InvalidArgument(f"Interval(Real or Integral, ..., closed=...), got {closed}")
        self.type, self.low, self.high, self.closed, self.what = type_, low, high, closed, what

    def is_kind(self, value):
        return isinstance(value, self.type) and not isinstance(value, (bool, np.bool_))

    def is_good(self, value):
        return bool(self.inside(np.asarray(value, dtype=np.float64)))

    def inside(self, a):
        """Which entries of the float array ``a`` lie in the interval (NaN never does)."""
        good = np.isfinite(a)
        if self.low is not None:
            good &= a >= self.low if self.closed in ("both", "left") else a > self.low
        if self.high is not None:
            good &= a <= self.high if self.closed in ("both", "right") else a < self.high
        return good

    def _range(self):
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        if self.low is not None and self.high is not None:
            return f"in {left}{self.low}, {self.high}{right}"
        if self.low is not None:
            return f"{'>=' if left == '[' else '>'} {self.low}"
        if self.high is not None:
            return f"{'<=' if right == ']' else '<'} {self.high}"
        return ""

    def _named_integer(self):
        """ "a positive integer" or "a non-negative integer", where the interval is one."""
        if self.type is Integral and self.high is None and self.low is not None:
            first = self.low if self.closed in ("both", "left") else self.low + 1
            return {0: "a non-negative integer", 1: "a positive integer"}.get(first)
        return None

    def kind(self):
        named = self._named_integer()
        if named:
            base = named
        else:
            base = "a real number" if self.type is Real else "an integer"
            if self.low is not None and self.high is not None:
                base = f"{base} {self._range()}"
        return f"{self.what}, {base}" if self.what else base

    def bounds(self):
        named, interval = self._named_integer(), self._range()
        if named:
            return named
        if self.what:
            return f"{self.what} {interval}".strip()
        if self.type is Integral:
            return f"an integer {interval}".strip()
        if self.low is not None and self.high is not None:
            return interval
        return f"finite and {interval}" if interval else "finite"

    def convert(self, value):
        return float(value) if self.type is Real else int(value)

    def example(self):
        low, high = self.low, self.high
        if low is not None and high is not None:
            middle = (low + high) / 2
            return middle if self.type is Real else math.ceil(middle)
        if low is not None:
            return low + 1
        return 0 if high is None else high - 1

    def bad_values(self):
        bad = ["1", True, [1]]
        if self.type is Integral:
            bad.append(1.0)
        else:
            bad.append(float("nan"))
        if self.low is not None:
            bad.append(self.low if self.closed in ("right", "neither") else self.low - 1)
        if self.high is not None:
            bad.append(self.high if self.closed in ("left", "neither") else self.high + 1)
        return bad


class Seed(Interval):
    """A seed: an integer >= 0 (never a bool: ``True`` is refused, not read as 1)."""

    def __init__(self, *, none=False):
        super().__init__(Integral, 0, None, none=none)


class Options(Constraint):
    """One of a few values (strings, or ``None``): compared by type and value, so ``1`` is
    not ``True`` and an array is never compared entry by entry."""

    def __init__(self, *options):
        super().__init__()
        self.options = options

    def is_good(self, value):
        return any(value is o or (type(value) is type(o) and value == o) for o in self.options)

    def kind(self):
        names = [repr(o) for o in self.options]
        return " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)

    def bad_values(self):
        return ["no such option", 1]

    def example(self):
        return self.options[0]


class Flag(Constraint):
    """A switch: ``True`` or ``False`` (not 0, 1 or None)."""

    def is_kind(self, value):
        return isinstance(value, (bool, np.bool_))

    def kind(self):
        return "True or False"

    def convert(self, value):
        return bool(value)

    def bad_values(self):
        return [1, None, "yes"]

    def example(self):
        return True


class Instance(Constraint):
    """An instance of ``types``; ``wanted`` says what, in the messages ("a dict")."""

    def __init__(self, types, wanted, *, none=False):
        super().__init__(none=none)
        self.types, self.wanted = types, wanted

    def is_kind(self, value):
        return isinstance(value, self.types) and not (
            isinstance(value, bool) and bool not in np.atleast_1d(self.types)
        )

    def kind(self):
        return self.wanted

    def bad_values(self):
        return [object()]

    def example(self):
        return None if self.none else np.atleast_1d(self.types)[0]()


class Function(Constraint):
    """A callable; ``wanted`` says what it should be, in the messages."""

    def __init__(self, wanted, *, none=False):
        super().__init__(none=none)
        self.wanted = wanted

    def is_kind(self, value):
        return callable(value)

    def kind(self):
        return self.wanted

    def bad_values(self):
        return [1]

    def example(self):
        return print


#: The intervals the package uses most, by name.
POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
FINITE = Interval(Real, None, None)
POSITIVE_INT = Interval(Integral, 1, None)
NON_NEGATIVE_INT = Interval(Integral, 0, None)
RATE = Interval(Real, 0, 1, closed="left")  # the decay rate of a running average
SHARE = Interval(Real, 0, 1, closed="both")  # the share of one term in a mixture
KEEP = Interval(Real, 0, 1, closed="right", what="a keep probability")
SEED = Seed()
MOMENTUM = Interval(Real, 0, 1, none=True)  # a running average's momentum, or None
FLAG = Flag()


def seed(value, name="seed") -> int:
    """Check a seed (:class:`Seed`): the one rule of every entry point that takes one.

    >>> seed(True)
    Traceback (most recent call last):
    ...
    nntrain.validation.InvalidArgument: seed must be a non-negative integer, got bool
    """
    return SEED.check(name, value)


def generator(name, rng) -> np.random.Generator:
    """A NumPy ``Generator``: ``rng`` itself, or one seeded by ``rng`` when it is a seed
    (an integer >= 0, not a bool)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if not (SEED.is_kind(rng) and SEED.is_good(rng)):
        raise InvalidArgument(
            f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)) or a "
            f"seed, an integer >= 0, got {got(rng, wrong_type=not SEED.is_kind(rng))}"
        )
    return np.random.default_rng(int(rng))


def increasing(what, low, high) -> None:
    """Check the bounds of a range: ``low < high`` (``what`` names the range)."""
    if not low < high:
        raise InvalidArgument(f"{what} needs low < high, got low={low!r}, high={high!r}")


def params(constraints: dict, values: dict) -> dict:
    """Check each entry of ``values`` (a dict name -> value) against its constraint in
    ``constraints`` (a dict name -> :class:`Constraint`); return the checked values.

    >>> params({"lr": POSITIVE, "seed": SEED}, {"lr": 1e-3, "seed": True})
    Traceback (most recent call last):
    ...
    nntrain.validation.InvalidArgument: seed must be a non-negative integer, got bool
    """
    return {name: constraints[name].check(name, value) for name, value in values.items()}


def declared(**constraints):
    """Decorate a function to check its arguments against ``constraints`` (by parameter
    name) before it runs; the declaration stays readable as ``f.constraints``, which the
    tests walk to generate bad inputs. Defaults are not checked (they are chosen good)."""

    def decorate(f):
        signature = inspect.signature(f)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:
            raise InvalidArgument(f"{f.__name__} has no parameters {sorted(unknown)}")

        @functools.wraps(f)
        def checked(*args, **kwargs):
            given = signature.bind(*args, **kwargs).arguments
            for name, constraint in constraints.items():
                if name in given:
                    constraint.check(name, given[name])
            return f(*args, **kwargs)

        checked.constraints = constraints
        return checked

    return decorate


def unknown_keys(name, mapping, known) -> None:
    """Refuse the keys of ``mapping`` (the argument ``name``) that are not in ``known``.

    >>> unknown_keys("config", {"lr": 0.1}, ("eta",))
    Traceback (most recent call last):
    ...
    nntrain.validation.InvalidArgument: config has unknown keys ['lr']; the known ones are ['eta']
    """
    unknown = [key for key in mapping if key not in known]
    if unknown:
        raise InvalidArgument(
            f"{name} has unknown keys {unknown}; the known ones are {list(known)}"
        )


def settings(name, mapping, constraints, *, example, required=()):
    """Check a dict of settings (``bn_param``, ``dropout_param``, an update rule's
    ``config``): a dict (``example`` shows one in the message), no unknown keys, the
    ``required`` ones present, and each value present against its constraint, reported as
    ``name['key']``. Returns the checked values of the keys present."""
    if not isinstance(mapping, dict):
        raise InvalidArgument(
            f"{name} must be a dict such as {example}, got {got(mapping, wrong_type=True)}"
        )
    unknown_keys(name, mapping, list(constraints))
    if any(key not in mapping for key in required):
        wanted = " and ".join(f"{key!r} ({constraints[key].kind()})" for key in required)
        raise InvalidArgument(f"{name} must contain {wanted}, got keys {list(mapping)}")
    return {
        key: constraints[key].check(f"{name}[{key!r}]", value) for key, value in mapping.items()
    }


def non_empty_list(name, value, item: Constraint, what: str) -> list:
    """Check a non-empty list (or tuple) whose every entry passes ``item``; ``what`` names
    the entries in the plural ("trial dicts"). Returns it as a list.

    >>> non_empty_list("sizes", [1, 0], POSITIVE_INT, "sizes")
    Traceback (most recent call last):
    ...
    nntrain.validation.InvalidArgument: sizes[1] must be a positive integer, got 0
    """
    if not isinstance(value, (list, tuple)) or not value:
        shown = got(value, wrong_type=not isinstance(value, (list, tuple)))
        raise InvalidArgument(f"{name} must be a non-empty list of {what}, got {shown}")
    for i, entry in enumerate(value):
        item.check(f"{name}[{i}]", entry)
    return list(value)


def has_keys(name, mapping, keys) -> dict:
    """Check a dict ``{key: value}`` that holds a value for each of ``keys`` (others may be
    there too). Returns it."""
    if not isinstance(mapping, dict):
        raise InvalidArgument(
            f"{name} must be a dict {{name: value}}, got {got(mapping, wrong_type=True)}"
        )
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise InvalidArgument(f"{name} has no value for {missing} (wanted: {list(keys)})")
    return mapping


def data_splits(data, keys=("X_train", "y_train", "X_val", "y_val")) -> dict:
    """Check a dict of data splits holding ``keys``; one message for every caller."""
    wanted = f"data must be a dict with {', '.join(keys)}"
    if not isinstance(data, dict):
        raise InvalidArgument(f"{wanted}, got {got(data, wrong_type=True)}")
    for key in keys:
        if key not in data:
            raise InvalidArgument(f"{wanted}; {key} is missing (keys: {sorted(data)})")
    return data


class _Trust(threading.local):
    """Whether this thread is inside :func:`trusted`."""

    on = False


_trust = _Trust()


@contextlib.contextmanager
def trusted():
    """Skip the array checks (:func:`array`, :func:`ndarray`, :func:`tensor`,
    :func:`same_kind`, :func:`shape`, :func:`labels`, :func:`positive`), the layers' input
    checks made of them (:func:`affine_inputs`, :func:`upstream`, :func:`update_inputs`) and
    the update rules' config checks (:func:`update_config`) in this thread for the block.

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
        raise InvalidArgument(
            f"{name} must be a NumPy array or a torch tensor, got {got(x, wrong_type=True)}"
        )
    if ndim is not None and x.ndim != ndim:
        dimensions = "1 dimension" if ndim == 1 else f"{ndim} dimensions"
        raise InvalidArgument(f"{name} must have {dimensions}, got shape {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise InvalidArgument(
            f"{name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if floating:
        is_float = x.is_floating_point() if is_tensor(x) else np.issubdtype(x.dtype, np.floating)
        if not is_float:
            raise InvalidArgument(f"{name} must have a floating-point dtype, got {x.dtype}")
    size = x.numel() if is_tensor(x) else x.size
    if finite and size:
        ok = bool(torch.isfinite(x).all()) if is_tensor(x) else bool(np.isfinite(x).all())
        if not ok:
            raise InvalidArgument(f"{name} contains NaN or infinite values")
    return x


def ndarray(name: str, x, **checks):
    """:func:`~nntrain.validation.array` for the NumPy reference: ``x`` must be a NumPy array."""
    if _trust.on:
        return x
    if not isinstance(x, np.ndarray):
        raise InvalidArgument(
            f"{name} must be a NumPy array, got {got(x, wrong_type=True)} "
            "(nntrain.reference works on NumPy arrays; nntrain.torch takes tensors)"
        )
    return array(name, x, **checks)


def tensor(name: str, x, **checks):
    """:func:`~nntrain.validation.array` for the PyTorch twin: ``x`` must be a torch tensor."""
    if _trust.on:
        return x
    if not is_tensor(x):
        raise InvalidArgument(
            f"{name} must be a torch tensor, got {got(x, wrong_type=True)} "
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
        raise InvalidArgument(f"mix of NumPy arrays and torch tensors ({kinds}); use one kind")
    if all(tensors) and xs:
        devices = {x.device for x in xs}
        if len(devices) > 1:
            where = ", ".join(f"{n}: {x.device}" for n, x in zip(names, xs))
            raise InvalidArgument(f"tensors on different devices ({where})")


def same_dtype(names: tuple[str, ...], *xs) -> None:
    """Check that the tensors (or arrays) ``xs`` share one dtype (a twin does not promote
    silently where PyTorch's built-in would refuse)."""
    if len({x.dtype for x in xs}) > 1:
        *first, last = [str(x.dtype) for x in xs]
        raise InvalidArgument(
            f"{', '.join(names[:-1])} and {names[-1]} must share one dtype, got "
            f"{', '.join(first)} and {last}"
        )


def shape(name: str, x, expected: tuple) -> None:
    """Check ``x.shape`` against ``expected``, where ``None`` matches any size."""
    if _trust.on:
        return
    got = tuple(x.shape)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        sizes = ["any" if e is None else str(e) for e in expected]
        want = "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"
        raise InvalidArgument(f"{name} must have shape {want}, got {got}")


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
        raise InvalidArgument(
            f"{name} must be an array of class labels, got {got(y, wrong_type=True)}"
        )
    same_kind(("scores", name), like, y)
    if is_tensor(y):
        is_int = not y.is_floating_point() and not y.is_complex() and y.dtype != torch.bool
    else:
        is_int = isinstance(y, np.ndarray) and np.issubdtype(y.dtype, np.integer)
    if not is_int:
        raise InvalidArgument(
            f"{name} must be an integer array of class labels, got "
            f"{getattr(y, 'dtype', type(y).__name__)}"
        )
    shape(name, y, (n,))
    if n and not is_tensor(y):
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            raise InvalidArgument(
                f"{name} must hold labels in [0, {num_classes}), got values from {lo} to {hi}"
            )


def positive(name: str, value, *, allow_zero=False):
    """Check a positive (or, with ``allow_zero``, non-negative) finite real number."""
    if not _trust.on:
        return (NON_NEGATIVE if allow_zero else POSITIVE).check(name, value)


def positive_int(name: str, value) -> int:
    """Check a positive integer."""
    return POSITIVE_INT.check(name, value)


# ------------------------------------------------------ layers' inputs (both trees)


def affine_inputs(x, w, b, kind, *, pieces=False):
    """Check the inputs of an affine map ``x W + b`` and return ``D_in``: ``x`` of shape
    ``(N, d_1, ..., d_m)`` with ``D_in = d_1 * ... * d_m``, ``w`` of shape ``(D_in, D_out)``
    and ``b`` of shape ``(D_out,)``; with ``pieces`` (maxout), ``w`` is ``(k, D_in, D_out)``
    with ``k >= 1`` and ``b`` is ``(k, D_out)``. ``kind`` is the tree's array check
    (:func:`ndarray` or :func:`tensor`); tensors must also share one device and dtype."""
    if _trust.on:
        return math.prod(x.shape[1:])
    kind("x", x, min_ndim=1)
    kind("w", w, ndim=3 if pieces else 2)
    kind("b", b, ndim=2 if pieces else 1)
    same_kind(("x", "w", "b"), x, w, b)
    if is_tensor(x):
        same_dtype(("x", "w", "b"), x, w, b)
    if pieces and w.shape[0] < 1:
        raise InvalidArgument(
            f"w must hold k >= 1 pieces, shape (k, D_in, D_out), got {tuple(w.shape)}"
        )
    d_in = math.prod(x.shape[1:])
    shape("w", w, (None, d_in, None) if pieces else (d_in, None))
    shape("b", b, (w.shape[0], w.shape[2]) if pieces else (w.shape[1],))
    return d_in


def upstream(dout, expected, kind, **cached):
    """Check the upstream gradient of a backward pass: ``dout`` of shape ``expected``, an
    array of the tree's kind (``kind``), like the arrays its forward pass cached (given by
    name, e.g. ``x=x``, reported as ``cache x``)."""
    if _trust.on:
        return
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
        raise InvalidArgument(
            f"{name} must have shape (1,) for x with fewer than 2 dimensions (no channel "
            f"axis), got {name} of shape {tuple(v.shape)} and x of shape {tuple(x.shape)}"
        )
    if c != x.shape[1]:
        raise InvalidArgument(
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
        raise InvalidArgument("scores must hold at least one example, got shape (0, C)")


def pred_and_target(pred, target, kind):
    """Check a regression loss's inputs: ``pred`` and ``target`` of one kind and shape,
    with at least one value."""
    kind("pred", pred, min_ndim=1)
    kind("target", target, min_ndim=1)
    same_kind(("pred", "target"), pred, target)
    shape("target", target, tuple(pred.shape))
    if math.prod(pred.shape) == 0:
        raise InvalidArgument("pred must hold at least one value, got an empty array")


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
        raise InvalidArgument(f"{name} must hold real numbers, got dtype {X.dtype}")
    if integer:
        X = X.to(torch.get_default_dtype()) if is_tensor(X) else X.astype(np.float64)
    return array(name, X, finite=True)


def fit_examples(transform, X):
    """A preprocessing ``fit`` needs at least 2 examples to estimate statistics."""
    if X.shape[0] < 2:
        raise InvalidArgument(
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
        raise InvalidArgument(
            f"{name} must have shape (N, {', '.join(map(str, expected))}) like the data "
            f"{type(transform).__name__} was fitted on, got {tuple(X.shape)}"
        )


# ------------------------------------------------------------- hyperparameters


def finite_real(name, value) -> float:
    """Check a hyperparameter: a finite real number (not a bool). Returns it as a float."""
    return FINITE.check(name, value)


def gain_param(param) -> float:
    """Check ``calculate_gain``'s ``param``, the negative slope of ``"leaky_relu"``: a finite
    real number (a ``ValueError`` for a string too, as in PyTorch). Returns it as a float."""
    return FINITE.check("param (the negative slope of leaky_relu)", param)


def one_of(name, value, options):
    """Check that ``value`` is one of the strings ``options``; return its index."""
    Options(*options).check(name, value)
    return options.index(value)


def weight_shape(shape):
    """Check the shape of a weight to draw: a non-negative integer or a sequence of them.
    Returns it as a tuple."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape
    ):
        raise InvalidArgument(f"shape must be a tuple of non-negative integers, got {shape!r}")
    if any(s < 0 for s in shape):
        raise InvalidArgument(f"shape must be a tuple of non-negative integers, got {tuple(shape)}")
    return tuple(int(s) for s in shape)


def numpy_generator(rng):
    """Check that ``rng`` is a NumPy ``Generator`` (the reference's only source of
    randomness)."""
    if not isinstance(rng, np.random.Generator):
        raise InvalidArgument(
            f"rng must be a numpy.random.Generator, got {got(rng, wrong_type=True)} "
            "(pass np.random.default_rng(seed))"
        )
    return rng


def torch_generator(rng, tensor):
    """Check ``rng``: ``None`` (the global generator) or a ``torch.Generator`` for the
    tensor's device type."""
    if rng is None:
        return None
    if not isinstance(rng, torch.Generator):
        raise InvalidArgument(
            f"rng must be a torch.Generator or None, got {got(rng, wrong_type=True)} "
            "(pass torch.Generator().manual_seed(seed), or None for the global generator)"
        )
    if rng.device.type != tensor.device.type:
        raise InvalidArgument(
            f"rng must be a generator for the tensor's device type: rng is on {rng.device}, "
            f"tensor on {tensor.device} (pass torch.Generator(device=tensor.device))"
        )
    return rng


# ------------------------------- update rules and optimizers (both trees)


def fraction(name, value) -> float:
    """Check the decay rate of a running average (a momentum, a beta): in ``[0, 1)``."""
    return RATE.check(name, value)


def non_negative(**values):
    """Check hyperparameters, given by name, that must be finite and >= 0 (an optimizer's
    ``lr``, ``eps``, ``weight_decay``...)."""
    params(dict.fromkeys(values, NON_NEGATIVE), values)


def betas(value):
    """Check Adam's ``betas``: a pair of decay rates in ``[0, 1)``. Returns it as a tuple."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InvalidArgument(f"betas must be a pair (beta1, beta2), got {value!r}")
    for i, beta in enumerate(value):
        RATE.check(f"betas[{i}]", beta)
    return tuple(value)


def nesterov_momentum(nesterov, momentum, dampening):
    """Nesterov momentum needs a momentum and no dampening (as in ``torch.optim.SGD``)."""
    if nesterov and (momentum <= 0 or dampening != 0):
        raise InvalidArgument(
            "nesterov=True needs momentum > 0 and dampening = 0, got "
            f"momentum={momentum} and dampening={dampening}"
        )


def optimized_parameter(p):
    """A parameter that an optimizer of :mod:`nntrain.torch.optim` updates: real, with a
    dense gradient (metadata only)."""
    if p.is_complex() or p.grad.is_sparse:
        raise InvalidArgument(
            "these optimizers update real parameters with dense gradients, got a "
            f"{'complex parameter' if p.is_complex() else 'sparse gradient'} "
            "(use torch.optim's built-ins for those)"
        )


#: The constraint on each hyperparameter of the update rules (a rule's ``config`` declares
#: the keys of its defaults from these): ``learning_rate > 0``, the decay rates in
#: ``[0, 1)``, ``epsilon`` and ``weight_decay >= 0``, the step count ``t`` an integer >= 0.
HYPERPARAMETERS = {
    "learning_rate": POSITIVE,
    "momentum": RATE,
    "decay_rate": RATE,
    "beta1": RATE,
    "beta2": RATE,
    "epsilon": NON_NEGATIVE,
    "weight_decay": NON_NEGATIVE,
    "t": NON_NEGATIVE_INT,
}


def update_config(config, defaults, state, name="config"):
    """Check the ``config`` of an update rule ``rule(w, dw, config)``: ``None`` (a fresh
    dict) or a dict whose keys are the rule's hyperparameters (``defaults``, each checked
    by its :data:`HYPERPARAMETERS` constraint) and arrays of state (``state``, checked by
    :func:`update_inputs`). The missing hyperparameters get their defaults
    (``setdefault``). Returns the dict; ``name`` is the argument's name in the messages."""
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise InvalidArgument(f"{name} must be a dict or None, got {got(config, wrong_type=True)}")
    if not _trust.on:  # under trusted(), the loop's first step has checked this config
        declared = {key: HYPERPARAMETERS[key] for key in defaults}
        declared |= dict.fromkeys(state, Constraint())
        settings(name, config, declared, example={"learning_rate": 1e-2})
    for key, default in defaults.items():
        config.setdefault(key, default)
    return config


def rule_keywords(update_rule, optim_config, defaults, **keywords):
    """Check the update-rule arguments of :func:`nntrain.train.train`: ``optim_config``
    ``None`` or a dict, and every keyword given (not ``None``: ``learning_rate=``,
    ``momentum=``) a hyperparameter of the rule (``defaults``) that ``optim_config`` does
    not set as well. Returns a new dict, ``optim_config`` with the keywords in it."""
    if optim_config is None:
        optim_config = {}
    if not isinstance(optim_config, dict):
        raise InvalidArgument(
            f"optim_config must be a dict or None, got {got(optim_config, wrong_type=True)}"
        )
    config = dict(optim_config)
    for key, value in keywords.items():
        if value is None:
            continue
        if key not in defaults:
            raise InvalidArgument(
                f"{key} is not a hyperparameter of update_rule={update_rule!r}, whose "
                f"hyperparameters are {list(defaults)}; got {key}={value!r}"
            )
        if key in optim_config:
            raise InvalidArgument(
                f"{key} is given twice, as {key}={value!r} and in optim_config "
                f"({optim_config[key]!r}); give it in one place"
            )
        config[key] = value
    return config


def update_inputs(w, dw, config, kind, defaults, state):
    """Check the inputs of an update rule: ``w`` and ``dw`` float arrays of the tree's kind
    (``kind``) and of one shape, ``config`` by :func:`update_config`, and every array of
    ``state`` already in it of the kind and shape of ``w``. Returns the config."""
    if _trust.on:
        return update_config(config, defaults, state)
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


BN_MODES = ("train", "test")

#: What :func:`~nntrain.reference.normalization.batchnorm_forward` reads from (and writes to)
#: ``bn_param``: the running statistics are arrays of the input's kind, checked against it
#: (:func:`running_stats`).
BN_PARAM = {
    "mode": Options(*BN_MODES),
    "eps": NON_NEGATIVE,
    "momentum": MOMENTUM,
    "running_mean": Constraint(),
    "running_var": Constraint(),
    "num_batches_tracked": Constraint(),  # an int, or torch's 0-d tensor: per tree
}
BN_KEYS = tuple(BN_PARAM)


def bn_settings(bn_param):
    """Check ``bn_param`` against :data:`BN_PARAM` (a dict with a ``mode``, and no unknown
    keys) and return ``(mode, eps, momentum)`` with the defaults filled in."""
    given = settings("bn_param", bn_param, BN_PARAM, example={"mode": "train"}, required=["mode"])
    return given["mode"], given.get("eps", 1e-5), given.get("momentum", 0.1)


def momentum_rate(name, momentum):
    """Check a momentum: a real number in ``[0, 1]`` (returned as a float) or ``None``."""
    return MOMENTUM.check(name, momentum)


def bn_count(bn_param, *, tensor_ok=False):
    """The number of training batches seen so far, ``bn_param['num_batches_tracked']``
    (0 when absent): a non-negative integer or, with ``tensor_ok`` (the twin, like
    PyTorch's buffer), a 0-d integer tensor, returned as it is."""
    name, count = "bn_param['num_batches_tracked']", bn_param.get("num_batches_tracked", 0)
    if not (tensor_ok and is_tensor(count)):
        return NON_NEGATIVE_INT.check(name, count)
    if (
        count.ndim != 0
        or count.is_floating_point()
        or count.is_complex()
        or count.dtype == torch.bool
    ):
        raise InvalidArgument(
            f"{name} must be an int or a 0-d integer tensor, got a tensor of dtype "
            f"{count.dtype} and shape {tuple(count.shape)}"
        )
    return count


def running_stats(bn_param, d, kind, like=None):
    """The running statistics ``bn_param['running_mean']`` and ``['running_var']``, each
    ``None`` when absent or an array of the tree's kind ``kind`` of shape ``(d,)`` (and of
    the kind and device of ``like``, the input, when given)."""
    stats = []
    for key in ("running_mean", "running_var"):
        r, name = bn_param.get(key), f"bn_param['{key}']"
        if r is not None:
            kind(name, r)
            if like is not None:
                same_kind(("x", name), like, r)
            shape(name, r, (d,))
        stats.append(r)
    return stats


def two_values_per_feature(shape, count):
    """Train mode needs more than one value per feature to compute a variance."""
    if count < 2:
        raise InvalidArgument(
            "train mode needs more than one value per feature (channel) to compute a batch "
            "variance; the variance of one example is undefined (PyTorch refuses it too), "
            f"got x of shape {tuple(shape)}"
        )


def bn_inputs(x, gamma, beta, bn_param, kind):
    """Check batch normalization's inputs, channels on axis 1 of ``x``, in either tree
    (``kind``: :func:`ndarray` or :func:`tensor`; the twin's ``gamma``, ``beta`` and running
    statistics also share ``x``'s kind, device and dtype): ``gamma`` and ``beta`` vectors of
    ``C = x.shape[1]`` entries, ``bn_param`` by :func:`bn_settings`, :func:`running_stats`
    and :func:`bn_count`, and in train mode more than one value per channel. Returns
    ``(mode, eps, momentum, running_mean, running_var, count)``, a running statistic
    ``None`` when absent."""
    c, twin = x.shape[1], kind is tensor
    kind("gamma", gamma, ndim=1)
    kind("beta", beta, ndim=1)
    if twin:
        same_kind(("x", "gamma", "beta"), x, gamma, beta)
        same_dtype(("x", "gamma", "beta"), x, gamma, beta)
    shape("gamma", gamma, (c,))
    shape("beta", beta, (c,))
    mode, eps, momentum = bn_settings(bn_param)
    running = running_stats(bn_param, c, kind, like=x if twin else None)
    count = bn_count(bn_param, tensor_ok=twin)
    if mode == "train":
        two_values_per_feature(x.shape, x.shape[0] * math.prod(x.shape[2:]))
    return (mode, eps, momentum, *running, count)


def bn_cache(cache):
    """A cache of :func:`~nntrain.reference.normalization.batchnorm_forward`: a dict with a
    ``mode``."""
    if not (isinstance(cache, dict) and cache.get("mode") in BN_MODES):
        raise InvalidArgument(
            "cache must be the dict returned by batchnorm_forward, got "
            f"{got(cache, wrong_type=True)}"
        )
    return cache


# ---------------------------------- FullyConnectedNet's arguments (both trees)


#: Normalizations a hidden layer of ``FullyConnectedNet`` may use (None for none), and where.
NORMALIZATIONS = (None, "batchnorm")
PLACEMENTS = ("before", "after")


def net_normalization(normalization, placement):
    """Validate the normalization arguments shared by both trees' ``FullyConnectedNet``."""
    Options(*NORMALIZATIONS).check("normalization", normalization)
    Options(*PLACEMENTS).check("norm_placement", placement)


#: The numeric arguments of both trees' ``FullyConnectedNet``.
NET = {
    "input_dim": POSITIVE_INT,
    "num_classes": POSITIVE_INT,
    "weight_scale": POSITIVE,
    "dropout_keep_ratio": KEEP,
    "l1_ratio": SHARE,
}


def net_architecture(
    hidden_dims, input_dim, num_classes, activation, weight_scale, loss, *, activations, losses
):
    """Validate the constructor arguments shared by both trees' ``FullyConnectedNet``;
    ``activations`` and ``losses`` hold the names the caller's network knows.

    Returns the layer sizes ``[input_dim, *hidden_dims, num_classes]``.
    """
    if isinstance(hidden_dims, numbers.Integral) or not hasattr(hidden_dims, "__iter__"):
        raise InvalidArgument(f"hidden_dims must be a list of layer widths, got {hidden_dims!r}")
    hidden_dims = list(hidden_dims)
    for i, h in enumerate(hidden_dims):
        positive_int(f"hidden_dims[{i}]", h)
    params(NET, {"input_dim": input_dim, "num_classes": num_classes, "weight_scale": weight_scale})
    Options(*sorted(activations)).check("activation", activation)
    Options(*sorted(losses)).check("loss", loss)
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
        raise InvalidArgument(
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
    data_splits(data)
    arrays = {}
    for split in ("train", "val"):
        X = ndarray(
            f"X_{split}", np.asarray(data[f"X_{split}"]), min_ndim=2, floating=False, finite=True
        )
        y = np.asarray(data[f"y_{split}"])
        if X.shape[0] == 0 or y.shape != (X.shape[0],):
            raise InvalidArgument(
                f"X_{split} and y_{split} must hold the same non-zero number of "
                f"examples, got shapes {X.shape} and {y.shape}"
            )
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise InvalidArgument(
                f"y_{split} must hold class labels, integers >= 0; got dtype "
                f"{y.dtype} and values from {y.min()} to {y.max()}"
            )
        arrays[split] = X.reshape(X.shape[0], -1), y
    if arrays["train"][0].shape[1] != arrays["val"][0].shape[1]:
        raise InvalidArgument(
            f"X_train and X_val must have the same number of features, got "
            f"{arrays['train'][0].shape[1]} and {arrays['val'][0].shape[1]}"
        )
    num_classes = int(max(arrays["train"][1].max(), arrays["val"][1].max())) + 1
    return arrays, num_classes


# ------------------------------------ the landscape's arguments (nntrain.landscape)


def reals(name, x, interval=FINITE):
    """Check a real number or an array of them (a list, a tuple, a NumPy array), every
    entry in ``interval`` (an :class:`Interval` of ``Real``; by default any finite
    number), with the messages of the scalar check. Returns it as a float64 array."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.ndarray, list, tuple)):
        raise InvalidArgument(
            f"{name} must be {interval.kind()} or an array of them, got {got(x, wrong_type=True)}"
        )
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must hold real numbers, got {x!r}") from None
    good = interval.inside(a)
    if not good.all():
        raise InvalidArgument(f"{name} must be {interval.bounds()}, got {a[~good].flat[0]}")
    return a


def integers(name, x, interval=NON_NEGATIVE_INT):
    """Check an integer or a non-empty 1-D sequence of them, every entry in ``interval``
    (an :class:`Interval` of ``Integral``). Returns them as a 1-D integer array."""
    a = np.atleast_1d(np.asarray(x))
    if a.ndim != 1 or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
        raise InvalidArgument(
            f"{name} must be {interval.kind()} or a non-empty 1-D sequence of them, got {x!r}"
        )
    good = interval.inside(a.astype(np.float64))
    if not good.all():
        raise InvalidArgument(f"{name} must be {interval.bounds()}, got {a[~good][0]}")
    return a


def vector(name, x, size=None):
    """Check a flat vector of finite real numbers (of length ``size`` if given). Returns a
    1-D float64 copy of ``x``."""
    try:
        x = np.array(x, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        raise InvalidArgument(
            f"{name} must be a 1-D array of real numbers, got {x!r:.60}"
        ) from None
    x = array(name, x, ndim=1, finite=True)
    if size is not None:
        shape(name, x, (size,))
    return x


def non_negative_int(name, value) -> int:
    """Check a non-negative integer (a number of steps, where 0 is allowed)."""
    return NON_NEGATIVE_INT.check(name, value)


def function(name, f, wanted):
    """Check that ``f`` is callable; ``wanted`` says what it should be, in the message."""
    return Function(wanted).check(name, f)


# ------------------------------------ dropout and weight penalties (both trees)


#: What :func:`~nntrain.reference.dropout.dropout_forward` reads from ``dropout_param`` (the
#: mask is an array of the input's kind, checked against it).
DROPOUT_PARAM = {
    "mode": Options(*BN_MODES),
    "p": KEEP,
    "seed": Seed(none=True),
    "mask": Constraint(),
}
DROPOUT_KEYS = tuple(DROPOUT_PARAM)


def penalty_inputs(w, kind, *, ndim=None, **hyperparameters):
    """Check the inputs of a penalty or of a step on the weights
    (:mod:`nntrain.reference.penalties`): ``w`` an array of the tree's kind ``kind`` (with
    ``ndim`` dimensions if given), then each hyperparameter, given by name: ``reg`` and
    ``threshold`` finite and >= 0, ``c`` finite and > 0, ``l1_ratio`` in ``[0, 1]``."""
    kind("w", w, ndim=ndim)
    for name, value in hyperparameters.items():
        if name == "l1_ratio":
            SHARE.check(name, value)
        else:
            positive(name, value, allow_zero=name != "c")


def dropout_settings(dropout_param, x, kind):
    """Check ``dropout_param`` (:data:`DROPOUT_PARAM`) against the input ``x``: a dict with
    ``mode`` and ``p``, and optionally ``seed`` or ``mask`` (a boolean array of ``x``'s
    shape and of the tree's kind ``kind``), not both. Returns ``(mode, p, seed, mask)``,
    ``None`` for those absent."""
    given = settings(
        "dropout_param",
        dropout_param,
        DROPOUT_PARAM,
        example={"mode": "train", "p": 0.5},
        required=["mode", "p"],
    )
    mode, p, seed, mask = (given.get(key) for key in DROPOUT_KEYS)
    if seed is not None and mask is not None:
        raise InvalidArgument("dropout_param takes a 'seed' or a 'mask', not both; got both")
    if mask is not None:
        kind("dropout_param['mask']", mask, floating=False)
        same_kind(("x", "dropout_param['mask']"), x, mask)
        if mask.dtype not in (np.bool_, getattr(torch, "bool", None)):
            raise InvalidArgument(
                f"dropout_param['mask'] must be a boolean array (True: keep), got {mask.dtype}"
            )
        shape("dropout_param['mask']", mask, tuple(x.shape))
    return mode, p, seed, mask


def dropout_cache(cache):
    """A cache of :func:`~nntrain.reference.dropout.dropout_forward`: the pair
    ``(mask, shape)``, ``mask`` ``None`` in test mode."""
    if not (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[1], tuple)):
        raise InvalidArgument(
            "cache must be the (mask, shape) pair returned by dropout_forward, got "
            f"{type(cache).__name__}"
        )
    return cache


def net_regularization(dropout_keep_ratio, reg_type, l1_ratio, *, penalties):
    """Validate the regularization arguments shared by both trees' ``FullyConnectedNet``;
    ``penalties`` holds the names of the penalties the caller's network knows."""
    params(NET, {"dropout_keep_ratio": dropout_keep_ratio, "l1_ratio": l1_ratio})
    one_of("reg_type", reg_type, tuple(penalties))


# ------------------------------------ babysitting a classifier (nntrain.babysit, train)


def training_split(data):
    """The training split of a dict of splits (``X_train``, ``y_train``; other keys are
    ignored), checked: NumPy inputs of shape ``(N, ...)``, finite, and ``N >= 2`` integer
    labels ``>= 0`` of shape ``(N,)``. Returns ``(X_train, y_train)``."""
    data_splits(data, ("X_train", "y_train"))
    X = ndarray("X_train", data["X_train"], min_ndim=2, floating=False, finite=True)
    y = ndarray("y_train", data["y_train"], floating=False)
    if not np.issubdtype(y.dtype, np.integer):
        raise InvalidArgument(f"y_train must be an integer array of class labels, got {y.dtype}")
    shape("y_train", y, (X.shape[0],))
    if X.shape[0] < 2 or y.min() < 0:
        raise InvalidArgument(
            f"data must hold at least 2 training examples with labels >= 0, got {X.shape[0]} "
            f"with labels from {y.min() if y.size else None} to {y.max() if y.size else None}"
        )
    return X, y


def class_scores(scores, n, num_classes=None):
    """Check a classifier's output on ``n`` inputs: class scores of shape ``(n, C)`` with
    ``C >= 2`` (and ``C == num_classes`` when that is given). Returns ``C``."""
    got = tuple(scores.shape)
    if len(got) != 2 or got[0] != n or got[1] < 2:
        raise InvalidArgument(
            f"the model must map a batch of {n} inputs to class scores of shape ({n}, C) "
            f"with C >= 2, got shape {got}"
        )
    if num_classes is not None and got[1] != num_classes:
        raise InvalidArgument(
            f"num_classes is {num_classes} but the model returns {got[1]} scores per example"
        )
    return got[1]


def image_shape(shape, size):
    """Check the shape of one image, a tuple of positive integers whose product is
    ``size`` (the number of inputs of a layer). Returns it as a tuple."""
    if not (isinstance(shape, (tuple, list)) and shape):
        raise InvalidArgument(
            f"shape must be a tuple of image dimensions such as (8, 8), got {shape!r}"
        )
    for i, s in enumerate(shape):
        positive_int(f"shape[{i}]", s)
    if math.prod(shape) != size:
        raise InvalidArgument(
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
        raise InvalidArgument(
            f"{name} must be an image (H, W), a stack (N, H, W) or colour images "
            f"(N, H, W, C), got shape {tuple(x.shape)}"
        )
    x = x.reshape((1,) * (3 - x.ndim) + x.shape) if x.ndim < 3 else x
    x = x[..., None] if x.ndim == 3 else x
    if x.shape[1] < 2 or x.shape[2] < 2:
        raise InvalidArgument(
            f"{name} must have images of at least 2x2 pixels (neighbours to compare), "
            f"got shape {tuple(images.shape)}"
        )
    return x.astype(np.float64)
