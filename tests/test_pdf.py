"""The PDF edition (``make pdf``, book/_ext/pdf_edition.py).

The print versions of the chapters (the student's starting code instead of the solution,
public checks only, no model answer) and the teacher's appendix of solutions are checked on
the chapters themselves, without LaTeX. Then one chapter is built into a PDF, with the
teacher's appendix, and its text is read back with pdftotext: the chapter's title, its Claims
table (the header, a mark per row and its verdicts), the panel titles of its sliders' print
forms, its figures numbered as in the HTML book with their captions, the bibliography at the
end, and no Python repr (``<... object>``), no unresolved reference (``??``), no hidden test,
no solution in the chapter itself. The build reuses the chapter as the book build executed
it in the same session (tests/test_book.py runs first) and executes it once otherwise.

Without TeX (XeLaTeX, latexmk, xindy) or pdftotext the build test skips with a notice; under
CI=true it fails instead (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nntrain.classroom import BEGIN_HIDDEN, BEGIN_SOLUTION, GRADED

from conftest import book_extension, timings

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "book" / "_ext" / "pdf_edition.py"
#: The chapter built into a PDF: two sliders (one of them two frames wide), a Claims table
#: with more than one verdict, and every kind of exercise.
CHAPTER = "05_regularization"
PROGRAMS = ("xelatex", "latexmk", "xindy", "pdftotext", "pdfinfo")


def load_script():
    return book_extension("pdf_edition")


pdf_edition = load_script()


def chapter(name=CHAPTER):
    return nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)


def book_labels():
    """Every label a page of the book may link to from anywhere: the chapters' figure names
    and MyST targets (``(ex-00-affine)=``)."""
    labels = set()
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            labels |= set(re.findall(r"^\((\S+)\)=\s*$", cell.source, re.M))
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            labels |= {figure["name"]} if "name" in figure else set()
    return labels


def one_line(text):
    return " ".join(text.split())


# --------------------------------------------------------------------------------------
# print versions and the solutions appendix (no LaTeX)
# --------------------------------------------------------------------------------------


def test_the_print_version_shows_starting_code_and_public_checks_only():
    nb = chapter()
    printed = pdf_edition.print_version(nb)
    answers = [c for c in nb.cells if BEGIN_SOLUTION in c.source]
    assert answers, "the chapter has no answer cell to print"
    assert not any(BEGIN_SOLUTION in c.source or BEGIN_HIDDEN in c.source for c in printed.cells)
    assert not any("model-answer" in c.metadata.get("tags", []) for c in printed.cells)
    stubs = [c for c in printed.cells if pdf_edition.STUB in c.source]
    assert len(stubs) == len(answers)
    for stub, answer in zip(stubs, answers):
        assert "hide-input" not in stub.metadata.get("tags", []) and stub.outputs == []
        assert stub.source.splitlines()[0] == answer.source.splitlines()[0]  # the def line
    graded = [c for c in printed.cells if c.cell_type == "code" and GRADED.match(c.source)]
    assert graded and all(c.outputs == [] for c in graded)
    assert all("check" in c.source for c in graded)  # the public checks stay
    assert len(printed.cells) == len(nb.cells) - sum(
        "model-answer" in c.metadata.get("tags", []) for c in nb.cells
    )
    assert BEGIN_SOLUTION in next(c for c in nb.cells if BEGIN_SOLUTION in c.source).source


def test_the_print_version_keeps_an_answer_s_indentation():
    cell = nbformat.v4.new_code_cell(
        "def f(x):\n    out = x\n    ### BEGIN SOLUTION\n    out = 2 * x\n    ### END SOLUTION\n"
        "    return out\n"
    )
    nb = nbformat.v4.new_notebook(cells=[cell])
    (printed,) = pdf_edition.print_version(nb).cells
    assert printed.source == "def f(x):\n    out = x\n    # your code here\n    return out\n"


def test_the_teacher_s_appendix_has_every_exercise_with_its_solution():
    from docutils import nodes
    from docutils.core import publish_doctree
    from myst_parser.parsers.docutils_ import Parser

    notebooks = [(name, chapter(name)) for name in ("00_network", CHAPTER)]
    # a warning fails the test; the page's title stays a section. A link to a figure or a
    # target of a chapter ([Figure 0.3](#fig-00-capacity-slider)) resolves in the book's
    # build, where labels are book-wide, not in this page alone: it is checked below.
    settings = {"report_level": 2, "halt_level": 2, "doctitle_xform": False}
    settings["myst_suppress_warnings"] = ["myst.xref_missing"]
    for k, (name, nb) in enumerate(notebooks):
        page = pdf_edition.solutions_page(name, nb, first=k == 0)
        assert page.startswith(pdf_edition.APPENDIX) == (k == 0)  # LaTeX's \appendix, once
        page = page.replace(pdf_edition.APPENDIX, "")  # a Sphinx directive
        assert set(re.findall(r"\]\(#([^)\s]+)\)", page)) <= book_labels(), name
        doc = publish_doctree(page, parser=Parser(), settings_overrides=settings)
        titles = [s[0].astext() for s in doc.findall(nodes.section)]
        assert titles[0] == f"Solutions: {pdf_edition._title(nb)}"
        assert f"exercises of chapter {int(name[:2])}" in doc.astext()
        exercises = [
            one_line(m.group(1))
            for c in nb.cells
            if c.cell_type == "markdown"
            for m in [pdf_edition.EXERCISE_TITLE.search(c.source)]
            if m
        ]
        solved = [title for title, _ in pdf_edition.solutions(nb)]
        assert solved and set(solved) <= set(exercises) and set(solved) <= set(titles)
    code = "\n".join(b.astext() for b in doc.findall(nodes.literal_block))
    assert BEGIN_SOLUTION not in code
    assert "out = x * keep / p" in code  # chapter 5's first solution
    assert "Model answer" in doc.astext()


def test_the_print_version_takes_the_chapter_s_current_text_and_the_copy_s_outputs():
    """An executed copy older than the chapter's text (a caption or a sentence edited since)
    gives its outputs; the text and the cells' metadata are the chapter's."""
    nb = chapter()
    executed = chapter()
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
            cell.metadata = {"stale": True}
        else:
            cell.source = "old text"
    merged = pdf_edition.with_current_text(executed, nb)
    assert [c.source for c in merged.cells] == [c.source for c in nb.cells]
    assert [c.metadata for c in merged.cells] == [c.metadata for c in nb.cells]
    code = [c for c in merged.cells if c.cell_type == "code"]
    assert all(c.outputs[0]["text"] == "ran\n" for c in code)
    next(c for c in executed.cells if c.cell_type == "code").source += "\nx = 1"
    with pytest.raises(ValueError, match="code cells"):
        pdf_edition.with_current_text(executed, nb)


def test_an_html_only_output_gets_a_markdown_version_with_its_tables_and_lists():
    from docutils import nodes
    from docutils.core import publish_doctree
    from myst_parser.parsers.docutils_ import Parser

    page = (
        "<p><b>holds partly</b> (2)</p><ul><li><a href='a.html'>Ch 1</a> — x &lt; 1</li>"
        "<li>$5 *not* emphasised</li></ul><details><summary>All 3 claims</summary>"
        "<table><thead><tr><th>Claim</th><th>Verdict</th></tr></thead><tbody>"
        "<tr><th colspan='2'><a href='c1.html'>Chapter one</a></th></tr>"
        "<tr><td><a href='c1.html#r1'>a [claim]</a></td><td>holds</td></tr>"
        "<tr><th colspan='2'>Chapter two</th></tr><tr><td>b</td><td>holds partly</td></tr>"
        "</tbody></table></details>"
    )
    shown = {"output_type": "display_data", "metadata": {}, "data": {"text/html": page}}
    shown["data"]["text/plain"] = "<IPython.core.display.HTML object>"
    markdown = pdf_edition.html_as_markdown(shown)["data"]["text/markdown"]
    settings = {"report_level": 2, "halt_level": 2}
    doc = publish_doctree(markdown, parser=Parser(), settings_overrides=settings)
    tables = [
        [[e.astext() for e in row.children] for row in t.findall(nodes.row)]
        for t in doc.findall(nodes.table)
    ]
    assert tables == [
        [["Claim", "Verdict"], ["a [claim]", "holds"]],
        [["Claim", "Verdict"], ["b", "holds partly"]],
    ]
    text = doc.astext()
    for words in ("holds partly (2)", "Ch 1 — x < 1", "$5 *not* emphasised", "All 3 claims"):
        assert words in text
    assert text.index("Chapter one") < text.index("a [claim]") < text.index("Chapter two")
    assert len(list(doc.findall(nodes.list_item))) == 2
    figure = {"output_type": "display_data", "data": {"text/html": "<p>x</p>", "image/png": ""}}
    assert pdf_edition.html_as_markdown(figure) == figure  # a richer form is there already


def test_an_executed_copy_is_reused_only_when_fresh(tmp_path):
    source = ROOT / "book" / f"{CHAPTER}.ipynb"
    nb = chapter()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    copy = tmp_path / f"{CHAPTER}.ipynb"
    nbformat.write(nb, copy)
    now = time.time()
    os.utime(copy, (now, now))
    find = pdf_edition.executed_copy
    assert find(CHAPTER, [tmp_path], package_time=now - 10) == copy
    assert find(CHAPTER, [tmp_path], package_time=now + 10) is None  # the package is newer
    os.utime(copy, (source.stat().st_mtime - 10,) * 2)
    # older than the chapter: its outputs still serve (the text comes from the chapter)
    assert find(CHAPTER, [tmp_path], package_time=0) == copy
    for cell in nb.cells[::-1]:
        if cell.cell_type == "code":
            cell.source += "\nx = 1"  # other code than the chapter's
            break
    nbformat.write(nb, copy)
    assert find(CHAPTER, [tmp_path], package_time=0) is None


# --------------------------------------------------------------------------------------
# one chapter as a PDF
# --------------------------------------------------------------------------------------


def unavailable(message):
    """Skip with ``message``, or fail under CI, which requires this test."""
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI requires the PDF test")
    pytest.skip(message + ": PDF test skipped")


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """The PDF of the chapter with the teacher's appendix, its text and its print tree."""
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not found (Debian packages: see .ci/run)")
    out = tmp_path_factory.mktemp("pdf")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--chapters", CHAPTER, "--solutions", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    timings(request.config)["PDF of one chapter (tests/test_pdf.py)"] = time.perf_counter() - start
    assert result.returncode == 0, (
        f"the PDF build failed:\n{(result.stdout + result.stderr)[-6000:]}"
    )
    pdf = out / "nntrain-teacher.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    printed = nbformat.read(out / "src" / "book" / f"{CHAPTER}.ipynb", as_version=4)
    return {"text": text.stdout, "info": info.stdout, "printed": printed, "log": result.stdout}


def markdown_outputs(nb, marker):
    """The text/markdown outputs of ``nb`` that contain ``marker``."""
    return [
        o["data"]["text/markdown"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if marker in o.get("data", {}).get("text/markdown", "")
    ]


def unescape(markdown):
    return re.sub(r"\\(.)", r"\1", markdown)


def test_the_pdf_is_a4_with_the_chapter_s_title(built):
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", built["info"])
    assert pdf_edition._title(chapter()) in built["text"]


def test_sliders_print_their_chosen_frames_under_their_values(built):
    forms = markdown_outputs(built["printed"], "nntrain-print-frames")
    assert len(forms) == 2
    titles = [
        unescape(m.group(1))
        for form in forms
        for m in re.finditer(r"^(?:\* |  )- (\S.*)$", form, re.M)
    ]
    assert len(titles) >= 4 and all("=" in t for t in titles)
    text = one_line(built["text"])
    for title in titles:
        assert title in text


def test_the_claims_table_prints_as_a_table_with_its_verdicts(built):
    (table,) = markdown_outputs(built["printed"], "Most favourable")
    rows = table.count("\n* - ") - 1
    text = one_line(built["text"])
    for header in ("Claim", "Source", "Asserted", "Verdict"):
        assert header in text
    assert text.count("✓") >= rows
    verdicts = set(
        re.findall(r"^  - (holds partly|does not hold at this scale|holds)", table, re.M)
    )
    for verdict in verdicts:
        assert verdict in text


def test_nothing_prints_as_a_python_repr_or_an_unresolved_reference(built):
    text = built["text"]
    assert not re.search(r"<[\w.]+ object( at 0x[0-9a-f]+)?>", text)
    assert "<SliderFigure" not in text and "<Claims" not in text
    assert "??" not in text


def test_the_chapter_hides_solutions_and_the_appendix_gives_them(built):
    text = built["text"]
    assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "Model answer" in text  # the appendix
    chapter_part, appendix = text.split(
        f"The solutions of the exercises of chapter {int(CHAPTER[:2])}"
    )
    assert "your code here" in chapter_part
    assert "out = x * keep / p" in appendix
    assert "out = x * keep / p" not in chapter_part


def test_figures_are_numbered_floats_with_their_captions(built):
    """Each figure of the chapter (MyST-NB's figure metadata: images and the sliders' small
    multiples) prints as "Figure N.k: caption", N the chapter's number as in the HTML book."""
    captions = [
        c.metadata["mystnb"]["figure"]["caption"]
        for c in built["printed"].cells
        if c.metadata.get("mystnb", {}).get("figure", {}).get("caption")
    ]
    assert captions, f"{CHAPTER} has no captioned figure"
    text = one_line(built["text"]).replace("’", "'")  # LaTeX sets quotes typographically
    for k, caption in enumerate(captions, 1):
        start = one_line(caption)[:40]
        assert f"Figure {int(CHAPTER[:2])}.{k}: {start}" in text, f"figure {k}: {start!r}"


def test_the_bibliography_ends_the_book_with_the_works(built):
    """The works are listed once, at the end (after the teacher's appendices), under
    "Bibliography", with no empty chapter of that name before them."""
    text = built["text"]
    assert "Every work the book cites or builds on" not in text  # bibliography.md's chapter
    tail = text[text.rfind("Appendix A.") :]  # from the appendix's last running head on
    assert "Bibliography" in tail
    for author in ("Srivastava", "Ioffe", "Hinton"):
        assert author in tail, f"{author} is not in the bibliography at the end"
