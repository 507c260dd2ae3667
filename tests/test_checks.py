"""Tests for nntrain.checks: the graders accept the reference and reject wrong students.

Each wrong student below is a mistake a student could make; the grader must return False,
print FAIL and a BAD line saying what went wrong, and never crash.
"""

from __future__ import annotations

import nntrain
import nntrain.checks as checks
import nntrain.reference as reference
import numpy as np
import pytest
from nntrain.checks import (
    check_answer,
    check_init,
    check_layer,
    check_loss,
    check_preprocessing,
    check_rule,
    check_sampler,
    check_value,
)
from nntrain.techniques import TECHNIQUES
from students import student_copy


class _StudentCopies:
    """The reference's functions as a student who wrote the same code would hand them in:
    functions of this module, not the package's own (which the checks reject), whose calls
    into the package the checks do not see (tests/students.py)."""

    def __getattr__(self, name):
        return student_copy(getattr(reference, name), name)


R = _StudentCopies()


def verdict_lines(capsys):
    return capsys.readouterr().out.splitlines()


def assert_pass(result, capsys, title):
    lines = verdict_lines(capsys)
    assert result is True
    assert lines[0] == f"{title}: PASS"
    assert not any("BAD" in line for line in lines)
    assert sum(line.strip().startswith("ok") for line in lines) >= 2
    return lines


def assert_fail(result, capsys, title, *bad):
    """False, a FAIL head line, and a BAD line containing each string of ``bad``."""
    lines = verdict_lines(capsys)
    assert result is False
    assert lines[0] == f"{title}: FAIL"
    bad_lines = [line for line in lines if line.strip().startswith("BAD")]
    assert bad_lines, lines
    for text in bad:
        assert any(text in line for line in bad_lines), (text, lines)
    return lines


# --------------------------------------------------------------------------------------
# check_layer: the reference passes
# --------------------------------------------------------------------------------------


def test_reference_affine_passes(capsys):
    lines = assert_pass(
        check_layer(R.affine_forward, R.affine_backward, "affine"), capsys, "affine"
    )
    # forward output + 3 gradients, each also against finite differences
    assert sum(line.strip().startswith("ok") for line in lines) == 7


def test_reference_relu_passes(capsys):
    lines = assert_pass(check_layer(R.relu_forward, R.relu_backward, "relu"), capsys, "relu")
    assert sum(line.strip().startswith("ok") for line in lines) == 3


def test_explicit_inputs_and_the_students_own_cache(capsys):
    """The student's backward gets the student's cache, whatever its format."""
    rng = np.random.default_rng(5)
    inputs = (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2))

    def forward(x, w, b):
        return x @ w + b, {"x": x, "w": w}

    def backward(dout, cache):
        return dout @ cache["w"].T, cache["x"].T @ dout, dout.sum(0)

    assert_pass(check_layer(forward, backward, "affine", inputs=inputs, seed=1), capsys, "affine")


# --------------------------------------------------------------------------------------
# check_layer: wrong students fail
# --------------------------------------------------------------------------------------


def forward_plus_one(x, w, b):
    out, cache = R.affine_forward(x, w, b)
    return out + 1, cache


def backward_without_bias(dout, cache):
    dx, dw, db = R.affine_backward(dout, cache)
    return dx, dw, np.zeros_like(db)


def backward_bias_none(dout, cache):
    dx, dw, _ = R.affine_backward(dout, cache)
    return dx, dw, None


def backward_dw_transposed(dout, cache):
    dx, dw, db = R.affine_backward(dout, cache)
    return dx, dw.T, db


def backward_dw_doubled(dout, cache):
    dx, dw, db = R.affine_backward(dout, cache)
    return dx, 2 * dw, db


def backward_dx_not_reshaped(dout, cache):
    dx, dw, db = R.affine_backward(dout, cache)
    return dx.reshape(dx.shape[0], -1), dw, db


def backward_raises(dout, cache):
    return 1 / 0


def backward_two_gradients(dout, cache):
    dx, dw, _ = R.affine_backward(dout, cache)
    return dx, dw


def backward_four_gradients(dout, cache):
    return (*R.affine_backward(dout, cache), dout)


@pytest.mark.parametrize(
    "forward, backward, bad",
    [
        (forward_plus_one, R.affine_backward, ["forward output"]),
        (R.affine_forward, backward_without_bias, ["gradient of input 3"]),
        (R.affine_forward, backward_bias_none, ["gradient of input 3"]),
        (R.affine_forward, backward_dw_transposed, ["gradient of input 2", "same shape"]),
        (R.affine_forward, backward_dw_doubled, ["gradient of input 2", "3.3e-01"]),
        (R.affine_forward, backward_dx_not_reshaped, ["gradient of input 1", "same shape"]),
        (R.affine_forward, backward_raises, ["raised ZeroDivisionError"]),
        (R.affine_forward, backward_two_gradients, ["returned 2 gradients, expected 3"]),
        (R.affine_forward, backward_four_gradients, ["returned 4 gradients, expected 3"]),
    ],
)
def test_wrong_affine_fails(capsys, forward, backward, bad):
    assert_fail(check_layer(forward, backward, "affine"), capsys, "affine", *bad)


def test_only_the_wrong_gradient_is_marked_bad(capsys):
    lines = assert_fail(
        check_layer(R.affine_forward, backward_dw_doubled, "affine"), capsys, "affine"
    )
    marks = {line.split(":")[0].strip(): line.strip()[:3] for line in lines[1:]}
    assert marks == {
        "ok  forward output": "ok ",
        "ok  gradient of input 1": "ok ",
        "ok  gradient of input 1 vs finite differences": "ok ",
        "BAD gradient of input 2": "BAD",
        "BAD gradient of input 2 vs finite differences": "BAD",
        "ok  gradient of input 3": "ok ",
        "ok  gradient of input 3 vs finite differences": "ok ",
    }


def test_forward_raising_fails_without_crashing(capsys):
    def forward(x, w, b):
        raise IndexError("oops")

    assert_fail(
        check_layer(forward, R.affine_backward, "affine"),
        capsys,
        "affine",
        "raised IndexError: oops",
    )


def test_wrong_relu_fails(capsys):
    def leaky_forward(x):
        return np.where(x > 0, x, 0.01 * x), x

    def pass_through_backward(dout, cache):
        return dout

    assert_fail(
        check_layer(leaky_forward, R.relu_backward, "relu"), capsys, "relu", "forward output"
    )
    assert_fail(
        check_layer(R.relu_forward, pass_through_backward, "relu"),
        capsys,
        "relu",
        "gradient of input 1",
    )


def test_a_mismatched_but_self_consistent_student_fails_against_the_reference(capsys):
    """A forward and backward that agree with each other (finite differences pass) but
    compute another function are still wrong."""

    def forward(x):
        return 2 * np.maximum(x, 0), x

    def backward(dout, x):
        return 2 * dout * (x > 0)

    lines = assert_fail(check_layer(forward, backward, "relu"), capsys, "relu", "forward output")
    assert any(
        line.strip().startswith("ok  gradient of input 1 vs finite differences") for line in lines
    )


def test_forward_with_wrong_output_shape_fails_without_crashing(capsys):
    def forward_transposed(x, w, b):
        out, cache = R.affine_forward(x, w, b)
        return out.T.copy(), cache

    assert_fail(
        check_layer(forward_transposed, R.affine_backward, "affine"),
        capsys,
        "affine",
        "forward output",
    )


def test_backward_returning_a_list_is_graded_on_its_gradients(capsys):
    def backward_list(dout, cache):
        return list(R.affine_backward(dout, cache))

    assert_pass(check_layer(R.affine_forward, backward_list, "affine"), capsys, "affine")


GRADED_LAYERS = [t for t in TECHNIQUES if not t.is_loss and " " not in t.name]


@pytest.mark.parametrize("row", GRADED_LAYERS, ids=[t.name for t in GRADED_LAYERS])
def test_every_layer_of_the_registry_can_be_graded(row, capsys):
    """A row of :mod:`nntrain.techniques` gives ``check_layer`` its default inputs: a copy
    of the reference passes, and one whose backward is 1% off fails."""
    forward = student_copy(row.graded_forward(), f"my_{row.name}_forward")
    backward = getattr(R, row.backward)  # a student copy
    assert_pass(check_layer(forward, backward, row.name), capsys, row.name)

    def off(dout, cache):
        grads = backward(dout, cache)
        return tuple(1.01 * g for g in grads) if isinstance(grads, tuple) else 1.01 * grads

    assert_fail(check_layer(forward, off, row.name), capsys, row.name, "gradient of input 1")


def test_unknown_reference_raises():
    with pytest.raises(ValueError, match="conv"):
        check_layer(R.affine_forward, R.affine_backward, "conv")
    with pytest.raises(ValueError, match="hinge"):
        check_loss(R.svm_loss, "hinge")


# --------------------------------------------------------------------------------------
# check_loss
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["softmax_loss", "svm_loss"])
def test_reference_losses_pass(capsys, name):
    lines = assert_pass(check_loss(getattr(R, name), name), capsys, name)
    assert len(lines) == 4


def test_loss_with_explicit_inputs(capsys):
    rng = np.random.default_rng(3)
    inputs = (rng.standard_normal((6, 4)), rng.integers(0, 4, size=6))
    assert_pass(check_loss(R.softmax_loss, "softmax_loss", inputs=inputs), capsys, "softmax_loss")


@pytest.mark.parametrize("name", ["softmax_loss", "svm_loss"])
def test_gradient_off_by_factor_n_fails(capsys, name):
    def loss(scores, y):
        value, grad = getattr(R, name)(scores, y)
        return value, grad * scores.shape[0]  # forgot to average the gradient

    lines = assert_fail(check_loss(loss, name), capsys, name, "gradient", "finite differences")
    assert lines[1].strip().startswith("ok  loss value")


def test_wrong_loss_value_fails(capsys):
    def loss(scores, y):
        value, grad = R.softmax_loss(scores, y)
        return value * scores.shape[0], grad  # summed instead of averaged

    assert_fail(check_loss(loss, "softmax_loss"), capsys, "softmax_loss", "loss value")


def test_svm_student_graded_against_softmax_fails(capsys):
    assert_fail(check_loss(R.svm_loss, "softmax_loss"), capsys, "softmax_loss", "loss value")


def test_loss_raising_fails_without_crashing(capsys):
    def loss(scores, y):
        raise KeyError("nope")

    assert_fail(check_loss(loss, "svm_loss"), capsys, "svm_loss", "raised KeyError")


# --------------------------------------------------------------------------------------
# check_value
# --------------------------------------------------------------------------------------


def test_check_value(capsys):
    assert check_value(41, 41, "parameters") is True
    assert capsys.readouterr().out.startswith("parameters: PASS")
    assert check_value(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-12], "vector") is True
    capsys.readouterr()
    assert_fail(check_value(40, 41, "parameters"), capsys, "parameters", "value")
    assert_fail(check_value([1, 2], [1, 2, 3], "vector"), capsys, "vector", "same shape")
    assert_fail(check_value("forty-one", 41, "parameters"), capsys, "parameters", "raised")


def test_check_value_tolerance(capsys):
    assert check_value(1.001, 1.0, "x") is False
    assert check_value(1.001, 1.0, "x", tol=1e-3) is True


# ------------------------------------------------------------------ check_preprocessing


def standardize_fit(X):
    return X.mean(axis=0), np.sqrt(X.var(axis=0) + 1e-8)


def standardize_transform(X, stats):
    return (X - stats[0]) / stats[1]


def pca_fit(X):
    mean = X.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov((X - mean).T))
    return mean, eigenvectors[:, ::-1], eigenvalues[::-1]


def test_check_preprocessing_passes_correct_code(capsys):
    assert check_preprocessing(standardize_fit, standardize_transform, "Standardize")
    assert "Standardize: PASS" in capsys.readouterr().out

    # components whose signs differ from the reference's are still right
    def flipped(X, stats):
        mean, vectors, _ = stats
        return -((X - mean) @ vectors)

    assert check_preprocessing(pca_fit, flipped, "PCA")


def test_check_preprocessing_catches_statistics_of_the_wrong_split(capsys):
    def refits(X, stats):
        return (X - X.mean(axis=0)) / X.std(axis=0)

    assert not check_preprocessing(standardize_fit, refits, "Standardize")
    out = capsys.readouterr().out
    assert "ok  training split" in out and "BAD validation split" in out


def test_check_preprocessing_catches_in_place_changes_shapes_and_errors(capsys):
    def in_place(X, stats):
        X -= stats[0]
        X /= stats[1]
        return X

    assert not check_preprocessing(standardize_fit, in_place, "Standardize")
    assert "modified its input array in place" in capsys.readouterr().out
    assert not check_preprocessing(pca_fit, lambda X, s: (X - s[0]) @ s[1][:, :2], "PCA")
    assert "output of shape (200, 2), expected (200, 6)" in capsys.readouterr().out
    assert not check_preprocessing(lambda X: 1 / 0, standardize_transform, "Center")
    assert "raised ZeroDivisionError" in capsys.readouterr().out


def test_check_preprocessing_names_what_it_expects():
    with pytest.raises(
        ValueError, match="a class of nntrain.reference.preprocessing, got 'Scaler'"
    ):
        check_preprocessing(standardize_fit, standardize_transform, "Scaler")


# ------------------------------------------------------------------------- check_init


def he_normal(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    return np.sqrt(2.0 / fan_in) * rng.standard_normal(shape)


def test_check_init_passes_a_correct_scheme(capsys):
    assert check_init(he_normal, "kaiming_normal")
    out = capsys.readouterr().out
    assert "kaiming_normal: PASS" in out and "Kolmogorov-Smirnov" in out


def test_check_init_catches_wrong_schemes(capsys):
    def uniform_same_std(shape, rng):  # right std, wrong distribution
        std = he_normal(shape, rng).std()
        return rng.uniform(-np.sqrt(3) * std, np.sqrt(3) * std, shape)

    def torch_layout_fan(shape, rng):  # fan-in read as PyTorch would, from shape[1]
        return np.sqrt(2.0 / int(np.prod(shape[1:]))) * rng.standard_normal(shape)

    def global_state(shape, rng):
        return np.sqrt(2.0 / shape[0]) * np.random.standard_normal(shape)

    assert not check_init(uniform_same_std, "kaiming_normal")
    assert "BAD shape (300, 200): same distribution" in capsys.readouterr().out
    assert not check_init(torch_layout_fan, "kaiming_normal")
    assert "BAD shape (300, 200): standard deviation" in capsys.readouterr().out
    assert not check_init(global_state, "kaiming_normal")
    assert "gave different draws" in capsys.readouterr().out
    assert not check_init(lambda shape, rng: rng.standard_normal(shape[:1]), "xavier_normal")
    assert "expected float64 of shape (300, 200)" in capsys.readouterr().out
    assert not check_init(lambda shape, rng: 1 / 0, "xavier_normal")
    assert "raised ZeroDivisionError" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["he", "zeros", "calculate_gain", "fans", "_std", 3])
def test_check_init_names_what_it_expects(name):
    with pytest.raises(ValueError, match="a random scheme of nntrain.reference.init"):
        check_init(he_normal, name)


# ---------------------------------------------------------------------- check_sampler


def test_check_sampler_passes_log_uniform_and_catches_uniform(capsys):
    from nntrain.checks import check_sampler
    from nntrain.search import LogUniform, Uniform

    def log_uniform(low, high, n, rng):
        return np.exp(rng.uniform(np.log(low), np.log(high), n))

    def uniform(low, high, n, rng):
        return rng.uniform(low, high, n)

    assert check_sampler(log_uniform, LogUniform(1e-5, 1e-1))
    assert "PASS" in capsys.readouterr().out
    assert not check_sampler(uniform, LogUniform(1e-5, 1e-1))
    assert "BAD same distribution" in capsys.readouterr().out
    assert check_sampler(uniform, Uniform(-2.0, 3.0))
    assert not check_sampler(
        lambda low, high, n, rng: np.random.uniform(low, high, n), Uniform(-2.0, 3.0)
    )
    assert "BAD the same seed" in capsys.readouterr().out
    assert not check_sampler(
        lambda low, high, n, rng: rng.uniform(low, 2 * high, n), Uniform(1.0, 3.0)
    )
    assert "BAD every value in [1, 3]" in capsys.readouterr().out
    assert not check_sampler(lambda low, high, n, rng: 1 / 0, Uniform(1.0, 3.0))
    assert "raised ZeroDivisionError" in capsys.readouterr().out
    with pytest.raises(TypeError, match="LogUniform or Uniform"):
        check_sampler(uniform, (1.0, 3.0))


# ---------------------------------------------------------------- fair grading (issue 15)


@pytest.mark.parametrize(
    "grade",
    [
        lambda: check_layer(nntrain.affine_forward, nntrain.affine_backward, "affine"),
        lambda: check_layer(R.affine_forward, reference.affine_backward, "affine"),
        lambda: check_loss(nntrain.svm_loss, "svm_loss"),
        lambda: check_init(nntrain.reference.init.kaiming_normal, "kaiming_normal"),
        lambda: check_preprocessing(R.affine_forward, reference.relu_forward, "Standardize"),
    ],
)
def test_the_package_s_own_function_is_not_an_answer(grade, capsys):
    assert grade() is False
    lines = verdict_lines(capsys)
    assert lines[0].endswith("FAIL")
    assert any("nntrain's own" in line and "write your own code" in line for line in lines)


def test_a_warning_of_a_right_answer_is_a_note_on_stdout_and_costs_nothing(capsys):
    import warnings

    def svm_loss(scores, y, delta=1.0):
        warnings.warn("a student's debugging warning", stacklevel=2)
        np.log(np.zeros(1))  # and a NumPy RuntimeWarning
        return R.svm_loss(scores, y, delta)

    captured_before = capsys.readouterr()
    assert check_loss(svm_loss, "svm_loss") is True
    out = capsys.readouterr()
    assert out.err == captured_before.err == ""
    assert "note: your code warned (UserWarning: a student's debugging warning)" in out.out
    assert "note: your code warned (RuntimeWarning: divide by zero" in out.out


def test_a_leaky_relu_that_ignores_its_slope_fails(capsys):
    def forward(x, negative_slope=0.01):
        return np.where(x > 0, x, 0.01 * x), x

    def backward(dout, x):
        return dout * np.where(x > 0, 1.0, 0.01)

    assert_fail(check_layer(forward, backward, "leaky_relu"), capsys, "leaky_relu", "with 0.2")


def test_a_fixed_grid_is_not_a_sampler(capsys):
    from nntrain.search import LogUniform

    def geomspace(low, high, n, rng):
        return np.geomspace(low, high, n)

    assert check_sampler(geomspace, LogUniform(1e-5, 1e-1)) is False
    assert "BAD another seed gives other values" in capsys.readouterr().out


def test_check_preprocessing_passes_arguments_to_the_reference_and_to_fit(capsys):
    def fit(X, k):
        mean = X.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(X - mean, rowvar=False))
        return mean, vectors[:, ::-1][:, :k]

    def transform(X, stats):
        mean, components = stats
        return (X - mean) @ components

    assert check_preprocessing(fit, transform, "PCA", k=2)
    capsys.readouterr()
    assert check_preprocessing(lambda X, k: fit(X, 3), transform, "PCA", k=2) is False


def _dead(net, X):
    h = X.reshape(len(X), -1)
    fractions = []
    for i in range(1, net.num_layers):
        z = h @ net.params[f"W{i}"] + net.params[f"b{i}"]
        fractions.append(float(np.all(z <= 0, axis=0).mean()))
        h = np.maximum(z, 0)
    return fractions


def test_check_answer_grades_against_the_package_s_computation(capsys):
    rng = np.random.default_rng(0)
    net = reference.FullyConnectedNet([30, 30], input_dim=5, num_classes=3, weight_scale=1.0)
    net.params["b1"][:10] = -50.0  # ten units of the first layer die
    X = rng.standard_normal((40, 5))
    assert check_answer(_dead, "dead_fractions", [(net, X)])
    assert "ok  case 1[0]" in capsys.readouterr().out
    assert not check_answer(lambda net, X: [0.0, 0.0], "dead_fractions", [(net, X)])
    assert not check_answer(lambda costs: "yes", "should_stop", [([1.0, 5.0],)])
    assert not check_answer(lambda costs: 1 / 0, "should_stop", [([1.0],)])
    assert check_answer(
        lambda c: not np.isfinite(c[-1]) or c[-1] > 3 * c[0],
        "should_stop",
        [([1.0, 2.0],), ([1.0, float("nan")],)],
    )
    with pytest.raises(ValueError, match="name must be one of"):
        check_answer(_dead, "dead", [])


def _my_adam(w, dw, config=None):
    """A student's Adam, written from the formulas (not the package's)."""
    c = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0}
    c.update(config or {})
    c.setdefault("m", np.zeros_like(w))
    c.setdefault("v", np.zeros_like(w))
    c["t"] += 1
    c["m"] = c["beta1"] * c["m"] + (1 - c["beta1"]) * dw
    c["v"] = c["beta2"] * c["v"] + (1 - c["beta2"]) * dw**2
    m_hat = c["m"] / (1 - c["beta1"] ** c["t"])
    v_hat = c["v"] / (1 - c["beta2"] ** c["t"])
    return w - c["learning_rate"] * m_hat / (np.sqrt(v_hat) + c["epsilon"]), c


def test_check_rule_passes_a_right_rule_and_fails_wrong_ones(capsys):
    assert check_rule(_my_adam, "adam")
    assert check_rule(_my_adam, "adam", learning_rate=0.05)

    def uncorrected(w, dw, config=None):
        c = dict(config or {})
        c.setdefault("m", np.zeros_like(w))
        c["m"] = 0.9 * c["m"] + 0.1 * dw
        return w - 1e-3 * c["m"], c

    def in_place(w, dw, config=None):
        new, c = _my_adam(w, dw, config)
        w[...] = new
        return w, c

    assert not check_rule(uncorrected, "adam")
    assert not check_rule(in_place, "adam")
    assert not check_rule(lambda w, dw, config=None: 1 / 0, "adam")
    out = capsys.readouterr().out
    assert "changed w in place" in out and "raised ZeroDivisionError" in out
    assert not check_rule(nntrain.reference.optim.adam, "adam")  # the package's own
    with pytest.raises(ValueError, match="reference must be one of"):
        check_rule(_my_adam, "adamax")


def test_check_answer_max_stable_lr():
    H = np.diag([0.2, 4.0])
    assert check_answer(lambda h, m=0.0: (2 + 2 * m) / 4.0, "max_stable_lr", [(H,), (H, 0.9)])
    assert not check_answer(lambda h, m=0.0: 2 / 4.0, "max_stable_lr", [(H, 0.9)])


def test_check_answer_grades_the_regularization_exercises():
    rng = np.random.default_rng(0)
    x, keep = rng.standard_normal((4, 3)), rng.random((4, 3)) < 0.5
    assert check_answer(lambda x, p, keep: x * keep / p, "dropout_forward", [(x, 0.5, keep)])
    assert not check_answer(lambda x, p, keep: x * keep, "dropout_forward", [(x, 0.5, keep)])
    assert check_answer(lambda d, p, keep: d * keep / p, "dropout_backward", [(x, 0.5, keep)])
    shrink = lambda w, t: np.sign(w) * np.maximum(np.abs(w) - t, 0)  # noqa: E731
    assert check_answer(shrink, "soft_threshold", [(x, 0.3)])
    assert not check_answer(lambda w, t: w - t * np.sign(w), "soft_threshold", [(x, 0.3)])
    clip = lambda W, c: W * (c / np.maximum(np.linalg.norm(W, axis=0), c))  # noqa: E731
    assert check_answer(clip, "max_norm", [(x * 5, 1.0)])
    assert not check_answer(lambda W, c: W / np.linalg.norm(W, axis=0) * c, "max_norm", [(x, 9.0)])


def test_check_answer_grades_the_babysitting_exercises():
    import math

    assert check_answer(
        lambda c, loss: math.log(c) if loss == "softmax" else c - 1,
        "expected_initial_loss",
        [(10, "softmax"), (10, "svm")],
    )
    assert not check_answer(lambda c, loss: math.log(c), "expected_initial_loss", [(10, "svm")])
    W = np.ones((3, 2))
    assert check_answer(
        lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(b), "update_ratio", [(W, W * 1.001)]
    )
    f = lambda x: float((x**3).sum())  # noqa: E731
    x = np.array([0.5, -1.0, 2.0])

    def centred(f, x, h):
        out = np.zeros_like(x)
        for i in range(len(x)):
            e = np.zeros_like(x)
            e[i] = h
            out[i] = (f(x + e) - f(x - e)) / (2 * h)
        return out

    assert check_answer(centred, "centred_difference", [(f, x, 1e-5)])
    forward = lambda f, x, h: np.array([(f(x + h * e) - f(x)) / h for e in np.eye(len(x))])  # noqa: E731
    assert not check_answer(forward, "centred_difference", [(f, x, 1e-3)])


def test_a_float32_answer_gets_a_hint_to_compute_in_float64(capsys):
    def ratio(before, after):  # float32 loses most digits of a small difference
        before, after = before.astype(np.float32), after.astype(np.float32)
        return np.linalg.norm(after - before) / np.linalg.norm(before)

    w = np.random.default_rng(0).standard_normal((5, 4))
    assert check_answer(ratio, "update_ratio", [(w, w * (1 + 1e-4))]) is False
    out = capsys.readouterr().out
    assert "hint: your case 1 is float32" in out and "compute in float64" in out


@pytest.fixture
def registered_measurement():
    from nntrain.measurements import MEASUREMENTS, measurement

    @measurement("test_mean_of_normals", tol=1e-9)
    def mean_of_normals(seed, n=5):
        return float(np.random.default_rng(seed).standard_normal(n).mean())

    yield mean_of_normals
    del MEASUREMENTS["test_mean_of_normals"]


def test_check_measurement_grades_an_experiment_at_every_setting(registered_measurement, capsys):
    def right(seed, n=5):
        rng = np.random.default_rng(seed)
        return sum(rng.standard_normal() for _ in range(n)) / n

    def unseeded(seed, n=5):
        return float(np.random.default_rng().standard_normal(n).mean())

    def ignores_n(seed, n=5):
        return float(np.random.default_rng(seed).standard_normal(5).mean())

    settings = [dict(seed=0), dict(seed=3, n=40)]
    assert checks.check_measurement(right, "test_mean_of_normals", settings)
    assert not checks.check_measurement(unseeded, "test_mean_of_normals", settings)
    assert not checks.check_measurement(ignores_n, "test_mean_of_normals", settings)
    assert not checks.check_measurement(lambda seed, n=5: True, "test_mean_of_normals", settings)
    assert "return one number" in capsys.readouterr().out


def test_check_measurement_fails_an_experiment_that_calls_the_code_that_answers_it():
    from nntrain.measurements import MEASUREMENTS, measurement

    @measurement("test_mean_relu", tol=1e-9, solved_by=("nntrain.reference.activations",))
    def mean_relu(seed):
        return float(
            reference.relu_forward(np.random.default_rng(seed).standard_normal(9))[0].mean()
        )

    def own(seed):
        return float(np.maximum(np.random.default_rng(seed).standard_normal(9), 0).mean())

    def borrowed(seed):
        return float(nntrain.relu_forward(np.random.default_rng(seed).standard_normal(9))[0].mean())

    try:
        assert checks.check_measurement(own, "test_mean_relu", [dict(seed=0)])
        assert not checks.check_measurement(borrowed, "test_mean_relu", [dict(seed=0)])
    finally:
        del MEASUREMENTS["test_mean_relu"]


def test_check_measurement_refuses_bad_arguments(registered_measurement):
    with pytest.raises(ValueError, match="name must be one of"):
        checks.check_measurement(lambda seed: 0.0, "no_such_measurement", [dict(seed=0)])
    with pytest.raises(TypeError, match="non-empty list of dicts"):
        checks.check_measurement(lambda seed: 0.0, "test_mean_of_normals", [0])
    with pytest.raises(ValueError, match="already registered"):
        from nntrain.measurements import measurement

        measurement("test_mean_of_normals", tol=0.1)(lambda: 0.0)


def _reinit_with(scale_of):
    """A fix that draws every layer's weights at std scale_of(activation, fan_in, fan_out)."""

    def fix(net, rng):
        for k in range(1, net.num_layers):
            W = net.params[f"W{k}"]
            net.params[f"W{k}"] = scale_of(net.activation, *W.shape) * rng.standard_normal(W.shape)
            net.params[f"b{k}"] = np.zeros_like(net.params[f"b{k}"])

    return fix


def test_check_reinit_passes_the_fan_in_scheme_with_the_nonlinearity_s_gain(capsys):
    gain = {"relu": np.sqrt(2.0), "tanh": 5 / 3}
    nets = [nntrain.FullyConnectedNet([100] * 10, 64, activation="tanh", weight_scale=0.01)]
    assert checks.check_reinit(_reinit_with(lambda a, n_in, n_out: gain[a] / np.sqrt(n_in)), nets)
    assert "reinit: PASS" in capsys.readouterr().out


@pytest.mark.parametrize(
    "what, scale_of",
    [
        ("LeCun's scale with ReLU", lambda a, n_in, n_out: 1 / np.sqrt(n_in)),
        ("fan-out instead of fan-in", lambda a, n_in, n_out: np.sqrt(2 / n_out)),
        ("the variance as the std", lambda a, n_in, n_out: 2 / n_in),
    ],
)
def test_check_reinit_fails_a_wrong_scale(what, scale_of):
    nets = [nntrain.FullyConnectedNet([64, 128, 32], 64, activation="relu", weight_scale=0.01)]
    assert not checks.check_reinit(_reinit_with(scale_of), nets), what


def test_check_reinit_fails_he_s_scale_for_tanh_although_its_band_holds(capsys):
    nets = [nntrain.FullyConnectedNet([100] * 10, 64, activation="tanh", weight_scale=0.01)]
    assert not checks.check_reinit(_reinit_with(lambda a, n_in, n_out: np.sqrt(2 / n_in)), nets)
    out = capsys.readouterr().out
    assert "ok  net 1 (tanh, 10 hidden layers): activation std" in out
    assert "BAD net 1 (tanh, 10 hidden layers): weight std times sqrt(fan-in)" in out


def test_check_reinit_fails_kept_biases_an_unseeded_draw_and_an_error(capsys):
    nets = [nntrain.FullyConnectedNet([50, 50], 64, weight_scale=0.01, seed=0)]

    def keeps_biases(net, rng):
        for k in range(1, net.num_layers):
            net.params[f"W{k}"] = np.sqrt(2 / 50) * rng.standard_normal(net.params[f"W{k}"].shape)
            net.params[f"b{k}"] += 1.0

    def unseeded(net, rng):
        _reinit_with(lambda a, n_in, n_out: np.sqrt(2 / n_in))(net, np.random.default_rng())

    assert not checks.check_reinit(keeps_biases, nets)
    assert not checks.check_reinit(unseeded, nets)
    assert not checks.check_reinit(lambda net, rng: 1 / 0, nets)
    out = capsys.readouterr().out
    assert "start the biases at 0" in out
    assert "the same seed gave different weights" in out
    assert "raised ZeroDivisionError" in out


def test_check_reinit_refuses_what_is_not_a_list_of_relu_or_tanh_nets():
    with pytest.raises(TypeError, match="list of ReLU or tanh FullyConnectedNet"):
        checks.check_reinit(lambda net, rng: None, nntrain.FullyConnectedNet([5], 4))
    sigmoid = nntrain.FullyConnectedNet([5], 4, activation="sigmoid")
    with pytest.raises(TypeError, match="list of ReLU or tanh FullyConnectedNet"):
        checks.check_reinit(lambda net, rng: None, [sigmoid])
