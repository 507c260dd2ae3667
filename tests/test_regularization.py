"""Dropout, the weight penalties, soft thresholding and max-norm (``nntrain.reference.dropout``,
``nntrain.reference.penalties`` and their twins), and ``train(max_norm=)``.

* **Dropout.** The two trees draw their masks from different generators (NumPy's, torch's),
  so they are compared given one explicit mask (``dropout_param["mask"]``), to the last
  bit; the twin against ``nn.Dropout`` given the mask ``nn.Dropout`` drew (read off its
  output on ones), to the last bit; each tree's own draws statistically (the fraction
  dropped within 4 standard errors of ``1 - p``, the mean preserved). The gradient check
  passes with a seed and fails without one: the mask must be the same at every call.
* **Penalties.** Gradients against centred differences (the L1 subgradient away from 0),
  the twin against the reference to 1e-12, autograd through the twin's loss against its
  ``dw``, and ``torch.optim.SGD(weight_decay=λ)`` against SGD on ``loss + l2_penalty``.
* **Soft thresholding** gives exact zeros, equals ``F.softshrink`` and is the proximal
  operator (optimality condition, and a brute-force minimum on a grid).
* **Max-norm** leaves columns inside the ball bit for bit, puts the others on the sphere,
  is idempotent and nearly ``torch.renorm``; the training loop applies it after every
  update, to weight matrices only, in either layout.

The checks every forward pass gets (float32, bad input kinds, the GPU) come from the
registry of techniques (:mod:`nntrain.techniques`, rows "dropout ...").
"""

from __future__ import annotations

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from nntrain.train import train
from torch import nn
from twins import f64, floats, near, npy, t

DT = torch.float64
KEEP = st.sampled_from([0.1, 0.25, 0.5, 0.8, 0.9, 1.0])


def same(actual, expected):
    near(actual, expected, rtol=1e-12, atol=1e-14)


@pytest.fixture
def restore_rngs():
    """Leave NumPy's and torch's global generators as they were."""
    state_np, state_torch = np.random.get_state(), torch.get_rng_state()
    yield
    np.random.set_state(state_np)
    torch.set_rng_state(state_torch)


# --------------------------------------------------------------------------- dropout


@st.composite
def dropout_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    x = draw(f64(shape))
    mask = draw(hnp.arrays(np.bool_, shape))
    return x, mask, draw(KEEP), draw(f64(shape))


@given(dropout_case(), st.sampled_from(["train", "test"]))
def test_trees_agree_given_one_mask(case, mode):
    x, mask, p, dout = case
    dropout_param = {"mode": mode, "p": p, "mask": mask}
    out_r, cache_r = R.dropout_forward(x, dropout_param)
    out_t, cache_t = T.dropout_forward(t(x), {**dropout_param, "mask": torch.tensor(mask)})
    same(out_t, out_r)
    same(T.dropout_backward(t(dout), cache_t), R.dropout_backward(dout, cache_r))
    if mode == "test":
        assert out_r is x and np.array_equal(R.dropout_backward(dout, cache_r), dout)
    else:
        np.testing.assert_array_equal(out_r, np.where(mask, x * (1 / p), 0.0))


@pytest.mark.parametrize("drop", [0.1, 0.25, 0.5, 0.8])
def test_twin_equals_nn_dropout_given_its_mask(restore_rngs, drop):
    """nn.Dropout's mask, read off its output on ones (same seed, same shape, same draws),
    makes the twin's functions, its autograd Function and the reference compute
    nn.Dropout's output and gradient to the last bit."""
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((60, 40)), rng.standard_normal((60, 40))
    torch.manual_seed(5)
    mask = nn.Dropout(drop)(torch.ones(60, 40, dtype=DT)) != 0
    torch.manual_seed(5)
    xb = t(x).requires_grad_()
    out_b = nn.Dropout(drop)(xb)
    out_b.backward(t(dout))
    dropout_param = {"mode": "train", "p": 1 - drop, "mask": mask}
    out_t, cache = T.dropout_forward(t(x), dropout_param)
    assert torch.equal(out_t, out_b)
    assert torch.equal(T.dropout_backward(t(dout), cache), xb.grad)
    xf = t(x).requires_grad_()
    out_f = T.DropoutFunction.apply(xf, dropout_param)
    out_f.backward(t(dout))
    assert torch.equal(out_f, out_b) and torch.equal(xf.grad, xb.grad)
    out_r, _ = R.dropout_forward(x, {**dropout_param, "mask": mask.numpy()})
    np.testing.assert_array_equal(out_r, npy(out_b))


def test_module_is_the_identity_in_eval_mode_and_draws_like_the_function(restore_rngs):
    x = torch.randn(30, 20, dtype=DT)
    module, builtin = T.Dropout(0.3), nn.Dropout(0.3)
    assert module.training and repr(module) == "Dropout(p=0.3)"
    assert torch.equal(module.eval()(x), builtin.eval()(x))
    assert torch.equal(module(x), x)
    module.train()
    torch.manual_seed(11)
    out = module(x)
    torch.manual_seed(11)
    assert torch.equal(out, T.dropout_forward(x, {"mode": "train", "p": 0.7})[0])


def _dropped_and_mean(out, x, p):
    """Fraction of units dropped and the mean of ``out / x``, with their standard errors
    under keep probability ``p``: binomial, and ``sqrt((1 - p) / (p n))`` for a unit of
    value 1/p with probability p."""
    n = out.size
    dropped = float((out == 0).mean())
    ratio = float((out / x).mean())
    return dropped, np.sqrt(p * (1 - p) / n), ratio, np.sqrt((1 - p) / (p * n))


@pytest.mark.parametrize("tree", ["reference", "twin", "module", "nn.Dropout"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_draws_drop_a_fraction_1_minus_p_and_keep_the_mean(restore_rngs, tree, p):
    """Inverted dropout keeps the expected activation: E[out] = x, train and test alike."""
    np.random.seed(3)
    torch.manual_seed(3)
    x = np.random.uniform(0.5, 2.0, (400, 250))
    if tree == "reference":
        out = R.dropout_forward(x, {"mode": "train", "p": p})[0]
    elif tree == "twin":
        out = npy(T.dropout_forward(t(x), {"mode": "train", "p": p, "seed": 3})[0])
    else:
        module = T.Dropout(1 - p) if tree == "module" else nn.Dropout(1 - p)
        out = npy(module(t(x)))
    dropped, se_dropped, ratio, se_ratio = _dropped_and_mean(out, x, p)
    assert abs(dropped - (1 - p)) < 4 * se_dropped
    assert abs(ratio - 1) < 4 * se_ratio
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / p, rtol=1e-15)


def test_a_seed_fixes_the_mask_and_leaves_the_global_generator_alone(restore_rngs, tree):
    x = np.ones((50, 20))
    x = x if tree.is_reference else t(x)

    def mask(**extra):
        return npy(tree.dropout_forward(x, {"mode": "train", "p": 0.5, **extra})[0])

    before_np, before_torch = np.random.get_state()[1].copy(), torch.get_rng_state()
    a, b, other = mask(seed=4), mask(seed=4), mask(seed=5)
    np.testing.assert_array_equal(np.random.get_state()[1], before_np)
    assert torch.equal(torch.get_rng_state(), before_torch)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, other)
    # without a seed, the global generator: fresh masks, reproducible by seeding it
    np.random.seed(0)
    torch.manual_seed(0)
    first, second = mask(), mask()
    assert not np.array_equal(first, second)
    np.random.seed(0)
    torch.manual_seed(0)
    np.testing.assert_array_equal(mask(), first)


def test_keep_probability_one_keeps_everything():
    x = np.random.default_rng(0).standard_normal((4, 5))
    for tree, a in ((R, x), (T, t(x))):
        out, cache = tree.dropout_forward(a, {"mode": "train", "p": 1.0, "seed": 0})
        np.testing.assert_array_equal(npy(out), x)


def _numeric_vs_analytic(dropout_param, seed=0):
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((10, 10)) + 10, rng.standard_normal((10, 10))
    _, cache = R.dropout_forward(x, dropout_param)
    dx = R.dropout_backward(dout, cache)
    # dropout is linear in x: a long step adds no truncation error and divides rounding's
    # (with cs231n's h = 1e-5 the error is rounding, up to 5e-8 here)
    numeric = eval_numerical_gradient_array(
        lambda a: R.dropout_forward(a, dropout_param)[0], x, dout, h=1e-2
    )
    return rel_error(dx, numeric)


def test_gradient_check_passes_with_a_seed_and_fails_without(restore_rngs):
    """cs231n's check (x + 10, as in its notebook): with a seed every call draws the same
    mask and the centred difference sees the function the backward pass differentiates;
    without one each evaluation draws a new mask and the difference is noise."""
    for p in (0.25, 0.4, 0.7):
        assert _numeric_vs_analytic({"mode": "train", "p": p, "seed": 123}) < 1e-9
        assert _numeric_vs_analytic({"mode": "test", "p": p}) < 1e-9
        np.random.seed(0)
        assert _numeric_vs_analytic({"mode": "train", "p": p}) > 0.5


def test_torch_gradcheck_needs_the_seed_too(restore_rngs):
    x = torch.randn(4, 5, dtype=DT, requires_grad=True)
    seeded = {"mode": "train", "p": 0.6, "seed": 2}
    assert torch.autograd.gradcheck(T.DropoutFunction.apply, (x, seeded))
    torch.manual_seed(0)
    fresh = {"mode": "train", "p": 0.6}
    assert not torch.autograd.gradcheck(T.DropoutFunction.apply, (x, fresh), raise_exception=False)


@pytest.mark.gpu
def test_cuda_draws_on_the_device_and_a_seed_fixes_the_mask():
    cuda = torch.device("cuda")
    x = torch.randn(64, 32, device=cuda)
    param = {"mode": "train", "p": 0.5, "seed": 9}
    a, b = T.dropout_forward(x, param)[0], T.dropout_forward(x, param)[0]
    assert a.device.type == "cuda" and torch.equal(a, b)
    mask = a != 0
    out, cache = T.dropout_forward(x, {"mode": "train", "p": 0.5, "mask": mask})
    assert torch.equal(out, a)
    assert torch.equal(T.dropout_backward(torch.ones_like(x), cache), mask * 2.0)


KEEP_MSG = r"dropout_param\['p'\] must be a keep probability"
SEED_MSG = r"dropout_param\['seed'\] must be a non-negative integer or None, got"
BAD_DROPOUT = [
    ({"mode": "train", "p": 0.0}, ValueError, KEEP_MSG + r" in \(0, 1\], got 0.0"),
    ({"mode": "train", "p": 1.5}, ValueError, KEEP_MSG + r" in \(0, 1\], got 1.5"),
    ({"mode": "train", "p": -0.1}, ValueError, KEEP_MSG + r" in \(0, 1\], got -0.1"),
    ({"mode": "train", "p": float("nan")}, ValueError, KEEP_MSG + r" in \(0, 1\], got nan"),
    ({"mode": "train", "p": True}, TypeError, KEEP_MSG + r", a real number in \(0, 1\], got bool"),
    ({"mode": "eval", "p": 0.5}, ValueError, r"\['mode'\] must be 'train' or 'test', got 'eval'"),
    ({"mode": "train"}, ValueError, r"must contain 'mode' \('train' or 'test'\) and 'p'"),
    (
        {"p": 0.5, "rate": 0.5},
        ValueError,
        r"unknown keys \['rate'\]; the known ones are \['mode', 'p'",
    ),
    ({"mode": "train", "p": 0.5, "seed": -1}, ValueError, SEED_MSG + " -1"),
    ({"mode": "train", "p": 0.5, "seed": 1.5}, TypeError, SEED_MSG + " 1.5"),
    ([("mode", "train")], TypeError, r"dropout_param must be a dict such as .*, got list"),
]


@pytest.mark.parametrize("dropout_param, error, message", BAD_DROPOUT)
def test_bad_dropout_param_names_the_key(tree, dropout_param, error, message):
    x = np.ones((2, 3)) if tree.is_reference else torch.ones(2, 3, dtype=DT)
    with pytest.raises(error, match=message):
        tree.dropout_forward(x, dropout_param)


def test_bad_mask_names_what_was_expected(tree):
    def native(a):
        return a if tree.is_reference else torch.tensor(a)

    x = native(np.ones((2, 3)))

    def call(mask, **extra):
        return tree.dropout_forward(x, {"mode": "train", "p": 0.5, "mask": mask, **extra})

    with pytest.raises(
        ValueError, match=r"dropout_param\['mask'\] must have shape \(2, 3\), got \(3, 2\)"
    ):
        call(native(np.ones((3, 2), bool)))
    with pytest.raises(
        TypeError, match=r"dropout_param\['mask'\] must be a boolean array .*got .*float64"
    ):
        call(native(np.ones((2, 3))))
    foreign = torch.ones(2, 3, dtype=torch.bool) if tree.is_reference else np.ones((2, 3), bool)
    with pytest.raises(TypeError, match=r"dropout_param\['mask'\] must be a"):
        call(foreign)
    with pytest.raises(ValueError, match="takes a 'seed' or a 'mask', not both"):
        call(native(np.ones((2, 3), bool)), seed=0)
    with pytest.raises(
        TypeError,
        match=r"cache must be the \(mask, shape\) pair returned by dropout_forward, got dict",
    ):
        tree.dropout_backward(x, {"mask": None})
    _, cache = call(native(np.ones((2, 3), bool)))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\), got \(3, 2\)"):
        tree.dropout_backward(native(np.ones((3, 2))), cache)


@pytest.mark.parametrize(
    "p, error, message",
    [
        (1.0, ValueError, r"p must be in \[0, 1\), got 1.0"),
        (-0.1, ValueError, r"p must be in \[0, 1\), got -0.1"),
        ("0.5", TypeError, r"p must be a real number in \[0, 1\), got str"),
    ],
)
def test_module_refuses_a_bad_drop_probability(p, error, message):
    with pytest.raises(error, match=message):
        T.Dropout(p)


# --------------------------------------------------------------------------- penalties


def away(shape, gap=0.01):
    """float64 arrays of ``shape`` at least ``gap`` from 0 (the kink of |w|)."""
    return f64(shape, floats(10.0).filter(lambda v: abs(v) >= gap))


SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
REGS = st.sampled_from([0.0, 1e-3, 0.5, 3.0])
RATIOS = st.sampled_from([0.0, 0.25, 0.5, 1.0])


def _penalty(name, reg, l1_ratio):
    """``f(tree, w) -> (loss, dw)`` for the penalty ``name``."""
    if name == "elastic_net_penalty":
        return lambda tree, w: tree.elastic_net_penalty(w, reg, l1_ratio)
    return lambda tree, w: getattr(tree, name)(w, reg)


PENALTY_NAMES = ["l2_penalty", "l1_penalty", "elastic_net_penalty"]


@pytest.mark.parametrize("name", PENALTY_NAMES)
@settings(max_examples=30)
@given(data=st.data(), reg=REGS, l1_ratio=RATIOS)
def test_penalty_gradients_match_numerical(name, data, reg, l1_ratio):
    """Quadratic and piecewise linear: the centred difference with a step below the gap to
    0 is exact up to rounding."""
    w = data.draw(SHAPES.flatmap(away))
    penalty = _penalty(name, reg, l1_ratio)
    loss, dw = penalty(R, w)
    assert isinstance(loss, float) and dw.shape == w.shape
    numeric = eval_numerical_gradient(lambda a: penalty(R, a)[0], w, h=1e-3)
    assert rel_error(dw, numeric) < 1e-7


@pytest.mark.parametrize("name", PENALTY_NAMES)
@given(data=st.data(), reg=REGS, l1_ratio=RATIOS)
def test_twin_penalties_match_reference_and_autograd(name, data, reg, l1_ratio):
    w = data.draw(SHAPES.flatmap(f64))
    penalty = _penalty(name, reg, l1_ratio)
    loss_r, dw_r = penalty(R, w)
    wt = t(w).requires_grad_()
    loss_t, dw_t = penalty(T, wt)
    assert loss_t.ndim == 0 and loss_t.dtype == DT
    same(loss_t, loss_r)
    same(dw_t, dw_r)
    (grad,) = torch.autograd.grad(loss_t, wt)
    same(grad, dw_r)  # autograd through the loss gives dw (abs' gradient is 0 at 0 too)


@given(w=SHAPES.flatmap(f64), reg=REGS)
def test_elastic_net_ends_are_l1_and_l2_exactly(w, reg):
    for tree, a in ((R, w), (T, t(w))):
        for ratio, penalty in ((0.0, tree.l2_penalty), (1.0, tree.l1_penalty)):
            loss, dw = tree.elastic_net_penalty(a, reg, ratio)
            loss_p, dw_p = penalty(a, reg)
            assert float(loss) == float(loss_p)
            np.testing.assert_array_equal(npy(dw), npy(dw_p))


def test_penalty_values_and_the_l1_subgradient_at_zero():
    w = np.array([[3.0, -4.0], [0.0, 1.0]])
    assert R.l2_penalty(w, 0.2) == (pytest.approx(0.1 * 26), pytest.approx(0.2 * w))
    loss, dw = R.l1_penalty(w, 0.5)
    assert loss == 4.0
    np.testing.assert_array_equal(dw, [[0.5, -0.5], [0.0, 0.5]])
    loss, dw = R.elastic_net_penalty(w, 2.0, 0.25)  # 2 (0.25 * 8 + 0.75 * 13)
    assert loss == pytest.approx(2 * (0.25 * 8 + 0.75 * 13))
    np.testing.assert_allclose(dw, 2 * (0.25 * np.sign(w) + 0.75 * w))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_is_sgd_on_the_l2_penalty(momentum):
    """torch.optim.SGD(weight_decay=λ) adds λ w to the gradient: the gradient of
    l2_penalty(w, λ). 50 steps of least squares in float64 agree to 1e-12."""
    rng = np.random.default_rng(0)
    X, y, w0 = t(rng.standard_normal((30, 5))), t(rng.standard_normal(30)), rng.standard_normal(5)
    lam, lr = 0.3, 0.05
    a, b = t(w0).requires_grad_(), t(w0).requires_grad_()
    decay = torch.optim.SGD([a], lr=lr, momentum=momentum, weight_decay=lam)
    plain = torch.optim.SGD([b], lr=lr, momentum=momentum)
    for _ in range(50):
        for opt, w, penalty in ((decay, a, 0.0), (plain, b, T.l2_penalty(b, lam)[0])):
            opt.zero_grad()
            (F.mse_loss(X @ w, y) + penalty).backward()
            opt.step()
    assert not torch.allclose(a, t(w0))  # it moved
    near(a, b, rtol=1e-12, atol=1e-14)


BAD_PENALTY = [
    ("l2_penalty", (-0.1,), ValueError, r"reg must be finite and >= 0, got -0.1"),
    ("l1_penalty", (float("nan"),), ValueError, r"reg must be finite and >= 0, got nan"),
    ("l1_penalty", ("1",), TypeError, r"reg must be a real number, got str"),
    ("elastic_net_penalty", (0.1, 1.5), ValueError, r"l1_ratio must be in \[0, 1\], got 1.5"),
    ("elastic_net_penalty", (0.1, -0.5), ValueError, r"l1_ratio must be in \[0, 1\], got -0.5"),
    ("elastic_net_penalty", (-1.0, 0.5), ValueError, r"reg must be finite and >= 0, got -1.0"),
    ("soft_threshold", (-0.1,), ValueError, r"threshold must be finite and >= 0, got -0.1"),
    ("max_norm", (0.0,), ValueError, r"c must be finite and > 0, got 0.0"),
    ("max_norm", (-2.0,), ValueError, r"c must be finite and > 0, got -2.0"),
]


@pytest.mark.parametrize("name, args, error, message", BAD_PENALTY)
def test_bad_penalty_arguments_name_them(tree, name, args, error, message):
    w = np.ones((2, 3)) if tree.is_reference else torch.ones(2, 3, dtype=DT)
    with pytest.raises(error, match=message):
        getattr(tree, name)(w, *args)


GOOD_ARGS = {
    "l2_penalty": (0.1,),
    "l1_penalty": (0.1,),
    "elastic_net_penalty": (0.1, 0.5),
    "soft_threshold": (0.1,),
    "max_norm": (1.0,),
}


@pytest.mark.parametrize("name", list(GOOD_ARGS))
def test_penalties_take_only_their_tree_s_arrays(tree, name):
    kind, other = (
        ("a NumPy array", torch.ones(2, 3))
        if tree.is_reference
        else ("a torch tensor", np.ones((2, 3)))
    )
    for bad, got in (([[1.0, 2.0]], "list"), (other, type(other).__name__)):
        with pytest.raises(TypeError, match=f"w must be {kind}, got {got}"):
            getattr(tree, name)(bad, *GOOD_ARGS[name])
    if name == "max_norm":
        w = np.ones(3) if tree.is_reference else torch.ones(3)
        with pytest.raises(ValueError, match=r"w must have 2 dimensions, got shape \(3,\)"):
            tree.max_norm(w, 1.0)


# --------------------------------------------------------------------------- soft threshold


@given(w=SHAPES.flatmap(f64), threshold=st.sampled_from([0.0, 0.1, 1.0, 7.5]))
def test_soft_threshold_is_the_proximal_step_of_l1(w, threshold):
    z = R.soft_threshold(w, threshold)
    small = np.abs(w) <= threshold
    assert np.all(z[small] == 0) and not np.signbit(z[small]).any()  # exact zeros, +0
    # optimality of argmin_z 1/2 (z - w)^2 + t |z|: w - z is t sign(z) where z != 0, and
    # |w| <= t where z = 0
    np.testing.assert_allclose((w - z)[~small], threshold * np.sign(z[~small]), atol=1e-13)
    np.testing.assert_array_equal(np.sign(z[~small]), np.sign(w[~small]))
    zt = T.soft_threshold(t(w), threshold)
    assert torch.equal(zt, t(z))
    assert torch.equal(zt, F.softshrink(t(w), threshold))


def test_soft_threshold_minimizes_the_proximal_objective_on_a_grid():
    grid = np.linspace(-4, 4, 80001)  # step 1e-4
    for threshold in (0.0, 0.3, 1.2):
        for w in (-3.1, -1.2, -0.25, 0.0, 0.2, 0.9, 2.5):
            objective = 0.5 * (grid - w) ** 2 + threshold * np.abs(grid)
            z = R.soft_threshold(np.array([w]), threshold)[0]
            assert abs(grid[objective.argmin()] - z) <= 1e-4
            assert 0.5 * (z - w) ** 2 + threshold * abs(z) <= objective.min() + 1e-12


# --------------------------------------------------------------------------- max-norm


@st.composite
def weights_and_radius(draw):
    d_in, d_out = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    w = draw(f64((d_in, d_out), floats(10.0)))
    return w, draw(st.sampled_from([1e-3, 0.5, 1.0, 3.5, 20.0]))


@given(weights_and_radius())
def test_max_norm_projects_every_column_onto_the_ball(case):
    w, c = case
    out = R.max_norm(w, c)
    before, after = np.linalg.norm(w, axis=0), np.linalg.norm(out, axis=0)
    inside = before <= c
    np.testing.assert_array_equal(out[:, inside], w[:, inside])  # bit for bit
    assert np.all(after <= c * (1 + 1e-12))
    np.testing.assert_allclose(after[~inside], c, rtol=1e-12)
    scale = out[:, ~inside] / np.where(w[:, ~inside] == 0, 1, w[:, ~inside])
    assert np.all(scale >= 0)  # same direction: each column only shrinks
    np.testing.assert_allclose(R.max_norm(out, c), out, rtol=1e-12, atol=0)  # idempotent
    out_t = T.max_norm(t(w), c)
    same(out_t, out)
    near(torch.renorm(t(w), 2, 1, c), out, rtol=2e-7 / c, atol=0)  # renorm: norm + 1e-7


# --------------------------------------------------------------------------- train(max_norm)


@pytest.fixture(scope="module")
def blobs():
    """200 + 50 examples of 6 features in 3 well-separated classes."""
    rng = np.random.default_rng(0)
    centres = 4 * rng.standard_normal((3, 6))
    y = rng.integers(0, 3, 250)
    X = centres[y] + rng.standard_normal((250, 6))
    return dict(X_train=X[:200], y_train=y[:200], X_val=X[200:], y_val=y[200:])


def _unit_norms(w, dim):
    w = npy(w)
    return np.linalg.norm(w, axis=dim)


RUN = dict(learning_rate=0.5, epochs=3, batch_size=50, keep_best=False, progress=False)


def test_train_projects_the_weight_columns_after_every_update(blobs, tree):
    c = 0.8
    kw = dict(input_dim=6, num_classes=3, weight_scale=0.5, seed=0, normalization="batchnorm")
    if tree.is_reference:
        net = R.FullyConnectedNet([20], **kw)
    else:
        net = T.FullyConnectedNet([20], dtype=DT, **kw)
    free = tree.FullyConnectedNet([20], **kw, **({} if tree.is_reference else {"dtype": DT}))
    train(free, blobs, **RUN)
    assert max(_unit_norms(free.params[k], 0).max() for k in ("W1", "W2")) > 1.5 * c
    train(net, blobs, max_norm=c, **RUN)
    for k, p in net.params.items():
        if k.startswith("W"):
            assert _unit_norms(p, 0).max() <= c * (1 + 1e-12), k
    # biases and gamma are not constrained: they may leave the ball
    others = np.concatenate([npy(p) for k, p in net.params.items() if not k.startswith("W")])
    assert np.abs(others).max() > c


def test_train_with_max_norm_is_the_hand_written_loop(blobs):
    """One full-batch SGD step per epoch, then the projection, by hand."""
    net = R.FullyConnectedNet([8], input_dim=6, num_classes=3, weight_scale=1.0, seed=1)
    hand = R.FullyConnectedNet([8], input_dim=6, num_classes=3, weight_scale=1.0, seed=1)
    train(
        net,
        blobs,
        update_rule="sgd",
        learning_rate=0.5,
        epochs=4,
        batch_size=200,
        keep_best=False,
        progress=False,
        max_norm=1.0,
    )
    order = np.random.default_rng(0)
    for _ in range(4):
        idx = order.permutation(200)
        _, grads = hand.loss(blobs["X_train"][idx], blobs["y_train"][idx])
        for k in hand.params:
            hand.params[k] = hand.params[k] - 0.5 * grads[k]
            if k.startswith("W"):
                hand.params[k] = R.max_norm(hand.params[k], 1.0)
    for k in net.params:
        np.testing.assert_array_equal(net.params[k], hand.params[k])


def test_train_constrains_the_rows_of_a_linear_and_the_trees_agree(blobs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Linear(20, 3)).double()
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.mul_(5)
    train(model, blobs, max_norm=0.7, **RUN)
    for m in (model[0], model[2]):
        assert _unit_norms(m.weight, 1).max() <= 0.7 * (1 + 1e-12)  # rows: (D_out, D_in)
    assert _unit_norms(model[0].weight, 0).max() > 0.7  # not the columns
    kw = dict(input_dim=6, num_classes=3, weight_scale=1.0, seed=2)
    ref, twin = R.FullyConnectedNet([10], **kw), T.FullyConnectedNet([10], dtype=DT, **kw)
    for net in (ref, twin):
        train(net, blobs, max_norm=0.7, **RUN)
    for k in ref.params:
        near(twin.params[k], ref.params[k], rtol=1e-10, atol=1e-12)


def test_train_refuses_a_bad_max_norm(blobs):
    net = R.FullyConnectedNet([4], input_dim=6, num_classes=3, seed=0)
    with pytest.raises(ValueError, match=r"max_norm must be finite and > 0 or None, got 0.0"):
        train(net, blobs, max_norm=0.0, **RUN)
    conv = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (1, 6)), nn.Conv1d(1, 3, 6), nn.Flatten())
    with pytest.raises(
        ValueError, match="max_norm needs weight matrices to constrain, found none in Sequential"
    ):
        train(conv.double(), blobs, max_norm=1.0, **RUN)
