"""Tests for nntrain.plots, drawn on bare ``matplotlib.figure.Figure`` objects (no pyplot,
so no global figure state and no display)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from nntrain import plots
from nntrain.train import History


def axes(n=1):
    fig = Figure(figsize=(4, 3))
    return fig.subplots(1, n) if n > 1 else fig.add_subplot()


# --------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------


def test_use_style_sets_rcparams():
    with mpl.rc_context():
        mpl.rcParams.update(
            {"axes.spines.top": True, "figure.facecolor": "red", "axes.grid": False}
        )
        plots.use_style()
        for key, value in plots.STYLE.items():
            assert mpl.rcParams[key] == value, key
        assert mpl.rcParams["axes.spines.top"] is False
        assert mpl.rcParams["axes.grid"] is True
        assert mpl.colors.to_hex(mpl.rcParams["figure.facecolor"]) == "#ffffff"
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == plots.PALETTE


#: The page background of the book's dark theme (pydata-sphinx-theme's
#: ``--pst-color-background`` in dark mode); figures themselves keep a white background.
DARK_BACKGROUND = "#14181e"

#: Machado, Oliveira and Fernandes (2009): full-severity simulation of each colour-vision
#: deficiency, a matrix applied to linear RGB.
DEFICIENCIES = {
    "normal vision": np.eye(3),
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def linear_rgb(colour):
    c = np.asarray(mpl.colors.to_rgb(colour))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def contrast(a, b):
    """WCAG 2's contrast ratio of two colours (1 to 21)."""
    lum = sorted((linear_rgb(c) @ [0.2126, 0.7152, 0.0722] for c in (a, b)), reverse=True)
    return (lum[0] + 0.05) / (lum[1] + 0.05)


def cielab(rgb):
    """CIELAB (D65) of a linear RGB colour."""
    xyz = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    t = np.asarray(xyz) @ np.clip(rgb, 0, 1) / [0.95047, 1.0, 1.08883]
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_contrast_and_simulation_match_known_values():
    assert contrast("black", "white") == pytest.approx(21.0)
    assert contrast("#F0E442", "white") == pytest.approx(1.32, abs=0.01)  # the old yellow
    assert contrast("#767676", "white") == pytest.approx(4.54, abs=0.01)  # WCAG's AA grey
    # red and green, far apart for normal vision, nearly merge for a deuteranope
    red, green = linear_rgb("#D62728"), linear_rgb("#2CA02C")
    sim = np.asarray(DEFICIENCIES["deuteranopia"])
    assert np.linalg.norm(cielab(red) - cielab(green)) > 80
    assert np.linalg.norm(cielab(sim @ red) - cielab(sim @ green)) < 25


@pytest.mark.parametrize("background", ["white", DARK_BACKGROUND])
def test_palette_colours_stand_out_on_the_page_in_light_and_dark_mode(background):
    """WCAG asks 3:1 of graphics against what is next to them."""
    ratios = {c: round(contrast(c, background), 2) for c in plots.PALETTE}
    assert min(ratios.values()) >= 3.0, ratios


@pytest.mark.parametrize("vision", DEFICIENCIES)
def test_palette_colours_are_told_apart_with_each_colour_vision(vision):
    """Every pair differs by at least 13 CIELAB units (about five just-noticeable
    differences) as seen with normal vision and with each full deficiency."""
    sim = np.asarray(DEFICIENCIES[vision])
    lab = {c: cielab(sim @ linear_rgb(c)) for c in plots.PALETTE}
    closest = min(
        (np.linalg.norm(lab[a] - lab[b]), a, b)
        for i, a in enumerate(plots.PALETTE)
        for b in plots.PALETTE[i + 1 :]
    )
    assert closest[0] >= 13, f"{vision}: {closest[1]} and {closest[2]} differ by {closest[0]:.1f}"


def test_palette_is_distinct_hex_colours():
    assert len(set(plots.PALETTE)) == len(plots.PALETTE) == 8
    for c in plots.PALETTE:
        assert mpl.colors.is_color_like(c)


# --------------------------------------------------------------------------------------
# network_diagram
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[3, 4, 4, 1], [2, 1], [1, 5, 2], [6, 3, 3, 3, 2]])
def test_network_diagram_units_and_connections(sizes):
    ax = axes()
    plots.network_diagram(ax, sizes)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == len(sizes)  # one scatter per layer
    assert [len(c.get_offsets()) for c in points] == sizes
    assert len(ax.lines) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    # Every line joins neighbouring layers (x differs by exactly 1).
    for line in ax.lines:
        x0, x1 = line.get_xdata()
        assert x1 - x0 == 1
    assert len(ax.texts) == len(sizes)
    texts = [t.get_text() for t in ax.texts]
    assert texts[0].startswith("input") and texts[-1].startswith("output")


def test_network_diagram_units_are_centred_and_distinct():
    ax = axes()
    plots.network_diagram(ax, [3, 4], labels=False)
    assert len(ax.texts) == 0
    first, second = (c.get_offsets() for c in ax.collections)
    assert len({tuple(p) for p in np.vstack([first, second])}) == 7
    assert np.allclose(np.asarray(first)[:, 1].mean(), 0)
    assert np.allclose(np.asarray(second)[:, 1].mean(), 0)


@pytest.mark.parametrize("sizes", [[], [3], [3, 0, 1], [2, -1], [0, 0]])
def test_network_diagram_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        plots.network_diagram(axes(), sizes)


# --------------------------------------------------------------------------------------
# class_grid and decision_regions
# --------------------------------------------------------------------------------------


def by_second_coordinate(points):
    return (points[:, 1] > 0).astype(int)


def test_class_grid_shape_extent_and_orientation():
    X = np.array([[-1.0, -2.0], [3.0, 1.0], [0.0, 0.5]])
    calls = []

    def predict(points):
        calls.append(points.shape)
        return by_second_coordinate(points)

    classes, extent = plots.class_grid(predict, X, resolution=41, margin=0.5)
    assert calls == [(41 * 41, 2)]  # one call on every grid point
    assert classes.shape == (41, 41)
    assert extent == pytest.approx((-1.5, 3.5, -2.5, 1.5))
    # Rows run along the second coordinate: each row is constant ...
    assert (classes == classes[:, :1]).all()
    # ... and the class changes from bottom rows (y < 0) to top rows (y > 0).
    ys = np.linspace(-2.5, 1.5, 41)
    np.testing.assert_array_equal(classes[:, 0], (ys > 0).astype(int))


def test_class_grid_covers_the_points():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2)) * [3, 0.5] + [10, -4]
    classes, (left, right, bottom, top) = plots.class_grid(
        lambda p: np.zeros(len(p), dtype=int), X, resolution=7, margin=0.3
    )
    assert classes.shape == (7, 7)
    assert left == pytest.approx(X[:, 0].min() - 0.3)
    assert right == pytest.approx(X[:, 0].max() + 0.3)
    assert bottom == pytest.approx(X[:, 1].min() - 0.3)
    assert top == pytest.approx(X[:, 1].max() + 0.3)


@pytest.mark.parametrize("shape", [(5,), (5, 3), (5, 1), (2, 2, 2)])
def test_class_grid_rejects_non_2d_points(shape):
    with pytest.raises(ValueError, match="X"):
        plots.class_grid(by_second_coordinate, np.zeros(shape))


def test_decision_regions_draws_image_and_points():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 2))
    y = by_second_coordinate(X)
    grid = plots.class_grid(by_second_coordinate, X, resolution=20)
    ax = axes()
    plots.decision_regions(ax, X, y, grid)
    assert len(ax.images) == 1
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), grid[0])
    assert tuple(image.get_extent()) == pytest.approx(grid[1])
    assert image.origin == "lower"
    (points,) = ax.collections
    np.testing.assert_array_equal(points.get_offsets(), X)
    np.testing.assert_array_equal(points.get_array(), y)
    assert len(ax.lines) == 0
    assert ax.get_xlim() == pytest.approx(grid[1][:2])
    assert ax.get_ylim() == pytest.approx(grid[1][2:])
    # Points and regions of the same class share a colour.
    colours = points.to_rgba(points.get_array())
    assert mpl.colors.to_hex(colours[y == 0][0]) == plots.PALETTE[0].lower()
    assert mpl.colors.to_hex(colours[y == 1][0]) == plots.PALETTE[1].lower()
    assert image.get_cmap()(image.norm(1)) == pytest.approx(points.to_rgba(1))
    FigureCanvasAgg(ax.figure).draw()


def test_decision_regions_gives_every_class_its_own_colour_or_refuses():
    X = np.c_[np.arange(10.0), np.zeros(10)]
    y = np.arange(10)
    grid = plots.class_grid(lambda p: np.clip(p[:, 0].round(), 0, 9).astype(int), X, resolution=20)
    ax = axes()
    try:
        plots.decision_regions(ax, X, y, grid)
    except ValueError:
        return
    points = ax.collections[0]
    colours = {mpl.colors.to_hex(c) for c in points.to_rgba(points.get_array())}
    assert len(colours) == 10


# --------------------------------------------------------------------------------------
# training_curves
# --------------------------------------------------------------------------------------


def history(iterations, epochs, classify=True):
    rng = np.random.default_rng(0)
    h = History(loss=list(2.3 * np.exp(-np.arange(iterations) / 50) + 0.1 * rng.random(iterations)))
    h.val_loss = list(np.linspace(2, 1, epochs))
    if classify:
        h.train_acc = list(np.linspace(0.5, 0.99, epochs))
        h.val_acc = list(np.linspace(0.45, 0.95, epochs))
    return h


def test_training_curves_classification():
    ax_loss, ax_acc = axes(2)
    h = history(100, 5)
    plots.training_curves((ax_loss, ax_acc), h, smooth=10)
    raw, mean = ax_loss.lines
    np.testing.assert_array_equal(raw.get_ydata(), h.loss)
    assert len(mean.get_ydata()) == 100 - 10 + 1
    np.testing.assert_allclose(mean.get_ydata()[0], np.mean(h.loss[:10]))
    assert mean.get_xdata()[0] == 9
    train_line, val_line = ax_acc.lines
    np.testing.assert_array_equal(train_line.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(train_line.get_ydata(), h.train_acc)
    np.testing.assert_array_equal(val_line.get_ydata(), h.val_acc)
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == ["train", "validation"]
    assert ax_loss.get_xlabel() == "iteration" and ax_acc.get_xlabel() == "epoch"


def test_training_curves_short_run_has_no_running_mean():
    ax_loss, ax_acc = axes(2)
    plots.training_curves((ax_loss, ax_acc), history(5, 1), smooth=10)
    assert len(ax_loss.lines) == 1
    assert len(ax_acc.lines) == 2


def test_training_curves_regression_leaves_accuracy_axes_empty():
    ax_loss, ax_acc = axes(2)
    plots.training_curves((ax_loss, ax_acc), history(30, 3, classify=False), smooth=10)
    assert len(ax_loss.lines) == 2
    assert len(ax_acc.lines) == 0


def test_training_curves_on_a_real_history():
    import nntrain
    from nntrain.data import load_digits_split
    from nntrain.train import train

    data = load_digits_split()
    data = {k: (v / 16 if k.startswith("X") else v) for k, v in data.items()}
    net = nntrain.FullyConnectedNet([20], input_dim=64, num_classes=10, weight_scale=0.2, seed=0)
    h = train(net, data, learning_rate=0.05, epochs=2, batch_size=100)
    fig = Figure()
    ax_loss, ax_acc = fig.subplots(1, 2)
    plots.training_curves((ax_loss, ax_acc), h)
    assert len(ax_loss.lines) == 2 and len(ax_acc.lines) == 2
    FigureCanvasAgg(fig).draw()  # renders without pyplot or errors
