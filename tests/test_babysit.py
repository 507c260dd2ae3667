"""nntrain.babysit: the checklist passes on healthy nets of every kind and fails, with its
advice, on nets broken on purpose (a last layer 30 times too large, a forward pass that
mixes the batch, dead units, a model that cannot learn); it never changes the model or the
global random generators; bad input is refused. The learning-rate range test, the update
ratio the training loop records, first-layer images and their roughness are checked on
cases whose answer is known by hand.

Small nets on the digits (64-100-10), on one torch thread: the file takes a few seconds.
"""

from __future__ import annotations

import copy
import math

import matplotlib

matplotlib.use("Agg")
import nntrain.torch as T
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from nntrain.babysit import (
    Check,
    Report,
    checklist,
    first_layer_images,
    lr_range_test,
    roughness,
)
from nntrain.data import load_digits_split, map_inputs
from nntrain.reference import FullyConnectedNet
from nntrain.reference.preprocessing import Standardize
from nntrain.train import train
from torch import nn

SCALE = math.sqrt(2 / 64)  # He initialization for 64 inputs, as the chapters use it
CHECKS = [
    "initial_loss",
    "regularization_raises_loss",
    "overfit_small",
    "examples_independent",
    "learning_rate",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matrices: one torch thread is faster than two, and not slowed by a busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    """The digits split, standardized with the training split's statistics."""
    data = load_digits_split(seed=0)
    return map_inputs(data, Standardize().fit(data["X_train"]).transform)


def reference(seed=0, **kw):
    return FullyConnectedNet([100], input_dim=64, num_classes=10, seed=seed, **kw)


def sequential(seed=0, outputs=10):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, outputs))


# ------------------------------------------------------------------------ broken models


class BatchCentred(nn.Module):
    """A forward pass that subtracts its batch's mean: example i's scores depend on x_j."""

    def __init__(self):
        super().__init__()
        self.net = sequential()

    def forward(self, x):
        return self.net(x - x.mean(dim=0))


class BatchCentredNet(FullyConnectedNet):
    """The same mistake in a reference net."""

    def forward(self, X, mode="test"):
        return super().forward(X - X.mean(axis=0), mode)


class InputBlind(nn.Module):
    """Scores that do not depend on the input: a learnable constant per class."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, x):
        return self.bias.expand(x.shape[0], -1)


class PenaltyIgnored(FullyConnectedNet):
    """A reference net whose loss forgets the penalty."""

    def penalty(self):
        return 0.0


def last_layer_30x_sequential():
    model = sequential()
    with torch.no_grad():
        model[2].weight *= 30
        model[2].bias *= 30
    return model


def last_layer_30x_reference():
    net = reference(weight_scale=SCALE)
    net.params["W2"] *= 30
    return net


def dead_reference():
    net = reference(weight_scale=SCALE)
    net.params["b1"][:] = -100.0  # every ReLU of the hidden layer off for every input
    return net


def frozen_sequential():
    model = sequential()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


# --------------------------------------------------------------------------- checklist


HEALTHY = {
    "reference He": lambda: reference(weight_scale=SCALE),
    "reference 1e-2": lambda: reference(),
    "reference 1e-3 svm": lambda: reference(weight_scale=1e-3, loss="svm", reg=0.1),
    "reference batchnorm dropout": lambda: reference(
        weight_scale=SCALE, normalization="batchnorm", dropout_keep_ratio=0.8
    ),
    "torch twin": lambda: T.FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0),
    "nn.Sequential": sequential,
}


@pytest.mark.parametrize("make", HEALTHY.values(), ids=HEALTHY.keys())
def test_the_checklist_passes_on_healthy_nets(digits, make):
    report = checklist(make(), digits)
    assert [c.name for c in report.checks] == CHECKS
    assert report.passed, str(report)
    assert (report["regularization_raises_loss"].passed is None) == (make is sequential)
    assert all(c.passed for c in report.checks if c.name != "regularization_raises_loss")
    suggestion = report["learning_rate"].measured
    assert 0.03 < suggestion < 1.0  # 5 epochs of SGD with momentum train best at 0.1-0.3


def test_the_initial_loss_of_a_small_init_is_ln_c_and_of_the_hinge_c_minus_1(digits):
    softmax = checklist(reference(weight_scale=1e-3), digits)["initial_loss"]
    assert softmax.measured == pytest.approx(math.log(10), abs=1e-3)
    hinge = checklist(reference(weight_scale=1e-3, loss="svm"), digits)["initial_loss"]
    assert hinge.measured == pytest.approx(9.0, abs=1e-2)
    assert "C - 1 = 9" in hinge.expected


BROKEN = {
    "last layer 30x (nn.Sequential)": (last_layer_30x_sequential, "initial_loss", "last layer"),
    "last layer 30x (reference)": (last_layer_30x_reference, "initial_loss", "last layer"),
    "batch mean subtracted (torch)": (BatchCentred, "examples_independent", "batch axis"),
    "batch mean subtracted (reference)": (
        lambda: BatchCentredNet([100], input_dim=64, weight_scale=SCALE, seed=0),
        "examples_independent",
        "batch axis",
    ),
    "dead ReLUs": (dead_reference, "overfit_small", "dead"),
    "input-blind": (InputBlind, "overfit_small", "depends on the input"),
    "frozen": (frozen_sequential, "overfit_small", "requires_grad"),
    "penalty ignored": (
        lambda: PenaltyIgnored([100], input_dim=64, seed=0),
        "regularization_raises_loss",
        "penalty",
    ),
}


@pytest.mark.parametrize("make, failing, words", BROKEN.values(), ids=BROKEN.keys())
def test_a_net_broken_on_purpose_fails_its_check_with_advice(digits, make, failing, words):
    report = checklist(make(), digits)
    check = report[failing]
    assert check.passed is False, str(report)
    assert words in check.advice
    assert f"! {failing}: {check.advice}" in str(report)
    assert check in report.failures() and not report.passed


def test_a_last_layer_30x_too_large_measures_far_above_ln_c(digits):
    measured = checklist(last_layer_30x_sequential(), digits)["initial_loss"].measured
    assert measured > 2 * 2 * math.log(10)  # twice the bound: not a near miss
    check = checklist(last_layer_30x_reference(), digits)["initial_loss"]
    assert "scale the last layer" in check.advice


def test_subtracting_the_batch_mean_gives_the_influence_1_over_n_minus_1(digits):
    """x_i - mean(x): d/dx_j is -1/N of the Jacobian, d/dx_i is (1 - 1/N) of it; the ratio
    of the two norms is 1/(N - 1) = 1/7 for the batch of 8."""
    check = checklist(BatchCentred(), digits)["examples_independent"]
    assert check.measured == pytest.approx(1 / 7, rel=1e-4)


def test_a_model_that_ignores_its_input_cannot_be_told_independent(digits):
    check = checklist(InputBlind(), digits)["examples_independent"]
    assert check.passed is None and "do not depend on the inputs" in check.note


def test_a_penalty_counted_twice_fails_the_exact_rise(digits):
    class PenaltyTwice(FullyConnectedNet):
        def penalty(self):
            return 2 * super().penalty()

    check = checklist(PenaltyTwice([100], input_dim=64, seed=0), digits)
    assert check["regularization_raises_loss"].passed is False
    assert check["regularization_raises_loss"].measured > 0  # it rose, by the wrong amount


def test_batch_normalization_is_checked_in_test_mode_with_a_note(digits):
    check = checklist(reference(normalization="batchnorm"), digits)["examples_independent"]
    assert check.passed and "batch normalization mixes the batch in training mode" in check.note


# --------------------------------------------------------------- the model left as it was


def state(model):
    """Everything a check could change: parameters, buffers, settings, mode."""
    if isinstance(model, nn.Module):
        return (
            {k: v.detach().clone() for k, v in model.state_dict().items()},
            [p.requires_grad for p in model.parameters()],
            model.training,
            copy.deepcopy(getattr(model, "dropout_param", None)),
        )
    return (
        {k: v.copy() for k, v in model.params.items()},
        copy.deepcopy(model.bn_params),
        copy.deepcopy(model.dropout_param),
        model.reg,
    )


def same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def generators():
    return np.random.get_state(), torch.get_rng_state()


def with_dropout_module():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 100), nn.BatchNorm1d(100), nn.ReLU(), nn.Dropout(0.2), nn.Linear(100, 10)
    )
    return model.train()


UNCHANGED = {
    "reference batchnorm dropout": lambda: FullyConnectedNet(
        [100], input_dim=64, reg=0.01, normalization="batchnorm", dropout_keep_ratio=0.8
    ),  # no seed: its dropout draws from NumPy's global generator
    "torch batchnorm dropout": with_dropout_module,
    "torch twin with reg": lambda: T.FullyConnectedNet([100], input_dim=64, reg=0.01, seed=0),
}


@pytest.mark.parametrize("make", UNCHANGED.values(), ids=UNCHANGED.keys())
def test_the_checklist_and_the_range_test_change_neither_model_nor_generators(digits, make):
    model = make()
    np.random.seed(123)
    torch.manual_seed(123)
    before, rngs = state(model), generators()
    first = checklist(model, digits, seed=3)
    lr_range_test(model, digits, seed=3)
    assert same(state(model), before)
    now = generators()
    assert same(list(now[0]), list(rngs[0])) and torch.equal(now[1], rngs[1])
    again = checklist(model, digits, seed=3)  # and the same seed gives the same report
    assert [c.shown() for c in again.checks] == [c.shown() for c in first.checks]


# ------------------------------------------------------------------------- bad input


def test_data_without_a_training_split_is_refused(digits):
    with pytest.raises(ValueError, match="X_train is missing"):
        checklist(sequential(), {k: v for k, v in digits.items() if k != "X_train"})
    with pytest.raises(TypeError, match="data must be a dict"):
        checklist(sequential(), [digits["X_train"], digits["y_train"]])


def test_a_model_that_does_not_return_class_scores_is_refused(digits):
    flat = nn.Sequential(nn.Linear(64, 1), nn.Flatten(0))
    with pytest.raises(ValueError, match=r"class scores of shape \(2, C\).*got shape \(2,\)"):
        checklist(flat, digits)


def test_num_classes_must_agree_with_the_model_and_the_labels(digits):
    with pytest.raises(ValueError, match="num_classes is 7 but the model returns 10 scores"):
        checklist(sequential(), digits, num_classes=7)
    with pytest.raises(ValueError, match=r"y_train must hold labels in \[0, 5\), got .* 9"):
        checklist(sequential(outputs=5), digits)
    with pytest.raises(TypeError, match="num_classes must be a positive integer"):
        checklist(sequential(), digits, num_classes=10.0)


@pytest.mark.parametrize(
    "key, value, error, message",
    [
        ("X_train", "nan", ValueError, "X_train contains NaN"),
        ("y_train", "float", TypeError, "y_train must be an integer array"),
        ("y_train", "short", ValueError, r"y_train must have shape \(1077,\)"),
    ],
)
def test_bad_training_arrays_are_refused_naming_them(digits, key, value, error, message):
    data = dict(digits)
    if value == "nan":
        data[key] = data[key].copy()
        data[key][0, 0] = np.nan
    elif value == "float":
        data[key] = data[key].astype(float)
    else:
        data[key] = data[key][:-1]
    with pytest.raises(error, match=message):
        checklist(sequential(), data)


def test_a_regression_model_or_another_object_is_refused(digits):
    with pytest.raises(ValueError, match="model must be a classifier.*'l2'"):
        checklist(reference(loss="l2"), digits)
    with pytest.raises(TypeError, match="model must have params and loss"):
        checklist("a model", digits)


# ------------------------------------------------------------------------------ report


def test_the_report_is_a_text_table_and_an_escaped_html_table():
    report = Report(
        [
            Check("fine", True, 2.30258, "about 2.3", "never shown", note="on <all>"),
            Check("bad<one>", False, "<b>x</b>", "a & b", "do <i>this</i>"),
            Check("moot", None, None, "-", ""),
        ]
    )
    text = str(report)
    assert text.splitlines()[1].split()[:3] == ["fine", "pass", "2.303"]
    assert "! bad<one>: do <i>this</i>" in text and "never shown" not in text
    assert "- fine: on <all>" in text
    page = report._repr_html_()
    for raw, escaped in [("bad<one>", "bad&lt;one&gt;"), ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;")]:
        assert raw not in page and escaped in page
    assert "a &amp; b" in page and "do &lt;i&gt;this&lt;/i&gt;" in page
    assert page.count("<tr") == 4 and "n/a" in page
    assert not report.passed and report.failures() == [report["bad<one>"]]
    assert Report(report.checks[::2]).passed  # n/a does not fail
    with pytest.raises(KeyError, match="no check named 'nope'; the checks are"):
        report["nope"]


# --------------------------------------------------------------------- lr_range_test


@pytest.mark.parametrize("make", [lambda: reference(weight_scale=SCALE), sequential])
def test_the_range_test_suggests_a_tenth_of_the_minimum_and_stops_at_divergence(digits, make):
    result = lr_range_test(make(), digits, seed=0)
    assert 0.03 < result.suggestion < 1.0 and result.diverged
    assert result.rule == "minimum/10"
    assert result.suggestion == pytest.approx(result.rates[np.argmin(result.smoothed)] / 10)
    steps = len(result.rates)
    assert 10 < steps < 100 and len(result.losses) == len(result.smoothed) == steps
    # it stopped at the first step whose smoothed loss exceeds 4 times the best so far
    best = np.minimum.accumulate(result.smoothed)
    assert result.smoothed[-1] > 4 * best[-1]
    assert (result.smoothed[:-1] <= 4 * best[:-1]).all()


def test_the_rates_are_geometric_and_smoothing_zero_keeps_the_raw_loss(digits):
    result = lr_range_test(reference(), digits, start=1e-4, stop=1e-1, steps=20, smoothing=0)
    expected = 1e-4 * (1e-1 / 1e-4) ** (np.arange(20) / 19)
    np.testing.assert_allclose(result.rates, expected, rtol=1e-12)
    np.testing.assert_array_equal(result.smoothed, result.losses)
    assert not result.diverged  # 0.1 is a safe rate for this net


def test_the_smoothed_loss_is_the_bias_corrected_moving_average(digits):
    beta = 0.7
    result = lr_range_test(reference(), digits, steps=30, stop=1e-2, smoothing=beta)
    average, expected = 0.0, []
    for t, loss in enumerate(result.losses):
        average = beta * average + (1 - beta) * loss
        expected.append(average / (1 - beta ** (t + 1)))
    np.testing.assert_allclose(result.smoothed, expected, rtol=1e-12)


class Scripted:
    """A cs231n-style model whose loss follows a script (NaN at the third step)."""

    def __init__(self):
        self.params = {"W": np.zeros((64, 10))}
        self.losses = iter([2.0, 1.0, math.nan, 0.5])

    def loss(self, X, y=None):
        return next(self.losses), {"W": np.zeros((64, 10))}


def test_a_loss_that_is_not_finite_stops_the_range_test_before_it(digits):
    result = lr_range_test(Scripted(), digits, smoothing=0)
    assert result.diverged and list(result.losses) == [2.0, 1.0]
    assert result.suggestion == pytest.approx(result.rates[1] / 10)


def test_the_range_test_plots_the_smoothed_loss(digits):
    ax = Figure().subplots()
    lr_range_test(reference(), digits).plot(ax)
    assert ax.get_xscale() == "log" and len(ax.lines) == 2  # the curve and the suggestion


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"start": 0.0}, ValueError, "start must be finite and > 0, got 0.0"),
        ({"stop": 1e-7}, ValueError, "stop must be larger than start, got start=1e-06"),
        ({"steps": 1}, ValueError, "steps must be at least 2, got 1"),
        ({"steps": 2.5}, TypeError, "steps must be a positive integer, got 2.5"),
        ({"smoothing": 1.0}, ValueError, "smoothing"),
        ({"divergence": 1.0}, ValueError, "divergence must be larger than 1, got 1.0"),
        ({"update_rule": "lion"}, ValueError, "update_rule must be one of"),
    ],
)
def test_bad_range_test_arguments_are_refused_naming_them(digits, kwargs, error, message):
    with pytest.raises(error, match=message):
        lr_range_test(reference(), digits, **kwargs)


def test_a_model_without_trainable_parameters_has_no_range_test(digits):
    with pytest.raises(ValueError, match="model must have a trainable parameter"):
        lr_range_test(frozen_sequential(), digits)


# ---------------------------------------------------- the training loop's update ratio


class Linear:
    """A cs231n-style linear classifier with a constant gradient, for a step by hand."""

    def __init__(self, w, g):
        self.params, self.g = {"W": np.array(w, dtype=float)}, np.array(g, dtype=float)

    def loss(self, X, y=None):
        scores = X @ self.params["W"]
        return scores if y is None else (1.0, {"W": self.g})


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 2))
    return dict(X_train=X, y_train=np.array([0, 1, 0, 1]), X_val=X, y_val=np.array([0, 1, 0, 1]))


def test_one_sgd_step_has_the_ratio_eta_g_over_w(tiny):
    """W = [[3, 0], [0, 4]] (norm 5), g = [[1, 2], [2, 0]] (norm 3): one step of SGD at
    0.1 moves W by 0.1 g, a ratio of 0.3 / 5 = 0.06."""
    model = Linear([[3.0, 0.0], [0.0, 4.0]], [[1.0, 2.0], [2.0, 0.0]])
    history = train(
        model, tiny, update_rule="sgd", learning_rate=0.1, batch_size=4, epochs=1,
        keep_best=False, record_update_ratio=True,
    )  # fmt: skip
    assert history.update_ratio == {"W": [pytest.approx(0.06, rel=1e-12)]}


def test_the_ratio_measures_the_step_actually_taken_after_max_norm(tiny):
    """W's columns [1, 0] and [0, 1] (norm 1); a step of 2 along the first column takes it
    to norm 3, which max-norm brings back to 1.5: the change is 0.5 of a norm sqrt(2)."""
    model = Linear([[1.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, 0.0]])
    history = train(
        model, tiny, update_rule="sgd", learning_rate=2.0, batch_size=4, epochs=1,
        keep_best=False, max_norm=1.5, record_update_ratio=True,
    )  # fmt: skip
    assert history.update_ratio["W"] == [pytest.approx(0.5 / math.sqrt(2), rel=1e-12)]


def first_gradients(net, X, y):
    """The parameters before the first step and their gradients there, as NumPy arrays
    keyed as ``History.update_ratio`` keys them."""
    if isinstance(net, FullyConnectedNet):
        return {k: v.copy() for k, v in net.params.items()}, net.loss(X, y)[1]
    named = dict(net.params) if hasattr(net, "params") else dict(net.named_parameters())
    loss = nn.functional.cross_entropy(net(torch.tensor(X, dtype=torch.float32)), torch.tensor(y))
    grads = torch.autograd.grad(loss, list(named.values()))
    params = {k: v.detach().numpy().copy() for k, v in named.items()}
    return params, {k: g.numpy() for k, g in zip(named, grads)}


TREES = {
    "reference": lambda: reference(weight_scale=SCALE),
    "torch twin": lambda: T.FullyConnectedNet([100], input_dim=64, seed=0),
    "nn.Sequential": sequential,
}


@pytest.mark.parametrize("make", TREES.values(), ids=TREES.keys())
def test_the_ratio_of_a_net_is_eta_norm_g_over_norm_w_for_every_parameter(digits, make):
    net = make()
    X, y = digits["X_train"][:50], digits["y_train"][:50]
    params, grads = first_gradients(net, X, y)
    history = train(
        net, dict(digits, X_train=X, y_train=y), update_rule="sgd", learning_rate=0.1,
        batch_size=50, epochs=1, keep_best=False, record_update_ratio=True,
    )  # fmt: skip
    assert history.update_ratio.keys() == params.keys()
    for k, (ratio,) in history.update_ratio.items():
        w = np.linalg.norm(params[k])
        if w == 0:  # the biases of FullyConnectedNet start at zero
            assert ratio == math.inf
        else:
            assert ratio == pytest.approx(0.1 * np.linalg.norm(grads[k]) / w, rel=1e-5)


@pytest.mark.parametrize("make", [lambda: reference(weight_scale=SCALE), sequential])
def test_recording_the_ratio_leaves_the_run_bit_for_bit_as_it_was(digits, make):
    plain, recorded = make(), make()
    kw = dict(learning_rate=0.05, epochs=2, batch_size=100)
    h0, h1 = train(plain, digits, **kw), train(recorded, digits, record_update_ratio=True, **kw)
    assert h0.update_ratio == {} and h0.loss == h1.loss and h0.val_acc == h1.val_acc
    a = plain.params if hasattr(plain, "params") else plain.state_dict()
    b = recorded.params if hasattr(recorded, "params") else recorded.state_dict()
    assert same(dict(a), dict(b))
    assert all(len(r) == len(h1.loss) for r in h1.update_ratio.values())
    ratios = np.array([r[-1] for k, r in h1.update_ratio.items() if "W" in k or "weight" in k])
    assert ((ratios > 1e-5) & (ratios < 1)).all()  # plausible sizes, all finite


def test_record_update_ratio_must_be_a_bool(tiny):
    with pytest.raises(TypeError, match="record_update_ratio must be True or False, got 1"):
        train(Linear(np.eye(2), np.eye(2)), tiny, record_update_ratio=1)


def test_frozen_parameters_of_a_module_are_not_trained(digits):
    model = sequential()
    model[0].requires_grad_(False)
    frozen = model[0].weight.detach().clone()
    history = train(model, digits, epochs=1, record_update_ratio=True, progress=False)
    assert torch.equal(model[0].weight, frozen)
    assert sorted(history.update_ratio) == ["2.bias", "2.weight"]


# ------------------------------------------------------------ first-layer weights as images


def test_first_layer_images_are_the_columns_of_w1_or_the_rows_of_a_linear():
    net = reference()
    images = first_layer_images(net)
    assert images.shape == (100, 8, 8)
    for j in (0, 17, 99):
        np.testing.assert_array_equal(images[j], net.params["W1"][:, j].reshape(8, 8))
    images[0] = 0.0  # a copy
    assert net.params["W1"][:, 0].any()
    model = sequential()
    images = first_layer_images(model, shape=(4, 16))
    np.testing.assert_array_equal(images[5], model[0].weight[5].detach().numpy().reshape(4, 16))
    twin = T.FullyConnectedNet([30], input_dim=64, seed=0)
    np.testing.assert_array_equal(
        first_layer_images(twin)[3], twin.params["W1"][:, 3].detach().numpy().reshape(8, 8)
    )


def test_first_layer_images_refuse_a_wrong_shape_or_a_model_without_weights():
    with pytest.raises(ValueError, match=r"shape \(8, 9\) holds 72 pixels but the first layer"):
        first_layer_images(reference(), shape=(8, 9))
    with pytest.raises(TypeError, match="shape must be a tuple"):
        first_layer_images(reference(), shape=64)
    with pytest.raises(ValueError, match="shape\\[1\\] must be a positive integer"):
        first_layer_images(reference(), shape=(64, 0))
    with pytest.raises(ValueError, match="model must have a weight matrix, found none"):
        first_layer_images(InputBlind())


# ----------------------------------------------------------------------------- roughness


def test_white_noise_has_roughness_2():
    rng = np.random.default_rng(0)
    assert roughness(rng.standard_normal((1000, 8, 8))) == pytest.approx(2, abs=0.1)
    assert roughness(rng.standard_normal((64, 64))) == pytest.approx(2, abs=0.1)
    assert roughness(rng.uniform(size=(300, 8, 8, 3))) == pytest.approx(2, abs=0.1)
    assert roughness(torch.randn(500, 8, 8, generator=torch.Generator().manual_seed(0))) == (
        pytest.approx(2, abs=0.1)
    )


def test_smooth_images_have_a_small_roughness_and_a_checkerboard_about_4():
    i, j = np.mgrid[0:8, 0:8].astype(float)
    ramp = i + j  # neighbours differ by 1; the variance (ddof=1) is 2 * 5.25 * 64 / 63
    assert roughness(ramp) == pytest.approx(1 / (10.5 * 64 / 63), rel=1e-12)
    blobs = np.exp(-((i[None] - np.arange(2, 6)[:, None, None]) ** 2 + (j - 4) ** 2) / 8)
    assert roughness(blobs) < 0.4  # Gaussian blobs 2 pixels wide: 0.30
    board = (-1.0) ** (i + j)  # every neighbour differs by 2: R = 4 / (64 / 63)
    assert roughness(board) == pytest.approx(4 * 63 / 64, rel=1e-12)


def test_roughness_ignores_scale_and_offset():
    x = np.random.default_rng(1).standard_normal((20, 8, 8))
    assert roughness(3 * x + 5) == pytest.approx(roughness(x), rel=1e-12)


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros(8), ValueError, r"images must be an image \(H, W\).*got shape \(8,\)"),
        (np.zeros((1, 2, 8, 8, 3)), ValueError, "got shape \\(1, 2, 8, 8, 3\\)"),
        (np.zeros((3, 1, 8)), ValueError, "at least 2x2 pixels"),
        (np.full((3, 8, 8), np.nan), ValueError, "images contains NaN"),
        (np.ones((3, 8, 8)), ValueError, "every image is constant"),
        ([[1.0, 2.0], [3.0, 4.0]], TypeError, "images must be a NumPy array or a torch tensor"),
    ],
)
def test_bad_images_are_refused(images, error, message):
    with pytest.raises(error, match=message):
        roughness(images)
