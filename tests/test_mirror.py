"""The two trees mirror each other: :mod:`nntrain.reference` and :mod:`nntrain.torch` have the
same public submodules, and every public function or class of a reference submodule has a
twin of the same name and parameter names in the torch submodule of the same name.

One rule bends the names, in ``init`` only: a reference function that creates a new array
from a ``shape`` (``xavier_uniform(shape, gain=1.0, *, rng)``) has as twin the in-place
function of ``torch.nn.init``'s naming, ``<name>_``, whose first parameter is the ``tensor``
to fill (``xavier_uniform_(tensor, gain=1.0, *, rng=None)``); every other parameter name is
the same. ``fans(shape)``, which reads a shape and makes no array, keeps its name and
parameter in both trees.

Submodules are discovered with :mod:`pkgutil`, so a new module in either tree is covered
without touching this file.

Every public module of the package declares ``__all__``, listing every public function and
class it defines, and the two trees export the same names: each name of a reference
module's ``__all__`` is in its twin's (renamed by the rule above), and the twin adds only
what PyTorch's shape of the API needs (autograd ``Function`` classes, ``nn.Module``
classes and ``torch.optim`` optimizers).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import nntrain
import nntrain.reference
import nntrain.torch
import pytest
import torch


def public_submodules(package):
    names = (info.name for info in pkgutil.iter_modules(package.__path__))
    return sorted(name for name in names if not name.startswith("_"))


REFERENCE_MODULES = public_submodules(nntrain.reference)


def defined_here(module, kind):
    """Public functions (``kind=inspect.isfunction``) or classes defined in ``module`` itself,
    not imported into it."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_") and kind(obj) and obj.__module__ == module.__name__
    }


def param_names(fn):
    return list(inspect.signature(fn).parameters)


#: Submodules whose shape-taking functions have in-place twins named with a trailing underscore.
IN_PLACE_MODULES = {"init"}
#: Their functions that read a shape without making an array: the twin has the same name.
SHAPE_READERS = {"fans"}


def expected_twin(module, fname, fn):
    """The name and parameter names the torch twin of reference function ``fname`` must have."""
    params = param_names(fn)
    if module in IN_PLACE_MODULES and params[:1] == ["shape"] and fname not in SHAPE_READERS:
        return f"{fname}_", ["tensor", *params[1:]]
    return fname, params


def pair(name):
    return (
        importlib.import_module(f"nntrain.reference.{name}"),
        importlib.import_module(f"nntrain.torch.{name}"),
    )


def test_discovery_finds_the_known_modules():
    # guards the discovery itself: an empty list would make every check below vacuous
    assert {"activations", "fc_net", "init", "layers", "losses"} <= set(REFERENCE_MODULES)


def test_same_public_submodules():
    assert public_submodules(nntrain.torch) == REFERENCE_MODULES


@pytest.mark.parametrize("name", REFERENCE_MODULES)
def test_functions_have_twins_with_the_same_parameters(name):
    ref, twin = pair(name)
    for fname, fn in defined_here(ref, inspect.isfunction).items():
        tname, params = expected_twin(name, fname, fn)
        other = getattr(twin, tname, None)
        assert inspect.isfunction(other), f"nntrain.torch.{name} lacks the function {tname}"
        assert other.__module__ == twin.__name__, (
            f"nntrain.torch.{name}.{tname} is imported from {other.__module__}, not defined there"
        )
        assert param_names(other) == params, (
            f"{name}.{fname}: reference takes {param_names(fn)}, so torch's {tname} should "
            f"take {params}; it takes {param_names(other)}"
        )


def test_the_in_place_rule_applies_to_init_only():
    # guards the one exception to the naming rule: it must rename the shape-taking schemes
    # of init, leave calculate_gain alone, and not touch any other module
    ref = importlib.import_module("nntrain.reference.init")
    renamed = {
        fname: expected_twin("init", fname, fn)[0]
        for fname, fn in defined_here(ref, inspect.isfunction).items()
    }
    assert renamed["xavier_uniform"] == "xavier_uniform_"
    assert renamed["kaiming_normal"] == "kaiming_normal_"
    assert renamed["zeros"] == "zeros_"
    assert renamed["calculate_gain"] == "calculate_gain"
    assert renamed["fans"] == "fans"
    for module in REFERENCE_MODULES:
        if module in IN_PLACE_MODULES:
            continue
        ref = importlib.import_module(f"nntrain.reference.{module}")
        for fname, fn in defined_here(ref, inspect.isfunction).items():
            assert expected_twin(module, fname, fn) == (fname, param_names(fn))


@pytest.mark.parametrize("name", REFERENCE_MODULES)
def test_classes_have_twins_with_the_same_constructor(name):
    ref, twin = pair(name)
    for cname, cls in defined_here(ref, inspect.isclass).items():
        other = getattr(twin, cname, None)
        assert inspect.isclass(other), f"nntrain.torch.{name} lacks the class {cname}"
        assert param_names(other.__init__) == param_names(cls.__init__), (
            f"{name}.{cname}.__init__: reference takes {param_names(cls.__init__)}, "
            f"torch takes {param_names(other.__init__)}"
        )


def test_the_mirror_covers_the_api():
    names = {
        f
        for m in REFERENCE_MODULES
        for f in defined_here(importlib.import_module(f"nntrain.reference.{m}"), inspect.isfunction)
    }
    classes = {
        c
        for m in REFERENCE_MODULES
        for c in defined_here(importlib.import_module(f"nntrain.reference.{m}"), inspect.isclass)
    }
    assert {
        "affine_forward",
        "affine_backward",
        "relu_forward",
        "relu_backward",
        "softmax_loss",
        "svm_loss",
        "l2_loss",
        "l1_loss",
    } <= names
    assert "FullyConnectedNet" in classes


@pytest.mark.parametrize("table", ["ACTIVATIONS", "LOSSES"])
def test_fc_net_tables_have_the_same_keys(table):
    ref, twin = pair("fc_net")
    assert isinstance(getattr(ref, table), dict) and getattr(ref, table)
    assert set(getattr(twin, table)) == set(getattr(ref, table))


def test_reference_exports_are_all_in_torch():
    missing = set(nntrain.reference.__all__) - set(nntrain.torch.__all__)
    assert not missing, f"in nntrain.reference.__all__ but not nntrain.torch.__all__: {missing}"


@pytest.mark.parametrize("package", [nntrain.reference, nntrain.torch])
def test_all_names_exist(package):
    for name in package.__all__:
        assert hasattr(package, name), f"{package.__name__}.__all__ lists missing {name}"


# --------------------------------------------------------------------------- __all__


def public_modules():
    """Every public module of the package (no part of its name starting with ``_``)."""
    infos = pkgutil.walk_packages(nntrain.__path__, "nntrain.")
    names = [
        info.name for info in infos if not any(p.startswith("_") for p in info.name.split("."))
    ]
    return ["nntrain", *sorted(names)]


def test_every_public_module_declares_all():
    missing = [n for n in public_modules() if "__all__" not in vars(importlib.import_module(n))]
    assert not missing, f"modules without __all__: {missing}"


@pytest.mark.parametrize("name", public_modules())
def test_all_lists_every_public_function_and_class_defined_in_the_module(name):
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), f"{name}.__all__ lists a name twice"
    assert all(hasattr(module, n) for n in exported), sorted(
        n for n in exported if not hasattr(module, n)
    )
    defined = set(defined_here(module, inspect.isfunction)) | set(
        defined_here(module, inspect.isclass)
    )
    assert defined <= exported, f"{name}.__all__ lacks {sorted(defined - exported)}"


#: What only the twin exports: PyTorch's shapes of a technique.
TORCH_ONLY = (torch.autograd.Function, torch.nn.Module, torch.optim.Optimizer)


@pytest.mark.parametrize("name", REFERENCE_MODULES)
def test_the_trees_export_the_same_names(name):
    ref, twin = pair(name)
    renamed = {
        n: expected_twin(name, n, obj)[0] if inspect.isfunction(obj := getattr(ref, n)) else n
        for n in ref.__all__
    }
    missing = {n: t for n, t in renamed.items() if t not in twin.__all__}
    assert not missing, f"nntrain.torch.{name}.__all__ lacks the twins of {missing}"
    extra = [n for n in set(twin.__all__) - set(renamed.values())]
    for n in extra:
        obj = getattr(twin, n)
        assert inspect.isclass(obj) and issubclass(obj, TORCH_ONLY), (
            f"nntrain.torch.{name}.__all__ lists {n}, which nntrain.reference.{name} lacks"
        )
