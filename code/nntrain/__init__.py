"""nntrain: the package behind the book *nntrain*, an executable textbook on training
neural networks.

Every technique exists twice: :mod:`nntrain.reference` (NumPy, explicit forward and backward
passes, the version to read) and :mod:`nntrain.torch` (the same math in PyTorch, on any
device). The reference API is re-exported here, so ``nntrain.affine_forward`` is
``nntrain.reference.affine_forward``.
"""

from __future__ import annotations

import os
import random

import numpy as np

from . import validation
from .reference import *  # noqa: F401,F403  (the public reference API, see its __all__)
from .reference import __all__ as _reference_all

__version__ = "0.1.0"
__all__ = ["device", "seed", *_reference_all]


def device():
    """The best available ``torch.device``: CUDA, then Apple's MPS, then the CPU.

    Nothing in the package hard-codes a device; chapters move their torch models to
    ``nntrain.device()``.
    """
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed(n: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (all devices).

    Chapters call it in their setup cell so that every run tells the same story.
    """
    n = validation.seed(n)
    import torch

    os.environ["PYTHONHASHSEED"] = str(n)
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
