"""Tests for the package itself: nntrain.device(), nntrain.seed(), the re-exported reference
API, the version, the reference tree's independence from torch, and module docstrings."""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import random
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nntrain
import nntrain.reference
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------
# device()
# --------------------------------------------------------------------------------------


def test_device_is_the_best_available():
    d = nntrain.device()
    assert isinstance(d, torch.device)
    if torch.cuda.is_available():
        assert d.type == "cuda"
    elif torch.backends.mps.is_available():
        assert d.type == "mps"
    else:
        assert d.type == "cpu"
    torch.zeros(1, device=d)  # usable


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert nntrain.device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert nntrain.device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert nntrain.device() == torch.device("cuda")


# --------------------------------------------------------------------------------------
# seed()
# --------------------------------------------------------------------------------------


@pytest.fixture
def restore_rngs(monkeypatch):
    """Leave the global generators and PYTHONHASHSEED as they were."""
    monkeypatch.setenv("PYTHONHASHSEED", os.environ.get("PYTHONHASHSEED", "0"))
    py, npy, pt = random.getstate(), np.random.get_state(), torch.get_rng_state()
    yield
    random.setstate(py)
    np.random.set_state(npy)
    torch.set_rng_state(pt)


def draws():
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


def test_seed_makes_every_generator_reproducible(restore_rngs):
    nntrain.seed(123)
    first = draws()
    draws()  # move every generator on
    nntrain.seed(123)
    assert draws() == first
    nntrain.seed(124)
    other = draws()
    for a, b in zip(first, other):  # each generator depends on the seed
        assert a != b
    assert os.environ["PYTHONHASHSEED"] == "124"


def test_seed_zero_is_allowed(restore_rngs):
    nntrain.seed(0)
    a = draws()
    nntrain.seed(0)
    assert draws() == a


@pytest.mark.parametrize("bad", [-1, 1.5, 2.0, True, False, "3", None])
def test_seed_rejects_bad_values(restore_rngs, bad):
    with pytest.raises(ValueError, match="seed"):
        nntrain.seed(bad)


# --------------------------------------------------------------------------------------
# The package namespace
# --------------------------------------------------------------------------------------


def test_reference_api_is_reexported():
    names = nntrain.reference.__all__
    assert {
        "FullyConnectedNet",
        "affine_forward",
        "affine_backward",
        "relu_forward",
        "relu_backward",
        "softmax_loss",
        "svm_loss",
    } <= set(names)
    for name in names:
        assert getattr(nntrain, name) is getattr(nntrain.reference, name), name
    assert set(nntrain.__all__) == {"device", "seed", *names}
    assert len(nntrain.__all__) == len(set(nntrain.__all__))


def test_reference_all_lists_real_public_objects():
    for name in nntrain.reference.__all__:
        assert not name.startswith("_")
        assert callable(getattr(nntrain.reference, name)), name


def test_version_matches_pyproject():
    with open(ROOT / "code" / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert nntrain.__version__ == project["version"]
    assert project["name"] == "nntrain"


# --------------------------------------------------------------------------------------
# The reference tree without torch
# --------------------------------------------------------------------------------------


def run_python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_reference_tree_works_without_torch():
    """The NumPy reference does not need torch: with torch made unimportable (``sys.modules``
    entry set to None) the reference, the claims and the gradient check still import and run.
    The services that take a model of either kind (``nntrain.models``, and through it the loop
    and the grader) import torch at their top: it is a declared dependency (issue 33), so they
    fail at import with ImportError, not later. (With torch installed, ``import
    nntrain.reference`` does import it: the shared input checks accept tensors.)
    """
    code = """
import sys
sys.modules["torch"] = None
import numpy as np
import nntrain, nntrain.reference as R
import nntrain.claims, nntrain.gradcheck
out, cache = R.affine_forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
assert out.sum() == 24.0
net = R.FullyConnectedNet([5], input_dim=3, num_classes=2, seed=0)
loss, grads = net.loss(np.ones((4, 3)), np.array([0, 1, 0, 1]))
assert sorted(grads) == ["W1", "W2", "b1", "b2"]
for name in ("nntrain.torch", "nntrain.models", "nntrain.train", "nntrain.checks"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(f"{name} imported without torch")
print("ok")
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --------------------------------------------------------------------------------------
# Docstrings
# --------------------------------------------------------------------------------------


def public_modules():
    names = ["nntrain"]
    for info in pkgutil.walk_packages(nntrain.__path__, prefix="nntrain."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def test_public_modules_are_found():
    names = set(public_modules())
    assert {
        "nntrain",
        "nntrain.train",
        "nntrain.checks",
        "nntrain.claims",
        "nntrain.plots",
        "nntrain.gradcheck",
        "nntrain.data",
        "nntrain.reference",
        "nntrain.reference.fc_net",
        "nntrain.torch",
        "nntrain.torch.fc_net",
    } <= names


@pytest.mark.parametrize("name", public_modules())
def test_public_module_has_a_docstring(name):
    module = importlib.import_module(name)
    doc = (module.__doc__ or "").strip()
    assert len(doc) >= 20, f"{name} has no module docstring"


def test_init_modules_are_attributes_of_their_trees():
    """As ``torch.nn.init`` is: ``import nntrain.torch`` is enough to reach ``.init``."""
    code = (
        "import nntrain.reference, nntrain.torch; "
        "print(nntrain.reference.init.kaiming_normal.__module__, "
        "nntrain.torch.init.kaiming_normal_.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["nntrain.reference.init", "nntrain.torch.init"]


def test_pyproject_declares_every_third_party_import():
    """Every package the code imports (scipy, threadpoolctl, ...) is a declared dependency."""
    project = tomllib.loads((ROOT / "code" / "pyproject.toml").read_text())["project"]
    extras = [d for group in project["optional-dependencies"].values() for d in group]
    declared = {
        re.split(r"[<>=\[ ]", d)[0].replace("-", "_").lower()
        for d in project["dependencies"] + extras
    }
    names = {"sklearn": "scikit_learn"}
    imported = set()
    for path in (ROOT / "code" / "nntrain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    optional = {"IPython"}  # claims.show() uses it in a notebook, behind an ImportError
    third_party = imported - set(sys.stdlib_module_names) - optional - {"nntrain"}
    assert {names.get(m, m).lower() for m in third_party} <= declared


def _is_module(path, node, name):
    """Whether ``from <node.module> import name``, in the file ``path``, imports a module of
    the package (relative imports only)."""
    if not node.level:
        return False
    base = path.parent
    for _ in range(node.level - 1):
        base = base.parent
    for part in (node.module or "").split(".") if node.module else []:
        base = base / part
    return (base / f"{name}.py").exists() or (base / name / "__init__.py").exists()


def test_no_module_imports_another_module_s_private_names():
    """``from .x import _name`` and ``x._name`` (x a module) stay inside their module: the
    shared checks live in ``nntrain.validation``, under public names."""
    crossings = []
    for path in sorted((ROOT / "code" / "nntrain").rglob("*.py")):
        tree = ast.parse(path.read_text())
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        crossings.append(f"{path.name}: from {node.module} import {alias.name}")
                    if _is_module(path, node, alias.name):  # from .. import x, from ..y import x
                        modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                modules |= {(a.asname or a.name).split(".")[0] for a in node.names}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                crossings.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert not crossings, crossings


def test_side_by_side_alternates_and_keeps_each_fastest_round():
    from nntrain.timing import side_by_side

    order = []
    seconds, results = side_by_side(
        {"a": lambda: order.append("a") or 1, "b": lambda: order.append("b") or 2},
        repeat=3,
        number=2,
    )
    assert order == ["a", "a", "b", "b"] * 3  # round after round, each in turn
    assert results == {"a": 1, "b": 2} and all(s > 0 for s in seconds.values())
    with pytest.raises(ValueError, match="non-empty dict"):
        side_by_side({})
    with pytest.raises(ValueError, match="repeat must be a positive integer"):
        side_by_side({"a": int}, repeat=0)


def test_side_by_side_times_on_one_thread_and_restores_the_setting():
    import threadpoolctl
    from nntrain.timing import side_by_side

    before = torch.get_num_threads()
    _, counts = side_by_side(
        {
            "torch": torch.get_num_threads,
            "blas": lambda: max(i["num_threads"] for i in threadpoolctl.threadpool_info()),
        },
        repeat=1,
    )
    assert counts == {"torch": 1, "blas": 1}
    assert torch.get_num_threads() == before
    _, free = side_by_side({"torch": torch.get_num_threads}, repeat=1, threads=None)
    assert free == {"torch": before}
