"""Conventions every chapter notebook follows (DESIGN.md), checked without running them.

nbval runs the notebooks themselves (see pytest.ini); this file checks how they are stored.
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.mdit_to_docutils.base import default_slugify
from myst_parser.parsers.mdit import create_md_parser
from nntrain import classroom
from nntrain.classroom import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION

from conftest import TOC

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def test_there_are_chapters():
    assert [p.name for p in CHAPTERS][:1] == ["00_network.ipynb"]


def test_toc_lists_every_chapter_and_only_existing_files():
    listed = TOC
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".ipynb", ".md")), entry
    for chapter in CHAPTERS:
        assert f"book/{chapter.stem}" in listed, f"{chapter.name} is missing from _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [
        i
        for i, c in enumerate(cells(path))
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell(path):
    """Cell 1 installs the package from the repository set in _config.yml, only where the
    package is missing, seeds everything, and is hidden in the HTML."""
    first = cells(path)[0]
    text = source(first)
    url = CONFIG["repository"]["url"]
    assert first["cell_type"] == "code"
    assert f"git+{url}#subdirectory=code" in text, "setup cell must install from repository.url"
    assert 'find_spec("nntrain") is None' in text
    assert "nntrain.seed(" in text
    assert "hide-cell" in first.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_claims_checked_table(path):
    """A chapter has a Claims checked table that asserts, its code folded away under it."""
    all_cells = cells(path)
    text = [source(c) for c in all_cells]
    heading = next(i for i, t in enumerate(text) if t.startswith("## Claims checked"))
    shows = [c for c, t in zip(all_cells[heading:], text[heading:]) if "claims.show()" in t]
    assert shows, "the Claims checked section must call claims.show()"
    assert "hide-input" in shows[0].get("metadata", {}).get("tags", [])


def exercise_cells(path):
    """The indices of each graded exercise's answer and checks cells."""
    all_cells = cells(path)
    return [
        (i, i + 1)
        for i, c in enumerate(all_cells)
        if c["cell_type"] == "code" and BEGIN_SOLUTION in source(c)
    ]


def exercises(path):
    """``(answer cell, checks cell)`` of each graded exercise of a chapter."""
    all_cells = cells(path)
    return [(all_cells[i], all_cells[j]) for i, j in exercise_cells(path)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_graded_exercises(path):
    """At least three graded exercises: an answer cell folded behind "Show solution",
    followed by a checks cell that declares its points, asserts checks from nntrain.checks
    and may end with a hidden-test region that declares its own."""
    pairs = exercises(path)
    assert len(pairs) >= 3, f"{path.name} has {len(pairs)} graded exercises, not 3"
    for answer, checks in pairs:
        text, tests = source(answer), source(checks)
        assert text.count(BEGIN_SOLUTION) == text.count(END_SOLUTION) >= 1
        assert "hide-input" in answer["metadata"].get("tags", [])
        assert answer["metadata"]["mystnb"]["code_prompt_show"] == "Show solution"
        assert classroom.GRADED.match(tests), "checks cell must start with '# Graded (N points)'"
        public = tests.split(BEGIN_HIDDEN)[0]
        assert re.search(r"assert checks\.check_\w+\(", public), "public checks assert a check"
        if BEGIN_HIDDEN in tests:
            assert classroom.HIDDEN.search(tests), "a hidden region declares its points"
            assert tests.rstrip().endswith(END_HIDDEN), "the hidden region ends the cell"


#: A think exercise's heading, e.g. "**Exercise 4 (think; about 10 minutes).**".
THINK = re.compile(r"\*\*Exercise \d+ \(think\b[^)]*\)\.\*\*")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_think_exercises_have_model_answers_for_teachers(path):
    """Each think exercise is followed (after any code cells it hands the student) by a model
    answer with points and a rubric, removed from the HTML book (teachers see it in the course
    folder)."""
    all_cells = cells(path)
    thinks = [i for i, c in enumerate(all_cells) if THINK.search(source(c))]
    assert thinks, "no think exercise"
    for i in thinks:
        after = all_cells[i + 1 :]
        k = next((k for k, c in enumerate(after) if c["cell_type"] == "markdown"), len(after))
        assert k < len(after), f"cell {i}: nothing follows the exercise"
        model = after[k]
        assert classroom.MODEL.match(source(model)), f"cell {i + 1 + k}: no model answer"
        assert "*Rubric:*" in source(model)
        assert {"remove-cell", "model-answer"} <= set(model["metadata"].get("tags", []))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_markers_appear_only_in_exercise_cells(path):
    """nbgrader finds its markers anywhere in a line: prose that names one breaks the
    student version, so the markers live in exercise code cells only."""
    graded = {i for pair in exercise_cells(path) for i in pair}
    for i, c in enumerate(cells(path)):
        if i in graded:
            continue
        for marker in classroom.MARKERS:
            assert marker not in source(c), f"cell {i} mentions {marker!r}"


def without_solutions(text):
    """The answer cell as a reader who deletes every solution region leaves it."""
    return re.sub(rf"[ \t]*{BEGIN_SOLUTION}\n.*?{END_SOLUTION}\n?", "", text, flags=re.S)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_deleted_solution_fails_its_check_not_with_a_syntax_error(path):
    """Run the setup cell, then each answer with its solutions deleted and its public
    checks: the check must fail (AssertionError), never raise anything else."""
    import matplotlib

    matplotlib.use("Agg")
    namespace = {}
    setup = source(cells(path)[0]).replace("%pip install --quiet {source}", "pass")
    exec(setup, namespace)
    for answer, checks in exercises(path):
        exec(without_solutions(source(answer)), namespace)
        with pytest.raises(AssertionError):
            exec(source(checks).split(BEGIN_HIDDEN)[0], namespace)


TIMED_ASSERT = re.compile(r"assert[^\n]*(seconds|elapsed|perf_counter|timing|CHAPTER_START)")
TIMED_CLAIM = re.compile(r'claims\.add\(\s*"[^"]*(\(ms\)|\bms\b|seconds|redraw)')


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_chapter_asserts_a_time(path):
    """Speed is measured by `make bench`, never asserted: a reader's machine may be slower
    and busier than ours. A claim may compare two timings taken side by side (a ratio)."""
    code = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    timed = [i for i, t in enumerate(code) if TIMED_ASSERT.search(t) or TIMED_CLAIM.search(t)]
    assert not timed, f"{path.name}: code cells {timed} assert a time"
    assert not any("CHAPTER_START" in t or "timing.median" in t for t in code)


def test_the_time_check_catches_what_it_should():
    assert TIMED_ASSERT.search("assert chapter_seconds < 60")
    assert TIMED_CLAIM.search('claims.add(\n    "Slider redraw time, median (ms)",')
    assert not TIMED_CLAIM.search('claims.add(\n    "The closed form is faster (speed-up)",')


# Figures (issue 34): a code cell that draws a figure (plt.show()) or displays a slider
# (a name bound to widgets.slider_figure(...), as the cell's last line) shows exactly one,
# and carries MyST-NB's figure metadata: "mystnb": {"figure": {"name": "fig-NN-short-name",
# "caption": ...}, "image": {"alt": ...}} (a slider's alt text comes from its frames).
FIGURE_NAME = re.compile(r"fig-(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*")
SLIDER = re.compile(r"^(\w+)\s*=\s*(?:widgets\.)?slider_figure\(", re.M)
#: The fewest words of a caption or an alt text.
MIN_WORDS = 4


def figure_cells(path):
    """``(index, cell, is_slider)`` for every code cell of ``path`` that shows a figure."""
    all_cells = cells(path)
    sliders = {
        m[1] for c in all_cells if c["cell_type"] == "code" for m in SLIDER.finditer(source(c))
    }
    for index, cell in enumerate(all_cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] != "code" or {"remove-cell", "remove-output"} & tags:
            continue
        text = source(cell)
        lines = text.strip().splitlines()
        slider = bool(lines) and lines[-1].strip() in sliders
        if "plt.show()" in text or slider:
            yield index, cell, slider


def figure_problems(path):
    problems = []
    for index, cell, slider in figure_cells(path):
        text = source(cell)
        shows = text.count("plt.show()") + slider
        if shows != 1:
            problems.append(f"cell {index} shows {shows} figures; a figure cell shows one")
        options = cell.get("metadata", {}).get("mystnb", {})
        figure, image = options.get("figure", {}), options.get("image", {})
        name = figure.get("name", "")
        found = FIGURE_NAME.fullmatch(name)
        if not found or found[1] != path.name[:2]:
            problems.append(
                f"cell {index}: figure name {name!r}, not fig-{path.name[:2]}-short-name"
            )
        if len(str(figure.get("caption", "")).split()) < MIN_WORDS:
            problems.append(f"cell {index} ({name or 'unnamed'}): no caption of {MIN_WORDS}+ words")
        if not slider and len(str(image.get("alt", "")).split()) < MIN_WORDS:
            problems.append(
                f"cell {index} ({name or 'unnamed'}): no alt text of {MIN_WORDS}+ words"
            )
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_figure_cells_carry_a_name_a_caption_and_alt_text(path):
    problems = figure_problems(path)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_figure_names_are_unique_across_the_book():
    names = [
        cell["metadata"]["mystnb"]["figure"]["name"]
        for path in CHAPTERS
        for _, cell, _ in figure_cells(path)
        if cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
    ]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_the_figure_check_finds_figures_and_missing_metadata(tmp_path):
    """figure_problems on a small notebook: a plot without metadata, a slider with it, a
    cell drawing two figures, a misnamed figure."""

    def code(text, mystnb=None):
        return {
            "cell_type": "code",
            "source": text,
            "metadata": {"mystnb": mystnb} if mystnb else {},
        }

    good = {
        "figure": {"name": "fig-00-loss", "caption": "The loss falls by half."},
        "image": {"alt": "A falling loss curve over ten epochs."},
    }
    notebook = {
        "cells": [
            code("plt.plot(x)\nplt.show()", good),
            code("plt.plot(x)\nplt.show()"),
            code(
                "fig = widgets.slider_figure(draw, k=[1, 2])\nfig",
                {"figure": {"name": "fig-00-k", "caption": "What k does to the fit."}},
            ),
            code("plt.show()\nplt.show()", good),
            code("plt.show()", {**good, "figure": {**good["figure"], "name": "fig-01-loss"}}),
        ]
    }
    path = tmp_path / "00_demo.ipynb"
    path.write_text(json.dumps(notebook))
    assert [i for i, _, _ in figure_cells(path)] == [0, 1, 2, 3, 4]
    problems = "\n".join(figure_problems(path))
    assert "cell 0" not in problems and "cell 2" not in problems
    assert "cell 1: figure name ''" in problems and "cell 1 (unnamed): no alt text" in problems
    assert "cell 3 shows 2 figures" in problems
    assert "cell 4: figure name 'fig-01-loss'" in problems


# Links (issue 34): every `[text](#x)` in a chapter's Markdown cells and figure captions names
# a target the book build resolves (MyST warns on any other, and the build turns warnings into
# errors): a figure name, a MyST target `(name)=` or a directive's `:name:` of any chapter
# (Sphinx's labels are book-wide), or a heading slug of this chapter (levels 1 to 3:
# myst_heading_anchors). A Claims row's `claim-NN_topic-K` is not one: it is an HTML id in a
# cell's output, which MyST does not know (link the Claims section instead). A link
# into another chapter, `[text](NN_topic.ipynb#x)`, must name one of that chapter's heading
# slugs: MyST resolves nothing else after a page's name.
MYST = create_md_parser(
    MdParserConfig(enable_extensions=set(CONFIG["parse"]["myst_enable_extensions"])), RendererHTML
)
PAGE_LINK = re.compile(r"(\d\d_\w+)\.ipynb#(.+)")
FENCES, DIRECTIVE_NAME = ("fence", "colon_fence"), re.compile(r"^:name:\s*(\S+)", re.M)


def markdown_texts(path):
    """The Markdown a chapter's page renders: its Markdown cells, then its figure captions."""
    texts = [source(c) for c in cells(path) if c["cell_type"] == "markdown"]
    captions = [c.get("metadata", {}).get("mystnb", {}).get("figure", {}) for c in cells(path)]
    return texts + [str(f["caption"]) for f in captions if f.get("caption")]


def tokens(text):
    """MyST's tokens of ``text``, each block followed by its inline children."""
    for token in MYST.parse(text):
        yield token
        yield from token.children or []


def link_targets(path):
    """``(slugs, labels)`` of a chapter: its heading slugs (MyST's rule, a repeated heading's
    slug numbered as MyST numbers it) and its labels: figure names, MyST targets and the
    `:name:` of directives (```{admonition} ... :name: box-07-storage)."""
    slugs, labels = [], set()
    for text in markdown_texts(path):
        blocks = MYST.parse(text)
        for heading, inline in zip(blocks, blocks[1:]):
            if heading.type == "heading_open" and int(heading.tag[1]) <= 3:
                title = [t.content for t in inline.children if t.type in ("text", "code_inline")]
                slug = default_slugify("".join(title))
                i = 1
                while slug in slugs:
                    slug, i = f"{slug}-{i}", i + 1
                slugs.append(slug)
        labels |= {t.content for t in blocks if t.type == "myst_target"}
        directives = [t.content for t in blocks if t.type in FENCES and t.info.startswith("{")]
        labels |= {name for d in directives for name in DIRECTIVE_NAME.findall(d)}
    figures = [c.get("metadata", {}).get("mystnb", {}).get("figure", {}) for c in cells(path)]
    labels |= {f["name"] for f in figures if f.get("name")}
    return set(slugs), labels


def link_problems(path, chapters=CHAPTERS):
    """Every `#` link of ``path`` whose target the build would not find, in words."""
    targets = {p.stem: link_targets(p) for p in chapters}
    labels = set().union(*(named for _, named in targets.values()))
    problems = []
    for text in markdown_texts(path):
        for token in tokens(text):
            href = MYST.normalizeLinkText(token.attrGet("href") or "")
            if token.type != "link_open" or "#" not in href:
                continue
            page = PAGE_LINK.fullmatch(href)
            if page and page[2] not in targets.get(page[1], (set(),))[0]:
                problems.append(f"{href}: not a level 1-3 heading of {page[1]}.ipynb")
            elif href.startswith("#") and href[1:] not in (targets[path.stem][0] | labels):
                problems.append(f"{href}: no heading, figure or target of that name")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_links_name_targets_that_exist(path):
    problems = link_problems(path)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_link_check_finds_missing_targets(tmp_path):
    """link_problems on two small notebooks: the link forms that resolve pass, a misspelt or
    out-of-range target of each kind fails."""

    def markdown(text):
        return {"cell_type": "markdown", "source": text, "metadata": {}}

    def code(text, name=None):
        figure = {"figure": {"name": name, "caption": "The loss falls by half."}}
        return {"cell_type": "code", "source": text, "metadata": {"mystnb": figure} if name else {}}

    good = [
        "#training-with-noise",
        "#results-1",
        "#fig-00-loss",
        "#tab-00-sizes",
        "01_other.ipynb#setup",
        "#fig-01-other",
        "#box-01-tip",
    ]
    bad = [
        "#results-2",
        "#detail",
        "#fig-00-lost",
        "#claim-00_demo-1",  # an HTML id in a cell's output: MyST cannot resolve it
        "#setup",
        "01_other.ipynb#fig-01-other",
        "02_missing.ipynb#setup",
    ]
    links = " ".join(f"[here]({href})" for href in good + bad)
    demo = [
        markdown("# Demo\n\n## Training, with *noise*\n\n## Results\n\n## Results\n\n#### Detail"),
        markdown(f"(tab-00-sizes)=\nThe sizes. {links} `[not a link](#nowhere)`"),
        code("plt.plot(x)\nplt.show()", "fig-00-loss"),
        code('claims.add("a", source="s")\nclaims.add(\n    "b", source="s")'),
    ]
    tip = "```{note}\n:name: box-01-tip\nA tip.\n```"
    other = [markdown(f"## Setup\n\n{tip}"), code("plt.show()", "fig-01-other")]
    paths = [tmp_path / "00_demo.ipynb", tmp_path / "01_other.ipynb"]
    for path, notebook in zip(paths, (demo, other)):
        path.write_text(json.dumps({"cells": notebook}))
    problems = link_problems(paths[0], paths)
    assert [p.split(":")[0] for p in problems] == bad, problems
