"""The PyTorch twin (:mod:`nntrain.torch`) against the NumPy reference and PyTorch's built-ins.

Three ways to the same numbers, all in float64:

* each ``<name>_forward``/``<name>_backward`` and loss function of the twin gives the
  reference's values and gradients;
* autograd through our ``*Function`` classes and ``nn.Module`` wrappers gives the values and
  gradients of autograd through the matching built-in (``F.linear``, ``torch.relu``,
  ``F.cross_entropy``, ``C * F.multi_margin_loss``, ``F.mse_loss``, ``F.l1_loss``);
* ``torch.autograd.gradcheck`` accepts every Function.

Tolerances are a relative 1e-10 plus, for sums of products, an absolute floor of 1e-13
times the sum of the absolute values of the terms (the rounding bound of a dot product), so
that an entry that cancels to almost 0 is not held to a relative bound it cannot meet.
"""

from __future__ import annotations

import math

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

RTOL = 1e-10
DT = torch.float64


def t(a):
    """A float64 (or int64) tensor copy of a NumPy array."""
    return torch.tensor(np.asarray(a))


def leaf(a):
    return t(a).requires_grad_(True)


def npy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def near(actual, expected, floor=0.0):
    """``|actual - expected| <= RTOL * |expected| + floor`` elementwise (floor may be an array)."""
    a, e = npy(actual), npy(expected)
    assert a.shape == e.shape, (a.shape, e.shape)
    excess = np.abs(a - e) - (RTOL * np.abs(e) + floor)
    assert np.all(excess <= 0), f"max error {np.max(np.abs(a - e))}\n{a}\n{e}"


def floats(max_abs=100.0):
    return st.floats(
        -max_abs, max_abs, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )


def f64(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats())


def grid(max_abs, denom):
    m = int(max_abs * denom)
    return st.integers(-m, m).map(lambda k: k / denom)


def labels(n, c):
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1))


# --------------------------------------------------------------------------- affine


@st.composite
def affine_case(draw):
    n = draw(st.integers(1, 4))
    feat = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    d_in, d_out = math.prod(feat), draw(st.integers(1, 4))
    x = draw(f64((n, *feat)))
    return x, draw(f64((d_in, d_out))), draw(f64((d_out,))), draw(f64((n, d_out)))


@given(affine_case())
def test_affine(case):
    x, w, b, dout = case
    n = x.shape[0]
    x2 = x.reshape(n, -1)
    out_floor = 1e-13 * (np.abs(x2) @ np.abs(w) + np.abs(b))
    dx_floor = 1e-13 * (np.abs(dout) @ np.abs(w).T).reshape(x.shape)
    dw_floor = 1e-13 * (np.abs(x2).T @ np.abs(dout))
    db_floor = 1e-13 * np.abs(dout).sum(0)

    # twin == reference, forward and backward
    out_r, cache_r = R.affine_forward(x, w, b)
    out_t, cache_t = T.affine_forward(t(x), t(w), t(b))
    assert out_t.dtype == DT
    near(out_t, out_r, out_floor)
    for got, want, floor in zip(
        T.affine_backward(t(dout), cache_t),
        R.affine_backward(dout, cache_r),
        (dx_floor, dw_floor, db_floor),
    ):
        near(got, want, floor)

    # autograd through the built-in: F.linear takes the weight as (D_out, D_in)
    xb, wb, bb = leaf(x), leaf(w), leaf(b)
    out_b = F.linear(xb.reshape(n, -1), wb.T, bb)
    out_b.backward(t(dout))
    near(out_r, out_b, out_floor)

    # autograd through AffineFunction
    xf, wf, bf = leaf(x), leaf(w), leaf(b)
    out_f = T.AffineFunction.apply(xf, wf, bf)
    out_f.backward(t(dout))
    near(out_f, out_b, out_floor)
    near(xf.grad, xb.grad, dx_floor)
    near(wf.grad, wb.grad, dw_floor)
    near(bf.grad, bb.grad, db_floor)

    # and through the Affine module
    module = T.Affine(w.shape[0], w.shape[1]).double()
    assert tuple(module.weight.shape) == w.shape
    with torch.no_grad():
        module.weight.copy_(t(w))
        module.bias.copy_(t(b))
    xm = leaf(x)
    out_m = module(xm)
    out_m.backward(t(dout))
    near(out_m, out_b, out_floor)
    near(xm.grad, xb.grad, dx_floor)
    near(module.weight.grad, wb.grad, dw_floor)
    near(module.bias.grad, bb.grad, db_floor)


# --------------------------------------------------------------------------- ReLU


@given(x=f64(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), floats(10)), data=st.data())
def test_relu(x, data):
    # Zeros are welcome: all three take the gradient at 0 to be 0.
    x[..., 0] = 0.0
    dout = data.draw(f64(x.shape))
    out_r, cache_r = R.relu_forward(x)
    out_t, cache_t = T.relu_forward(t(x))
    near(out_t, out_r)
    near(T.relu_backward(t(dout), cache_t), R.relu_backward(dout, cache_r))

    xb = leaf(x)
    out_b = torch.relu(xb)
    out_b.backward(t(dout))
    for run in (T.ReLUFunction.apply, T.ReLU()):
        xf = leaf(x)
        out_f = run(xf)
        out_f.backward(t(dout))
        near(out_f, out_b)
        near(xf.grad, xb.grad)
    near(out_r, out_b)


# --------------------------------------------------------------------------- losses


def _check_loss(ref_fn, twin_fn, function, module, builtin, a, b, *extra, floor=1e-14):
    """Values and gradients of one loss, five ways. The gradient is taken with respect to
    the first argument and, for a float second argument (a regression target), to it too."""
    if b.dtype.kind == "f":
        _check_target_gradient(function, module, builtin, a, b, floor)
    bt = t(b)
    loss_r, d_r = ref_fn(a, b, *extra)
    loss_t, d_t = twin_fn(t(a), bt, *extra)
    assert isinstance(loss_t, torch.Tensor) and loss_t.dim() == 0 and loss_t.dtype == DT
    near(loss_t, loss_r, floor)
    near(d_t, d_r, floor)

    ab = leaf(a)
    loss_b = builtin(ab, bt, *extra)
    loss_b.backward()
    near(loss_r, loss_b, floor)

    # A Function scales its saved gradient by the incoming one.
    af = leaf(a)
    loss_f = function.apply(af, bt, *extra)
    (2.5 * loss_f).backward()
    near(loss_f, loss_b, floor)
    near(af.grad, 2.5 * ab.grad, floor)

    am = leaf(a)
    loss_m = module(am, bt)
    loss_m.backward()
    near(loss_m, loss_b, floor)
    near(am.grad, ab.grad, floor)


def _check_target_gradient(function, module, builtin, a, b, floor):
    pb, tb = leaf(a), leaf(b)
    builtin(pb, tb).backward()
    for run in (function.apply, module):
        pf, tf = leaf(a), leaf(b)
        (3.0 * run(pf, tf)).backward()
        near(tf.grad, 3.0 * tb.grad, floor)
        near(pf.grad, 3.0 * pb.grad, floor)


@st.composite
def scores_and_labels(draw, elements):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    return draw(f64((n, c), elements)), draw(labels(n, c))


@given(scores_and_labels(floats(50)))
def test_softmax_loss(case):
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


def _svm_builtin(scores, y, delta=1.0):
    return scores.shape[1] * F.multi_margin_loss(scores, y, margin=delta)


# Scores and margins on a dyadic grid are exact, so every implementation sees the same
# margins (ties at 0 included, where all of them take the gradient to be 0).
@given(scores_and_labels(grid(100, 8)), st.sampled_from([1.0, 0.5, 2.25]))
def test_svm_loss(case, delta):
    scores, y = case
    _check_loss(
        R.svm_loss,
        T.svm_loss,
        T.SVMLossFunction,
        T.SVMLoss(delta),
        _svm_builtin,
        scores,
        y,
        delta,
    )


def test_svm_default_delta_is_one():
    scores, y = np.array([[0.25, 0.5, -2.0]]), np.array([0])
    near(T.svm_loss(t(scores), t(y))[0], 1.25)
    near(T.SVMLoss()(t(scores), t(y)), 1.25)
    near(_svm_builtin(t(scores), t(y)), 1.25)


regression_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@given(pred=f64(regression_shapes), data=st.data())
def test_l2_loss(pred, data):
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
def test_l1_loss(pred, data):
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
    near(pm.grad, pb.grad)
    assert tm.grad is not None
    near(tm.grad, tb.grad)
    near(tm.grad, -pm.grad)


# --------------------------------------------------------------------------- gradcheck


def _away_from(rng, shape, kink=0.0, gap=0.1):
    """Random values at least ``gap`` from ``kink``."""
    v = rng.standard_normal(shape)
    return kink + np.sign(v + (v == 0)) * (np.abs(v) + gap)


@pytest.mark.parametrize("seed", range(3))
def test_gradcheck_functions(seed):
    rng = np.random.default_rng(seed)
    gradcheck = torch.autograd.gradcheck

    x = leaf(rng.standard_normal((3, 2, 2)))
    w, b = leaf(rng.standard_normal((4, 5))), leaf(rng.standard_normal(5))
    assert gradcheck(T.AffineFunction.apply, (x, w, b))
    assert gradcheck(T.ReLUFunction.apply, (leaf(_away_from(rng, (3, 4))),))

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


def test_gradcheck_detects_a_wrong_backward():
    """The gradcheck above is not vacuous: a Function with a wrong backward fails it."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    assert not torch.autograd.gradcheck(Wrong.apply, (leaf(np.ones(3)),), raise_exception=False)


# --------------------------------------------------------------------------- network


def _pair(hidden, loss, reg, seed=0, input_dim=6, num_classes=3, weight_scale=0.3):
    kw = dict(
        input_dim=input_dim,
        num_classes=num_classes,
        weight_scale=weight_scale,
        reg=reg,
        seed=seed,
        loss=loss,
    )
    ref = R.FullyConnectedNet(hidden, dtype=np.float64, **kw)
    twin = T.FullyConnectedNet(hidden, dtype=DT, **kw)
    return ref, twin


def _data(loss, n=5, num_classes=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2, 3))
    if loss in ("softmax", "svm"):
        y = rng.integers(0, num_classes, n)
    else:
        y = rng.standard_normal((n, num_classes))
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_fc_net_same_seed_same_params(seed):
    ref, twin = _pair([5, 4], "softmax", 0.0, seed=seed)
    assert set(twin.params) == set(ref.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for k, p in ref.params.items():
        assert twin.params[k].dtype == DT
        assert torch.equal(twin.params[k].detach(), torch.from_numpy(p)), k


def test_fc_net_params_in_reference_order():
    ref, twin = _pair([5, 4], "softmax", 0.0)
    assert list(twin.params) == list(ref.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for (k, p), q in zip(ref.params.items(), twin.parameters()):
        assert torch.equal(q.detach(), torch.from_numpy(p)), k


@pytest.mark.parametrize("loss", ["softmax", "svm", "l2", "l1"])
@pytest.mark.parametrize("hidden", [[], [5], [5, 4]])
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_fc_net_matches_reference(hidden, loss, reg):
    ref, twin = _pair(hidden, loss, reg)
    X, y = _data(loss)
    near(twin(t(X)), ref.loss(X), 1e-14)
    near(twin.loss(t(X)), ref.loss(X), 1e-14)
    loss_r, grads_r = ref.loss(X, y)
    loss_t, grads_t = twin.loss(t(X), t(y))
    near(loss_t, loss_r, 1e-14)
    assert set(grads_t) == set(grads_r)
    for k in grads_r:
        near(grads_t[k], grads_r[k], 1e-14)


def _builtin_net_loss(twin, X, y):
    """The same network written with PyTorch built-ins, differentiated by autograd."""
    h = X.reshape(X.shape[0], -1)
    L = twin.num_layers
    for i in range(1, L):
        h = torch.relu(F.linear(h, twin.params[f"W{i}"].T, twin.params[f"b{i}"]))
    s = F.linear(h, twin.params[f"W{L}"].T, twin.params[f"b{L}"])
    data_loss = {
        "softmax": lambda: F.cross_entropy(s, y),
        "svm": lambda: _svm_builtin(s, y),
        "l2": lambda: F.mse_loss(s, y),
        "l1": lambda: F.l1_loss(s, y),
    }[twin.loss_name]()
    weights = [twin.params[f"W{i}"] for i in range(1, L + 1)]
    return data_loss + 0.5 * twin.reg * sum((w**2).sum() for w in weights)


@pytest.mark.parametrize("loss", ["softmax", "svm", "l2", "l1"])
def test_fc_net_matches_builtins(loss):
    _, twin = _pair([5, 4], loss, 0.2)
    X, y = _data(loss)
    loss_t, grads_t = twin.loss(t(X), t(y))
    total = _builtin_net_loss(twin, t(X), t(y))
    names = list(twin.params)
    grads_b = torch.autograd.grad(total, [twin.params[k] for k in names])
    near(loss_t, total, 1e-14)
    for k, g in zip(names, grads_b):
        near(grads_t[k], g, 1e-14)


def test_fc_net_is_an_nn_module_that_trains():
    _, twin = _pair([8], "softmax", 0.0, weight_scale=0.5)
    X, y = _data("softmax", n=20)
    X, y = t(X), t(y)
    opt = torch.optim.SGD(twin.parameters(), lr=0.5)
    first = float(twin.loss(X, y)[0])
    for _ in range(30):
        opt.zero_grad()
        T.SoftmaxLoss()(twin(X), y).backward()
        opt.step()
    assert float(twin.loss(X, y)[0]) < 0.5 * first


# --------------------------------------------------------------------------- GPU


@pytest.mark.gpu
def test_cuda_matches_cpu():
    cuda = torch.device("cuda")
    rng = np.random.default_rng(0)

    def both(fn, *args):
        """fn on CPU tensors and on CUDA tensors (results brought back to the CPU)."""
        cpu = fn(*[t(a) if isinstance(a, np.ndarray) else a for a in args])
        gpu = fn(*[t(a).to(cuda) if isinstance(a, np.ndarray) else a for a in args])
        return cpu, gpu

    def same(cpu, gpu, floor=1e-13):
        if isinstance(cpu, tuple):
            for c, g in zip(cpu, gpu):
                same(c, g, floor)
            return
        assert gpu.device.type == "cuda"
        near(gpu, cpu, floor)

    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    out_c, cache_c = T.affine_forward(t(x), t(w), t(b))
    out_g, cache_g = T.affine_forward(t(x).to(cuda), t(w).to(cuda), t(b).to(cuda))
    same(out_c, out_g, 1e-12)
    same(T.affine_backward(t(dout), cache_c), T.affine_backward(t(dout).to(cuda), cache_g), 1e-12)

    out_c, cache_c = T.relu_forward(t(x))
    out_g, cache_g = T.relu_forward(t(x).to(cuda))
    same(out_c, out_g)
    same(T.relu_backward(t(x), cache_c), T.relu_backward(t(x).to(cuda), cache_g))

    scores, y = 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    same(*both(T.softmax_loss, scores, y))
    same(*both(T.svm_loss, scores, y, 0.5))
    pred, target = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    same(*both(T.l2_loss, pred, target))
    same(*both(T.l1_loss, pred, target))

    # the autograd Functions and modules on the device
    for module, a, b_ in [
        (T.SoftmaxLoss(), scores, y),
        (T.SVMLoss(0.5), scores, y),
        (T.L2Loss(), pred, target),
        (T.L1Loss(), pred, target),
    ]:
        grads = []
        for dev in ("cpu", cuda):
            a_dev = t(a).to(dev).requires_grad_(True)
            value = module(a_dev, t(b_).to(dev))
            value.backward()
            grads.append((value.detach(), a_dev.grad))
        same(grads[0], grads[1])

    # the network: same parameters, moved with .to(device)
    for loss in ("softmax", "svm", "l2", "l1"):
        _, net = _pair([5, 4], loss, 0.1)
        X, yy = _data(loss)
        loss_c, grads_c = net.loss(t(X), t(yy))
        scores_c = net(t(X))
        net.to(cuda)
        assert net.params["W1"].device.type == "cuda"
        loss_g, grads_g = net.loss(t(X).to(cuda), t(yy).to(cuda))
        same(loss_c, loss_g, 1e-12)
        same(scores_c, net(t(X).to(cuda)), 1e-12)
        for k in grads_c:
            same(grads_c[k], grads_g[k], 1e-12)


# --------------------------------------------------------------------------------------
# No host reads: a twin's forward and backward never wait for a tensor's value
# --------------------------------------------------------------------------------------

HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


def _module_inputs(name, gen):
    if name in ("SoftmaxLoss", "SVMLoss"):
        return torch.randn(8, 5, generator=gen), torch.randint(0, 5, (8,), generator=gen)
    if name in ("L2Loss", "L1Loss"):
        return torch.randn(8, 5, generator=gen), torch.randn(8, 5, generator=gen)
    if name == "BatchNorm2d":
        return (torch.randn(8, 3, 4, 4, generator=gen),)
    return (torch.randn(8, 6, generator=gen),)


MODULE_MAKERS = {
    "Affine": lambda: T.Affine(6, 4),
    "BatchNorm1d": lambda: T.BatchNorm1d(6),
    "BatchNorm2d": lambda: T.BatchNorm2d(3),
    "Maxout": lambda: T.Maxout(6, 4, 2),
    "FullyConnectedNet": lambda: T.FullyConnectedNet(
        [5], input_dim=6, num_classes=3, normalization="batchnorm"
    ),
}
TWIN_MODULES = [
    name
    for name in T.__all__
    if isinstance(getattr(T, name), type) and issubclass(getattr(T, name), nn.Module)
]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", TWIN_MODULES)
def test_twin_modules_never_read_a_tensor_on_the_host(monkeypatch, name, mode):
    """On a GPU each such read would stall the device until the value arrives."""
    module = MODULE_MAKERS.get(name, getattr(T, name))()
    getattr(module, mode)()
    x, *rest = _module_inputs(name, torch.Generator().manual_seed(0))
    x.requires_grad_()

    def refuse(*args, **kwargs):
        raise AssertionError("a tensor's value was read on the host")

    for read in HOST_READS:
        monkeypatch.setattr(torch.Tensor, read, refuse)
    out = module(x, *rest)
    out.sum().backward()
    monkeypatch.undo()
    assert x.grad is not None and x.grad.shape == x.shape
