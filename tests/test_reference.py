"""Gradient checks and known values for the NumPy reference (:mod:`nntrain.reference`).

Every backward pass is compared with centred differences from :mod:`nntrain.gradcheck` and
must agree to a relative error below 1e-7 in float64.

A numerical gradient is only as good as the arithmetic behind it: its error is roughly
``eps * |f| / h`` (rounding) plus ``h**2 * |f'''| / 6`` (truncation), and ``rel_error``
divides by the size of each entry. These devices keep the check honest at 1e-7 without
loosening it:

* Piecewise-linear or quadratic functions (affine, ReLU, hinge, L1, L2, and a ReLU network
  trained with them) are fed values on a dyadic grid (integers over a power of two) and
  perturbed by a power-of-two step. Every sum and product is then exact in float64, the
  centred difference of a linear or quadratic piece is exact, and the numerical gradient
  must equal the analytic one to the last bit (any backward bug shows up at full size).
* Kinks (ReLU at 0, hinge margin 0, L1 residual 0) are kept out of the step's reach by
  construction, or for the network by checking that no kink is crossed.
* Softmax is smooth but not polynomial, so its check cannot be exact: its scores keep every
  probability away from 0 (so no gradient entry is tiny), and the softmax network skips the
  examples whose analytic gradient has a nonzero entry too small for the numerical one to
  resolve (see ``test_fc_net_gradients_softmax``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from nntrain.reference import (
    FullyConnectedNet,
    affine_backward,
    affine_forward,
    l1_loss,
    l2_loss,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)

TOL = 1e-7


def grid(max_abs, denom, *, nonzero=False):
    """Floats ``k / denom`` with ``|k / denom| <= max_abs`` (``denom`` a power of two)."""
    m = int(max_abs * denom)
    ints = st.integers(-m, m)
    if nonzero:
        ints = ints.filter(lambda k: k != 0)
    return ints.map(lambda k: k / denom)


def f64(shape, elements):
    return hnp.arrays(np.float64, shape, elements=elements)


# --------------------------------------------------------------------------- affine


@st.composite
def affine_case(draw):
    n = draw(st.integers(1, 4))  # includes a batch of one
    feat = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    d_in, d_out = math.prod(feat), draw(st.integers(1, 4))
    big = grid(1000, 8)  # zeros, eighths and magnitudes up to 1e3
    x = draw(f64((n, *feat), big))
    w = draw(f64((d_in, d_out), big))
    b = draw(f64((d_out,), big))
    dout = draw(f64((n, d_out), grid(10, 8)))
    return x, w, b, dout


@given(affine_case())
def test_affine_backward_matches_numerical_gradient(case):
    x, w, b, dout = case
    out, cache = affine_forward(x, w, b)
    assert out.shape == (x.shape[0], w.shape[1])
    np.testing.assert_array_equal(out, x.reshape(len(x), -1) @ w + b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    h = 2.0**-4  # affine is linear in each argument: any step is exact on the grid
    dx_num = eval_numerical_gradient_array(lambda a: affine_forward(a, w, b)[0], x, dout, h)
    dw_num = eval_numerical_gradient_array(lambda a: affine_forward(x, a, b)[0], w, dout, h)
    db_num = eval_numerical_gradient_array(lambda a: affine_forward(x, w, a)[0], b, dout, h)
    assert rel_error(dx, dx_num) < TOL
    assert rel_error(dw, dw_num) < TOL
    assert rel_error(db, db_num) < TOL


def test_affine_backward_generic_floats():
    """The cs231n-style check on ordinary random floats, as the book runs it."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((8, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((3, 5))
    dx, dw, db = affine_backward(dout, affine_forward(x, w, b)[1])
    num = eval_numerical_gradient_array
    assert rel_error(dx, num(lambda a: affine_forward(a, w, b)[0], x, dout)) < TOL
    assert rel_error(dw, num(lambda a: affine_forward(x, a, b)[0], w, dout)) < TOL
    assert rel_error(db, num(lambda a: affine_forward(x, w, a)[0], b, dout)) < TOL


# --------------------------------------------------------------------------- ReLU


@given(
    x=f64(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), grid(1000, 16, nonzero=True)),
    data=st.data(),
)
def test_relu_backward_matches_numerical_gradient(x, data):
    # |x| >= 1/16 and the step is 1/64: no entry can cross the kink at 0.
    dout = data.draw(f64(x.shape, grid(10, 8)))
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    dx = relu_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda a: relu_forward(a)[0], x, dout, h=2.0**-6)
    assert dx.shape == x.shape
    assert rel_error(dx, dx_num) < TOL


def test_relu_gradient_at_zero_is_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(relu_backward(np.full((1, 3), 5.0), cache), [[0.0, 0.0, 5.0]])


# --------------------------------------------------------------------------- softmax


@st.composite
def softmax_case(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    # A per-row offset up to 1e3 (the loss is shift-invariant) plus a spread in [-2, 2]
    # that keeps every probability above e**-4 / C, so no gradient entry is tiny.
    offset = draw(f64((n, 1), grid(1000, 1)))
    spread = draw(f64((n, c), grid(2, 64)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return offset + spread, y


@given(softmax_case())
def test_softmax_loss_gradient(case):
    scores, y = case
    loss, dscores = softmax_loss(scores, y)
    assert isinstance(loss, float) and dscores.shape == scores.shape
    num = eval_numerical_gradient(lambda s: softmax_loss(s, y)[0], scores, h=2.0**-13)
    assert rel_error(dscores, num) < TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_softmax_loss_is_stable_for_huge_logits(dtype, data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5))
    scores = data.draw(
        hnp.arrays(dtype, (n, c), elements=st.sampled_from([-1e4, -5e3, 0.0, 5e3, 1e4]))
    )
    y = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow in exp would be a RuntimeWarning
        loss, dscores = softmax_loss(scores, y)
    assert np.isfinite(loss) and np.isfinite(dscores).all()
    assert loss >= 0
    s64 = scores.astype(np.float64)
    top = s64.max(axis=1)
    expected = np.mean(top + np.log(np.exp(s64 - top[:, None]).sum(1)) - s64[np.arange(n), y])
    assert loss == pytest.approx(expected, rel=1e-5, abs=1e-5)
    np.testing.assert_allclose(dscores.sum(axis=1), 0.0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_loss_huge_logits_known_value(dtype):
    scores = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    loss, dscores = softmax_loss(scores, np.array([1, 0]))
    # row 0: -log p = 1e4; row 1: -log(1/2) = ln 2
    assert loss == pytest.approx((1e4 + math.log(2)) / 2, rel=1e-6)
    np.testing.assert_allclose(dscores, [[0.5, -0.5, 0.0], [-0.25, 0.25, 0.0]], atol=1e-6)


@given(
    n=st.integers(1, 5),
    c=st.integers(1, 10),
    value=st.sampled_from([0.0, -3.5, 7.25, 1e3]),
    data=st.data(),
)
def test_softmax_of_equal_scores_is_log_c(n, c, value, data):
    y = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    loss, dscores = softmax_loss(np.full((n, c), value), y)
    assert loss == pytest.approx(math.log(c), abs=1e-12)
    expected = np.full((n, c), 1.0 / c)
    expected[np.arange(n), y] -= 1
    np.testing.assert_allclose(dscores, expected / n, atol=1e-15)


# --------------------------------------------------------------------------- SVM


def test_svm_loss_cs231n_example():
    loss, dscores = svm_loss(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    assert loss == pytest.approx(2.9, abs=1e-12)
    np.testing.assert_array_equal(dscores, [[-1.0, 1.0, 0.0]])


@st.composite
def svm_case(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    scores = draw(f64((n, c), grid(1000, 8)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    delta = draw(st.sampled_from([1.0]) | grid(4, 8).filter(lambda d: d > 0))
    # Scores and delta are multiples of 1/8; moving each correct-class score by 1/16 makes
    # every margin s_j - s_y + delta an odd multiple of 1/16: at least 1/16 from the kink,
    # out of reach of the 1/64 step.
    scores[np.arange(n), y] += 1 / 16
    return scores, y, delta


@given(svm_case())
def test_svm_loss_gradient(case):
    scores, y, delta = case
    loss, dscores = svm_loss(scores, y, delta)
    assert dscores.shape == scores.shape
    num = eval_numerical_gradient(lambda s: svm_loss(s, y, delta)[0], scores, h=2.0**-6)
    assert rel_error(dscores, num) < TOL


def test_svm_loss_is_zero_when_margins_are_met():
    loss, dscores = svm_loss(np.array([[10.0, 0.0, -3.0]]), np.array([0]))
    assert loss == 0.0
    np.testing.assert_array_equal(dscores, 0.0)


# --------------------------------------------------------------------------- L2 / L1

regression_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@given(pred=f64(regression_shapes, grid(100, 8)), data=st.data())
def test_l2_loss_gradient(pred, data):
    target = data.draw(f64(pred.shape, grid(100, 8)))
    loss, dpred = l2_loss(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
    # A quadratic has an exact centred difference for any step.
    num = eval_numerical_gradient(lambda p: l2_loss(p, target)[0], pred, h=2.0**-3)
    assert dpred.shape == pred.shape
    assert rel_error(dpred, num) < TOL


@given(target=f64(regression_shapes, grid(1000, 8)), data=st.data())
def test_l1_loss_gradient(target, data):
    # pred - target is an odd multiple of 1/16: never within the 1/64 step of the kink.
    odd = data.draw(hnp.arrays(np.int64, target.shape, elements=st.integers(-800, 799)))
    pred = target + (2 * odd + 1) / 16
    loss, dpred = l1_loss(pred, target)
    assert loss == pytest.approx(np.mean(np.abs(pred - target)), rel=1e-14)
    num = eval_numerical_gradient(lambda p: l1_loss(p, target)[0], pred, h=2.0**-6)
    assert dpred.shape == pred.shape
    assert rel_error(dpred, num) < TOL


def test_l1_and_l2_at_zero_error():
    p = np.array([[1.5, -2.0]])
    for fn in (l1_loss, l2_loss):
        loss, dpred = fn(p, p.copy())
        assert loss == 0.0
        np.testing.assert_array_equal(dpred, 0.0)


# --------------------------------------------------------------------------- network


def _kink_signs(net, X, y):
    """Signs of every quantity at which the network's loss has a kink: each hidden
    pre-activation (ReLU) and each hinge margin or L1 residual."""
    n = X.shape[0]
    h = X.reshape(n, -1)
    signs = []
    for i in range(1, net.num_layers):
        a = h @ net.params[f"W{i}"] + net.params[f"b{i}"]
        signs.append(np.sign(a).ravel())
        h = np.maximum(a, 0)
    L = net.num_layers
    s = h @ net.params[f"W{L}"] + net.params[f"b{L}"]
    if net.loss_name == "svm":
        m = s - s[np.arange(n), y][:, None] + 1.0
        m[np.arange(n), y] = -1.0
        signs.append(np.sign(m).ravel())
    elif net.loss_name == "l1":
        signs.append(np.sign(s - y.reshape(s.shape)).ravel())
    return np.concatenate([np.zeros(0), *signs])


def _check_net_gradients(net, X, y, h):
    loss, grads = net.loss(X, y)
    assert set(grads) == set(net.params)
    base = _kink_signs(net, X, y)
    crossed = []

    def f(_):
        # eval_numerical_gradient perturbs net.params[name] in place.
        crossed.append(not np.array_equal(_kink_signs(net, X, y), base))
        return net.loss(X, y)[0]

    numerical = {name: eval_numerical_gradient(f, p, h) for name, p in net.params.items()}
    # Inside one linear region the loss is smooth in every single parameter; a step that
    # moves a pre-activation, margin or residual across 0 makes the difference meaningless.
    assume(not any(crossed))
    for name, p in net.params.items():
        assert grads[name].shape == p.shape
        assert rel_error(grads[name], numerical[name]) < TOL, name
    return grads


@st.composite
def dyadic_net_case(draw, depth, loss):
    """A net whose parameters, inputs, targets and reg lie on a dyadic grid; batch and class
    counts are powers of two, so every mean is exact too."""
    hidden = draw(st.lists(st.integers(1, 3), min_size=depth - 1, max_size=depth - 1))
    feat = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=2))
    n = draw(st.sampled_from([1, 2, 4]))
    c = draw(st.sampled_from([2, 4, 1] if loss in ("l2", "l1") else [2, 4]))
    reg = draw(st.sampled_from([0.75, 0.0, 2.5]))
    net = FullyConnectedNet(
        hidden, input_dim=math.prod(feat), num_classes=c, reg=reg, seed=0, loss=loss
    )
    for name, p in net.params.items():
        net.params[name] = draw(f64(p.shape, grid(1, 8)))
    X = draw(f64((n, *feat), grid(1, 8)))
    if loss in ("softmax", "svm"):
        y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    else:
        y = draw(f64((n, c), grid(4, 8)))
    return net, X, y


@pytest.mark.parametrize("loss", ["svm", "l2", "l1"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@settings(max_examples=25)
@given(data=st.data())
def test_fc_net_gradients_piecewise_losses(depth, loss, data):
    net, X, y = data.draw(dyadic_net_case(depth, loss))
    assert net.num_layers == depth
    _check_net_gradients(net, X, y, h=2.0**-5)


@pytest.mark.parametrize("depth", [1, 2, 3])
@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    hidden_width=st.integers(1, 4),
    n=st.integers(1, 4),
    c=st.integers(2, 4),
    reg=st.sampled_from([0.25, 0.0, 1.0]),
)
def test_fc_net_gradients_softmax(depth, seed, hidden_width, n, c, reg):
    # Ordinary random floats, as in the book. Softmax is smooth, so the check has no exact
    # form: its numerical error is about 1e-11 * max(1, |loss|) (rounding plus truncation),
    # which rel_error can resolve to 1e-7 only for entries well above it. Entries that are
    # exactly 0 (dead units) are exactly 0 numerically too; examples with a nonzero entry
    # below 1e-3 * max(1, |loss|) (about one in five) are skipped.
    rng = np.random.default_rng(seed)
    net = FullyConnectedNet(
        [hidden_width] * (depth - 1),
        input_dim=6,
        num_classes=c,
        weight_scale=0.5,
        reg=reg,
        seed=seed,
    )
    for name in net.params:
        if name.startswith("b"):
            net.params[name] = 0.3 * rng.standard_normal(net.params[name].shape)
    X = rng.standard_normal((n, 2, 3))
    y = rng.integers(0, c, n)
    loss, grads = net.loss(X, y)
    floor = 1e-3 * max(1.0, loss)
    assume(all(np.all((g == 0) | (np.abs(g) > floor)) for g in grads.values()))
    _check_net_gradients(net, X, y, h=1e-5)


# --------------------------------------------------------------------------- network API


def test_fc_net_parameter_count():
    net = FullyConnectedNet([4, 4], input_dim=3, num_classes=1, seed=0)
    assert sum(p.size for p in net.params.values()) == 41
    assert sorted(net.params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert [net.params[f"W{i}"].shape for i in (1, 2, 3)] == [(3, 4), (4, 4), (4, 1)]


@pytest.mark.parametrize("weight_scale", [1e-3, 1e-2, 0.5])
def test_fc_net_initial_weights(weight_scale):
    net = FullyConnectedNet(
        [300], input_dim=200, num_classes=100, weight_scale=weight_scale, seed=1
    )
    for name, p in net.params.items():
        assert p.dtype == np.float64
        if name.startswith("b"):
            np.testing.assert_array_equal(p, 0.0)
        else:
            # 2e4 or more draws: the sample std is within 2% of weight_scale
            assert p.std() == pytest.approx(weight_scale, rel=0.02)
            assert abs(p.mean()) < 0.05 * weight_scale


def test_fc_net_same_seed_same_params():
    a = FullyConnectedNet([5, 3], input_dim=4, num_classes=2, seed=7)
    b = FullyConnectedNet([5, 3], input_dim=4, num_classes=2, seed=7)
    c = FullyConnectedNet([5, 3], input_dim=4, num_classes=2, seed=8)
    assert a.params.keys() == b.params.keys()
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


@given(reg=st.floats(0.01, 100.0), seed=st.integers(0, 1000))
@settings(max_examples=20)
def test_fc_net_reg_is_a_plain_attribute(reg, seed):
    rng = np.random.default_rng(seed)
    net = FullyConnectedNet([5], input_dim=4, num_classes=3, weight_scale=0.5, seed=seed)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    loss0, grads0 = net.loss(X, y)
    net.reg = reg
    assert net.reg == reg
    loss1, grads1 = net.loss(X, y)
    penalty = 0.5 * reg * sum(float((net.params[f"W{i}"] ** 2).sum()) for i in (1, 2))
    assert loss1 - loss0 == pytest.approx(penalty, rel=1e-9)
    for k in grads0:
        extra = reg * net.params[k] if k.startswith("W") else 0.0
        np.testing.assert_allclose(grads1[k], grads0[k] + extra, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", ["softmax", "svm", "l2", "l1"])
def test_fc_net_scores_shape_and_value(loss):
    rng = np.random.default_rng(3)
    net = FullyConnectedNet([5], input_dim=6, num_classes=3, seed=3, loss=loss)
    X = rng.standard_normal((4, 2, 3))
    scores = net.loss(X)
    assert scores.shape == (4, 3)
    h = np.maximum(X.reshape(4, 6) @ net.params["W1"] + net.params["b1"], 0)
    np.testing.assert_allclose(scores, h @ net.params["W2"] + net.params["b2"], rtol=1e-13)


@pytest.mark.parametrize("loss", ["l2", "l1"])
def test_fc_net_regression_accepts_flat_targets(loss):
    rng = np.random.default_rng(5)
    net = FullyConnectedNet([4], input_dim=3, num_classes=1, weight_scale=0.5, seed=5, loss=loss)
    X, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
    loss_flat, grads_flat = net.loss(X, y)
    loss_col, grads_col = net.loss(X, y.reshape(-1, 1))
    scores = net.loss(X)[:, 0]
    expected = np.mean((scores - y) ** 2) if loss == "l2" else np.mean(np.abs(scores - y))
    assert loss_flat == pytest.approx(expected, rel=1e-13)
    assert loss_flat == loss_col
    for k in grads_col:
        np.testing.assert_array_equal(grads_flat[k], grads_col[k])
