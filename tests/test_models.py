"""nntrain.models: the one adapter, on a model of either kind.

The same net in the two trees (float64, same seed, batch normalization) gives the same loss
and gradients through its adapter; snapshot/restore and flat get/set are round trips that
bring back the parameters and the running statistics; a plain ``nn.Module`` is adapted by
its ``named_parameters()``; anything else is refused with a message naming the argument.
"""

from __future__ import annotations

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
from nntrain.models import Arrays, ReferenceModel, TorchModel, adapt, is_torch, update_ratio
from nntrain.reference import FullyConnectedNet
from torch import nn

X = np.random.default_rng(0).standard_normal((6, 4))
Y = np.array([0, 1, 2, 0, 1, 2])


def net(tree):
    """The same small net with batch normalization in either tree (``tree``: the fixture,
    or the module ``R`` or ``T``), in float64."""
    dtype = {} if tree.FullyConnectedNet is FullyConnectedNet else {"dtype": torch.float64}
    return tree.FullyConnectedNet(
        [5], input_dim=4, num_classes=3, seed=0, normalization="batchnorm", **dtype
    )


def test_adapt_tells_the_kinds_apart():
    assert isinstance(adapt(FullyConnectedNet([5], input_dim=4)), ReferenceModel)
    assert isinstance(adapt(T.FullyConnectedNet([5], input_dim=4)), TorchModel)
    assert isinstance(adapt(nn.Linear(4, 3)), TorchModel)
    assert isinstance(adapt([np.ones(2)], containers=True), Arrays)
    assert is_torch(nn.Linear(4, 3)) and not is_torch(FullyConnectedNet([5], input_dim=4))


@pytest.mark.parametrize("model", ["a model", [np.ones(2)], None])
def test_anything_else_is_refused_naming_the_argument(model):
    with pytest.raises(TypeError, match=r"^model must be a nntrain.reference.FullyConnectedNet"):
        adapt(model)
    with pytest.raises(TypeError, match=r"^params must be .*NumPy arrays; got str"):
        adapt("a model", containers=True, name="params")


def test_both_trees_give_the_same_parameters_loss_and_gradients():
    ref, twin = adapt(net(R)), adapt(net(T))
    np.testing.assert_array_equal(ref.get(), twin.get())
    assert ref.loss(*ref.inputs(X, Y)) == pytest.approx(twin.loss(*twin.inputs(X, Y)), rel=1e-12)
    np.testing.assert_allclose(
        ref.gradient(*ref.inputs(X, Y)), twin.gradient(*twin.inputs(X, Y)), atol=1e-12
    )
    loss_r, grads_r = ref.loss_and_grads(*ref.inputs(X, Y))
    loss_t, grads_t = twin.loss_and_grads(*twin.inputs(X, Y))
    assert float(loss_r) == pytest.approx(float(loss_t), rel=1e-12)
    assert grads_r.keys() == grads_t.keys()
    for k in grads_r:
        np.testing.assert_allclose(grads_r[k], twin.numpy(grads_t[k]), atol=1e-12)


def test_snapshot_and_restore_bring_back_parameters_and_running_statistics(tree):
    adapted = adapt(net(tree))
    adapted.training()
    step(adapted)  # the first training pass sets up the running statistics
    theta, saved, before = adapted.get(), adapted.snapshot(), _running(adapted)
    step(adapted)
    assert not np.array_equal(adapted.get(), theta)
    assert not np.array_equal(_running(adapted), before)
    adapted.restore(saved)
    np.testing.assert_array_equal(adapted.get(), theta)
    np.testing.assert_array_equal(_running(adapted), before)


def step(adapted):
    """One step of SGD at 0.5 on (X, Y), which also moves the running statistics."""
    _, grads = adapted.loss_and_grads(*adapted.inputs(X, Y))
    with adapted.updating():
        for k, p in adapted.params.items():
            p[...] = p - 0.5 * grads[k]


def _running(adapted):
    """The running means and variances of the net's batch normalization, as one vector."""
    if adapted.is_torch:
        buffers = [b for k, b in adapted.model.state_dict().items() if "running" in k]
        return np.concatenate([adapted.numpy(b).ravel() for b in buffers])
    bn = adapted.model.bn_params[0]
    return np.concatenate([bn["running_mean"], bn["running_var"]])


def test_flat_get_and_set_are_a_round_trip(tree):
    adapted = adapt(net(tree))
    theta = adapted.get()
    assert theta.dtype == np.float64 and theta.shape == (4 * 5 + 5 + 5 + 5 + 5 * 3 + 3,)
    adapted.set(2 * theta)
    np.testing.assert_array_equal(adapted.get(), 2 * theta)
    np.testing.assert_array_equal(adapted.numpy(adapted.params["W2"]).ravel(), 2 * theta[-18:-3])
    adapted.set(theta)
    np.testing.assert_array_equal(adapted.get(), theta)
    with pytest.raises(ValueError, match=r"theta must have shape \(53,\)"):
        adapted.set(theta[:-1])


def test_kept_puts_back_parameters_and_mode(tree):
    adapted = adapt(net(tree))
    theta = adapted.get()
    if adapted.is_torch:
        adapted.model.eval()
    with adapted.kept():
        adapted.set(np.zeros_like(theta))
        assert not adapted.is_torch or adapted.model.training  # training mode inside
    np.testing.assert_array_equal(adapted.get(), theta)
    assert not adapted.is_torch or not adapted.model.training


def test_a_plain_module_is_adapted_by_its_trainable_named_parameters():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    model[0].requires_grad_(False)
    adapted = adapt(model)
    assert list(adapted.params) == ["2.weight", "2.bias"] and adapted.trainable() == 2
    assert adapted.get().shape == (4 * 5 + 5 + 5 * 3 + 3,)  # the flat vector holds all
    assert adapted.layout == "out_in" and [w.shape for w in adapted.weight_matrices()] == [
        (4, 5),
        (5, 3),
    ]
    xb, yb = adapted.inputs(X, Y)
    assert xb.dtype == torch.float64 and yb.dtype == torch.long
    loss, grads = adapted.loss_and_grads(xb, yb)
    expected = nn.functional.cross_entropy(model(xb), yb)
    assert float(loss) == pytest.approx(float(expected.detach()), rel=1e-12)
    assert list(grads) == ["2.weight", "2.bias"]


def test_update_ratio_is_the_same_for_arrays_and_tensors():
    before, after = np.array([[3.0, 0.0], [0.0, 4.0]]), np.array([[3.0, 0.3], [0.0, 4.0]])
    assert update_ratio(after, before) == pytest.approx(0.06, rel=1e-12)
    assert update_ratio(torch.from_numpy(after), torch.from_numpy(before)) == pytest.approx(
        0.06, rel=1e-12
    )
    assert update_ratio(np.ones(2), np.zeros(2)) == np.inf
    assert np.isnan(update_ratio(np.zeros(2), np.zeros(2)))


def test_double_puts_a_model_of_either_kind_in_float64(tree):
    model = tree.FullyConnectedNet([5], input_dim=4, num_classes=3, seed=0)
    adapted = adapt(model)
    adapted.double()
    assert all(adapted.numpy(p).dtype == np.float64 for p in adapted.params.values())
