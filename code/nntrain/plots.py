"""The book's one matplotlib style and the figures several chapters share.

:func:`use_style` is called by every chapter's setup cell. Figures have an opaque white
background so they stay readable when the book is switched to dark mode.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

__all__ = [
    "PALETTE",
    "STYLE",
    "use_style",
    "network_diagram",
    "class_grid",
    "decision_regions",
    "training_curves",
]

#: The colours of classes and curves, from Okabe and Ito's colour-blind-safe palette, with the
#: four colours that were too faint on white (orange 2.3:1, sky blue 2.3:1, yellow 1.3:1) or
#: invisible on the book's dark theme (black) replaced by the colours of the same roles that
#: stay at least 3:1 against both backgrounds and, among those, lie farthest apart from the
#: other colours for normal vision and for each common colour-vision deficiency (protanopia,
#: deuteranopia, tritanopia): every pair differs by at least 13 CIELAB units in all four
#: (tests/test_plots.py computes both).
PALETTE = ["#0072B2", "#D87747", "#009E73", "#CC79A7", "#0094FF", "#D55E00", "#86602D", "#666666"]

#: The book's matplotlib settings (rcParams), applied by :func:`use_style`. White
#: backgrounds (readable in dark mode), 10-point text (11 for axes titles) and
#: :data:`PALETTE` as the colour cycle.
STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "legend.frameon": False,
    "image.cmap": "viridis",
    "figure.constrained_layout.use": True,
}


def use_style():
    """Apply the book's matplotlib style (see :data:`STYLE`)."""
    mpl.rcParams.update(STYLE)


def network_diagram(ax, sizes, *, labels=True):
    """Draw a fully connected network with layer widths ``sizes`` (input first).

    Every unit of a layer is joined to every unit of the next and to none of its own layer.

    Args:
        ax: a matplotlib Axes.
        sizes: e.g. ``[3, 4, 4, 1]``.
        labels: name the layers below the drawing.
    """
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"sizes must list at least two positive layer widths, got {sizes}")
    top = max(sizes)
    pos = [[(i, j - (s - 1) / 2) for j in range(s)] for i, s in enumerate(sizes)]
    for a, b in zip(pos[:-1], pos[1:]):
        for x0, y0 in a:
            for x1, y1 in b:
                ax.plot([x0, x1], [y0, y1], color="0.6", lw=0.8, zorder=1)
    for i, layer in enumerate(pos):
        color = PALETTE[0] if i == 0 else PALETTE[2] if i == len(pos) - 1 else PALETTE[1]
        xs, ys = zip(*layer)
        ax.scatter(xs, ys, s=300, color=color, edgecolor="black", zorder=2)
        if labels:
            name = "input" if i == 0 else "output" if i == len(pos) - 1 else f"hidden {i}"
            ax.text(i, -top / 2 - 0.3, f"{name}\n({sizes[i]})", ha="center", va="top")
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-top / 2 - 1.3, top / 2)
    ax.set_axis_off()


def class_grid(predict, X, *, resolution=150, margin=0.3):
    """Evaluate a 2-D classifier on a regular grid covering the points ``X``.

    Computing the grid once and drawing it with :func:`decision_regions` keeps slider
    redraws fast: the network runs when the frame's data is made, not at every redraw.

    Args:
        predict: maps an ``(M, 2)`` array of points to ``(M,)`` integer classes.
        X: points of shape ``(N, 2)`` that the grid must cover.
        resolution: grid points per axis.
        margin: extra space around the data, in data units.

    Returns:
        ``(classes, extent)``: a ``(resolution, resolution)`` integer array (rows along the
        second coordinate) and the ``(left, right, bottom, top)`` box it covers.
    """
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {X.shape}")
    lo, hi = X.min(0) - margin, X.max(0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    classes = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    return classes, (lo[0], hi[0], lo[1], hi[1])


def decision_regions(ax, X, y, grid):
    """Colour the plane by predicted class and scatter the labelled points ``(X, y)``.

    Args:
        ax: a matplotlib Axes.
        X: points of shape ``(N, 2)``.
        y: their integer labels, ``(N,)``.
        grid: ``(classes, extent)`` as returned by :func:`class_grid`.
    """
    classes, extent = grid
    k = int(max(classes.max(), y.max())) + 1
    if k > len(PALETTE):
        raise ValueError(f"decision_regions colours at most {len(PALETTE)} classes, got {k}")
    cmap = mpl.colors.ListedColormap(PALETTE[:k])
    ax.imshow(
        classes,
        origin="lower",
        extent=extent,
        cmap=cmap,
        vmin=-0.5,
        vmax=k - 0.5,
        alpha=0.3,
        interpolation="nearest",
        aspect="auto",
    )
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=12, edgecolor="black", lw=0.3
    )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.grid(False)


def training_curves(axes, history, *, smooth=10):
    """Plot a :class:`nntrain.train.History`: loss per iteration (raw and a running mean of
    ``smooth`` iterations) and, when recorded, training and validation accuracy per epoch.

    Args:
        axes: two Axes (loss, accuracy).
        history: the history returned by :func:`nntrain.train.train`.
        smooth: window of the running mean.
    """
    ax_loss, ax_acc = axes
    loss = np.asarray(history.loss)
    ax_loss.plot(loss, alpha=0.3, label="per iteration")
    if len(loss) >= smooth:
        ax_loss.plot(
            np.arange(smooth - 1, len(loss)),
            np.convolve(loss, np.ones(smooth) / smooth, "valid"),
            label=f"mean of {smooth}",
        )
    ax_loss.set(xlabel="iteration", ylabel="training loss", title="Loss")
    ax_loss.legend()
    if history.train_acc:
        epochs = np.arange(1, len(history.train_acc) + 1)
        ax_acc.plot(epochs, history.train_acc, marker="o", label="train")
        ax_acc.plot(epochs, history.val_acc, marker="o", label="validation")
        ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
        ax_acc.legend()
