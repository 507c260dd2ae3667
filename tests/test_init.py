"""Weight initialization (nntrain.reference.init and its torch twin nntrain.torch.init): the
gains are torch.nn.init's, every scheme draws at the scale of its formula (sample standard
deviation, uniform bounds), the reference, the twin and torch.nn.init draw from the same
distribution (two-sample Kolmogorov-Smirnov test, the reference array transposed to
PyTorch's layout) and the twin draws exactly torch.nn.init's values from the same generator
state, the fans follow each tree's layout, draws are reproducible from a seed, the twin fills
its tensor in place, and bad arguments are refused with a message that says what was
expected."""

import math

import nntrain.reference as R
import nntrain.torch as T
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import ks_2samp

LINEAR = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
]
NAMES = LINEAR + ["sigmoid", "tanh", "relu", "leaky_relu", "selu"]

#: Shapes in the reference layout: an affine weight (D_in, D_out) and a conv weight
#: (F, C, HH, WW). Their fans (fan_in, fan_out) are (400, 500) and (32*9, 64*9).
REF_SHAPES = {"affine": (400, 500), "conv": (64, 32, 3, 3)}
FANS = {"affine": (400, 500), "conv": (288, 576)}


def torch_layout(shape):
    """The PyTorch shape of a reference weight shape: affine weights are transposed."""
    return tuple(reversed(shape)) if len(shape) == 2 else tuple(shape)


def to_torch_layout(w):
    """A reference weight array in PyTorch's layout."""
    return w.T if w.ndim == 2 else w


def leaky_gain(a):
    return math.sqrt(2 / (1 + a * a))


#: (id, reference name, keyword arguments, std as a function of (fan_in, fan_out), uniform?)
SCHEMES = [
    ("normal", "normal", {"std": 0.05}, lambda fi, fo: 0.05, False),
    ("xavier_uniform", "xavier_uniform", {}, lambda fi, fo: math.sqrt(2 / (fi + fo)), True),
    (
        "xavier_uniform-tanh",
        "xavier_uniform",
        {"gain": 5 / 3},
        lambda fi, fo: 5 / 3 * math.sqrt(2 / (fi + fo)),
        True,
    ),
    ("xavier_normal", "xavier_normal", {}, lambda fi, fo: math.sqrt(2 / (fi + fo)), False),
    (
        "xavier_normal-gain2",
        "xavier_normal",
        {"gain": 2.0},
        lambda fi, fo: 2 * math.sqrt(2 / (fi + fo)),
        False,
    ),
    ("kaiming_uniform", "kaiming_uniform", {}, lambda fi, fo: math.sqrt(2 / fi), True),
    (
        "kaiming_uniform-leaky-fan_out",
        "kaiming_uniform",
        {"a": 0.2, "mode": "fan_out"},
        lambda fi, fo: leaky_gain(0.2) / math.sqrt(fo),
        True,
    ),
    ("kaiming_normal", "kaiming_normal", {}, lambda fi, fo: math.sqrt(2 / fi), False),
    (
        "kaiming_normal-relu",
        "kaiming_normal",
        {"nonlinearity": "relu"},
        lambda fi, fo: math.sqrt(2 / fi),
        False,
    ),
    (
        "kaiming_normal-tanh-fan_out",
        "kaiming_normal",
        {"mode": "fan_out", "nonlinearity": "tanh"},
        lambda fi, fo: 5 / 3 / math.sqrt(fo),
        False,
    ),
    ("lecun_normal", "lecun_normal", {}, lambda fi, fo: 1 / math.sqrt(fi), False),
]
SCHEME_IDS = [s[0] for s in SCHEMES]
FAN_SCHEMES = [
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "lecun_normal",
]
RANDOM = ["normal"] + FAN_SCHEMES
#: The smallest extra arguments each random scheme needs.
REQUIRED = {"normal": {"std": 1.0}}


def torch_nn_init(name, tensor, kwargs, generator):
    """torch.nn.init's own version of a scheme (lecun_normal: kaiming_normal_, linear)."""
    if name == "lecun_normal":
        return torch.nn.init.kaiming_normal_(tensor, nonlinearity="linear", generator=generator)
    return getattr(torch.nn.init, name + "_")(tensor, **kwargs, generator=generator)


def draw_ref(name, shape, kwargs, seed=0):
    return getattr(R.init, name)(shape, **kwargs, rng=np.random.default_rng(seed))


def draw_twin(name, shape, kwargs, seed=0, dtype=torch.float64):
    t = torch.empty(torch_layout(shape), dtype=dtype)
    return getattr(T.init, name + "_")(t, **kwargs, rng=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------- gains


@pytest.mark.parametrize("name", NAMES)
def test_gain_equals_torch(tree, name):
    gain = tree.init.calculate_gain(name)
    assert gain == torch.nn.init.calculate_gain(name)
    assert isinstance(gain, float)


def test_gain_values():
    assert all(R.init.calculate_gain(n) == 1 for n in LINEAR + ["sigmoid"])
    assert R.init.calculate_gain("tanh") == 5 / 3
    assert R.init.calculate_gain("relu") == math.sqrt(2)
    assert R.init.calculate_gain("selu") == 3 / 4
    assert R.init.calculate_gain("leaky_relu") == pytest.approx(leaky_gain(0.01), rel=1e-15)
    assert R.init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert R.init.calculate_gain("leaky_relu", 1) == 1


@pytest.mark.parametrize("slope", [0, 0.01, 0.1, 0.2, 0.3, 1, 5.5, -0.5])
def test_leaky_relu_gain_equals_torch(tree, slope):
    assert tree.init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain(
        "leaky_relu", slope
    )


@given(st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-1000, 1000))
def test_leaky_relu_gain_equals_torch_for_any_slope(slope):
    assert R.init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain(
        "leaky_relu", slope
    )


@pytest.mark.parametrize("name", ["relu", "tanh", "linear", "selu"])
def test_param_is_ignored_except_by_leaky_relu(name):
    # as in torch: the slope means nothing to another nonlinearity, and is not checked
    for param in (0.5, "x", True):
        assert R.init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


@pytest.mark.parametrize("bad", ["Relu", "gelu", "identity", "", "leaky relu", None, 3])
def test_unknown_nonlinearity_is_refused_like_torch(tree, bad):
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        torch.nn.init.calculate_gain(bad)
    with pytest.raises(ValueError, match="nonlinearity must be one of") as info:
        tree.init.calculate_gain(bad)
    assert repr(bad) in str(info.value)
    assert all(name in str(info.value) for name in NAMES)


@pytest.mark.parametrize("bad", [True, False, "0.1", [0.1], 1 + 0j])
def test_bad_leaky_relu_slope_is_refused_like_torch(tree, bad):
    with pytest.raises(ValueError, match="not a valid number"):
        torch.nn.init.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError, match="param .*must be a real number"):
        tree.init.calculate_gain("leaky_relu", bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_leaky_relu_slope_is_refused(bad):
    # stricter than torch, which returns nan (or 0) for these
    with pytest.raises(ValueError, match="must be finite"):
        R.init.calculate_gain("leaky_relu", bad)


# -------------------------------------------------------------------------------- fans


def test_fans_of_each_layout():
    # the same affine layer, 3 inputs and 5 outputs, in each tree's layout
    assert R.init.fans((3, 5)) == (3, 5)  # reference: (D_in, D_out)
    assert T.init.fans((5, 3)) == (3, 5)  # torch: (out, in)
    assert torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(5, 3)) == (3, 5)
    # conv weights have the same layout, (F, C, HH, WW), in both trees
    assert R.init.fans((64, 32, 3, 3)) == T.init.fans((64, 32, 3, 3)) == (288, 576)


@given(st.lists(st.integers(1, 7), min_size=2, max_size=5))
def test_fans_agree_with_torch_and_differ_by_a_transpose(shape):
    theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert T.init.fans(tuple(shape)) == theirs
    assert R.init.fans(torch_layout(shape)) == theirs


@pytest.mark.parametrize("scheme", ["kaiming_normal", "lecun_normal"])
def test_fan_in_is_the_input_size_in_each_layout(scheme):
    # D_in = 1000 inputs, 10 outputs: the fan-in schemes must scale by 1/sqrt(1000), not
    # 1/sqrt(10), whichever way round the weight is stored
    w = draw_ref(scheme, (1000, 10), {})
    t = draw_twin(scheme, (1000, 10), {})
    assert t.shape == (10, 1000)
    gain = math.sqrt(2) if scheme == "kaiming_normal" else 1
    assert w.std() == pytest.approx(gain / math.sqrt(1000), rel=0.03)
    assert t.std().item() == pytest.approx(gain / math.sqrt(1000), rel=0.03)


# ----------------------------------------------------------------- scale of the draws


@pytest.mark.parametrize("layer", list(REF_SHAPES))
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_reference_draws_at_the_scale_of_the_formula(scheme, layer):
    _, name, kwargs, std_of, uniform = scheme
    shape, (fan_in, fan_out) = REF_SHAPES[layer], FANS[layer]
    std = std_of(fan_in, fan_out)
    w = draw_ref(name, shape, kwargs)
    assert isinstance(w, np.ndarray) and w.dtype == np.float64 and w.shape == shape
    assert w.std() == pytest.approx(std, rel=0.03)
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)
    if uniform:
        bound = math.sqrt(3) * std
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.99 * bound


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layer", list(REF_SHAPES))
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_twin_draws_at_the_scale_of_the_formula(scheme, layer, dtype):
    _, name, kwargs, std_of, uniform = scheme
    std = std_of(*FANS[layer])
    t = draw_twin(name, REF_SHAPES[layer], kwargs, dtype=dtype)
    assert t.dtype == dtype and tuple(t.shape) == torch_layout(REF_SHAPES[layer])
    assert t.std().item() == pytest.approx(std, rel=0.03)
    assert abs(t.mean().item()) < 5 * std / math.sqrt(t.numel())
    if uniform:
        bound = math.sqrt(3) * std
        assert t.abs().max().item() <= bound * (1 + 1e-6)
        assert t.abs().max().item() > 0.99 * bound


@given(
    st.sampled_from(["xavier_uniform", "kaiming_uniform"]),
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.floats(0.0, 10.0),
    st.integers(0, 2**32 - 1),
)
def test_uniform_bounds_are_respected_for_any_shape(name, shape, gain, seed):
    fan_in, fan_out = shape
    if name == "xavier_uniform":
        kwargs, bound = {"gain": gain}, gain * math.sqrt(6 / (fan_in + fan_out))
    else:
        kwargs, bound = (
            {"a": gain, "nonlinearity": "leaky_relu"},
            (leaky_gain(gain) * math.sqrt(3 / fan_in)),
        )
    w = draw_ref(name, shape, kwargs, seed)
    t = draw_twin(name, shape, kwargs, seed)
    assert np.abs(w).max() <= bound
    assert t.abs().max().item() <= bound


# ------------------------------------------------------------- the same distribution


@pytest.mark.parametrize("layer", list(REF_SHAPES))
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_reference_twin_and_torch_draw_from_the_same_distribution(scheme, layer):
    _, name, kwargs, _, _ = scheme
    shape = REF_SHAPES[layer]
    w = to_torch_layout(draw_ref(name, shape, kwargs, seed=1))
    t = draw_twin(name, shape, kwargs, seed=2)
    theirs = torch_nn_init(
        name,
        torch.empty(torch_layout(shape), dtype=torch.float64),
        kwargs,
        torch.Generator().manual_seed(3),
    )
    assert w.shape == tuple(t.shape) == tuple(theirs.shape)
    assert ks_2samp(w.ravel(), t.numpy().ravel()).pvalue > 1e-3
    assert ks_2samp(w.ravel(), theirs.numpy().ravel()).pvalue > 1e-3
    assert ks_2samp(t.numpy().ravel(), theirs.numpy().ravel()).pvalue > 1e-3


def test_the_ks_test_tells_the_layouts_apart():
    # guards the test above: with the fans swapped (the reference shape given to torch
    # untransposed) the Kaiming distributions differ, and the KS test sees it
    w = draw_ref("kaiming_normal", (400, 500), {}, seed=1)
    wrong = torch.nn.init.kaiming_normal_(torch.empty(400, 500, dtype=torch.float64))
    assert ks_2samp(w.ravel(), wrong.numpy().ravel()).pvalue < 1e-6


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layer", list(REF_SHAPES))
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_twin_draws_torch_values_from_the_same_generator_state(scheme, layer, dtype):
    _, name, kwargs, _, _ = scheme
    shape = torch_layout(REF_SHAPES[layer])
    ours = getattr(T.init, name + "_")(
        torch.empty(shape, dtype=dtype), **kwargs, rng=torch.Generator().manual_seed(7)
    )
    theirs = torch_nn_init(
        name, torch.empty(shape, dtype=dtype), kwargs, torch.Generator().manual_seed(7)
    )
    assert torch.equal(ours, theirs)


# ----------------------------------------------------------------------- reproducible


@pytest.mark.parametrize("name", RANDOM)
def test_reference_is_reproducible_from_a_seed(name):
    kwargs = REQUIRED.get(name, {})
    a, b = draw_ref(name, (30, 20), kwargs, seed=5), draw_ref(name, (30, 20), kwargs, seed=5)
    c = draw_ref(name, (30, 20), kwargs, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a is not b


@pytest.mark.parametrize("name", RANDOM)
def test_twin_is_reproducible_from_a_seed(name):
    kwargs = REQUIRED.get(name, {})
    a, b = draw_twin(name, (30, 20), kwargs, seed=5), draw_twin(name, (30, 20), kwargs, seed=5)
    c = draw_twin(name, (30, 20), kwargs, seed=6)
    assert torch.equal(a, b) and not torch.equal(a, c)
    fill = getattr(T.init, name + "_")
    torch.manual_seed(11)
    d = fill(torch.empty(20, 30), **kwargs)  # rng=None: the global generator
    torch.manual_seed(11)
    e = fill(torch.empty(20, 30), **kwargs)
    assert torch.equal(d, e)


def test_reference_draws_advance_the_generator():
    rng = np.random.default_rng(0)
    a, b = R.init.xavier_normal((10, 10), rng=rng), R.init.xavier_normal((10, 10), rng=rng)
    assert not np.array_equal(a, b)


# ----------------------------------------------------------------- constants, 1-D


def test_zeros_and_constant_any_rank():
    for shape in [(), (5,), (2, 3), (2, 3, 4, 5)]:
        z = R.init.zeros(shape)
        assert z.shape == shape and z.dtype == np.float64 and not z.any()
        c = R.init.constant(shape, 0.25)
        assert c.shape == shape and c.dtype == np.float64 and (c == 0.25).all()
        t = torch.empty(shape)
        assert T.init.zeros_(t) is t and not t.any()
        assert T.init.constant_(t, -1.5) is t and (t == -1.5).all()
    assert R.init.zeros(4).shape == (4,)  # a plain int is a 1-D shape, as for np.zeros


def test_rng_is_ignored_by_zeros_and_constant():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(R.init.zeros((2, 2), rng=rng), np.zeros((2, 2)))
    np.testing.assert_array_equal(R.init.constant((2,), 3, rng=rng), [3.0, 3.0])
    t = torch.empty(3)
    assert (T.init.constant_(t, 2, rng=torch.Generator()) == 2).all()
    assert not T.init.zeros_(t, rng=torch.Generator()).any()


def test_normal_takes_any_rank_and_std_zero():
    rng = np.random.default_rng(0)
    assert R.init.normal((1000,), 2.0, rng=rng).std() == pytest.approx(2.0, rel=0.1)
    assert not R.init.normal((3, 3), 0, rng=rng).any()
    assert R.init.normal((), 1.0, rng=rng).shape == ()
    assert T.init.normal_(torch.empty(1000, dtype=torch.float64), 2.0).std().item() == (
        pytest.approx(2.0, rel=0.1)
    )
    assert not T.init.normal_(torch.empty(3, 3), 0.0).any()


@pytest.mark.parametrize("name", FAN_SCHEMES)
def test_empty_weights(name):
    for shape in [(0, 5), (5, 0), (0, 0), (4, 0, 3, 3)]:
        w = draw_ref(name, shape, {})
        assert w.shape == shape and w.dtype == np.float64
        t = torch.empty(shape)
        assert getattr(T.init, name + "_")(t) is t


# --------------------------------------------------------------- in place on a tensor


FILLS = [("zeros_", {}), ("constant_", {"value": 0.5}), ("normal_", {"std": 0.1})] + [
    (name + "_", {}) for name in FAN_SCHEMES
]


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fill,kwargs", FILLS, ids=[f for f, _ in FILLS])
def test_twin_fills_in_place(fill, kwargs, dtype, requires_grad):
    t = torch.full((6, 4, 3), math.nan, dtype=dtype, requires_grad=requires_grad)
    ptr = t.data_ptr()
    out = getattr(T.init, fill)(t, **kwargs)
    assert out is t and t.data_ptr() == ptr
    assert t.dtype == dtype and t.shape == (6, 4, 3)
    assert t.requires_grad == requires_grad and t.is_leaf and t.grad_fn is None
    assert torch.isfinite(t).all()


def test_twin_initializes_a_module_parameter():
    layer = torch.nn.Linear(300, 20)
    out = T.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    assert out is layer.weight and isinstance(out, torch.nn.Parameter) and out.requires_grad
    assert out.std().item() == pytest.approx(math.sqrt(2 / 300), rel=0.1)
    T.init.zeros_(layer.bias)
    layer(torch.randn(2, 300)).sum().backward()  # still trainable
    assert layer.weight.grad is not None


def test_twin_fills_a_view_of_a_larger_tensor():
    big = torch.zeros(10, 10)
    T.init.constant_(big[:3], 1.0)
    assert big[:3].eq(1).all() and big[3:].eq(0).all()


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal"])
def test_unknown_nonlinearity_in_kaiming_is_refused(name):
    with pytest.raises(ValueError, match="nonlinearity must be one of .*got 'gelu'"):
        draw_ref(name, (3, 4), {"nonlinearity": "gelu"})
    with pytest.raises(ValueError, match="nonlinearity must be one of .*got 'gelu'"):
        draw_twin(name, (3, 4), {"nonlinearity": "gelu"})


@pytest.mark.parametrize("name", FAN_SCHEMES)
@pytest.mark.parametrize("shape", [(5,), (), (0,)])
def test_fewer_than_two_dimensions_is_refused(name, shape):
    with pytest.raises(ValueError, match="shape must have at least 2 dimensions"):
        draw_ref(name, shape, {})
    with pytest.raises(ValueError, match="tensor must have at least 2 dimensions"):
        getattr(T.init, name + "_")(torch.empty(shape))


@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal"])
@pytest.mark.parametrize("mode", ["fan_avg", "FAN_IN", "", None, 0])
def test_mode_other_than_fan_in_or_fan_out_is_refused(name, mode):
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got"):
        draw_ref(name, (3, 4), {"mode": mode})
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got"):
        draw_twin(name, (3, 4), {"mode": mode})


@pytest.mark.parametrize(
    "std,error",
    [
        (-0.1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("1", TypeError),
        (True, TypeError),
    ],
)
def test_bad_std_is_refused(std, error):
    with pytest.raises(error, match="std must be"):
        R.init.normal((3, 4), std, rng=np.random.default_rng(0))
    with pytest.raises(error, match="std must be"):
        T.init.normal_(torch.empty(3, 4), std)


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal"])
@pytest.mark.parametrize(
    "gain,error", [(-1.0, ValueError), (math.nan, ValueError), ("2", TypeError)]
)
def test_bad_gain_is_refused(name, gain, error):
    with pytest.raises(error, match="gain must be"):
        draw_ref(name, (3, 4), {"gain": gain})
    with pytest.raises(error, match="gain must be"):
        draw_twin(name, (3, 4), {"gain": gain})


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize(
    "rng",
    [None, 0, np.random.RandomState(0), torch.Generator()],
    ids=["None", "int", "RandomState", "torch.Generator"],
)
def test_reference_rng_must_be_a_numpy_generator(name, rng):
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator.*default_rng"):
        getattr(R.init, name)((3, 4), **REQUIRED.get(name, {}), rng=rng)


def test_reference_rng_is_required():
    with pytest.raises(TypeError, match="rng"):
        R.init.xavier_uniform((3, 4))


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("rng", [0, np.random.default_rng(0)], ids=["int", "numpy"])
def test_twin_rng_must_be_a_torch_generator(name, rng):
    with pytest.raises(TypeError, match=r"rng must be a torch.Generator or None"):
        getattr(T.init, name + "_")(torch.empty(3, 4), **REQUIRED.get(name, {}), rng=rng)


@pytest.mark.parametrize("name", RANDOM)
def test_twin_rng_must_be_for_the_tensors_device(name):
    # a tensor on the meta device stands in for a GPU one: a CPU generator cannot fill it
    t = torch.empty(3, 4, device="meta")
    with pytest.raises(ValueError, match="rng must be a generator for the tensor's device"):
        getattr(T.init, name + "_")(t, **REQUIRED.get(name, {}), rng=torch.Generator())


@pytest.mark.parametrize(
    "shape,error",
    [
        ("ab", TypeError),
        ((2.0, 3), TypeError),
        ((True, 3), TypeError),
        ((-1, 3), ValueError),
        (None, TypeError),
    ],
)
def test_bad_shape_is_refused(shape, error):
    with pytest.raises(error, match="shape must be a tuple of non-negative integers"):
        R.init.zeros(shape)
    with pytest.raises(error, match="shape must be a tuple of non-negative integers"):
        R.init.xavier_uniform(shape, rng=np.random.default_rng(0))


@pytest.mark.parametrize("fill,kwargs", FILLS, ids=[f for f, _ in FILLS])
def test_twin_refuses_what_is_not_a_floating_tensor(fill, kwargs):
    with pytest.raises(TypeError, match="tensor must be a torch tensor, got ndarray"):
        getattr(T.init, fill)(np.zeros((3, 4)), **kwargs)
    with pytest.raises(TypeError, match="tensor must have a floating-point dtype"):
        getattr(T.init, fill)(torch.zeros(3, 4, dtype=torch.int64), **kwargs)


@pytest.mark.parametrize(
    "value,error", [(math.nan, ValueError), ("1", TypeError), (None, TypeError)]
)
def test_bad_constant_is_refused(value, error):
    with pytest.raises(error, match="value must be"):
        R.init.constant((2,), value)
    with pytest.raises(error, match="value must be"):
        T.init.constant_(torch.empty(2), value)


# --------------------------------------------------------------------------- docs


def test_the_layout_is_explained_once_and_every_fan_based_docstring_points_to_it(tree):
    # the reference stores affine weights as (D_in, D_out), PyTorch as (out, in): the module
    # docstring says so and names the index of fan_in in each layout; the schemes refer to it
    assert "(D_in, D_out)" in tree.init.__doc__ and "fan_in = shape[1]" in tree.init.__doc__
    for name in FAN_SCHEMES:
        doc = getattr(tree.init, name if tree.is_reference else name + "_").__doc__
        assert "module docstring" in doc and "(D_in, D_out)" not in doc, name


# ---------------------------------------------------------------------------- GPU


@pytest.mark.gpu
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_twin_on_cuda(scheme):
    _, name, kwargs, std_of, uniform = scheme
    shape = torch_layout(REF_SHAPES["conv"])
    fill = getattr(T.init, name + "_")
    t = torch.empty(shape, device="cuda", requires_grad=True)
    ptr = t.data_ptr()
    gen = torch.Generator(device="cuda").manual_seed(0)
    out = fill(t, **kwargs, rng=gen)
    assert out is t and t.data_ptr() == ptr and t.device.type == "cuda" and t.requires_grad
    std = std_of(*FANS["conv"])
    assert t.std().item() == pytest.approx(std, rel=0.03)
    if uniform:
        assert t.abs().max().item() <= math.sqrt(3) * std * (1 + 1e-6)
    again = fill(
        torch.empty(shape, device="cuda"),
        **kwargs,
        rng=torch.Generator(device="cuda").manual_seed(0),
    )
    assert torch.equal(again, t.detach())
    theirs = torch_nn_init(
        name,
        torch.empty(shape, device="cuda"),
        kwargs,
        torch.Generator(device="cuda").manual_seed(0),
    )
    assert torch.equal(theirs, t.detach())
    with pytest.raises(ValueError, match="rng must be a generator for the tensor's device"):
        fill(t, **kwargs, rng=torch.Generator())
    assert T.init.zeros_(t) is t and not t.any()
