"""The affine layer, :math:`x W + b` (``nntrain.reference.layers`` and its twin).

* **Gradient.** On a dyadic grid (integers over a power of two) every sum and product is
  exact in float64 and the centred difference of a linear function is exact for any step,
  so the numerical gradient must equal the analytic one to the last bit; the book's own
  check on ordinary random floats is run too.
* **Twin and built-ins.** The twin's functions, ``AffineFunction`` and the ``Affine``
  module give the reference's values and gradients and ``F.linear``'s (which takes the
  weight as ``(D_out, D_in)``), to a relative 1e-10 plus an absolute floor of 1e-13 times
  the sum of the absolute values of the terms (the rounding bound of a dot product).

The checks every technique shares (float32, bad input, the GPU) are in
``test_common_checks.py``.
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
from nntrain.gradcheck import eval_numerical_gradient_array, rel_error
from nntrain.reference import affine_backward, affine_forward
from twins import close, dyadic, f64, leaf, t

TOL = 1e-7
DT = torch.float64


@st.composite
def dyadic_affine_case(draw):
    n = draw(st.integers(1, 4))  # includes a batch of one
    feat = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    d_in, d_out = math.prod(feat), draw(st.integers(1, 4))
    big = dyadic(1000, 8)  # zeros, eighths and magnitudes up to 1e3
    x = draw(f64((n, *feat), big))
    w = draw(f64((d_in, d_out), big))
    b = draw(f64((d_out,), big))
    dout = draw(f64((n, d_out), dyadic(10, 8)))
    return x, w, b, dout


@given(dyadic_affine_case())
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


@st.composite
def float_affine_case(draw):
    n = draw(st.integers(1, 4))
    feat = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    d_in, d_out = math.prod(feat), draw(st.integers(1, 4))
    x = draw(f64((n, *feat)))
    return x, draw(f64((d_in, d_out))), draw(f64((d_out,))), draw(f64((n, d_out)))


@given(float_affine_case())
def test_twin_function_and_module_match_reference_and_linear(case):
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
    close(out_t, out_r, out_floor)
    for got, want, floor in zip(
        T.affine_backward(t(dout), cache_t),
        R.affine_backward(dout, cache_r),
        (dx_floor, dw_floor, db_floor),
    ):
        close(got, want, floor)

    # autograd through the built-in: F.linear takes the weight as (D_out, D_in)
    xb, wb, bb = leaf(x), leaf(w), leaf(b)
    out_b = F.linear(xb.reshape(n, -1), wb.T, bb)
    out_b.backward(t(dout))
    close(out_r, out_b, out_floor)

    # autograd through AffineFunction
    xf, wf, bf = leaf(x), leaf(w), leaf(b)
    out_f = T.AffineFunction.apply(xf, wf, bf)
    out_f.backward(t(dout))
    close(out_f, out_b, out_floor)
    close(xf.grad, xb.grad, dx_floor)
    close(wf.grad, wb.grad, dw_floor)
    close(bf.grad, bb.grad, db_floor)

    # and through the Affine module
    module = T.Affine(w.shape[0], w.shape[1]).double()
    assert tuple(module.weight.shape) == w.shape
    with torch.no_grad():
        module.weight.copy_(t(w))
        module.bias.copy_(t(b))
    xm = leaf(x)
    out_m = module(xm)
    out_m.backward(t(dout))
    close(out_m, out_b, out_floor)
    close(xm.grad, xb.grad, dx_floor)
    close(module.weight.grad, wb.grad, dw_floor)
    close(module.bias.grad, bb.grad, db_floor)


@pytest.mark.parametrize("seed", range(3))
def test_torch_gradcheck_accepts_affine_function(seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((3, 2, 2)))
    w, b = leaf(rng.standard_normal((4, 5))), leaf(rng.standard_normal(5))
    assert torch.autograd.gradcheck(T.AffineFunction.apply, (x, w, b))


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
