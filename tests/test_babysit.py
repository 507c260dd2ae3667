"""nntrain.babysit: the checklist passes on healthy nets of every kind (the book's nets of
both trees, and models people train, in small, from torch.nn: a ResNet with BatchNorm2d,
six batch norms of momentum 0.01 down to 1x1 maps, an embedding of tokens, a
TransformerEncoder; they are defined in benchmarks/babysit.py, which times them) and fails
exactly the check aimed at each bug planted on purpose, with its advice (a last layer 30
times too large, a forward pass that mixes the batch, in training only too, gradients N
times too large, a penalty left out of the gradient or the loss, probabilities fed to the
loss, dead units, a model that cannot learn); each check is asked in its mode and says
which; it never changes the model or the global random generators; bad input is refused.
The learning-rate range test, the update ratio the training loop records, first-layer
images and their roughness are checked on cases whose answer is known by hand.

Small nets on the digits, one checklist per model (made once, timed, the times printed
with -s), on one torch thread: about 2 to 3 minutes on two busy cores.
"""

from __future__ import annotations

import copy
import math
import time

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

from benchmarks.babysit import DeepBatchNorm, ResNet, TokenModel, Transformer

SCALE = math.sqrt(2 / 64)  # He initialization for 64 inputs, as the chapters use it
CHECKS = [
    "initial_loss",
    "regularization_raises_loss",
    "overfit_small",
    "examples_independent",
    "learning_rate",
    "gradient_check",
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


@pytest.fixture(scope="module")
def tokens():
    """The digits split as tokens: every pixel one of the 17 grey levels 0..16."""
    return load_digits_split(seed=0)


def reference(seed=0, **kw):
    return FullyConnectedNet([100], input_dim=64, num_classes=10, seed=seed, **kw)


def twin(seed=0, **kw):
    return T.FullyConnectedNet([100], input_dim=64, num_classes=10, seed=seed, **kw)


def sequential(seed=0, outputs=10):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, outputs))


# ------------------------------------------------------------------------ broken models


class BatchCentred(nn.Module):
    """A forward pass that subtracts its batch's mean: example i's scores depend on x_j
    (in training only, with ``training_only``)."""

    def __init__(self, training_only=False):
        super().__init__()
        self.net = sequential()
        self.training_only = training_only

    def forward(self, x):
        if self.training or not self.training_only:
            x = x - x.mean(dim=0)
        return self.net(x)


class BatchCentredNet(FullyConnectedNet):
    """The same mistake in a reference net."""

    def forward(self, X, mode="test"):
        return super().forward(X - X.mean(axis=0), mode)


class TrainingCentredNet(FullyConnectedNet):
    """... in its training mode only."""

    def forward(self, X, mode="test"):
        return super().forward(X - X.mean(axis=0) if mode == "train" else X, mode)


class InputBlind(nn.Module):
    """Scores that do not depend on the input: a learnable constant per class."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, x):
        return self.bias.expand(x.shape[0], -1)


class PenaltyIgnored(FullyConnectedNet):
    """A reference net whose loss forgets the penalty (its gradient keeps it)."""

    def penalty(self):
        return 0.0


class SummedGradients(FullyConnectedNet):
    """The classic missing 1/N: gradients of the summed loss, for the loss's mean."""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        return out[0], {k: g * X.shape[0] for k, g in out[1].items()}


class PenaltyGradientMissing(FullyConnectedNet):
    """The loss has the L2 penalty, the gradient leaves it out."""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        grads = dict(out[1])
        for k in grads:
            if k.startswith("W"):
                grads[k] = grads[k] - self.reg * self.params[k]
        return out[0], grads


class TwinSummedGradients(T.FullyConnectedNet):
    """The missing 1/N in the torch twin."""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        return out[0], {k: g * X.shape[0] for k, g in out[1].items()}


class TwinPenaltyGradientMissing(T.FullyConnectedNet):
    """The torch twin whose gradient leaves the penalty out."""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        grads = {
            k: g - self.reg * self.params[k] if k.startswith("W") else g for k, g in out[1].items()
        }
        return out[0], grads


class Square(torch.autograd.Function):
    """x**2 with a hand-written backward, ``factor`` times the right one."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.save_for_backward(x)
        ctx.factor = factor
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.factor * 2 * x * grad, None


class SquareNet(nn.Module):
    """A plain module with one custom autograd Function, x**2 as its nonlinearity."""

    def __init__(self, factor=1.0):
        super().__init__()
        self.net, self.factor = sequential(), factor

    def forward(self, x):
        return self.net[2](Square.apply(self.net[0](x), self.factor) * 0.1)


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


def last_layer_30x_resnet():
    model = ResNet()
    with torch.no_grad():
        model.head.weight *= 30
    return model


def dead_reference():
    net = reference(weight_scale=SCALE)
    net.params["b1"][:] = -100.0  # every ReLU of the hidden layer off for every input
    return net


def frozen_sequential():
    model = sequential()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def probabilities():
    return nn.Sequential(sequential(), nn.Softmax(dim=1))


def frozen_running_statistics():
    """Batch normalization whose running statistics never move (momentum 0) after a layer
    with a large bias: fine in training mode, where the batch's statistics take the bias
    out, and far off in test mode, where nothing does."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 100), nn.BatchNorm1d(100, momentum=0.0), nn.ReLU(), nn.Linear(100, 10)
    )
    with torch.no_grad():
        model[0].bias.fill_(50.0)
    return model


# --------------------------------------------------------------------------- checklist

# every model below, by name: how to make it, the data it takes
MODELS = {
    "reference He": (lambda: reference(weight_scale=SCALE), "digits"),
    "reference 1e-2": (lambda: reference(), "digits"),
    "reference 1e-3 svm": (lambda: reference(weight_scale=1e-3, loss="svm", reg=0.1), "digits"),
    "reference batchnorm dropout": (
        lambda: reference(weight_scale=SCALE, normalization="batchnorm", dropout_keep_ratio=0.8),
        "digits",
    ),
    "torch twin": (twin, "digits"),
    "torch twin batchnorm": (lambda: twin(normalization="batchnorm", reg=0.01), "digits"),
    "nn.Sequential": (sequential, "digits"),
    "ResNet BatchNorm2d": (ResNet, "digits"),
    "BatchNorm momentum 0.01, 1x1 maps": (DeepBatchNorm, "digits"),
    "embedding of tokens": (TokenModel, "tokens"),
    "TransformerEncoder": (Transformer, "digits"),
    "custom autograd Function": (SquareNet, "digits"),
    "running statistics frozen": (frozen_running_statistics, "digits"),
    # broken
    "last layer 30x (nn.Sequential)": (last_layer_30x_sequential, "digits"),
    "last layer 30x (reference)": (last_layer_30x_reference, "digits"),
    "last layer 30x (ResNet)": (last_layer_30x_resnet, "digits"),
    "batch mean subtracted (torch)": (BatchCentred, "digits"),
    "batch mean subtracted (reference)": (
        lambda: BatchCentredNet([100], input_dim=64, weight_scale=SCALE, seed=0),
        "digits",
    ),
    "batch mean subtracted in training (torch)": (
        lambda: BatchCentred(training_only=True),
        "digits",
    ),
    "batch mean subtracted in training (reference)": (
        lambda: TrainingCentredNet([100], input_dim=64, weight_scale=SCALE, seed=0),
        "digits",
    ),
    "batch mean subtracted in training (ResNet)": (
        lambda: ResNet(training_only_centring=True),
        "digits",
    ),
    "embedding mixes the batch": (lambda: TokenModel(mixes=True), "tokens"),
    "TransformerEncoder batch_first=False": (lambda: Transformer(batch_first=False), "digits"),
    "gradients N times (reference)": (
        lambda: SummedGradients([100], input_dim=64, seed=0),
        "digits",
    ),
    "gradients N times (torch twin)": (
        lambda: TwinSummedGradients([100], input_dim=64, seed=0),
        "digits",
    ),
    "custom backward 2 times too large": (lambda: SquareNet(factor=2.0), "digits"),
    "penalty missing from the gradient (reference)": (
        lambda: PenaltyGradientMissing([100], input_dim=64, seed=0),
        "digits",
    ),
    "penalty missing from the gradient (torch twin)": (
        lambda: TwinPenaltyGradientMissing([100], input_dim=64, seed=0),
        "digits",
    ),
    "penalty missing from the loss": (
        lambda: PenaltyIgnored([100], input_dim=64, seed=0),
        "digits",
    ),
    "probabilities fed to the loss": (probabilities, "digits"),
    "dead ReLUs": (dead_reference, "digits"),
    "input-blind": (InputBlind, "digits"),
    "frozen": (frozen_sequential, "digits"),
}

TIMES = {}


@pytest.fixture(scope="module")
def reports(digits, tokens):
    """The report of every model of MODELS, made once (and timed) on first use."""
    made = {}

    def report(name):
        if name not in made:
            make, data = MODELS[name]
            start = time.perf_counter()
            made[name] = checklist(make(), digits if data == "digits" else tokens)
            TIMES[name] = time.perf_counter() - start
        return made[name]

    yield report
    if TIMES:
        print("\nchecklist seconds per model:")
        for name, seconds in sorted(TIMES.items(), key=lambda kv: -kv[1]):
            print(f"  {seconds:6.2f}  {name}")


# healthy models: the checks that warn (every other passes, or is n/a where it must be)
HEALTHY = {
    "reference He": {"initial_loss"},  # 3.53: scores larger than they need to be
    "reference 1e-2": set(),
    "reference 1e-3 svm": set(),
    "reference batchnorm dropout": {"initial_loss"},
    "torch twin": set(),
    "torch twin batchnorm": set(),
    "nn.Sequential": set(),
    "ResNet BatchNorm2d": set(),
    # fitted in training mode; in test mode the running statistics still lag (55%)
    "BatchNorm momentum 0.01, 1x1 maps": {"overfit_small"},
    "embedding of tokens": set(),
    "TransformerEncoder": set(),
    "custom autograd Function": set(),
}
HAND_WRITTEN = {"reference", "torch twin", "custom autograd Function"}


@pytest.mark.parametrize("name", HEALTHY)
def test_the_checklist_passes_on_healthy_nets(reports, name):
    report = reports(name)
    assert [c.name for c in report.checks] == CHECKS
    assert report.passed and not report.failures(), str(report)
    assert {c.name for c in report.warnings()} == HEALTHY[name], str(report)
    has_reg = name.startswith(("reference", "torch twin"))
    assert (report["regularization_raises_loss"].passed is None) == (not has_reg)
    hand_written = name.startswith(tuple(HAND_WRITTEN))
    assert (report["gradient_check"].passed is None) == (not hand_written), str(report)
    others = set(CHECKS) - {"regularization_raises_loss", "gradient_check"}
    assert all(report[c].passed for c in others)
    assert 0.01 < report["learning_rate"].measured < 1.0


# broken models: exactly the checks that fail, and words of the advice
BROKEN = {
    "last layer 30x (nn.Sequential)": (["initial_loss"], "last layer"),
    "last layer 30x (reference)": (["initial_loss"], "last layer"),
    "last layer 30x (ResNet)": (["initial_loss"], "last layer"),
    "batch mean subtracted (torch)": (["examples_independent"], "batch axis"),
    "batch mean subtracted (reference)": (["examples_independent"], "batch axis"),
    "batch mean subtracted in training (torch)": (["examples_independent"], "training mode"),
    "batch mean subtracted in training (reference)": (["examples_independent"], "training mode"),
    "batch mean subtracted in training (ResNet)": (["examples_independent"], "training mode"),
    "embedding mixes the batch": (["examples_independent"], "batch axis"),
    "TransformerEncoder batch_first=False": (["examples_independent"], "(sequence, batch)"),
    "gradients N times (reference)": (["gradient_check"], "divide by N"),
    "gradients N times (torch twin)": (["gradient_check"], "divide by N"),
    "custom backward 2 times too large": (["gradient_check"], "analytic / numerical is 2 "),
    "penalty missing from the gradient (reference)": (
        ["regularization_raises_loss"],
        "add reg * R'(W)",
    ),
    "penalty missing from the gradient (torch twin)": (
        ["regularization_raises_loss"],
        "add reg * R'(W)",
    ),
    "penalty missing from the loss": (["regularization_raises_loss"], "penalty"),
    "probabilities fed to the loss": (["overfit_small"], "probabilities"),
    # a net that cannot learn fails the range test too: its loss never falls
    "dead ReLUs": (["overfit_small", "learning_rate"], "dead"),
    "input-blind": (["overfit_small", "learning_rate"], "depends on the input"),
    "frozen": (["overfit_small", "learning_rate"], "requires_grad"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_net_broken_on_purpose_fails_exactly_its_check_with_advice(reports, name):
    failing, words = BROKEN[name]
    report = reports(name)
    assert [c.name for c in report.failures()] == failing, str(report)
    check = report[failing[0]]
    assert words in check.advice
    assert f"! {failing[0]}: {check.advice}" in str(report)
    assert not report.passed


def test_the_initial_loss_of_a_small_init_is_ln_c_and_of_the_hinge_c_minus_1(digits, reports):
    softmax = checklist(reference(weight_scale=1e-3), digits)["initial_loss"]
    assert softmax.measured == pytest.approx(math.log(10), abs=1e-3)
    assert softmax.verdict == "pass"  # near ln C, but the scores do depend on the input
    hinge = reports("reference 1e-3 svm")["initial_loss"]
    assert hinge.measured == pytest.approx(9.0, abs=1e-2)
    assert "C - 1 = 9" in hinge.expected


def test_a_last_layer_30x_too_large_measures_far_above_ln_c(reports):
    measured = reports("last layer 30x (nn.Sequential)")["initial_loss"].measured
    assert measured > 2 * 2 * math.log(10)  # twice the bound: not a near miss
    check = reports("last layer 30x (reference)")["initial_loss"]
    assert "scale the last layer" in check.advice and "standardized" in check.advice


def test_the_initial_loss_is_the_training_mode_loss(reports, digits):
    """Batch normalization whose running statistics have seen nothing normalizes nothing
    in test mode: the loss training starts from is the training-mode one, which the check
    measures (and it shows the test-mode one beside it)."""
    check = reports("last layer 30x (ResNet)")["initial_loss"]
    assert check.mode == "training" and "in test mode" in check.note
    model = last_layer_30x_resnet().train()
    X = torch.as_tensor(digits["X_train"][:500], dtype=torch.float32)
    y = torch.as_tensor(digits["y_train"][:500])
    with torch.no_grad():
        by_hand = nn.functional.cross_entropy(model(X), y).item()
    assert by_hand > 2 * math.log(10)
    assert check.measured == pytest.approx(by_hand, rel=0.2)  # another 1000 examples


def test_the_chapter_default_net_warns_at_3_53_and_names_the_last_layer(reports):
    check = reports("reference He")["initial_loss"]
    assert check.verdict == "warn" and check.passed
    assert check.measured == pytest.approx(3.53, abs=0.01)
    assert "1.53 times" in check.warning and "last layer" in check.warning
    assert f"? initial_loss: {check.warning}" in str(reports("reference He"))


def test_scores_that_ignore_the_input_or_are_probabilities_warn_at_initialization(reports):
    dead = reports("dead ReLUs")["initial_loss"]
    assert dead.measured == pytest.approx(math.log(10), abs=1e-9)  # exactly ln 10
    assert dead.verdict == "warn" and "does not depend on the input" in dead.warning
    probs = reports("probabilities fed to the loss")["initial_loss"]
    assert probs.verdict == "warn" and "probabilities" in probs.warning


def test_probabilities_fed_to_the_loss_stall_at_its_floor(reports):
    """max_p -ln softmax(p)_y over probabilities p is reached at p = e_y: ln(1 + (C-1)/e)."""
    check = reports("probabilities fed to the loss")["overfit_small"]
    floor = math.log(1 + 9 / math.e)
    assert f"{floor:.3g}" in check.advice
    assert check.mode == "training"


def test_the_fit_is_judged_in_training_mode(reports):
    """Six batch norms of momentum 0.01: the fit is perfect in training mode while the
    running statistics still lag behind in test mode; a pass, with a warning."""
    check = reports("BatchNorm momentum 0.01, 1x1 maps")["overfit_small"]
    assert check.passed and check.mode == "training" and check.verdict == "warn"
    assert "training accuracy 100%" in check.note
    assert float(check.note.split("test-mode accuracy ")[1].rstrip("%")) < 100
    assert "momentum" in check.warning


def test_training_mode_is_judged_and_test_mode_reported_beside_it(reports):
    """Judged in test mode, this net would fail both (initial loss 35, accuracy 10%)."""
    report = reports("running statistics frozen")
    assert report.passed and [c.name for c in report.warnings()] == ["overfit_small"]
    initial = report["initial_loss"]
    assert initial.measured < 2.9 and float(initial.note.split("in test mode ")[1]) > 10
    fit = report["overfit_small"]
    assert "training accuracy 100%" in fit.note and "test-mode accuracy 10%" in fit.note
    assert "running statistics" in fit.warning


def test_subtracting_the_batch_mean_gives_the_influence_1_over_n_minus_1(reports):
    """x_i - mean(x): d/dx_j is -1/N of the Jacobian, d/dx_i is (1 - 1/N) of it; the ratio
    of the two norms is 1/(N - 1) = 1/7 for the batch of 8."""
    check = reports("batch mean subtracted (torch)")["examples_independent"]
    assert check.measured == pytest.approx(1 / 7, rel=1e-4)
    check = reports("batch mean subtracted in training (torch)")["examples_independent"]
    assert check.measured == pytest.approx(1 / 7, rel=1e-4)
    assert "test mode 0," in check.note and check.mode == "training and test"


def test_batch_normalization_mixes_in_training_as_expected_and_is_reported(reports):
    for name in ("ResNet BatchNorm2d", "torch twin batchnorm", "reference batchnorm dropout"):
        check = reports(name)["examples_independent"]
        assert check.passed, name
        assert "batch normalization mixes the batch in training by design" in check.note
        influence = float(check.note.split("influence ")[1].split(",")[0])
        assert 1e-3 < influence < 1, name  # measured, and real
    # a torch module's training mode is still judged, its batch norms on running statistics
    assert reports("ResNet BatchNorm2d")["examples_independent"].mode == "training and test"


def test_without_a_gradient_to_the_input_inputs_are_replaced(reports):
    for name in ("embedding of tokens", "embedding mixes the batch"):
        check = reports(name)["examples_independent"]
        assert "when one input changes" in check.note, name
    assert reports("embedding mixes the batch")["examples_independent"].measured > 1e-3


def test_a_model_that_ignores_its_input_cannot_be_told_independent(reports):
    check = reports("input-blind")["examples_independent"]
    assert check.passed is None and "do not depend on the inputs" in check.note


def test_the_gradient_check_finds_the_missing_1_over_n(reports):
    """Gradients N = 8 times too large: |8n - n| / (8n + n) = 7/9 for every entry."""
    for name in ("gradients N times (reference)", "gradients N times (torch twin)"):
        check = reports(name)["gradient_check"]
        assert check.measured == pytest.approx(7 / 9, rel=1e-3), name
        assert "N = 8" in check.advice
        # the penalty's gradient is N times too large too, but that is not its bug
        assert reports(name)["regularization_raises_loss"].verdict == "warn"


def test_the_gradient_check_applies_to_hand_written_gradients_only(reports):
    assert "PyTorch's own" in reports("nn.Sequential")["gradient_check"].note
    assert "Square" in reports("custom autograd Function")["gradient_check"].note
    assert "AffineFunction" in reports("torch twin")["gradient_check"].note
    hand_written = [n for n in HEALTHY if n.startswith(tuple(HAND_WRITTEN))]
    assert len(hand_written) == 7
    healthy = [reports(n)["gradient_check"].measured for n in hand_written]
    assert max(healthy) < 1e-6


def test_a_penalty_left_out_of_the_gradient_fails_its_check_and_warns_the_gradient_check(
    reports,
):
    report = reports("penalty missing from the gradient (reference)")
    assert report["regularization_raises_loss"].measured > 0  # the loss has it
    assert (
        "does not change by the penalty's gradient" in report["regularization_raises_loss"].advice
    )
    gradient = report["gradient_check"]
    assert gradient.verdict == "warn" and "regularization off" in gradient.warning
    assert "reg off" in gradient.note


def test_a_penalty_counted_twice_fails_the_exact_rise(digits):
    class PenaltyTwice(FullyConnectedNet):
        def penalty(self):
            return 2 * super().penalty()

    check = checklist(PenaltyTwice([100], input_dim=64, seed=0), digits)
    assert check["regularization_raises_loss"].passed is False
    assert check["regularization_raises_loss"].measured > 0  # it rose, by the wrong amount


def test_every_check_states_its_mode(reports):
    report = reports("torch twin batchnorm")
    modes = {c.name: c.mode for c in report.checks}
    assert modes == {
        "initial_loss": "training",
        "regularization_raises_loss": "training",
        "overfit_small": "training",
        "examples_independent": "training and test",
        "learning_rate": "training",
        "gradient_check": "training",
    }
    assert "- initial_loss (training mode): " in str(report)


def test_the_checklist_times_per_model(reports):
    """Not an assertion of speed: every model of this file ran, and its time is printed."""
    for name in MODELS:
        reports(name)
    assert set(TIMES) == set(MODELS)


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
    with pytest.raises(TypeError, match=r"model must be a .*FullyConnectedNet \(or another model"):
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
        ({"steps": 1}, ValueError, "steps must be an integer >= 2, got 1"),
        ({"steps": 2.5}, TypeError, "steps must be an integer, got 2.5"),
        ({"smoothing": 1.0}, ValueError, "smoothing"),
        ({"divergence": 1.0}, ValueError, "divergence must be finite and > 1, got 1.0"),
        ({"update_rule": "lion"}, ValueError, "update_rule must be one of 'sgd', .* got 'lion'"),
        ({"seed": True}, TypeError, "seed must be a non-negative integer, got bool"),
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


def assert_first_ratios(net, digits):
    """One step of SGD at 0.1 on 50 examples: every parameter's ratio is 0.1 |g| / |w|."""
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


def test_the_ratio_of_a_net_is_eta_norm_g_over_norm_w_for_every_parameter(digits, tree):
    assert_first_ratios(tree.FullyConnectedNet([100], input_dim=64, seed=0), digits)


def test_the_ratio_of_a_module_is_eta_norm_g_over_norm_w_for_every_parameter(digits):
    assert_first_ratios(sequential(), digits)


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


def test_a_warning_shows_as_warn_in_both_tables_and_does_not_fail_the_report():
    report = Report(
        [
            Check("fine", True, 1.0, "1", "", note="how", mode="training"),
            Check("odd", True, 3.5, "2.3", "never shown", warning="scores <large>", mode="test"),
        ]
    )
    assert [c.verdict for c in report.checks] == ["pass", "warn"]
    assert report.passed and report.warnings() == [report["odd"]] and not report.failures()
    text = str(report)
    assert text.splitlines()[2].split()[:2] == ["odd", "warn"]
    assert "- fine (training mode): how" in text and "? odd: scores <large>" in text
    assert "never shown" not in text
    page = report.to_html()
    assert "Warning: scores &lt;large&gt;" in page and "(test mode)" in page
    assert 'class="nntrain-warn"' in page
    assert Check("failed", False, 0, "", "advice", warning="ignored").verdict == "FAIL"
