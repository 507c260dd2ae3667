"""The losses: softmax cross-entropy, the multiclass hinge (SVM), L2 and L1, in both trees.

* **Gradients** against centred differences, to a relative error below 1e-7 in float64.
  Hinge, L1 and L2 are fed values on a dyadic grid (exact sums; a quadratic's centred
  difference is exact for any step) with kinks kept out of the step's reach; softmax is
  smooth but not polynomial, so its scores keep every probability away from 0 (no tiny
  gradient entry to resolve).
* **Stability and known values:** huge logits, equal scores (``ln C``), cs231n's hinge
  example, met margins, zero error.
* **Twin and built-ins.** Each loss five ways (reference, twin function, autograd
  ``Function``, module, ``F.cross_entropy`` / ``C * F.multi_margin_loss`` /
  ``F.mse_loss`` / ``F.l1_loss``), the regression targets' gradients included, and
  ``torch.autograd.gradcheck`` on every Function.

The checks every technique shares (float32, bad input, the GPU) are in
``test_common_checks.py``.
"""

from __future__ import annotations

import math
import warnings

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.gradcheck import eval_numerical_gradient, rel_error
from nntrain.reference import l1_loss, l2_loss, softmax_loss, svm_loss
from twins import close, dyadic, f64, floats, labels, leaf, svm_builtin, t

TOL = 1e-7
DT = torch.float64

# --------------------------------------------------------------------------- softmax


@st.composite
def softmax_case(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    # A per-row offset up to 1e3 (the loss is shift-invariant) plus a spread in [-2, 2]
    # that keeps every probability above e**-4 / C, so no gradient entry is tiny.
    offset = draw(f64((n, 1), dyadic(1000, 1)))
    spread = draw(f64((n, c), dyadic(2, 64)))
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
    scores = draw(f64((n, c), dyadic(1000, 8)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    delta = draw(st.sampled_from([1.0]) | dyadic(4, 8).filter(lambda d: d > 0))
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


@given(pred=f64(regression_shapes, dyadic(100, 8)), data=st.data())
def test_l2_loss_gradient(pred, data):
    target = data.draw(f64(pred.shape, dyadic(100, 8)))
    loss, dpred = l2_loss(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
    # A quadratic has an exact centred difference for any step.
    num = eval_numerical_gradient(lambda p: l2_loss(p, target)[0], pred, h=2.0**-3)
    assert dpred.shape == pred.shape
    assert rel_error(dpred, num) < TOL


@given(target=f64(regression_shapes, dyadic(1000, 8)), data=st.data())
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


# --------------------------------------------------------------------------- twin and built-ins


def _check_loss(ref_fn, twin_fn, function, module, builtin, a, b, *extra, floor=1e-14):
    """Values and gradients of one loss, five ways. The gradient is taken with respect to
    the first argument and, for a float second argument (a regression target), to it too."""
    if b.dtype.kind == "f":
        _check_target_gradient(function, module, builtin, a, b, floor)
    bt = t(b)
    loss_r, d_r = ref_fn(a, b, *extra)
    loss_t, d_t = twin_fn(t(a), bt, *extra)
    assert isinstance(loss_t, torch.Tensor) and loss_t.dim() == 0 and loss_t.dtype == DT
    close(loss_t, loss_r, floor)
    close(d_t, d_r, floor)

    ab = leaf(a)
    loss_b = builtin(ab, bt, *extra)
    loss_b.backward()
    close(loss_r, loss_b, floor)

    # A Function scales its saved gradient by the incoming one.
    af = leaf(a)
    loss_f = function.apply(af, bt, *extra)
    (2.5 * loss_f).backward()
    close(loss_f, loss_b, floor)
    close(af.grad, 2.5 * ab.grad, floor)

    am = leaf(a)
    loss_m = module(am, bt)
    loss_m.backward()
    close(loss_m, loss_b, floor)
    close(am.grad, ab.grad, floor)


def _check_target_gradient(function, module, builtin, a, b, floor):
    pb, tb = leaf(a), leaf(b)
    builtin(pb, tb).backward()
    for run in (function.apply, module):
        pf, tf = leaf(a), leaf(b)
        (3.0 * run(pf, tf)).backward()
        close(tf.grad, 3.0 * tb.grad, floor)
        close(pf.grad, 3.0 * pb.grad, floor)


@st.composite
def scores_and_labels(draw, elements):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    return draw(f64((n, c), elements)), draw(labels(n, c))


@given(scores_and_labels(floats(50)))
def test_softmax_loss_five_ways(case):
    scores, y = case
    floor = 1e-13 * (1 + np.abs(scores).max())
    _check_loss(
        R.softmax_loss,
        T.softmax_loss,
        T.SoftmaxLossFunction,
        T.SoftmaxLoss(),
        F.cross_entropy,
        scores,
        y,
        floor=floor,
    )


# Scores and margins on a dyadic grid are exact, so every implementation sees the same
# margins (ties at 0 included, where all of them take the gradient to be 0).
@given(scores_and_labels(dyadic(100, 8)), st.sampled_from([1.0, 0.5, 2.25]))
def test_svm_loss_five_ways(case, delta):
    scores, y = case
    _check_loss(
        R.svm_loss,
        T.svm_loss,
        T.SVMLossFunction,
        T.SVMLoss(delta),
        svm_builtin,
        scores,
        y,
        delta,
    )


def test_svm_default_delta_is_one():
    scores, y = np.array([[0.25, 0.5, -2.0]]), np.array([0])
    close(T.svm_loss(t(scores), t(y))[0], 1.25)
    close(T.SVMLoss()(t(scores), t(y)), 1.25)
    close(svm_builtin(t(scores), t(y)), 1.25)


@given(pred=f64(regression_shapes), data=st.data())
def test_l2_loss_five_ways(pred, data):
    target = data.draw(f64(pred.shape))
    _check_loss(
        R.l2_loss,
        T.l2_loss,
        T.L2LossFunction,
        T.L2Loss(),
        F.mse_loss,
        pred,
        target,
        floor=1e-13 * np.abs(pred - target).max() ** 2,
    )


@given(pred=f64(regression_shapes), data=st.data())
def test_l1_loss_five_ways(pred, data):
    target = data.draw(f64(pred.shape))
    target.flat[0] = pred.flat[0]  # a zero residual: gradient 0 in all implementations
    _check_loss(
        R.l1_loss,
        T.l1_loss,
        T.L1LossFunction,
        T.L1Loss(),
        F.l1_loss,
        pred,
        target,
        floor=1e-13 * np.abs(pred - target).max(),
    )


@pytest.mark.parametrize("name", ["l2", "l1"])
def test_regression_loss_modules_differentiate_the_target(name):
    module, builtin = {"l2": (T.L2Loss(), F.mse_loss), "l1": (T.L1Loss(), F.l1_loss)}[name]
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    pb, tb = leaf(pred), leaf(target)
    builtin(pb, tb).backward()
    pm, tm = leaf(pred), leaf(target)
    module(pm, tm).backward()
    close(pm.grad, pb.grad)
    assert tm.grad is not None
    close(tm.grad, tb.grad)
    close(tm.grad, -pm.grad)


def _away_from(rng, shape, kink=0.0, gap=0.1):
    """Random values at least ``gap`` from ``kink``."""
    v = rng.standard_normal(shape)
    return kink + np.sign(v + (v == 0)) * (np.abs(v) + gap)


@pytest.mark.parametrize("seed", range(3))
def test_torch_gradcheck_accepts_every_loss_function(seed):
    rng = np.random.default_rng(seed)
    gradcheck = torch.autograd.gradcheck
    y = t(rng.integers(0, 4, 5))
    assert gradcheck(T.SoftmaxLossFunction.apply, (leaf(3 * rng.standard_normal((5, 4))), y))

    # hinge: every margin s_j - s_y + delta (j != y) is at least 0.1 from the kink
    delta, yn = 0.7, y.numpy()
    s_y = rng.standard_normal(5)
    scores = s_y[:, None] - delta + _away_from(rng, (5, 4))
    scores[np.arange(5), yn] = s_y
    assert gradcheck(T.SVMLossFunction.apply, (leaf(scores), y, delta))

    target = rng.standard_normal((4, 3))
    pred = rng.standard_normal((4, 3))
    assert gradcheck(T.L2LossFunction.apply, (leaf(pred), t(target)))
    assert gradcheck(T.L2LossFunction.apply, (leaf(pred), leaf(target)))  # target gradient too
    pred = target + _away_from(rng, (4, 3))
    assert gradcheck(T.L1LossFunction.apply, (leaf(pred), t(target)))
    assert gradcheck(T.L1LossFunction.apply, (leaf(pred), leaf(target)))


@pytest.mark.gpu
def test_loss_modules_on_cuda_match_cpu():
    rng = np.random.default_rng(0)
    scores, y = 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    pred, target = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    for module, a, b in [
        (T.SoftmaxLoss(), scores, y),
        (T.SVMLoss(0.5), scores, y),
        (T.L2Loss(), pred, target),
        (T.L1Loss(), pred, target),
    ]:
        results = []
        for device in ("cpu", "cuda"):
            a_dev = t(a).to(device).requires_grad_(True)
            value = module(a_dev, t(b).to(device))
            value.backward()
            results.append((value.detach(), a_dev.grad))
        (value_c, grad_c), (value_g, grad_g) = results
        assert grad_g.device.type == "cuda"
        close(value_g, value_c, 1e-13)
        close(grad_g, grad_c, 1e-13)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_softmax_loss_gradient_is_cross_entropys_bit_for_bit(dtype):
    # T.softmax_loss calls PyTorch's private log-softmax backward (pinned to PyTorch 2.13.0 in
    # torch/losses.py): it must stay F.cross_entropy's gradient to the bit, and the public
    # formula (softmax - onehot) / N to rounding
    gen = torch.Generator().manual_seed(0)
    scores = 5 * torch.randn(64, 10, generator=gen, dtype=dtype)
    y = torch.randint(0, 10, (64,), generator=gen)
    _, dscores = T.softmax_loss(scores, y)
    leaf_scores = scores.clone().requires_grad_()
    F.cross_entropy(leaf_scores, y).backward()
    assert torch.equal(dscores, leaf_scores.grad)
    public = (torch.softmax(scores, dim=1) - F.one_hot(y, 10).to(dtype)) / 64
    torch.testing.assert_close(dscores, public, rtol=0, atol=4 * torch.finfo(dtype).eps / 64)
