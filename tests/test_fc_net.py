"""``FullyConnectedNet`` in both trees: its gradients, its parameters and its twin.

* **Gradients** of the whole network against centred differences (relative error below
  1e-7, float64): with the piecewise losses on a dyadic grid, where no step may cross a
  kink (checked, not assumed); with softmax on ordinary random floats, skipping the
  examples whose gradient has an entry too small for a centred difference to resolve.
* **Parameters:** count, layout, initial scale, seeds, ``reg`` as a plain attribute,
  scores, flat regression targets.
* **Twin:** the same parameters from the same seed, in the reference's order; the same
  scores, loss and gradients as the reference and as the network written with built-ins;
  trains as an ``nn.Module``; on a GPU, the same numbers as on the CPU.

* **Batch normalization:** gradients, the twins equal in train and test mode, running
  statistics updated only by training steps and restored with the best epoch's weights.
"""

from __future__ import annotations

import copy
import math

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nntrain.data import load_digits_split, map_inputs
from nntrain.gradcheck import eval_numerical_gradient, rel_error
from nntrain.reference import FullyConnectedNet
from nntrain.reference.preprocessing import Standardize
from nntrain.train import accuracy, train
from twins import close, dyadic, f64, npy, svm_builtin, t

TOL = 1e-7
DT = torch.float64

# --------------------------------------------------------------------------- gradients


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
        net.params[name] = draw(f64(p.shape, dyadic(1, 8)))
    X = draw(f64((n, *feat), dyadic(1, 8)))
    if loss in ("softmax", "svm"):
        y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    else:
        y = draw(f64((n, c), dyadic(4, 8)))
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


# --------------------------------------------------------------------------- parameters


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


# --------------------------------------------------------------------------- twin


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
def test_twin_same_seed_same_params(seed):
    ref, twin = _pair([5, 4], "softmax", 0.0, seed=seed)
    assert set(twin.params) == set(ref.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for k, p in ref.params.items():
        assert twin.params[k].dtype == DT
        assert torch.equal(twin.params[k].detach(), torch.from_numpy(p)), k


def test_twin_params_in_reference_order():
    ref, twin = _pair([5, 4], "softmax", 0.0)
    assert list(twin.params) == list(ref.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for (k, p), q in zip(ref.params.items(), twin.parameters()):
        assert torch.equal(q.detach(), torch.from_numpy(p)), k


@pytest.mark.parametrize("loss", ["softmax", "svm", "l2", "l1"])
@pytest.mark.parametrize("hidden", [[], [5], [5, 4]])
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_twin_matches_reference(hidden, loss, reg):
    ref, twin = _pair(hidden, loss, reg)
    X, y = _data(loss)
    close(twin(t(X)), ref.loss(X), 1e-14)
    close(twin.loss(t(X)), ref.loss(X), 1e-14)
    loss_r, grads_r = ref.loss(X, y)
    loss_t, grads_t = twin.loss(t(X), t(y))
    close(loss_t, loss_r, 1e-14)
    assert set(grads_t) == set(grads_r)
    for k in grads_r:
        close(grads_t[k], grads_r[k], 1e-14)


def _builtin_net_loss(twin, X, y):
    """The same network written with PyTorch built-ins, differentiated by autograd."""
    h = X.reshape(X.shape[0], -1)
    L = twin.num_layers
    for i in range(1, L):
        h = torch.relu(F.linear(h, twin.params[f"W{i}"].T, twin.params[f"b{i}"]))
    s = F.linear(h, twin.params[f"W{L}"].T, twin.params[f"b{L}"])
    data_loss = {
        "softmax": lambda: F.cross_entropy(s, y),
        "svm": lambda: svm_builtin(s, y),
        "l2": lambda: F.mse_loss(s, y),
        "l1": lambda: F.l1_loss(s, y),
    }[twin.loss_name]()
    weights = [twin.params[f"W{i}"] for i in range(1, L + 1)]
    return data_loss + 0.5 * twin.reg * sum((w**2).sum() for w in weights)


@pytest.mark.parametrize("loss", ["softmax", "svm", "l2", "l1"])
def test_twin_matches_builtins(loss):
    _, twin = _pair([5, 4], loss, 0.2)
    X, y = _data(loss)
    loss_t, grads_t = twin.loss(t(X), t(y))
    total = _builtin_net_loss(twin, t(X), t(y))
    names = list(twin.params)
    grads_b = torch.autograd.grad(total, [twin.params[k] for k in names])
    close(loss_t, total, 1e-14)
    for k, g in zip(names, grads_b):
        close(grads_t[k], g, 1e-14)


def test_twin_is_an_nn_module_that_trains():
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


@pytest.mark.gpu
@pytest.mark.parametrize("loss", ["softmax", "svm", "l2", "l1"])
def test_twin_net_on_cuda_matches_cpu(loss):
    cuda = torch.device("cuda")
    _, net = _pair([5, 4], loss, 0.1)
    X, yy = _data(loss)
    loss_c, grads_c = net.loss(t(X), t(yy))
    scores_c = net(t(X))
    net.to(cuda)
    assert net.params["W1"].device.type == "cuda"
    loss_g, grads_g = net.loss(t(X).to(cuda), t(yy).to(cuda))
    close(loss_g.cpu(), loss_c, 1e-12)
    close(net(t(X).to(cuda)), scores_c, 1e-12)
    for k in grads_c:
        assert grads_g[k].device.type == "cuda"
        close(grads_g[k], grads_c[k], 1e-12)


# --------------------------------------------------------------------------- regularization


def _small_net(tree=None, **kw):
    """cs231n's FullyConnectedNets check: N = 2 (6 with batch normalization, which maps a
    batch of 2 to +-1 whatever W1), D = 15, H = [20, 30], C = 10; tanh, so that no centred
    difference crosses a kink. In float64 on ``tree`` (the fixture), the reference by
    default."""
    kw = dict(input_dim=15, num_classes=10, activation="tanh", weight_scale=5e-2, seed=123, **kw)
    if tree is None:
        return R.FullyConnectedNet([20, 30], **kw)
    return tree.FullyConnectedNet([20, 30], dtype=tree.float_dtype, **kw)


def _small_data(n=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 15)), rng.integers(0, 10, n)


def _max_gradient_error(net, X, y):
    """The largest error of the gradient of a parameter against centred differences,
    relative to the gradient's largest entry: entries near 0 carry the differences'
    absolute error (about 1e-10 here), which an entrywise relative error would magnify to
    1e-5 and beyond."""
    _, grads = net.loss(X, y)
    errors = []
    for name, p in net.params.items():
        numeric = eval_numerical_gradient(lambda _: net.loss(X, y)[0], p)
        errors.append(np.abs(grads[name] - numeric).max() / max(np.abs(numeric).max(), 1e-12))
    return max(errors)


@pytest.mark.parametrize(
    "keep, options",
    [
        (1.0, {}),
        (0.75, {}),
        (0.5, {}),
        (0.5, {"reg": 0.7, "reg_type": "l1"}),
        (0.5, {"reg": 0.7, "reg_type": "elastic_net", "l1_ratio": 0.3}),
        (0.5, {"reg": 0.7, "normalization": "batchnorm", "norm_placement": "after"}),
    ],
    ids=["no dropout", "keep 0.75", "keep 0.5", "l1", "elastic_net", "batchnorm after"],
)
def test_net_with_dropout_and_a_seed_passes_the_gradient_check(keep, options):
    """As in cs231n's notebook: the seed fixes the masks, so every call of loss(X, y) is the
    same function of the parameters."""
    net = _small_net(dropout_keep_ratio=keep, **options)
    X, y = _small_data(6 if "normalization" in options else 2)
    weights = [p for k, p in net.params.items() if k.startswith("W")]
    assert min(np.abs(w).min() for w in weights) > 1e-5  # no step crosses L1's kink at 0
    assert net.dropout_param == ({} if keep == 1 else {"mode": "train", "p": keep, "seed": 123})
    assert _max_gradient_error(net, X, y) < 1e-7


def test_net_with_dropout_without_a_seed_fails_the_gradient_check():
    """Without the seed every call draws new masks: the centred differences are noise."""
    net = _small_net(dropout_keep_ratio=0.5)
    del net.dropout_param["seed"]
    X, y = _small_data()
    state = np.random.get_state()  # the masks come from NumPy's global generator
    try:
        np.random.seed(0)
        assert net.loss(X, y)[0] != net.loss(X, y)[0]
        assert _max_gradient_error(net, X, y) > 0.1
    finally:
        np.random.set_state(state)


def test_dropout_acts_in_training_only_and_the_seed_fixes_its_masks(tree):
    X, y = _small_data()
    X, y = (X, y) if tree.is_reference else (t(X), t(y))
    plain, dropped = _small_net(tree), _small_net(tree, dropout_keep_ratio=0.5)
    for net in (plain, dropped) if not tree.is_reference else ():
        net.eval()
    assert np.array_equal(npy(dropped.loss(X)), npy(plain.loss(X)))  # test mode: none
    for net in (plain, dropped) if not tree.is_reference else ():
        net.train()
    loss = float(dropped.loss(X, y)[0])
    assert loss != float(plain.loss(X, y)[0])
    assert loss == float(dropped.loss(X, y)[0])  # the same masks at every call


def test_twin_with_dropout_is_the_builtin_net_with_its_masks():
    """The twin's masks (a torch.Generator seeded with the net's seed, one per layer, every
    layer from the same seed as in cs231n) multiply the ReLU outputs; the same net written
    with built-ins and those masks gives the same loss and gradients."""
    kw = dict(input_dim=6, num_classes=3, weight_scale=0.3, reg=0.2, seed=0, dtype=DT)
    twin = T.FullyConnectedNet([5, 4], dropout_keep_ratio=0.6, **kw)
    X, y = _data("softmax", n=8)
    X, y = t(X), t(y)
    loss_t, grads_t = twin.loss(X, y)

    h = X.reshape(X.shape[0], -1)
    for i in (1, 2):
        h = torch.relu(F.linear(h, twin.params[f"W{i}"].T, twin.params[f"b{i}"]))
        mask, _ = T.dropout_forward(torch.ones_like(h), {"mode": "train", "p": 0.6, "seed": 0})
        h = h * mask
    s = F.linear(h, twin.params["W3"].T, twin.params["b3"])
    weights = [twin.params[f"W{i}"] for i in (1, 2, 3)]
    total = F.cross_entropy(s, y) + 0.5 * 0.2 * sum((w**2).sum() for w in weights)
    grads_b = torch.autograd.grad(total, [twin.params[k] for k in twin.params])
    close(loss_t, total, 1e-14)
    for k, g in zip(twin.params, grads_b):
        close(grads_t[k], g, 1e-14)


def test_default_l2_penalty_is_today_s_bit_for_bit(tree):
    """reg_type="l2" (the default) computes 0.5 reg sum W^2 and reg W exactly as before."""
    net = _small_net(tree, reg=0.37)
    X, y = _small_data()
    X, y = (X, y) if tree.is_reference else (t(X), t(y))
    loss, grads = net.loss(X, y)
    net.reg = 0.0
    data_loss, data_grads = net.loss(X, y)
    weights = [net.params[f"W{i}"] for i in (1, 2, 3)]
    if tree.is_reference:
        assert loss == data_loss + 0.5 * 0.37 * sum(float((w * w).sum()) for w in weights)
        for k in grads:
            extra = 0.37 * net.params[k] if k.startswith("W") else 0.0
            np.testing.assert_array_equal(grads[k], data_grads[k] + extra)
    else:  # the penalty before this change, differentiated by autograd
        old = 0.5 * 0.37 * sum((w * w).sum() for w in weights)
        old_grads = torch.autograd.grad(old, weights)
        assert torch.equal(loss, data_loss + old.detach())
        for i, g in zip((1, 2, 3), old_grads):
            assert torch.equal(grads[f"W{i}"], data_grads[f"W{i}"] + g)


@pytest.mark.parametrize("reg_type", ["l2", "l1", "elastic_net"])
def test_penalty_of_the_net_is_reg_times_the_unit_penalties(reg_type):
    net = _small_net(reg=0.4, reg_type=reg_type, l1_ratio=0.2)
    X, y = _small_data()
    loss, grads = net.loss(X, y)
    net.reg = 0.0
    data_loss, data_grads = net.loss(X, y)
    penalty = {
        "l2": lambda w: R.l2_penalty(w, 0.4),
        "l1": lambda w: R.l1_penalty(w, 0.4),
        "elastic_net": lambda w: R.elastic_net_penalty(w, 0.4, 0.2),
    }[reg_type]
    terms = {k: penalty(p) for k, p in net.params.items() if k.startswith("W")}
    assert loss == pytest.approx(data_loss + sum(v for v, _ in terms.values()), rel=1e-13)
    for k in grads:
        extra = terms[k][1] if k in terms else 0.0
        np.testing.assert_allclose(grads[k], data_grads[k] + extra, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("reg_type", ["l1", "elastic_net"])
@pytest.mark.parametrize("loss", ["softmax", "l2"])
def test_twin_matches_reference_with_every_penalty(reg_type, loss):
    kw = dict(input_dim=6, num_classes=3, weight_scale=0.3, reg=0.3, seed=0, loss=loss)
    kw.update(reg_type=reg_type, l1_ratio=0.7)
    ref, twin = R.FullyConnectedNet([5, 4], **kw), T.FullyConnectedNet([5, 4], dtype=DT, **kw)
    X, y = _data(loss)
    loss_r, grads_r = ref.loss(X, y)
    loss_t, grads_t = twin.loss(t(X), t(y))
    close(loss_t, loss_r, 1e-14)
    for k in grads_r:
        close(grads_t[k], grads_r[k], 1e-14)


def test_record_sees_the_dropout_of_a_training_pass():
    """diagnostics.record runs the public forward and backward: in training mode a dropped
    unit's output gets no gradient, in test mode every unit does."""
    from nntrain.diagnostics import record

    kw = dict(input_dim=15, num_classes=10, activation="tanh", seed=1)
    net = R.FullyConnectedNet([200, 200], dropout_keep_ratio=0.7, **kw)
    X, y = _small_data(10)
    for training, zeros in ((True, 0.3), (False, 0.0)):
        records = record(net, X, y, training=training)
        assert len(records) == 2
        for r in records:
            assert abs(float((r.grad == 0).mean()) - zeros) < 0.05


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"dropout_keep_ratio": 0.0}, ValueError, r"dropout_keep_ratio must be a keep probability"),
        ({"dropout_keep_ratio": 1.5}, ValueError, r"in \(0, 1\], got 1.5"),
        ({"dropout_keep_ratio": "0.5"}, TypeError, r"dropout_keep_ratio must be a keep"),
        ({"reg_type": "l3"}, ValueError, r"reg_type must be one of 'l2', 'l1', 'elastic_net', got"),
        ({"l1_ratio": 1.5}, ValueError, r"l1_ratio must be in \[0, 1\], got 1.5"),
    ],
)
def test_bad_regularization_arguments_name_them(tree, kwargs, error, message):
    with pytest.raises(error, match=message):
        tree.FullyConnectedNet([5], input_dim=3, num_classes=2, **kwargs)


# --------------------------------------------------------------------------- batch norm

BN_RNG = np.random.default_rng(0)
BN_X = BN_RNG.standard_normal((12, 7))
BN_Y = BN_RNG.integers(0, 4, 12)


def bn_nets(placement="before", activation="tanh", seed=0):
    kwargs = dict(
        hidden_dims=[6, 5],
        input_dim=7,
        num_classes=4,
        activation=activation,
        weight_scale=0.5,
        seed=seed,
        normalization="batchnorm",
        norm_placement=placement,
    )
    return R.FullyConnectedNet(**kwargs), T.FullyConnectedNet(**kwargs, dtype=DT)


@pytest.fixture(scope="module")
def digits():
    data = load_digits_split(seed=0)
    return map_inputs(data, Standardize().fit(data["X_train"]).transform)


@pytest.mark.parametrize("placement", ["before", "after"])
@pytest.mark.parametrize("activation", ["tanh", "elu"])
def test_gradients_match_finite_differences(placement, activation):
    net, _ = bn_nets(placement, activation)
    for k in net.params:  # gamma and beta away from 1 and 0, so that they matter
        if k.startswith(("gamma", "beta")):
            net.params[k] = BN_RNG.uniform(0.5, 1.5, net.params[k].shape)
    net.reg = 0.1
    _, grads = net.loss(BN_X, BN_Y)
    for name, param in net.params.items():
        numeric = eval_numerical_gradient(lambda _: net.loss(BN_X, BN_Y)[0], param)
        assert rel_error(grads[name], numeric) < 1e-6, name  # tiny entries limit the FD accuracy


def test_parameters_are_named_and_ordered_like_cs231n():
    net, twin = bn_nets()
    expected = ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert list(net.params) == expected and list(twin.params) == expected
    assert list(net.loss(BN_X, BN_Y)[1]) == expected
    np.testing.assert_array_equal(net.params["gamma2"], np.ones(5))


@pytest.mark.parametrize("placement", ["before", "after"])
def test_twins_agree_in_train_and_test_mode(placement):
    net, twin = bn_nets(placement, activation="relu")
    twin.train()
    for step in range(3):  # a few train-mode passes move the running statistics
        loss, grads = net.loss(BN_X + step, BN_Y)
        t_loss, t_grads = twin.loss(torch.tensor(BN_X + step), torch.tensor(BN_Y))
        assert float(t_loss) == pytest.approx(loss, rel=1e-12)
        for k in grads:
            np.testing.assert_allclose(t_grads[k].numpy(), grads[k], rtol=1e-9, atol=1e-14)
    for i, bn in enumerate(net.bn_params):
        np.testing.assert_allclose(twin.norms[i].running_mean.numpy(), bn["running_mean"])
        np.testing.assert_allclose(twin.norms[i].running_var.numpy(), bn["running_var"])
    twin.eval()
    np.testing.assert_allclose(
        twin.loss(torch.tensor(BN_X)).detach().numpy(), net.loss(BN_X), rtol=1e-10
    )


def test_test_mode_uses_and_keeps_the_running_statistics():
    net, _ = bn_nets()
    net.loss(BN_X, BN_Y)
    before = copy.deepcopy(net.bn_params)
    scores = net.loss(BN_X)  # test mode
    for b, a in zip(before, net.bn_params):
        np.testing.assert_array_equal(b["running_mean"], a["running_mean"])
    # a test-mode prediction does not depend on the rest of the batch
    np.testing.assert_allclose(net.loss(BN_X[:1]), scores[:1], rtol=1e-12)
    net.loss(BN_X + 1, BN_Y)  # train mode updates them
    assert not np.allclose(before[0]["running_mean"], net.bn_params[0]["running_mean"])


def test_training_reaches_95_percent_and_evaluates_in_test_mode(digits, tree):
    kwargs = dict(
        hidden_dims=[100, 100],
        input_dim=64,
        num_classes=10,
        weight_scale=0.1,
        seed=0,
        normalization="batchnorm",
    )
    net = tree.FullyConnectedNet(**kwargs, dtype=tree.float_dtype)
    hist = train(net, digits, learning_rate=0.05, epochs=6, batch_size=50)
    assert max(hist.val_acc) >= 0.95
    # keep_best restored the best epoch's weights *and* running statistics
    assert accuracy(net, digits["X_val"], digits["y_val"]) == hist.val_acc[hist.best_epoch - 1]
    # evaluating does not move the running statistics
    stats = (
        copy.deepcopy(net.bn_params)
        if tree.is_reference
        else [n.running_mean.clone() for n in net.norms]
    )
    accuracy(net, digits["X_train"], digits["y_train"])
    after = net.bn_params if tree.is_reference else [n.running_mean for n in net.norms]
    for b, a in zip(stats, after):
        if tree.is_reference:
            np.testing.assert_array_equal(b["running_mean"], a["running_mean"])
        else:
            assert torch.equal(b, a)


def test_plain_torch_module_with_batchnorm_is_trained_in_train_mode_and_evaluated_in_eval(digits):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 50), T.BatchNorm1d(50), torch.nn.ReLU(), torch.nn.Linear(50, 10)
    ).double()
    model.eval()  # train() must switch to training mode for the updates
    hist = train(model, digits, learning_rate=0.05, epochs=3, batch_size=50)
    assert model[1].num_batches_tracked.item() == 3 * int(np.ceil(len(digits["X_train"]) / 50))
    assert max(hist.val_acc) > 0.9
    model.train()
    accuracy(model, digits["X_val"], digits["y_val"])
    assert model.training  # the mode is restored after evaluating


def test_bad_normalization_arguments(tree):
    cls = tree.FullyConnectedNet
    with pytest.raises(ValueError, match="normalization must be .*'batchnorm'"):
        cls([5], input_dim=3, num_classes=2, normalization="groupnorm")
    with pytest.raises(ValueError, match="norm_placement must be 'before' or 'after'"):
        cls([5], input_dim=3, num_classes=2, normalization="batchnorm", norm_placement="middle")
