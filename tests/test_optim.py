"""Update rules (nntrain.reference.optim), their twins and optimizers (nntrain.torch.optim),
and the training loop's ``update_rule``.

* Each reference rule against a computation by hand, coordinate by coordinate, for a few
  steps, and against the ``torch.optim`` built-in it corresponds to over 200 steps of a
  least-squares problem in float64; cs231n's momentum and PyTorch's part once the learning
  rate changes, by exactly the amount the two conventions predict.
* The twins equal the reference rules to 1e-12 and read no tensor on the host.
* The optimizers written from scratch equal the built-ins step for step, for every option
  they take, on a small model with several parameters, two param groups and a closure.
* Adam's bias correction makes every step on a constant gradient exactly ``lr`` long.
* Bad arguments are refused with a message that names them.
* ``train(update_rule=...)``: both trees follow one trajectory, the default is the old
  update, and a bad name or a hyperparameter given twice is refused.
"""

from __future__ import annotations

import copy
import inspect
import math

import nntrain.reference as R
import nntrain.reference.optim as ref
import nntrain.torch as T
import nntrain.torch.optim as twin
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nntrain.data import load_digits_split
from nntrain.techniques import RULES as TECHNIQUE_RULES
from nntrain.train import train
from twins import near, npy

RULES = list(ref.RULES)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Every tensor here is tiny: one thread computes it fastest, and a busy machine does
    not make a pool of threads wait for each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def problem(seed=0, m=20, d=4, k=3):
    """A least-squares problem ``|X W - Y|^2 / 2m`` with a (d, k) weight and its start, far
    from the solution: the adaptive rules, whose steps are about ``lr`` long, are still on
    their way after 200 steps (around the solution such steps bounce chaotically, and two
    computations that differ by rounding part)."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((m, d)), rng.standard_normal((m, k))
    return X, Y, 10 * rng.standard_normal((d, k))


def gradient(W, X, Y):
    """The least-squares gradient, for arrays of either tree."""
    return X.T @ (X @ W - Y) / X.shape[0]


def rule_trajectory(rule, config, steps, seed=0, tree=np):
    """Every iterate of ``rule`` on :func:`problem` (as NumPy arrays)."""
    X, Y, W = problem(seed)
    if tree is torch:
        X, Y, W = (torch.tensor(a) for a in (X, Y, W))
    path = []
    for _ in range(steps):
        W, config = rule(W, gradient(W, X, Y), config)
        path.append(npy(W).copy())
    return path


def builtin_trajectory(make, steps, seed=0, schedule=None):
    """Every iterate of the torch optimizer ``make([w])`` on :func:`problem`; ``schedule``
    maps a step index to a new learning rate set before that step."""
    X, Y, W = (torch.tensor(a) for a in problem(seed))
    w = torch.nn.Parameter(W.clone())
    opt = make([w])
    path = []
    for i in range(steps):
        if schedule and i in schedule:
            opt.param_groups[0]["lr"] = schedule[i]
        w.grad = gradient(w.detach(), X, Y)
        opt.step()
        path.append(npy(w).copy())
    return path


def same_paths(a, b, rtol=1e-10):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        near(x, y, rtol=rtol, atol=rtol * np.abs(y).max())


# --------------------------------------------------------------------------- by hand

#: Each rule written out on one scalar coordinate: (state, w, g, config) -> (state, w).


def hand_sgd(s, w, g, c):
    return s, w - c["learning_rate"] * g


def hand_momentum(s, w, g, c):
    v = c["momentum"] * s.get("v", 0.0) - c["learning_rate"] * g
    return {"v": v}, w + v


def hand_nesterov(s, w, g, c):
    mu, v_prev = c["momentum"], s.get("v", 0.0)
    v = mu * v_prev - c["learning_rate"] * g
    return {"v": v}, w - mu * v_prev + (1 + mu) * v


def hand_adagrad(s, w, g, c):
    cache = s.get("c", 0.0) + g * g
    return {"c": cache}, w - c["learning_rate"] * g / (math.sqrt(cache) + c["epsilon"])


def hand_rmsprop(s, w, g, c):
    rho = c["decay_rate"]
    cache = rho * s.get("c", 0.0) + (1 - rho) * g * g
    return {"c": cache}, w - c["learning_rate"] * g / (math.sqrt(cache) + c["epsilon"])


def hand_adam(s, w, g, c, decay=0.0):
    b1, b2, t = c["beta1"], c["beta2"], s.get("t", 0) + 1
    w = w * (1 - c["learning_rate"] * decay)
    m = b1 * s.get("m", 0.0) + (1 - b1) * g
    v = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    step = (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + c["epsilon"])
    return {"m": m, "v": v, "t": t}, w - c["learning_rate"] * step


def hand_adamw(s, w, g, c):
    return hand_adam(s, w, g, c, decay=c["weight_decay"])


HAND = {
    "sgd": (hand_sgd, {"learning_rate": 0.1}),
    "sgd_momentum": (hand_momentum, {"learning_rate": 0.1, "momentum": 0.8}),
    "nesterov": (hand_nesterov, {"learning_rate": 0.1, "momentum": 0.8}),
    "adagrad": (hand_adagrad, {"learning_rate": 0.1, "epsilon": 1e-3}),
    "rmsprop": (hand_rmsprop, {"learning_rate": 0.1, "decay_rate": 0.9, "epsilon": 1e-3}),
    "adam": (hand_adam, {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.9, "epsilon": 1e-3}),
    "adamw": (
        hand_adamw,
        {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.9, "epsilon": 1e-3, "weight_decay": 0.5},
    ),
}


@pytest.mark.parametrize("name", RULES)
def test_rule_matches_a_computation_by_hand(name):
    hand, hyper = HAND[name]
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(4)]
    states = [{} for _ in range(w.size)]
    expected = w.ravel().tolist()
    config = dict(hyper)
    for g in grads:
        for i, gi in enumerate(g.ravel().tolist()):
            states[i], expected[i] = hand(states[i], expected[i], gi, hyper)
        w, config = ref.RULES[name](w, g, config)
        near(w.ravel(), np.array(expected), rtol=1e-12, atol=1e-15)


def test_the_defaults_are_cs231n_s():
    for name, rule in ref.RULES.items():
        _, config = rule(np.ones(2), np.ones(2))
        hyper = {k: v for k, v in config.items() if k not in ref.STATE[name]}
        assert hyper == {**ref.DEFAULTS[name], **({"t": 1} if "t" in hyper else {})}
    assert ref.DEFAULTS["sgd_momentum"] == {"learning_rate": 1e-2, "momentum": 0.9}
    assert ref.DEFAULTS["rmsprop"] == {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}
    assert ref.DEFAULTS["adam"] == {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "t": 0,
    }
    assert ref.DEFAULTS["adamw"] == {**ref.DEFAULTS["adam"], "weight_decay": 1e-2}


@pytest.mark.parametrize("name", RULES)
def test_rule_returns_a_new_array_and_the_same_config(tree, name):
    kind = np.array if tree.is_reference else torch.tensor
    w, dw = kind([[1.0, -2.0]]), kind([[0.5, 0.25]])
    w0, config = w.copy() if tree.is_reference else w.clone(), {}
    next_w, same = tree.optim.RULES[name](w, dw, config)
    assert same is config and next_w is not w
    assert (npy(w) == npy(w0)).all()  # w itself is not updated
    assert set(config) == set(ref.DEFAULTS[name]) | set(ref.STATE[name])
    for key in ref.STATE[name]:  # the state given is not updated in place either
        state = config[key]
        before = npy(state).copy()
        tree.optim.RULES[name](next_w, dw, config)
        assert config[key] is not state and np.array_equal(npy(state), before)


# --------------------------------------------------------------- against torch.optim


@pytest.mark.parametrize("rule", TECHNIQUE_RULES, ids=[r.id for r in TECHNIQUE_RULES])
def test_rule_follows_the_builtin_for_200_steps(rule):
    name, config, make = rule.name, rule.config, rule.builtin
    mine = rule_trajectory(ref.RULES[name], dict(config) if config else None, 200)
    theirs = builtin_trajectory(make, 200)
    same_paths(mine, theirs)
    assert np.abs(mine[-1] - mine[0]).max() > 1e-3  # the problem does move the weights


def test_every_rule_is_in_the_registry():
    assert {rule.name for rule in TECHNIQUE_RULES} == set(ref.RULES)


@pytest.mark.parametrize("name", ["sgd_momentum", "nesterov"])
def test_momentum_conventions_part_when_the_learning_rate_changes(name):
    """cs231n's velocity is scaled by the rate it was built with, PyTorch's buffer is not:
    at a constant rate the trajectories are one, and after the rate drops from eta to eta'
    the next steps differ by mu * v * (1 - eta' / eta) for momentum (v the velocity before
    the drop)."""
    mu, eta, eta2, drop = 0.9, 0.05, 0.005, 30
    X, Y, W = problem()
    config, path = {"learning_rate": eta, "momentum": mu}, []
    for i in range(drop + 5):
        if i == drop:
            v_before = config["velocity"]
            config["learning_rate"] = eta2
        W, config = ref.RULES[name](W, gradient(W, X, Y), config)
        path.append(W)
    theirs = builtin_trajectory(
        lambda p: torch.optim.SGD(p, lr=eta, momentum=mu, nesterov=name == "nesterov"),
        drop + 5,
        schedule={drop: eta2},
    )
    same_paths(path[:drop], theirs[:drop])
    gap = np.abs(path[drop] - theirs[drop]).max()
    assert gap > 1e-4 * np.abs(theirs[drop]).max()
    if name == "sgd_momentum":  # w + mu v - eta' g against w + mu (eta'/eta) v - eta' g
        near(path[drop] - theirs[drop], mu * v_before * (1 - eta2 / eta), rtol=1e-8, atol=1e-14)


# --------------------------------------------------------------------------- twins


@pytest.mark.parametrize("name", RULES)
def test_twin_equals_the_reference(name):
    config = dict(HAND[name][1])
    mine = rule_trajectory(twin.RULES[name], dict(config), 50, tree=torch)
    same_paths(mine, rule_trajectory(ref.RULES[name], dict(config), 50), rtol=1e-12)
    same_paths(
        rule_trajectory(twin.RULES[name], None, 50, tree=torch),
        rule_trajectory(ref.RULES[name], None, 50),
        rtol=1e-12,
    )


@settings(max_examples=20, deadline=None)
@given(
    name=st.sampled_from(RULES),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-4, 1.0, 1e4]),
)
def test_twin_equals_the_reference_on_drawn_gradients(name, seed, scale):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(5)
    grads = [scale * rng.standard_normal(5) for _ in range(5)]
    wr, cr, wt, ct = w, None, torch.tensor(w), None
    for g in grads:
        wr, cr = ref.RULES[name](wr, g, cr)
        wt, ct = twin.RULES[name](wt, torch.tensor(g), ct)
        near(wt, wr, rtol=1e-12, atol=1e-15)


HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


def refuse_host_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a tensor's value was read on the host")

    for read in HOST_READS:
        monkeypatch.setattr(torch.Tensor, read, refuse)


@pytest.mark.parametrize("name", RULES)
def test_twins_never_read_a_tensor_on_the_host(monkeypatch, name):
    w, dw = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    refuse_host_reads(monkeypatch)
    config = None
    for _ in range(3):
        w, config = twin.RULES[name](w, dw, config)
    monkeypatch.undo()
    assert torch.isfinite(w).all()


@pytest.mark.gpu
@pytest.mark.parametrize("name", RULES)
def test_twins_run_on_cuda(name):
    X, Y, W = problem()
    Xc, Yc, Wc = (torch.tensor(a, device="cuda") for a in (X, Y, W))
    config_r, config_c = None, None
    for _ in range(20):
        W, config_r = ref.RULES[name](W, gradient(W, X, Y), config_r)
        Wc, config_c = twin.RULES[name](Wc, gradient(Wc, Xc, Yc), config_c)
    assert Wc.device.type == "cuda"
    near(Wc, W, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------- Adam's bias correction


@pytest.mark.parametrize("scale", [0.1, 1.0, 1e3])
def test_adam_steps_are_lr_long_on_a_constant_gradient(tree, scale):
    """m_hat = g and v_hat = g^2 exactly, from the first step on: every step is lr * sign(g)
    (without the correction the first would be lr (1 - beta1) / sqrt(1 - beta2) = 3.16 lr)."""
    kind = np.array if tree.is_reference else torch.tensor
    g = kind([scale, -scale, 2 * scale])
    w, config = kind([0.0, 0.0, 0.0]), {"learning_rate": 1e-3}
    for _ in range(3):
        next_w, config = tree.optim.adam(w, g, config)
        near(np.abs(npy(next_w - w)), np.full(3, 1e-3), rtol=1e-6)
        w = next_w


@pytest.mark.parametrize("make", [twin.Adam, torch.optim.Adam], ids=["ours", "torch"])
def test_adam_optimizer_first_step_is_lr(make):
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = make([w], lr=0.01)
    w.grad = torch.tensor([1e3, -0.5, 2.0], dtype=torch.float64)
    opt.step()
    near(w.detach().abs(), np.full(3, 0.01), rtol=1e-6)


# --------------------------------------------------------------------------- optimizers

#: (our optimizer, keyword arguments) for every option; the built-in of the same name
#: takes the same arguments.
OPTIONS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
]


def small_model(seed=0):
    """Two linear layers and a parameter the loss never uses (it gets no gradient)."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()
    model.unused = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    return model


def optimizer_run(make, kwargs, steps=100):
    """The parameters after every step, and the closure's losses, of ``make`` on
    :func:`small_model` with two param groups of different learning rates."""
    model = small_model()
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(16, 5, generator=gen, dtype=torch.float64)
    Y = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated loss
    first, second = model[0], model[2]
    groups = [
        {"params": [*first.parameters(), model.unused], "lr": kwargs.get("lr", 0.01) / 2},
        {"params": list(second.parameters())},
    ]
    opt = make(groups, **kwargs)

    def closure():
        opt.zero_grad()
        loss = sign * ((model(X) - Y) ** 2).mean()
        loss.backward()
        return loss

    path, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        path.append({n: npy(p).copy() for n, p in model.named_parameters()})
    return path, losses


@pytest.mark.parametrize(
    "name, kwargs", OPTIONS, ids=[f"{n}-{'-'.join(k) or 'defaults'}" for n, k in OPTIONS]
)
def test_optimizer_equals_the_builtin_step_for_step(name, kwargs):
    mine, my_losses = optimizer_run(getattr(twin, name), kwargs)
    theirs, their_losses = optimizer_run(getattr(torch.optim, name), kwargs)
    for ours, builtin in zip(mine, theirs):
        for n in builtin:
            near(ours[n], builtin[n], rtol=1e-12, atol=1e-14)
    near(np.array(my_losses), np.array(their_losses), rtol=1e-12)
    sign = -1 if kwargs.get("maximize") else 1  # the closure's objective is then -loss
    assert sign * my_losses[-1] < sign * my_losses[0]  # it does optimize
    assert np.array_equal(mine[-1]["unused"], np.ones(2))  # the parameter without a gradient


def test_optimizer_signatures_and_defaults_are_the_builtins():
    for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW"):
        ours = inspect.signature(getattr(twin, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for p in ours.values():
            assert p.name in theirs, f"{name} takes {p.name}, torch.optim.{name} does not"
            assert p.default == theirs[p.name].default, (name, p.name)
        omitted = set(theirs) - set(ours)
        assert omitted <= {"foreach", "fused", "capturable", "differentiable"}, omitted
        from_torch = {c for c in getattr(twin, name).__mro__ if c.__module__.startswith("torch")}
        assert from_torch == {torch.optim.Optimizer}  # written from scratch, not a built-in


@pytest.mark.parametrize("name, kwargs", [o for o in OPTIONS if o[1]][::3])
def test_optimizers_never_read_a_tensor_on_the_host(monkeypatch, name, kwargs):
    model = small_model()
    opt = getattr(twin, name)(model.parameters(), **kwargs)
    ((model(torch.ones(4, 5, dtype=torch.float64)) ** 2).mean()).backward()
    refuse_host_reads(monkeypatch)
    for _ in range(3):
        opt.step()
    monkeypatch.undo()


def test_optimizer_state_dict_round_trip():
    """The state (a Python step count, the moments) saves and loads like a built-in's."""
    X = torch.ones(4, 5, dtype=torch.float64)
    models = small_model(), small_model()
    opts = [twin.Adam(m.parameters(), lr=0.01, amsgrad=True) for m in models]
    ((models[0](X) ** 2).mean()).backward()
    opts[0].step()
    models[1].load_state_dict(models[0].state_dict())
    opts[1].load_state_dict(copy.deepcopy(opts[0].state_dict()))  # its tensors are shared
    for model, opt in zip(models, opts):
        opt.zero_grad()
        ((model(X) ** 2).mean()).backward()
        opt.step()
        assert opt.state[model[0].weight]["step"] == 2
    for p, q in zip(*(m.parameters() for m in models)):
        assert torch.equal(p, q)


# --------------------------------------------------------------------------- bad input


def bad_configs(name):
    """(config, exception, text the message must contain) for the rule ``name``."""
    cases = [
        ("not a dict", TypeError, "config must be a dict"),
        ({"lr": 0.1}, ValueError, r"unknown keys \['lr'\].*learning_rate"),
        ({"learning_rate": 0.0}, ValueError, r"config\['learning_rate'\] must be finite and > 0"),
        ({"learning_rate": -1.0}, ValueError, r"config\['learning_rate'\]"),
        ({"learning_rate": "0.1"}, TypeError, r"config\['learning_rate'\] must be a real number"),
    ]
    for key in ("momentum", "decay_rate", "beta1", "beta2"):
        if key in ref.DEFAULTS[name]:
            cases += [({key: 1.0}, ValueError, rf"config\['{key}'\] must be in \[0, 1\), got 1.0")]
            cases += [({key: -0.1}, ValueError, rf"config\['{key}'\] must be in \[0, 1\)")]
    for key in ("epsilon", "weight_decay"):
        if key in ref.DEFAULTS[name]:
            cases += [({key: -1e-8}, ValueError, rf"config\['{key}'\] must be finite and >= 0")]
    if "t" in ref.DEFAULTS[name]:
        cases += [({"t": -1}, ValueError, r"config\['t'\] must be a non-negative integer")]
        cases += [({"t": 1.5}, TypeError, r"config\['t'\] must be a non-negative integer")]
    for key in ref.STATE[name]:
        cases += [({key: np.zeros(3)}, ValueError, rf"config\['{key}'\] must have shape \(2, 3\)")]
        cases += [({key: [0.0] * 6}, TypeError, rf"config\['{key}'\] must be a NumPy array")]
    return cases


@pytest.mark.parametrize("name", RULES)
def test_bad_config_is_refused_naming_the_key(name):
    rule, w = ref.RULES[name], np.ones((2, 3))
    for config, error, message in bad_configs(name):
        with pytest.raises(error, match=message):
            rule(w, w, config)


@pytest.mark.parametrize("name", RULES)
def test_twin_refuses_what_the_reference_refuses(name):
    w = torch.ones(2, 3, dtype=torch.float64)
    for config, error, message in bad_configs(name):
        if isinstance(config, dict):  # state arrays of the twin's kind: tensors
            config = {
                k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in config.items()
            }
            message = message.replace("NumPy array", "torch tensor")
        with pytest.raises(error, match=message):
            twin.RULES[name](w, w, config)
    with pytest.raises(TypeError, match="w must be a torch tensor"):
        twin.RULES[name](np.ones(3), torch.ones(3), None)


@pytest.mark.parametrize("name", RULES)
def test_bad_arrays_are_refused_naming_them(name):
    rule = ref.RULES[name]
    with pytest.raises(TypeError, match="w must be a NumPy array, got list"):
        rule([1.0, 2.0], np.ones(2))
    with pytest.raises(TypeError, match="dw must be a NumPy array"):
        rule(np.ones(2), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"dw must have shape \(2, 3\), got \(3, 2\)"):
        rule(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(TypeError, match="w must have a floating-point dtype"):
        rule(np.ones(2, dtype=int), np.ones(2))


#: (optimizer, keyword arguments, text the message must contain); the built-in refuses
#: each with a ValueError too.
BAD_OPTIONS = [
    ("SGD", {"lr": -0.1}, "lr must be finite and >= 0, got -0.1"),
    ("SGD", {"momentum": -0.5}, "momentum must be finite and >= 0"),
    ("SGD", {"weight_decay": -1.0}, "weight_decay must be finite and >= 0"),
    ("SGD", {"nesterov": True}, "nesterov=True needs momentum > 0 and dampening = 0"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening=0.1"),
    ("Adagrad", {"lr_decay": -1.0}, "lr_decay must be finite and >= 0"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value must be"),
    ("Adagrad", {"eps": -1.0}, "eps must be finite and >= 0"),
    ("RMSprop", {"alpha": -0.1}, "alpha must be finite and >= 0"),
    ("RMSprop", {"momentum": -0.1}, "momentum must be finite and >= 0"),
    ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\] must be in \[0, 1\), got 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, r"betas\[1\] must be in \[0, 1\)"),
    ("Adam", {"eps": -1e-8}, "eps must be finite and >= 0"),
    ("AdamW", {"weight_decay": -0.1}, "weight_decay must be finite and >= 0"),
    ("AdamW", {"lr": -1e-3}, "lr must be finite and >= 0"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD_OPTIONS)
def test_bad_optimizer_arguments_are_refused_like_the_builtin(name, kwargs, message):
    params = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(ValueError, match=message):
        getattr(twin, name)(params, **kwargs)
    with pytest.raises(ValueError):
        getattr(torch.optim, name)(params, **kwargs)


def test_optimizers_refuse_what_they_do_not_support():
    with pytest.raises(TypeError, match="betas must be a pair"):
        twin.Adam([torch.nn.Parameter(torch.ones(2))], betas=0.9)
    w = torch.nn.Parameter(torch.ones(2, dtype=torch.complex128))
    w.grad = torch.ones_like(w)
    with pytest.raises(TypeError, match="complex parameter"):
        twin.SGD([w], lr=0.1).step()
    w = torch.nn.Parameter(torch.ones(3))
    w.grad = torch.ones(3).to_sparse()
    with pytest.raises(TypeError, match="sparse gradient"):
        twin.Adam([w]).step()


# --------------------------------------------------------------------------- train()


@pytest.fixture(scope="module")
def digits():
    data = load_digits_split(seed=0)
    return {k: (v / 16 if k.startswith("X") else v) for k, v in data.items()}


def both_nets(seed=0):
    kw = dict(input_dim=64, num_classes=10, weight_scale=0.1, seed=seed)
    return R.FullyConnectedNet([16], **kw), T.FullyConnectedNet([16], dtype=torch.float64, **kw)


TRAIN_CONFIGS = {
    "sgd": {"learning_rate": 0.1},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.8},
    "nesterov": {"learning_rate": 0.05},
    "adagrad": {"learning_rate": 0.05},
    "rmsprop": {"learning_rate": 1e-3},
    "adam": {"learning_rate": 3e-3},
    "adamw": {"learning_rate": 3e-3, "weight_decay": 0.1},
}


@pytest.mark.parametrize("name", RULES)
def test_both_trees_train_on_one_trajectory(digits, name):
    kw = dict(update_rule=name, optim_config=TRAIN_CONFIGS[name], epochs=2, batch_size=100)
    kw.update(lr_decay=0.5, keep_best=False, progress=False)
    reference, torch_net = both_nets()
    h_ref, h_torch = train(reference, digits, **kw), train(torch_net, digits, **kw)
    near(np.array(h_torch.loss), np.array(h_ref.loss), rtol=1e-8)
    assert h_ref.loss[-1] < h_ref.loss[0]
    for k, p in reference.params.items():
        near(torch_net.params[k], p, rtol=1e-8, atol=1e-12)


def hand_loop(net, data, epochs, batch_size, rule, config, lr_decay, seed=0):
    """A minibatch loop written out, one config per parameter (cs231n's Solver)."""
    rng, n = np.random.default_rng(seed), data["X_train"].shape[0]
    configs = {k: dict(config) for k in net.params}
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss, grads = net.loss(data["X_train"][idx], data["y_train"][idx])
            losses.append(loss)
            for k in net.params:
                net.params[k], configs[k] = rule(net.params[k], grads[k], configs[k])
        for c in configs.values():
            c["learning_rate"] *= lr_decay
    return losses


def test_the_default_is_the_old_momentum_update(digits):
    """train(net, data, learning_rate=, momentum=, lr_decay=) as the chapters call it: the
    update v <- mu v - lr g, p <- p + v of before, bit for bit."""
    net, hand = both_nets()[0], both_nets()[0]
    kw = dict(epochs=2, batch_size=200, keep_best=False, progress=False)
    history = train(net, digits, learning_rate=0.05, momentum=0.7, lr_decay=0.5, **kw)
    rng, n, lr = np.random.default_rng(0), digits["X_train"].shape[0], 0.05
    velocity, losses = {k: np.zeros_like(p) for k, p in hand.params.items()}, []
    for _ in range(2):
        order = rng.permutation(n)
        for start in range(0, n, 200):
            idx = order[start : start + 200]
            loss, grads = hand.loss(digits["X_train"][idx], digits["y_train"][idx])
            losses.append(loss)
            for k, p in hand.params.items():
                velocity[k] = 0.7 * velocity[k] - lr * grads[k]
                p += velocity[k]
        lr *= 0.5
    assert history.loss == losses
    for k in net.params:
        assert np.array_equal(net.params[k], hand.params[k])
    # and with no hyperparameter given, cs231n's sgd_momentum defaults: lr 1e-2, momentum 0.9
    default, explicit = both_nets()[0], both_nets()[0]
    kw = dict(epochs=1, batch_size=200, progress=False)
    a = train(default, digits, **kw)
    b = train(explicit, digits, update_rule="sgd_momentum", learning_rate=1e-2, momentum=0.9, **kw)
    assert a.loss == b.loss


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_train_follows_the_rule_with_one_config_per_parameter(digits, name):
    net, hand = both_nets()[0], both_nets()[0]
    config = TRAIN_CONFIGS[name]
    kw = dict(epochs=2, batch_size=200, keep_best=False, progress=False)
    history = train(net, digits, update_rule=name, optim_config=config, lr_decay=0.7, **kw)
    losses = hand_loop(hand, digits, 2, 200, ref.RULES[name], config, 0.7)
    near(np.array(history.loss), np.array(losses), rtol=1e-12)
    assert config == TRAIN_CONFIGS[name]  # the caller's dict is left as it was


@pytest.mark.parametrize("name", RULES)
def test_the_learning_rate_keyword_is_a_shorthand_for_optim_config(digits, name):
    kw = dict(update_rule=name, epochs=1, batch_size=200, progress=False)
    a = train(both_nets()[0], digits, learning_rate=2e-3, **kw)
    b = train(both_nets()[0], digits, optim_config={"learning_rate": 2e-3}, **kw)
    c = train(both_nets()[0], digits, **kw)  # the rule's own default, 1e-2 or 1e-3
    assert a.loss == b.loss and a.loss != c.loss


def test_a_plain_torch_module_trains_with_adam(digits):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    kw = dict(update_rule="adam", learning_rate=1e-2, epochs=3, batch_size=50, progress=False)
    history = train(net, digits, **kw)
    assert max(history.val_acc) > 0.9


class Recorder:
    """A linear model that records every training call (none must happen on bad input)."""

    def __init__(self):
        self.params, self.calls = {"W": np.zeros((64, 10))}, 0

    def loss(self, X, y=None):
        self.calls += y is not None
        return (X @ self.params["W"]) if y is None else (1.0, {"W": np.zeros((64, 10))})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(update_rule="adamax"), ValueError, "update_rule must be one of 'sgd', 'sgd_m"),
        (dict(update_rule="Adam"), ValueError, "'adam', 'adamw', got 'Adam'"),
        (
            dict(learning_rate=0.1, optim_config={"learning_rate": 0.2}),
            ValueError,
            "learning_rate is given twice",
        ),
        (dict(momentum=0.5, optim_config={"momentum": 0.9}), ValueError, "momentum is given"),
        (
            dict(update_rule="adam", momentum=0.9),
            ValueError,
            "momentum is not a hyperparameter of update_rule='adam'",
        ),
        (dict(optim_config={"velocity": 0.0}), ValueError, r"optim_config has unknown keys"),
        (
            dict(update_rule="adam", optim_config={"beta1": 1.5}),
            ValueError,
            r"optim_config\['beta1'\] must be in \[0, 1\)",
        ),
        (dict(optim_config=[("learning_rate", 0.1)]), TypeError, "optim_config must be a dict"),
        (dict(momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (dict(learning_rate=0.0), ValueError, "learning_rate must be finite and > 0"),
    ],
)
def test_bad_update_rule_arguments_are_refused_before_training(digits, kwargs, error, message):
    model = Recorder()
    with pytest.raises(error, match=message):
        train(model, digits, epochs=1, progress=False, **kwargs)
    assert model.calls == 0
