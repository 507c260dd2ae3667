"""The checks every technique gets, from the registry (:mod:`nntrain.techniques`): its
gradient against centred differences, the twin against the reference, PyTorch's built-in
and the twin's autograd ``Function`` against the reference, float32 in both trees, bad
input, the GPU, and (for every twin module) no read of a tensor's value on the host.
The technique files (``test_activations.py``, ``test_layers.py``, ``test_losses.py``,
``test_normalization.py``...) hold what is particular to each: edge cases, stability,
known values, the modules' hyperparameters.

Tolerances: gradients within a relative error of 1e-7 of centred differences (float64,
inputs drawn away from kinks and saturation); the twin and the built-ins within a relative
1e-10 of the reference, with an absolute floor of 1e-12 for entries that cancel to nearly 0.
"""

from __future__ import annotations

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
from nntrain.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from nntrain.techniques import TECHNIQUES, modules, to_tree
from torch import nn
from twins import near

TOL = 1e-7
ROWS = pytest.mark.parametrize("technique", TECHNIQUES, ids=[t.name for t in TECHNIQUES])
SEEDS = pytest.mark.parametrize("seed", range(3))


def case(technique, seed, dtype=np.float64):
    """``(arrays, extra, dout)`` for one draw; ``dout`` is ``None`` for a loss."""
    rng = np.random.default_rng(seed)
    arrays, draw_extra = technique.draw(rng)
    arrays = tuple(a.astype(dtype) for a in arrays)

    def extra():  # a regression target and running statistics in the dtype too
        return tuple(cast(e, dtype) for e in draw_extra())

    dout = None
    if not technique.is_loss:
        dout = rng.standard_normal(np.shape(technique.output(arrays, extra))).astype(dtype)
    return arrays, extra, dout


def cast(value, dtype):
    """A float array (or the float arrays of a dict) in ``dtype``; anything else as it is."""
    if isinstance(value, dict):
        return {k: cast(v, dtype) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype)
    return value


def numerical_gradients(technique, arrays, extra, dout):
    """Centred differences of the reference's output with respect to each array."""
    grads = []
    for i, a in enumerate(arrays):

        def f(v, i=i):
            return technique.output(arrays[:i] + (v,) + arrays[i + 1 :], extra)

        if technique.is_loss:
            grads.append(eval_numerical_gradient(f, a.copy(), h=technique.h))
        else:
            grads.append(eval_numerical_gradient_array(f, a.copy(), dout, h=technique.h))
    return grads


def autograd(run, arrays, extra, dout):
    """``(out, grads)`` of ``run(*tensors, *extra)`` by autograd, ``dout`` its upstream
    gradient (1 for a loss)."""
    leaves = [torch.tensor(a).requires_grad_() for a in arrays]
    out = run(*leaves, *[to_tree(T, e) for e in extra()])
    out.backward(torch.ones_like(out) if dout is None else torch.tensor(dout))
    return out, [leaf.grad for leaf in leaves]


def same(actual, expected):
    near(actual, expected, rtol=1e-10, atol=1e-12)


@ROWS
@SEEDS
def test_reference_gradient_matches_numerical(technique, seed):
    arrays, extra, dout = case(technique, seed)
    _, grads = technique.run(R, arrays, extra, dout)
    assert len(grads) == len(arrays)
    for analytic, numerical in zip(grads, numerical_gradients(technique, arrays, extra, dout)):
        assert analytic.shape == numerical.shape
        assert rel_error(analytic, numerical) < TOL


@ROWS
def test_the_gradient_check_catches_a_slightly_wrong_gradient(technique):
    arrays, extra, dout = case(technique, 0)
    _, grads = technique.run(R, arrays, extra, dout)
    numerical = numerical_gradients(technique, arrays, extra, dout)
    assert rel_error(1.001 * grads[0], numerical[0]) > TOL


@ROWS
@SEEDS
def test_twin_matches_reference(technique, seed):
    arrays, extra, dout = case(technique, seed)
    out_r, grads_r = technique.run(R, arrays, extra, dout)
    out_t, grads_t = technique.run(T, arrays, extra, dout)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64
    same(out_t, out_r)
    for got, want in zip(grads_t, grads_r, strict=True):
        same(got, want)


@ROWS
@SEEDS
def test_builtin_and_function_match_reference(technique, seed):
    arrays, extra, dout = case(technique, seed)
    out_r, grads_r = technique.run(R, arrays, extra, dout)
    function = getattr(T, technique.function).apply
    for run in (technique.builtin, function):
        out, grads = autograd(run, arrays, extra, dout)
        same(out, out_r)
        for got, want in zip(grads, grads_r, strict=True):
            same(got, want)


@ROWS
def test_float32_stays_float32(technique, tree):
    arrays32, extra, dout32 = case(technique, 0, np.float32)
    arrays64, _, dout64 = case(technique, 0)
    out32, grads32 = technique.run(tree.module, arrays32, extra, dout32)
    out64, grads64 = technique.run(tree.module, arrays64, extra, dout64)
    arrays = list(grads32) if technique.is_loss and tree.is_reference else [out32, *grads32]
    for a in arrays:  # (the reference's loss value is a Python float)
        assert a.dtype in (np.float32, torch.float32), (technique.name, a.dtype)
    for got, want in zip((out32, *grads32), (out64, *grads64), strict=True):
        near(got, want, rtol=1e-4, atol=1e-5)


@ROWS
def test_bad_input_names_what_was_expected(technique, tree):
    mod = tree.module
    arrays, extra, dout = case(technique, 0)
    forward = getattr(mod, technique.forward)
    converted = [to_tree(mod, a) for a in arrays]
    kind = "a NumPy array" if mod is R else "a torch tensor"

    def call(first):
        return forward(first, *converted[1:], *[to_tree(mod, e) for e in extra()])

    with pytest.raises(TypeError, match=rf"must be {kind}, got list"):
        call(arrays[0].tolist())
    other = torch.tensor(arrays[0]) if mod is R else arrays[0]
    with pytest.raises(TypeError, match=rf"must be {kind}, got"):
        call(other)
    with pytest.raises(TypeError, match="must have a floating-point dtype, got"):
        call(to_tree(mod, arrays[0].astype(np.int64)))
    if not technique.is_loss:
        _, cache = call(converted[0])
        backward = getattr(mod, technique.backward)
        wrong = to_tree(mod, np.ones(np.shape(dout)[:-1] + (np.shape(dout)[-1] + 1,)))
        with pytest.raises(ValueError, match="dout must have shape"):
            backward(wrong, cache)


@pytest.mark.gpu
@ROWS
def test_cuda_matches_cpu(technique):
    cuda = torch.device("cuda")
    arrays, extra, dout = case(technique, 0)
    out_c, grads_c = technique.run(T, arrays, extra, dout)

    def on_cuda(a):
        return {k: on_cuda(v) for k, v in a.items()} if isinstance(a, dict) else to_cuda(a)

    def to_cuda(a):
        return torch.tensor(a).to(cuda) if isinstance(a, np.ndarray) else a

    forward = getattr(T, technique.forward)
    args = [to_cuda(a) for a in arrays] + [on_cuda(e) for e in extra()]
    if technique.is_loss:
        out_g, dscores = forward(*args)
        grads_g = (dscores,)
    else:
        out_g, cache = forward(*args)
        grads_g = getattr(T, technique.backward)(to_cuda(dout), cache)
        grads_g = grads_g if isinstance(grads_g, tuple) else (grads_g,)
    for got, want in zip((out_g, *grads_g), (out_c, *grads_c), strict=True):
        assert got.device.type == "cuda"
        near(got, want, rtol=1e-10, atol=1e-12)


def test_every_technique_is_in_the_table():
    """A new forward pass, loss or autograd Function of the package needs its row."""
    in_table = {t.forward for t in TECHNIQUES} | {t.function for t in TECHNIQUES}
    public = {n for n in R.__all__ if n.endswith(("_forward", "_loss"))}
    functions = {n for n in T.__all__ if n.endswith("Function")}
    assert public | functions <= in_table, sorted((public | functions) - in_table)


# --------------------------------------------------------------------------- no host reads

HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


#: Every twin module: the registry's, made for its small input shape, and the network.
MODULE_MAKERS = {
    type(module.twin(module.small)).__name__: (
        lambda module=module: module.twin(module.small),
        lambda gen, module=module: module.inputs(gen, module.small),
    )
    for _, module in modules()
}
MODULE_MAKERS["FullyConnectedNet"] = (
    lambda: T.FullyConnectedNet([5], input_dim=6, num_classes=3, normalization="batchnorm"),
    lambda gen: (torch.randn(8, 6, generator=gen),),
)

TWIN_MODULES = [
    name
    for name in T.__all__
    if isinstance(getattr(T, name), type) and issubclass(getattr(T, name), nn.Module)
]


def test_every_twin_module_is_in_the_registry():
    assert sorted(MODULE_MAKERS) == sorted(TWIN_MODULES)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", TWIN_MODULES)
def test_twin_modules_never_read_a_tensor_on_the_host(monkeypatch, name, mode):
    """On a GPU each such read would stall the device until the value arrives."""
    make, inputs = MODULE_MAKERS[name]
    module = make()
    getattr(module, mode)()
    x, *rest = inputs(torch.Generator().manual_seed(0))
    x.requires_grad_()

    def refuse(*args, **kwargs):
        raise AssertionError("a tensor's value was read on the host")

    for read in HOST_READS:
        monkeypatch.setattr(torch.Tensor, read, refuse)
    out = module(x, *rest)
    out.sum().backward()
    monkeypatch.undo()
    assert x.grad is not None and x.grad.shape == x.shape
