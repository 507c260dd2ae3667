"""Batch normalization in both trees: :mod:`nntrain.reference.normalization` and
:mod:`nntrain.torch.normalization`.

* **Gradient checks.** Both reference backward passes (the graph and the closed form), the
  test-mode backward and the spatial one are compared with centred differences from
  :mod:`nntrain.gradcheck` and must agree to a relative error (:func:`rel_error`, entry
  by entry) below 1e-7. The gradient of a batch-normalized feature sums to 0 over the
  batch, so some entries cancel to nearly 0, where the rounding noise of a float64
  difference (about 1e-10 of the gradient's scale) is far above 1e-7 of the entry. The
  differences are therefore taken in extended precision (``np.longdouble``, 64-bit
  significand on x86-64; the functions accept any floating dtype), relative to the value
  at the unperturbed point so that the loss converted to a Python float keeps those bits.
  The step is 1e-5 of the smallest feature's standard deviation (``x``) or 1 (``gamma``
  and ``beta``, on which the output depends linearly, so that any step is exact). With
  ``N = 2`` every output is :math:`\\pm\\gamma / \\sqrt{1 + \\epsilon / \\sigma^2} + \\beta`,
  so the gradient with respect to ``x`` is of the order of :math:`\\epsilon / \\sigma^3`:
  that case has its own check, with ``eps`` of the order of the variance (one feature).
* **Graph and closed form** agree to a relative 1e-10 plus an absolute floor of 1e-13
  times the magnitude of the terms summed (the rounding bound), on arbitrary arrays
  (constant features and ``N = 2`` included).
* **PyTorch.** The reference and the twin give the values, gradients and running
  statistics of ``F.batch_norm`` (train and eval, float64); the modules follow
  ``nn.BatchNorm1d`` and ``nn.BatchNorm2d`` step by step through 25 optimizer steps
  (outputs, gradients, parameters, ``running_mean``, ``running_var``,
  ``num_batches_tracked``) and then in eval mode, for every combination of
  ``momentum`` (0.1, None), ``affine`` and ``track_running_stats``; state dicts load
  across both ways; ``torch.autograd.gradcheck`` accepts the Functions.
* **Properties, bad input, docs and the GPU.**
"""

from __future__ import annotations

import functools
import inspect

import nntrain.reference as R
import nntrain.reference.normalization
import nntrain.torch as T
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from torch import nn
from twins import leaf, near, npy, t

# this file compares quantities of order 1 that went through a normalization
near = functools.partial(near, atol=1e-12)

TOL = 1e-7
DT = torch.float64
LD = np.longdouble
#: Whether ``np.longdouble`` is wider than float64 (x86-64 and aarch64 Linux; not Windows or
#: macOS on Apple silicon, where the numerical gradient checks are skipped).
EXTENDED = np.finfo(LD).eps < 1e-18
extended = pytest.mark.skipif(not EXTENDED, reason="np.longdouble is float64 on this platform")
BACKWARDS = {"graph": "batchnorm_backward", "closed form": "batchnorm_backward_alt"}


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


#: Scales away from 0 (so that no feature's gradient is 0 by a zero scale), either sign.
gammas = floats(0.25, 4) | floats(-4, -0.25)


@st.composite
def bn_case(draw, n=st.integers(3, 6), d=st.integers(1, 4)):  # noqa: B008 (strategies)
    """``(x, gamma, beta, dout)``: a Gaussian batch with a drawn spread and offset, drawn
    scales and shifts, and a Gaussian upstream gradient."""
    n, d = draw(n), draw(d)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = draw(floats(-20, 20)) + draw(floats(0.1, 10)) * rng.standard_normal((n, d))
    gamma = draw(hnp.arrays(np.float64, (d,), elements=gammas))
    beta = draw(hnp.arrays(np.float64, (d,), elements=floats(-4, 4)))
    return x, gamma, beta, rng.standard_normal((n, d))


def numerical(loss, at, h):
    """Centred differences of ``loss`` at the array ``at``, in extended precision, relative
    to the loss at ``at`` (see the module docstring). Returns float64."""
    a = np.array(at, dtype=LD)
    base = loss(a)
    return eval_numerical_gradient(lambda v: loss(v) - base, a, h).astype(np.float64)


def numerical_grads(forward, x, gamma, beta, dout, bn_param):
    """Numerical ``(dx, dgamma, dbeta)`` of ``sum(forward(x, gamma, beta) * dout)``, with a
    fresh copy of ``bn_param`` at every call (train mode updates it)."""
    xl, gl, bl, dl = (np.asarray(a, dtype=LD) for a in (x, gamma, beta, dout))

    def loss(xv, gv, bv):
        param = {
            k: (np.array(v, dtype=LD) if isinstance(v, np.ndarray) else v)
            for k, v in bn_param.items()
        }
        return np.sum(forward(xv, gv, bv, param)[0] * dl)

    # per-feature spread; in test mode the output is linear in x, and any step is exact
    std = np.sqrt(x.var(axis=(0, 2, 3) if x.ndim == 4 else 0))
    h_x = 1e-5 * float(std.min()) if bn_param["mode"] == "train" else 1.0
    return (
        numerical(lambda v: loss(v, gl, bl), xl, h_x),
        numerical(lambda v: loss(xl, v, bl), gl, 1.0),
        numerical(lambda v: loss(xl, gl, v), bl, 1.0),
    )


# --------------------------------------------------------------------------- gradient checks


@extended
@pytest.mark.parametrize("backward", list(BACKWARDS))
@given(case=bn_case())
def test_backward_matches_numerical_gradient(backward, case):
    x, gamma, beta, dout = case
    bn_param = {"mode": "train"}
    out, cache = R.batchnorm_forward(x, gamma, beta, bn_param)
    assert out.shape == x.shape and out.dtype == x.dtype
    grads = getattr(R, BACKWARDS[backward])(dout, cache)
    num = numerical_grads(R.batchnorm_forward, x, gamma, beta, dout, {"mode": "train"})
    for name, got, want in zip(("dx", "dgamma", "dbeta"), grads, num):
        assert got.shape == want.shape
        assert rel_error(got, want) < TOL, name


@extended
@pytest.mark.parametrize("backward", list(BACKWARDS))
@given(case=bn_case(n=st.just(2), d=st.just(1)), ratio=floats(0.1, 10))
def test_backward_of_a_batch_of_two(backward, case, ratio):
    x, gamma, beta, dout = case
    eps = ratio * float(x.var())
    bn_param = {"mode": "train", "eps": eps}
    out, cache = R.batchnorm_forward(x, gamma, beta, dict(bn_param))
    # two examples: each is one standard deviation from the mean, shrunk by eps
    sign = np.sign(x - x.mean(0))
    near(out, sign * gamma / np.sqrt(1 + eps / x.var(0)) + beta)
    grads = getattr(R, BACKWARDS[backward])(dout, cache)
    num = numerical_grads(R.batchnorm_forward, x, gamma, beta, dout, bn_param)
    for name, got, want in zip(("dx", "dgamma", "dbeta"), grads, num):
        assert rel_error(got, want) < TOL, name


@extended
@pytest.mark.parametrize("backward", list(BACKWARDS))
@given(case=bn_case(n=st.integers(1, 5)), data=st.data())
def test_test_mode_backward_matches_numerical_gradient(backward, case, data):
    x, gamma, beta, dout = case
    d = x.shape[1]
    running = {
        "running_mean": data.draw(hnp.arrays(np.float64, (d,), elements=floats(-20, 20))),
        "running_var": data.draw(hnp.arrays(np.float64, (d,), elements=floats(0.01, 100))),
    }
    bn_param = {"mode": "test", **running}
    out, cache = R.batchnorm_forward(x, gamma, beta, dict(bn_param))
    istd = 1 / np.sqrt(running["running_var"] + 1e-5)
    near(out, gamma * (x - running["running_mean"]) * istd + beta)
    dx, dgamma, dbeta = getattr(R, BACKWARDS[backward])(dout, cache)
    near(dx, dout * gamma * istd, rtol=1e-15, atol=0)
    num = numerical_grads(R.batchnorm_forward, x, gamma, beta, dout, bn_param)
    for name, got, want in zip(("dx", "dgamma", "dbeta"), (dx, dgamma, dbeta), num):
        assert rel_error(got, want) < TOL, name


@st.composite
def spatial_case(draw):
    n, c, h, w = (draw(st.integers(1, 3)) for _ in range(4))
    if n * h * w < 3:  # more than two values per channel (see the module docstring)
        n = 3
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = draw(floats(-20, 20)) + draw(floats(0.1, 10)) * rng.standard_normal((n, c, h, w))
    gamma = draw(hnp.arrays(np.float64, (c,), elements=gammas))
    beta = draw(hnp.arrays(np.float64, (c,), elements=floats(-4, 4)))
    return x, gamma, beta, rng.standard_normal(x.shape)


@extended
@given(case=spatial_case())
def test_spatial_backward_matches_numerical_gradient(case):
    x, gamma, beta, dout = case
    out, cache = R.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert out.shape == x.shape
    grads = R.spatial_batchnorm_backward(dout, cache)
    num = numerical_grads(R.spatial_batchnorm_forward, x, gamma, beta, dout, {"mode": "train"})
    for name, got, want in zip(("dx", "dgamma", "dbeta"), grads, num):
        assert got.shape == want.shape
        assert rel_error(got, want) < TOL, name


def rounding_floors(dout, cache):
    """1e-13 times the magnitude of the terms summed into ``dx`` (per entry), ``dgamma``
    and ``dbeta``, plus 1e-300 for products of tiny numbers that become subnormal."""
    n = dout.shape[0]
    xhat, gamma, istd = (npy(cache[k]) for k in ("xhat", "gamma", "istd"))
    dout = npy(dout)
    scale = np.abs(gamma) * istd * np.abs(dout).max(0) * (1 + np.abs(xhat).max(0) ** 2)
    return tuple(
        1e-300 + 1e-13 * m for m in (n * scale, np.abs(dout * xhat).sum(0), np.abs(dout).sum(0))
    )


@given(
    x=hnp.arrays(
        np.float64, st.tuples(st.integers(2, 6), st.integers(1, 4)), elements=floats(-100, 100)
    ),
    data=st.data(),
)
def test_graph_and_closed_form_agree(x, data):
    d = x.shape[1]
    gamma = data.draw(hnp.arrays(np.float64, (d,), elements=floats(-10, 10)))
    beta = data.draw(hnp.arrays(np.float64, (d,), elements=floats(-10, 10)))
    dout = data.draw(hnp.arrays(np.float64, x.shape, elements=floats(-10, 10)))
    out, cache = R.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    graph, alt = R.batchnorm_backward(dout, cache), R.batchnorm_backward_alt(dout, cache)
    floors = rounding_floors(dout, cache)
    near(alt[0], graph[0], atol=floors[0])
    near(alt[1], graph[1], rtol=0, atol=0)  # the same expressions
    near(alt[2], graph[2], rtol=0, atol=0)
    # the twin, both ways, gives the reference's numbers
    out_t, cache_t = T.batchnorm_forward(t(x), t(gamma), t(beta), {"mode": "train"})
    near(
        out_t,
        out,
        atol=1e-300 + 1e-13 * (np.abs(gamma) * np.abs(npy(cache["xhat"])) + np.abs(beta)),
    )
    for name in BACKWARDS.values():
        for got, want, floor in zip(getattr(T, name)(t(dout), cache_t), graph, floors):
            near(got, want, atol=floor)


@pytest.mark.parametrize("shape", [(2, 3), (7, 5), (64, 16)])
def test_torch_gradcheck_accepts_the_functions(shape):
    rng = np.random.default_rng(0)
    x = leaf(3 + 2 * rng.standard_normal(shape))
    gamma, beta = leaf(rng.uniform(0.5, 2, shape[1])), leaf(rng.standard_normal(shape[1]))
    assert torch.autograd.gradcheck(
        lambda a, g, b: T.BatchNormFunction.apply(a, g, b, {"mode": "train"}), (x, gamma, beta)
    )
    running = {
        "running_mean": t(rng.standard_normal(shape[1])),
        "running_var": t(rng.uniform(0.5, 2, shape[1])),
    }
    assert torch.autograd.gradcheck(
        lambda a, g, b: T.BatchNormFunction.apply(a, g, b, {"mode": "test", **running}),
        (x, gamma, beta),
    )
    x4 = leaf(rng.standard_normal((2, shape[1], 2, 3)))
    assert torch.autograd.gradcheck(
        lambda a, g, b: T.SpatialBatchNormFunction.apply(a, g, b, {"mode": "train"}),
        (x4, gamma, beta),
    )


# --------------------------------------------------------------------------- PyTorch


@given(
    case=bn_case(n=st.integers(2, 8)),
    momentum=st.sampled_from([0.1, 0.0, 1.0, 0.37]),
    eps=st.sampled_from([1e-5, 1e-3, 0.5]),
    data=st.data(),
)
def test_matches_f_batch_norm(case, momentum, eps, data):
    x, gamma, beta, dout = case
    d = x.shape[1]
    mean0 = data.draw(hnp.arrays(np.float64, (d,), elements=floats(-5, 5)))
    var0 = data.draw(hnp.arrays(np.float64, (d,), elements=floats(0.1, 10)))
    for mode in ("train", "test"):
        # PyTorch, by autograd
        rm, rv = t(mean0), t(var0)
        xb, gb, bb = leaf(x), leaf(gamma), leaf(beta)
        out_b = F.batch_norm(
            xb, rm, rv, gb, bb, training=mode == "train", momentum=momentum, eps=eps
        )
        out_b.backward(t(dout))
        # the reference, both backward passes
        bn_param = {
            "mode": mode,
            "eps": eps,
            "momentum": momentum,
            "running_mean": mean0.copy(),
            "running_var": var0.copy(),
        }
        out_r, cache_r = R.batchnorm_forward(x, gamma, beta, bn_param)
        near(out_r, out_b)
        near(bn_param["running_mean"], rm)
        near(bn_param["running_var"], rv)
        assert bn_param.get("num_batches_tracked", 0) == (mode == "train")
        for name in BACKWARDS.values():
            for got, want in zip(getattr(R, name)(dout, cache_r), (xb.grad, gb.grad, bb.grad)):
                near(got, want, atol=1e-11)
        # the twin's Function, by autograd, and its running statistics
        param_t = {
            "mode": mode,
            "eps": eps,
            "momentum": momentum,
            "running_mean": t(mean0),
            "running_var": t(var0),
        }
        xf, gf, bf = leaf(x), leaf(gamma), leaf(beta)
        out_f = T.BatchNormFunction.apply(xf, gf, bf, param_t)
        out_f.backward(t(dout))
        near(out_f, out_b)
        near(param_t["running_mean"], rm)
        near(param_t["running_var"], rv)
        for got, want in zip((xf.grad, gf.grad, bf.grad), (xb.grad, gb.grad, bb.grad)):
            near(got, want, atol=1e-11)


@given(case=spatial_case(), momentum=st.sampled_from([0.1, 0.5]))
def test_spatial_matches_f_batch_norm(case, momentum):
    x, gamma, beta, dout = case
    rm, rv = torch.zeros(x.shape[1], dtype=DT), torch.ones(x.shape[1], dtype=DT)
    xb, gb, bb = leaf(x), leaf(gamma), leaf(beta)
    out_b = F.batch_norm(xb, rm, rv, gb, bb, training=True, momentum=momentum)
    out_b.backward(t(dout))
    bn_param = {"mode": "train", "momentum": momentum}
    out_r, cache_r = R.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    near(out_r, out_b)
    near(bn_param["running_mean"], rm)
    near(bn_param["running_var"], rv)
    for got, want in zip(R.spatial_batchnorm_backward(dout, cache_r), (xb.grad, gb.grad, bb.grad)):
        near(got, want, atol=1e-11)
    xf, gf, bf = leaf(x), leaf(gamma), leaf(beta)
    out_f = T.SpatialBatchNormFunction.apply(xf, gf, bf, {"mode": "train", "momentum": momentum})
    out_f.backward(t(dout))
    near(out_f, out_b)
    for got, want in zip((xf.grad, gf.grad, bf.grad), (xb.grad, gb.grad, bb.grad)):
        near(got, want, atol=1e-11)
    # the twin's functions give the reference's numbers
    out_t, cache_t = T.spatial_batchnorm_forward(t(x), t(gamma), t(beta), {"mode": "train"})
    near(out_t, out_r, atol=1e-13)
    for got, want in zip(
        T.spatial_batchnorm_backward(t(dout), cache_t), R.spatial_batchnorm_backward(dout, cache_r)
    ):
        near(got, want, atol=1e-11)


KINDS = {  # module name, PyTorch's, input shape (C = 3)
    "1d (N, C)": ("BatchNorm1d", nn.BatchNorm1d, (6, 3)),
    "1d (N, C, L)": ("BatchNorm1d", nn.BatchNorm1d, (4, 3, 5)),
    "2d": ("BatchNorm2d", nn.BatchNorm2d, (3, 3, 4, 2)),
}
C = 3


def mix(x, w):
    """A learned channel-mixing layer before the norm (so that ``dx`` reaches a parameter)."""
    return torch.einsum("nc...,cd->nd...", x, w)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_module_trains_like_pytorch(kind, momentum, affine, track):
    name, Theirs, shape = KINDS[kind]
    kw = dict(momentum=momentum, affine=affine, track_running_stats=track)
    ours, theirs = getattr(T, name)(C, **kw).double(), Theirs(C, **kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    # the same description (PyTorch before 2.13 had no bias argument and does not show it)
    assert repr(ours).replace("bias=True, ", "") == repr(theirs).replace("bias=True, ", "")
    gen = torch.Generator().manual_seed(0)
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 2, generator=gen)
            theirs.bias.normal_(generator=gen)
    ours.load_state_dict(theirs.state_dict())
    w0 = torch.eye(C, dtype=DT) + 0.3 * torch.randn(C, C, dtype=DT, generator=gen)
    w_ours, w_theirs = nn.Parameter(w0.clone()), nn.Parameter(w0.clone())
    opt_ours = torch.optim.SGD([w_ours, *ours.parameters()], lr=0.05, momentum=0.9)
    opt_theirs = torch.optim.SGD([w_theirs, *theirs.parameters()], lr=0.05, momentum=0.9)

    def step(module, w, opt, x, target):
        opt.zero_grad()
        out = module(mix(x, w))
        loss = ((out - target) ** 2).mean() + (out**3).mean() / 10
        loss.backward()
        opt.step()
        return out.detach()

    for i in range(25):
        x = 2 + 3 * torch.randn(shape, dtype=DT, generator=gen)
        target = torch.randn(shape, dtype=DT, generator=gen)
        out_ours = step(ours, w_ours, opt_ours, x, target)
        out_theirs = step(theirs, w_theirs, opt_theirs, x, target)
        near(out_ours, out_theirs, atol=1e-11)
        near(w_ours.grad, w_theirs.grad, atol=1e-11)
        near(w_ours, w_theirs, atol=1e-11)
        for (n_o, p_o), (n_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n_o == n_t
            near(p_o.grad, p_t.grad, atol=1e-11)
            near(p_o, p_t, atol=1e-11)
        for (n_o, b_o), (n_t, b_t) in zip(ours.named_buffers(), theirs.named_buffers()):
            assert n_o == n_t and b_o.dtype == b_t.dtype
            near(b_o, b_t, atol=1e-11)
        if track:
            assert int(ours.num_batches_tracked) == i + 1
    # eval mode: the running statistics when tracked, the batch's otherwise
    ours.eval()
    theirs.eval()
    x = 1 + 2 * torch.randn(shape, dtype=DT, generator=gen)
    xo, xt = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mix(xo, w_ours)), theirs(mix(xt, w_theirs))
    near(out_ours, out_theirs, atol=1e-11)
    out_ours.pow(3).sum().backward()
    out_theirs.pow(3).sum().backward()
    near(xo.grad, xt.grad, atol=1e-10)
    if affine:
        near(ours.weight.grad, theirs.weight.grad, atol=1e-10)
    for b_o, b_t in zip(ours.buffers(), theirs.buffers()):
        near(b_o, b_t, atol=1e-11)  # eval mode updates nothing


def test_module_options_as_in_pytorch():
    plain = T.BatchNorm1d(4, affine=False)
    assert plain.weight is None and plain.bias is None and not list(plain.parameters())
    assert list(plain.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    untracked = T.BatchNorm2d(4, track_running_stats=False)
    assert untracked.running_mean is None and untracked.num_batches_tracked is None
    assert list(untracked.state_dict()) == ["weight", "bias"]
    # without running statistics, eval mode normalizes with the batch's own
    x = 5 + 3 * torch.randn(6, 4, 2, 2, dtype=DT)
    untracked.double().eval()
    out = untracked(x)
    near(out.mean(dim=(0, 2, 3)), torch.zeros(4, dtype=DT), atol=1e-12)
    m = T.BatchNorm1d(3, device="cpu", dtype=DT)
    assert m.weight.dtype == DT and m.running_var.dtype == DT
    assert m.num_batches_tracked.dtype == torch.long and m.num_batches_tracked.ndim == 0
    # eval mode takes a batch of one, train mode does not (like PyTorch)
    m.eval()
    assert m(torch.ones(1, 3, dtype=DT)).shape == (1, 3)
    m.train()
    with pytest.raises(ValueError, match="more than one value per feature"):
        m(torch.ones(1, 3, dtype=DT))
    with pytest.raises(ValueError):
        nn.BatchNorm1d(3).double()(torch.ones(1, 3, dtype=DT))
    # affine without a bias, where this PyTorch has the option
    no_bias = T.BatchNorm1d(3, bias=False).double()
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    if "bias" in inspect.signature(nn.BatchNorm1d).parameters:
        theirs = nn.BatchNorm1d(3, bias=False).double()
        assert no_bias.state_dict().keys() == theirs.state_dict().keys()
        assert repr(no_bias) == repr(theirs)
        x = torch.randn(5, 3, dtype=DT)
        near(no_bias(x), theirs(x))
    # reset, as PyTorch's
    m(torch.randn(4, 3, dtype=DT))
    m.reset_running_stats()
    assert int(m.num_batches_tracked) == 0 and bool((m.running_var == 1).all())


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_state_dicts_load_across(kind, affine, track):
    name, Theirs, shape = KINDS[kind]
    kw = dict(affine=affine, track_running_stats=track)
    gen = torch.Generator().manual_seed(1)
    trained = Theirs(C, momentum=0.3, **kw).double()
    for _ in range(3):
        trained(torch.randn(shape, dtype=DT, generator=gen))
    if affine:
        with torch.no_grad():
            trained.weight.uniform_(0.5, 2, generator=gen)
            trained.bias.normal_(generator=gen)
    ours = getattr(T, name)(C, momentum=0.3, **kw).double()
    ours.load_state_dict(trained.state_dict())  # strict
    back = Theirs(C, momentum=0.3, **kw).double()
    back.load_state_dict(ours.state_dict())
    assert ours.state_dict().keys() == trained.state_dict().keys() == back.state_dict().keys()
    for k, v in trained.state_dict().items():
        assert torch.equal(ours.state_dict()[k], v) and torch.equal(back.state_dict()[k], v)
    x = torch.randn(shape, dtype=DT, generator=gen)
    for mode in (False, True, False):  # eval, a training step, eval again
        with torch.no_grad():
            outs = [m.train(mode)(x) for m in (trained, ours, back)]
        near(outs[1], outs[0])
        near(outs[2], outs[0])


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_reference_running_stats_match_pytorch_after_many_steps(momentum):
    rng = np.random.default_rng(3)
    theirs = nn.BatchNorm1d(4, momentum=momentum).double()
    bn_param = {"mode": "train", "momentum": momentum}
    gamma, beta = np.ones(4), np.zeros(4)
    for _ in range(60):
        x = rng.uniform(-3, 7) + rng.uniform(0.5, 4) * rng.standard_normal((rng.integers(2, 9), 4))
        out = R.batchnorm_forward(x, gamma, beta, bn_param)[0]
        near(out, theirs(t(x)).detach())
    near(bn_param["running_mean"], theirs.running_mean)
    near(bn_param["running_var"], theirs.running_var)
    assert bn_param["num_batches_tracked"] == int(theirs.num_batches_tracked) == 60
    theirs.eval()
    x = rng.standard_normal((5, 4))
    near(
        R.batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "test"})[0], theirs(t(x)).detach()
    )


# --------------------------------------------------------------------------- properties


def test_momentum_none_is_the_cumulative_average():
    rng = np.random.default_rng(4)
    batches = [rng.standard_normal((n, 3)) * 2 + 1 for n in (3, 5, 4, 8, 2, 6)]
    bn_param = {"mode": "train", "momentum": None}
    for x in batches:
        R.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    near(bn_param["running_mean"], np.mean([x.mean(0) for x in batches], axis=0))
    near(bn_param["running_var"], np.mean([x.var(0, ddof=1) for x in batches], axis=0))
    # momentum 0 freezes the running statistics, momentum 1 keeps the last batch's
    frozen = {"mode": "train", "momentum": 0.0, "running_mean": np.full(3, 2.0)}
    last = {"mode": "train", "momentum": 1.0}
    for x in batches:
        R.batchnorm_forward(x, np.ones(3), np.zeros(3), frozen)
        R.batchnorm_forward(x, np.ones(3), np.zeros(3), last)
    assert np.array_equal(frozen["running_mean"], np.full(3, 2.0))
    assert np.array_equal(frozen["running_var"], np.ones(3))
    near(last["running_mean"], batches[-1].mean(0))
    near(last["running_var"], batches[-1].var(0, ddof=1))


def test_running_stats_are_updated_in_place_and_created_like_pytorch():
    x = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    bn_param = {"mode": "test"}
    R.batchnorm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert bn_param["running_mean"].dtype == np.float32
    assert np.array_equal(bn_param["running_mean"], np.zeros(3))
    assert np.array_equal(bn_param["running_var"], np.ones(3))
    assert "num_batches_tracked" not in bn_param  # test mode counts nothing
    mean, var = bn_param["running_mean"], bn_param["running_var"]
    bn_param["mode"] = "train"
    out, _ = R.batchnorm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert out.dtype == np.float32
    assert bn_param["running_mean"] is mean and bn_param["running_var"] is var
    assert not np.array_equal(mean, np.zeros(3))
    # the twin's, on tensors, also in place
    param_t = {"mode": "train"}
    T.batchnorm_forward(t(x), torch.ones(3), torch.zeros(3), param_t)
    rm = param_t["running_mean"]
    assert rm.dtype == torch.float32 and param_t["num_batches_tracked"] == 1
    T.batchnorm_forward(t(x), torch.ones(3), torch.zeros(3), param_t)
    assert param_t["running_mean"] is rm and param_t["num_batches_tracked"] == 2


@given(case=bn_case(n=st.integers(2, 6)), eps=st.sampled_from([1e-5, 0.1, 0.0]))
def test_gamma_and_beta_can_recover_the_identity(case, eps):
    x = case[0]
    gamma, beta = np.sqrt(x.var(0) + eps), x.mean(0)
    out = R.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})[0]
    near(out, x, rtol=1e-12, atol=1e-12 * np.abs(x).max())
    out_t = T.batchnorm_forward(t(x), t(gamma), t(beta), {"mode": "train", "eps": eps})[0]
    near(out_t, x, rtol=1e-12, atol=1e-12 * np.abs(x).max())
    x4 = np.moveaxis(x.reshape(x.shape[0], 1, 1, -1), 3, 1)  # (N, C, 1, 1) holding x
    out4 = R.spatial_batchnorm_forward(x4, gamma, beta, {"mode": "train", "eps": eps})[0]
    near(out4, x4, rtol=1e-12, atol=1e-12 * np.abs(x).max())


def test_train_and_test_mode(tree):
    rng = np.random.default_rng(6)
    x = 4 + 3 * rng.standard_normal((8, 5))
    gamma, beta = tree.array(rng.uniform(0.5, 2, 5)), tree.array(rng.standard_normal(5))
    train = tree.batchnorm_forward(tree.array(x), gamma, beta, {"mode": "train"})[0]
    # fresh running statistics (0 and 1) are not the batch's: the outputs differ
    test = tree.batchnorm_forward(tree.array(x), gamma, beta, {"mode": "test"})[0]
    assert np.abs(npy(train) - npy(test)).max() > 1
    # running statistics equal to the batch's (the biased variance): the same outputs
    stats = {"running_mean": tree.array(x.mean(0)), "running_var": tree.array(x.var(0))}
    test = tree.batchnorm_forward(tree.array(x), gamma, beta, {"mode": "test", **stats})[0]
    near(test, train, atol=1e-13)
    # in test mode each example is normalized on its own: a batch of one, unchanged
    one = tree.batchnorm_forward(tree.array(x[:1]), gamma, beta, {"mode": "test", **stats})[0]
    near(one, npy(test)[:1], atol=1e-14)


def test_spatial_is_batchnorm_per_channel(tree):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 2, 5))
    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    p4, p2 = {"mode": "train"}, {"mode": "train"}
    out4 = tree.spatial_batchnorm_forward(tree.array(x), tree.array(gamma), tree.array(beta), p4)[0]
    flat = x.transpose(0, 2, 3, 1).reshape(-1, 4)
    out2 = tree.batchnorm_forward(tree.array(flat), tree.array(gamma), tree.array(beta), p2)[0]
    # the reference reuses the (N, D) layer, so it is exact; the twin sums in another order
    atol = 0 if tree.is_reference else 1e-14
    near(out4, npy(out2).reshape(3, 2, 5, 4).transpose(0, 3, 1, 2), rtol=0, atol=atol)
    near(p4["running_var"], p2["running_var"], rtol=0, atol=atol)
    near(npy(out4).mean(axis=(0, 2, 3)), beta, atol=1e-14)  # each channel's mean is beta


# --------------------------------------------------------------------------- bad input


def _ones(tree, *shape):
    return tree.array(np.ones(shape))


def test_wrong_shapes(tree):
    x, g = tree.array(np.arange(6.0).reshape(2, 3)), _ones(tree, 3)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(4,\)"):
        tree.batchnorm_forward(x, _ones(tree, 4), g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"beta must have shape \(3,\), got \(2,\)"):
        tree.batchnorm_forward(x, g, _ones(tree, 2), {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma must have 1 dimension, got shape \(1, 3\)"):
        tree.batchnorm_forward(x, _ones(tree, 1, 3), g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"x must have 2 dimensions, got shape \(2, 3, 1\)"):
        tree.batchnorm_forward(_ones(tree, 2, 3, 1), g, g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"x must have 2 dimensions, got shape \(3,\)"):
        tree.batchnorm_forward(_ones(tree, 3), g, g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"x must have 4 dimensions, got shape \(2, 3\)"):
        tree.spatial_batchnorm_forward(x, g, g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(2,\)"):
        tree.spatial_batchnorm_forward(_ones(tree, 2, 3, 2, 2), _ones(tree, 2), g, {"mode": "test"})
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype"):
        tree.batchnorm_forward(tree.array(np.ones((2, 3)), np.int64), g, g, {"mode": "train"})
    bad = np.ones((2, 3))
    bad[0, 1] = np.nan  # values are not scanned: the NaN propagates to its feature
    out, _ = tree.batchnorm_forward(tree.array(bad), g, g, {"mode": "train"})
    assert np.isnan(np.asarray(out)[:, 1]).all() and not np.isnan(np.asarray(out)[:, 0]).any()


def test_a_batch_of_one_in_train_mode(tree):
    g = _ones(tree, 3)
    bn_param = {"mode": "train"}
    with pytest.raises(
        ValueError,
        match=r"variance of one example is undefined.*"
        r"got x of shape \(1, 3\)",
    ):
        tree.batchnorm_forward(_ones(tree, 1, 3), g, g, bn_param)
    assert bn_param == {"mode": "train"}  # nothing created or counted
    with pytest.raises(
        ValueError,
        match=r"more than one value per feature \(channel\).*"
        r"got x of shape \(1, 3, 1, 1\)",
    ):
        tree.spatial_batchnorm_forward(_ones(tree, 1, 3, 1, 1), g, g, {"mode": "train"})
    # one image with several positions is fine, and so is test mode
    tree.spatial_batchnorm_forward(
        tree.array(np.arange(6.0).reshape(1, 3, 2, 1)), g, g, {"mode": "train"}
    )
    tree.batchnorm_forward(_ones(tree, 1, 3), g, g, {"mode": "test"})


@pytest.mark.parametrize(
    "bn_param, error, pattern",
    [
        ({"mode": "eval"}, ValueError, r"bn_param\['mode'\] must be 'train' or 'test', got 'eval'"),
        ({"mode": None}, ValueError, r"bn_param\['mode'\] must be 'train' or 'test', got None"),
        ({}, ValueError, r"bn_param must contain 'mode' \('train' or 'test'\), got keys \[\]"),
        ({"eps": 1e-5}, ValueError, r"bn_param must contain 'mode'.*got keys \['eps'\]"),
        (
            {"mode": "train", "eps": -1e-5},
            ValueError,
            r"bn_param\['eps'\] must be finite and >= 0, got -1e-05",
        ),
        ({"mode": "train", "eps": "1e-5"}, TypeError, r"bn_param\['eps'\] must be a real number"),
        (
            {"mode": "train", "momentum": 1.5},
            ValueError,
            r"bn_param\['momentum'\] must be in \[0, 1\] or None, got 1.5",
        ),
        (
            {"mode": "train", "momentum": -0.1},
            ValueError,
            r"bn_param\['momentum'\] must be in \[0, 1\] or None, got -0.1",
        ),
        (
            {"mode": "train", "momentum": True},
            TypeError,
            r"bn_param\['momentum'\] must be a real number in \[0, 1\] or None, got bool",
        ),
        (
            {"mode": "train", "momentun": 0.1},
            ValueError,
            r"bn_param has unknown keys \['momentun'\]; the known ones are \['mode', 'eps'",
        ),
        (
            {"mode": "train", "num_batches_tracked": -1},
            ValueError,
            r"bn_param\['num_batches_tracked'\] must be a non-negative integer, got -1",
        ),
        (
            {"mode": "train", "num_batches_tracked": 2.0},
            TypeError,
            r"bn_param\['num_batches_tracked'\] must be a non-negative integer, got 2.0",
        ),
        ([("mode", "train")], TypeError, r"bn_param must be a dict such as \{'mode': 'train'\}"),
        (None, TypeError, r"bn_param must be a dict.*got NoneType"),
    ],
)
def test_bad_bn_param(tree, bn_param, error, pattern):
    x, g = tree.array(np.arange(6.0).reshape(2, 3)), _ones(tree, 3)
    snapshot = dict(bn_param) if isinstance(bn_param, dict) else bn_param
    with pytest.raises(error, match=pattern):
        tree.batchnorm_forward(x, g, g, bn_param)
    assert bn_param == snapshot  # unchanged
    with pytest.raises(error, match=pattern):
        tree.spatial_batchnorm_forward(tree.array(np.ones((2, 3, 1, 1))), g, g, bn_param)


def test_bad_running_stats(tree):
    x, g = tree.array(np.arange(6.0).reshape(2, 3)), _ones(tree, 3)
    for key in ("running_mean", "running_var"):
        bn_param = {"mode": "train", key: _ones(tree, 4)}
        with pytest.raises(
            ValueError,
            match=rf"bn_param\['{key}'\] must have shape \(3,\), "
            r"got \(4,\)",
        ):
            tree.batchnorm_forward(x, g, g, bn_param)
        assert set(bn_param) == {"mode", key}
        other = torch.ones(3, dtype=DT) if tree.is_reference else np.ones(3)
        with pytest.raises(TypeError, match=rf"bn_param\['{key}'\] must be a"):
            tree.batchnorm_forward(x, g, g, {"mode": "test", key: other})
    # values are not scanned in a forward pass: a negative running variance shows as NaN
    # (NumPy warns about the root of a negative number)
    bad_var = {"mode": "test", "running_var": tree.array([1.0, -1.0, 2.0])}
    if tree.is_reference:
        with pytest.warns(RuntimeWarning, match="invalid value encountered in sqrt"):
            out, _ = tree.batchnorm_forward(x, g, g, bad_var)
    else:
        out, _ = tree.batchnorm_forward(x, g, g, bad_var)
    assert np.isnan(np.asarray(out)[:, 1]).all() and not np.isnan(np.asarray(out)[:, [0, 2]]).any()


def test_backward_bad_input(tree):
    x, g = tree.array(np.arange(6.0).reshape(2, 3)), _ones(tree, 3)
    for mode in ("train", "test"):
        _, cache = tree.batchnorm_forward(x, g, g, {"mode": mode})
        for name in BACKWARDS.values():
            with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\), got \(3, 2\)"):
                getattr(tree, name)(_ones(tree, 3, 2), cache)
            with pytest.raises(
                TypeError, match="cache must be the dict returned by batchnorm_forward, got tuple"
            ):
                getattr(tree, name)(_ones(tree, 2, 3), (cache, (2, 3)))
            with pytest.raises(TypeError, match="dout must be"):
                getattr(tree, name)(
                    np.ones((2, 3)) if not tree.is_reference else torch.ones(2, 3), cache
                )
    _, cache4 = tree.spatial_batchnorm_forward(_ones(tree, 2, 3, 1, 2), g, g, {"mode": "train"})
    with pytest.raises(
        ValueError, match=r"dout must have shape \(2, 3, 1, 2\), got \(2, 3, 2, 1\)"
    ):
        tree.spatial_batchnorm_backward(_ones(tree, 2, 3, 2, 1), cache4)
    with pytest.raises(TypeError, match=r"cache must be the \(cache, shape\) pair"):
        tree.spatial_batchnorm_backward(_ones(tree, 2, 3, 1, 2), cache4[0])


def test_torch_dtypes_and_devices_must_agree():
    x = torch.ones(2, 3, dtype=DT)
    with pytest.raises(TypeError, match="x, gamma and beta must share one dtype"):
        T.batchnorm_forward(x, torch.ones(3), torch.ones(3, dtype=DT), {"mode": "train"})
    with pytest.raises(TypeError, match="gamma must be a torch tensor, got ndarray"):
        T.batchnorm_forward(x, np.ones(3), torch.ones(3, dtype=DT), {"mode": "train"})
    with pytest.raises(TypeError, match="x must be a NumPy array, got Tensor"):
        R.batchnorm_forward(x, np.ones(3), np.ones(3), {"mode": "train"})
    with pytest.raises(
        TypeError,
        match=r"must be an int or a 0-d integer tensor, got a tensor "
        r"of dtype torch.float64",
    ):
        T.batchnorm_forward(x, x[0], x[0], {"mode": "train", "num_batches_tracked": x[0, 0]})


def test_bad_module_arguments_and_input():
    with pytest.raises(ValueError, match="num_features must be a positive integer, got 0"):
        T.BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"eps must be finite and >= 0, got -1"):
        T.BatchNorm2d(3, eps=-1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\] or None, got 2"):
        T.BatchNorm1d(3, momentum=2)
    m1, m2 = T.BatchNorm1d(3), T.BatchNorm2d(3)
    with pytest.raises(
        ValueError,
        match=r"x must have 2 or 3 dimensions, \(N, C\) or \(N, C, L\), "
        r"got shape \(2, 3, 4, 5\)",
    ):
        m1(torch.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"x must have 4 dimensions, \(N, C, H, W\), got shape"):
        m2(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"x must have shape \(any, 3\), got \(2, 4\)"):
        m1(torch.ones(2, 4))
    with pytest.raises(
        ValueError, match=r"x must have shape \(any, 3, any, any\), got \(2, 4, 1, 1\)"
    ):
        m2(torch.ones(2, 4, 1, 1))
    with pytest.raises(ValueError, match=r"more than one value per feature.*\(1, 3, 1\)"):
        m1(torch.ones(1, 3, 1))
    assert m1(torch.randn(1, 3, 2)).shape == (1, 3, 2)  # one example, two positions: fine


# --------------------------------------------------------------------------- docs


def test_conventions_are_documented():
    doc = nntrain.reference.normalization.__doc__
    for words in ("Algorithm 1", "unbiased", "cs231n", "Keras", "momentum = 0.9", "cumulative"):
        assert words in doc, words
    assert "closed form" in R.batchnorm_backward_alt.__doc__.lower()
    for name in (
        "batchnorm_forward",
        "batchnorm_backward",
        "batchnorm_backward_alt",
        "spatial_batchnorm_forward",
        "spatial_batchnorm_backward",
    ):
        assert getattr(R, name).__doc__ and getattr(T, name).__doc__, name


# --------------------------------------------------------------------------- GPU


@pytest.mark.gpu
@pytest.mark.parametrize("kind", list(KINDS))
def test_module_on_cuda_matches_cpu(kind):
    name, _, shape = KINDS[kind]
    cuda = torch.device("cuda")
    cpu_m = getattr(T, name)(C, momentum=None).double()
    gpu_m = getattr(T, name)(C, momentum=None, device=cuda, dtype=DT)
    gen = torch.Generator().manual_seed(8)
    for _ in range(5):
        x = 1 + 2 * torch.randn(shape, dtype=DT, generator=gen)
        xc, xg = x.clone().requires_grad_(True), x.to(cuda).requires_grad_(True)
        out_c, out_g = cpu_m(xc), gpu_m(xg)
        assert out_g.device.type == "cuda"
        out_c.pow(3).sum().backward()
        out_g.pow(3).sum().backward()
        near(out_g, out_c, atol=1e-12)
        near(xg.grad, xc.grad, atol=1e-10)
        near(gpu_m.weight.grad, cpu_m.weight.grad, atol=1e-10)
    for b_g, b_c in zip(gpu_m.buffers(), cpu_m.buffers()):
        assert b_g.device.type == "cuda"
        near(b_g, b_c, atol=1e-12)
    gpu_m.eval()
    cpu_m.eval()
    x = torch.randn(shape, dtype=DT, generator=gen)
    near(gpu_m(x.to(cuda)), cpu_m(x), atol=1e-12)
    # and the functions, the running statistics created on the GPU
    x2 = x.reshape(x.shape[0], -1)[:, :C].contiguous()
    bn_param = {"mode": "train"}
    out, cache = T.batchnorm_forward(
        x2.to(cuda),
        torch.ones(C, dtype=DT, device=cuda),
        torch.zeros(C, dtype=DT, device=cuda),
        bn_param,
    )
    assert bn_param["running_var"].device.type == "cuda"
    dx = T.batchnorm_backward(torch.ones_like(out), cache)[0]
    near(dx, torch.zeros_like(x2), atol=1e-10)  # a constant upstream gradient: no dx


def test_test_mode_keeps_the_dtype_of_x_with_float64_running_statistics(tree):
    rng = np.random.default_rng(0)
    x = tree.array(rng.standard_normal((4, 3)), np.float32)
    gamma, beta = tree.array(np.ones(3), np.float32), tree.array(np.zeros(3), np.float32)
    stats = {
        "running_mean": tree.array(rng.standard_normal(3)),
        "running_var": tree.array(np.ones(3)),
    }
    out, cache = tree.batchnorm_forward(x, gamma, beta, {"mode": "test", **stats})
    assert str(out.dtype).endswith("float32")
    dx = tree.batchnorm_backward_alt(tree.array(np.ones((4, 3)), np.float32), cache)[0]
    assert str(dx.dtype).endswith("float32")


# --------------------------------------------------------------------------- layer norm
# What the registry's common checks cannot know (its row "layernorm" already checks the
# gradient against centred differences, both trees, F.layer_norm, LayerNormFunction,
# float32, bad input and the module's host reads).


def _layernorm_case(seed=0, n=6, d=5):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((n, d)) + rng.normal(0, 5, (n, 1))  # one offset per example
    return x, rng.uniform(0.5, 2, d), rng.standard_normal(d)


@pytest.mark.parametrize("seed", range(3))
def test_layernorm_standardizes_each_example(tree, seed):
    x, _, _ = _layernorm_case(seed)
    d = x.shape[1]
    ones, zeros = tree.array(np.ones(d)), tree.array(np.zeros(d))
    out = tree.numpy(tree.layernorm_forward(tree.array(x), ones, zeros, eps=0.0)[0])
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-14)
    np.testing.assert_allclose(out.var(axis=1), 1, rtol=1e-13)
    # batch norm's statistics run the other way: its columns, not its rows, are standardized
    assert np.abs(out.mean(axis=0)).max() > 0.1


def test_layernorm_of_an_example_depends_on_that_example_alone(tree):
    x, gamma, beta = (tree.array(a) for a in _layernorm_case())
    out, _ = tree.layernorm_forward(x, gamma, beta)
    for i in range(x.shape[0]):  # alone, in any batch: the same output (train = test)
        alone, _ = tree.layernorm_forward(x[i : i + 1], gamma, beta)
        np.testing.assert_array_equal(tree.numpy(alone), tree.numpy(out)[i : i + 1])
    again, _ = tree.layernorm_forward(x, gamma, beta)  # and no state between calls
    np.testing.assert_array_equal(tree.numpy(again), tree.numpy(out))


@pytest.mark.parametrize("scale, shift", [(10.0, 0.0), (0.01, 3.0), (7.5, -100.0)])
def test_layernorm_is_invariant_to_scaling_and_shifting_an_example(tree, scale, shift):
    x, gamma, beta = _layernorm_case()
    moved = x.copy()
    moved[2] = scale * moved[2] + shift
    g, b = tree.array(gamma), tree.array(beta)
    out = tree.numpy(tree.layernorm_forward(tree.array(x), g, b, eps=0.0)[0])
    out_moved = tree.numpy(tree.layernorm_forward(tree.array(moved), g, b, eps=0.0)[0])
    np.testing.assert_allclose(out_moved, out, rtol=1e-11, atol=1e-12)
    # batch norm is not: moving one example moves every example's output
    bn = R.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]
    bn_moved = R.batchnorm_forward(moved, gamma, beta, {"mode": "train"})[0]
    assert np.abs(bn_moved[0] - bn[0]).max() > 1e-3


@pytest.mark.parametrize("seed", range(3))
def test_layernorm_gradient_matches_numerical(seed):
    x, gamma, beta = _layernorm_case(seed)
    dout = np.random.default_rng(seed + 10).standard_normal(x.shape)
    _, cache = R.layernorm_forward(x, gamma, beta)
    grads = R.layernorm_backward(dout, cache)
    for i, a in enumerate((x, gamma, beta)):
        args = [x, gamma, beta]

        def f(v, i=i, args=args):
            return R.layernorm_forward(*args[:i], v, *args[i + 1 :])[0]

        numerical = eval_numerical_gradient_array(f, a.copy(), dout)
        # relative to the largest entry: an entry near 0 carries the differences' absolute
        # rounding error (about 1e-11 here), which an entrywise relative error magnifies
        assert np.abs(grads[i] - numerical).max() < 1e-8 * np.abs(numerical).max()


@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_layernorm_equals_f_layer_norm(tree, eps):
    x, gamma, beta = _layernorm_case(1)
    out = tree.layernorm_forward(*(tree.array(a) for a in (x, gamma, beta)), eps=eps)[0]
    want = F.layer_norm(t(x), (x.shape[1],), t(gamma), t(beta), eps=eps)
    near(out, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layernorm_module_trains_like_pytorch_and_loads_its_state(affine, bias):
    torch.manual_seed(0)
    ours = T.LayerNorm(6, eps=1e-3, elementwise_affine=affine, bias=bias, dtype=DT)
    theirs = nn.LayerNorm(6, eps=1e-3, elementwise_affine=affine, bias=bias, dtype=DT)
    x = torch.randn(4, 3, 6, dtype=DT)
    optims = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (ours, theirs) if affine]
    for step in range(3):
        for opt in optims:
            opt.zero_grad()
        outs = [m(x + step) for m in (ours, theirs)]
        near(outs[0], outs[1], rtol=1e-12, atol=1e-13)
        for out in outs:
            if affine:
                (out**2).sum().backward()
        for opt in optims:
            opt.step()
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())
    assert str(ours) == str(theirs)
    ours.eval()  # evaluation changes nothing
    near(ours(x), theirs(x), rtol=1e-12, atol=1e-13)


def test_layernorm_bad_input():
    with pytest.raises(ValueError, match="normalized_shape must be a positive integer"):
        T.LayerNorm((3, 4))
    with pytest.raises(ValueError, match=r"x must have shape \(any, 4\), got \(2, 3\)"):
        T.LayerNorm(4)(torch.ones(2, 3))
    with pytest.raises(ValueError, match="eps must be finite and >= 0"):
        R.layernorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), eps=-1.0)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,?\), got \(4,\)"):
        R.layernorm_forward(np.ones((2, 3)), np.ones(4), np.zeros(3))


def test_layernorm_is_graded_by_check_layer(capsys):
    """The registry row gives ``check_layer(..., "layernorm")`` its default inputs."""
    from nntrain.checks import check_layer
    from students import student_copy

    forward, backward = student_copy(R.layernorm_forward), student_copy(R.layernorm_backward)
    assert check_layer(forward, backward, "layernorm")

    def batch_statistics(x, gamma, beta):  # batch norm's axis: a plausible mistake
        return R.batchnorm_forward(x, gamma, beta, {"mode": "train"})

    assert not check_layer(student_copy(batch_statistics), backward, "layernorm")
    assert "FAIL" in capsys.readouterr().out
