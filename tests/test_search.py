"""Tests for nntrain.search: search spaces and their samplers, grid and random search,
coarse-to-fine refinement (narrow, edge_warnings, widen), the early-stop rule, the batched
trainer against sequential training (stopped trials leaving the computation, runs resumed),
successive halving and Hyperband (their schedules against hand-computed ones, and searches
on the digits, with the batched trainer and with nntrain.train.train on either tree), the
stacked math against the reference net, and Optuna studies stored in SQLite (resumed after
an interruption, shared by two worker processes, pruned by Optuna's halving pruners).
PostgreSQL storage is tested in test_postgres.py.

The networks are small and train for a few epochs on the digits, and the Optuna studies run
a handful of trials of a tiny net, so the file takes well under a minute on two cores.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import nntrain
import numpy as np
import pytest
import torch
from nntrain.data import load_digits_split, map_inputs
from nntrain.reference.preprocessing import Standardize
from nntrain.search import (
    Choice,
    HalvingResult,
    HyperbandResult,
    IntUniform,
    LogUniform,
    SearchResult,
    TrainSpec,
    Uniform,
    batched_fit,
    create_study,
    edge_warnings,
    grid_search,
    halve,
    halving_schedule,
    hyperband,
    hyperband_schedule,
    narrow,
    optuna_objective,
    random_search,
    resume_batched,
    should_stop,
    stacked,
    successive_halving,
    suggest,
    train_batched,
    train_fit,
    widen,
)
from nntrain.train import TrainingDiverged, accuracy, train

optuna = pytest.importorskip("optuna")

SPACE = {
    "learning_rate": LogUniform(1e-5, 1e-1),
    "momentum": Uniform(0.5, 0.99),
    "width": IntUniform(10, 200),
    "activation": Choice(["relu", "tanh", "gelu"]),
}


@pytest.fixture(scope="module")
def digits():
    """The digits split, standardized with statistics of the training set."""
    raw = load_digits_split(seed=0)
    return map_inputs(raw, Standardize().fit(raw["X_train"]).transform)


@pytest.fixture
def quiet_optuna():
    """Optuna logs every trial at INFO; keep the test output short."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(before)


# --------------------------------------------------------------------------------------
# Search spaces: sampling and grids
# --------------------------------------------------------------------------------------


def test_samples_stay_in_their_ranges_and_are_plain_python_values():
    rng = np.random.default_rng(0)
    for name, dim in SPACE.items():
        values = dim.sample(rng, 2000)
        assert len(values) == 2000
        if isinstance(dim, Choice):
            assert set(values) == set(dim.options), name  # every option drawn
            continue
        assert all(dim.low <= v <= dim.high for v in values), name
        kind = int if isinstance(dim, IntUniform) else float
        assert all(type(v) is kind for v in values), name
    ints = IntUniform(3, 6).sample(rng, 2000)
    assert set(ints) == {3, 4, 5, 6}  # both ends included


def test_log_uniform_puts_the_same_share_of_samples_in_every_decade():
    n = 20_000
    samples = np.array(LogUniform(1e-5, 1e-1).sample(np.random.default_rng(1), n))
    per_decade = np.histogram(np.log10(samples), bins=[-5, -4, -3, -2, -1])[0]
    assert per_decade.sum() == n
    assert np.abs(per_decade / n - 0.25).max() < 0.015  # 4 binomial standard deviations
    # A linear range over the same bounds puts almost everything in the top decade.
    linear = np.array(Uniform(1e-5, 1e-1).sample(np.random.default_rng(1), n))
    assert np.mean(linear > 1e-2) > 0.89


def test_random_search_is_reproducible_with_a_seed_and_differs_with_another():
    a = random_search(SPACE, 10, np.random.default_rng(0))
    b = random_search(SPACE, 10, np.random.default_rng(0))
    c = random_search(SPACE, 10, np.random.default_rng(1))
    assert a == b
    assert a != c
    assert random_search(SPACE, 10, 0) == a  # an int seed is np.random.default_rng(seed)
    assert LogUniform(1, 2).sample(np.random.default_rng(5), 3) == LogUniform(1, 2).sample(
        np.random.default_rng(5), 3
    )


def test_grids_are_cell_centres_on_their_scale():
    log = LogUniform(1e-4, 1.0).grid(2)
    assert log == pytest.approx([1e-3, 1e-1], rel=1e-12)  # not the two ends of the range
    assert LogUniform(1e-4, 1e-1).grid(3) == pytest.approx([10**-3.5, 10**-2.5, 10**-1.5])
    assert Uniform(0.0, 1.0).grid(4) == [0.125, 0.375, 0.625, 0.875]
    assert IntUniform(0, 10).grid(3) == [0, 5, 10]
    assert IntUniform(1, 3).grid(10) == [1, 2, 3]  # distinct integers only
    assert Choice(["a", "b", "c"]).grid(2) == ["a", "b", "c"]  # every option, whatever n
    # a single point is the centre of the range, on its scale
    assert LogUniform(1e-4, 1.0).grid(1) == pytest.approx([1e-2])
    assert Uniform(-1.0, 3.0).grid(1) == [1.0]
    assert IntUniform(0, 10).grid(1) == [5]
    assert all(type(v) is float for v in log)


def test_grid_and_random_search_return_the_same_trial_format():
    grid = grid_search(SPACE, 3)
    rand = random_search(SPACE, 7, np.random.default_rng(0))
    assert len(grid) == 3 * 3 * 3 * 3  # 3 points per range, the Choice's 3 options
    assert len(rand) == 7
    for trial in grid + rand:
        assert list(trial) == list(SPACE)
        assert type(trial["learning_rate"]) is float and type(trial["momentum"]) is float
        assert type(trial["width"]) is int
        assert trial["activation"] in ("relu", "tanh", "gelu")
    first = {"learning_rate": LogUniform(1e-5, 1e-1).grid(3)[0], "momentum": 0.5 + 0.49 / 6}
    assert grid[0] == pytest.approx({**first, "width": 10, "activation": "relu"})
    assert grid[1]["activation"] == "tanh"  # the last dimension varies fastest
    assert len({tuple(t.values()) for t in grid}) == len(grid)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: LogUniform(1.0, 1.0), ValueError, "low < high"),
        (lambda: Uniform(2.0, 1.0), ValueError, "low < high"),
        (lambda: IntUniform(5, 5), ValueError, "low < high"),
        (lambda: LogUniform(0.0, 1.0), ValueError, "positive bounds"),
        (lambda: LogUniform(-1e-3, 1.0), ValueError, "positive bounds"),
        (lambda: Uniform(float("nan"), 1.0), ValueError, "finite"),
        (lambda: LogUniform(1e-3, float("inf")), ValueError, "finite"),
        (lambda: Uniform("0", 1.0), TypeError, "real number"),
        (lambda: IntUniform(1.5, 3), TypeError, "integer bounds"),
        (lambda: IntUniform(1, 3.0), TypeError, "integer bounds"),
        (lambda: Choice([]), ValueError, "at least one option"),
        (lambda: Choice(["relu", "tanh", "relu"]), ValueError, "distinct"),
        (lambda: Choice("relu"), TypeError, "sequence of options"),
    ],
)
def test_bad_dimensions_are_refused_with_a_clear_message(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_search_arguments_are_refused():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        grid_search(SPACE, 0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        random_search(SPACE, 3, np.random.RandomState(0))
    with pytest.raises(ValueError, match="at least one hyperparameter"):
        random_search({}, 3, 0)
    with pytest.raises(TypeError, match=r"space\['lr'\] must be a LogUniform"):
        grid_search({"lr": (1e-3, 1e-1)}, 3)
    with pytest.raises(TypeError, match="space must be a dict"):
        grid_search([LogUniform(1e-3, 1e-1)], 3)


# --------------------------------------------------------------------------------------
# Coarse to fine: narrow, edge_warnings, widen
# --------------------------------------------------------------------------------------


def score(trial):
    """A made-up validation score: best at learning rate 1e-3 and momentum 0.9, and with
    tanh; the width does not matter."""
    return (
        -abs(math.log10(trial["learning_rate"]) + 3)
        - 5 * abs(trial["momentum"] - 0.9)
        + (0.5 if trial["activation"] == "tanh" else 0)
    )


def test_narrow_spans_the_best_trials_inside_the_old_ranges():
    trials = random_search(SPACE, 200, np.random.default_rng(0))
    scores = [score(t) for t in trials]
    new = narrow(SPACE, trials, scores, keep=0.1)
    best = sorted(trials, key=score, reverse=True)[:20]
    assert set(new) == set(SPACE)
    for name in ("learning_rate", "momentum", "width"):
        old, dim = SPACE[name], new[name]
        assert type(dim) is type(old)
        assert old.low <= dim.low < dim.high <= old.high  # never outside the old range
        assert all(dim.low <= t[name] <= dim.high for t in best)  # every best trial inside
    lr = new["learning_rate"]
    assert lr.low < 1e-3 < lr.high
    assert math.log10(lr.high / lr.low) < 2.5  # from 4 decades to a couple
    assert new["momentum"].high - new["momentum"].low < 0.3
    assert new["activation"] == Choice(
        [o for o in SPACE["activation"].options if any(t["activation"] == o for t in best)]
    )
    assert SPACE["learning_rate"] == LogUniform(1e-5, 1e-1)  # the input is left alone


def test_narrow_pads_in_log_space_and_stops_at_the_edge():
    space = {"lr": LogUniform(1e-6, 1.0)}
    trials = [{"lr": 1e-6}, {"lr": 1e-5}, {"lr": 1e-2}, {"lr": 1e-1}]
    new = narrow(space, trials, [4.0, 3.0, 1.0, 0.0], keep=0.5)
    # best two: 1e-6 and 1e-5, one decade apart; padded by 10% of the span in log space, or
    # 5% of the old range's (0.3 decade) if that is more; clipped at the old low edge
    assert new["lr"].low == 1e-6
    assert new["lr"].high == pytest.approx(1e-5 * 10**0.3, rel=1e-9)
    # lower is better: the other two
    new = narrow(space, trials, [4.0, 3.0, 1.0, 0.0], keep=0.5, higher_is_better=False)
    assert new["lr"].low == pytest.approx(1e-2 / 10**0.3, rel=1e-9)
    assert new["lr"].high == pytest.approx(1e-1 * 10**0.3, rel=1e-9)


def test_narrow_ranks_nan_scores_last_and_keeps_at_least_one_trial():
    space = {"lr": LogUniform(1e-4, 1.0), "act": Choice(["relu", "tanh"])}
    trials = [{"lr": 0.5, "act": "relu"}, {"lr": 1e-3, "act": "tanh"}]
    new = narrow(space, trials, [float("nan"), 0.2], keep=0.01)
    assert new["lr"].low < 1e-3 < new["lr"].high < 0.5
    assert new["act"] == Choice(["tanh"])
    new = narrow({"w": IntUniform(1, 100)}, [{"w": 50}], [1.0])
    assert new["w"].low < 50 < new["w"].high and type(new["w"].low) is int


def test_narrow_refuses_bad_input():
    trials = random_search(SPACE, 5, 0)
    with pytest.raises(ValueError, match="one number per trial"):
        narrow(SPACE, trials, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"keep must be in \(0, 1\]"):
        narrow(SPACE, trials, [1.0] * 5, keep=0)
    with pytest.raises(ValueError, match="no value for"):
        narrow(SPACE, [{"learning_rate": 1e-3}] * 5, [1.0] * 5)
    with pytest.raises(ValueError, match="every score is NaN"):
        narrow(SPACE, trials, [float("nan")] * 5)
    with pytest.raises(ValueError, match="non-empty list"):
        narrow(SPACE, [], [])


def test_edge_warnings_measure_the_distance_to_an_edge_on_the_range_scale():
    assert (
        edge_warnings(
            SPACE, {"learning_rate": 1e-3, "momentum": 0.7, "width": 100, "activation": "relu"}
        )
        == []
    )
    # 0.05 is at 0.9 of [1e-5, 1e-1] in log space, but at 0.5 of it on a linear scale
    warnings = edge_warnings(
        SPACE, {"learning_rate": 0.05, "momentum": 0.7, "width": 100, "activation": "relu"}
    )
    assert len(warnings) == 1
    assert "learning_rate" in warnings[0] and "high edge" in warnings[0]
    assert "widen(space, 'learning_rate', edge='high')" in warnings[0]
    assert edge_warnings({"lr": Uniform(1e-5, 1e-1)}, {"lr": 0.05}) == []
    # near the low edge of two ranges; a Choice has no edge
    warnings = edge_warnings(
        SPACE, {"learning_rate": 1.5e-5, "momentum": 0.51, "width": 100, "activation": "gelu"}
    )
    assert [w.split(" =")[0] for w in warnings] == ["learning_rate", "momentum"]
    assert all("low edge" in w for w in warnings)
    # outside the range, and a margin of 0 warns only there
    outside = edge_warnings({"m": Uniform(0.5, 0.99)}, {"m": 0.995}, margin=0)
    assert len(outside) == 1 and "outside the range" in outside[0]
    assert edge_warnings({"m": Uniform(0.5, 0.99)}, {"m": 0.98}, margin=0) == []


def test_edge_warnings_refuse_bad_input():
    with pytest.raises(ValueError, match=r"margin must be in \[0, 0.5\), got 0.5"):
        edge_warnings(SPACE, random_search(SPACE, 1, 0)[0], margin=0.5)
    with pytest.raises(ValueError, match="no value for"):
        edge_warnings(SPACE, {"learning_rate": 1e-3})
    with pytest.raises(ValueError, match="must be finite and > 0"):
        edge_warnings({"lr": LogUniform(1e-3, 1.0)}, {"lr": 0.0})


def test_widen_moves_the_edge_where_the_best_value_sits():
    space = {
        "lr": LogUniform(1e-4, 1e-2),
        "m": Uniform(0.5, 0.9),
        "w": IntUniform(10, 20),
        "act": Choice(["relu"]),
    }
    assert widen(space, "lr", edge="high")["lr"] == LogUniform(1e-4, 1e-1)
    assert widen(space, "lr", edge="low")["lr"] == LogUniform(1e-5, 1e-2)
    assert widen(space, "lr", 100)["lr"] == LogUniform(1e-6, 1.0)  # both edges by default
    m = widen(space, "m", 2, edge="low")["m"]  # the width doubles, beyond the low edge
    assert (m.low, m.high) == pytest.approx((0.1, 0.9))
    m = widen(space, "m", 3)["m"]
    assert (m.low, m.high) == pytest.approx((0.1, 1.3))
    assert widen(space, "w", 1.55, edge="high")["w"] == IntUniform(10, 26)  # rounded outward
    widened = widen(space, "lr", edge="high")
    assert widened["m"] is space["m"] and space["lr"] == LogUniform(1e-4, 1e-2)
    with pytest.raises(ValueError, match="Choice, which has no edge"):
        widen(space, "act")
    with pytest.raises(KeyError, match="not a hyperparameter"):
        widen(space, "dropout")
    with pytest.raises(ValueError, match="factor must be finite and > 1"):
        widen(space, "lr", 1)
    with pytest.raises(ValueError, match="edge must be"):
        widen(space, "lr", edge="top")


# --------------------------------------------------------------------------------------
# The early-stop rule
# --------------------------------------------------------------------------------------


def test_should_stop_when_the_cost_triples_or_is_not_finite():
    assert not should_stop([2.3])
    assert not should_stop([2.0, 1.0, 6.0])  # exactly 3 times: not yet
    assert should_stop([2.0, 1.0, 6.01])
    assert should_stop([2.3, float("nan")])
    assert should_stop([2.3, float("inf")])
    assert should_stop([float("nan")])
    assert should_stop([1.0, 2.5], factor=2) and not should_stop([1.0, 2.5], factor=3)
    assert should_stop(np.array([1.0, 4.0]))
    with pytest.raises(ValueError, match="at least one cost"):
        should_stop([])
    with pytest.raises(ValueError, match="factor"):
        should_stop([1.0], factor=0)


# --------------------------------------------------------------------------------------
# Many trials at once
# --------------------------------------------------------------------------------------

HIDDEN = [32, 16]
BATCHED = dict(hidden_dims=HIDDEN, epochs=3, batch_size=64, momentum=0.9, seed=3)
TRIALS = [
    {"learning_rate": 0.02, "reg": 1e-3, "weight_scale": 0.1},
    {"learning_rate": 0.005, "reg": 0.0, "weight_scale": 0.2},
    {"learning_rate": 0.05, "reg": 1e-2, "weight_scale": 0.05},
    {"learning_rate": 0.01},  # reg and weight_scale take their defaults, 0 and 1e-2
]


def sequential(data, trial, *, hidden_dims, epochs, batch_size, momentum, seed):
    """The trial trained by nntrain.train.train, as the batched trainer promises to."""
    trial = {"reg": 0.0, "weight_scale": 1e-2, **trial}
    net = nntrain.FullyConnectedNet(
        hidden_dims,
        input_dim=64,
        num_classes=10,
        weight_scale=trial["weight_scale"],
        reg=trial["reg"],
        seed=seed,
    )
    hist = train(
        net,
        data,
        learning_rate=trial["learning_rate"],
        momentum=momentum,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
        keep_best=False,
    )
    return net, hist


@pytest.fixture(scope="module")
def batched(digits):
    return train_batched(digits, TRIALS, device="cpu", **BATCHED)


def test_batched_trials_match_sequential_training_in_float64(digits, batched):
    assert len(batched) == len(TRIALS)
    for trial, result in zip(TRIALS, batched):
        net, hist = sequential(digits, trial, **BATCHED)
        assert not result.stopped and result.stop_iteration is None
        assert list(result.params) == list(net.params)  # W1, b1, W2, b2, W3, b3
        for name, value in net.params.items():
            assert result.params[name].dtype == np.float64
            np.testing.assert_allclose(
                result.params[name], value, rtol=1e-6, atol=1e-8, err_msg=name
            )
        np.testing.assert_allclose(result.history.val_acc, hist.val_acc, atol=1e-6)
        np.testing.assert_allclose(result.history.train_acc, hist.train_acc, atol=1e-6)
        np.testing.assert_allclose(result.history.val_loss, hist.val_loss, rtol=1e-6)
        np.testing.assert_allclose(result.history.loss, hist.loss, rtol=1e-6)
        assert len(result.history.loss) == 3 * math.ceil(len(digits["y_train"]) / 64)
        assert result.history.best_epoch == hist.best_epoch
    assert batched[3].trial == {"learning_rate": 0.01, "reg": 0.0, "weight_scale": 0.01}


def test_a_trial_result_gives_back_its_trained_net(digits, batched):
    result = batched[0]
    net = result.net()
    assert isinstance(net, nntrain.FullyConnectedNet) and net.reg == TRIALS[0]["reg"]
    assert accuracy(net, digits["X_val"], digits["y_val"]) == result.history.val_acc[-1]
    assert result.best_val_acc == max(result.history.val_acc)
    net.params["W1"][...] = 0  # a copy: the result keeps its parameters
    assert result.params["W1"].any()


def test_diverging_trials_stop_and_do_not_disturb_the_others(digits, batched):
    bad = [
        {"learning_rate": 50.0, "weight_scale": 0.1},  # explodes within a few steps
        {"learning_rate": 0.01, "weight_scale": 1e300},
    ]  # scores overflow: NaN at once
    mixed = train_batched(
        digits, [TRIALS[0], bad[0], TRIALS[1], bad[1], TRIALS[2]], device="cpu", **BATCHED
    )
    for result, alone in zip([mixed[0], mixed[2], mixed[4]], batched):
        assert not result.stopped
        for name in alone.params:
            np.testing.assert_allclose(
                result.params[name], alone.params[name], rtol=1e-12, atol=1e-15
            )
            assert np.isfinite(result.params[name]).all()
        assert result.history.loss == pytest.approx(alone.history.loss, rel=1e-12)
        assert result.history.val_acc == alone.history.val_acc

    exploded, nan = mixed[1], mixed[3]
    for result in (exploded, nan):
        assert result.stopped and result.stop_reason.startswith("stopped at iteration")
        loss = result.history.loss
        assert len(loss) == result.stop_iteration
        assert should_stop(loss)  # the rule holds at the stop and not before
        assert not any(should_stop(loss[:i]) for i in range(1, len(loss)))
    assert 1 < exploded.stop_iteration < 20 and "exceeds 3 times" in exploded.stop_reason
    assert exploded.history.val_acc == []  # stopped within the first epoch
    assert np.isfinite(exploded.params["W1"]).all()  # the parameters before the stop
    assert nan.stop_iteration == 1 and "not finite" in nan.stop_reason
    assert math.isnan(nan.best_val_acc) and nan.history.best_epoch == 0


def test_a_trial_that_stops_later_keeps_its_completed_epochs(digits):
    """Learning rates high enough to blow up after an epoch or two: the epochs completed
    before the stop are reported, and the stop comes where train() with the same rule
    (max_loss_ratio=3) raises TrainingDiverged."""
    rates = [0.3, 0.6, 1.2]
    results = train_batched(
        digits,
        [{"learning_rate": r, "weight_scale": 0.1} for r in rates],
        hidden_dims=[32],
        epochs=4,
        batch_size=64,
        seed=0,
        device="cpu",
    )
    steps = math.ceil(len(digits["y_train"]) / 64)
    assert [r.stopped for r in results] == [False, True, True]
    assert len(results[0].history.val_acc) == 4
    late = results[1]
    assert len(late.history.val_acc) == (late.stop_iteration - 1) // steps >= 1
    net = nntrain.FullyConnectedNet([32], input_dim=64, num_classes=10, weight_scale=0.1, seed=0)
    with pytest.raises(TrainingDiverged) as caught:
        train(net, digits, learning_rate=0.6, batch_size=64, epochs=4, seed=0, max_loss_ratio=3.0)
    assert caught.value.iteration == late.stop_iteration
    np.testing.assert_allclose(late.history.loss, caught.value.history.loss, rtol=1e-6)
    assert late.history.val_acc == pytest.approx(caught.value.history.val_acc, abs=1e-6)


def assert_same_run(result, expected):
    """Two TrialResults of one trial record the same run, to rounding (all but the time)."""
    assert result.trial == expected.trial
    assert (result.stopped, result.stop_iteration) == (expected.stopped, expected.stop_iteration)
    assert result.stop_reason == expected.stop_reason
    for name in expected.params:
        np.testing.assert_allclose(
            result.params[name], expected.params[name], rtol=1e-12, atol=1e-15, err_msg=name
        )
    assert result.history.loss == pytest.approx(expected.history.loss, rel=1e-12, nan_ok=True)
    assert result.history.val_acc == expected.history.val_acc
    assert result.history.train_acc == expected.history.train_acc
    assert result.history.val_loss == pytest.approx(expected.history.val_loss, rel=1e-10)
    assert result.history.best_epoch == expected.history.best_epoch


#: Trials that stop under BATCHED: NaN at once, within a few iterations, in the second
#: epoch, in the third (17 iterations per epoch).
STOPPING = [
    {"learning_rate": 0.01, "weight_scale": 1e300},
    {"learning_rate": 50.0, "weight_scale": 0.1},
    {"learning_rate": 0.6, "weight_scale": 0.1},
    {"learning_rate": 0.4, "weight_scale": 0.1},
]


def test_stopped_trials_leave_the_computation_without_changing_any_result(digits, batched):
    """Stopped trials are taken out of the stacks: the trials that go on get what they get
    without them, and each stopped trial keeps what it had recorded, as when run alone."""
    order = [STOPPING[0], TRIALS[0], STOPPING[1], TRIALS[1], STOPPING[2], TRIALS[2]]
    order += [STOPPING[3], TRIALS[3]]
    mixed = train_batched(digits, order, device="cpu", **BATCHED)
    assert [r.trial["learning_rate"] for r in mixed] == [t["learning_rate"] for t in order]
    for result, alone in zip(mixed[1::2], batched):
        assert not result.stopped
        assert_same_run(result, alone)
    stops = []
    for result, trial in zip(mixed[::2], STOPPING):
        assert result.stopped
        assert_same_run(result, train_batched(digits, [trial], device="cpu", **BATCHED)[0])
        stops.append((result.stop_iteration, len(result.history.val_acc)))
    assert stops[0] == (1, 0) and stops[1][0] < 17 and stops[1][1] == 0
    assert 17 < stops[2][0] <= 34 and stops[2][1] == 1  # one epoch completed
    assert 34 < stops[3][0] <= 51 and stops[3][1] == 2
    # every trial stopped: the run ends there, and still reports each in order
    gone = train_batched(digits, STOPPING[1::-1], device="cpu", **BATCHED)
    assert_same_run(gone[0], mixed[2])
    assert_same_run(gone[1], mixed[0])


def test_resuming_gives_what_one_longer_run_gives(digits):
    trials = [TRIALS[0], STOPPING[3], STOPPING[1], TRIALS[2]]
    once = train_batched(digits, trials, device="cpu", **dict(BATCHED, epochs=4))
    short = train_batched(digits, trials, device="cpu", **dict(BATCHED, epochs=1))
    assert [r.stopped for r in short] == [False, False, True, False]
    resumed = resume_batched(digits, resume_batched(digits, short, epochs=2), epochs=4)
    for result, expected in zip(resumed, once):
        assert_same_run(result, expected)
    assert resumed[1].stopped and resumed[1].stop_iteration > 34  # stopped in a resumed epoch
    assert resumed[2] is short[2]  # stopped before: returned as it was
    assert short[0].history.val_acc == once[0].history.val_acc[:1]  # the input is unchanged
    # a subset resumes alone, and a result's net is the resumed one
    (alone,) = resume_batched(digits, [short[3]], epochs=4)
    assert_same_run(alone, once[3])
    assert accuracy(alone.net(), digits["X_val"], digits["y_val"]) == once[3].history.val_acc[-1]


def test_resume_refuses_what_it_cannot_continue(digits):
    short = train_batched(digits, TRIALS[:2], device="cpu", **dict(BATCHED, epochs=1))
    longer = resume_batched(digits, short[:1], epochs=2)
    other = train_batched(digits, TRIALS[:1], device="cpu", **dict(BATCHED, epochs=1, seed=4))
    with pytest.raises(ValueError, match="epochs must be more than the 1 epochs"):
        resume_batched(digits, short, epochs=1)
    with pytest.raises(ValueError, match=r"same number of epochs, got \[1, 2\]"):
        resume_batched(digits, [short[1], longer[0]], epochs=3)
    with pytest.raises(ValueError, match="same shared arguments"):
        resume_batched(digits, [short[0], other[0]], epochs=2)
    with pytest.raises(ValueError, match="data must be the data the results were trained on"):
        resume_batched(dict(digits, X_val=digits["X_val"][:50], y_val=digits["y_val"][:50]),
                       short, epochs=2)  # fmt: skip
    with pytest.raises(TypeError, match="results must be a non-empty list of TrialResults"):
        resume_batched(digits, short[0], epochs=2)
    with pytest.raises(TypeError, match=r"results\[0\] must be a TrialResult returned by"):
        resume_batched(digits, [TRIALS[0]], epochs=2)
    with pytest.raises(ValueError, match=r"non-empty list of TrialResults, got \[\]"):
        resume_batched(digits, [], epochs=2)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        resume_batched(digits, short, epochs=0)


#: What train_batched then resume_batched gave for STOPPING[1], STOPPING[3] and TRIALS[0]
#: under BATCHED (1 epoch, resumed to 3) at 5489495, before the stacked math moved to
#: nntrain.search.stacked (issue 33): the iteration that stopped each trial, its validation
#: accuracies, its last loss, its last validation loss and the sum of |parameters|.
RECORDED_RESUMED = [
    (2, [], 41.55122721572573, None, 537.098932600633),
    (51, [0.7583333333333333, 0.7361111111111112], 7.353801422799547, 7.268771290287192,
     1895.2916893385939),
    (None, [0.3111111111111111, 0.425, 0.45], 1.4475330154876016, 1.5648925475732407,
     242.99970654158636),
]  # fmt: skip


def test_batched_results_are_those_recorded_before_the_refactor(digits):
    trials = [STOPPING[1], STOPPING[3], TRIALS[0]]
    short = train_batched(digits, trials, device="cpu", **dict(BATCHED, epochs=1))
    for result, recorded in zip(resume_batched(digits, short, epochs=3), RECORDED_RESUMED):
        stop, val_acc, loss, val_loss, size = recorded
        assert (result.stop_iteration, result.history.val_acc) == (stop, val_acc)
        assert result.history.loss[-1] == pytest.approx(loss, rel=1e-10)
        assert result.history.val_loss[-1:] == pytest.approx([val_loss] if val_loss else [])
        params_size = sum(np.abs(value).sum() for value in result.params.values())
        assert params_size == pytest.approx(size, rel=1e-10)


def test_stacked_nets_compute_what_the_reference_net_computes(digits):
    """The math of nntrain.search.stacked, three trials at once, against
    nntrain.reference.FullyConnectedNet's loss and gradients for each."""
    scales, regs = [0.01, 0.1, 0.5], [0.0, 1e-3, 0.1]
    Ws, bs = stacked.initial_parameters([64, 12, 10], scales, 4, "cpu", torch.float64)
    X, y = digits["X_train"][:30], digits["y_train"][:30]
    loss, dWs, dbs = stacked.loss_and_grads(
        Ws, bs, torch.tensor(regs, dtype=torch.float64), torch.from_numpy(X),
        torch.from_numpy(y).long(),
    )  # fmt: skip
    for k, (scale, reg) in enumerate(zip(scales, regs)):
        net = nntrain.FullyConnectedNet([12], 64, 10, weight_scale=scale, reg=reg, seed=4)
        ref_loss, grads = net.loss(X, y)
        assert loss[k].item() == pytest.approx(ref_loss, rel=1e-12)
        for i, (W, dW, db) in enumerate(zip(Ws, dWs, dbs), start=1):
            np.testing.assert_array_equal(W[k].numpy(), net.params[f"W{i}"])
            np.testing.assert_allclose(dW[k].numpy(), grads[f"W{i}"], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(db[k].numpy(), grads[f"b{i}"], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "trials, error, message",
    [
        ([], ValueError, r"trials must be a non-empty list of trial dicts, got \[\]"),
        ([{"learning_rate": 0.01, "dropout": 0.5}], ValueError, r"unknown keys \['dropout'\]"),
        ([{"learning_rate": -0.01}], ValueError, "learning_rate'\\] must be finite and > 0"),
        ([{"reg": float("nan")}], ValueError, "reg'\\] must be finite"),
        ({"learning_rate": 0.01}, TypeError, "trials must be a non-empty list of trial dicts"),
        ([0.01], TypeError, r"trials\[0\] must be a dict"),
    ],
)
def test_train_batched_refuses_bad_trials(digits, trials, error, message):
    with pytest.raises(error, match=message):
        train_batched(digits, trials, hidden_dims=[8], epochs=1, batch_size=50, device="cpu")


def test_train_batched_refuses_bad_arguments(digits):
    ok = [{"learning_rate": 0.01}]
    with pytest.raises(ValueError, match="momentum must be in"):
        train_batched(digits, ok, hidden_dims=[8], epochs=1, batch_size=50, momentum=1.0)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_batched(digits, ok, hidden_dims=[8], epochs=0, batch_size=50)
    with pytest.raises(TypeError, match="hidden_dims must be a list"):
        train_batched(digits, ok, hidden_dims=8, epochs=1, batch_size=50)
    with pytest.raises(ValueError, match="X_val is missing"):
        train_batched(
            {k: v for k, v in digits.items() if k != "X_val"},
            ok,
            hidden_dims=[8],
            epochs=1,
            batch_size=50,
        )
    with pytest.raises(TypeError, match="dtype must be a floating-point torch.dtype"):
        train_batched(digits, ok, hidden_dims=[8], epochs=1, batch_size=50, dtype=torch.int32)


@pytest.mark.gpu
def test_train_batched_on_cuda_matches_the_cpu(digits, batched):
    on_gpu = train_batched(digits, TRIALS, device="cuda", **BATCHED)
    for result, cpu in zip(on_gpu, batched):
        for name in cpu.params:
            np.testing.assert_allclose(result.params[name], cpu.params[name], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(result.history.val_acc, cpu.history.val_acc, atol=1e-6)
    fast = train_batched(digits, TRIALS, device="cuda", dtype=torch.float32, **BATCHED)
    assert fast[0].params["W1"].dtype == np.float32
    assert abs(fast[0].history.val_acc[-1] - batched[0].history.val_acc[-1]) < 0.05


# --------------------------------------------------------------------------------------
# Successive halving and Hyperband
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, r, R, eta, rungs",
    [
        (27, 1, 27, 3, [(27, 1), (9, 3), (3, 9), (1, 27)]),  # R/r a power of eta
        (30, 1, 27, 3, [(30, 1), (10, 3), (3, 9), (1, 27)]),  # floor(30 / 3^i)
        (4, 1, 27, 3, [(4, 1), (1, 3)]),  # one remains after the second rung
        (2, 1, 27, 3, [(2, 1), (1, 3)]),  # floor(2 / 3) = 0, but one is kept
        (1, 1, 27, 3, [(1, 1)]),
        (10, 1, 10, 3, [(10, 1), (3, 3), (1, 10)]),  # 10/9, 10/3, 10 floored
        (100, 2, 20, 3, [(100, 2), (33, 6), (11, 20)]),  # the budget reaches R first
        (8, 1, 8, 2, [(8, 1), (4, 2), (2, 4), (1, 8)]),
        (16, 1, 7, 2, [(16, 1), (8, 3), (4, 7)]),  # 7/4, 7/2, 7 floored
        (5, 4, 4, 3, [(5, 4)]),  # r = R: no halving
        (9, 3, 8, 3, [(9, 8)]),  # R < r eta: one rung, at R
    ],
)
def test_halving_schedule_against_hand_computed_rungs(n, r, R, eta, rungs):
    assert halving_schedule(n, r, R, eta) == rungs


def test_hyperband_schedule_against_hand_computed_brackets():
    # Li et al. (2018), Table 1: R = 81, eta = 3
    assert hyperband_schedule(1, 81, 3) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    # s_max = 2; n = ceil(3/3 * 9) = 9, ceil(3/2 * 3) = 5, 3; r_s = 9/9, 9/3, 9
    assert hyperband_schedule(1, 9) == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    # R/r not a power of eta: r_s = floor(20 / 9) = 2, floor(20 / 3) = 6, 20
    assert hyperband_schedule(2, 20) == [[(9, 2), (3, 6), (1, 20)], [(5, 6), (1, 20)], [(3, 20)]]
    # eta = 2, R = 8: s_max = 3, n = ceil(4/(s+1) 2^s) = 8, 6, 4, 4
    assert hyperband_schedule(1, 8, 2) == [
        [(8, 1), (4, 2), (2, 4), (1, 8)],
        [(6, 2), (3, 4), (1, 8)],
        [(4, 4), (2, 8)],
        [(4, 8)],
    ]
    assert hyperband_schedule(5, 5) == [[(1, 5)]]


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((9, 1, 9, 1), ValueError, "eta must be an integer >= 2, got 1"),
        ((9, 1, 9, 2.5), TypeError, "eta must be an integer, got 2.5"),
        ((9, 3, 2, 3), ValueError, r"max_epochs must be >= min_epochs \(3\), got max_epochs=2"),
        ((0, 1, 9, 3), ValueError, "n must be a positive integer, got 0"),
        ((9, 0, 9, 3), ValueError, "min_epochs must be a positive integer, got 0"),
        ((9, 1, 9.0, 3), TypeError, "max_epochs must be a positive integer, got 9.0"),
    ],
)
def test_schedules_refuse_bad_budgets(args, error, message):
    with pytest.raises(error, match=message):
        halving_schedule(*args)
    if args[0] > 0:
        with pytest.raises(error, match=message):
            hyperband_schedule(*args[1:])


HALVING = dict(hidden_dims=[16], batch_size=64, seed=0, device="cpu")


def test_successive_halving_keeps_the_best_third_and_resumes_it(digits):
    """A toy search whose answer is known: a learning rate too small to learn in a few
    epochs and one that diverges at once lose in the first rung to reasonable ones."""
    trials = [{"learning_rate": 1e-6}, {"learning_rate": 50.0, "weight_scale": 0.1}]
    trials += random_search({"learning_rate": LogUniform(1e-2, 0.3)}, 7, 0)
    search = successive_halving(digits, trials, min_epochs=1, max_epochs=9, eta=3, **HALVING)
    rungs = search.rungs
    assert [(len(r.trials), r.epochs) for r in rungs] == [(9, 1), (3, 3), (1, 9)]
    assert rungs[0].trials == list(range(9))
    for before, after in zip(rungs, rungs[1:]):
        score = dict(zip(before.trials, np.nan_to_num(before.scores, nan=-1.0)))
        dropped = set(before.trials) - set(after.trials)
        assert set(after.trials) < set(before.trials)
        assert min(score[k] for k in after.trials) >= max(score[k] for k in dropped)
    assert search.results[1].stopped and math.isnan(rungs[0].scores[1])
    assert 0 not in rungs[1].trials and 1 not in rungs[1].trials
    for rung in rungs:  # each score is the validation accuracy after the rung's epochs
        for k, value in zip(rung.trials, rung.scores):
            if not search.results[k].stopped:
                assert search.results[k].history.val_acc[rung.epochs - 1] == value
    last_rung = {k: r.epochs for r in rungs for k in r.trials}
    assert [len(r.history.val_acc) for r in search.results] == [
        0 if r.stopped else last_rung[k] for k, r in enumerate(search.results)
    ]
    assert search.winner == rungs[-1].trials[0] and search.best is search.results[search.winner]
    assert search.epochs_spent == 9 * 1 + 3 * (3 - 1) + 1 * (9 - 3)
    # resumed from rung to rung: the winner is what training it for 9 epochs at once gives
    (alone,) = train_batched(digits, [trials[search.winner]], epochs=9, **HALVING)
    assert_same_run(search.best, alone)
    assert search.trials[search.winner] == alone.trial
    assert search.best.history.val_acc[-1] > 0.9
    # the scores and the winner successive_halving gave at 5489495, before it took a fit
    np.testing.assert_equal([rung.scores for rung in rungs], RECORDED_RUNGS)
    assert search.winner == 7


#: The scores of successive_halving's rungs at 5489495, in the test above.
RECORDED_RUNGS = [
    [0.07777777777777778, math.nan, 0.3, 0.18611111111111112, 0.15833333333333333,
     0.1527777777777778, 0.44166666666666665, 0.5361111111111111, 0.2388888888888889],
    [0.8638888888888889, 0.9361111111111111, 0.9444444444444444],
    [0.9472222222222222],
]  # fmt: skip


def test_hyperband_runs_its_brackets_on_fresh_configurations(digits):
    space = {"learning_rate": LogUniform(1e-3, 1.0)}
    search = hyperband(digits, space, min_epochs=1, max_epochs=9, rng=0, **HALVING)
    assert [[(len(r.trials), r.epochs) for r in b.rungs] for b in search.brackets] == (
        hyperband_schedule(1, 9)
    )
    rng = np.random.default_rng(0)
    drawn = [t for n in (9, 5, 3) for t in random_search(space, n, rng)]
    assert [t["learning_rate"] for t in search.trials] == [t["learning_rate"] for t in drawn]
    assert search.epochs_spent == (9 + 3 * 2 + 6) + (5 * 3 + 6) + 3 * 9 == 69
    assert search.epochs_spent == sum(b.epochs_spent for b in search.brackets)
    finals = [b.best.history.val_acc[-1] for b in search.brackets]
    assert all(len(b.best.history.val_acc) == 9 for b in search.brackets)
    assert search.best.history.val_acc[-1] == max(finals)
    assert search.best is search.results[search.winner]
    assert search.trials[search.winner] == search.best.trial
    # the winners Hyperband found at 5489495, before it halved with a fit
    assert (search.winner, [b.winner for b in search.brackets]) == (14, [4, 1, 0])
    assert search.best.history.val_acc[-3:] == [0.9611111111111111, 0.9611111111111111,
                                                0.9583333333333334]  # fmt: skip
    with pytest.raises(ValueError, match=r"rng must be a numpy.random.Generator .* got -1"):
        hyperband(digits, space, min_epochs=1, max_epochs=9, rng=-1, **HALVING)


def test_successive_halving_refuses_bad_trials(digits):
    with pytest.raises(TypeError, match="trials must be a non-empty list of trial dicts, got dict"):
        successive_halving(digits, {"learning_rate": 0.1}, min_epochs=1, max_epochs=3, **HALVING)
    with pytest.raises(ValueError, match=r"non-empty list of trial dicts, got \[\]"):
        successive_halving(digits, [], min_epochs=1, max_epochs=3, **HALVING)
    with pytest.raises(ValueError, match=r"unknown keys \['momentum'\]"):
        successive_halving(digits, [{"momentum": 0.5}], min_epochs=1, max_epochs=3, **HALVING)


@pytest.fixture
def one_torch_thread():
    """Small nets: one thread computes them faster than several that wait for each other
    (8 epochs of the torch net below take 0.2 CPU s on one thread, 5 on two busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_halving_trains_any_model_with_train_on_either_tree(digits, tree, one_torch_thread):
    """halve with train_fit: the reference net and the torch net, trained by
    nntrain.train.train. The first rung is a plain train() run of one epoch; a trial whose
    loss explodes is stopped and dropped; the kept ones go on training the same model."""
    trials = [{"learning_rate": lr} for lr in (1e-5, 50.0, 0.05, 0.2)]

    def build(trial):
        return tree.FullyConnectedNet([16], input_dim=64, num_classes=10, weight_scale=0.1,
                                      seed=0)  # fmt: skip

    settings = dict(batch_size=64, max_loss_ratio=3.0, progress=False)
    search = halve(trials, halving_schedule(4, 1, 4, eta=2), train_fit(digits, build, **settings))
    assert isinstance(search, HalvingResult) and search.trials == trials
    assert [(r.epochs, r.trials) for r in search.rungs] == [(1, [0, 1, 2, 3]), (2, [2, 3]),
                                                            (4, [search.winner])]  # fmt: skip
    assert search.epochs_spent == 4 * 1 + 2 * (2 - 1) + 1 * (4 - 2)
    assert search.results[1].stopped and math.isnan(search.rungs[0].scores[1])
    assert search.results[1].history.val_acc == []  # exploded in its first epoch
    first = train(build(trials[2]), digits, learning_rate=0.05, epochs=1, keep_best=False,
                  **settings)  # fmt: skip
    assert search.rungs[0].scores[2] == first.val_acc[0]
    best = search.best
    assert isinstance(best.model, tree.FullyConnectedNet)
    steps = math.ceil(len(digits["y_train"]) / 64)
    assert len(best.history.val_acc) == 4 and len(best.history.loss) == 4 * steps
    assert best.history.val_acc[-1] == accuracy(best.model, digits["X_val"], digits["y_val"])
    assert best.history.val_acc[-1] > 0.85


def test_halving_and_hyperband_results_share_one_result_class():
    assert issubclass(HalvingResult, SearchResult) and issubclass(HyperbandResult, SearchResult)
    assert HalvingResult.best is SearchResult.best is HyperbandResult.best
    result = HalvingResult(trials=["a", "b"], results=["A", "B"], winner=1, epochs_spent=2,
                           rungs=[])  # fmt: skip
    assert result.best == "B"


def test_halve_and_its_fits_refuse_bad_input(digits):
    trials = [{"learning_rate": 0.1}, {"learning_rate": 0.01}]
    fit = batched_fit(digits, TrainSpec([8], batch_size=64, device="cpu"))
    with pytest.raises(ValueError, match="schedule must start with a rung of all 2 trials"):
        halve(trials, halving_schedule(3, 1, 3), fit)
    with pytest.raises(TypeError, match="fit must be a function fit"):
        halve(trials, halving_schedule(2, 1, 3), "train_batched")
    with pytest.raises(TypeError, match="trials must be a non-empty list of trial dicts"):
        halve(trials[0], [(1, 1)], fit)
    with pytest.raises(TypeError, match="spec must be a TrainSpec, got dict"):
        batched_fit(digits, dict(hidden_dims=[8], batch_size=64))
    with pytest.raises(TypeError, match="build must be a function of a trial"):
        train_fit(digits, nntrain.FullyConnectedNet([8], 64, 10))


# --------------------------------------------------------------------------------------
# Optuna
# --------------------------------------------------------------------------------------

OPTUNA_SPACE = {
    "learning_rate": LogUniform(1e-3, 0.3),
    "weight_scale": LogUniform(1e-2, 0.3),
    "batch_size": Choice([64, 128]),
}
TINY = dict(hidden_dims=[8], epochs=2, space=OPTUNA_SPACE)


def test_suggest_maps_each_dimension_to_its_optuna_distribution(quiet_optuna):
    space = {
        "lr": LogUniform(1e-4, 1e-1),
        "m": Uniform(0.5, 0.99),
        "w": IntUniform(8, 64),
        "act": Choice(["relu", "tanh"]),
    }
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    values = suggest(trial, space)
    dists = trial.distributions
    assert dists["lr"] == optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["m"] == optuna.distributions.FloatDistribution(0.5, 0.99)
    assert dists["w"] == optuna.distributions.IntDistribution(8, 64)
    assert dists["act"] == optuna.distributions.CategoricalDistribution(["relu", "tanh"])
    assert set(values) == set(space) and space["w"].low <= values["w"] <= space["w"].high


def test_objective_reports_every_epoch_and_returns_the_best_val_acc(digits, tmp_path, quiet_optuna):
    study = create_study(
        tmp_path / "search.db", "digits", sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.optimize(optuna_objective(digits, **TINY), n_trials=3)
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        if "diverged" not in trial.user_attrs:
            assert sorted(trial.intermediate_values) == [1, 2]
            assert trial.value == max(trial.intermediate_values.values())
    # the best trial's value is what training with its hyperparameters gives
    best = study.best_trial
    net = nntrain.FullyConnectedNet(
        [8], input_dim=64, num_classes=10, weight_scale=best.params["weight_scale"], seed=0
    )
    hist = train(
        net,
        digits,
        learning_rate=best.params["learning_rate"],
        batch_size=best.params["batch_size"],
        epochs=2,
        seed=0,
    )
    assert best.value == max(hist.val_acc)


def test_objective_lets_the_pruner_stop_a_trial(digits, quiet_optuna):
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.999)
    )
    study.optimize(optuna_objective(digits, **TINY), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]  # stopped after the first epoch


@pytest.mark.parametrize("kind", ["SuccessiveHalvingPruner", "HyperbandPruner"])
def test_optuna_s_halving_pruners_stop_trials_at_their_rungs(digits, quiet_optuna, kind):
    """The objective reports every epoch, so Optuna's (asynchronous) successive halving and
    Hyperband prune trials at their rungs, 1, 3 and 9 epochs for eta = 3."""
    pruner = {
        "SuccessiveHalvingPruner": optuna.pruners.SuccessiveHalvingPruner(
            min_resource=1, reduction_factor=3
        ),
        "HyperbandPruner": optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=9, reduction_factor=3
        ),
    }[kind]
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner
    )
    study.optimize(optuna_objective(digits, hidden_dims=[8], epochs=9, space=OPTUNA_SPACE), 12)
    State = optuna.trial.TrialState
    pruned = [t for t in study.trials if t.state == State.PRUNED]
    complete = [t for t in study.trials if t.state == State.COMPLETE]
    assert len(pruned) >= 3 and len(complete) >= 2 and len(pruned) + len(complete) == 12
    assert {max(t.intermediate_values) for t in pruned} <= {1, 3, 9}
    assert any(max(t.intermediate_values) < 9 for t in pruned)  # some cost less
    for t in complete:
        if "diverged" not in t.user_attrs:
            assert sorted(t.intermediate_values) == list(range(1, 10))


def test_objective_reports_a_diverging_trial_instead_of_failing(digits, quiet_optuna):
    objective = optuna_objective(
        digits,
        hidden_dims=[8],
        epochs=2,
        space={"learning_rate": LogUniform(50.0, 100.0)},
        weight_scale=0.1,
    )
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE and trial.value == 0.0
    assert "diverged" in trial.user_attrs["diverged"]


def test_objective_refuses_bad_input(digits):
    with pytest.raises(ValueError, match=r"space has unknown keys \['dropout'\]"):
        optuna_objective(digits, hidden_dims=[8], epochs=1, space={"dropout": Uniform(0.0, 0.5)})
    with pytest.raises(TypeError, match="categorical options"):
        optuna_objective(
            digits, hidden_dims=[8], epochs=1, space={"batch_size": Choice([(32, 64), 128])}
        )
    with pytest.raises(ValueError, match="both searched"):
        optuna_objective(
            digits, hidden_dims=[8], epochs=1, space={"reg": LogUniform(1e-6, 1e-2)}, reg=0.0
        )
    with pytest.raises(FileNotFoundError, match="does not exist"):
        create_study("/nonexistent-folder/search.db", "s")


def test_a_study_in_sqlite_survives_an_interruption(digits, tmp_path, quiet_optuna):
    path = tmp_path / "search.db"
    objective = optuna_objective(digits, **TINY)
    study = create_study(path, "digits", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=3)
    before = [(t.number, t.params, t.value) for t in study.trials]
    del study  # the notebook is closed

    resumed = create_study(path, "digits", sampler=optuna.samplers.RandomSampler(seed=1))
    assert [(t.number, t.params, t.value) for t in resumed.trials] == before
    resumed.optimize(objective, n_trials=2)
    assert len(resumed.trials) == 5
    assert [t.number for t in resumed.trials] == [0, 1, 2, 3, 4]
    assert [(t.number, t.params, t.value) for t in resumed.trials[:3]] == before
    loaded = optuna.load_study(study_name="digits", storage=f"sqlite:///{path}")
    assert len(loaded.trials) == 5
    with pytest.raises(ValueError, match="direction"):
        create_study(path, "digits", direction="minimize")


WORKER = textwrap.dedent("""
    import os, sys
    os.environ["NNTRAIN_QUIET"] = "1"
    import optuna
    from nntrain.data import load_digits_split, map_inputs
    from nntrain.reference.preprocessing import Standardize
    from nntrain.search import Choice, LogUniform, create_study, optuna_objective

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path, worker, n_trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    space = {"learning_rate": LogUniform(1e-3, 0.3), "weight_scale": LogUniform(1e-2, 0.3),
             "batch_size": Choice([64, 128])}
    objective = optuna_objective(data, hidden_dims=[8], epochs=2, space=space)

    def tagged(trial):
        trial.set_user_attr("worker", worker)
        return objective(trial)

    study = create_study(path, "shared", sampler=optuna.samplers.RandomSampler(seed=worker))
    study.optimize(tagged, n_trials=n_trials)
    print("done", worker)
""")


def test_two_worker_processes_share_one_study(tmp_path, quiet_optuna):
    """Optuna's way to run a search in parallel: processes that open the same study in the
    same relational storage (one SQLite file here) each run trials and record them there."""
    path = tmp_path / "shared.db"
    create_study(path, "shared")  # created once, so that the workers only load it
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(w), "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (0, 1)
    ]
    for w, proc in enumerate(workers):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        assert out.strip() == f"done {w}"
    study = create_study(path, "shared")
    assert len(study.trials) == 6
    assert sorted(t.user_attrs["worker"] for t in study.trials) == [0, 0, 0, 1, 1, 1]
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert all(t.state in finished for t in study.trials)
    assert sorted(t.number for t in study.trials) == list(range(6))


def test_batched_training_refuses_non_finite_inputs(digits):
    data = dict(digits, X_val=digits["X_val"].copy())
    data["X_val"][0, 5] = np.nan
    with pytest.raises(ValueError, match="X_val contains NaN or infinite values"):
        train_batched(data, TRIALS[:1], device="cpu", **BATCHED)


def test_float32_gives_chapter_7s_searches_the_same_best_accuracies(digits):
    """Chapter 7 trains its grid-against-random searches in float32 and says that this
    changes no network's best accuracy: the searches of its first seed, in both dtypes."""
    space = {"learning_rate": LogUniform(1e-4, 1.0), "reg": LogUniform(1e-6, 1e-3)}
    trials = []
    for n in [4, 9, 16, 25, 36, 49]:
        trials += grid_search(space, int(np.sqrt(n)))
        trials += random_search(space, n, np.random.default_rng(100))
    runs = [
        train_batched(
            digits,
            trials,
            hidden_dims=[50],
            epochs=3,
            batch_size=50,
            seed=0,
            device="cpu",
            dtype=dtype,
        )
        for dtype in (torch.float64, torch.float32)
    ]
    best = [[np.nan_to_num(r.best_val_acc) for r in results] for results in runs]
    assert best[0] == best[1]
    assert [r.stopped for r in runs[0]] == [r.stopped for r in runs[1]]
