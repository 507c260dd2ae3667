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
def book(tmp_path_factory):
    """The chapters as they are now (other work may change book/ while the tests run)."""
    folder = tmp_path_factory.mktemp("snapshot") / "book"
    folder.mkdir()
    for path in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, folder)
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory, book):
    folder = tmp_path_factory.mktemp("course")
    points = classroom.assign(folder, book=book, commit=COMMIT)
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


def declared_points(book, chapter):
    """The points the chapter's own cells declare, read independently of the generator."""
    total = 0
    for cell in read(book / f"{chapter}.ipynb").cells:
        total += sum(int(n) for n in re.findall(r"^# Graded \((\d+) points?\)", cell.source, re.M))
        total += sum(int(n) for n in re.findall(r"HIDDEN TESTS \((\d+) points?\)", cell.source))
        total += sum(int(n) for n in re.findall(r"^\*\*Model answer\*\* \((\d+)", cell.source))
    return total


def test_course_folder_outside_the_repository_only(tmp_path):
    with pytest.raises(classroom.ClassroomError, match="inside the repository"):
        classroom.assign(ROOT / "_build" / "course", ["00_network"], commit=COMMIT)
    with pytest.raises(classroom.ClassroomError, match="no such chapter"):
        classroom.assign(tmp_path / "course", ["99_missing"], commit=COMMIT)
    assert not (tmp_path / "course").exists(), "nothing is written before the names are checked"


@pytest.mark.parametrize("name", CHAPTERS)
def test_student_version_has_no_solution_and_no_hidden_test(course, book, name):
    folder, _ = course
    book = read(book / f"{name}.ipynb")
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
def test_graded_cells_are_locked_with_the_declared_points(course, book, name):
    folder, points = course
    student = released(folder, name)
    graded = [c.metadata["nbgrader"] for c in student.cells if "nbgrader" in c.metadata]
    checks = [m for m in graded if m["grade"] and not m["solution"]]
    assert checks and all(m["locked"] for m in checks)
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids))
    total = sum(m.get("points", 0) for m in graded if m["grade"])
    assert total == sum(points[name].values()) == declared_points(book, name)
    assert len([m for m in checks if m["grade_id"].endswith("-checks")]) >= 3


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_other_cell_is_the_chapter_s_and_the_install_is_pinned(course, book, name):
    folder, _ = course
    book = [c for c in read(book / f"{name}.ipynb").cells]
    student = released(folder, name)
    setup, ungraded = student.cells[0], [c for c in student.cells if "nbgrader" not in c.metadata]
    plain = [c for c in book if BEGIN_SOLUTION not in c.source and "# Graded (" not in c.source]
    plain = [c for c in plain if "model-answer" not in c.metadata.get("tags", [])]
    assert [c.source for c in ungraded] == [c.source for c in plain[1:]]
    # the set-up cell is locked (grading restores the teacher's) and installs one commit
    assert setup.metadata["nbgrader"] == {**setup.metadata["nbgrader"], "locked": True}
    assert not setup.metadata["nbgrader"]["grade"] and not setup.metadata["nbgrader"]["solution"]
    pinned = f"nntrain@{COMMIT}#subdirectory=code"
    assert pinned in setup.source
    assert setup.source.replace(f"@{COMMIT}", "") == plain[0].source


# ---------------------------------------------------------------------------- end to end


def submission(folder, name, chapter, edit=None, filename=None):
    """A student's notebook: the release, changed by ``edit(cells by grade_id)``."""
    nb = released(folder, chapter)
    if edit:
        edit({c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata})
    path = (
        folder.parent
        / f"{folder.name}-submissions"
        / name
        / chapter
        / (filename or f"{chapter}.ipynb")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path.parents[2]


WARNING_AFFINE = """import sys
import warnings

from tqdm import tqdm


def my_affine_forward(x, w, b):
    warnings.warn("checking my shapes")
    print("a note on stderr", file=sys.stderr)
    for _ in tqdm(range(3)):  # a progress bar, on stderr
        pass
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


def think(cells):
    cells["00_network-ex4-answer"].source = "The gap passes 3 points at 64 units."


def strip(cells):
    for c in cells.values():
        del c.metadata["nbgrader"]


def solved_with_a_broken_setup(folder):
    """Right answers (the solutions), and a set-up cell the student broke."""
    source = read(folder / "source" / "00_network" / "00_network.ipynb")
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }

    def edit(cells):
        cells["00_network-setup"].source += "\nimport a_module_that_does_not_exist\n"
        for gid, text in answers.items():
            cells[gid].source = text

    return edit


@pytest.fixture(scope="module")
def graded(tmp_path_factory, book):
    """One grading run, two at a time: alice (the release, one think answer written), bob
    (mixed), carol (right answers, a broken set-up cell, a renamed notebook), erin (lost
    nbgrader's metadata) and a notebook at the top of SUBMISSIONS (an LMS's flat layout)."""
    folder = tmp_path_factory.mktemp("graded-course")
    classroom.assign(folder, ["00_network"], book=book, commit=COMMIT)
    submissions = submission(folder, "alice", "00_network", think)
    submission(folder, "bob", "00_network", mixed)
    edit = solved_with_a_broken_setup(folder)
    submission(folder, "carol", "00_network", edit, filename="00_network (1).ipynb")
    submission(folder, "erin", "00_network", strip)
    shutil.copy(submissions / "bob" / "00_network" / "00_network.ipynb", submissions / "dave.ipynb")
    with pytest.raises(classroom.ClassroomError) as error:
        classroom.grade(folder, submissions, jobs=2)
    shutil.rmtree(submissions / "erin")
    (submissions / "dave.ipynb").unlink()
    return folder, submissions, grades(folder), str(error.value)


def checks_points(folder):
    """``{grade_id: points}`` of the check cells of the course's 00_network."""
    source = read(folder / "source" / "00_network" / "00_network.ipynb")
    cells = [c.metadata.get("nbgrader", {}) for c in source.cells if c.cell_type == "code"]
    return {m["grade_id"]: float(m["points"]) for m in cells if m.get("grade")}


def grades(folder):
    with open(folder / "grades.csv", newline="") as f:
        return {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}


def cell_scores(folder, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("00_network", "00_network", student)
        return {g.name: g.score for g in nb.grades}


def test_solutions_full_marks_untouched_zero_and_exact_partial_credit(graded, book):
    folder, _, rows, _ = graded
    rows = {student: row for (_, student), row in rows.items()}
    assert set(rows) == {"alice", "bob", "carol"}, "the canary is not a student"
    assert float(rows["alice"]["score"]) == 0.0
    points = checks_points(folder)
    earned = ("00_network-ex1-checks", "00_network-ex1-hidden", "00_network-ex3-checks")
    assert float(rows["bob"]["score"]) == sum(points[g] for g in earned)
    assert float(rows["bob"]["max_score"]) == declared_points(book, "00_network")
    scores = cell_scores(folder, "bob")
    assert scores["00_network-ex1-checks"] == points["00_network-ex1-checks"]  # run as written
    assert scores["00_network-ex1-hidden"] == points["00_network-ex1-hidden"]  # stderr is free
    assert scores["00_network-ex2-checks"] == scores["00_network-ex2-hidden"] == 0
    assert scores["00_network-ex3-checks"] == points["00_network-ex3-checks"]  # hard-coded
    assert scores["00_network-ex3-hidden"] == 0  # and fails the other sizes
    for student in ("alice", "bob", "carol"):
        assert (folder / "feedback" / student / "00_network" / "00_network.html").exists()


def test_the_teacher_s_set_up_cell_runs_whatever_the_student_made_of_it(graded):
    folder, _, rows, _ = graded
    carol = rows["00_network", "carol"]  # her notebook was also renamed "00_network (1)"
    automatic = sum(checks_points(folder).values())
    assert float(carol["auto_score"]) == float(carol["auto_max"]) == automatic
    autograded = read(folder / "autograded" / "carol" / "00_network" / "00_network.ipynb")
    assert "a_module_that_does_not_exist" not in autograded.cells[0].source


def test_grading_runs_the_set_up_cell_and_the_exercises_only(graded):
    folder, _, _, _ = graded
    autograded = read(folder / "autograded" / "bob" / "00_network" / "00_network.ipynb")
    code = [c for c in autograded.cells if c.cell_type == "code"]
    assert all("nbgrader" in c.metadata for c in code)  # no cell of the chapter body
    source = read(folder / "source" / "00_network" / "00_network.ipynb").cells
    assert len(code) == sum(c.cell_type == "code" and "nbgrader" in c.metadata for c in source)
    assert len(code) < sum(c.cell_type == "code" for c in source)


def test_think_answers_are_pending_not_zero_and_the_feedback_says_provisional(graded):
    folder, _, rows, _ = graded
    alice, bob = rows["00_network", "alice"], rows["00_network", "bob"]
    automatic = sum(checks_points(folder).values())
    assert (alice["auto_score"], alice["auto_max"]) == ("0.0", str(automatic))
    assert float(alice["manual_pending"]) > 0  # exercise 4's answer, written
    assert bob["manual_pending"] == "0.0"  # blank think answers: nothing to grade by hand
    feedback = folder / "feedback" / "{}" / "00_network" / "00_network.html"
    assert "Provisional" in Path(str(feedback).format("alice")).read_text()
    assert "Provisional" not in Path(str(feedback).format("bob")).read_text()


def test_notebooks_not_graded_are_named_and_the_canary_leaves_no_trace(graded):
    folder, submissions, _, message = graded
    assert f"{submissions / 'dave.ipynb'}: not in the layout" in message
    assert "<student>/<chapter>/<chapter>.ipynb" in message
    assert re.search(r"erin/00_network/00_network.ipynb: not graded: graded cells missing", message)
    assert "carol" not in message and "bob" not in message
    assert not (folder / "submitted" / "erin").exists(), "a rejected notebook leaves nothing"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob", "carol"]
    for step in ("submitted", "autograded", "feedback"):
        assert not (folder / step / classroom.CANARY).exists()


def test_a_late_submission_is_merged_and_nobody_else_is_graded_again(graded, tmp_path):
    folder, submissions, before, _ = graded
    alice = folder / "autograded" / "alice" / "00_network" / "00_network.ipynb"
    alice_feedback = folder / "feedback" / "alice" / "00_network" / "00_network.html"
    times = alice.stat().st_mtime_ns, alice_feedback.stat().st_mtime_ns
    late = tmp_path / "late" / "frank" / "00_network" / "00_network.ipynb"
    late.parent.mkdir(parents=True)
    shutil.copy(submissions / "bob" / "00_network" / "00_network.ipynb", late)
    rows = classroom.grade(folder, tmp_path / "late", "00_network", jobs=1)
    assert [r["student_id"] for r in rows] == ["frank"]
    after = grades(folder)
    assert {k: v for k, v in after.items() if k[1] != "frank"} == before
    assert after["00_network", "frank"]["score"] == before["00_network", "bob"]["score"]
    # graded alone, in sequence, frank's copy of bob's notebook scores as bob's did in parallel
    assert cell_scores(folder, "frank") == cell_scores(folder, "bob")
    assert (alice.stat().st_mtime_ns, alice_feedback.stat().st_mtime_ns) == times
    assert (folder / "feedback" / "frank" / "00_network" / "00_network.html").exists()


def test_a_missing_empty_or_misplaced_submissions_folder_is_an_error(course, tmp_path):
    folder, _ = course
    with pytest.raises(classroom.ClassroomError, match="does not exist"):
        classroom.grade(folder, tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(classroom.ClassroomError, match=r"no notebook in .*<student>/<chapter>"):
        classroom.grade(folder, tmp_path / "empty")
    swapped = tmp_path / "swapped" / "00_network" / "alice" / "00_network.ipynb"
    two = [tmp_path / "two" / "alice" / "00_network" / f"{n}.ipynb" for n in ("a", "b")]
    for path in (swapped, *two):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "release" / "00_network" / "00_network.ipynb", path)
    with pytest.raises(classroom.ClassroomError, match=f"{swapped}: not in the layout"):
        classroom.grade(folder, tmp_path / "swapped")
    with pytest.raises(classroom.ClassroomError, match=r"several notebooks \(a.ipynb, b.ipynb\)"):
        classroom.grade(folder, tmp_path / "two")


def test_a_handed_out_chapter_is_kept_and_its_changes_named_by_exercise(
    course, book, tmp_path, capsys
):
    folder, _ = course
    release = folder / "release" / "00_network" / "00_network.ipynb"
    before = release.read_bytes()
    nb = read(book / "00_network.ipynb")
    (check,) = [c for c in nb.cells if c.source.startswith("# Graded") and "affine" in c.source]
    check.source = check.source.replace("seed=2", "seed=3")
    nb.cells[1].source += "\n\nOne more sentence."
    (tmp_path / "book").mkdir()
    nbformat.write(nb, tmp_path / "book" / "00_network.ipynb")
    assert classroom.assign(folder, ["00_network"], book=tmp_path / "book", commit=COMMIT) == {}
    out = capsys.readouterr().out
    assert "00_network: was handed out, so its release is kept as it was" in out
    assert "CHAPTERS=00_network FORCE=1" in out
    assert "exercise 1's hidden checks changed; 1 of the chapter's other cells changed" in out
    assert classroom.assign(folder, ["00_network"], book=book, commit="f" * 40) == {}
    assert "only the pinned commit differs" in capsys.readouterr().out
    assert classroom.assign(folder, ["00_network"], book=book, commit=COMMIT) == {}
    assert "the book's version is the same" in capsys.readouterr().out
    assert release.read_bytes() == before


def test_force_writes_a_chapter_again_from_a_book_given_by_path(
    course, book, tmp_path, monkeypatch, capsys
):
    folder, _ = course
    release = folder / "release" / "00_network" / "00_network.ipynb"
    before = release.read_bytes()
    # an installed package, run outside a checkout: the book must be given
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(classroom, "ROOT", tmp_path)
    assert classroom.main(["assign", str(folder), "00_network", "--commit", COMMIT]) == 1
    assert "no book found" in capsys.readouterr().err
    with pytest.raises(classroom.ClassroomError, match="name them"):
        classroom.assign(folder, force=True, book=book, commit=COMMIT)
    args = ["assign", str(folder), "00_network", "--force", "--book", str(book)]
    assert classroom.main([*args, "--commit", COMMIT]) == 0
    assert re.search(r"00_network: \d+ points", capsys.readouterr().out)
    assert release.read_bytes() == before, "the same book and commit give the same release"


def test_assigning_again_keeps_a_release_that_has_submissions(graded, book, capsys):
    folder, _, _, _ = graded
    release = folder / "release" / "00_network" / "00_network.ipynb"
    before = release.read_text()
    assert classroom.assign(folder, ["00_network"], book=book, commit="f" * 40) == {}
    assert release.read_text() == before
    out = capsys.readouterr().out
    assert "00_network: has submissions, so its release is kept" in out
    assert "only the pinned commit differs" in out
    with pytest.raises(classroom.ClassroomError, match="have submissions"):
        classroom.assign(folder, ["00_network"], book=book, commit=COMMIT, force=True)


def test_a_broken_grading_environment_grades_no_one(graded, tmp_path, monkeypatch):
    folder, submissions, _, _ = graded
    fake = tmp_path / "broken" / "nntrain"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('a broken installation')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    before = (folder / "grades.csv").read_text()
    automatic = sum(checks_points(folder).values())
    with pytest.raises(
        classroom.ClassroomError, match=rf"scored 0\.0 of the {automatic} points .* broken"
    ):
        classroom.grade(folder, submissions, "00_network")
    assert (folder / "grades.csv").read_text() == before
