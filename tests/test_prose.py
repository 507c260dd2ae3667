"""The prose cannot drift from the cells: every number a chapter's text quotes is printed by
one of its cells, at the quoted rounding, or is a declared constant (nntrain.prose).

The checker is tested on small notebooks with a drifted number, then run on the nine
chapters as the book build executed them (`_build/jupyter_execute/book`, the `built`
fixture).
"""

import json
import re
from pathlib import Path

import pytest
from nntrain.prose import BOOK_ENV, SMALL, drift, main, quotes

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"


def notebook(markdown, printed="", code="x = 1", html=None, md=None):
    outputs = [{"output_type": "stream", "name": "stdout", "text": printed}]
    for kind, value in (("text/html", html), ("text/markdown", md)):
        if value is not None:
            outputs.append({"output_type": "display_data", "metadata": {}, "data": {kind: value}})
    return {
        "cells": [
            {"cell_type": "code", "source": code, "outputs": outputs},
            {"cell_type": "markdown", "source": markdown},
        ]
    }


def drifted(markdown, printed="", **kw):
    return [d.quote.text for d in drift(notebook(markdown, printed, **kw), "demo")]


# ------------------------------------------------------------------------- what is quoted


@pytest.mark.parametrize(
    "text, values",
    [
        ("accuracy 0.806 against 0.732", [0.806, 0.732]),
        ("a net of 7,510 parameters", [7510]),
        ("16x faster, 1.5x at its best", [16, 1.5]),
        ("0.50% of the loss", [0.5]),
        ("a ratio of $1.1 \\times 10^{-2}$ and $10^{-3}$", [0.011, 0.001]),
        ("from 1e-3 to 2.5e-2", [0.001, 0.025]),
    ],
)
def test_quoted_numbers_are_read_with_their_value(text, values):
    assert [q.value for q in quotes(text)] == pytest.approx(values)


@pytest.mark.parametrize(
    "text",
    [
        "chapter 14, Exercise 12 and chapters 11 and 12",  # references
        "three seeds, 3 seeds, ln 10, the 2 classes",  # small whole numbers
        "He et al. (2015) and Glorot (2010)",  # years
        "`lr=0.137` in code and {cite}`he2015`",  # code spans and roles
        "8x8 digits and 32x32x3 patches",  # shapes
        "the layer $W_2 = 2 x^2 + 13$",  # integers in math are formula constants
        "[a link](https://example.org/v/0.613)",  # link targets
        "CS231n and L2 and fc_1",  # names
        "**Exercise 4 (think; about 15 minutes).**",  # an exercise's time estimate
    ],
)
def test_references_constants_and_code_are_not_quotes(text):
    assert quotes(text) == []


# ------------------------------------------------------------------------- what matches


@pytest.mark.parametrize(
    "markdown, printed",
    [
        ("reaches 0.613", "acc 0.6131\n"),
        ("reaches 0.613", "acc 0.6125\n"),  # rounds either way
        ("a fall of 0.04", "change -0.04\n"),  # signs are ignored
        ("16.0% of the weights", "sparsity 0.160\n"),  # a percentage of a printed fraction
        ("a gap of 24 points", "gap 0.2403\n"),
        ("a gap of 24 points", "gap 24.1%\n"),
        ("16x faster", "ratio 16.3\n"),
        ("ratio $1.1 \\times 10^{-2}$", "1.08e-02\n"),
        ("7,510 parameters", "7510\n"),
        ("at lr 0.137", ""),  # a hyperparameter set in the code
    ],
)
def test_a_number_printed_at_the_quoted_rounding_is_found(markdown, printed):
    assert drifted(markdown, printed, code="lr = 0.137") == []


@pytest.mark.parametrize(
    "markdown, printed",
    [
        ("0.613 against 0.732", "0.612 0.732\n"),  # the drift chapter 2 had
        ("per seed 0.20 and 0.75", "0.099 0.804\n"),  # the drift chapter 1 had
        ("reaches 0.613", "acc 0.61\n"),  # more digits than the cell printed
        ("16x faster", "ratio 15.4\n"),
        ("16.0% of the weights", "0.161\n"),
        ("an lr of 0.14", ""),  # code literals match exactly only (the code has 0.137)
    ],
)
def test_a_drifted_number_is_reported(markdown, printed):
    assert len(drifted(markdown, printed, code="lr = 0.137")) == 1


def test_html_outputs_count_without_their_tags_scripts_or_images():
    table = "<table><tr><td>0.945 ✓</td></tr></table><script>var x = 0.871;</script>"
    image = '<img src="data:image/png;base64,iVBOR0.5553w" alt="0.5553">'
    assert drifted("measured 0.945", html=table) == []
    assert drifted("measured 0.871", html=table) == ["0.871"]
    assert drifted("measured 0.5553", html=image) == ["0.5553"]


def test_markdown_outputs_count_without_their_inlined_images():
    frames = "| lam = 0.05 |\n| ![frame](data:image/png;base64,iVBOR/7510+w=) |"
    assert drifted("at lam = 0.05", md=frames) == []
    assert drifted("a net of 7510 parameters", md=frames) == ["7510"]


def figure_notebook(caption=None, alt=None, printed="accuracy 0.806\n"):
    nb = notebook("Some text.", printed)
    options = {}
    if caption is not None:
        options["figure"] = {"name": "fig-00-demo", "caption": caption}
    if alt is not None:
        options["image"] = {"alt": alt}
    nb["cells"][0]["metadata"] = {"mystnb": options}
    return nb


def test_figure_captions_and_alt_texts_are_prose():
    """A figure's caption and alt text (MyST-NB's cell metadata) are read like Markdown: a
    number in them must be printed too, and the report says where it was quoted."""
    caption, alt = "Accuracy reaches 0.806.", "Two curves; validation ends at 0.806."
    assert drift(figure_notebook(caption, alt)) == []
    found = drift(figure_notebook("Accuracy reaches 0.83 here.", "It ends at 0.79."), "demo")
    assert [(d.quote.text, d.where) for d in found] == [
        ("0.83", "caption of cell 0"),
        ("0.79", "alt text of cell 0"),
    ]
    assert "(caption of cell 0)" in str(found[0])
    # a figure without a caption, or a cell without metadata, adds nothing
    assert drift(figure_notebook(None, None)) == []


def test_the_report_names_the_chapter_the_quote_and_the_nearest_printed_number(tmp_path, capsys):
    path = tmp_path / "02_preprocessing.ipynb"
    path.write_text(json.dumps(notebook("Centring gains 0.613 here.", "gain 0.612\n")))
    (found,) = drift(path)
    assert str(found).startswith("02_preprocessing: quotes '0.613' (nearest printed 0.612)")
    assert "Centring gains 0.613" in str(found)
    assert main([str(path)]) == 1
    assert "1 quoted numbers not printed" in capsys.readouterr().out


def test_an_unexecuted_notebook_is_refused():
    with pytest.raises(ValueError, match="executed notebook"):
        drift({"cells": [{"cell_type": "markdown", "source": "0.5"}]}, "demo")
    with pytest.raises(TypeError, match="notebook path or its JSON"):
        drift(["0.5"])


def test_small_whole_numbers_are_the_declared_constants():
    assert SMALL == 10
    assert drifted("it took 10 steps, then 11 steps", "") == ["11"]


# ------------------------------------------------------------------------- the chapters


def test_no_chapter_uses_roles_that_jupyter_and_colab_show_raw():
    """Numbers come from the cells' printed lines, not from glue or eval roles, which
    Jupyter and Colab would show as raw text."""
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert not re.search(r"\{(glue|glue:\w+|eval|sub)\}`", prose), path.name


def test_every_number_in_the_chapter_s_prose_is_printed_by_its_cells(built, chapter):
    found = drift(EXECUTED / f"{chapter}.ipynb")
    assert not found, "\n".join(map(str, found))


def test_chapters_are_executed_as_the_makefile_builds_the_book():
    """`nntrain.prose.execute` and `make bench` give a chapter the environment `make book`
    gives it: BOOK_ENV is the Makefile's book recipe."""
    recipe = (ROOT / "Makefile").read_text().split("\nbook:")[1].split("\n\n")[0]
    for key, value in BOOK_ENV.items():
        assert f"{key}={value}" in recipe
