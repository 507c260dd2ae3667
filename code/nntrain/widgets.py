"""Interactive figures: one matplotlib drawing, a few sliders, every frame rendered up front.

:func:`slider_figure` is the helper every chapter uses for a figure with sliders. It calls a
drawing function once for every combination of slider values, keeps the PNG frames, and
shows them in one of two ways, chosen by whoever displays the output:

- **live**: in Jupyter, JupyterLab, VS Code and Colab the output is an ``ipywidgets`` view,
  sliders above an image; moving a slider swaps in the precomputed frame, so nothing is
  redrawn while the reader drags.
- **static**: in the built book, with no kernel, the same output carries an HTML version:
  range inputs, an image and a few lines of inline JavaScript that hold every frame. It needs
  no network and no script from anywhere else. Each slider is labelled in words
  (``labels=``, ``units=``) and announces its value to a screen reader, and the image's alt
  text follows the frame (``describe=``). In the book the build turns the frames into image
  files that load when the reader moves a slider (``book/_ext/light_pages.py``), so the
  page carries none of them. The book build sets ``NNTRAIN_STATIC=1``,
  which leaves the widget out of the output altogether, so the page carries no widget state.
- **print**: paper has no slider, so the static output also carries a small multiple of a
  few chosen frames (``print_frames``), each under a title with its slider values, as MyST
  Markdown (``text/markdown``): the book's PDF build (``make pdf``) picks it, the HTML build
  keeps the interactive version.

Frames are drawn when they are first needed. The live view draws the first frame at once
and every other frame the first time a slider visits it (then keeps it), so a reader does
not wait for the whole grid. The static page needs every frame: it draws the missing ones
in parallel, with :func:`nntrain.parallel.fork_map` (on Linux, one process per free core).

Each frame's redraw (clearing the figure, drawing, encoding the PNG) is timed for the
book's authors: ``make bench`` reports the cost per frame and per figure. Readers never see
these times, and nothing asserts them (their machines are slower and busier than ours).
"""

from __future__ import annotations

import base64
import hashlib
import html
import inspect
import io
import itertools
import json
import keyword
import math
import numbers
import os
import re
import time

import ipywidgets
from matplotlib.figure import Figure

from . import validation as check
from .parallel import fork_map, frozen_heap

__all__ = [
    "MAX_FRAMES",
    "FRAMES_PER_WORKER",
    "MAX_PRINT_FRAMES",
    "PRINT_TEXT_WIDTH",
    "SliderFigure",
    "slider_figure",
]

#: The most frames (slider combinations) :func:`slider_figure` accepts. The static page draws
#: and carries all of them.
MAX_FRAMES = 200

#: The fewest frames worth a worker process of their own (see :func:`nntrain.parallel.workers`).
FRAMES_PER_WORKER = 4

# How many figures with the same content this process has built, so that two of them on one
# page get distinct element ids while a rebuild (a fresh kernel) gives the same ids again.
_occurrences: dict[str, int] = {}


#: The most panels a print form (``print_frames``) may have.
MAX_PRINT_FRAMES = 12

#: The width of the printed page's text in inches, A4 with the LaTeX build's margins. A
#: print form puts as many frames side by side as fit at about half their size or more.
PRINT_TEXT_WIDTH = 6.3


def slider_figure(
    draw,
    *,
    figsize=(8, 4),
    dpi=100,
    caption=None,
    labels=None,
    units=None,
    describe=None,
    print_frames=None,
    **sliders,
):
    """An interactive figure: ``draw`` rendered for every combination of slider values.

    Every keyword argument besides ``figsize``, ``dpi``, ``caption`` and ``print_frames``
    is a slider; its
    value lists the values the slider steps through. The first frame is drawn now; the
    others when they are first shown. Each is drawn on one reused
    :class:`matplotlib.figure.Figure` (not ``pyplot``, so no global state and no stray
    inline output) and kept as a PNG image.

    Displaying the result shows a live ``ipywidgets`` view in a notebook, and a
    self-contained HTML slider in a built web page (see :class:`SliderFigure`). Because the
    page carries every frame, keep grids small and figures modest: the size of the page
    grows with the number of frames.

    Args:
        draw: a function ``draw(fig, **values)`` that draws onto the empty figure ``fig``
            for one value of each slider.
        figsize: the figure's size in inches, ``(width, height)``.
        dpi: the resolution of the frames, in dots per inch.
        caption: an optional line of text shown above the sliders.
        labels: an optional dict from slider name to the label a reader sees, in words
            (``{"lam": "L2 strength λ"}``); a slider left out is labelled with its name.
        units: an optional dict from slider name to the unit of its values, shown after
            each value (``{"hidden": "units per layer"}``).
        describe: an optional function ``describe(**values) -> str`` that gives the alt
            text of the frame for those slider values: what the frame shows, for a reader
            who cannot see it. By default the caption followed by the sliders' values.
        print_frames: the frames of the printed edition, where a slider cannot move: a
            list of dicts, each giving one value of every slider, e.g.
            ``[dict(lr=0.01), dict(lr=1.0)]``. They print as a grid of panels in this order,
            each titled with its values. Choose the frames that tell the figure's story;
            the default is the first, middle and last frame of the grid.
        **sliders: one slider per keyword, each a non-empty list or tuple of distinct
            numbers or strings.

    Returns:
        A :class:`SliderFigure` holding every frame.

    Example:
        >>> import numpy as np
        >>> def draw(fig, freq, phase):
        ...     ax = fig.add_subplot()
        ...     x = np.linspace(0, 2 * np.pi, 200)
        ...     ax.plot(x, np.sin(freq * x + phase))
        >>> sf = slider_figure(draw, freq=[1, 2, 3], phase=[0.0, 1.5], caption="A sine")
        >>> len(sf.frames)
        6
        >>> sf.frames[(2, 1.5)][:4]
        b'\\x89PNG'
    """
    return SliderFigure(
        draw,
        sliders,
        figsize=figsize,
        dpi=dpi,
        caption=caption,
        labels=labels,
        units=units,
        describe=describe,
        print_frames=print_frames,
    )


class SliderFigure:
    """The frames of :func:`slider_figure`, with their redraw times and two displays.

    Display it (make it the last expression of a cell): the notebook front ends show the
    live widget, and the book's build (``NNTRAIN_STATIC=1``) gets the static slider with
    every frame. Build it with :func:`slider_figure` rather than directly.

    Args:
        draw: see :func:`slider_figure`.
        sliders: a dict from slider name to its values, in display order.
        figsize: see :func:`slider_figure`.
        dpi: see :func:`slider_figure`.
        caption: see :func:`slider_figure`.
        labels: see :func:`slider_figure`.
        units: see :func:`slider_figure`.
        describe: see :func:`slider_figure`.
        print_frames: see :func:`slider_figure`.

    Attributes:
        sliders: a dict from slider name to the tuple of its values, in display order.
        keys: every combination of slider values, one value per slider in order.
        redraw_seconds: a dict from each key drawn so far to its redraw time.
        caption: the caption, or ``None``.
        labels: a dict from slider name to its label, for every slider.
        units: a dict from slider name to its unit (``""`` for none), for every slider.
        print_keys: the keys of the frames in the print form, in order.
    """

    def __init__(
        self,
        draw,
        sliders,
        *,
        figsize=(8, 4),
        dpi=100,
        caption=None,
        labels=None,
        units=None,
        describe=None,
        print_frames=None,
    ):
        self.sliders = _check_sliders(draw, sliders)
        if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
            raise ValueError(f"figsize must be a pair (width, height), got {figsize!r}")
        for name, value in zip(("figsize[0]", "figsize[1]"), figsize):
            check.positive(name, value)
        check.positive("dpi", dpi)
        if caption is not None and not isinstance(caption, str):
            raise TypeError(f"caption must be a string or None, got {type(caption).__name__}")
        self.caption = caption
        self.labels = _slider_texts("labels", labels, self.sliders, lambda name: name)
        self.units = _slider_texts("units", units, self.sliders, lambda name: "")
        if describe is not None and not callable(describe):
            raise TypeError(f"describe must be callable or None, got {type(describe).__name__}")
        self._describe = describe

        self._fig = Figure(figsize=figsize, dpi=dpi)
        self._engine = self._fig.get_layout_engine()  # constrained under the book's style
        self._fig.set_layout_engine("none")
        self._draw, self._dpi, self._positions = draw, dpi, {}
        self.keys = list(itertools.product(*self.sliders.values()))
        self.print_keys = _check_print_frames(print_frames, self.sliders, self.keys)
        self._columns = _print_columns(figsize[0])
        self._frames, self.redraw_seconds = {}, {}
        first = self.frame(self.keys[0])

        # Element ids for the static page: a digest of what the page shows (the first frame
        # standing for the rest), plus a count of identical figures.
        digest = hashlib.sha256(
            json.dumps([caption, list(self.sliders), self._labels()]).encode() + first
        ).hexdigest()[:12]
        count = _occurrences.get(digest, 0)
        _occurrences[digest] = count + 1
        self._id = f"nntrain-slider-{digest}-{count}"

    def frame(self, key):
        """The PNG of the frame for ``key`` (a tuple of slider values), drawn on first use."""
        if key not in self._frames:
            with frozen_heap():
                self._frames[key], self.redraw_seconds[key] = self._render(key)
        return self._frames[key]

    @property
    def frames(self):
        """Every frame, as a dict from each key (in grid order) to its PNG bytes. Draws the
        frames not drawn yet, in parallel where it can (see :mod:`nntrain.parallel`)."""
        missing = [key for key in self.keys if key not in self._frames]
        with frozen_heap():
            drawn = fork_map(self._render, missing, min_per_worker=FRAMES_PER_WORKER)
        for key, (png, seconds) in zip(missing, drawn):
            self._frames[key], self.redraw_seconds[key] = png, seconds
        return {key: self._frames[key] for key in self.keys}

    def _render(self, key):
        """Draw the frame for ``key``; return its PNG bytes and the seconds it took."""
        start = time.perf_counter()
        fig = self._fig
        fig.clear()
        self._draw(fig, **dict(zip(self.sliders, key)))
        _reuse_layout(fig, self._engine, self._positions)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=self._dpi)
        return buffer.getvalue(), time.perf_counter() - start

    def _labels(self):
        """Each slider's values as the page shows them: with the slider's unit."""
        return [[self._shown(name, v) for v in values] for name, values in self.sliders.items()]

    def _shown(self, name, value):
        return f"{value} {self.units[name]}".strip()

    def describe(self, key):
        """The alt text of the frame for ``key``: ``describe``'s text, or the caption
        followed by each slider's label and value."""
        values = dict(zip(self.sliders, key))
        if self._describe is not None:
            text = self._describe(**values)
            if not isinstance(text, str) or not text.strip():
                raise TypeError(f"describe must return a non-empty string, got {text!r}")
            return text
        settings = ", ".join(f"{self.labels[n]} = {self._shown(n, v)}" for n, v in values.items())
        return f"{self.caption or 'Interactive figure'}: {settings}"

    def widget(self):
        """A new live view: one ``SelectionSlider`` per slider, and the image.

        It shows the first frame at once; moving a slider shows the frame for the new
        values, drawn the first time it is visited and kept.

        Returns:
            An ``ipywidgets.VBox`` whose children are a ``Label`` with the caption (if
            any), the ``SelectionSlider`` widgets in order and the ``Image``.
        """
        controls = [
            ipywidgets.SelectionSlider(
                options=list(zip(labels, values)),
                value=values[0],
                description=self.labels[name],
                style={"description_width": "initial"},
                continuous_update=True,
            )
            for (name, values), labels in zip(self.sliders.items(), self._labels())
        ]
        image = ipywidgets.Image(value=self.frame(self.keys[0]), format="png")

        def swap(_change):
            image.value = self.frame(tuple(control.value for control in controls))

        for control in controls:
            control.observe(swap, names="value")
        caption = [ipywidgets.Label(self.caption)] if self.caption else []
        return ipywidgets.VBox([*caption, *controls, image])

    def _repr_html_(self):
        """The static slider: a self-contained ``<div>`` with every frame inline.

        Each range input carries ``aria-valuetext`` (the slider's label and value, as a
        screen reader should say it) and the image's alt text follows the frame (see
        :meth:`describe`). The frames are ``data:`` URIs in a JSON ``<script>`` of the
        slider's own, which the book's build turns into image files loaded when needed
        (``book/_ext/light_pages.py``).
        """
        uid, values, frames = self._id, self._labels(), self.frames
        texts = [
            [f"{self.labels[name]} = {v}" for v in shown]
            for name, shown in zip(self.sliders, values)
        ]
        ranges = [range(len(v)) for v in self.sliders.values()]
        index = [",".join(map(str, i)) for i in itertools.product(*ranges)]
        alts = [self.describe(key) for key in self.keys]
        named = f' aria-labelledby="{uid}-caption"' if self.caption else ""
        parts = [f'<div id="{uid}" class="nntrain-slider-figure" role="group"{named}>']
        if self.caption:
            parts.append(f'<p id="{uid}-caption">{html.escape(self.caption)}</p>')
        for k, name in enumerate(self.sliders):
            parts.append(
                f'<div><label for="{uid}-s{k}">{html.escape(self.labels[name])}</label> '
                f'<input type="range" id="{uid}-s{k}" min="0" max="{len(values[k]) - 1}" '
                f'step="1" value="0" aria-valuetext="{html.escape(texts[k][0])}"> '
                f'<output id="{uid}-v{k}" for="{uid}-s{k}" aria-live="off">'
                f"{html.escape(values[k][0])}</output></div>"
            )
        first = frames[self.keys[0]]
        width, height = _png_size(first)
        parts.append(
            f'<img id="{uid}-img" src="{_data_uri(first)}" alt="{html.escape(alts[0])}" '
            f'width="{width}" height="{height}" loading="lazy" decoding="async" '
            'style="max-width:100%;height:auto">'
        )
        data = {
            "labels": values,
            "valuetexts": texts,
            "alts": dict(zip(index, alts)),
            "frames": dict(zip(index, map(_data_uri, frames.values()))),
        }
        data = json.dumps(data, separators=(",", ":"))
        # Escape what could close the <script> element early; the JSON stays equivalent.
        data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        parts.append(f'<script type="application/json" id="{uid}-data">{data}</script>')
        parts.append(f"<script>{_SCRIPT.replace('ID', json.dumps(uid))}</script></div>")
        return "".join(parts)

    def to_markdown(self):
        """The print form: the caption, then the frames of :attr:`print_keys` as a grid of
        panels (a MyST ``list-table`` without rules), each titled with its sliders' labels
        and values as the page shows them (``lr = 0.1``) and described by :meth:`describe`.
        The frames are inline PNG images, which Sphinx's LaTeX build writes out as files."""
        panels = []
        for key in self.print_keys:
            values = zip(self.sliders, key)
            title = _md_escape(
                ", ".join(f"{self.labels[n]} = {self._shown(n, v)}" for n, v in values)
            )
            alt, png = _md_escape(self.describe(key)), _b64(self.frame(key))
            panels.append(f"{title}\n\n    ![{alt}](data:image/png;base64,{png})")
        columns = min(self._columns, len(panels))
        panels += [""] * (-len(panels) % columns)  # fill the last row
        rows = [
            "* - " + "\n  - ".join(panels[i : i + columns]) for i in range(0, len(panels), columns)
        ]
        caption = f"{_md_escape(self.caption)}\n\n" if self.caption else ""
        return (
            f"{caption}````{{list-table}}\n:class: borderless nocolorrows nntrain-print-frames\n"
            f":widths: {' '.join(['1'] * columns)}\n\n" + "\n".join(rows) + "\n````\n"
        )

    def __repr__(self):
        grid = ", ".join(f"{name}={len(values)}" for name, values in self.sliders.items())
        return f"<SliderFigure {grid}: {len(self.frames)} frames>"

    def _repr_mimebundle_(self, **kwargs):
        """The static slider (``text/html``) and its print form (``text/markdown``, see
        :meth:`to_markdown`) when ``NNTRAIN_STATIC`` is set, as in the book's build;
        otherwise the live widget view, with the first frame as ``text/html`` for a front
        end that cannot show widgets."""
        if os.environ.get("NNTRAIN_STATIC", "") not in ("", "0"):
            return {
                "text/html": self._repr_html_(),
                "text/markdown": self.to_markdown(),
                "text/plain": repr(self),
            }
        bundle = self.widget()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = (
            f'<img src="data:image/png;base64,{_b64(self.frame(self.keys[0]))}" '
            f'alt="{html.escape(self.caption or "interactive figure")}" '
            'style="max-width:100%;height:auto">'
            "<p>Run the notebook in Jupyter or Colab to move the sliders.</p>"
        )
        return bundle


# The static slider's script. ID is the figure's id (a JSON string); its data (labels, value
# texts, alt texts and frames, by the index of each slider joined with commas) is the JSON in
# the element ID-data. When the frames are files (the book), the first time a reader reaches
# for a slider the browser fetches the figure's other frames, so that moving it shows them at
# once.
_SCRIPT = """(function () {
var id = ID, d = JSON.parse(document.getElementById(id + "-data").textContent);
var img = document.getElementById(id + "-img"), inputs = [], outs = [], fetched = false;
function update() {
  var index = [];
  for (var k = 0; k < inputs.length; k++) {
    var i = parseInt(inputs[k].value, 10);
    index.push(i);
    outs[k].textContent = d.labels[k][i];
    inputs[k].setAttribute("aria-valuetext", d.valuetexts[k][i]);
  }
  img.src = d.frames[index.join(",")];
  img.alt = d.alts[index.join(",")];
}
function prefetch() {
  if (fetched) return;
  fetched = true;
  for (var key in d.frames) {
    if (d.frames[key].slice(0, 5) !== "data:") new Image().src = d.frames[key];
  }
}
for (var k = 0; k < d.labels.length; k++) {
  inputs.push(document.getElementById(id + "-s" + k));
  outs.push(document.getElementById(id + "-v" + k));
  inputs[k].addEventListener("input", update);
  inputs[k].addEventListener("focus", prefetch);
  inputs[k].addEventListener("pointerdown", prefetch);
}
})();"""


def _reuse_layout(fig, engine, positions):
    """Place the axes of ``fig`` where the layout engine put those of an earlier frame.

    The book's style uses matplotlib's constrained layout, which costs about as much as
    drawing a frame. Frames of one slider figure share their structure, so the positions
    found for the first frame with a given number of axes serve every later frame with that
    number. ``positions`` maps a number of axes to their positions, and gains an entry when a
    frame has a new number.
    """
    axes = fig.get_axes()
    if len(axes) not in positions:
        if engine is not None:
            engine.execute(fig)
        positions[len(axes)] = [ax.get_position(original=True) for ax in axes]
    for ax, position in zip(axes, positions[len(axes)]):
        ax.set_position(position)


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + _b64(png)


def _png_size(png: bytes) -> tuple[int, int]:
    """The width and height of a PNG image, from its header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _slider_texts(what, texts, sliders, default):
    """``{name: text}`` for every slider: ``texts[name]``, else ``default(name)``."""
    texts = {} if texts is None else texts
    if not isinstance(texts, dict):
        raise TypeError(f"{what} must be a dict from slider name to text, got {texts!r}")
    unknown = sorted(set(texts) - set(sliders))
    if unknown:
        raise ValueError(f"{what} names no slider: {unknown}; the sliders are {list(sliders)}")
    for name, text in texts.items():
        if not isinstance(text, str) or (what == "labels" and not text.strip()):
            raise TypeError(f"{what}[{name!r}] must be a non-empty string, got {text!r}")
    return {name: texts.get(name, default(name)) for name in sliders}


def _check_sliders(draw, sliders) -> dict:
    """Validate ``draw`` and the slider grid; return ``{name: tuple(values)}``."""
    if not callable(draw):
        raise TypeError(f"draw must be callable as draw(fig, **values), got {type(draw).__name__}")
    if not sliders:
        raise ValueError("slider_figure needs at least one slider, e.g. hidden=[1, 2, 5]")
    signature = inspect.signature(draw)
    grid = {
        name: _check_slider(name, values, _figure_argument(signature))
        for name, values in sliders.items()
    }
    _check_grid_size(grid)
    try:
        signature.bind(None, **{n: v[0] for n, v in grid.items()})
    except TypeError as err:
        names = ", ".join(f"{n}=..." for n in grid)
        raise TypeError(f"draw cannot be called as draw(fig, {names}): {err}") from None
    return grid


def _figure_argument(signature):
    """The name of draw's first positional argument (the figure), or None."""
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return params[0].name if params and params[0].kind in positional else None


def _check_slider(name, values, figure):
    """One slider: a valid name (not the figure's), distinct finite numbers or strings."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"slider name {name!r} is not a valid Python identifier")
    if name == figure:
        raise ValueError(
            f"slider {name!r} has the name of draw's first argument, the figure; rename it"
        )
    if not isinstance(values, (list, tuple)) or not values:
        if isinstance(values, (list, tuple)):
            got = f"an empty {type(values).__name__}"
        else:
            got = f"{type(values).__name__} {values!r}"
        raise ValueError(f"slider {name!r} must be a non-empty list or tuple of values, got {got}")
    for v in values:
        if not isinstance(v, (str, numbers.Real)) or (
            isinstance(v, float) and not math.isfinite(v)
        ):
            raise ValueError(f"slider {name!r} values must be finite numbers or strings, got {v!r}")
    labels = [str(v) for v in values]
    if len(set(labels)) != len(labels) or len(set(values)) != len(values):
        raise ValueError(f"slider {name!r} has repeated values: {list(values)!r}")
    return tuple(values)


def _check_print_frames(print_frames, sliders, keys):
    """The keys of the print form: ``print_frames`` checked, or the grid's first, middle and
    last frames."""
    if print_frames is None:
        return list(dict.fromkeys([keys[0], keys[len(keys) // 2], keys[-1]]))
    if not isinstance(print_frames, (list, tuple)) or not print_frames:
        raise ValueError(
            "print_frames must be a non-empty list of dicts, one value per slider, e.g. "
            f"[dict({next(iter(sliders))}=...)], got {print_frames!r}"
        )
    if len(print_frames) > MAX_PRINT_FRAMES:
        raise ValueError(
            f"print_frames has {len(print_frames)} frames; a printed page holds at most "
            f"{MAX_PRINT_FRAMES}"
        )
    chosen = []
    for frame in print_frames:
        if not isinstance(frame, dict) or set(frame) != set(sliders):
            raise ValueError(
                f"each of print_frames must be a dict with one value for each slider "
                f"({', '.join(sliders)}), got {frame!r}"
            )
        for name, value in frame.items():
            if value not in sliders[name]:
                raise ValueError(
                    f"print_frames: {value!r} is not a value of slider {name!r} "
                    f"{list(sliders[name])!r}"
                )
        chosen.append(tuple(frame[name] for name in sliders))
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"print_frames repeats a frame: {print_frames!r}")
    return chosen


def _print_columns(width):
    """How many frames of ``width`` inches sit side by side on a printed page: as many as
    fit at about half their size or more, from 1 to 3."""
    return max(1, min(3, int(PRINT_TEXT_WIDTH / (0.55 * width))))


def _md_escape(text):
    """``text`` as literal Markdown: every ASCII punctuation mark backslash-escaped, lines
    joined (a table cell is one line)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(str(text).split()))


def _check_grid_size(grid):
    count = math.prod(len(values) for values in grid.values())
    if count > MAX_FRAMES:
        sizes = " x ".join(f"{len(v)} ({n})" for n, v in grid.items())
        raise ValueError(
            f"the slider grid has {count} frames ({sizes}); at most {MAX_FRAMES} are allowed, "
            "since the static page draws and carries every frame"
        )
