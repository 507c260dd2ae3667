"""Classroom assignments (nntrain.classroom, with nbgrader).

Fast, every chapter (no execution): the student version holds no solution, no hidden test and
no marker; its graded cells are locked with the points the chapter declares; every other
cell is the chapter's, but for the install line pinned to the commit.

End to end, chapter 0 (three runs of the chapter under nbgrader, about a minute): the
solutions score full marks, an untouched student version scores 0 without a crash, and one
student's mixed submission gets exactly the credit its tests allow. That submission has a
right answer that warns, a locked check cell the student emptied, an answer off by the
batch size, and a hard-coded count that passes the public check and fails the hidden one.
A broken grading environment and a submission that lost its metadata are errors, never
silent zeros. Assigning again after submissions keeps the release.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nntrain import classroom
from nntrain.classroom import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
CHAPTERS = classroom.chapters()
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    points = classroom.assign(folder, commit=COMMIT)
    return folder, points


def read(path):
    return nbformat.read(path, as_version=4)


def released(folder, chapter):
    return read(folder / "release" / chapter / f"{chapter}.ipynb")


def with_stubs(text):
    """An answer cell as nbgrader's student version must read: each solution region
    replaced by the stub, at the region's indent."""

    def stub(match):
        indent = match.group(1)
        return "\n".join(indent + line for line in STUB.splitlines()) + "\n"

    return re.sub(rf"([ \t]*){BEGIN_SOLUTION}\n.*?{END_SOLUTION}\n?", stub, text, flags=re.S)


def declared_points(chapter):
    """The points the chapter's own cells declare, read independently of the generator."""
    total = 0
    for cell in read(ROOT / "book" / f"{chapter}.ipynb").cells:
        total += sum(int(n) for n in re.findall(r"^# Graded \((\d+) points?\)", cell.source, re.M))
        total += sum(int(n) for n in re.findall(r"HIDDEN TESTS \((\d+) points?\)", cell.source))
        total += sum(int(n) for n in re.findall(r"^\*\*Model answer\*\* \((\d+)", cell.source))
    return total


def test_course_folder_outside_the_repository_only(tmp_path):
    with pytest.raises(classroom.ClassroomError, match="inside the repository"):
        classroom.assign(ROOT / "_build" / "course", ["00_network"], commit=COMMIT)
    with pytest.raises(classroom.ClassroomError, match="no such chapter"):
        classroom.assign(tmp_path, ["99_missing"], commit=COMMIT)


@pytest.mark.parametrize("name", CHAPTERS)
def test_student_version_has_no_solution_and_no_hidden_test(course, name):
    folder, _ = course
    book = read(ROOT / "book" / f"{name}.ipynb")
    student = released(folder, name)
    text = nbformat.writes(student)
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        assert marker not in text
    answers = [c for c in book.cells if BEGIN_SOLUTION in c.source]
    student_answers = [c for c in student.cells if "raise NotImplementedError()" in c.source]
    assert [with_stubs(c.source) for c in answers] == [c.source for c in student_answers]
    # the lines of the hidden regions that appear nowhere else in the chapter
    regions = [c.source.split(BEGIN_HIDDEN)[1] for c in book.cells if BEGIN_HIDDEN in c.source]
    elsewhere = {
        line.strip() for c in book.cells for line in c.source.split(BEGIN_HIDDEN)[0].splitlines()
    }
    hidden = [
        line.strip()
        for region in regions
        for line in region.splitlines()[1:]
        if line.strip() not in elsewhere | {END_HIDDEN}
    ]
    student_lines = {line.strip() for c in student.cells for line in c.source.splitlines()}
    assert hidden and not [line for line in hidden if line in student_lines]
    models = [c for c in student.cells if "model-answer" in c.metadata.get("tags", [])]
    assert models and all(c.source.strip() == "YOUR ANSWER HERE" for c in models)
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", CHAPTERS)
def test_graded_cells_are_locked_with_the_declared_points(course, name):
    folder, points = course
    student = released(folder, name)
    graded = [c.metadata["nbgrader"] for c in student.cells if "nbgrader" in c.metadata]
    checks = [m for m in graded if m["grade"] and not m["solution"]]
    assert checks and all(m["locked"] for m in checks)
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids))
    total = sum(m.get("points", 0) for m in graded if m["grade"])
    assert total == sum(points[name].values()) == declared_points(name)
    assert len([m for m in checks if m["grade_id"].endswith("-checks")]) >= 3


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_other_cell_is_the_chapter_s_and_the_install_is_pinned(course, name):
    folder, _ = course
    book = [c for c in read(ROOT / "book" / f"{name}.ipynb").cells]
    student = released(folder, name)
    ungraded = [c for c in student.cells if "nbgrader" not in c.metadata]
    plain = [c for c in book if BEGIN_SOLUTION not in c.source and "# Graded (" not in c.source]
    plain = [c for c in plain if "model-answer" not in c.metadata.get("tags", [])]
    assert [c.source for c in ungraded[1:]] == [c.source for c in plain[1:]]
    pinned = f"nntrain@{COMMIT}#subdirectory=code"
    assert pinned in ungraded[0].source
    assert ungraded[0].source.replace(f"@{COMMIT}", "") == plain[0].source


# ---------------------------------------------------------------------------- end to end


def submission(folder, name, chapter, edit=None):
    """A student's notebook: the release, changed by ``edit(cells by grade_id)``."""
    nb = released(folder, chapter)
    if edit:
        edit({c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata})
    path = folder.parent / f"{folder.name}-submissions" / name / chapter / f"{chapter}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path.parents[2]


WARNING_AFFINE = """import warnings


def my_affine_forward(x, w, b):
    warnings.warn("checking my shapes")
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def my_affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)
"""
SUM_NOT_MEAN = """def my_svm_loss(scores, y, delta=1.0):
    rows = np.arange(len(y))
    margins = np.maximum(0, scores - scores[rows, y][:, None] + delta)
    margins[rows, y] = 0
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -dscores.sum(axis=1)
    return margins.sum(), dscores
"""


def mixed(cells):
    cells["00_network-ex1-answer"].source = WARNING_AFFINE
    cells["00_network-ex1-checks"].source = "pass  # the student emptied the check\n"
    cells["00_network-ex2-answer"].source = SUM_NOT_MEAN
    cells["00_network-ex3-answer"].source = "def n_parameters(sizes):\n    return 3578510\n"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graded-course")
    classroom.assign(folder, ["00_network"], commit=COMMIT)
    submissions = submission(folder, "alice", "00_network")
    submission(folder, "bob", "00_network", mixed)
    rows = classroom.grade(folder, submissions, "00_network")
    return folder, submissions, {r["student_id"]: r for r in rows}


def cell_scores(folder, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("00_network", "00_network", student)
        return {g.name: g.score for g in nb.grades}


def test_solutions_full_marks_untouched_zero_and_exact_partial_credit(graded):
    folder, _, rows = graded
    assert set(rows) == {"alice", "bob"}, "the canary is not a student"
    assert float(rows["alice"]["score"]) == 0.0
    assert float(rows["bob"]["score"]) == 4.0
    assert float(rows["bob"]["max_score"]) == declared_points("00_network")
    scores = cell_scores(folder, "bob")
    assert scores["00_network-ex1-checks"] == 2  # the emptied check ran as written
    assert scores["00_network-ex1-hidden"] == 1  # and its warning cost nothing
    assert scores["00_network-ex2-checks"] == scores["00_network-ex2-hidden"] == 0
    assert scores["00_network-ex3-checks"] == 1  # the hard-coded count passes in public
    assert scores["00_network-ex3-hidden"] == 0  # and fails the other sizes
    with open(folder / "grades.csv", newline="") as f:
        header = next(csv.reader(f))
    assert {"student_id", "assignment", "score", "max_score"} <= set(header)
    for student in ("alice", "bob"):
        assert (folder / "feedback" / student / "00_network" / "00_network.html").exists()
    assert not (folder / "feedback" / classroom.CANARY).exists()


def test_a_submission_without_its_metadata_is_an_error_naming_it(graded):
    folder, submissions, _ = graded

    def strip(cells):
        for c in cells.values():
            del c.metadata["nbgrader"]

    submission(folder, "carol", "00_network", strip)
    with pytest.raises(classroom.ClassroomError, match=r"carol: graded cells missing"):
        classroom.grade(folder, submissions, "00_network")
    shutil.rmtree(submissions / "carol")


def test_assigning_again_keeps_a_release_that_has_submissions(graded, capsys):
    folder, _, _ = graded
    release = folder / "release" / "00_network" / "00_network.ipynb"
    before = release.read_text()
    assert classroom.assign(folder, ["00_network"], commit="f" * 40) == {}
    assert release.read_text() == before
    out = capsys.readouterr().out
    assert "00_network: has submissions, so its release is kept" in out
    assert "cells 0 changed" in out  # the install line names another commit


def test_a_broken_grading_environment_grades_no_one(graded, tmp_path, monkeypatch):
    folder, submissions, _ = graded
    fake = tmp_path / "broken" / "nntrain"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('a broken installation')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    before = (folder / "grades.csv").read_text()
    with pytest.raises(classroom.ClassroomError, match=r"scored 0\.0 of the 8 points .* broken"):
        classroom.grade(folder, submissions, "00_network")
    assert (folder / "grades.csv").read_text() == before
