"""Grade a student's implementation against the reference.

Each check runs the student's function and the reference on the same inputs, compares the
values and gradients by relative error (:func:`nntrain.gradcheck.rel_error`), checks the
student's backward pass against centred finite differences, prints a short verdict and
returns ``True`` or ``False``, so a teacher's grading script can simply ``assert`` it.

Two rules hold for every check, so that grading is fair to a right answer and not to a
borrowed one:

* a warning raised by the student's code is reported as a ``note`` line on stdout and does
  not fail the check (an autograder such as nbgrader gives no points to a cell that writes
  to stderr);
* an answer that *is* one of the package's own functions (``my_affine_forward =
  nntrain.affine_forward``), or that calls the package's solution while it runs (under any
  name, through a wrapper, a ``lambda`` or ``functools.partial``), fails: the exercise asks
  for the student's own code. The check watches the calls the answer makes
  (``sys.setprofile``) for the code of the modules that solve the exercise (their NumPy
  reference and its PyTorch twin);
* an answer must leave its inputs as it found them: one that changes an argument in place
  fails, naming the argument.

Used by the exercises at the end of every chapter.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import pickle
import sys
import warnings

import numpy as np

from . import models, reference, techniques
from .gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from .landscape import bowls

__all__ = [
    "check_layer",
    "check_loss",
    "check_preprocessing",
    "check_init",
    "check_sampler",
    "check_value",
    "check_rule",
    "check_answer",
    "check_measurement",
    "check_reinit",
    "ANSWERS",
    "HYPERPARAMETERS",
    "SOLVED_BY",
    "STABLE",
]


def _example_inputs(name, rng):
    """Default inputs of the exercise ``name``: the first draw of its row in the registry
    (:mod:`nntrain.techniques`), kept away from kinks, ties and vanishing slopes."""
    arrays, _ = _technique(name).draw(rng)
    return arrays


def _technique(name):
    try:
        return techniques.technique(name)
    except KeyError:
        names = ", ".join(sorted({t.name for t in techniques.TECHNIQUES if " " not in t.name}))
        raise ValueError(f"no technique named {name!r}; the techniques are {names}") from None


def _reference(name, suffix):
    if suffix == "_forward":  # as graded: batch norm in train mode, default eps
        return _technique(name).graded_forward()
    fn = getattr(reference, f"{name}{suffix}", None)
    if fn is None:
        raise ValueError(f"nntrain.reference has no {name}{suffix}; check the reference name")
    return fn


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _same(a, b):
    """Whether ``b`` still equals ``a``: arrays entry by entry (NaN equal to NaN), then
    sequences, dicts and objects' attributes, recursively."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN
    if hasattr(a, "__dict__") and not callable(a):
        return type(a) is type(b) and _same(vars(a), vars(b))
    try:
        if bool(a == b):
            return True
    except Exception:  # an object that cannot say
        pass
    try:  # e.g. a random generator, equal only to itself: compare its state
        return type(a) is type(b) and pickle.dumps(a) == pickle.dumps(b)
    except Exception:
        return False


def _files_of(*modules):
    """The source files of ``modules`` and of their mirror in the other tree (a reference
    module's PyTorch twin, and the reverse): code an answer must not call."""
    files = set()
    for module in modules:
        name = module.__name__
        twins = {name}
        for a, b in (
            ("nntrain.reference.", "nntrain.torch."),
            ("nntrain.torch.", "nntrain.reference."),
        ):
            if name.startswith(a):
                twins.add(b + name[len(a) :])
        for twin in twins:
            try:
                files.add(inspect.getsourcefile(importlib.import_module(twin)))
            except ImportError:  # no twin of that name
                pass
    return frozenset(files)


class _Report:
    """Collects the lines of a verdict and whether every step passed. ``solved_by``: the
    modules whose code solves the exercise; an answer that calls them fails."""

    def __init__(self, title, tol, solved_by=()):
        self.title, self.tol, self.lines, self.ok = title, tol, [], True
        self.forbidden = _files_of(*solved_by)
        self.leaned_on = set()

    def own(self, *answers):
        """Fail for an answer that is one of the package's functions; True if all are the
        student's own."""
        for fn in answers:
            module = getattr(fn, "__module__", None) or ""
            name = getattr(fn, "__qualname__", "")
            in_package = module == "nntrain" or module.startswith("nntrain.")
            if in_package and getattr(sys.modules.get(module), name, None) is fn:
                self.fail(f"the answer is nntrain's own {module}.{name}; write your own code")
        return self.ok

    @contextlib.contextmanager
    def student_code(self):
        """Run the student's code, turning its warnings into ``note`` lines (stdout) and
        failing if it calls the code that solves the exercise."""
        previous = sys.getprofile()

        def watch(frame, event, arg):
            if event == "call" and frame.f_code.co_filename in self.forbidden:
                self.leaned_on.add(f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sys.setprofile(watch if self.forbidden else previous)
            try:
                yield
            finally:
                sys.setprofile(previous)
                self._notes(caught)
                if self.leaned_on:
                    self.fail(
                        f"your code calls nntrain's own {', '.join(sorted(self.leaned_on))}, "
                        "which solves the exercise; write your own code"
                    )
                    self.leaned_on.clear()

    def unchanged(self, given, after, names):
        """Fail, naming it, for every argument the answer changed in place."""
        for name, before, now in zip(names, given, after):
            if not _same(before, now):
                self.fail(f"it changed its argument {name} in place; leave the inputs as they are")

    def _notes(self, caught):
        for message in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
            self.lines.append(f"  note: your code warned ({message})")

    def compare(self, what, got, want, tol=None):
        tol = self.tol if tol is None else tol
        try:
            err = rel_error(got, want)
        except (ValueError, TypeError) as e:
            self.fail(f"{what}: {e}")
            return
        good = err < tol
        self.line(good, f"{what}: relative error {err:.1e} (tolerance {tol:g})")
        if not good and np.asarray(got).dtype in (np.float32, np.float16):
            self.lines.append(
                f"  hint: your {what} is {np.asarray(got).dtype}, whose rounding error alone is "
                "about 1e-7; compute in float64 (NumPy's default)"
            )

    def line(self, good, what):
        """Record a step that passed (an ``ok`` line) or did not (a ``BAD`` line)."""
        self.ok &= good
        self.lines.append(f"  {'ok ' if good else 'BAD'} {what}")

    def fail(self, message):
        self.ok = False
        self.lines.append(f"  BAD {message}")

    def verdict(self):
        head = f"{self.title}: {'PASS' if self.ok else 'FAIL'}"
        print("\n".join([head, *self.lines]))
        return bool(self.ok)


def check_layer(forward, backward, reference, inputs=None, *, seed=0, tol=1e-7, fd_tol=1e-6):
    """Grade a ``forward``/``backward`` pair against ``nntrain.reference.<reference>_*``.

    Args:
        forward: the student's ``forward(*inputs) -> (out, cache)``.
        backward: the student's ``backward(dout, cache)``; returns the gradient of every
            input (a single array when there is one input).
        reference: the technique's name, e.g. ``"affine"`` or ``"relu"``. For
            ``"batchnorm"`` the student's ``forward(x, gamma, beta)`` is the train-mode pass
            and ``backward`` returns ``(dx, dgamma, dbeta)``.
        inputs: a tuple of float64 arrays; None uses a default example.
        seed: seed of the default inputs and of the upstream gradient.
        tol: largest relative error accepted against the reference.
        fd_tol: largest relative error accepted against finite differences, whose own
            rounding error (about ``1e-16 * |f| / h``) dominates for small gradient entries.

    Returns:
        True when the output, every gradient and the numerical gradient check agree.

    Example:
        >>> def my_affine_forward(x, w, b):
        ...     return x.reshape(len(x), -1) @ w + b, (x, w)
        >>> def my_affine_backward(dout, cache):
        ...     x, w = cache
        ...     dx = (dout @ w.T).reshape(x.shape)
        ...     return dx, x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)
        >>> check_layer(my_affine_forward, my_affine_backward, "affine")  # doctest: +ELLIPSIS
        affine: PASS
          ok  forward output: relative error 0.0e+00 (tolerance 1e-07)
        ...
        True
    """
    ref_forward, ref_backward = (
        _reference(reference, "_forward"),
        _reference(reference, "_backward"),
    )
    rng = np.random.default_rng(seed)
    inputs = _example_inputs(reference, rng) if inputs is None else tuple(inputs)
    report = _Report(reference, tol, solved_by=[sys.modules[ref_backward.__module__]])
    if not report.own(forward, backward):
        return report.verdict()
    # a hyperparameter other than the default must be used, not ignored
    rounds = [()] + ([HYPERPARAMETERS[reference]] if reference in HYPERPARAMETERS else [])
    for hyper in rounds:
        _grade_layer(
            report, (forward, backward), (ref_forward, ref_backward), inputs, hyper, rng, fd_tol
        )
    if reference in STABLE:
        _grade_stability(report, forward, backward)
    return report.verdict()


#: Layers whose forward and backward must stay finite, without overflow, at large inputs.
STABLE = ("elu", "sigmoid", "tanh", "silu", "gelu")


def _grade_stability(report, forward, backward):
    x = np.array([-1e4, -700.0, 0.5, 710.0, 1e4])
    try:
        with report.student_code(), np.errstate(over="raise", invalid="raise"):
            out, cache = forward(x.copy())
            dx = _tuple(backward(np.ones_like(x), cache))[0]
        good = bool(np.isfinite(out).all() and np.isfinite(dx).all())
    except FloatingPointError as e:
        report.fail(
            f"at x = +-1e4 the forward or backward pass overflows ({e}): never "
            "evaluate exp of a large positive number"
        )
        return
    except Exception as e:
        report.fail(f"at x = +-1e4: raised {type(e).__name__}: {e}")
        return
    report.ok &= good
    report.lines.append(f"  {'ok ' if good else 'BAD'} finite output and gradient at x = +-1e4")


#: A second value of a layer's hyperparameter that :func:`check_layer` grades with.
HYPERPARAMETERS = {"leaky_relu": (0.2,), "elu": (0.5,)}


def _grade_layer(report, student, ref, inputs, hyper, rng, fd_tol):
    """One round of :func:`check_layer`: outputs, gradients and finite differences of the
    student's ``(forward, backward)`` against the reference's, with the extra arguments
    ``hyper`` (not differentiated)."""
    (forward, backward), (ref_forward, ref_backward) = student, ref
    where = f" (with {', '.join(map(repr, hyper))})" if hyper else ""
    want, ref_cache = ref_forward(*inputs, *hyper)
    dout = rng.standard_normal(want.shape)
    given, dout_given = [x.copy() for x in inputs], dout.copy()
    try:
        with report.student_code():
            got, cache = forward(*given, *hyper)
            report.compare(f"forward output{where}", got, want)
            got_grads = _tuple(backward(dout_given, cache))
    except Exception as e:  # a student's error becomes a FAIL line, not a crash
        report.fail(f"raised {type(e).__name__}{where}: {e}")
        return
    names = [f"input {i + 1} of the forward pass" for i in range(len(inputs))]
    report.unchanged([*inputs, dout], [*given, dout_given], [*names, "dout of the backward pass"])
    want_grads = _tuple(ref_backward(dout, ref_cache))
    if len(got_grads) != len(want_grads):
        report.fail(f"backward returned {len(got_grads)} gradients, expected {len(want_grads)}")
        return
    for i, (g, w) in enumerate(zip(got_grads, want_grads)):
        report.compare(f"gradient of input {i + 1}{where}", g, w)
        args = [x.copy() for x in inputs]

        def f(a, i=i, args=args):
            return forward(*args[:i], a, *args[i + 1 :], *hyper)[0]

        try:
            with report.student_code():
                numerical = eval_numerical_gradient_array(f, args[i], dout)
        except Exception as e:  # e.g. a forward whose output has the wrong shape
            report.fail(f"finite differences of input {i + 1} raised {type(e).__name__}: {e}")
            continue
        report.compare(
            f"gradient of input {i + 1} vs finite differences{where}", g, numerical, tol=fd_tol
        )


def check_loss(loss, reference, inputs=None, *, seed=0, tol=1e-7, fd_tol=1e-6):
    """Grade a loss ``loss(scores, y) -> (value, dscores)`` against the reference loss.

    Args:
        loss: the student's loss function.
        reference: the reference loss's name, e.g. ``"svm_loss"`` or ``"softmax_loss"``.
        inputs: ``(scores, y)``; None draws 8 examples of 5 classes.
        seed: seed of the default inputs.
        tol: largest relative error accepted against the reference.
        fd_tol: largest relative error accepted against finite differences.

    Returns:
        True when the value, the gradient and the numerical gradient check agree.
    """
    ref = _reference(reference, "")
    rng = np.random.default_rng(seed)
    if inputs is None:
        inputs = (rng.standard_normal((8, 5)), rng.integers(0, 5, size=8))
    scores, y = inputs
    report = _Report(reference, tol, solved_by=[sys.modules[ref.__module__]])
    if not report.own(loss):
        return report.verdict()
    want, want_grad = ref(scores, y)
    try:
        with report.student_code():
            got, got_grad = loss(scores.copy(), y.copy())
            report.compare("loss value", np.float64(got), np.float64(want))
            report.compare("gradient", got_grad, want_grad)
            s = scores.copy()
            numerical = eval_numerical_gradient(lambda a: loss(a, y)[0], s)
        report.compare("gradient vs finite differences", got_grad, numerical, tol=fd_tol)
    except Exception as e:
        report.fail(f"raised {type(e).__name__}: {e}")
    return report.verdict()


def _split_with_a_shift(rng, n_train=200, n_val=50, dim=6):
    """Correlated training data and validation data whose mean and scale differ from it, so
    statistics recomputed on the validation split give visibly different output."""
    mixing = rng.standard_normal((dim, dim)) * np.logspace(0, -1, dim)[:, None]
    shift = rng.uniform(-3, 3, dim)
    X_train = rng.standard_normal((n_train, dim)) @ mixing + shift
    X_val = 1.5 * rng.standard_normal((n_val, dim)) @ mixing + shift + 1.0
    return X_train, X_val


def check_preprocessing(fit, transform, reference, *, seed=0, tol=1e-7, **kwargs):
    """Grade a student's preprocessing against ``nntrain.reference.preprocessing.<reference>``
    (with its default arguments, or ``kwargs``, which the student's ``fit`` receives too).

    The student writes two functions: ``fit(X_train) -> stats`` computes whatever statistics
    the method needs from the training split (any object: a tuple, a dict), and
    ``transform(X, stats) -> X_new`` applies them to any split. The check fits on a training
    split and transforms both it and a validation split drawn with another mean and scale,
    so statistics recomputed inside ``transform`` are caught. For ``"PCA"`` and ``"Whiten"``
    each output column may differ from the reference by its sign (an eigenvector's sign is
    arbitrary). It also checks that neither function modifies its input.

    Args:
        fit: the student's ``fit(X_train)``.
        transform: the student's ``transform(X, stats)``.
        reference: a class name of :mod:`nntrain.reference.preprocessing`, e.g.
            ``"Standardize"`` or ``"Whiten"``.
        seed: seed of the example data.
        tol: largest relative error accepted against the reference.
        kwargs: arguments of the reference class and of the student's ``fit``, e.g.
            ``k=2`` for ``"PCA"``.

    Returns:
        True when both splits agree with the reference.
    """
    from .reference import preprocessing

    if not isinstance(reference, str) or not hasattr(preprocessing, reference):
        raise ValueError(
            f"reference must name a class of nntrain.reference.preprocessing, got {reference!r}"
        )
    X_train, X_val = _split_with_a_shift(np.random.default_rng(seed))
    model = getattr(preprocessing, reference)(**kwargs).fit(X_train)
    report = _Report(reference, tol, solved_by=[preprocessing])
    if not report.own(fit, transform):
        return report.verdict()
    try:
        train_copy, val_copy = X_train.copy(), X_val.copy()
        with report.student_code():
            stats = fit(train_copy, **kwargs)
            outputs = {
                split: np.asarray(transform(X, stats), dtype=np.float64)
                for split, X in (("training split", train_copy), ("validation split", val_copy))
            }
        if not (np.array_equal(train_copy, X_train) and np.array_equal(val_copy, X_val)):
            report.fail("fit or transform modified its input array in place")
    except Exception as e:  # a student's error becomes a FAIL line, not a crash
        report.fail(f"raised {type(e).__name__}: {e}")
        return report.verdict()
    signs = None
    for (split, got), X in zip(outputs.items(), (X_train, X_val)):
        want = model.transform(X)
        if got.shape != want.shape:
            report.fail(f"{split}: output of shape {got.shape}, expected {want.shape}")
            continue
        if reference in ("PCA", "Whiten"):
            if signs is None:  # one sign per component, fixed on the training split
                signs = np.where((got * want).sum(axis=0) < 0, -1.0, 1.0)
            want = want * signs
        report.compare(f"{split} output", got, want)
    return report.verdict()


def check_init(init, reference, *, seed=0, tol=0.03):
    """Grade a student's weight initialization against ``nntrain.reference.init.<reference>``.

    ``init(shape, rng)`` must return a new float64 array of that shape, drawn only from the
    ``numpy.random.Generator`` it is given. The check draws an affine shape ``(D_in, D_out)``
    and a convolutional shape ``(F, C, HH, WW)`` (whose fan-in is ``C * HH * WW``) and compares
    each draw with one of the reference: the standard deviation (relative error below
    ``tol``) and the whole distribution (a two-sample Kolmogorov-Smirnov test, so a uniform
    draw cannot pass for a normal one). It also checks that the same seed gives the same
    draw.

    Args:
        init: the student's function ``init(shape, rng)``.
        reference: the name of a reference scheme with default arguments, e.g.
            ``"xavier_normal"`` or ``"kaiming_normal"``.
        seed: seed of the draws.
        tol: largest relative error of the standard deviation.

    Returns:
        True when every comparison passes.
    """
    from .reference import init as schemes

    want_fn = _random_scheme(schemes, reference)
    report = _Report(reference, tol, solved_by=[schemes])
    if not report.own(init):
        return report.verdict()
    for shape in ((300, 200), (64, 16, 3, 3)):
        want = want_fn(shape, rng=np.random.default_rng(seed + 1))
        got = _draw_twice(report, init, shape, seed)
        if got is None:
            continue
        report.compare(
            f"shape {shape}: standard deviation", np.float64(got.std()), np.float64(want.std())
        )
        _same_distribution(report, got.ravel(), want.ravel(), f"shape {shape}: ")
    return report.verdict()


def _random_scheme(schemes, reference):
    """The random scheme of :mod:`nntrain.reference.init` named ``reference``."""
    if (
        not isinstance(reference, str)
        or reference.startswith("_")
        or not callable(getattr(schemes, reference, None))
        or reference in ("calculate_gain", "fans", "zeros", "constant", "normal")
    ):
        raise ValueError(
            f"reference must name a random scheme of nntrain.reference.init, got {reference!r}"
        )
    return getattr(schemes, reference)


def _draw_twice(report, init, shape, seed):
    """The student's draw ``init(shape, rng)`` as an array, after a second draw from the
    same seed that must equal it; ``None`` (and a FAIL line) when the draw cannot be
    compared: it raised, or is not float64 of that shape."""
    try:
        with report.student_code():
            got = init(shape, np.random.default_rng(seed))
            again = init(shape, np.random.default_rng(seed))
    except Exception as e:  # a student's error becomes a FAIL line, not a crash
        report.fail(f"shape {shape}: raised {type(e).__name__}: {e}")
        return None
    got = np.asarray(got)
    if got.shape != shape or got.dtype != np.float64:
        report.fail(
            f"shape {shape}: returned {got.dtype} of shape {got.shape}, "
            f"expected float64 of shape {shape}"
        )
        return None
    if not np.array_equal(got, again):
        report.fail(
            f"shape {shape}: two calls with the same seed gave different draws "
            "(draw from the rng argument only)"
        )
    return got


def _same_distribution(report, got, want, prefix=""):
    """Compare two samples by a two-sample Kolmogorov-Smirnov test: a line that passes when
    its p-value is above 1e-3."""
    from scipy.stats import ks_2samp

    p = ks_2samp(got, want).pvalue
    report.line(
        p > 1e-3, f"{prefix}same distribution as the reference (Kolmogorov-Smirnov p = {p:.2g})"
    )


def check_sampler(sample, dimension, *, seed=0, n=20_000):
    """Grade a student's sampler against a search dimension of :mod:`nntrain.search`.

    ``sample(low, high, n, rng)`` must return ``n`` values drawn only from the
    ``numpy.random.Generator`` it is given, with the distribution of ``dimension`` (for
    example ``LogUniform(1e-5, 1e-1)``). The check draws ``n`` values, checks that they lie
    in ``[low, high]``, that the same seed gives the same values and another seed others (a
    fixed grid such as ``np.geomspace`` is not a sample), and compares them with
    the dimension's own samples by a two-sample Kolmogorov-Smirnov test (so a uniform
    sampler cannot pass for a log-uniform one).

    Args:
        sample: the student's function ``sample(low, high, n, rng)``.
        dimension: a ``LogUniform`` or ``Uniform`` of :mod:`nntrain.search`.
        seed: seed of the draws.
        n: how many values to draw.

    Returns:
        True when every comparison passes.
    """
    from .search import LogUniform, Uniform

    if not isinstance(dimension, (LogUniform, Uniform)):
        raise TypeError(
            f"dimension must be a LogUniform or Uniform of nntrain.search, got "
            f"{type(dimension).__name__}"
        )
    report = _Report(repr(dimension), 0.0, solved_by=[sys.modules[type(dimension).__module__]])
    if not report.own(sample):
        return report.verdict()
    low, high = dimension.low, dimension.high

    def draw(s):
        return np.asarray(sample(low, high, n, np.random.default_rng(s)), dtype=np.float64)

    try:
        with report.student_code():
            got, again, other = draw(seed), draw(seed), draw(seed + 1)
    except Exception as e:  # a student's error becomes a FAIL line, not a crash
        report.fail(f"raised {type(e).__name__}: {e}")
        return report.verdict()
    if got.shape != (n,):
        report.fail(f"returned shape {got.shape}, expected ({n},)")
        return report.verdict()
    for good, what in _sample_properties(got, again, other, low, high):
        report.line(good, what)
    want = np.asarray(dimension.sample(np.random.default_rng(seed + 1), n))
    _same_distribution(report, got, want)
    return report.verdict()


def _sample_properties(got, again, other, low, high):
    """``(holds, what)`` for each property of a sample ``got`` of ``n`` values, drawn again
    from the same seed (``again``) and from another (``other``)."""
    n = got.size
    return [
        (bool(np.all((got >= low) & (got <= high))), f"every value in [{low:g}, {high:g}]"),
        (np.array_equal(got, again), "the same seed gives the same values"),
        (not np.array_equal(got, other), "another seed gives other values (draws from rng)"),
        (
            np.intersect1d(got, other).size < n // 100,
            "another seed draws new values, not the same values reordered (a fixed grid "
            "such as np.geomspace, shuffled, is not a sample)",
        ),
    ]


def check_value(answer, expected, name, *, tol=1e-9):
    """Grade a number (or array) answer, e.g. a parameter count, against the expected one.

    Returns:
        True when the relative error is below ``tol``.
    """
    report = _Report(name, tol)
    try:
        report.compare(
            "value", np.asarray(answer, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        )
    except Exception as e:
        report.fail(f"raised {type(e).__name__}: {e}")
    return report.verdict()


def check_rule(rule, reference, *, seed=0, steps=25, tol=1e-7, **config):
    """Grade an update rule ``rule(w, dw, config=None) -> (next_w, config)`` against
    ``nntrain.reference.optim.<reference>``.

    Both run ``steps`` steps from the same start on the same stream of gradients (those of a
    random quadratic, so that each step depends on the last), each with its own copy of
    ``config`` (the hyperparameters; the rule's defaults fill the rest). Every iterate is
    compared (the line reports the largest relative error over all of them), and so is the
    state the rule leaves in its config after the last step (velocity, cache, moments,
    step count). A second round uses other hyperparameters, and a rule that returns ``w``
    changed in place fails: the caller's array must stay as it was.

    Example:
        >>> def my_sgd(w, dw, config=None):
        ...     config = {} if config is None else config
        ...     config.setdefault("learning_rate", 1e-2)
        ...     return w - config["learning_rate"] * dw, config
        >>> check_rule(my_sgd, "sgd")  # doctest: +ELLIPSIS
        sgd: PASS
          ok  round 1: w at each of the 25 steps: relative error 0.0e+00 (tolerance 1e-07)
          ok  round 2: ...
        True
    """
    from .reference import optim

    if reference not in optim.RULES:
        raise ValueError(f"reference must be one of {sorted(optim.RULES)}, got {reference!r}")
    report = _Report(reference, tol, solved_by=[optim])
    if not report.own(rule):
        return report.verdict()
    rng = np.random.default_rng(seed)
    shape = (4, 3)
    A = rng.standard_normal((12, 12))
    hessian = A @ A.T / 12 + 0.1 * np.eye(12)
    rounds = [config, {**config, **_SECOND_ROUND.get(reference, {})}]
    want_rule = optim.RULES[reference]
    for r, hyper in enumerate(rounds, 1):
        start = rng.standard_normal(shape)
        run = _follow(report, f"round {r}", rule, want_rule, hessian, start, hyper, steps)
        if run is None:
            continue
        path_got, path_ref, cfg_got, cfg_ref = run
        report.compare(f"round {r}: w at each of the {steps} steps", path_got, path_ref)
        keys = (*optim.STATE[reference], *("t",) * ("t" in cfg_ref))
        _compare_state(report, f"round {r}", keys, cfg_got, cfg_ref)
    return report.verdict()


def _follow(report, label, rule, reference_rule, hessian, start, hyper, steps):
    """Run the student's rule and the reference's from ``start``, each on its own copy of
    the hyperparameters ``hyper``, for ``steps`` steps on the gradients of the quadratic
    with this ``hessian`` at the reference's iterate. Returns ``(path_got, path_ref,
    config_got, config_ref)``, or ``None`` (and a FAIL line) when the rule raised or
    changed ``w`` in place."""
    w_ref = w_got = start
    cfg_ref, cfg_got = copy.deepcopy(hyper), copy.deepcopy(hyper)
    path_ref, path_got = [], []
    for step in range(1, steps + 1):
        dw = (hessian @ w_ref.ravel()).reshape(start.shape)  # both see the reference's gradient
        w_in, before = w_got, w_got.copy()
        w_ref, cfg_ref = reference_rule(w_ref, dw, cfg_ref)
        try:
            with report.student_code():
                w_got, cfg_got = rule(w_in, dw.copy(), cfg_got)
        except Exception as e:
            report.fail(f"{label}, step {step}: raised {type(e).__name__}: {e}")
            return None
        if not np.array_equal(w_in, before):
            report.fail(f"{label}: the rule changed w in place; return a new array")
            return None
        path_ref.append(w_ref)
        path_got.append(np.asarray(w_got, dtype=np.float64))
    return path_got, path_ref, cfg_got, cfg_ref


def _compare_state(report, label, keys, cfg_got, cfg_ref):
    """Compare the state the rule left in its config under ``keys``; when the iterates
    matched, a hint (once) that only the state differs."""
    w_matched = report.ok
    for key in keys:
        if key not in cfg_got:
            report.fail(f"{label}: config has no {key!r} (the rule's state)")
            continue
        report.compare(f"{label}: config[{key!r}]", cfg_got[key], cfg_ref[key])
        if w_matched and not report.ok:  # say it once: the steps are right
            report.lines.append(
                f"  hint: w matched at every step; only config[{key!r}] differs: "
                "store the state as the exercise defines it"
            )
            w_matched = False


#: Other hyperparameters for the second round of :func:`check_rule`.
_SECOND_ROUND = {
    "sgd": {"learning_rate": 0.05},
    "sgd_momentum": {"learning_rate": 0.03, "momentum": 0.5},
    "nesterov": {"learning_rate": 0.03, "momentum": 0.5},
    "adagrad": {"learning_rate": 0.1, "epsilon": 0.1},
    "rmsprop": {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 0.1},
    "adam": {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 0.1},
    "adamw": {"learning_rate": 0.01, "weight_decay": 0.1, "epsilon": 0.1},
}


def _dead_fractions(net, X):
    from .diagnostics import record, summarize

    return [s.dead for s in summarize(record(net, X))]


def _running_statistics(running_mean, running_var, x, momentum):
    bn_param = {
        "mode": "train",
        "momentum": momentum,
        "running_mean": running_mean.copy(),
        "running_var": running_var.copy(),
    }
    d = x.shape[1]
    reference.batchnorm_forward(x, np.ones(d), np.zeros(d), bn_param)
    return bn_param["running_mean"], bn_param["running_var"]


def _batchnorm_test(x, gamma, beta, running_mean, running_var):
    stats = {"running_mean": running_mean, "running_var": running_var}
    return reference.batchnorm_forward(x, gamma, beta, {"mode": "test", **stats})[0]


def _narrow_log_range(values, scores, low, high, keep):
    from .search import LogUniform, narrow

    new = narrow({"p": LogUniform(low, high)}, [{"p": v} for v in values], scores, keep)["p"]
    return new.low, new.high


def _should_stop(costs):
    from .search import should_stop

    return should_stop(costs)


def _max_stable_lr(hessian, momentum=0.0):
    # gradient descent with heavy-ball momentum on a quadratic converges iff
    # 0 < lr * lambda < 2 + 2 * momentum for every eigenvalue lambda of the Hessian
    return bowls.momentum_max_step(momentum, np.linalg.eigvalsh(hessian).max())


def _dropout_forward(x, p, keep):
    return reference.dropout_forward(x, {"mode": "train", "p": p, "mask": keep})[0]


def _dropout_backward(dout, p, keep):
    _, cache = reference.dropout_forward(dout, {"mode": "train", "p": p, "mask": keep})
    return reference.dropout_backward(dout, cache)


def _expected_initial_loss(num_classes, loss):
    # all scores equal at a small initialization: softmax gives ln C, the hinge C - 1
    return float(np.log(num_classes)) if loss == "softmax" else float(num_classes - 1)


def _update_ratio(before, after):
    return models.update_ratio(after, before)


def _centred_difference(f, x, h):
    return eval_numerical_gradient(f, x.copy(), h=h)


#: What :func:`check_answer` compares an answer with, name -> the package's computation.
ANSWERS = {
    "dead_fractions": _dead_fractions,
    "running_statistics": _running_statistics,
    "batchnorm_test": _batchnorm_test,
    "narrow_log_range": _narrow_log_range,
    "should_stop": _should_stop,
    "max_stable_lr": _max_stable_lr,
    "dropout_forward": _dropout_forward,
    "dropout_backward": _dropout_backward,
    "soft_threshold": reference.soft_threshold,
    "max_norm": reference.max_norm,
    "expected_initial_loss": _expected_initial_loss,
    "update_ratio": _update_ratio,
    "centred_difference": _centred_difference,
}

#: The package modules whose code solves each :data:`ANSWERS` exercise. An answer that calls
#: them (or their twin in the other tree) while it runs fails.
SOLVED_BY = {
    "dead_fractions": ("nntrain.diagnostics", "nntrain.reference.fc_net"),
    "running_statistics": ("nntrain.reference.normalization",),
    "batchnorm_test": ("nntrain.reference.normalization",),
    "narrow_log_range": ("nntrain.search.refine",),
    "should_stop": ("nntrain.search.batched",),
    "max_stable_lr": ("nntrain.landscape.bowls",),
    "dropout_forward": ("nntrain.reference.dropout",),
    "dropout_backward": ("nntrain.reference.dropout",),
    "soft_threshold": ("nntrain.reference.penalties",),
    "max_norm": ("nntrain.reference.penalties",),
    "expected_initial_loss": ("nntrain.babysit.steps",),
    "update_ratio": ("nntrain.train", "nntrain.models"),
    "centred_difference": ("nntrain.gradcheck",),
}


def _with_biases(net, scale, seed):
    """A copy of a reference net whose biases are drawn from N(0, scale^2)."""
    net = copy.deepcopy(net)
    rng = np.random.default_rng(seed)
    for key in [k for k in net.params if k.startswith("b")]:
        net.params[key] = scale * rng.standard_normal(net.params[key].shape)
    return net


#: The grader's cases of :func:`_grader_cases` that need no draw: ``name -> [(what it
#: probes, arguments), ...]``. The arguments are copied before each call.
_FIXED_CASES = {
    "expected_initial_loss": [("3 classes", (3, "softmax")), ("3 classes", (3, "svm"))],
    "max_norm": [
        (
            "c = 2, columns of norm 5, 1.5 and 1.5",
            (np.array([[3.0, 0.1, 1.0], [4.0, 0.2, -1.0], [0.0, 1.5, 0.5]]), 2.0),
        )
    ],
    "soft_threshold": [
        ("t = 0.25 on both signs", (np.array([[-0.3, -0.2, 0.1], [0.26, 1.0, -2.0]]), 0.25))
    ],
    "should_stop": [
        ("the first cost is not the lowest", ([3.0, 1.0, 3.5],)),
        ("the previous cost is not the first", ([1.0, 2.5, 3.5],)),
        ("minus infinity", ([2.0, float("-inf")],)),
        ("exactly 3 times the first cost", ([1.5, 4.5],)),
        ("an earlier cost exploded, the latest did not", ([1.0, 5.0, 2.0],)),
    ],
}


def _grader_cases(name, cases):
    """The cases :func:`check_answer` adds to the exercise's own, each with what it probes:
    inputs where the common mistakes give another answer (a forgotten bias, a hard-coded
    constant, a separable function, a count rounded down, ...)."""
    if name in _FIXED_CASES:
        return copy.deepcopy(_FIXED_CASES[name])
    rng = np.random.default_rng(12345)
    if name == "dead_fractions":
        return [("with nonzero biases", (_with_biases(net, 2.0, 0), X)) for net, X in cases]
    if name == "update_ratio":
        W = rng.standard_normal((7, 5))
        step = 0.01 * rng.standard_normal((7, 5))
        return [("an update that is not a rescaling", (W, W + step))]
    if name == "centred_difference":
        A = rng.standard_normal((4, 4))

        def coupled(v):  # not a sum of one-variable terms: a change to x stays visible
            return float(v.ravel() @ A @ v.ravel() + np.sin(v).prod())

        return [("a function that couples the entries", (coupled, rng.standard_normal(4), 1e-5))]
    if name == "narrow_log_range":
        values = list(np.geomspace(1e-4, 1.0, 20))
        scores = [-abs(i - 12.0) for i in range(20)]  # best at values[12], then 11 and 13
        with_nan = [float("nan")] + scores[1:]
        at_the_top = [-abs(i - 19.0) for i in range(20)]  # best at the highest value
        return [
            ("keep 0.12 of 20 trials: 2.4, rounded up to 3", (values, scores, 1e-4, 1.0, 0.12)),
            ("a NaN score on the lowest value", (values, with_nan, 1e-4, 1.0, 0.3)),
            ("the best trials at the top of the range", (values, at_the_top, 1e-4, 1.0, 0.1)),
        ]
    if name == "running_statistics":
        return [
            (
                "momentum 0.3, running statistics not at their start",
                (rng.standard_normal(3), rng.uniform(0.5, 2, 3), rng.standard_normal((4, 3)), 0.3),
            )
        ]
    return []


def _compare_answers(report, what, got, want):
    """Compare nested tuples and lists of numbers, arrays, bools and strings."""
    if isinstance(want, (bool, np.bool_, str)):
        good = type(got) in (bool, np.bool_, str) and got == want
        report.ok &= good
        report.lines.append(f"  {'ok ' if good else 'BAD'} {what}: {got!r} (expected {want!r})")
    elif isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list, np.ndarray)) or len(got) != len(want):
            report.fail(f"{what}: {got!r} is not a sequence of {len(want)} values")
            return
        for i, (g, w) in enumerate(zip(got, want)):
            _compare_answers(report, f"{what}[{i}]", g, w)
    else:
        report.compare(what, np.asarray(got), np.asarray(want, np.float64))


def check_answer(answer, name, cases, *, tol=1e-7):
    """Grade a function against the package's own computation of the same thing.

    Args:
        answer: the student's function.
        name: what it computes, a key of :data:`ANSWERS` (e.g. ``"dead_fractions"``).
        cases: a list of argument tuples; each is passed (copied) to both. The check adds
            cases of its own where the common mistakes show (``_grader_cases``), and fails
            an answer that changes its arguments or calls the package's solution.
        tol: largest relative error accepted for numbers and arrays (bools and strings must
            be equal).

    Returns:
        True when every case agrees.

    Example:
        >>> def stop(costs):
        ...     return not np.isfinite(costs[-1]) or costs[-1] > 3 * costs[0]
        >>> check_answer(stop, "should_stop", [([2.3, 7.0],)])  # doctest: +ELLIPSIS
        should_stop: PASS
          ok  case 1: True (expected True)
          ok  the grader's case 1 (the first cost is not the lowest): False (expected False)
        ...
        True
    """
    if name not in ANSWERS:
        raise ValueError(f"name must be one of {sorted(ANSWERS)}, got {name!r}")
    modules = [importlib.import_module(m) for m in SOLVED_BY[name]]
    report = _Report(name, tol, solved_by=modules)
    if not report.own(answer):
        return report.verdict()
    try:
        names = list(inspect.signature(answer).parameters)
    except (TypeError, ValueError):
        names = []
    labelled = [(f"case {i}", args) for i, args in enumerate(cases, 1)]
    labelled += [
        (f"the grader's case {i} ({what})", args)
        for i, (what, args) in enumerate(_grader_cases(name, cases), 1)
    ]
    for label, args in labelled:
        want = ANSWERS[name](*copy.deepcopy(args))
        given = copy.deepcopy(args)
        try:
            with report.student_code():
                got = answer(*given)
        except Exception as e:  # a student's error becomes a FAIL line, not a crash
            report.fail(f"{label}: raised {type(e).__name__}: {e}")
            continue
        arg_names = [f"{n!r}" for n in names] + [f"{k + 1}" for k in range(len(names), len(args))]
        report.unchanged(args, given, [f"{a} ({label})" for a in arg_names])
        _compare_answers(report, label, got, want)
    return report.verdict()


def check_measurement(experiment, name, settings):
    """Grade a student's experiment: a function that runs a small experiment and returns one
    number, compared with the package's own measurement ``name`` (registered in
    :mod:`nntrain.measurements`, with its relative tolerance) at each setting.

    Args:
        experiment: the student's function, called as ``experiment(**setting)``.
        name: a key of :data:`nntrain.measurements.MEASUREMENTS`.
        settings: a list of dicts of keyword arguments, e.g. ``[dict(seed=0)]``.

    Returns:
        True when every setting's number agrees. An experiment that calls the code that
        answers it outright (the registered measurement, or the modules it names) fails.

    Example:
        >>> from nntrain.measurements import MEASUREMENTS, measurement
        >>> @measurement("doctest_sum_of_uniforms", tol=1e-9)
        ... def total(seed, n=4):
        ...     return float(np.random.default_rng(seed).random(n).sum())
        >>> def mine(seed, n=4):
        ...     rng = np.random.default_rng(seed)
        ...     return sum(rng.random() for _ in range(n))
        >>> check_measurement(mine, "doctest_sum_of_uniforms", [dict(seed=0), dict(seed=1, n=9)])
        ... # doctest: +ELLIPSIS
        doctest_sum_of_uniforms: PASS
          ok  seed=0: relative error ...
          ok  seed=1, n=9: relative error ...
        True
        >>> del MEASUREMENTS["doctest_sum_of_uniforms"]
    """
    from .measurements import MEASUREMENTS

    if name not in MEASUREMENTS:
        raise ValueError(f"name must be one of {sorted(MEASUREMENTS)}, got {name!r}")
    if not settings or not all(isinstance(s, dict) for s in settings):
        raise TypeError(f"settings must be a non-empty list of dicts, got {settings!r}")
    m = MEASUREMENTS[name]
    report = _Report(name, m.tol, solved_by=[importlib.import_module(s) for s in m.solved_by])
    if not report.own(experiment):
        return report.verdict()
    for setting in settings:
        label = ", ".join(f"{k}={v!r}" for k, v in setting.items())
        want = m.compute(**copy.deepcopy(setting))
        try:
            with report.student_code():
                got = experiment(**copy.deepcopy(setting))
        except Exception as e:  # a student's error becomes a FAIL line, not a crash
            report.fail(f"{label}: raised {type(e).__name__}: {e}")
            continue
        if isinstance(got, (bool, np.bool_)) or np.ndim(got) != 0:
            report.fail(f"{label}: returned {got!r}; return one number")
            continue
        report.compare(label, float(got), float(want))
    return report.verdict()


def _reinit_nets():
    """The grader's own broken nets for :func:`check_reinit`: a ReLU and a tanh net whose
    layers change width (so that fan-in and fan-out differ by up to 8 times), with weights
    of one fixed scale and biases far from 0."""
    from .reference import FullyConnectedNet

    nets = []
    for activation, widths in (("relu", [256, 64, 256, 32, 128]), ("tanh", [64, 256, 32, 128])):
        net = FullyConnectedNet(widths, 64, 10, activation=activation, weight_scale=0.05, seed=7)
        nets.append(_with_biases(net, 0.5, 1))
    return nets


def check_reinit(fix, nets, *, seed=0, band=2.5, tol=0.08):
    r"""Grade a fix for deep nets whose initialization is broken.

    ``fix(net, rng)`` must re-draw, in place and from ``rng`` only, the weights of a
    reference :class:`~nntrain.reference.fc_net.FullyConnectedNet` (hidden nonlinearity
    ``net.activation``) and set its biases to 0, so that the signal keeps its size through
    the depth. For each net of ``nets`` and two of the grader's own (a ReLU and a tanh net
    whose layers change width, with biases far from 0), the check calls the fix on a copy
    and checks:

    * the band: on 500 examples of unit-variance noise, the largest hidden layer's
      activation std is less than ``band`` times the smallest (the signal neither vanishes
      nor explodes with depth). A ReLU net's signal wanders even at the right scale (a
      product of random matrices): over 100 draws of an 8-layer net 32 to 256 units wide, a
      right fix spreads 1.3 times at the median and 1.98 at worst;
    * the scale of every hidden layer's weights: mean 0 and standard deviation
      :math:`g / \sqrt{n_\text{in}}` with :math:`g` = ``init.calculate_gain(net.activation)``
      and :math:`n_\text{in}` the layer's fan-in (relative error below ``tol``). The band
      alone cannot tell every wrong scale: He's :math:`\sqrt 2` with tanh keeps ten layers
      within 1.31, against 1.18 with tanh's gain :math:`5/3` (the output layer may have any
      scale);
    * biases of at most 0.01 in size;
    * the same seed gives the same weights.

    Args:
        fix: the student's function ``fix(net, rng)``; it may also return the fixed net.
        nets: a list of reference ``FullyConnectedNet`` (ReLU or tanh hidden layers).
        seed: seed of the ``numpy.random.Generator`` handed to the fix.
        band: largest ratio of the hidden layers' activation stds.
        tol: largest relative error of a hidden layer's weight std.

    Returns:
        True when every net passes.

    Example:
        >>> from nntrain.reference import FullyConnectedNet, init
        >>> def fix(net, rng):
        ...     for k in range(1, net.num_layers):
        ...         W = net.params[f"W{k}"]
        ...         gain = init.calculate_gain(net.activation)
        ...         net.params[f"W{k}"] = gain / np.sqrt(W.shape[0]) * rng.standard_normal(W.shape)
        ...         net.params[f"b{k}"] = np.zeros_like(net.params[f"b{k}"])
        >>> broken = FullyConnectedNet([100] * 8, 64, 10, weight_scale=0.01, seed=0)
        >>> check_reinit(fix, [broken])  # doctest: +ELLIPSIS
        reinit: PASS
        ...
        True
    """
    from .reference import FullyConnectedNet

    if not isinstance(nets, (list, tuple)) or not all(
        isinstance(n, FullyConnectedNet) and n.activation in ("relu", "tanh") for n in nets
    ):
        raise TypeError(f"nets must be a list of ReLU or tanh FullyConnectedNet, got {nets!r}")
    report = _Report("reinit", tol)
    if not report.own(fix):
        return report.verdict()
    for i, given in enumerate([*nets, *_reinit_nets()], 1):
        label = f"net {i} ({given.activation}, {given.num_layers - 1} hidden layers)"
        fixed = _fix_twice(report, label, fix, given, seed)
        if fixed is None:
            continue
        net, again = fixed
        if any(not np.array_equal(net.params[k], again.params[k]) for k in net.params):
            report.fail(f"{label}: the same seed gave different weights (draw from rng only)")
        stds, spread = _activation_stds(net, seed)
        report.line(
            spread < band,
            f"{label}: activation std per hidden layer {np.array2string(stds, precision=2)}, "
            f"largest / smallest {spread:.2f} (band: below {band:g})",
        )
        gain, scales, off = _weight_scales(net)
        if off:
            report.fail(f"{label}: the weights of hidden layer(s) {off} do not have mean 0")
        report.line(
            bool(np.all(np.abs(scales - gain) <= tol * gain)),
            f"{label}: weight std times sqrt(fan-in) per hidden layer "
            f"{np.array2string(scales, precision=2)}; the scheme for {net.activation} "
            f"gives its gain, {gain:.2f} (tolerance {tol:g})",
        )
        biggest = max(np.abs(net.params[f"b{k}"]).max() for k in range(1, net.num_layers))
        if biggest > 0.01:
            report.fail(f"{label}: a bias of size {biggest:.2g} is left; start the biases at 0")
    return report.verdict()


def _fix_twice(report, label, fix, given, seed):
    """Two fixed copies of the net ``given`` (the fix's return value when it is a net,
    else the copy it changed), both from the same seed; ``None`` (and a FAIL line) when the
    fix raised."""
    from .reference import FullyConnectedNet

    fixed = []
    for _ in range(2):  # twice with the same seed: the same weights
        net = copy.deepcopy(given)
        try:
            with report.student_code():
                out = fix(net, np.random.default_rng(seed))
        except Exception as e:  # a student's error becomes a FAIL line, not a crash
            report.fail(f"{label}: raised {type(e).__name__}: {e}")
            return None
        fixed.append(out if isinstance(out, FullyConnectedNet) else net)
    return fixed


def _activation_stds(net, seed):
    """The activation std of each hidden layer on 500 examples of unit-variance noise, and
    the largest over the smallest (infinite when a layer is silent)."""
    from .diagnostics import record, summarize

    X = np.random.default_rng(seed + 1).standard_normal((500, net.params["W1"].shape[0]))
    stds = np.array([s.std for s in summarize(record(net, X))])
    return stds, stds.max() / stds.min() if stds.min() > 0 else np.inf


def _weight_scales(net):
    """The gain of the net's activation, each hidden layer's weight std times the square
    root of its fan-in, and the hidden layers (from 1) whose weights' mean is off 0."""
    from .reference.init import calculate_gain

    hidden = [np.asarray(net.params[f"W{k}"], np.float64) for k in range(1, net.num_layers)]
    scales = np.array([W.std() * np.sqrt(W.shape[0]) for W in hidden])
    off = [k for k, W in enumerate(hidden, 1) if abs(W.mean()) > 0.1 * W.std()]
    return calculate_gain(net.activation), scales, off
