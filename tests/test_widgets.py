"""Tests for nntrain.widgets: the frames (drawn lazily, or in parallel for the static page),
the live widget and the static HTML."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from html.parser import HTMLParser

import ipywidgets
import pytest
from nntrain import parallel, widgets
from nntrain.widgets import MAX_FRAMES, slider_figure

from conftest import book_extension

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def draw_line(fig, slope, style):
    """A drawing that depends on both slider values."""
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, slope], style)
    ax.set_title(f"slope {slope}")


def small(**sliders):
    return slider_figure(draw_line, figsize=(2, 1.5), dpi=40, **sliders)


@pytest.fixture(scope="module")
def sf():
    return small(slope=[1, 2, 0.5], style=["-", "--"])


class Elements(HTMLParser):
    """Collect every element of an HTML fragment (tag and attributes) and its scripts."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.scripts, self._in_script = [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def b64(png):
    return base64.b64encode(png).decode()


# --- frames and timing ------------------------------------------------------------------


def test_one_png_frame_per_grid_point_and_they_differ(sf):
    assert len(sf.frames) == 3 * 2
    assert set(sf.frames) == {(s, t) for s in (1, 2, 0.5) for t in ("-", "--")}
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in sf.frames.values())
    assert len(set(sf.frames.values())) == 6
    assert sf.sliders == {"slope": (1, 2, 0.5), "style": ("-", "--")}


def test_redraw_timed_per_frame_drawn():
    sf = slider_figure(draw_line, slope=[1, 2, 3], style=["-"])  # the default size and dpi
    assert list(sf.redraw_seconds) == [(1, "-")]
    assert len(sf.frames) == 3
    assert list(sf.redraw_seconds) == sf.keys and all(s > 0 for s in sf.redraw_seconds.values())


def test_only_the_first_frame_is_drawn_up_front_and_each_frame_once():
    calls = []

    def draw(fig, n):
        calls.append(n)
        fig.add_subplot().plot(range(n))

    sf = slider_figure(draw, figsize=(1, 1), dpi=20, n=[1, 2, 3])
    assert calls == [1]
    assert sf.frame((3,)) == sf.frame((3,)) and calls == [1, 3]
    parallel.MAX_WORKERS, saved = 1, parallel.MAX_WORKERS  # draw the rest here, not in workers
    try:
        assert list(sf.frames) == [(1,), (2,), (3,)] and calls == [1, 3, 2]
    finally:
        parallel.MAX_WORKERS = saved


def test_frames_are_drawn_on_a_fresh_figure_without_pyplot(monkeypatch):
    monkeypatch.setattr(parallel, "MAX_WORKERS", 1)
    seen = []

    def draw(fig, n):
        seen.append((type(fig).__module__, len(fig.axes)))
        fig.add_subplot().plot(range(n))

    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    assert len(slider_figure(draw, figsize=(1, 1), dpi=20, n=[1, 2, 3]).frames) == 3
    assert seen == [("matplotlib.figure", 0)] * 3  # cleared between frames
    assert plt.get_fignums() == before


def draw_bars(fig, k, n):
    """A frame with one axes, so its layout is found once."""
    ax = fig.add_subplot()
    ax.bar(range(n), [(k * j) % 7 for j in range(n)])
    ax.set_title(f"k = {k}")


@pytest.mark.skipif(parallel.workers(64) < 2, reason="needs two free cores on Linux")
def test_frames_drawn_in_worker_processes_equal_those_drawn_here(monkeypatch):
    grid = {"k": list(range(8)), "n": [3, 5]}
    drawn = slider_figure(draw_bars, figsize=(2, 1.5), dpi=40, **grid)
    parent = os.getpid()
    monkeypatch.setattr(
        drawn, "_draw", lambda fig, **v: (draw_bars(fig, **v), pids.append(os.getpid()))
    )
    pids = []
    frames = drawn.frames
    assert parent not in pids  # the children drew them (their appends stayed there)
    monkeypatch.setattr(parallel, "MAX_WORKERS", 1)
    assert frames == slider_figure(draw_bars, figsize=(2, 1.5), dpi=40, **grid).frames
    assert len(set(frames.values())) == 16


# --- the mime bundle and the live widget ---------------------------------------------------


def test_live_bundle_has_the_widget_view_and_only_the_first_frame(monkeypatch):
    monkeypatch.delenv("NNTRAIN_STATIC", raising=False)
    live = small(slope=[1, 2, 0.5], style=["-", "--"])
    bundle = live._repr_mimebundle_()
    assert {WIDGET_VIEW, "text/html", "text/plain"} <= set(bundle)
    box = ipywidgets.widgets.widget._instances[bundle[WIDGET_VIEW]["model_id"]]
    assert isinstance(box, ipywidgets.VBox)
    assert b64(live.frame((1, "-"))) in bundle["text/html"]
    assert "Run the notebook in Jupyter or Colab" in bundle["text/html"]
    assert list(live.redraw_seconds) == [(1, "-")]  # displaying drew nothing more


def test_static_bundle_is_the_static_slider_and_its_print_form(sf, monkeypatch):
    monkeypatch.setenv("NNTRAIN_STATIC", "1")
    bundle = sf._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/markdown", "text/plain"}
    assert bundle["text/html"] == sf._repr_html_()
    assert bundle["text/markdown"] == sf.to_markdown()


def print_panels(markdown):
    """The print form parsed as the book's MyST parser reads it: the paragraphs before the
    grid, and each panel of the grid as (title, PNG bytes), row by row."""
    from docutils import nodes
    from docutils.core import publish_doctree
    from myst_parser.parsers.docutils_ import Parser

    settings = {"report_level": 2, "halt_level": 2}  # a warning fails the test
    doc = publish_doctree(markdown, parser=Parser(), settings_overrides=settings)
    (table,) = doc.findall(nodes.table)
    assert "borderless" in table["classes"]
    text = [p.astext() for p in doc.children if isinstance(p, nodes.paragraph)]
    panels = []
    for entry in table.findall(nodes.entry):
        if not entry.children:
            continue  # the empty cells that fill the last row
        title, picture = entry.children
        (image,) = picture.findall(nodes.image)
        assert image["uri"].startswith("data:image/png;base64,")
        panels.append((title.astext(), base64.b64decode(image["uri"].split(",", 1)[1])))
    return text, panels


def test_print_form_defaults_to_the_first_middle_and_last_frames(sf):
    assert sf.print_keys == [(1, "-"), (2, "--"), (0.5, "--")]
    text, panels = print_panels(sf.to_markdown())
    assert text == []  # no caption
    assert [title for title, _ in panels] == [
        "slope = 1, style = -",
        "slope = 2, style = --",
        "slope = 0.5, style = --",
    ]
    assert [png for _, png in panels] == [sf.frame(key) for key in sf.print_keys]
    assert small(slope=[3], style=[":"]).print_keys == [(3, ":")]  # one frame, one panel


def test_print_frames_are_the_authors_choice_in_order_with_the_caption_escaped():
    chosen = [dict(style="--", slope=0.5), dict(slope=1, style="-")]
    figure = slider_figure(
        draw_line,
        figsize=(2, 1.5),
        dpi=40,
        caption="Lines *not* emphasised: $x$ <b>",
        print_frames=chosen,
        slope=[1, 2, 0.5],
        style=["-", "--"],
    )
    assert figure.print_keys == [(0.5, "--"), (1, "-")]
    text, panels = print_panels(figure.to_markdown())
    assert text == ["Lines *not* emphasised: $x$ <b>"]
    assert [title for title, _ in panels] == ["slope = 0.5, style = --", "slope = 1, style = -"]
    assert [png for _, png in panels] == [figure.frame((0.5, "--")), figure.frame((1, "-"))]


def test_wide_frames_print_one_per_row_narrow_ones_side_by_side():
    def columns(width):
        figure = slider_figure(draw_line, figsize=(width, 1), dpi=20, slope=[1, 2, 3], style=["-"])
        return len(re.search(r":widths: (.*)", figure.to_markdown()).group(1).split())

    assert [columns(w) for w in (10, 5.5, 3)] == [1, 2, 3]


@pytest.mark.parametrize(
    "print_frames, message",
    [
        ([], "non-empty list of dicts"),
        (dict(slope=1, style="-"), "non-empty list of dicts"),
        ([dict(slope=1)], r"one value for each slider \(slope, style\)"),
        ([dict(slope=1, style="-", width=2)], "one value for each slider"),
        ([(1, "-")], "one value for each slider"),
        ([dict(slope=7, style="-")], r"7 is not a value of slider 'slope' \[1, 2, 0.5\]"),
        ([dict(slope=1, style="-")] * 2, "repeats a frame"),
        ([dict(slope=1, style="-")] * 13, "at most 12"),
    ],
)
def test_bad_print_frames_are_reported(print_frames, message):
    with pytest.raises(ValueError, match=message):
        small(slope=[1, 2, 0.5], style=["-", "--"], print_frames=print_frames)


def test_moving_a_live_slider_draws_and_shows_the_right_frame():
    live = small(slope=[1, 2, 0.5], style=["-", "--"])
    box = live.widget()
    sliders = [w for w in box.children if isinstance(w, ipywidgets.SelectionSlider)]
    (image,) = [w for w in box.children if isinstance(w, ipywidgets.Image)]
    assert box.children[-1] is image  # no timing under the figure
    assert [s.description for s in sliders] == ["slope", "style"]
    assert [s.options for s in sliders] == [
        (("1", 1), ("2", 2), ("0.5", 0.5)),
        (("-", "-"), ("--", "--")),
    ]
    assert all(s.continuous_update for s in sliders)
    assert image.format == "png" and image.value == live.frame((1, "-"))

    sliders[0].value = 0.5
    assert list(live.redraw_seconds) == [(1, "-"), (0.5, "-")]
    sliders[1].value = "--"
    sliders[0].value = 1
    sliders[0].value = 0.5
    assert list(live.redraw_seconds) == [(1, "-"), (0.5, "-"), (0.5, "--"), (1, "--")]
    assert image.value == live.frames[(0.5, "--")]


def test_live_view_shows_the_caption():
    sf = slider_figure(draw_line, figsize=(1, 1), dpi=20, caption="Lines", slope=[1], style=["-"])
    first = sf.widget().children[0]
    assert isinstance(first, ipywidgets.Label) and first.value == "Lines"


# --- the static HTML ---------------------------------------------------------------------


def test_static_html_has_a_range_per_slider_and_every_frame(sf):
    text = sf._repr_html_()
    parsed = Elements(text)
    ranges = [a for tag, a in parsed.elements if tag == "input" and a.get("type") == "range"]
    assert [(r["min"], r["max"], r["step"]) for r in ranges] == [("0", "2", "1"), ("0", "1", "1")]
    (img,) = [a for tag, a in parsed.elements if tag == "img"]
    assert img["src"] == "data:image/png;base64," + b64(sf.frames[(1, "-")])
    assert all(b64(png) in text for png in sf.frames.values())
    assert " ms" not in text and "redraw" not in text  # timings are for make bench


def test_static_html_is_self_contained(sf):
    text = sf._repr_html_()
    parsed = Elements(text)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    scripts = [a for tag, a in parsed.elements if tag == "script"]
    assert [a.get("type") for a in scripts] == ["application/json", None]  # data, then code
    assert all("src" not in a for a in scripts)
    assert not any(tag in ("link", "style", "iframe") for tag, _ in parsed.elements)


def test_caption_and_values_are_escaped():
    def draw(fig, name):
        fig.add_subplot().set_title(name)

    sf = slider_figure(draw, figsize=(1, 1), dpi=20, caption="<b>x</b> & y", name=["</script>"])
    text = sf._repr_html_()
    assert "<b>" not in text and "&lt;b&gt;x&lt;/b&gt; &amp; y" in text
    assert "<output" in text and "&lt;/script&gt;</output>" in text
    assert text.count("</script>") == 2 and text.endswith("</script></div>")
    assert '"labels":[["\\u003c/script\\u003e"]]' in text  # still the same JSON string


def test_ids_are_unique_on_a_page(sf):
    again = small(slope=[1, 2, 0.5], style=["-", "--"])
    other = small(slope=[1, 2], style=["-"])
    ids = [
        {a["id"] for _, a in Elements(x._repr_html_()).elements if "id" in a}
        for x in (sf, again, other)
    ]
    assert ids[0] and not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    assert sf._repr_html_() == sf._repr_html_()


BUILD = textwrap.dedent(
    """
    from nntrain.widgets import slider_figure

    def draw(fig, a, b):
        fig.add_subplot().plot([0, 1], [0, a], b)

    for caption in ("one", "two", "one"):
        print(slider_figure(draw, figsize=(2, 1), dpi=30, caption=caption,
                            a=[1, 2], b=["-", ":"])._repr_html_())
    """
)


def test_rebuilding_gives_identical_html():
    """Two fresh interpreters (two book builds) give the same ids, frames and markup."""
    runs = [
        subprocess.Popen([sys.executable, "-c", BUILD], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    first, second = outputs
    assert first == second
    ids = re.findall(r'<div id="([^"]+)"', first)
    assert len(ids) == len(set(ids)) == 3


# --- the inline script, run in node ----------------------------------------------------

FAKE_DOM = """
const parsed = JSON.parse(require("fs").readFileSync(0, "utf8"));
const elements = {};
for (const [id, value] of Object.entries(parsed.elements)) {
  elements[id] = {id, value, textContent: parsed.text[id] || "", src: "", alt: "", attributes: {},
    listeners: {}, setAttribute(name, v) { this.attributes[name] = String(v); },
    addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); }};
}
globalThis.document = {getElementById: id => elements[id] || null};
eval(parsed.script);
const results = [];
for (const move of parsed.moves) {
  const input = elements[move.id];
  input.value = String(move.value);
  for (const f of input.listeners.input || []) f();
  results.push({src: elements[parsed.img].src, alt: elements[parsed.img].alt,
                labels: parsed.outputs.map(id => elements[id].textContent),
                valuetexts: parsed.ranges.map(id => elements[id].attributes["aria-valuetext"])});
}
console.log(JSON.stringify(results));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the inline script")
def run_script_in_node(text, moves):
    """Load the static slider ``text`` into a fake DOM, apply ``moves`` ((slider, index),
    in order) with input events and return what the page shows after each."""
    parsed = Elements(text)
    data, script = parsed.scripts
    ranges = [a["id"] for tag, a in parsed.elements if tag == "input"]
    outputs = [a["id"] for tag, a in parsed.elements if tag == "output"]
    (img,) = [a["id"] for tag, a in parsed.elements if tag == "img"]
    elements = {a["id"]: a.get("value", "") for _, a in parsed.elements if "id" in a}
    (data_id,) = [a["id"] for tag, a in parsed.elements if a.get("type") == "application/json"]
    payload = {
        "script": script,
        "elements": elements,
        "text": {data_id: data},
        "img": img,
        "outputs": outputs,
        "ranges": ranges,
        "moves": [{"id": ranges[k], "value": i} for k, i in moves],
    }
    done = subprocess.run(
        ["node", "-e", FAKE_DOM],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the inline script")
def test_inline_script_swaps_frames_in_node(sf):
    moves = [(0, 1), (1, 1), (0, 2), (1, 0), (0, 0)]  # (slider, index), applied in order
    results = run_script_in_node(sf._repr_html_(), moves)
    grid = list(sf.sliders.values())
    index = [0, 0]
    for (k, i), result in zip(moves, results):
        index[k] = i
        key = tuple(values[j] for values, j in zip(grid, index))
        assert result["src"] == "data:image/png;base64," + b64(sf.frames[key])
        assert result["labels"] == [str(v) for v in key]
        assert result["valuetexts"] == [f"slope = {key[0]}", f"style = {key[1]}"]
        assert result["alt"] == f"Interactive figure: slope = {key[0]}, style = {key[1]}"


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({}, ValueError, "at least one slider"),
        ({"slope": []}, ValueError, "slider 'slope' must be a non-empty list.*empty list"),
        ({"slope": 3}, ValueError, "slider 'slope' must be a non-empty list or tuple.*int 3"),
        ({"slope": "abc"}, ValueError, "slider 'slope' .*got str 'abc'"),
        ({"slope": [1, 1.0]}, ValueError, "slider 'slope' has repeated values"),
        ({"slope": [1, "1"]}, ValueError, "slider 'slope' has repeated values"),
        ({"slope": [None]}, ValueError, "slider 'slope' values must be finite numbers or strings"),
        ({"slope": [float("nan")]}, ValueError, "finite numbers or strings, got nan"),
        ({"slope": [1], "not valid": [1]}, ValueError, "'not valid' is not a valid Python"),
        ({"slope": [1], "lambda": [1]}, ValueError, "'lambda' is not a valid Python"),
        ({"slope": [1], "fig": [1]}, ValueError, "slider 'fig' has the name of draw's first"),
        ({"slope": [1]}, TypeError, r"draw cannot be called as draw\(fig, slope=...\)"),
        ({"slope": [1], "style": ["-"], "width": [1]}, TypeError, "width"),
    ],
)
def test_bad_sliders_are_reported(kwargs, error, message):
    def draw(fig, slope, style):
        raise AssertionError("draw must not be called for bad input")

    with pytest.raises(error, match=message):
        slider_figure(draw, **kwargs)


def test_too_many_frames_are_refused_before_drawing():
    def draw(fig, a, b):
        raise AssertionError("draw must not be called for a grid that is too large")

    a, b = list(range(MAX_FRAMES // 10 + 1)), list(range(10))
    with pytest.raises(ValueError, match=f"{len(a) * 10} frames .*at most {MAX_FRAMES}"):
        slider_figure(draw, a=a, b=b)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"draw": "plot"}, TypeError, "draw must be callable"),
        ({"dpi": 0}, ValueError, "dpi must be finite and > 0"),
        ({"figsize": (4,)}, ValueError, r"figsize must be a pair"),
        ({"figsize": 4}, ValueError, r"figsize must be a pair"),
        ({"figsize": (4, -1)}, ValueError, r"figsize\[1\] must be finite and > 0"),
        ({"caption": 3}, TypeError, "caption must be a string or None, got int"),
    ],
)
def test_bad_options_are_reported(kwargs, error, message):
    args = {"draw": draw_line, "slope": [1], "style": ["-"], **kwargs}
    with pytest.raises(error, match=message):
        slider_figure(args.pop("draw"), **args)


def test_occurrence_counter_is_per_content(monkeypatch):
    monkeypatch.setattr(widgets, "_occurrences", {})
    first = small(slope=[3], style=[":"])
    second = small(slope=[3], style=[":"])
    assert first._id.endswith("-0") and second._id.endswith("-1")
    assert first._id[:-2] == second._id[:-2]


# --- what a reader hears: labels, units, value texts, alt text (issue 34) ---------------


def worded(**kwargs):
    return slider_figure(
        draw_line,
        figsize=(2, 1.5),
        dpi=40,
        caption="Lines",
        slope=[1, 2],
        style=["-", "--"],
        **kwargs,
    )


def test_sliders_are_labelled_in_words_and_announce_their_value_with_its_unit():
    sf = worded(labels={"slope": "slope of the line"}, units={"slope": "units per unit"})
    parsed = Elements(sf._repr_html_())
    labels = [a for tag, a in parsed.elements if tag == "label"]
    ranges = [a for tag, a in parsed.elements if tag == "input"]
    text = sf._repr_html_()
    assert re.findall(r"<label [^>]*>([^<]*)</label>", text) == ["slope of the line", "style"]
    assert [r["aria-valuetext"] for r in ranges] == ["slope of the line = 1 units per unit",
                                                     "style = -"]  # fmt: skip
    assert [a["for"] for a in labels] == [r["id"] for r in ranges]
    assert re.findall(r"<output [^>]*>([^<]*)</output>", text) == ["1 units per unit", "-"]
    (figure, *_) = parsed.elements
    assert figure[1]["role"] == "group" and figure[1]["aria-labelledby"].endswith("-caption")
    (img,) = [a for tag, a in parsed.elements if tag == "img"]
    assert img["alt"] == "Lines: slope of the line = 1 units per unit, style = -"
    assert (img["width"], img["height"], img["loading"]) == ("80", "60", "lazy")
    assert sf.labels == {"slope": "slope of the line", "style": "style"}
    assert sf.units == {"slope": "units per unit", "style": ""}


def test_the_alt_text_follows_the_frame_as_described():
    def describe(slope, style):
        return f"a {'dashed' if style == '--' else 'solid'} line rising {slope} per unit"

    sf = worded(describe=describe)
    (data,) = [s for s in Elements(sf._repr_html_()).scripts if s.startswith("{")]
    alts = json.loads(data)["alts"]
    assert alts == {
        "0,0": "a solid line rising 1 per unit",
        "0,1": "a dashed line rising 1 per unit",
        "1,0": "a solid line rising 2 per unit",
        "1,1": "a dashed line rising 2 per unit",
    }
    assert sf.describe((2, "--")) == "a dashed line rising 2 per unit"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the inline script")
def test_moving_a_slider_updates_its_value_text_and_the_alt_text_in_node():
    sf = worded(labels={"slope": "slope"}, units={"slope": "per unit"})
    (result,) = run_script_in_node(sf._repr_html_(), [(0, 1)])
    assert result["valuetexts"] == ["slope = 2 per unit", "style = -"]
    assert result["labels"] == ["2 per unit", "-"]
    assert result["alt"] == "Lines: slope = 2 per unit, style = -"
    assert result["src"] == "data:image/png;base64," + b64(sf.frame((2, "-")))


def test_live_sliders_show_the_labels_and_units():
    sf = worded(labels={"slope": "slope of the line"}, units={"slope": "per unit"})
    _, *controls, _ = sf.widget().children
    assert [c.description for c in controls] == ["slope of the line", "style"]
    assert [label for label, _ in controls[0].options] == ["1 per unit", "2 per unit"]
    controls[0].value = 2
    assert controls[0].label == "2 per unit"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"labels": ["slope"]}, TypeError, "labels must be a dict from slider name"),
        ({"labels": {"slop": "x"}}, ValueError, r"labels names no slider: \['slop'\]"),
        ({"labels": {"slope": ""}}, TypeError, r"labels\['slope'\] must be a non-empty string"),
        ({"labels": {"slope": 3}}, TypeError, r"labels\['slope'\] must be a non-empty string"),
        ({"units": {"width": "cm"}}, ValueError, "units names no slider"),
        ({"units": {"slope": None}}, TypeError, r"units\['slope'\] must be"),
        ({"describe": "a line"}, TypeError, "describe must be callable or None, got str"),
    ],
)
def test_bad_labels_units_and_descriptions_are_reported(kwargs, error, message):
    with pytest.raises(error, match=message):
        worded(**kwargs)


def test_a_description_that_is_not_text_is_reported():
    sf = worded(describe=lambda slope, style: None)
    with pytest.raises(TypeError, match="describe must return a non-empty string, got None"):
        sf._repr_html_()


# --- the book's build: frames as files (book/_ext/light_pages.py) -----------------------


@pytest.fixture(scope="module")
def light_pages():
    return book_extension("light_pages")


def test_the_book_moves_frames_to_image_files_next_to_the_page(sf, light_pages, tmp_path):
    text = light_pages.externalize_frames(sf._repr_html_(), tmp_path, "book/00_network")
    assert "data:image" not in text
    (data,) = [s for s in Elements(text).scripts if s.startswith("{")]
    frames = json.loads(data)["frames"]
    ranges = [range(len(v)) for v in sf.sliders.values()]
    import itertools

    for index, key in zip(itertools.product(*ranges), sf.keys):
        address = frames[",".join(map(str, index))]
        assert address.startswith("../_images/sliders/") and address.endswith(".png")
        assert (tmp_path / "book" / address).resolve().read_bytes() == sf.frame(key)
    (img,) = [a for tag, a in Elements(text).elements if tag == "img"]
    assert img["src"] == frames["0,0"] and img["loading"] == "lazy"
    assert len(list((tmp_path / "_images" / "sliders").iterdir())) == len(set(sf.frames.values()))
    # the page's script is unchanged, and shows the files
    (result,) = run_script_in_node(text, [(0, 2)]) if shutil.which("node") else [None]
    if result is not None:
        assert result["src"] == frames["2,0"]
    # a page at the top of the book addresses the same files without "../"
    top = light_pages.externalize_frames(sf._repr_html_(), tmp_path, "intro")
    assert '"_images/sliders/' in top and "../" not in top


def test_print_panels_are_titled_with_the_labels_and_units_the_page_shows():
    figure = slider_figure(
        draw_line,
        figsize=(2, 1.5),
        dpi=40,
        labels={"slope": "rise per step"},
        units={"slope": "m"},
        print_frames=[dict(slope=2, style="--")],
        slope=[1, 2],
        style=["-", "--"],
    )
    _, panels = print_panels(figure.to_markdown())
    assert [title for title, _ in panels] == ["rise per step = 2 m, style = --"]


# --- the book's build: one caption, title first (book/_ext/figures.py, light_pages.py) -----


def captioned_figure(*children):
    from docutils import nodes

    return nodes.figure("", *children, nodes.caption("", "Figure caption."))


@pytest.mark.parametrize("builder", ["html", "latex"])
def test_a_slider_in_a_captioned_figure_loses_its_own_caption(builder):
    """MyST-NB wraps a slider cell's output in a figure with the cell's caption: the slider's
    caption line (static HTML and print form) would read twice, and goes; in the PDF the
    print form's frames are limited in height so that the float fits a page."""
    from types import SimpleNamespace

    from docutils import nodes

    figures = book_extension("figures")
    sf = slider_figure(
        draw_line, figsize=(2, 1.5), dpi=40, caption="A line", slope=[1, 2], style=["-"]
    )
    html = sf._repr_html_()
    uid = re.search(r'id="(nntrain-slider-[\w-]+)-caption"', html)[1]
    table = nodes.table("", nodes.tgroup("", nodes.tbody("", nodes.row(), nodes.row())))
    table["classes"].append("nntrain-print-frames")
    inside = captioned_figure(
        nodes.raw("", html, format="html"), nodes.paragraph("", "A line"), table
    )
    outside = nodes.raw("", html, format="html")  # no figure: the slider keeps its caption
    doctree = nodes.document(None, None)
    doctree += [inside, outside]
    app = SimpleNamespace(builder=SimpleNamespace(format=builder))
    figures.drop_slider_captions(app, doctree, "book/00_network")
    raws = [n for n in inside.findall(nodes.raw) if "html" in n["format"]]
    assert (
        f'id="{uid}-caption"' not in raws[0].astext() and "aria-labelledby" not in raws[0].astext()
    )
    assert 'class="nntrain-slider-figure"' in raws[0].astext()
    assert not list(inside.findall(nodes.paragraph))  # the print form's caption line
    assert f'id="{uid}-caption"' in outside.astext()
    limits = [n.astext() for n in inside.findall(nodes.raw) if n["format"] == "latex"]
    assert limits == (
        []
        if builder == "html"
        else ["\\csname spx@image@maxheight\\endcsname=0.360\\textheight\\relax\n"]
    )


def test_figures_are_numbered_by_chapter():
    from types import SimpleNamespace

    figures = book_extension("figures")
    env = SimpleNamespace(
        toc_fignumbers={
            "book/03_initialization": {"figure": {"fig-03-b": (7,), "fig-03-a": (5,)}},
            "book/claims": {"table": {"t": (9,)}},
            "book/08_landscape": {"figure": {"fig-08-a": (8, 1)}},
        }
    )
    changed = figures.number_by_chapter(None, env)
    assert env.toc_fignumbers["book/03_initialization"]["figure"] == {
        "fig-03-a": (3, 1),
        "fig-03-b": (3, 2),
    }
    assert env.toc_fignumbers["book/claims"]["table"] == {"t": (1,)}
    assert sorted(changed) == ["book/03_initialization", "book/claims"]  # 8.1 stays


def test_a_chapter_s_setup_cell_moves_below_its_title():
    from docutils import nodes

    light_pages = book_extension("light_pages")
    setup = nodes.container("", nb_element="cell_code")
    title = nodes.title("", "Weight initialization")
    section = nodes.section("", title, nodes.paragraph("", "Text."))
    doctree = nodes.document(None, None)
    doctree += [setup, section]
    light_pages.title_first(None, doctree)
    assert doctree.children == [section] and section.children[:2] == [title, setup]
    light_pages.title_first(None, doctree)  # a page that starts with its title stays
    assert doctree.children == [section] and section.children[1] is setup
