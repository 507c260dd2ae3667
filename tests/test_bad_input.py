"""Bad input is refused up front with ``InvalidArgument`` (a ValueError and a TypeError) whose
message names what was expected and what arrived, in both trees (the NumPy reference and
the PyTorch twin), run through the ``tree`` fixture of conftest. The declared constraints
(hyperparameters, ``bn_param``, ``dropout_param``, update-rule configs) and the same-error
check of the two trees over the technique registry are generated in test_constraints.py;
these are the array checks: shapes, dtypes, labels and the two kinds of array."""

from __future__ import annotations

import re

import nntrain.reference
import nntrain.torch
import numpy as np
import pytest
import torch
from nntrain.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


def int_labels(tree, values):
    """Integer class labels of this tree's kind."""
    return tree.array(values, np.int64)


def label_error(tree, name, num_classes, lo, hi):
    """``(exception, regex)`` for a label outside ``[0, num_classes)``: the reference checks
    the values and names their range; the twin does not read a tensor on the host, and
    names the first label its ``gather`` refused."""
    if tree.is_reference:
        got = rf"got values from {lo} to {hi}"
    else:
        got = r"got one outside \(index -?\d+ is out of bounds for dimension 1 with size "
        got += rf"{num_classes}\)"
    return ValueError, rf"{name} must hold labels in \[0, {num_classes}\), {got}"


def kind_error(tree, name, got):
    """Regex for this tree's message about an argument of the wrong kind."""
    want = "a NumPy array" if tree.is_reference else "a torch tensor"
    return rf"{name} must be {want}, got {got}\b"


def native_name(tree):
    return "ndarray" if tree.is_reference else "Tensor"


def foreign_name(tree):
    return "Tensor" if tree.is_reference else "ndarray"


def make_net(tree, *args, **kwargs):
    kwargs.setdefault("dtype", tree.float_dtype)
    return tree.FullyConnectedNet(*args, **kwargs)


X23 = np.arange(6.0).reshape(2, 3)
W35 = np.ones((3, 5))
B5 = np.zeros(5)
S23 = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])


def shape_msg(name, expected, got):
    """Regex for ``check.shape``'s message. The expected shape of a 1-D array is written
    ``(5)`` by the package (``(5,)`` would be the tuple); both are accepted here and the
    spelling is pinned down in ``test_one_dim_expected_shape_is_written_as_a_tuple``."""
    want = ", ".join(map(str, expected))
    want = re.escape(f"({want}") + ("(,)?" if len(expected) == 1 else "") + r"\)"
    return rf"{name} must have shape {want}, got {re.escape(str(tuple(got)))}"


# --------------------------------------------------------------------------- affine


def test_affine_wrong_weight_shape(tree):
    with pytest.raises(ValueError, match=r"w must have shape \(3, any\), got \(4, 5\)"):
        tree.affine_forward(tree.array(X23), tree.array(np.ones((4, 5))), tree.array(B5))
    with pytest.raises(ValueError, match=r"w must have 2 dimensions, got shape \(3,\)"):
        tree.affine_forward(tree.array(X23), tree.array(np.ones(3)), tree.array(B5))


def test_affine_weight_shape_counts_flattened_features(tree):
    x = tree.array(np.ones((2, 2, 3)))  # 6 features per example
    with pytest.raises(ValueError, match=r"w must have shape \(6, any\), got \(3, 5\)"):
        tree.affine_forward(x, tree.array(W35), tree.array(B5))


def test_affine_wrong_bias_shape(tree):
    with pytest.raises(ValueError, match=shape_msg("b", (5,), (4,))):
        tree.affine_forward(tree.array(X23), tree.array(W35), tree.array(np.zeros(4)))
    with pytest.raises(ValueError, match=r"b must have 1 dimension, got shape \(1, 5\)"):
        tree.affine_forward(tree.array(X23), tree.array(W35), tree.array(np.zeros((1, 5))))


def test_affine_integer_input(tree):
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype, got .*int64"):
        tree.affine_forward(tree.array(X23, np.int64), tree.array(W35), tree.array(B5))
    with pytest.raises(TypeError, match=r"w must have a floating-point dtype, got .*int64"):
        tree.affine_forward(tree.array(X23), tree.array(W35, np.int64), tree.array(B5))


def test_affine_does_not_scan_values(tree):
    """Forward passes check metadata only: a NaN propagates (the training loop and fit
    check values where data enters)."""
    x = X23.copy()
    x[1, 2] = np.nan
    out, _ = tree.affine_forward(tree.array(x), tree.array(W35), tree.array(B5))
    assert np.isnan(np.asarray(out)[1]).all() and not np.isnan(np.asarray(out)[0]).any()


def test_affine_not_an_array(tree):
    with pytest.raises(TypeError, match=kind_error(tree, "x", "list")):
        tree.affine_forward(X23.tolist(), tree.array(W35), tree.array(B5))
    with pytest.raises(TypeError, match=kind_error(tree, "b", "0.0")):
        tree.affine_forward(tree.array(X23), tree.array(W35), 0.0)


def test_affine_backward_wrong_dout_shape(tree):
    _, cache = tree.affine_forward(tree.array(X23), tree.array(W35), tree.array(B5))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 5\), got \(2, 4\)"):
        tree.affine_backward(tree.array(np.ones((2, 4))), cache)
    with pytest.raises(ValueError, match=r"dout must have 2 dimensions, got shape \(10,\)"):
        tree.affine_backward(tree.array(np.ones(10)), cache)


def test_one_dim_expected_shape_is_written_as_a_tuple(tree):
    with pytest.raises(ValueError, match=re.escape("b must have shape (5,), got (4,)")):
        tree.affine_forward(tree.array(X23), tree.array(W35), tree.array(np.zeros(4)))


# --------------------------------------------------------------------------- ReLU


def test_relu_bad_input(tree):
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype, got .*int64"):
        tree.relu_forward(tree.array([1, -2], np.int64))
    _, cache = tree.relu_forward(tree.array(X23))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\), got \(3, 2\)"):
        tree.relu_backward(tree.array(np.ones((3, 2))), cache)


# --------------------------------------------------------------------------- classification losses

CLASSIFICATION = ["softmax_loss", "svm_loss"]


@pytest.mark.parametrize("fn", CLASSIFICATION)
@pytest.mark.parametrize("labels, lo, hi", [([0, 3], 0, 3), ([-1, 2], -1, 2), ([5, 7], 5, 7)])
def test_label_out_of_range(tree, fn, labels, lo, hi):
    error, pattern = label_error(tree, "y", 3, lo, hi)
    with pytest.raises(error, match=pattern):
        getattr(tree, fn)(tree.array(S23), int_labels(tree, labels))


@pytest.mark.parametrize("fn", CLASSIFICATION)
def test_float_int_labels(tree, fn):
    expected = "y must be an integer array of class labels, got "
    with pytest.raises(TypeError, match=expected + ".*float64"):
        getattr(tree, fn)(tree.array(S23), tree.array([0.0, 1.0]))
    with pytest.raises(TypeError, match=expected + ".*bool"):
        getattr(tree, fn)(tree.array(S23), tree.array([0, 1], bool))
    # a plain list is refused by name
    with pytest.raises(TypeError, match=r"y must be an array of class labels, got list"):
        getattr(tree, fn)(tree.array(S23), [0, 1])


@pytest.mark.parametrize("fn", CLASSIFICATION)
@pytest.mark.parametrize("shape", [(2, 1), (3,), (1,), (1, 2)])
def test_wrong_label_shape(tree, fn, shape):
    with pytest.raises(ValueError, match=shape_msg("y", (2,), shape)):
        getattr(tree, fn)(tree.array(S23), int_labels(tree, np.zeros(shape)))


@pytest.mark.parametrize("fn", CLASSIFICATION)
def test_nan_scores_give_a_nan_loss(tree, fn):
    s = S23.copy()
    s[0, 1] = np.nan
    loss, _ = getattr(tree, fn)(tree.array(s), int_labels(tree, [0, 1]))
    assert np.isnan(float(loss))


@pytest.mark.parametrize("fn", CLASSIFICATION)
def test_scores_must_be_a_matrix(tree, fn):
    with pytest.raises(ValueError, match=r"scores must have 2 dimensions, got shape \(3,\)"):
        getattr(tree, fn)(tree.array([1.0, 2.0, 3.0]), int_labels(tree, [0, 1, 2]))


@pytest.mark.parametrize("delta", [0.0, -1.0, float("nan")])
def test_svm_bad_delta(tree, delta):
    with pytest.raises(ValueError, match=rf"delta must be finite and > 0, got {delta}"):
        tree.svm_loss(tree.array(S23), int_labels(tree, [0, 1]), delta)


def test_svm_module_bad_delta():
    with pytest.raises(ValueError, match="delta must be finite and > 0, got -2"):
        nntrain.torch.SVMLoss(delta=-2)


# --------------------------------------------------------------------------- regression losses

REGRESSION = ["l2_loss", "l1_loss"]


@pytest.mark.parametrize("fn", REGRESSION)
@pytest.mark.parametrize(
    "pred_shape, target_shape",
    [((3, 2), (2, 3)), ((3, 1), (3,)), ((3,), (3, 1)), ((4,), (5,)), ((2, 2), (2, 2, 1))],
)
def test_regression_mismatched_shapes(tree, fn, pred_shape, target_shape):
    with pytest.raises(ValueError, match=shape_msg("target", pred_shape, target_shape)):
        getattr(tree, fn)(tree.array(np.zeros(pred_shape)), tree.array(np.zeros(target_shape)))


@pytest.mark.parametrize("fn", REGRESSION)
def test_regression_bad_dtype_and_values(tree, fn):
    with pytest.raises(TypeError, match=r"pred must have a floating-point dtype, got .*int64"):
        getattr(tree, fn)(tree.array([1, 2], np.int64), tree.array([1.0, 2.0]))
    assert np.isnan(float(getattr(tree, fn)(tree.array([1.0, 2.0]), tree.array([1.0, np.nan]))[0]))
    with pytest.raises(ValueError, match=r"pred must hold at least one value"):
        getattr(tree, fn)(tree.array(np.zeros(0)), tree.array(np.zeros(0)))


# --------------------------------------------------------------------------- mixing NumPy and torch
#
# Each tree takes its own kind only (NumPy arrays for the reference, tensors for the twin);
# an argument of the other kind is refused by name, and labels of the other kind than the
# scores are refused as a mix. Each case puts one foreign value among native ones.


def _affine_forward(position):
    def call(tree):
        args = [tree.array(X23), tree.array(W35), tree.array(B5)]
        args[position] = tree.other([X23, W35, B5][position])
        tree.affine_forward(*args)

    return call


def _affine_backward_dout(tree):
    _, cache = tree.affine_forward(tree.array(X23), tree.array(W35), tree.array(B5))
    tree.affine_backward(tree.other(np.ones((2, 5))), cache)


def _affine_backward_cache(tree):
    cache = (tree.other(X23), tree.other(W35), tree.other(B5))  # from the other tree's forward
    tree.affine_backward(tree.array(np.ones((2, 5))), cache)


def _relu_forward(tree):
    tree.relu_forward(tree.other(X23))


def _relu_backward_dout(tree):
    _, cache = tree.relu_forward(tree.array(X23))
    tree.relu_backward(tree.other(np.ones((2, 3))), cache)


def _relu_backward_cache(tree):
    tree.relu_backward(tree.array(np.ones((2, 3))), tree.other(X23))


def _loss_scores(fn):
    return lambda tree: getattr(tree, fn)(tree.other(S23), int_labels(tree, [0, 1]))


def _loss_labels(fn):
    return lambda tree: getattr(tree, fn)(tree.array(S23), tree.other([0, 1], np.int64))


def _regression(fn, position):
    def call(tree):
        args = [tree.array(S23), tree.array(S23)]
        args[position] = tree.other(S23)
        getattr(tree, fn)(*args)

    return call


def _net_inputs(tree):
    make_net(tree, [4], input_dim=3, num_classes=3, seed=0).loss(
        tree.other(S23), int_labels(tree, [0, 1])
    )


def _net_labels(tree):
    net = make_net(tree, [4], input_dim=3, num_classes=3, seed=0)
    net.loss(tree.array(S23), tree.other([0, 1], np.int64))


def _net_targets(tree):
    net = make_net(tree, [4], input_dim=3, num_classes=3, seed=0, loss="l2")
    net.loss(tree.array(S23), tree.other(S23))


FOREIGN_ARGUMENT = [  # (call, name of the foreign argument)
    pytest.param(_affine_forward(0), "x", id="affine_forward-x"),
    pytest.param(_affine_forward(1), "w", id="affine_forward-w"),
    pytest.param(_affine_forward(2), "b", id="affine_forward-b"),
    pytest.param(_affine_backward_dout, "dout", id="affine_backward-dout"),
    pytest.param(_relu_forward, "x", id="relu_forward-x"),
    pytest.param(_relu_backward_dout, "dout", id="relu_backward-dout"),
    *[pytest.param(_loss_scores(fn), "scores", id=f"{fn}-scores") for fn in CLASSIFICATION],
    *[pytest.param(_regression(fn, 0), "pred", id=f"{fn}-pred") for fn in REGRESSION],
    *[pytest.param(_regression(fn, 1), "target", id=f"{fn}-target") for fn in REGRESSION],
    pytest.param(_net_inputs, "X", id="net-X"),
    pytest.param(_net_targets, "y", id="net-regression-y"),
]


@pytest.mark.parametrize("call, name", FOREIGN_ARGUMENT)
def test_argument_of_the_other_kind(tree, call, name):
    with pytest.raises(TypeError, match=kind_error(tree, name, foreign_name(tree))):
        call(tree)


@pytest.mark.parametrize(
    "call",
    [
        *[pytest.param(_loss_labels(fn), id=fn) for fn in CLASSIFICATION],
        pytest.param(_net_labels, id="net"),
    ],
)
def test_labels_of_the_other_kind(tree, call):
    kinds = rf"\(scores: {native_name(tree)}, y: {foreign_name(tree)}\)"
    pattern = r"mix of NumPy arrays and torch tensors " + kinds
    with pytest.raises(TypeError, match=pattern):
        call(tree)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(_affine_backward_cache, id="affine"),
        pytest.param(_relu_backward_cache, id="relu"),
    ],
)
def test_cache_of_the_other_kind(tree, call):
    pattern = rf"must be (a NumPy array|a torch tensor), got {foreign_name(tree)}"
    with pytest.raises(TypeError, match=pattern):
        call(tree)


@pytest.mark.gpu
def test_tensors_on_different_devices():
    x = torch.ones(2, 3, dtype=torch.float64)
    w = torch.ones(3, 5, dtype=torch.float64, device="cuda")
    with pytest.raises(ValueError, match=r"tensors on different devices \(x: cpu, w: cuda:0"):
        nntrain.torch.affine_forward(x, w, torch.zeros(5, dtype=torch.float64))
    scores = torch.zeros(2, 3, dtype=torch.float64, device="cuda")
    pattern = r"tensors on different devices \(scores: cuda:0, y: cpu\)"
    with pytest.raises(ValueError, match=pattern):
        nntrain.torch.softmax_loss(scores, torch.tensor([0, 1]))


# --------------------------------------------------------------------------- FullyConnectedNet


@pytest.mark.parametrize("hidden_dims", [4, np.int64(4), None, 2.5])
def test_net_hidden_dims_not_a_list(tree, hidden_dims):
    message = f"hidden_dims must be a list of layer widths, got {hidden_dims!r}"
    with pytest.raises(TypeError, match=re.escape(message)):
        make_net(tree, hidden_dims, input_dim=3, num_classes=2)


@pytest.mark.parametrize(
    "hidden_dims, index, bad, error",
    [
        ([4, 0], 1, "0", ValueError),
        ([-3], 0, "-3", ValueError),
        ([4, 2.5], 1, "2.5", TypeError),
        ([True], 0, "bool", TypeError),
    ],
)
def test_net_bad_hidden_width(tree, hidden_dims, index, bad, error):
    pattern = rf"hidden_dims\[{index}\] must be a positive integer, got {bad}"
    with pytest.raises(error, match=pattern):
        make_net(tree, hidden_dims, input_dim=3, num_classes=2)


def test_net_unknown_activation(tree):
    names = "'elu', 'gelu', 'leaky_relu', 'relu', 'sigmoid', 'silu', 'tanh'"
    with pytest.raises(ValueError, match=rf"activation must be one of {names}, got 'swish'"):
        make_net(tree, [4], input_dim=3, num_classes=2, activation="swish")


def test_net_unknown_loss(tree):
    pattern = "loss must be one of 'l1', 'l2', 'softmax', 'svm', got 'hinge'"
    with pytest.raises(ValueError, match=pattern):
        make_net(tree, [4], input_dim=3, num_classes=2, loss="hinge")


def test_net_integer_dtype(tree):
    dtype = np.int64 if tree.is_reference else torch.int64
    with pytest.raises(TypeError, match=r"dtype must be a floating-point .*got .*int64"):
        make_net(tree, [4], input_dim=3, num_classes=2, dtype=dtype)


@pytest.mark.parametrize("with_targets", [False, True])
def test_net_wrong_feature_size(tree, with_targets):
    net = make_net(tree, [4], input_dim=3, num_classes=2, seed=0)
    y = int_labels(tree, [0, 1]) if with_targets else None
    with pytest.raises(ValueError, match=r"X must have 3 features per example, got shape \(2, 4\)"):
        net.loss(tree.array(np.ones((2, 4))), y)
    pattern = r"X must have 3 features per example, got shape \(2, 2, 2\)"
    with pytest.raises(ValueError, match=pattern):
        net.loss(tree.array(np.ones((2, 2, 2))), y)
    with pytest.raises(ValueError, match=r"X must have at least 2 dimensions, got shape \(3,\)"):
        net.loss(tree.array(np.ones(3)), y)


@pytest.mark.parametrize("reg", [-0.5, float("nan")])
def test_net_negative_reg_set_after_construction(tree, reg):
    net = make_net(tree, [4], input_dim=3, num_classes=2, seed=0)
    net.loss(tree.array(X23), int_labels(tree, [0, 1]))  # fine with the default reg
    net.reg = reg
    with pytest.raises(ValueError, match=rf"reg must be finite and >= 0, got {reg}"):
        net.loss(tree.array(X23), int_labels(tree, [0, 1]))
    net.reg = "0.1"
    with pytest.raises(TypeError, match="reg must be a real number, got str"):
        net.loss(tree.array(X23), int_labels(tree, [0, 1]))


def test_net_bad_labels_and_targets(tree):
    net = make_net(tree, [4], input_dim=3, num_classes=2, seed=0)
    error, pattern = label_error(tree, "y", 2, 0, 2)
    with pytest.raises(error, match=pattern):
        net.loss(tree.array(X23), int_labels(tree, [0, 2]))
    reg_net = make_net(tree, [4], input_dim=3, num_classes=2, seed=0, loss="l2")
    with pytest.raises(ValueError, match=shape_msg("y", (2, 2), (2,))):
        reg_net.loss(tree.array(X23), tree.array([0.5, 1.0]))  # flat targets only for one output
    with pytest.raises(ValueError, match=r"y must have shape \(2, 2\), got \(2, 3\)"):
        reg_net.loss(tree.array(X23), tree.array(np.zeros((2, 3))))


def test_affine_module_bad_sizes():
    with pytest.raises(ValueError, match="in_features must be a positive integer, got 0"):
        nntrain.torch.Affine(0, 3)
    with pytest.raises(ValueError, match="weight_scale must be finite and > 0, got -1"):
        nntrain.torch.Affine(2, 3, weight_scale=-1)


# --------------------------------------------------------------------------- gradcheck


def test_rel_error_mismatched_shapes():
    pattern = r"x and y must have the same shape, got \(2,\) and \(3,\)"
    with pytest.raises(ValueError, match=pattern):
        rel_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"got \(2, 3\) and \(3, 2\)"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_numerical_gradient_bad_input():
    f = lambda a: float((a**2).sum())  # noqa: E731
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype, got int64"):
        eval_numerical_gradient(f, np.array([1, 2]))
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        eval_numerical_gradient(f, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="h must be finite and > 0, got 0"):
        eval_numerical_gradient(f, np.array([1.0]), h=0)
    with pytest.raises(ValueError, match="df contains NaN or infinite values"):
        eval_numerical_gradient_array(lambda a: a, np.array([1.0]), np.array([np.nan]))
