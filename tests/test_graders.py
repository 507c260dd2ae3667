"""The graders of every graded exercise, tried with answers: plausible wrong answers must
lose their points and right answers written differently must get them all.

For each chapter the setup cell runs once; then, for every graded exercise (a solution cell
with ``### BEGIN SOLUTION`` followed by its ``# Graded`` checks cell), each answer of
``tests/answers/chNN_<topic>.py`` replaces the solution cell and the checks cell runs as
nbgrader runs it: the public part (what the student's version keeps), then the hidden part.
An answer loses its points when either raises. A graded exercise without at least four
wrong answers and two right ones fails the suite.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
from functools import cache
from pathlib import Path

import matplotlib
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
HIDDEN = "### BEGIN HIDDEN TESTS"
#: At least this many wrong and right answers per graded exercise.
MIN_WRONG, MIN_RIGHT = 4, 2


def source(cell):
    return "".join(cell["source"])


@cache
def exercises(path):
    """``{name: (solution, checks)}`` of a chapter's graded exercises, named by the first
    function the solution cell defines."""
    cells = json.loads(path.read_text())["cells"]
    found = {}
    for cell, after in zip(cells, cells[1:]):
        text = source(cell)
        if cell["cell_type"] == "code" and "### BEGIN SOLUTION" in text:
            checks = source(after)
            if checks.startswith("# Graded ("):
                found[re.search(r"^def (\w+)", text, re.M)[1]] = (text, checks)
    return found


def answers(path):
    module = importlib.import_module(f"answers.ch{path.stem}")
    return module.ANSWERS


@cache
def chapter_namespace(path):
    """The names the chapter's setup cell defines, as a student's kernel has them."""
    setup = TransformerManager().transform_cell(source(json.loads(path.read_text())["cells"][0]))
    namespace = {"__name__": "__main__"}
    with matplotlib.rc_context(), contextlib.redirect_stdout(io.StringIO()):
        exec(compile(setup, f"{path.stem} setup cell", "exec"), namespace)
    return namespace


def grade(path, answer, checks):
    """Run ``answer`` then the public and the hidden part of ``checks``; return whether each
    part passed, and what the checks printed."""
    namespace = dict(chapter_namespace(path))
    public, _, hidden = checks.partition(HIDDEN)
    printed = io.StringIO()
    passed = []
    with contextlib.redirect_stdout(printed):
        try:
            exec(compile(answer, "answer", "exec"), namespace)
        except Exception as e:  # an answer that does not even run
            return (False, False), f"the answer raised {e!r}"
        for part in (public, HIDDEN + hidden):
            try:
                exec(compile(part, "checks", "exec"), namespace)
                passed.append(True)
            except Exception:
                passed.append(False)
    return tuple(passed), printed.getvalue()


def cases():
    for path in CHAPTERS:
        try:
            table = answers(path)
        except ModuleNotFoundError:
            continue
        for name in exercises(path):
            for kind in ("wrong", "right"):
                for label in table.get(name, {}).get(kind, {}):
                    yield pytest.param(
                        path, name, kind, label, id=f"{path.stem}-{name}-{kind}-{label}"
                    )


def test_every_graded_exercise_has_its_wrong_and_right_answers():
    for path in CHAPTERS:
        table = answers(path)
        for name in exercises(path):
            assert name in table, f"{path.stem}: no answers for the exercise {name}"
            assert len(table[name]["wrong"]) >= MIN_WRONG, (path.stem, name)
            assert len(table[name]["right"]) >= MIN_RIGHT, (path.stem, name)
        assert set(table) <= set(exercises(path)), f"{path.stem}: answers to no exercise"


@pytest.mark.parametrize("path, name, kind, label", list(cases()))
def test_an_answer_gets_exactly_the_points_it_deserves(path, name, kind, label):
    _, checks = exercises(path)[name]
    (public, hidden), printed = grade(path, answers(path)[name][kind][label], checks)
    if kind == "right":
        assert public and hidden, f"a right answer ({label}) lost points:\n{printed}"
    else:
        assert not (public and hidden), f"a wrong answer ({label}) got every point:\n{printed}"


def test_the_book_s_own_solutions_get_every_point():
    for path in CHAPTERS:
        for name, (solution, checks) in exercises(path).items():
            (public, hidden), printed = grade(path, solution, checks)
            assert public and hidden, f"{path.stem} {name}:\n{printed}"
