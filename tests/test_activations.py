"""The chapter-1 nonlinearities: sigmoid, tanh, ReLU, leaky ReLU, PReLU, ELU, GELU, SiLU and
maxout, in both trees.

* **Gradient checks.** Every reference backward is compared with centred differences from
  :mod:`nntrain.gradcheck` in float64 and must agree to a relative error below 1e-7.
  The elementwise functions are checked entry by entry (each entry as a one-element array),
  so the rounding error of a difference is ``eps * |f(x_i)| / h`` instead of ``eps`` times
  the whole batch's sum, which would swamp small slopes. Even so, a centred difference
  cannot resolve a slope that is tiny next to the value it is the slope of, where the
  function saturates towards a constant: ``sigmoid`` above 7, ``tanh`` for ``|x|`` above
  4.5 (until about 19, where ``tanh`` is exactly 1 and both slopes exactly 0) and the ELU
  below -7. The domains below stop there, with a margin of ten on 1e-7; the saturated
  tails are checked instead against closed-form derivatives computed with :mod:`math`, to
  the same tolerance. Everything else, ``+-30`` included, is checked by differences.
  The piecewise-linear pieces (leaky ReLU,
  PReLU, maxout) are fed values on a dyadic grid, so every sum is exact and the numerical
  gradient equals the analytic one to the last bit; kinks (0) and maxout ties (two pieces
  equal) are kept out of the step's reach by construction.
* **Twin and built-ins.** The PyTorch twin gives the reference's values and gradients, and
  its Functions and modules agree with ``torch.sigmoid``, ``torch.tanh``, ``F.leaky_relu``,
  ``F.elu``, ``F.gelu``, ``F.silu``, ``nn.PReLU`` (the weight's gradient included) and a
  maxout written with ``torch.max``; ``torch.autograd.gradcheck`` accepts every Function.
* **Stability, identities, bad input and the network.**
"""

from __future__ import annotations

import math
import warnings

import nntrain.checks
import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from nntrain.torch._function import layer_function
from students import student_copy
from torch import nn
from twins import leaf, near, npy, t

TOL = 1e-7
DT = torch.float64
#: The elementwise functions and their hyperparameters (beside ``x``), if any.
ELEMENTWISE = {
    "sigmoid": {},
    "tanh": {},
    "relu": {},
    "leaky_relu": {"negative_slope": 0.01},
    "elu": {"alpha": 1.0},
    "gelu": {},
    "silu": {},
}
SMOOTH = ["sigmoid", "tanh", "elu", "gelu", "silu"]
NEW = ["sigmoid", "tanh", "leaky_relu", "prelu", "elu", "gelu", "silu", "maxout"]
MODULES = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "prelu": "PReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "maxout": "Maxout",
}


def fns(tree, name):
    return getattr(tree, f"{name}_forward"), getattr(tree, f"{name}_backward")


def grid(lo, hi, denom, *, nonzero=False):
    """Floats ``k / denom`` in ``[lo, hi]`` (``denom`` a power of two)."""
    ints = st.integers(math.ceil(lo * denom), math.floor(hi * denom))
    if nonzero:
        ints = ints.filter(lambda k: k != 0)
    return ints.map(lambda k: k / denom)


def f64(shape, elements):
    return hnp.arrays(np.float64, shape, elements=elements)


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)  # batch of 1 too


# --------------------------------------------------------------------------- gradient checks


def per_entry_numerical(forward, x, dout, h, **kw):
    """Centred differences of an elementwise function, one entry at a time."""
    num = np.empty_like(x)
    for i in np.ndindex(*x.shape):
        xi, di = np.array([x[i]]), np.array([dout[i]])
        num[i] = eval_numerical_gradient_array(lambda a: forward(a, **kw)[0], xi, di, h)[0]
    return num


#: Where centred differences resolve each smooth function's slope to 1e-7 (see the module
#: docstring), on a grid of 64ths (so ``x +- h`` is exact), plus edge values. The GELU's
#: and SiLU's slopes vanish at -0.7518 and -1.2785, which the grid comes no closer to than
#: 1.8e-3 and 2.8e-3: close enough for a test of small slopes, far enough to resolve them.
DOMAINS = {
    "sigmoid": st.sampled_from([-40.0, -30.0, 0.0]) | grid(-40, 7, 64),
    "tanh": st.sampled_from([-30.0, -20.0, 0.0, 20.0, 30.0]) | grid(-4.5, 4.5, 64),
    # away from the kink at 0 (a kink in the slope when alpha != 1, in the curvature when 1)
    "elu": st.sampled_from([-7.0, -0.5, 0.5, 30.0]) | grid(-7, 40, 64, nonzero=True),
    "gelu": st.sampled_from([-30.0, -0.75, 0.0, 30.0]) | grid(-40, 40, 64),
    "silu": st.sampled_from([-30.0, -1.28125, 0.0, 30.0]) | grid(-40, 40, 64),
}
H_SMOOTH = 2.0**-17


def hyper(name, draw):
    if name == "elu":
        return {"alpha": draw(st.sampled_from([1.0, 0.5, 2.0]) | grid(0.0625, 3, 16))}
    return {}


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data())
def test_smooth_backward_matches_numerical_gradient(name, data):
    x = data.draw(f64(data.draw(shapes), DOMAINS[name]))
    dout = data.draw(f64(x.shape, grid(-10, 10, 8)))
    kw = hyper(name, data.draw)
    forward, backward = fns(R, name)
    out, cache = forward(x, **kw)
    assert out.shape == x.shape and out.dtype == x.dtype
    dx = backward(dout, cache)
    assert dx.shape == x.shape
    assert rel_error(dx, per_entry_numerical(forward, x, dout, H_SMOOTH, **kw)) < TOL


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


#: Values and slopes in closed form, with the standard library, for one float ``x``.
CLOSED = {
    "sigmoid": (_sigmoid, lambda x: math.exp(-abs(x)) / (1 + math.exp(-abs(x))) ** 2),
    "tanh": (math.tanh, lambda x: 1 / math.cosh(x) ** 2),
    "elu": (lambda x: x if x > 0 else math.expm1(x), lambda x: 1.0 if x > 0 else math.exp(x)),
    "gelu": (
        lambda x: x * 0.5 * math.erfc(-x / math.sqrt(2)),
        lambda x: (
            0.5 * math.erfc(-x / math.sqrt(2)) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        ),
    ),
    # SiLU'(x) in a different algebraic form from the implementation's s (1 + x (1 - s))
    "silu": (
        lambda x: x * _sigmoid(x),
        lambda x: (
            (1 + math.exp(-x) + x * math.exp(-x)) / (1 + math.exp(-x)) ** 2
            if x >= 0
            else math.exp(x) * (1 + math.exp(x) + x) / (1 + math.exp(x)) ** 2
        ),
    ),
}
KNOWN_X = [
    -40,
    -30,
    -20,
    -15,
    -12,
    -10,
    -7,
    -3,
    -1.25,
    -0.75,
    -0.1,
    0.1,
    0.75,
    1.5,
    3,
    7,
    10,
    12,
    15,
    20,
    30,
    40,
]


@pytest.mark.parametrize("name", SMOOTH)
def test_values_and_saturated_tails_match_closed_forms(name):
    """Value and slope at points across the range, the saturated tails included (where
    finite differences cannot resolve the slope, see the module docstring)."""
    value, slope = CLOSED[name]
    x = np.array(KNOWN_X, dtype=np.float64)
    forward, backward = fns(R, name)
    out, cache = forward(x)
    dx = backward(np.ones_like(x), cache)
    assert rel_error(out, [value(v) for v in KNOWN_X]) < 1e-12
    assert rel_error(dx, [slope(v) for v in KNOWN_X]) < TOL
    # the twin too
    out_t, cache_t = fns(T, name)[0](t(x))
    dx_t = fns(T, name)[1](t(np.ones_like(x)), cache_t)
    assert rel_error(npy(out_t), [value(v) for v in KNOWN_X]) < 1e-12
    assert rel_error(npy(dx_t), [slope(v) for v in KNOWN_X]) < TOL


@given(
    x=f64(shapes, grid(-1000, 1000, 16, nonzero=True)),
    slope=st.sampled_from([0.01, 0.0, 1.0, 0.25, -0.5])
    | st.floats(-2, 2, allow_nan=False, allow_subnormal=False),
    data=st.data(),
)
def test_leaky_relu_backward_matches_numerical_gradient(x, slope, data):
    # |x| >= 1/16 and the step is 1/64: no entry can cross the kink at 0.
    dout = data.draw(f64(x.shape, grid(-10, 10, 8)))
    out, cache = R.leaky_relu_forward(x, slope)
    np.testing.assert_array_equal(out, np.where(x > 0, x, slope * x))
    dx = R.leaky_relu_backward(dout, cache)
    num = per_entry_numerical(R.leaky_relu_forward, x, dout, 2.0**-6, negative_slope=slope)
    assert dx.shape == x.shape
    assert rel_error(dx, num) < TOL


def test_leaky_relu_default_slope_and_gradient_at_zero():
    x = np.array([-100.0, 0.0, 3.0])
    out, cache = R.leaky_relu_forward(x)
    np.testing.assert_array_equal(out, [-1.0, 0.0, 3.0])
    np.testing.assert_array_equal(R.leaky_relu_backward(np.full(3, 2.0), cache), [0.02, 0.02, 2.0])


@st.composite
def prelu_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    per_channel = ndim >= 2 and draw(st.booleans())
    c = shape[1] if per_channel else 1
    x = draw(f64(shape, grid(-1000, 1000, 16, nonzero=True)))
    alpha = draw(f64((c,), grid(-1, 1, 64)))
    dout = draw(f64(shape, grid(-10, 10, 8)))
    return x, alpha, dout


@given(prelu_case())
def test_prelu_backward_matches_numerical_gradient(case):
    # Dyadic x, alpha, dout and step: every product and sum is exact, so the numerical
    # gradients (dalpha sums over the batch and spatial axes) equal the analytic ones.
    x, alpha, dout = case
    out, cache = R.prelu_forward(x, alpha)
    a = alpha.reshape((1, -1) + (1,) * (x.ndim - 2)) if alpha.size > 1 else alpha[0]
    np.testing.assert_array_equal(out, np.where(x > 0, x, a * x))
    dx, dalpha = R.prelu_backward(dout, cache)
    assert dx.shape == x.shape and dalpha.shape == alpha.shape
    h = 2.0**-6
    dx_num = eval_numerical_gradient_array(lambda v: R.prelu_forward(v, alpha)[0], x, dout, h)
    da_num = eval_numerical_gradient_array(lambda v: R.prelu_forward(x, v)[0], alpha, dout, h)
    assert rel_error(dx, dx_num) < TOL
    assert rel_error(dalpha, da_num) < TOL


def test_prelu_channel_axis_is_axis_one():
    x = -np.ones((2, 3, 4, 5))
    alpha = np.array([0.1, 0.2, 0.3])
    out, cache = R.prelu_forward(x, alpha)
    for c in range(3):
        np.testing.assert_array_equal(out[:, c], -alpha[c])
    dx, dalpha = R.prelu_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dalpha, [-40.0, -40.0, -40.0])  # 2 * 4 * 5 entries of -1
    np.testing.assert_array_equal(dx[:, 2], 0.3)


@st.composite
def maxout_case(draw, k=None):
    n = draw(st.integers(1, 4))
    feat = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    d_in, d_out = math.prod(feat), draw(st.integers(1, 4))
    k = draw(st.integers(1, 4)) if k is None else k
    x = draw(f64((n, *feat), grid(-4, 4, 8)))
    w = draw(f64((k, d_in, d_out), grid(-2, 2, 8)))
    b = draw(f64((k, d_out), grid(-4, 4, 8)))
    # Piece j gets an extra j/256: every x w + b is a multiple of 1/64, so two pieces
    # (at most 3 apart) now differ by at least 1/256, while a step of 2**-12 moves any
    # piece by at most 2**-10 (|x| <= 4, |w| <= 2): no tie, and no winner changes.
    b += np.arange(k)[:, None] / 256
    dout = draw(f64((n, d_out), grid(-10, 10, 8)))
    return x, w, b, dout


@given(maxout_case())
def test_maxout_backward_matches_numerical_gradient(case):
    x, w, b, dout = case
    out, cache = R.maxout_forward(x, w, b)
    z = np.stack([x.reshape(len(x), -1) @ w[j] + b[j] for j in range(len(w))])
    np.testing.assert_array_equal(out, z.max(axis=0))
    dx, dw, db = R.maxout_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    h = 2.0**-12
    dx_num = eval_numerical_gradient_array(lambda v: R.maxout_forward(v, w, b)[0], x, dout, h)
    dw_num = eval_numerical_gradient_array(lambda v: R.maxout_forward(x, v, b)[0], w, dout, h)
    db_num = eval_numerical_gradient_array(lambda v: R.maxout_forward(x, w, v)[0], b, dout, h)
    assert rel_error(dx, dx_num) < TOL
    assert rel_error(dw, dw_num) < TOL
    assert rel_error(db, db_num) < TOL


@pytest.mark.parametrize("name", SMOOTH + ["leaky_relu"])
def test_the_gradient_check_catches_a_slightly_wrong_backward(name):
    """Not vacuous: a backward off by one part in a million fails the check above."""
    forward, backward = fns(R, name)
    x = np.array([[-3.0, -0.5], [0.25, 2.0]])
    dout = np.array([[1.0, -2.0], [0.5, 3.0]])
    dx = backward(dout, forward(x)[1])
    num = per_entry_numerical(forward, x, dout, H_SMOOTH)
    assert rel_error(dx, num) < TOL
    assert rel_error(dx * (1 + 1e-6), num) > TOL


@pytest.mark.parametrize("name", NEW + ["relu", "affine"])
def test_checks_grade_the_reference_and_catch_a_wrong_backward(name, capsys):
    """``nntrain.checks.check_layer`` has default inputs for every technique (away from
    kinks and ties), passes the reference's code and fails a backward with a wrong factor.
    (The checks refuse the package's own functions, and answers that call them: a student
    hands in a copy, tests/students.py.)"""
    reference_forward, reference_backward = fns(R, name)
    forward, backward = student_copy(reference_forward), student_copy(reference_backward)

    for seed in range(3):
        assert nntrain.checks.check_layer(forward, backward, name, seed=seed)

    def wrong(dout, cache):
        grads = backward(dout, cache)
        return tuple(1.01 * g for g in grads) if isinstance(grads, tuple) else 1.01 * grads

    assert not nntrain.checks.check_layer(forward, wrong, name)
    assert "FAIL" in capsys.readouterr().out


# --------------------------------------------------------------------------- twin == reference


values = st.floats(-50, 50, allow_nan=False, allow_subnormal=False)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@given(data=st.data())
def test_twin_matches_reference_elementwise(name, data):
    x = data.draw(f64(data.draw(shapes), values))
    x.flat[0] = 0.0  # the gradient at 0 agrees too
    dout = data.draw(f64(x.shape, st.floats(-10, 10, allow_nan=False, allow_subnormal=False)))
    kw = {"alpha": data.draw(st.floats(0.1, 3))} if name == "elu" else {}
    if name == "leaky_relu":
        kw = {"negative_slope": data.draw(st.floats(-1, 1, allow_subnormal=False))}
    (rf, rb), (tf, tb) = fns(R, name), fns(T, name)
    out_r, cache_r = rf(x, **kw)
    out_t, cache_t = tf(t(x), **kw)
    assert out_t.dtype == DT
    atol = 1e-14 * np.abs(dout)
    near(out_t, out_r)
    near(tb(t(dout), cache_t), rb(dout, cache_r), atol=atol)


@given(prelu_case())
def test_twin_matches_reference_prelu(case):
    x, alpha, dout = case
    out_r, cache_r = R.prelu_forward(x, alpha)
    out_t, cache_t = T.prelu_forward(t(x), t(alpha))
    near(out_t, out_r, 0, 0)
    for got, want in zip(T.prelu_backward(t(dout), cache_t), R.prelu_backward(dout, cache_r)):
        near(got, want, 0, 0)  # dyadic values: exact in both trees


@given(maxout_case())
def test_twin_matches_reference_maxout(case):
    x, w, b, dout = case
    out_r, cache_r = R.maxout_forward(x, w, b)
    out_t, cache_t = T.maxout_forward(t(x), t(w), t(b))
    near(out_t, out_r, 0, 0)
    grads_t = T.maxout_backward(t(dout), cache_t)
    for got, want in zip(grads_t, R.maxout_backward(dout, cache_r)):
        near(got, want, 0, 0)  # dyadic values: exact in both trees


# --------------------------------------------------------------------------- built-ins

BUILTIN = {
    "sigmoid": lambda x: torch.sigmoid(x),
    "tanh": lambda x: torch.tanh(x),
    "relu": lambda x: torch.relu(x),
    "leaky_relu": lambda x, negative_slope: F.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha: F.elu(x, alpha),
    "gelu": lambda x: F.gelu(x, approximate="none"),
    "silu": lambda x: F.silu(x),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@given(data=st.data())
def test_functions_and_modules_match_builtins(name, data):
    x = data.draw(f64(data.draw(shapes), values))
    x.flat[0] = 0.0  # PyTorch's gradient at 0 (0 for ReLU, the slope or alpha otherwise)
    dout = t(data.draw(f64(x.shape, st.floats(-10, 10, allow_nan=False, allow_subnormal=False))))
    kw = {}
    if name == "leaky_relu":
        slopes = st.sampled_from([0.01, 0.2]) | st.floats(-1, 1, allow_subnormal=False)
        kw = {"negative_slope": data.draw(slopes)}
    if name == "elu":
        kw = {"alpha": data.draw(st.sampled_from([1.0, 0.5]) | st.floats(0.1, 3))}
    xb = leaf(x)
    out_b = BUILTIN[name](xb, *kw.values())
    out_b.backward(dout)
    function = getattr(T, MODULES[name] + "Function")
    module = getattr(T, MODULES[name])(*kw.values())
    for run in (lambda v: function.apply(v, *kw.values()), module):
        xf = leaf(x)
        out_f = run(xf)
        out_f.backward(dout)
        # PyTorch's GELU takes 1 + erf(x / sqrt 2), which cancels to 0 in the far left
        # tail where our erfc form keeps ~1e-23: an absolute floor absorbs the difference.
        near(out_f, out_b, atol=1e-14)
        near(xf.grad, xb.grad, atol=1e-14 * np.abs(npy(dout)))


@pytest.mark.parametrize(
    "shape, num_parameters",
    [
        ((5,), "one"),
        ((4, 3), "one"),
        ((4, 3), "per_channel"),
        ((2, 3, 5), "one"),
        ((2, 3, 5), "per_channel"),
        ((2, 3, 4, 4), "one"),
        ((2, 3, 4, 4), "per_channel"),
    ],
)
def test_prelu_matches_nn_prelu_including_weight_gradient(shape, num_parameters):
    rng = np.random.default_rng(len(shape))
    c = shape[1] if num_parameters == "per_channel" else 1
    x = rng.standard_normal(shape)
    x.flat[::7] = 0.0
    dout = t(rng.standard_normal(shape))
    builtin = nn.PReLU(c).double()
    ours = T.PReLU(c).double()
    assert tuple(ours.weight.shape) == tuple(builtin.weight.shape) == (c,)
    torch.testing.assert_close(ours.weight, builtin.weight)  # same init, 0.25
    alpha = rng.uniform(-0.5, 0.5, c)
    with torch.no_grad():
        builtin.weight.copy_(t(alpha))
        ours.weight.copy_(t(alpha))
    xb, xo = leaf(x), leaf(x)
    out_b, out_o = builtin(xb), ours(xo)
    out_b.backward(dout)
    out_o.backward(dout)
    near(out_o, out_b)
    near(xo.grad, xb.grad)
    near(ours.weight.grad, builtin.weight.grad, atol=1e-13 * float(np.abs(x).sum()))
    # and the reference, given the same slopes
    out_r, cache_r = R.prelu_forward(x, alpha)
    dx_r, dalpha_r = R.prelu_backward(npy(dout), cache_r)
    near(out_r, out_b)
    near(dx_r, xb.grad)
    near(dalpha_r, builtin.weight.grad, atol=1e-13 * float(np.abs(x).sum()))


def _torch_maxout(x, w, b):
    """Maxout spelled out: ``torch.max`` over the stacked affine maps."""
    x2 = x.reshape(x.shape[0], -1)
    return torch.stack([x2 @ w[j] + b[j] for j in range(w.shape[0])]).max(dim=0).values


@given(maxout_case())
def test_maxout_matches_explicit_torch_max(case):
    x, w, b, dout = case
    leaves_b = [leaf(v) for v in (x, w, b)]
    out_b = _torch_maxout(*leaves_b)
    out_b.backward(t(dout))
    leaves_f = [leaf(v) for v in (x, w, b)]
    out_f = T.MaxoutFunction.apply(*leaves_f)
    out_f.backward(t(dout))
    near(out_f, out_b, 0, 0)
    for a, c in zip(leaves_f, leaves_b):
        near(a.grad, c.grad, 0, 0)
    module = T.Maxout(w.shape[1], w.shape[2], k=w.shape[0]).double()
    with torch.no_grad():
        module.weight.copy_(t(w))
        module.bias.copy_(t(b))
    xm = leaf(x)
    out_m = module(xm)
    out_m.backward(t(dout))
    near(out_m, out_b, 0, 0)
    near(xm.grad, leaves_b[0].grad, 0, 0)
    near(module.weight.grad, leaves_b[1].grad, 0, 0)
    near(module.bias.grad, leaves_b[2].grad, 0, 0)


def test_modules_keep_their_hyperparameters():
    assert T.LeakyReLU().negative_slope == 0.01 and T.LeakyReLU(0.2).negative_slope == 0.2
    assert T.ELU().alpha == 1.0 and T.ELU(0.5).alpha == 0.5
    x = t(np.array([-2.0, 1.0]))
    near(T.LeakyReLU(0.2)(x), [-0.4, 1.0])
    near(T.ELU(0.5)(x), [0.5 * math.expm1(-2.0), 1.0])
    near(T.PReLU(1, init=0.5).double()(x), [-1.0, 1.0])
    assert "negative_slope=0.2" in repr(T.LeakyReLU(0.2))
    assert "k=3" in repr(T.Maxout(4, 2, k=3))
    assert T.Maxout(4, 2, k=3).bias.shape == (3, 2)


def _away_from_zero(rng, shape, gap=0.1):
    v = rng.standard_normal(shape)
    return np.sign(v + (v == 0)) * (np.abs(v) + gap)


@pytest.mark.parametrize("seed", range(3))
def test_gradcheck_functions(seed):
    rng = np.random.default_rng(seed)
    gradcheck = torch.autograd.gradcheck
    smooth = 3 * rng.standard_normal((3, 4))
    kinked = _away_from_zero(rng, (3, 4))
    assert gradcheck(T.SigmoidFunction.apply, (leaf(smooth),))
    assert gradcheck(T.TanhFunction.apply, (leaf(smooth),))
    assert gradcheck(T.GELUFunction.apply, (leaf(smooth),))
    assert gradcheck(T.SiLUFunction.apply, (leaf(smooth),))
    assert gradcheck(T.LeakyReLUFunction.apply, (leaf(kinked),))  # default slope
    assert gradcheck(T.LeakyReLUFunction.apply, (leaf(kinked), 0.3))
    assert gradcheck(T.ELUFunction.apply, (leaf(kinked),))
    assert gradcheck(T.ELUFunction.apply, (leaf(kinked), 1.7))
    x4 = _away_from_zero(rng, (2, 3, 2, 2))
    assert gradcheck(T.PReLUFunction.apply, (leaf(x4), leaf(rng.uniform(0, 0.5, 3))))
    assert gradcheck(T.PReLUFunction.apply, (leaf(x4), leaf(rng.uniform(0, 0.5, 1))))
    x, w, b = (rng.standard_normal(s) for s in [(4, 3), (3, 3, 2), (3, 2)])
    z = np.sort(x @ w + b[:, None, :], axis=0)
    assert np.all(z[-1] - z[-2] > 1e-3)  # no near-tie for the step of gradcheck
    assert gradcheck(T.MaxoutFunction.apply, (leaf(x), leaf(w), leaf(b)))


def test_gradcheck_detects_a_wrong_activation_backward():
    wrong = layer_function(
        "Wrong", T.sigmoid_forward, lambda dout, out: dout * out * (1 - out) * 1.01
    )
    assert not torch.autograd.gradcheck(
        wrong.apply, (leaf(np.array([0.5, -1.0])),), raise_exception=False
    )


# --------------------------------------------------------------------------- stability

EXTREME = [-1e4, -1e3, -50.0, 0.0, 50.0, 1e3, 1e4]


def _all_finite(v):
    return bool(np.isfinite(npy(v)).all())


def _run_all(tree, dtype):
    """Forward and backward of every technique on the extreme values; returns the outputs
    and gradients by name."""
    x = tree.array(np.array(EXTREME), dtype)
    dout = tree.array(np.ones(len(EXTREME)), dtype)
    results = {}
    for name, kw in ELEMENTWISE.items():
        forward, backward = fns(tree, name)
        out, cache = forward(x, **kw)
        results[name] = (out, (backward(dout, cache),))
    x2 = tree.array(np.array(EXTREME).reshape(7, 1), dtype)
    out, cache = tree.prelu_forward(x2, tree.array(np.array([0.25]), dtype))
    results["prelu"] = (out, tree.prelu_backward(tree.array(np.ones((7, 1)), dtype), cache))
    w = tree.array(np.array([[[1.0, -1.0, 0.5]], [[-1.0, 2.0, 0.0]]]), dtype)
    out, cache = tree.maxout_forward(x2, w, tree.array(np.zeros((2, 3)), dtype))
    results["maxout"] = (out, tree.maxout_backward(tree.array(np.ones((7, 3)), dtype), cache))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_inputs(tree, dtype):
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        results = _run_all(tree, dtype)
    want = torch.float32 if dtype == np.float32 else torch.float64
    for name, (out, grads) in results.items():
        for v in (out, *grads):
            assert v.dtype == (np.dtype(dtype) if tree.is_reference else want), name
            assert _all_finite(v), f"{name}: {v}"
    sig = npy(results["sigmoid"][0])
    assert sig[0] == 0.0 and sig[-1] == 1.0  # exactly
    np.testing.assert_array_equal(npy(results["sigmoid"][1][0])[[0, -1]], [0.0, 0.0])
    np.testing.assert_array_equal(npy(results["tanh"][0])[[0, -1]], [-1.0, 1.0])
    np.testing.assert_array_equal(npy(results["elu"][0])[[0, 1, -1]], [-1.0, -1.0, 1e4])
    np.testing.assert_array_equal(npy(results["elu"][1][0])[[0, -1]], [0.0, 1.0])
    np.testing.assert_array_equal(npy(results["gelu"][0])[[0, -1]], [0.0, 1e4])
    np.testing.assert_array_equal(npy(results["gelu"][1][0])[[0, -1]], [0.0, 1.0])
    np.testing.assert_array_equal(npy(results["silu"][0])[[0, -1]], [0.0, 1e4])
    np.testing.assert_array_equal(npy(results["silu"][1][0])[[0, -1]], [0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_reference_stable_up_to_the_largest_float(name, dtype):
    """No intermediate overflows even at the largest finite values (x * x in the GELU's
    slope would, were its argument not clipped)."""
    big = np.finfo(dtype).max
    x = np.array([-big, -1e30, 1e30, big], dtype=dtype)
    forward, backward = fns(R, name)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, cache = forward(x)
        dx = backward(np.ones_like(x), cache)
    assert out.dtype == dx.dtype == dtype
    assert np.isfinite(out).all() and np.isfinite(dx).all()


def test_sigmoid_is_accurate_in_both_tails():
    out, _ = R.sigmoid_forward(np.array([-700.0, -30.0, 30.0]))
    assert out[0] == pytest.approx(math.exp(-700), rel=1e-13)  # not 0: exp(-|x|) only
    assert out[1] == pytest.approx(math.exp(-30) / (1 + math.exp(-30)), rel=1e-14)
    assert 1 - out[2] == pytest.approx(math.exp(-30), rel=1e-3)


# --------------------------------------------------------------------------- identities


@given(x=f64(shapes, values))
def test_tanh_is_a_rescaled_sigmoid(x):
    tanh = R.tanh_forward(x)[0]
    np.testing.assert_allclose(tanh, 2 * R.sigmoid_forward(2 * x)[0] - 1, rtol=0, atol=1e-12)
    tanh_t = T.tanh_forward(t(x))[0]
    near(tanh_t, 2 * T.sigmoid_forward(t(2 * x))[0] - 1, rtol=0, atol=1e-12)


@given(case=maxout_case(k=2))
def test_maxout_contains_relu_and_leaky_relu(case):
    x, w, b, _ = case
    w0, b0 = w[0], b[0]
    affine = R.affine_forward(x, w0, b0)[0]
    # second piece 0: the ReLU of the first, exactly (dyadic values: both sums are exact)
    w_relu, b_relu = np.stack([w0, 0 * w0]), np.stack([b0, 0 * b0])
    np.testing.assert_array_equal(R.maxout_forward(x, w_relu, b_relu)[0], R.relu_forward(affine)[0])
    # second piece 0.01 times the first: the leaky ReLU with slope 0.01
    w_leaky, b_leaky = np.stack([w0, 0.01 * w0]), np.stack([b0, 0.01 * b0])
    np.testing.assert_allclose(
        R.maxout_forward(x, w_leaky, b_leaky)[0],
        R.leaky_relu_forward(affine, 0.01)[0],
        rtol=1e-12,
        atol=1e-14,
    )
    out_t = T.maxout_forward(t(x), t(w_relu), t(b_relu))[0]
    near(out_t, R.relu_forward(affine)[0], 0, 0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_maxout_has_k_times_the_parameters_of_an_affine_layer(k):
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert count(T.Maxout(12, 7, k=k)) == k * count(T.Affine(12, 7)) == k * (12 * 7 + 7)


# --------------------------------------------------------------------------- bad input


def test_prelu_wrong_alpha_shape(tree):
    x = tree.array(np.ones((2, 3, 4)), np.float64)
    with pytest.raises(
        ValueError,
        match=r"alpha must have shape \(1,\) or \(C,\) with "
        r"C = x.shape\[1\] = 3, got \(2,\)",
    ):
        tree.prelu_forward(x, tree.array(np.ones(2), np.float64))
    with pytest.raises(ValueError, match=r"alpha must have shape \(1,\) for x with fewer"):
        tree.prelu_forward(tree.array(np.ones(3), np.float64), tree.array(np.ones(3), np.float64))
    with pytest.raises(ValueError, match=r"alpha must have 1 dimension, got shape \(1, 3\)"):
        tree.prelu_forward(x, tree.array(np.ones((1, 3)), np.float64))


def test_maxout_shape_mismatch(tree):

    def ones(*shape):
        return tree.array(np.ones(shape), np.float64)

    x = ones(2, 2, 2)  # D_in = 4
    with pytest.raises(ValueError, match=r"w must have shape \(any, 4, any\), got \(2, 5, 3\)"):
        tree.maxout_forward(x, ones(2, 5, 3), ones(2, 3))
    with pytest.raises(ValueError, match=r"b must have shape \(2, 3\), got \(3, 3\)"):
        tree.maxout_forward(x, ones(2, 4, 3), ones(3, 3))
    with pytest.raises(ValueError, match=r"w must have 3 dimensions, got shape \(4, 3\)"):
        tree.maxout_forward(x, ones(4, 3), ones(1, 3))
    with pytest.raises(ValueError, match=r"w must hold k >= 1 pieces.*got \(0, 4, 3\)"):
        tree.maxout_forward(x, ones(0, 4, 3), ones(0, 3))
    out, cache = tree.maxout_forward(x, ones(2, 4, 3), ones(2, 3))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\), got \(2, 4\)"):
        tree.maxout_backward(ones(2, 4), cache)


def test_torch_maxout_needs_one_dtype():
    x, w, b = torch.ones(2, 3), torch.ones(2, 3, 4, dtype=DT), torch.ones(2, 4, dtype=DT)
    with pytest.raises(TypeError, match="x, w and b must share one dtype, got torch.float32"):
        T.maxout_forward(x, w, b)


def _call(tree, name, x):
    """Run technique ``name`` with ``x`` as its input and valid other arguments."""
    if name == "prelu":
        return tree.prelu_forward(x, tree.array(np.ones(1), np.float64))
    if name == "maxout":
        w, b = tree.array(np.ones((2, 3, 2)), np.float64), tree.array(np.ones((2, 2)), np.float64)
        return tree.maxout_forward(x, w, b)
    return getattr(tree, f"{name}_forward")(x)


ALL = list(ELEMENTWISE) + ["prelu", "maxout"]


@pytest.mark.parametrize("name", ALL)
def test_integer_input_refused_and_nan_passed_through(tree, name):
    """dtypes are metadata and are checked; values are not scanned in a forward pass (the
    training loop checks its data once), so a NaN comes out as a NaN, not an error."""
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype, got .*int64"):
        _call(tree, name, tree.array(np.ones((2, 3)), np.int64))
    x = np.ones((2, 3))
    x[1, 2] = np.nan
    out = _call(tree, name, tree.array(x, np.float64))
    assert np.isnan(np.asarray(out[0] if isinstance(out, tuple) else out, dtype=float)).any()


@pytest.mark.parametrize("name", ALL)
def test_array_of_the_other_kind(tree, name):
    x = np.ones((2, 3))
    if tree.is_reference:
        other, want, got = torch.ones(2, 3, dtype=DT), "a NumPy array", "Tensor"
    else:
        other, want, got = x, "a torch tensor", "ndarray"
    with pytest.raises(TypeError, match=rf"x must be {want}, got {got}"):
        _call(tree, name, other)
    with pytest.raises(TypeError, match=r"x must be .*got list"):
        _call(tree, name, [[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_backward_wrong_dout(tree, name):
    forward, backward = fns(tree, name)
    _, cache = forward(tree.array(np.ones((2, 3)), np.float64))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\), got \(3, 2\)"):
        backward(tree.array(np.ones((3, 2)), np.float64), cache)
    with pytest.raises(TypeError, match="dout must be"):
        backward(np.ones((2, 3)) if not tree.is_reference else torch.ones(2, 3), cache)


@pytest.mark.parametrize("name", ALL)
def test_cache_of_the_other_kind(tree, name):
    out, cache = _call(tree, name, tree.array(np.ones((2, 3)), np.float64))

    def swap(v):
        """An array of this tree becomes one of the other; hyperparameters stay."""
        if isinstance(v, np.ndarray):
            return torch.from_numpy(v)
        return v.numpy() if isinstance(v, torch.Tensor) else v

    cache = tuple(map(swap, cache)) if isinstance(cache, tuple) else swap(cache)
    got = "Tensor" if tree.is_reference else "ndarray"
    with pytest.raises(TypeError, match=rf"cache (x|out) must be a .*, got {got}"):
        getattr(tree, f"{name}_backward")(tree.array(np.ones(tuple(out.shape)), np.float64), cache)


@pytest.mark.parametrize("name, arg", [("leaky_relu", "negative_slope"), ("elu", "alpha")])
def test_bad_hyperparameters(tree, name, arg):
    forward = getattr(tree, f"{name}_forward")
    x = tree.array(np.ones(3), np.float64)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=rf"{arg} must be finite, got {bad}"):
            forward(x, **{arg: bad})
    for bad in ("0.1", None, True, tree.array(np.array([0.1]), np.float64)):
        with pytest.raises(TypeError, match=rf"{arg} must be a real number, got"):
            forward(x, **{arg: bad})
    forward(x, **{arg: np.float32(0.5)})  # NumPy scalars are real numbers
    # negative values are allowed, as in PyTorch
    out = forward(tree.array(np.array([-2.0]), np.float64), **{arg: -0.5})[0]
    assert float(npy(out)[0]) > 0


def test_bad_module_arguments():
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        T.LeakyReLU(float("nan"))
    with pytest.raises(TypeError, match="alpha must be a real number"):
        T.ELU("1")
    with pytest.raises(ValueError, match="num_parameters must be a positive integer, got 0"):
        T.PReLU(0)
    with pytest.raises(ValueError, match="init must be finite"):
        T.PReLU(3, init=float("inf"))
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        T.Maxout(3, 2, k=0)
    with pytest.raises(ValueError, match="out_features must be a positive integer"):
        T.Maxout(3, 0)


def test_float32_keeps_float32_with_numpy_hyperparameters():
    x = np.array([-1.0, 2.0], dtype=np.float32)
    for name, kw in [
        ("leaky_relu", {"negative_slope": np.float64(0.1)}),
        ("elu", {"alpha": np.float64(0.5)}),
    ]:
        out, cache = fns(R, name)[0](x, **kw)
        assert out.dtype == np.float32
        assert fns(R, name)[1](np.ones(2, np.float32), cache).dtype == np.float32
    out, cache = R.prelu_forward(x, np.array([0.1]))  # float64 slopes, float32 input
    dx, dalpha = R.prelu_backward(np.ones(2, np.float32), cache)
    assert out.dtype == np.float32 and dalpha.dtype == np.float64


# --------------------------------------------------------------------------- network


def _nets(activation, seed=0):
    kw = dict(input_dim=6, num_classes=3, weight_scale=0.5, seed=seed, activation=activation)
    ref = R.FullyConnectedNet([5, 4], dtype=np.float64, **kw)
    return ref, T.FullyConnectedNet([5, 4], dtype=DT, **kw)


def test_fc_net_accepts_every_activation():
    from nntrain.reference.fc_net import ACTIVATIONS as RA
    from nntrain.torch.fc_net import ACTIVATIONS as TA

    assert set(RA) == set(TA) == {"relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "silu"}
    for name, (forward, backward) in RA.items():
        assert (forward, backward) == fns(R, name)
        assert TA[name] is getattr(T, MODULES[name])  # a module class, so hooks can see it


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "gelu", "leaky_relu", "elu", "silu"])
def test_fc_net_same_loss_and_grads_in_both_trees(activation):
    ref, twin = _nets(activation)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 2, 3)), rng.integers(0, 3, 5)
    loss_r, grads_r = ref.loss(X, y)
    loss_t, grads_t = twin.loss(t(X), t(y))
    assert float(loss_t) == pytest.approx(loss_r, rel=1e-12)
    assert set(grads_t) == set(grads_r)
    for k in grads_r:
        near(grads_t[k], grads_r[k], atol=1e-15)
    # the activation really is used: the ReLU net with the same weights has another loss
    assert _nets("relu")[0].loss(X, y)[0] != pytest.approx(loss_r, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fc_net_tanh_gradient_check(seed):
    rng = np.random.default_rng(seed)
    net = R.FullyConnectedNet(
        [4, 3],
        input_dim=5,
        num_classes=3,
        weight_scale=0.7,
        reg=0.1,
        seed=seed,
        activation="tanh",
    )
    for name in net.params:
        if name.startswith("b"):
            net.params[name] = 0.3 * rng.standard_normal(net.params[name].shape)
    X, y = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    loss, grads = net.loss(X, y)
    for name, p in net.params.items():
        num = eval_numerical_gradient(lambda _: net.loss(X, y)[0], p, h=1e-5)
        assert grads[name].shape == p.shape
        assert rel_error(grads[name], num) < TOL, name


# --------------------------------------------------------------------------- docs


@pytest.mark.parametrize("name", NEW)
def test_every_new_function_is_documented(name):
    for mod in (R, T):
        forward, backward = fns(mod, name)
        assert forward.__doc__ and backward.__doc__
    doc = fns(R, name)[0].__doc__
    assert ".. math::" in doc and "Example:" in doc and "chapter 1" in doc
    assert getattr(T, MODULES[name]).__doc__


# --------------------------------------------------------------------------- GPU


@pytest.mark.gpu
def test_cuda_matches_cpu():
    cuda = torch.device("cuda")
    rng = np.random.default_rng(0)
    x = 5 * rng.standard_normal((4, 3, 2))
    dout = rng.standard_normal(x.shape)
    for name in ELEMENTWISE:
        forward, backward = fns(T, name)
        out_c, cache_c = forward(t(x))
        out_g, cache_g = forward(t(x).to(cuda))
        assert out_g.device.type == "cuda"
        near(out_g, out_c, atol=1e-13)
        near(backward(t(dout).to(cuda), cache_g), backward(t(dout), cache_c), atol=1e-13)
    alpha = rng.uniform(0, 0.5, 3)
    out_c, cache_c = T.prelu_forward(t(x), t(alpha))
    out_g, cache_g = T.prelu_forward(t(x).to(cuda), t(alpha).to(cuda))
    near(out_g, out_c)
    grads_g = T.prelu_backward(t(dout).to(cuda), cache_g)
    for g, c in zip(grads_g, T.prelu_backward(t(dout), cache_c)):
        near(g, c, atol=1e-13)
    w, b = rng.standard_normal((2, 6, 5)), rng.standard_normal((2, 5))
    d5 = rng.standard_normal((4, 5))
    out_c, cache_c = T.maxout_forward(t(x), t(w), t(b))
    out_g, cache_g = T.maxout_forward(t(x).to(cuda), t(w).to(cuda), t(b).to(cuda))
    near(out_g, out_c, atol=1e-12)
    for g, c in zip(T.maxout_backward(t(d5).to(cuda), cache_g), T.maxout_backward(t(d5), cache_c)):
        near(g, c, atol=1e-12)
    for module in (T.Sigmoid(), T.GELU(), T.PReLU(3), T.Maxout(6, 5)):
        module = module.double().to(cuda)
        xg = t(x).to(cuda).requires_grad_(True)
        module(xg).sum().backward()
        assert xg.grad.device.type == "cuda" and torch.isfinite(xg.grad).all()


# --------------------------------------------------------------------------- ReLU on a dyadic grid


@given(
    x=f64(shapes, grid(-1000, 1000, 16, nonzero=True)),
    data=st.data(),
)
def test_relu_backward_matches_numerical_gradient(x, data):
    # |x| >= 1/16 and the step is 1/64: no entry can cross the kink at 0.
    dout = data.draw(f64(x.shape, grid(-10, 10, 8)))
    out, cache = R.relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    dx = R.relu_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda a: R.relu_forward(a)[0], x, dout, h=2.0**-6)
    assert dx.shape == x.shape
    assert rel_error(dx, dx_num) < TOL


def test_relu_gradient_at_zero_is_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = R.relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(R.relu_backward(np.full((1, 3), 5.0), cache), [[0.0, 0.0, 5.0]])
