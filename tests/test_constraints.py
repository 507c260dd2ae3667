"""The constraints of :mod:`nntrain.validation`: the machinery, the bad inputs generated
from the declarations, and the two trees failing alike.

In the spirit of scikit-learn's ``test_public_functions.py``: every function declared with
``@check.declared``, and every key of ``bn_param``, ``dropout_param`` and an update rule's
``config``, is fed each invalid value its constraint gives (:meth:`Constraint.bad_values`)
and must refuse it with :class:`~nntrain.validation.InvalidArgument`, naming the parameter.
A new hyperparameter declared there is tested without a new test.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from numbers import Integral, Real

import nntrain
import numpy as np
import pytest
from nntrain import data as nndata
from nntrain import validation as check
from nntrain.reference import optim
from nntrain.search import LogUniform, hyperband, random_search
from nntrain.techniques import TECHNIQUES, to_tree
from nntrain.train import train
from nntrain.validation import InvalidArgument

from conftest import TREES

# ------------------------------------------------------------------------- the machinery

#: Every constraint the package names, and a few built on the spot.
CONSTRAINTS = {
    **{name: c for name, c in vars(check).items() if isinstance(c, check.Constraint)},
    "Interval(Integral, 1, 32)": check.Interval(Integral, 1, 32),
    "Interval(Real, None, 1, closed='neither')": check.Interval(Real, None, 1, closed="neither"),
    "Options('a', None)": check.Options("a", None),
    "Instance(dict)": check.Instance(dict, "a dict"),
    "Function": check.Function("a function"),
    "Seed(none=True)": check.Seed(none=True),
}


def test_invalid_argument_is_both_a_type_error_and_a_value_error():
    assert issubclass(InvalidArgument, TypeError) and issubclass(InvalidArgument, ValueError)
    for catch in (TypeError, ValueError):
        with pytest.raises(catch):
            check.POSITIVE.check("lr", "0.1")
        with pytest.raises(catch):
            check.POSITIVE.check("lr", -0.1)


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_each_constraint_takes_its_example_and_refuses_its_bad_values_in_one_format(name):
    constraint = CONSTRAINTS[name]
    constraint.check("arg", constraint.example())
    for bad in constraint.bad_values():
        with pytest.raises(InvalidArgument) as caught:
            constraint.check("arg", bad)
        message = str(caught.value)
        wrong_type = not constraint.is_kind(bad)
        wanted = constraint.kind() if wrong_type else constraint.bounds()
        wanted += " or None" if constraint.none else ""
        assert message == f"arg must be {wanted}, got {check.got(bad, wrong_type=wrong_type)}"


@pytest.mark.parametrize(
    "constraint, value, message",
    [
        (check.POSITIVE, -1, "lr must be finite and > 0, got -1"),
        (check.POSITIVE, "1", "lr must be a real number, got str"),
        (check.NON_NEGATIVE, math.nan, "lr must be finite and >= 0, got nan"),
        (check.FINITE, math.inf, "lr must be finite, got inf"),
        (check.POSITIVE_INT, 2.0, "lr must be a positive integer, got 2.0"),
        (check.NON_NEGATIVE_INT, -1, "lr must be a non-negative integer, got -1"),
        (check.RATE, 1.0, "lr must be in [0, 1), got 1.0"),
        (check.RATE, True, "lr must be a real number in [0, 1), got bool"),
        (check.SHARE, 1.5, "lr must be in [0, 1], got 1.5"),
        (check.KEEP, 0.0, "lr must be a keep probability in (0, 1], got 0.0"),
        (check.MOMENTUM, 2, "lr must be in [0, 1] or None, got 2"),
        (check.SEED, True, "lr must be a non-negative integer, got bool"),
        (check.FLAG, 1, "lr must be True or False, got 1"),
        (check.Options("train", "test"), "eval", "lr must be 'train' or 'test', got 'eval'"),
        (check.Options("a", "b", "c"), None, "lr must be one of 'a', 'b', 'c', got None"),
        (check.Interval(Integral, 1, 32), 33, "lr must be an integer in [1, 32], got 33"),
        (check.Interval(Real, 1, None), 0.5, "lr must be finite and >= 1, got 0.5"),
    ],
)
def test_the_messages_read_one_way(constraint, value, message):
    with pytest.raises(InvalidArgument) as caught:
        constraint.check("lr", value)
    assert str(caught.value) == message


def test_checked_values_come_back_converted():
    assert check.POSITIVE.check("lr", np.float32(0.5)) == 0.5
    assert type(check.POSITIVE.check("lr", 1)) is float
    assert type(check.POSITIVE_INT.check("n", np.int64(3))) is int
    assert check.MOMENTUM.check("momentum", None) is None
    assert check.FLAG.check("f", np.True_) is True


def test_settings_refuse_a_non_dict_unknown_keys_and_missing_required_keys():
    declared = {"mode": check.Options("train", "test"), "eps": check.NON_NEGATIVE}
    given = check.settings("p", {"mode": "train"}, declared, example={"mode": "train"})
    assert given == {"mode": "train"}
    with pytest.raises(InvalidArgument, match=r"^p must be a dict such as \{'mode': 'train'\}"):
        check.settings("p", [("mode", "train")], declared, example={"mode": "train"})
    with pytest.raises(
        InvalidArgument, match=r"^p has unknown keys \['epsilon'\]; the known ones are \['mode'"
    ):
        check.settings("p", {"epsilon": 1e-5}, declared, example={})
    with pytest.raises(InvalidArgument, match=r"^p must contain 'mode' \('train' or 'test'\)"):
        check.settings("p", {"eps": 1e-5}, declared, example={}, required=["mode"])
    with pytest.raises(InvalidArgument, match=r"^p\['eps'\] must be finite and >= 0, got -1"):
        check.settings("p", {"mode": "test", "eps": -1}, declared, example={})


def test_lists_keys_and_data_primitives():
    assert check.non_empty_list("sizes", (1, 2), check.POSITIVE_INT, "sizes") == [1, 2]
    with pytest.raises(
        InvalidArgument, match=r"^sizes must be a non-empty list of sizes, got \[\]"
    ):
        check.non_empty_list("sizes", [], check.POSITIVE_INT, "sizes")
    with pytest.raises(InvalidArgument, match=r"^sizes must be a non-empty list .*, got dict"):
        check.non_empty_list("sizes", {}, check.POSITIVE_INT, "sizes")
    with pytest.raises(InvalidArgument, match=r"^sizes\[1\] must be a positive integer, got 0"):
        check.non_empty_list("sizes", [3, 0], check.POSITIVE_INT, "sizes")
    with pytest.raises(InvalidArgument, match=r"^trial has no value for \['lr'\]"):
        check.has_keys("trial", {"momentum": 0.9}, ["lr", "momentum"])
    with pytest.raises(
        InvalidArgument, match="^data must be a dict with X_train, y_train, got list"
    ):
        check.data_splits([], ("X_train", "y_train"))
    with pytest.raises(InvalidArgument, match="^data must be a dict with .*; y_train is missing"):
        check.data_splits({"X_train": 1}, ("X_train", "y_train"))
    with pytest.raises(InvalidArgument, match=r"^Uniform needs low < high, got low=1, high=1"):
        check.increasing("Uniform", 1, 1)


def test_declared_checks_the_given_arguments_before_the_body_runs():
    calls = []

    @check.declared(n=check.POSITIVE_INT, seed=check.SEED)
    def f(x, n=1, *, seed=0):
        calls.append((x, n, seed))

    f("anything", 2, seed=3)
    assert calls == [("anything", 2, 3)] and f.constraints["seed"] is check.SEED
    with pytest.raises(InvalidArgument, match="^seed must be a non-negative integer, got bool"):
        f(None, seed=True)
    assert len(calls) == 1
    with pytest.raises(ValueError, match=r"has no parameters \['m'\]"):
        check.declared(m=check.SEED)(f)


# ---------------------------------------------------------------- one mistake, one answer

SPACE = {"lr": LogUniform(1e-3, 1e-1)}
NET = nntrain.FullyConnectedNet([5], input_dim=64, num_classes=10, seed=0)
SEED_CALLS = {
    "nntrain.seed": lambda bad: nntrain.seed(bad),
    "load_digits_split": lambda bad: nndata.load_digits_split(seed=bad),
    "sample_patches": lambda bad: nndata.sample_patches(2, 8, seed=bad),
    "dropout_forward (reference)": lambda bad: nntrain.reference.dropout_forward(
        np.ones((2, 2)), {"mode": "train", "p": 0.5, "seed": bad}
    ),
    "dropout_forward (torch)": lambda bad: nntrain.torch.dropout_forward(
        to_tree(nntrain.torch, np.ones((2, 2))), {"mode": "train", "p": 0.5, "seed": bad}
    ),
    "random_search": lambda bad: random_search(SPACE, 2, bad),
    "hyperband": lambda bad: hyperband(
        None, SPACE, min_epochs=1, max_epochs=3, rng=bad, hidden_dims=[5], batch_size=10
    ),
    "train": lambda bad: train(NET, None, seed=bad, progress=False),
}


@pytest.mark.parametrize("bad", [True, -1, 1.5])
@pytest.mark.parametrize("call", sorted(SEED_CALLS))
def test_a_bad_seed_gets_one_exception_naming_it_everywhere(call, bad):
    with pytest.raises(InvalidArgument, match=r"(seed|rng)'?\]? must be .*(integer|seed)"):
        SEED_CALLS[call](bad)


# ------------------------------------------------- bad inputs generated from declarations


def _declared_functions():
    found = {}
    for info in pkgutil.walk_packages(nntrain.__path__, "nntrain."):
        module = importlib.import_module(info.name)
        for name, f in vars(module).items():
            if hasattr(f, "constraints") and getattr(f, "__module__", None) == module.__name__:
                found[f"{module.__name__}.{name}"] = f
    return found


DECLARED = _declared_functions()
CASES = [
    (name, param, bad)
    for name, f in DECLARED.items()
    for param, constraint in f.constraints.items()
    for bad in constraint.bad_values()
]


def test_some_functions_are_declared():
    assert {"nntrain.data.load_digits_split", "nntrain.train.train"} <= set(DECLARED)


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_declared_defaults_pass_their_constraints(name):
    f = DECLARED[name]
    for param, p in inspect.signature(f).parameters.items():
        if param in f.constraints and p.default is not p.empty:
            f.constraints[param].check(param, p.default)


@pytest.mark.parametrize("name, param, bad", CASES, ids=[f"{n}-{p}-{b!r}" for n, p, b in CASES])
def test_a_declared_function_refuses_each_bad_value_naming_the_parameter(name, param, bad):
    f = DECLARED[name]
    args = {}
    for other, p in inspect.signature(f).parameters.items():
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            constraint = f.constraints.get(other)
            args[other] = constraint.example() if constraint else None
    args[param] = bad
    with pytest.raises(InvalidArgument, match=rf"^{param} must be "):
        f(**args)


#: The declared dicts of settings, each with the call that reads it (on a tree).
SETTINGS = {
    "bn_param": (
        check.BN_PARAM,
        lambda tree, param: tree.batchnorm_forward(
            to_tree(tree, np.ones((4, 3))),
            to_tree(tree, np.ones(3)),
            to_tree(tree, np.zeros(3)),
            {"mode": "train", **param},
        ),
    ),
    "dropout_param": (
        check.DROPOUT_PARAM,
        lambda tree, param: tree.dropout_forward(
            to_tree(tree, np.ones((4, 3))), {"mode": "train", "p": 0.5, **param}
        ),
    ),
}
SETTING_CASES = [
    (setting, key, bad)
    for setting, (declared, _) in SETTINGS.items()
    for key, constraint in declared.items()
    for bad in constraint.bad_values()
]


@pytest.mark.parametrize("tree", TREES, ids=[t.name for t in TREES])
@pytest.mark.parametrize(
    "setting, key, bad", SETTING_CASES, ids=[f"{s}-{k}-{b!r}" for s, k, b in SETTING_CASES]
)
def test_a_declared_setting_refuses_each_bad_value_naming_its_key(tree, setting, key, bad):
    _, call = SETTINGS[setting]
    with pytest.raises(InvalidArgument, match=rf"^{setting}\['{key}'\] must be "):
        call(tree.module, {key: bad})


NET_CASES = [(key, bad) for key, c in check.NET.items() for bad in c.bad_values()]


@pytest.mark.parametrize("tree", TREES, ids=[t.name for t in TREES])
@pytest.mark.parametrize("key, bad", NET_CASES, ids=[f"{k}-{b!r}" for k, b in NET_CASES])
def test_fully_connected_net_refuses_each_bad_declared_argument_naming_it(tree, key, bad):
    arguments = {"input_dim": 3, "num_classes": 2, key: bad}
    with pytest.raises(InvalidArgument, match=rf"^{key} must be "):
        tree.FullyConnectedNet([4], **arguments)


RULE_CASES = [
    (rule, key, bad)
    for rule, defaults in optim.DEFAULTS.items()
    for key in defaults
    for bad in check.HYPERPARAMETERS[key].bad_values()
]


@pytest.mark.parametrize(
    "rule, key, bad", RULE_CASES, ids=[f"{r}-{k}-{b!r}" for r, k, b in RULE_CASES]
)
def test_each_update_rule_refuses_each_bad_hyperparameter_naming_its_key(rule, key, bad):
    w = np.ones(3)
    with pytest.raises(InvalidArgument, match=rf"^config\['{key}'\] must be "):
        getattr(optim, rule)(w, w, {key: bad})


# ----------------------------------------------------------- the two trees fail alike


def _outcome(call):
    """``None`` if ``call()`` returns, else the type and message of what it raised."""
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
        return type(e), str(e)
    return None


def same_error(technique, mutate):
    """Run ``technique``'s forward (and backward) pass in both trees on its draw changed by
    ``mutate(arrays, extra) -> (arrays, extra, dout)``; assert that the two trees fail alike
    (same exception type and message) or both pass. Returns the shared outcome."""
    arrays, extra = technique.draw(np.random.default_rng(0))
    out = technique.output(arrays, extra) if not technique.is_loss else None
    dout = None if out is None else np.ones(np.shape(out))
    arrays, extras, dout = mutate(list(arrays), list(extra()), dout)
    outcomes = [
        _outcome(lambda tree=tree: technique.run(tree, arrays, lambda: extras, dout))
        for tree in (nntrain.reference, nntrain.torch)
    ]
    assert outcomes[0] == outcomes[1], outcomes
    return outcomes[0]


def _wrong_dout(arrays, extras, dout):
    return arrays, extras, np.ones((dout.shape[0] + 1, *dout.shape[1:]))


def _extra_axis(arrays, extras, dout):
    return [arrays[0][None], *arrays[1:]], extras, dout


def _bad_hyperparameters(bad):
    def mutate(arrays, extras, dout):
        changed = []
        for e in extras:
            if isinstance(e, float):
                e = bad
            elif isinstance(e, dict):
                e = {**e, **{k: bad for k, v in e.items() if isinstance(v, float)}, "nope": 1}
            changed.append(e)
        return arrays, changed, dout

    return mutate


LAYERS = [t for t in TECHNIQUES if not t.is_loss]
HYPER = [
    t
    for t in TECHNIQUES
    if any(isinstance(e, (float, dict)) for e in t.draw(np.random.default_rng(0))[1]())
]


@pytest.mark.parametrize("technique", LAYERS, ids=[t.name for t in LAYERS])
def test_a_wrong_upstream_gradient_fails_alike_in_both_trees(technique):
    outcome = same_error(technique, _wrong_dout)
    assert outcome is not None and outcome[0] is InvalidArgument and "dout" in outcome[1]


@pytest.mark.parametrize("technique", TECHNIQUES, ids=[t.name for t in TECHNIQUES])
def test_an_extra_axis_fails_alike_in_both_trees(technique):
    same_error(technique, _extra_axis)


@pytest.mark.parametrize("bad", ["1", math.nan, True])
@pytest.mark.parametrize("technique", HYPER, ids=[t.name for t in HYPER])
def test_bad_hyperparameters_fail_alike_in_both_trees(technique, bad):
    outcome = same_error(technique, _bad_hyperparameters(bad))
    assert outcome is not None and outcome[0] is InvalidArgument
