"""Helpers shared by the tests that compare the NumPy reference with its PyTorch twin."""

import numpy as np
import torch


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
