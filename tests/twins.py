"""Helpers shared by the tests that compare the NumPy reference with its PyTorch twin."""

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.techniques import svm_builtin  # noqa: F401  (the tests' hinge loss by built-ins)


def t(a):
    """A tensor copy of a NumPy array (float64 stays float64)."""
    return torch.tensor(np.asarray(a))


def leaf(a):
    """:func:`t`, requiring gradients."""
    return t(a).requires_grad_(True)


def npy(x):
    """A NumPy copy of a tensor (from any device), or the array itself."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def near(actual, expected, rtol=1e-10, atol=1e-14):
    """Assert ``|actual - expected| <= rtol * |expected| + atol`` elementwise (``atol`` may be
    an array) and equal shapes."""
    a, e = npy(actual).astype(np.float64), npy(expected).astype(np.float64)
    assert a.shape == e.shape, (a.shape, e.shape)
    excess = np.abs(a - e) - (rtol * np.abs(e) + atol)
    assert np.all(excess <= 0), f"max error {np.max(np.abs(a - e))}\n{a}\n{e}"


def close(actual, expected, floor=0.0):
    """:func:`near` with a relative 1e-10 and an absolute ``floor`` (for entries that are
    sums of products, the rounding bound of their terms)."""
    near(actual, expected, rtol=1e-10, atol=floor)


def floats(max_abs=100.0):
    """Finite, normal float64 values in ``[-max_abs, max_abs]``."""
    return st.floats(
        -max_abs, max_abs, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )


def f64(shape, elements=None):
    """float64 arrays of ``shape`` (by default of :func:`floats`)."""
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements)


def dyadic(max_abs, denom, *, nonzero=False):
    """Floats ``k / denom`` with ``|k / denom| <= max_abs``, ``denom`` a power of two: sums and
    products of them are exact in float64, so a centred difference of a linear piece is too."""
    m = int(max_abs * denom)
    ints = st.integers(-m, m)
    if nonzero:
        ints = ints.filter(lambda k: k != 0)
    return ints.map(lambda k: k / denom)


def labels(n, c):
    """int64 class labels: ``n`` of them in ``[0, c)``."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1))
