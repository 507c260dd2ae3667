"""Search spaces and the two classic strategies, grid search and random search.

A *search space* is a dict that maps each hyperparameter's name to one of four dimension
objects:

* :class:`LogUniform`: a positive real range searched on a log scale (learning rates,
  regularization strengths, initial weight scales: what matters is the order of magnitude);
* :class:`Uniform`: a real range searched on a linear scale (a momentum, a dropout rate);
* :class:`IntUniform`: a range of integers, both ends included (a layer width);
* :class:`Choice`: a finite set of options with no order (an activation's name).

Every dimension can draw random values (``sample``) and lay out evenly spaced ones
(``grid``), so :func:`grid_search` and :func:`random_search` return trials in one format: a
list of dicts ``{name: value}`` holding plain Python numbers (or the options themselves),
ready to be passed as keyword arguments.

Bergstra & Bengio (2012), *Random search for hyper-parameter optimization*, explain why
random search usually wins: when only a few of the hyperparameters matter, a grid of
:math:`n^d` points tries only :math:`n` distinct values of each, while :math:`n^d` random
points try :math:`n^d` distinct values of every one.

Example:
    >>> space = {"learning_rate": LogUniform(1e-4, 1e-1), "reg": LogUniform(1e-6, 1e-2)}
    >>> trials = random_search(space, 20, np.random.default_rng(0))
    >>> sorted(trials[0])
    ['learning_rate', 'reg']
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from .. import validation as check

__all__ = [
    "LogUniform",
    "Uniform",
    "IntUniform",
    "Choice",
    "DIMENSIONS",
    "check_space",
    "grid_search",
    "random_search",
]


class _Range:
    """What the three ranges share: bounds, the map to the scale they are searched on (the
    identity, or the logarithm), and the position of a value in the range."""

    low: float
    high: float

    def to_scale(self, x):
        """``x`` on the scale the range is searched on: itself here, its logarithm for
        :class:`LogUniform`."""
        return x

    def from_scale(self, u):
        """The value at ``u`` on the search scale: the inverse of :meth:`to_scale`."""
        return u

    def position(self, value) -> float:
        """Where ``value`` lies: 0 at ``low``, 1 at ``high`` (measured on the log scale for
        :class:`LogUniform`); below 0 or above 1 outside the range."""
        lo, hi = self.to_scale(self.low), self.to_scale(self.high)
        return float((self.to_scale(value) - lo) / (hi - lo))


@dataclass(frozen=True)
class LogUniform(_Range):
    """A positive real range searched on a log scale: :math:`\\log x` is uniform on
    :math:`[\\log \\mathrm{low}, \\log \\mathrm{high}]`.

    Every decade of the range receives the same share of the samples, which is what a
    learning rate or a regularization strength needs: :math:`10^{-4}` and :math:`10^{-3}`
    differ as much as :math:`10^{-2}` and :math:`10^{-1}`.

    Args:
        low: the smallest value, finite and > 0.
        high: the largest value, finite and > ``low``.

    Raises:
        TypeError: a bound is not a real number.
        ValueError: a bound is not finite or not positive, or ``low >= high``.
    """

    low: float
    high: float

    def __post_init__(self):
        for name in ("low", "high"):
            value = getattr(self, name)
            check.finite_real(name, value)
            if value <= 0:
                raise check.InvalidArgument(
                    f"LogUniform needs positive bounds (its logarithm is "
                    f"searched), got {name}={value!r}; use Uniform for a range "
                    f"that includes 0 or negative values"
                )
        check.increasing("LogUniform", self.low, self.high)

    def to_scale(self, x):
        return math.log(x) if x > 0 else -math.inf

    def from_scale(self, u):
        return math.exp(u)

    def sample(self, rng, n):
        """``n`` values drawn independently, log-uniformly, from ``rng`` (a
        ``numpy.random.Generator``), as a list of floats."""
        rng, n = check.generator("rng", rng), check.positive_int("n", n)
        u = rng.uniform(math.log(self.low), math.log(self.high), n)
        return [float(x) for x in np.clip(np.exp(u), self.low, self.high)]

    def grid(self, n):
        """The centres of ``n`` equal cells of the range on the log scale,
        :math:`\\exp\\big(\\log \\mathrm{low} + \\tfrac{i + 1/2}{n} (\\log \\mathrm{high} -
        \\log \\mathrm{low})\\big)`; with ``n = 1`` the geometric centre
        :math:`\\sqrt{\\mathrm{low} \\cdot \\mathrm{high}}`. Cell centres, not the two ends:
        a 2-point grid over :math:`[10^{-4}, 1]` tries :math:`10^{-3}` and :math:`10^{-1}`,
        not the two extremes of the range, which are rarely good values."""
        n = check.positive_int("n", n)
        edges = np.linspace(math.log(self.low), math.log(self.high), n + 1)
        return [float(x) for x in np.exp((edges[:-1] + edges[1:]) / 2)]


@dataclass(frozen=True)
class Uniform(_Range):
    """A real range searched on a linear scale: :math:`x` is uniform on
    :math:`[\\mathrm{low}, \\mathrm{high}]`.

    Args:
        low: the smallest value, finite.
        high: the largest value, finite and > ``low``.

    Raises:
        TypeError: a bound is not a real number.
        ValueError: a bound is not finite, or ``low >= high``.
    """

    low: float
    high: float

    def __post_init__(self):
        check.finite_real("low", self.low)
        check.finite_real("high", self.high)
        check.increasing("Uniform", self.low, self.high)

    def sample(self, rng, n):
        """``n`` values drawn independently and uniformly from ``rng``, as a list of floats."""
        rng, n = check.generator("rng", rng), check.positive_int("n", n)
        return [float(x) for x in rng.uniform(self.low, self.high, n)]

    def grid(self, n):
        """The centres of ``n`` equal cells of the range, :math:`\\mathrm{low} +
        \\tfrac{i + 1/2}{n} (\\mathrm{high} - \\mathrm{low})`; with ``n = 1`` the midpoint
        (see :meth:`LogUniform.grid`)."""
        edges = np.linspace(self.low, self.high, check.positive_int("n", n) + 1)
        return [float(x) for x in (edges[:-1] + edges[1:]) / 2]


@dataclass(frozen=True)
class IntUniform(_Range):
    """The integers from ``low`` to ``high``, both included, each equally likely.

    Args:
        low: the smallest integer.
        high: the largest integer, > ``low``.

    Raises:
        TypeError: a bound is not an integer (``2.0`` is refused, as by
            :func:`nntrain.train.train`'s integer arguments).
        ValueError: ``low >= high`` (for a single value, use ``Choice([value])``).
    """

    low: int
    high: int

    def __post_init__(self):
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise check.InvalidArgument(
                    f"IntUniform needs integer bounds, got {name}={value!r} "
                    f"({type(value).__name__}); use Uniform for a real range"
                )
        check.increasing("IntUniform", self.low, self.high)

    def sample(self, rng, n):
        """``n`` integers drawn independently and uniformly from ``rng``, as a list of ints."""
        rng, n = check.generator("rng", rng), check.positive_int("n", n)
        return [int(x) for x in rng.integers(self.low, self.high, size=n, endpoint=True)]

    def grid(self, n):
        """Up to ``n`` distinct, evenly spaced integers from ``low`` to ``high`` (both
        included when ``n >= 2``): every integer of the range when it holds ``n`` or fewer;
        with ``n = 1`` the middle one."""
        n = check.positive_int("n", n)
        if n == 1:
            return [int(math.floor((self.low + self.high) / 2 + 0.5))]
        values = np.floor(np.linspace(self.low, self.high, n) + 0.5).astype(np.int64)
        return [int(x) for x in np.unique(values)]


@dataclass(frozen=True, init=False)
class Choice:
    """A finite set of options with no order between them, each equally likely.

    Args:
        options: a non-empty sequence of distinct options (strings, numbers, tuples, ...).
            For an Optuna study (:func:`nntrain.search.study.optuna_objective`) they must be
            None, bools, ints, floats or strings.

    Raises:
        TypeError: ``options`` is a string or not a sequence.
        ValueError: ``options`` is empty or holds an option twice.
    """

    options: tuple

    def __init__(self, options):
        if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
            raise check.InvalidArgument(
                f"Choice needs a sequence of options, e.g. Choice(['relu', 'tanh']), "
                f"got {options!r}"
            )
        options = tuple(options)
        if not options:
            raise check.InvalidArgument("Choice needs at least one option, got an empty sequence")
        for i, a in enumerate(options):
            for b in options[:i]:
                if type(a) is type(b) and a == b:
                    raise check.InvalidArgument(
                        f"Choice options must be distinct, got {a!r} twice in {list(options)!r}"
                    )
        object.__setattr__(self, "options", options)

    def sample(self, rng, n):
        """``n`` options drawn independently and uniformly from ``rng``, as a list."""
        rng, n = check.generator("rng", rng), check.positive_int("n", n)
        return [self.options[i] for i in rng.integers(len(self.options), size=n)]

    def grid(self, n):
        """Every option, in order, whatever ``n`` (a positive integer, accepted so that all
        dimensions share one interface)."""
        check.positive_int("n", n)
        return list(self.options)


#: The dimension types a search space may hold.
DIMENSIONS = (LogUniform, Uniform, IntUniform, Choice)


def check_space(space) -> dict:
    """Check that ``space`` is a non-empty dict of string names to dimension objects; return
    it (for inline use)."""
    if not isinstance(space, dict):
        raise check.InvalidArgument(
            f"space must be a dict of name -> LogUniform, Uniform, IntUniform or "
            f"Choice, got {type(space).__name__}"
        )
    if not space:
        raise check.InvalidArgument(
            "space must hold at least one hyperparameter, got an empty dict"
        )
    for name, dim in space.items():
        if not isinstance(name, str):
            raise check.InvalidArgument(f"space names must be strings, got {name!r}")
        if not isinstance(dim, DIMENSIONS):
            raise check.InvalidArgument(
                f"space[{name!r}] must be a LogUniform, Uniform, IntUniform or Choice, got {dim!r}"
            )
    return space


def grid_search(space, n):
    """Every combination of ``n`` evenly spaced values per dimension (the Cartesian product
    of each dimension's ``grid(n)``; a :class:`Choice` contributes all its options).

    The number of trials grows as :math:`n^d` for :math:`d` dimensions, and each
    hyperparameter takes only :math:`n` distinct values: prefer :func:`random_search`
    (Bergstra & Bengio 2012) beyond two or three dimensions.

    Args:
        space: a dict of name -> dimension.
        n: the number of points per dimension, a positive integer.

    Returns:
        A list of trials, each a dict ``{name: value}``, in the order of the nested loops
        (the first dimension varies slowest).

    Example:
        >>> grid = grid_search({"lr": LogUniform(1e-4, 1.0), "act": Choice(["relu", "tanh"])}, 2)
        >>> [(round(t["lr"], 6), t["act"]) for t in grid]
        [(0.001, 'relu'), (0.001, 'tanh'), (0.1, 'relu'), (0.1, 'tanh')]
    """
    check_space(space)
    n = check.positive_int("n", n)
    names = list(space)
    axes = [space[name].grid(n) for name in names]
    return [dict(zip(names, values)) for values in itertools.product(*axes)]


def random_search(space, n, rng):
    """``n`` trials, each hyperparameter drawn independently from its dimension.

    The draws are made one dimension at a time, in the order of ``space``: the same ``rng``
    state gives the same trials, and adding trials (a larger ``n``) changes the earlier ones.

    Args:
        space: a dict of name -> dimension.
        n: the number of trials, a positive integer.
        rng: a ``numpy.random.Generator`` (e.g. ``np.random.default_rng(0)``) or an int seed.

    Returns:
        A list of ``n`` trials, each a dict ``{name: value}``, the format of
        :func:`grid_search`.
    """
    check_space(space)
    n, rng = check.positive_int("n", n), check.generator("rng", rng)
    columns = {name: dim.sample(rng, n) for name, dim in space.items()}
    return [{name: columns[name][i] for name in space} for i in range(n)]
