"""Shared pytest settings for tests/ and for nbval over book/."""

import os

import pytest
from hypothesis import settings

# Progress bars stay quiet under test, as they do in the built book.
os.environ.setdefault("NNTRAIN_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

settings.register_profile("default", max_examples=60, deadline=None)
settings.load_profile("default")


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_gpu = False
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip)
