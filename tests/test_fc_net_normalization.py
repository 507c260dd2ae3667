"""FullyConnectedNet with batch normalization (both trees) and the training loop's handling of
train and test modes: gradients checked numerically, the twins equal, running statistics
updated only by training steps and restored with the best epoch's weights."""

import copy

import nntrain.torch as nt
import numpy as np
import pytest
import torch
from nntrain.data import load_digits_split, map_inputs
from nntrain.gradcheck import eval_numerical_gradient, rel_error
from nntrain.reference import FullyConnectedNet
from nntrain.reference.preprocessing import Standardize
from nntrain.train import accuracy, train

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 7))
Y = RNG.integers(0, 4, 12)


def nets(placement="before", activation="tanh", seed=0):
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
    return FullyConnectedNet(**kwargs), nt.FullyConnectedNet(**kwargs, dtype=torch.float64)


@pytest.fixture(scope="module")
def digits():
    data = load_digits_split(seed=0)
    return map_inputs(data, Standardize().fit(data["X_train"]).transform)


@pytest.mark.parametrize("placement", ["before", "after"])
@pytest.mark.parametrize("activation", ["tanh", "elu"])
def test_gradients_match_finite_differences(placement, activation):
    net, _ = nets(placement, activation)
    for k in net.params:  # gamma and beta away from 1 and 0, so that they matter
        if k.startswith(("gamma", "beta")):
            net.params[k] = RNG.uniform(0.5, 1.5, net.params[k].shape)
    net.reg = 0.1
    _, grads = net.loss(X, Y)
    for name, param in net.params.items():
        numeric = eval_numerical_gradient(lambda _: net.loss(X, Y)[0], param)
        assert rel_error(grads[name], numeric) < 1e-6, name  # tiny entries limit the FD accuracy


def test_parameters_are_named_and_ordered_like_cs231n():
    net, twin = nets()
    expected = ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert list(net.params) == expected and list(twin.params) == expected
    assert list(net.loss(X, Y)[1]) == expected
    np.testing.assert_array_equal(net.params["gamma2"], np.ones(5))


@pytest.mark.parametrize("placement", ["before", "after"])
def test_twins_agree_in_train_and_test_mode(placement):
    net, twin = nets(placement, activation="relu")
    twin.train()
    for step in range(3):  # a few train-mode passes move the running statistics
        loss, grads = net.loss(X + step, Y)
        t_loss, t_grads = twin.loss(torch.tensor(X + step), torch.tensor(Y))
        assert float(t_loss) == pytest.approx(loss, rel=1e-12)
        for k in grads:
            np.testing.assert_allclose(t_grads[k].numpy(), grads[k], rtol=1e-9, atol=1e-14)
    for i, bn in enumerate(net.bn_params):
        np.testing.assert_allclose(twin.norms[i].running_mean.numpy(), bn["running_mean"])
        np.testing.assert_allclose(twin.norms[i].running_var.numpy(), bn["running_var"])
    twin.eval()
    np.testing.assert_allclose(twin.loss(torch.tensor(X)).detach().numpy(), net.loss(X), rtol=1e-10)


def test_test_mode_uses_and_keeps_the_running_statistics():
    net, _ = nets()
    net.loss(X, Y)
    before = copy.deepcopy(net.bn_params)
    scores = net.loss(X)  # test mode
    for b, a in zip(before, net.bn_params):
        np.testing.assert_array_equal(b["running_mean"], a["running_mean"])
    # a test-mode prediction does not depend on the rest of the batch
    np.testing.assert_allclose(net.loss(X[:1]), scores[:1], rtol=1e-12)
    net.loss(X + 1, Y)  # train mode updates them
    assert not np.allclose(before[0]["running_mean"], net.bn_params[0]["running_mean"])


@pytest.mark.parametrize("tree", ["reference", "torch"])
def test_training_reaches_95_percent_and_evaluates_in_test_mode(digits, tree):
    kwargs = dict(
        hidden_dims=[100, 100],
        input_dim=64,
        num_classes=10,
        weight_scale=0.1,
        seed=0,
        normalization="batchnorm",
    )
    net = (
        FullyConnectedNet(**kwargs)
        if tree == "reference"
        else nt.FullyConnectedNet(**kwargs, dtype=torch.float64)
    )
    hist = train(net, digits, learning_rate=0.05, epochs=6, batch_size=50)
    assert max(hist.val_acc) >= 0.95
    # keep_best restored the best epoch's weights *and* running statistics
    assert accuracy(net, digits["X_val"], digits["y_val"]) == hist.val_acc[hist.best_epoch - 1]
    # evaluating does not move the running statistics
    stats = (
        copy.deepcopy(net.bn_params)
        if tree == "reference"
        else [n.running_mean.clone() for n in net.norms]
    )
    accuracy(net, digits["X_train"], digits["y_train"])
    after = net.bn_params if tree == "reference" else [n.running_mean for n in net.norms]
    for b, a in zip(stats, after):
        if tree == "reference":
            np.testing.assert_array_equal(b["running_mean"], a["running_mean"])
        else:
            assert torch.equal(b, a)


def test_plain_torch_module_with_batchnorm_is_trained_in_train_mode_and_evaluated_in_eval(digits):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 50), nt.BatchNorm1d(50), torch.nn.ReLU(), torch.nn.Linear(50, 10)
    ).double()
    model.eval()  # train() must switch to training mode for the updates
    hist = train(model, digits, learning_rate=0.05, epochs=3, batch_size=50)
    assert model[1].num_batches_tracked.item() == 3 * int(np.ceil(len(digits["X_train"]) / 50))
    assert max(hist.val_acc) > 0.9
    model.train()
    accuracy(model, digits["X_val"], digits["y_val"])
    assert model.training  # the mode is restored after evaluating


@pytest.mark.parametrize("tree", ["reference", "torch"])
def test_bad_normalization_arguments(tree):
    cls = FullyConnectedNet if tree == "reference" else nt.FullyConnectedNet
    with pytest.raises(ValueError, match="normalization must be one of"):
        cls([5], input_dim=3, num_classes=2, normalization="layernorm")
    with pytest.raises(ValueError, match="norm_placement must be 'before' or 'after'"):
        cls([5], input_dim=3, num_classes=2, normalization="batchnorm", norm_placement="middle")
