"""Input checks shared by the NumPy reference and the PyTorch twin.

Every public function of the package calls these before doing any math, so a wrong shape,
dtype or label is reported with a message that names the argument, what was expected and
what arrived, instead of surfacing later as a silent broadcasting surprise. The helpers
accept NumPy arrays and torch tensors alike.

Forward and backward passes check metadata only (type, shape, dtype, device): scanning the
values costs a pass over the data on every call, and on a GPU a read of the result stalls
the device. Values (NaN, infinity) are checked once, where data enters: ``finite=True`` in
the training loop's data, a preprocessing ``fit``, a gradient check.
"""

from __future__ import annotations

import numbers

import numpy as np

try:  # torch is a dependency, but the reference tree must not need it to import.
    import torch
except ImportError:  # pragma: no cover - exercised only without torch installed
    torch = None


class NotFittedError(ValueError):
    """A fit-then-transform object (:mod:`nntrain.reference.preprocessing`) was used before
    ``fit``. A ``ValueError``, like scikit-learn's exception of the same name."""


def _is_tensor(x) -> bool:
    return torch is not None and isinstance(x, torch.Tensor)


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
    if not (isinstance(x, np.ndarray) or _is_tensor(x)):
        raise TypeError(f"{name} must be a NumPy array or a torch tensor, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if floating:
        is_float = x.is_floating_point() if _is_tensor(x) else np.issubdtype(x.dtype, np.floating)
        if not is_float:
            raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    size = x.numel() if _is_tensor(x) else x.size
    if finite and size:
        ok = bool(torch.isfinite(x).all()) if _is_tensor(x) else bool(np.isfinite(x).all())
        if not ok:
            raise ValueError(f"{name} contains NaN or infinite values")
    return x


def ndarray(name: str, x, **checks):
    """:func:`array` for the NumPy reference: ``x`` must be a NumPy array."""
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array, got {type(x).__name__} "
            "(nntrain.reference works on NumPy arrays; nntrain.torch takes tensors)"
        )
    return array(name, x, **checks)


def tensor(name: str, x, **checks):
    """:func:`array` for the PyTorch twin: ``x`` must be a torch tensor."""
    if not _is_tensor(x):
        raise TypeError(
            f"{name} must be a torch tensor, got {type(x).__name__} "
            "(nntrain.torch works on tensors; nntrain.reference takes NumPy arrays)"
        )
    return array(name, x, **checks)


def same_kind(names: tuple[str, ...], *xs) -> None:
    """Check that all arguments are of one kind (all NumPy or all torch on one device)."""
    tensors = [_is_tensor(x) for x in xs]
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
    if not (isinstance(y, np.ndarray) or _is_tensor(y)):
        raise TypeError(f"{name} must be an array of class labels, got {type(y).__name__}")
    same_kind(("scores", name), like, y)
    if _is_tensor(y):
        is_int = not y.is_floating_point() and not y.is_complex() and y.dtype != torch.bool
    else:
        is_int = isinstance(y, np.ndarray) and np.issubdtype(y.dtype, np.integer)
    if not is_int:
        raise TypeError(
            f"{name} must be an integer array of class labels, got "
            f"{getattr(y, 'dtype', type(y).__name__)}"
        )
    shape(name, y, (n,))
    if n and not _is_tensor(y):
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{name} must hold labels in [0, {num_classes}), got values from {lo} to {hi}"
            )


def positive(name: str, value, *, allow_zero=False) -> None:
    """Check a positive (or non-negative) real number."""
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
