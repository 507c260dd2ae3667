"""Tests for nntrain.train: accuracy on the digits, the History, keep_best, seeding,
divergence, regression, argument checks and the progress bar.

The training runs are small (at most 20 epochs of 22 minibatches on 1077 digits), so the
whole file takes a few seconds on a CPU.
"""

from __future__ import annotations

import math

import nntrain
import nntrain.torch as T
import numpy as np
import pytest
import torch
from nntrain.data import load_digits_split
from nntrain.train import History, TrainingDiverged, accuracy, train

HIDDEN = [100]
SCALE = math.sqrt(2 / 64)  # He initialisation for 64 inputs


@pytest.fixture(scope="module")
def digits():
    """The digits split with pixels scaled from 0..16 to 0..1."""
    data = load_digits_split(seed=0)
    return {k: (v / 16 if k.startswith("X") else v) for k, v in data.items()}


def ref_net(seed=0, **kw):
    return nntrain.FullyConnectedNet(
        HIDDEN, input_dim=64, num_classes=10, weight_scale=SCALE, seed=seed, **kw
    )


def torch_net(seed=0, **kw):
    return T.FullyConnectedNet(
        HIDDEN,
        input_dim=64,
        num_classes=10,
        weight_scale=SCALE,
        seed=seed,
        dtype=torch.float32,
        **kw,
    )


def numpy_params(net):
    return {
        k: (v.detach().cpu().numpy().copy() if hasattr(v, "detach") else v.copy())
        for k, v in net.params.items()
    }


class FakeModel:
    """The smallest model the loop accepts: a linear classifier whose loss is scripted.

    ``losses`` maps a training iteration (counted from 1) to the loss returned there; every
    other iteration returns 1.0. The gradient is ``grad`` for every parameter entry. Each
    training batch ``X`` seen by ``loss(X, y)`` is recorded in ``batches``; a call on
    ``X_val`` (the loop's end-of-epoch validation loss) is not counted.
    """

    def __init__(self, data, dim=4, classes=3, losses=None, grad=0.0):
        self.params = {"W": np.zeros((dim, classes))}
        self.reg = 0.0
        self.X_val = data["X_val"] if data is not None else None
        self.losses = losses or {}
        self.grad = grad
        self.batches = []

    def loss(self, X, y=None):
        scores = X @ self.params["W"]
        if y is None:
            return scores
        grads = {"W": np.full_like(self.params["W"], self.grad)}
        if self.X_val is not None and X.shape == self.X_val.shape and np.array_equal(X, self.X_val):
            return 1.0, grads
        self.batches.append(X.copy())
        return self.losses.get(len(self.batches), 1.0), grads


@pytest.fixture
def tiny():
    """20 training and 10 validation examples of 4 features and 3 classes."""
    rng = np.random.default_rng(0)
    return dict(
        X_train=rng.standard_normal((20, 4)),
        y_train=rng.integers(0, 3, 20),
        X_val=rng.standard_normal((10, 4)),
        y_val=rng.integers(0, 3, 10),
    )


# --------------------------------------------------------------------------------------
# Learning the digits
# --------------------------------------------------------------------------------------


def test_reference_net_reaches_95_percent_on_digits(digits):
    net = ref_net()
    hist = train(net, digits, learning_rate=0.05, epochs=20, batch_size=50)
    assert max(hist.val_acc) >= 0.95
    # The returned model (the best epoch's parameters) is the one that must be good.
    assert accuracy(net, digits["X_val"], digits["y_val"]) >= 0.95
    assert net.params["W1"].dtype == np.float64
    assert hist.loss[-1] < hist.loss[0] / 5
    assert hist.seconds > 0


def test_torch_twin_reaches_95_percent_on_digits(digits):
    net = torch_net()
    hist = train(net, digits, learning_rate=0.05, epochs=20, batch_size=50)
    assert max(hist.val_acc) >= 0.95
    assert accuracy(net, digits["X_val"], digits["y_val"]) >= 0.95
    assert all(p.dtype == torch.float32 for p in net.params.values())
    assert all(isinstance(x, float) for x in hist.loss)


def test_plain_torch_module_trains_on_digits(digits):
    """Any ``nn.Module`` mapping inputs to scores trains with softmax cross-entropy."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    hist = train(net, digits, learning_rate=0.05, epochs=12, batch_size=50)
    assert max(hist.val_acc) >= 0.95
    assert accuracy(net, digits["X_val"], digits["y_val"]) == hist.val_acc[hist.best_epoch - 1]
    with torch.no_grad():
        scores = net(torch.as_tensor(digits["X_val"], dtype=torch.float32))
    data_loss = torch.nn.functional.cross_entropy(scores, torch.as_tensor(digits["y_val"]))
    assert hist.val_loss[hist.best_epoch - 1] == pytest.approx(float(data_loss), rel=1e-5)


@pytest.mark.gpu
def test_torch_twin_trains_on_cuda(digits):
    net = torch_net().to("cuda")
    hist = train(net, digits, learning_rate=0.05, epochs=20, batch_size=50)
    assert all(p.device.type == "cuda" for p in net.params.values())
    assert accuracy(net, digits["X_val"], digits["y_val"]) >= 0.95
    assert max(hist.val_acc) >= 0.95


def test_accuracy_counts_argmax_matches():
    model = FakeModel(None, dim=2, classes=2)
    model.params["W"][...] = np.eye(2)  # scores = X: predicts the larger coordinate
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert accuracy(model, X, np.array([0, 1, 0, 0])) == 0.75
    assert accuracy(model, X, np.array([0, 1, 0, 1]), batch_size=3) == 1.0
    with pytest.raises(ValueError, match="empty"):
        accuracy(model, X[:0], np.array([], dtype=int))


# --------------------------------------------------------------------------------------
# The History and the loop's bookkeeping
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [50, 64, 1077, 2000])
def test_history_lengths(digits, batch_size):
    epochs = 3
    hist = train(ref_net(), digits, learning_rate=0.05, epochs=epochs, batch_size=batch_size)
    assert isinstance(hist, History)
    n = digits["X_train"].shape[0]
    assert len(hist.loss) == epochs * math.ceil(n / batch_size)
    assert len(hist.train_acc) == len(hist.val_acc) == len(hist.val_loss) == epochs
    assert all(0 <= a <= 1 for a in hist.train_acc + hist.val_acc)
    assert 1 <= hist.best_epoch <= epochs


def test_every_epoch_visits_each_example_once_in_a_new_order(tiny):
    data = dict(tiny, X_train=np.arange(20.0)[:, None].repeat(4, axis=1))
    model = FakeModel(data)
    train(model, data, batch_size=6, epochs=3, momentum=0.0)
    sizes = [len(b) for b in model.batches]
    assert sizes == [6, 6, 6, 2] * 3
    orders = [np.concatenate(model.batches[i * 4 : (i + 1) * 4])[:, 0] for i in range(3)]
    for order in orders:
        assert sorted(order) == list(range(20))
    assert not np.array_equal(orders[0], orders[1])


def test_sgd_momentum_update_and_lr_decay(tiny):
    """With a constant gradient g: v <- mu v - lr g, p <- p + v, lr *= decay per epoch."""
    model = FakeModel(tiny, grad=1.0)
    lr, mu, decay = 0.1, 0.5, 0.5
    train(
        model,
        tiny,
        learning_rate=lr,
        momentum=mu,
        lr_decay=decay,
        batch_size=10,
        epochs=3,
        keep_best=False,
    )
    p, v, rate = 0.0, 0.0, lr
    for _ in range(3):
        for _ in range(2):  # 20 examples in batches of 10
            v = mu * v - rate * 1.0
            p += v
        rate *= decay
    np.testing.assert_allclose(model.params["W"], p, rtol=1e-12)


@pytest.mark.parametrize("make", [ref_net, torch_net], ids=["reference", "torch"])
def test_keep_best_restores_the_best_epoch(digits, make):
    kw = dict(learning_rate=0.05, epochs=12, batch_size=50)
    net = make()
    hist = train(net, digits, **kw)
    best = hist.best_epoch
    assert best == int(np.argmax(hist.val_acc)) + 1  # the first epoch with the top accuracy
    # The run must end below its best, or the test could not tell restoring from not.
    assert hist.val_acc[best - 1] != hist.val_acc[-1]
    assert accuracy(net, digits["X_val"], digits["y_val"]) == hist.val_acc[best - 1]

    # The restored parameters are exactly those at the end of the best epoch.
    again = make()
    train(again, digits, **dict(kw, epochs=best, keep_best=False))
    want, got = numpy_params(again), numpy_params(net)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_without_keep_best_the_last_epoch_stays(digits):
    net = ref_net()
    hist = train(net, digits, learning_rate=0.05, epochs=12, batch_size=50, keep_best=False)
    assert hist.val_acc[hist.best_epoch - 1] != hist.val_acc[-1]
    assert accuracy(net, digits["X_val"], digits["y_val"]) == hist.val_acc[-1]


def test_same_seed_same_history_other_seed_different(digits):
    kw = dict(learning_rate=0.05, epochs=2, batch_size=50)
    a = train(ref_net(), digits, seed=3, **kw)
    b = train(ref_net(), digits, seed=3, **kw)
    c = train(ref_net(), digits, seed=4, **kw)
    assert a.loss == b.loss
    assert (a.train_acc, a.val_acc, a.val_loss, a.best_epoch) == (
        b.train_acc,
        b.val_acc,
        b.val_loss,
        b.best_epoch,
    )
    assert a.loss[0] != c.loss[0]  # another minibatch order from the first step on
    assert a.loss != c.loss


# --------------------------------------------------------------------------------------
# Divergence
# --------------------------------------------------------------------------------------


def test_far_too_high_learning_rate_raises(digits):
    with pytest.raises(TrainingDiverged) as info:
        train(ref_net(), digits, learning_rate=100.0, epochs=5, batch_size=50)
    e = info.value
    assert isinstance(e, RuntimeError)
    assert isinstance(e.history, History)
    assert e.iteration >= 2 and len(e.history.loss) == e.iteration
    message = str(e)
    assert f"iteration {e.iteration}" in message
    assert "lower learning rate" in message
    assert "100" in message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_loss_raises_at_that_iteration(tiny, bad):
    with pytest.raises(TrainingDiverged) as info:
        train(FakeModel(tiny, losses={3: bad}), tiny, batch_size=5, epochs=2)
    e = info.value
    assert e.iteration == 3
    assert len(e.history.loss) == 3 and e.history.loss[:2] == [1.0, 1.0]
    assert "iteration 3" in str(e) and "not finite" in str(e)
    assert "lower learning rate" in str(e)


def test_nan_in_a_later_epoch(tiny):
    # 4 iterations per epoch: iteration 6 is the second of epoch 2.
    with pytest.raises(TrainingDiverged, match=r"iteration 6 \(epoch 2\)") as info:
        train(FakeModel(tiny, losses={6: float("nan")}), tiny, batch_size=5, epochs=3)
    assert info.value.iteration == 6
    assert len(info.value.history.val_acc) == 1  # epoch 1 finished and was recorded


def test_loss_exploding_past_max_loss_ratio_raises(tiny):
    model = FakeModel(tiny, losses={1: 2.0, 4: 2.0 * 50 + 1})
    with pytest.raises(TrainingDiverged) as info:
        train(model, tiny, batch_size=5, epochs=2, max_loss_ratio=50)
    assert info.value.iteration == 4
    # Just at the ratio is fine.
    train(
        FakeModel(tiny, losses={1: 2.0, 4: 2.0 * 50}),
        tiny,
        batch_size=5,
        epochs=2,
        max_loss_ratio=50,
    )


# --------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------


def test_regression_records_val_loss_and_no_accuracy(digits):
    data = {k: (v.astype(np.float64) / 9 if k.startswith("y") else v) for k, v in digits.items()}
    net = nntrain.FullyConnectedNet(
        [32], input_dim=64, num_classes=1, weight_scale=SCALE, seed=0, loss="l2"
    )
    epochs = 6
    initial = net.loss(data["X_val"], data["y_val"])[0]
    hist = train(net, data, learning_rate=0.02, epochs=epochs, batch_size=50)
    assert hist.train_acc == [] and hist.val_acc == []
    assert len(hist.val_loss) == epochs and all(math.isfinite(v) for v in hist.val_loss)
    assert min(hist.val_loss) < initial / 2
    assert hist.best_epoch == int(np.argmin(hist.val_loss)) + 1
    # keep_best restored the parameters of the lowest validation loss.
    val_loss = net.loss(data["X_val"], data["y_val"])[0]
    assert val_loss == pytest.approx(hist.val_loss[hist.best_epoch - 1], rel=1e-12)


# --------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(learning_rate=-0.1), "learning_rate"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(momentum=1.0), "momentum"),
        (dict(momentum=-0.1), "momentum"),
        (dict(batch_size=0), "batch_size"),
        (dict(epochs=0), "epochs"),
        (dict(lr_decay=0.0), "lr_decay"),
        (dict(max_loss_ratio=-1.0), "max_loss_ratio"),
    ],
)
def test_bad_arguments_raise_naming_them(tiny, kwargs, name):
    model = FakeModel(tiny)
    with pytest.raises(ValueError, match=name):
        train(model, tiny, **kwargs)
    assert model.batches == []  # rejected before any training


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(batch_size=2.5), "batch_size"),
        (dict(epochs="3"), "epochs"),
        (dict(learning_rate="0.1"), "learning_rate"),
    ],
)
def test_wrongly_typed_arguments_raise_naming_them(tiny, kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        train(FakeModel(tiny), tiny, **kwargs)


@pytest.mark.parametrize("split", ["train", "val"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_refused_where_data_enters(tiny, split, bad):
    """The layers do not scan values; the loop checks its data once, before training."""
    data = dict(tiny)
    data[f"X_{split}"] = tiny[f"X_{split}"].copy()
    data[f"X_{split}"][3, 1] = bad
    model = FakeModel(tiny)
    with pytest.raises(ValueError, match=f"X_{split} contains NaN or infinite values"):
        train(model, data)
    assert model.batches == []


@pytest.mark.parametrize("split, bad", [("train", 3), ("val", -1)])
def test_labels_out_of_range_are_refused_before_training(tiny, tree, split, bad):
    """Both trees' nets, the same ValueError: the loop checks the labels once, where the
    data enters (the twins' losses do not read labels on the host)."""
    data = dict(tiny, **{f"y_{split}": tiny[f"y_{split}"].copy()})
    data[f"y_{split}"][2] = bad
    net = tree.FullyConnectedNet([5], input_dim=4, num_classes=3, seed=0)
    with pytest.raises(ValueError, match=rf"y_{split} must hold labels in \[0, 3\)"):
        train(net, data, epochs=1)


@pytest.mark.parametrize("key", ["X_train", "y_train", "X_val", "y_val"])
def test_missing_data_key_raises_naming_it(tiny, key):
    data = {k: v for k, v in tiny.items() if k != key}
    with pytest.raises(ValueError, match=key):
        train(FakeModel(tiny), data)


def test_mismatched_training_lengths_raise(tiny):
    with pytest.raises(ValueError, match="X_train and y_train"):
        train(FakeModel(tiny), dict(tiny, y_train=tiny["y_train"][:-1]))
    with pytest.raises(ValueError, match="X_train"):
        train(FakeModel(tiny), dict(tiny, X_train=tiny["X_train"][:0], y_train=tiny["y_train"][:0]))


def test_mismatched_validation_lengths_raise_naming_them(digits):
    data = dict(digits, y_val=digits["y_val"][:-1])
    with pytest.raises(ValueError, match="X_val|y_val"):
        train(ref_net(), data, epochs=1)


def test_model_without_reg_attribute_trains(tiny):
    """Only ``.params`` and ``.loss(X, y=None)`` are required."""
    model = FakeModel(tiny)
    del model.reg
    hist = train(model, tiny, batch_size=5, epochs=2)
    assert len(hist.loss) == 8 and len(hist.val_acc) == 2
    assert not hasattr(model, "reg")


def test_model_with_reg_keeps_it_and_val_loss_is_the_data_loss(digits):
    net = ref_net(reg=0.5)
    hist = train(net, digits, learning_rate=0.05, epochs=2, batch_size=50)
    assert net.reg == 0.5  # restored after the validation pass
    net.reg = 0.0
    data_loss = net.loss(digits["X_val"], digits["y_val"])[0]
    assert hist.val_loss[hist.best_epoch - 1] == pytest.approx(data_loss, rel=1e-12)


def test_object_without_params_is_rejected(tiny):
    class NoParams:
        def loss(self, X, y=None):
            return X

    with pytest.raises(TypeError, match="params"):
        train(NoParams(), tiny)


# --------------------------------------------------------------------------------------
# Progress bar
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env, progress, shown",
    [
        ("1", None, False),
        (None, None, True),
        ("0", None, True),
        ("", None, True),
        (None, False, False),
        ("1", True, True),
    ],
)
def test_nntrain_quiet_controls_the_bar(tiny, capsys, monkeypatch, env, progress, shown):
    if env is None:
        monkeypatch.delenv("NNTRAIN_QUIET", raising=False)
    else:
        monkeypatch.setenv("NNTRAIN_QUIET", env)
    train(FakeModel(tiny), tiny, batch_size=5, epochs=2, progress=progress)
    err = capsys.readouterr().err
    assert ("epochs" in err) == shown


def test_until_stops_after_the_first_epoch_it_accepts(digits):
    net = nntrain.FullyConnectedNet([50], input_dim=64, num_classes=10, weight_scale=0.1, seed=0)
    hist = train(
        net,
        digits,
        learning_rate=0.05,
        epochs=30,
        batch_size=50,
        until=lambda h: h.train_acc[-1] >= 0.9,
    )
    assert hist.train_acc[-1] >= 0.9 > max(hist.train_acc[:-1], default=0.0)
    assert len(hist.train_acc) < 30


# --------------------------------------------------------------------------------------
# best_val_acc: one run of a sweep
# --------------------------------------------------------------------------------------


def test_best_val_acc_is_the_best_epoch_or_nan_when_training_diverges(digits):
    from nntrain.train import best_val_acc

    net = ref_net()
    acc = best_val_acc(net, digits, learning_rate=0.05, epochs=3, batch_size=50, keep_best=False)
    assert acc == pytest.approx(
        max(
            train(
                ref_net(), digits, learning_rate=0.05, epochs=3, batch_size=50, keep_best=False
            ).val_acc
        )
    )
    assert acc > 0.8
    assert math.isnan(best_val_acc(ref_net(), digits, learning_rate=50.0, epochs=2, batch_size=50))
    regression = nntrain.FullyConnectedNet([8], input_dim=64, num_classes=1, loss="l2", seed=0)
    data = {k: (v.astype(np.float64) if k.startswith("y") else v) for k, v in digits.items()}
    with pytest.raises(ValueError, match="needs a classifier"):
        best_val_acc(regression, data, epochs=1)


def test_without_training_accuracy_the_run_is_the_same(digits):
    """train_accuracy=False skips a forward pass over the training set after each epoch and
    changes nothing else; best_val_acc skips it by default."""
    kwargs = dict(learning_rate=0.05, epochs=3, batch_size=50)
    full, lean = ref_net(), ref_net()
    with_acc = train(full, digits, **kwargs)
    without = train(lean, digits, train_accuracy=False, **kwargs)
    assert len(with_acc.train_acc) == 3 and without.train_acc == []
    assert without.val_acc == with_acc.val_acc and without.loss == with_acc.loss
    assert all(np.array_equal(full.params[k], lean.params[k]) for k in full.params)


def test_a_last_minibatch_of_one_example_is_skipped_with_batch_normalization(tree):
    """1077 digits in minibatches of 2 leave one example: its batch variance is undefined."""
    from nntrain.data import load_digits_split

    data = load_digits_split(seed=0)
    assert len(data["X_train"]) % 2 == 1
    net = tree.FullyConnectedNet([20], input_dim=64, num_classes=10, normalization="batchnorm")
    history = train(net, data, learning_rate=0.01, epochs=1, batch_size=2, progress=False)
    assert len(history.loss) == len(data["X_train"]) // 2  # the single example skipped
    plain = tree.FullyConnectedNet([20], input_dim=64, num_classes=10)
    history = train(plain, data, learning_rate=0.01, epochs=1, batch_size=2, progress=False)
    assert len(history.loss) == len(data["X_train"]) // 2 + 1  # kept without batch norm


def test_later_steps_skip_the_array_checks_that_the_first_step_ran(monkeypatch):
    from nntrain import validation

    with validation.trusted():
        assert validation.ndarray("x", [1, 2]) == [1, 2]  # unchecked inside the block
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        validation.ndarray("x", [1, 2])  # and checked again after it
    calls = {"trusted": 0, "checked": 0}
    affine_inputs = validation.affine_inputs

    def counting(*args, **kwargs):
        calls["trusted" if validation._trust.on else "checked"] += 1
        return affine_inputs(*args, **kwargs)

    monkeypatch.setattr(validation, "affine_inputs", counting)
    data = load_digits_split()
    net = nntrain.FullyConnectedNet([20], input_dim=64, num_classes=10, seed=0)
    train(net, data, epochs=1, batch_size=500, progress=False)  # 3 steps
    assert calls["trusted"] > 0 and calls["checked"] > 0
    wrong = nntrain.FullyConnectedNet([20], input_dim=63, num_classes=10, seed=0)
    with pytest.raises(ValueError, match="X must have 63 features"):
        train(wrong, data, epochs=1, progress=False)  # the first step still checks


# --------------------------------------------------------------------------------------
# Hooks: a learning-rate schedule, a stop condition; short minibatches, no evaluation
# --------------------------------------------------------------------------------------


def test_a_schedule_gives_the_learning_rate_of_every_update(tiny):
    """SGD on a constant gradient 1: update t moves every weight by -schedule(t)."""
    model, rates = FakeModel(tiny, grad=1.0), [0.1, 0.2, 0.4, 0.8]
    train(
        model, tiny, update_rule="sgd", schedule=lambda t: rates[t], batch_size=10, epochs=2,
        keep_best=False,
    )  # fmt: skip
    np.testing.assert_allclose(model.params["W"], -sum(rates), rtol=1e-12)


@pytest.mark.parametrize("bad", [-0.1, 0.0, float("nan")])
def test_a_schedule_that_gives_a_bad_rate_after_the_first_step_is_refused(tiny, bad):
    """The rule's own config check runs at the first step only (the later ones are
    trusted), so the schedule's rate is checked at every update."""
    rates = [0.1, bad]
    with pytest.raises(ValueError, match=r"schedule\(1\) must be a finite rate > 0"):
        train(
            FakeModel(tiny), tiny, update_rule="sgd", schedule=lambda t: rates[t],
            batch_size=10, epochs=1, keep_best=False,
        )  # fmt: skip


def test_stop_ends_training_before_the_update_of_its_iteration(tiny):
    model = FakeModel(tiny, grad=1.0)
    history = train(
        model, tiny, update_rule="sgd", learning_rate=0.1, batch_size=10, epochs=5,
        stop=lambda h: len(h.loss) == 3, keep_best=False,
    )  # fmt: skip
    assert len(history.loss) == 3 and len(history.val_acc) == 1  # stopped in epoch 2
    np.testing.assert_allclose(model.params["W"], -0.2, rtol=1e-12)  # two updates


def test_drop_last_skips_a_short_last_minibatch(tiny):
    model = FakeModel(tiny)
    train(model, tiny, batch_size=6, epochs=2, drop_last=True)
    assert [len(b) for b in model.batches] == [6, 6, 6] * 2


def test_without_evaluation_the_data_needs_only_its_training_split(tiny):
    data = {k: tiny[k] for k in ("X_train", "y_train")}
    history = train(FakeModel(None), data, batch_size=10, epochs=2, evaluate=False)
    assert len(history.loss) == 4 and history.best_epoch == 0
    assert history.train_acc == history.val_acc == history.val_loss == []
    with pytest.raises(ValueError, match="X_val is missing"):
        train(FakeModel(None), data)


@pytest.mark.parametrize(
    "seed, error", [(True, TypeError), (1.5, TypeError), ("0", TypeError), (-1, ValueError)]
)
def test_seed_must_be_an_integer_of_at_least_zero(tiny, seed, error):
    model = FakeModel(tiny)
    with pytest.raises(error, match="seed"):
        train(model, tiny, seed=seed)
    assert model.batches == []


@pytest.mark.parametrize("name", ["schedule", "stop"])
def test_hooks_must_be_functions(tiny, name):
    with pytest.raises(TypeError, match=name):
        train(FakeModel(tiny), tiny, **{name: 0.1})
