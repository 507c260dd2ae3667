"""nntrain.diagnostics: the per-layer records agree between the reference net, its torch
twin (through hooks) and autograd; the statistics follow their definitions on nets whose
answer is known (all-zero weights, saturated tanh, dead ReLUs); bad input is refused."""

import math

import matplotlib

matplotlib.use("Agg")
import nntrain.torch as nt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from nntrain import diagnostics as dg
from nntrain.reference import FullyConnectedNet

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 20))
Y = RNG.integers(0, 10, 64)


def twins(activation, weight_scale=0.3, hidden=(30, 30, 30)):
    ref = FullyConnectedNet(
        list(hidden), 20, 10, activation=activation, weight_scale=weight_scale, seed=1
    )
    twin = nt.FullyConnectedNet(
        list(hidden),
        20,
        10,
        activation=activation,
        weight_scale=weight_scale,
        seed=1,
        dtype=torch.float64,
    )
    return ref, twin


@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "silu"]
)
def test_reference_and_torch_hooks_record_the_same(activation):
    ref, twin = twins(activation)
    a = dg.record(ref, X, Y)
    b = dg.record(twin, torch.tensor(X), torch.tensor(Y))
    assert [r.name for r in a] == [f"{activation} {i}" for i in (1, 2, 3)]
    assert len(b) == 3
    for r, t in zip(a, b):
        for field in ("pre", "post", "local", "grad"):
            np.testing.assert_allclose(
                getattr(t, field),
                getattr(r, field),
                rtol=1e-9,
                atol=1e-15,
                err_msg=f"{activation} {field}",
            )


def test_gradients_are_those_of_the_loss_with_respect_to_each_activation():
    """Against autograd with retain_grad on a plain nn.Sequential, cross-entropy loss."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(20, 16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 10),
    ).double()
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    records = dg.record(model, Xt, Yt)
    h1 = torch.tanh(model[0](Xt))
    h1.retain_grad()
    h2 = torch.relu(model[2](h1))
    h2.retain_grad()
    torch.nn.functional.cross_entropy(model[4](h2), Yt).backward()
    np.testing.assert_allclose(records[0].grad, h1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(records[1].grad, h2.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(records[0].local, 1 - h1.detach().numpy() ** 2, rtol=1e-12)


def test_recording_leaves_parameter_gradients_alone():
    _, twin = twins("relu")
    dg.record(twin, torch.tensor(X), torch.tensor(Y))
    assert all(p.grad is None for p in twin.parameters())


def test_without_targets_there_are_no_gradients():
    ref, twin = twins("tanh")
    assert all(r.grad is None for r in dg.record(ref, X))
    assert all(r.grad is None for r in dg.record(twin, torch.tensor(X)))
    assert all(s.grad_std is None for s in dg.summarize(dg.record(ref, X)))


def test_zero_weights_give_zero_activations_and_no_saturation():
    ref, _ = twins("tanh")
    for k, v in ref.params.items():
        ref.params[k] = np.zeros_like(v)
    for s in dg.summarize(dg.record(ref, X)):
        assert s.mean == 0 and s.std == 0 and s.saturated == 0 and s.dead == 0


def test_huge_tanh_weights_saturate_almost_everything():
    ref, _ = twins("tanh", weight_scale=30.0)
    for s in dg.summarize(dg.record(ref, X)):
        assert s.saturated > 0.95 and 0.95 < s.std <= 1.0


def test_relus_with_very_negative_biases_are_dead():
    ref, _ = twins("relu")
    ref.params["b2"] = np.full(30, -1e3)
    stats = dg.summarize(dg.record(ref, X, Y))
    assert stats[1].dead == 1.0 and stats[1].saturated == 1.0 and stats[1].std == 0
    assert stats[0].dead < 0.2
    assert stats[0].grad_std == 0  # no gradient passes back through a dead layer


def test_statistics_follow_their_definitions():
    local = np.array([[1.0, 0.01, 0.5], [0.2, 0.0, 0.04]])
    post = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    rec = dg.LayerRecord("x 1", post, post, local, post * 0 + 2.0)
    (s,) = dg.summarize([rec])
    assert s.saturated == pytest.approx(3 / 6) and s.dead == pytest.approx(1 / 3)
    assert s.mean == pytest.approx(3.5) and s.std == pytest.approx(np.std(post)) and s.grad_std == 0
    (s,) = dg.summarize([rec], saturation=0.3)
    assert s.saturated == pytest.approx(4 / 6) and s.dead == pytest.approx(1 / 3)


def test_local_gradients_are_scaled_by_the_largest_slope():
    ref, twin = twins("sigmoid")
    records = dg.record(ref, X)
    h = records[0].post
    np.testing.assert_allclose(records[0].local, h * (1 - h) / 0.25, rtol=1e-6)
    assert max(r.local.max() for r in records) <= 1 + 1e-9


def test_maxout_is_recorded_without_local_gradients():
    torch.manual_seed(0)
    model = torch.nn.Sequential(nt.Maxout(20, 8, k=2), nt.Affine(8, 10)).double()
    (rec,) = dg.record(model, torch.tensor(X), torch.tensor(Y))
    assert rec.local is None and rec.post.shape == (64, 8) and rec.grad.shape == (64, 8)
    (s,) = dg.summarize([rec])
    assert math.isnan(s.saturated) and math.isnan(s.dead)


def test_table_and_plots():
    ref, _ = twins("tanh", hidden=(10,) * 12)
    records = dg.record(ref, X, Y)
    stats = dg.summarize(records)
    text = dg.table(stats)
    assert text.splitlines()[0].split() == [
        "layer",
        "mean",
        "std",
        "saturated",
        "dead",
        "grad",
        "std",
    ]
    assert len(text.splitlines()) == 13
    axes = dg.plot_histograms(Figure(), records, max_layers=5)
    assert [ax.get_title() for ax in axes] == ["tanh 1", "tanh 4", "tanh 7", "tanh 9", "tanh 12"]
    assert len(dg.plot_histograms(Figure(), records, which="grad")) == 10
    ax = dg.plot_stats(Figure().add_subplot(), stats, label="tanh")
    assert ax.get_yscale() == "log" and len(ax.lines) == 1


def test_bad_input_is_refused():
    ref, twin = twins("relu")
    with pytest.raises(
        TypeError, match="model must be a nntrain.reference.FullyConnectedNet or a torch.nn.Module"
    ):
        dg.record(object(), X)
    with pytest.raises(TypeError, match="must be a torch tensor"):
        dg.record(twin, X)
    with pytest.raises(TypeError, match="must be a NumPy array"):
        dg.record(ref, torch.tensor(X))
    with pytest.raises(ValueError, match="no nonlinearity modules"):
        dg.record(torch.nn.Linear(20, 10).double(), torch.tensor(X))
    with pytest.raises(ValueError, match="labels in \\[0, 10\\)"):
        dg.record(ref, X, Y + 10)
    records = dg.record(ref, X)
    with pytest.raises(ValueError, match="which must be 'post', 'pre' or 'grad'"):
        dg.plot_histograms(Figure(), records, which="weights")
    with pytest.raises(ValueError, match="needs records made with targets"):
        dg.plot_histograms(Figure(), records, which="grad")
    with pytest.raises(ValueError, match="records is empty"):
        dg.plot_histograms(Figure(), [])
    with pytest.raises(ValueError, match="saturation must be finite and > 0"):
        dg.summarize(records, saturation=0)


@pytest.mark.gpu
def test_records_a_model_on_the_gpu():
    _, twin = twins("tanh")
    records = dg.record(twin.cuda(), torch.tensor(X).cuda(), torch.tensor(Y).cuda())
    cpu = dg.record(twin.cpu(), torch.tensor(X), torch.tensor(Y))
    for g, c in zip(records, cpu):
        np.testing.assert_allclose(g.grad, c.grad, rtol=1e-6, atol=1e-12)
