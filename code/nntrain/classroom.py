"""Classroom assignments from the chapters: student versions, hidden tests and grading, with
nbgrader (``pip install "nntrain[classroom]"``).

The chapters are the teacher's version. A graded exercise is two code cells:

* the **answer**, with the solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  lines (folded behind *Show solution* in the HTML book);
* the **checks**, starting with ``# Graded (N points)``: the public checks a student runs,
  then optionally a region ``### BEGIN HIDDEN TESTS (M points)`` ... ``### END HIDDEN
  TESTS`` of checks that only grading runs (other seeds, shapes and edge cases).

A think exercise is followed by a Markdown cell tagged ``model-answer`` that starts with
``**Model answer** (N points)`` and ends with a rubric; the book hides it and grading turns
it into a manually graded cell whose model answer only the teacher sees.

:func:`assign` writes an nbgrader course folder: ``source/<chapter>/<chapter>.ipynb`` (the
teacher's version with nbgrader's metadata: answer cells, locked check cells with their
points, a separate locked cell per hidden region, manually graded cells, and the install
line pinned to one commit) and, through ``nbgrader generate_assignment``,
``release/<chapter>/<chapter>.ipynb`` (solutions replaced by a stub that raises, hidden
tests removed, outputs cleared). :func:`grade` grades ``SUBMISSIONS/<student>/<chapter>/
<chapter>.ipynb`` (the layout of ``nbgrader zip_collect``) after a canary run of the
solutions, and writes feedback and ``grades.csv``.

"Hidden" means absent from the student's notebook, not secret: the chapters are public.

Command line: ``python -m nntrain.classroom assign COURSE [CHAPTER ...]`` and ``python -m
nntrain.classroom grade COURSE SUBMISSIONS [--chapter CHAPTER]`` (``make assignments`` and
``make grade`` in the repository).
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .timing import HANG_SECONDS

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: The strings nbgrader looks for; they may appear in exercise code cells only.
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, "# Graded (")
GRADED = re.compile(r"\A# Graded \((\d+) points?\)\n")
HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS \((\d+) points?\)$", re.M)
MODEL = re.compile(r"\A\*\*Model answer\*\* \((\d+) points?\)")
EXERCISE = re.compile(r"\*\*Exercise (\d+) ")
#: The student's copy of the solutions, graded first: it must score full marks.
CANARY = "zz-canary-solutions"
#: A grading kernel that writes this to stderr has not failed (nbgrader scores any stderr 0).
IGNORED_STDERR = r"(?m)^.*(UserWarning|RuntimeWarning|NNPACK).*$"
ROOT = Path(__file__).resolve().parents[2]


class ClassroomError(RuntimeError):
    """A course folder, a submission or the grading environment is not usable; the message
    says what to do."""


# ----------------------------------------------------------------------------- the chapters


def chapters(book=ROOT / "book"):
    """The chapter names (``00_network``, ...) of the book."""
    return sorted(p.stem for p in Path(book).glob("[0-9][0-9]_*.ipynb"))


def _meta(grade_id, *, solution=False, grade=False, points=None, locked=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3}
    meta["solution"] = solution
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(source, metadata):
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def _split_checks(source):
    """``(points, public source, hidden points, hidden source or None)`` of a check cell."""
    points = int(GRADED.match(source).group(1))
    found = HIDDEN.search(source)
    if found is None:
        return points, source, 0, None
    public = source[: found.start()].rstrip() + "\n"
    hidden = source[found.start() :].replace(found.group(0), BEGIN_HIDDEN, 1)
    note = "# More checks of this exercise run when it is graded.\n"
    return points, public, int(found.group(1)), note + hidden


def teacher_version(chapter_path, commit):
    """The nbgrader source of one chapter: its cells annotated, split and pinned (see the
    module docstring). Returns ``(notebook, {grade_id: points})``."""
    nb = nbformat.read(chapter_path, as_version=4)
    name, cells, points, exercise = Path(chapter_path).stem, [], {}, 0
    for cell in nb.cells:
        cell = copy.deepcopy(cell)
        text = cell.source
        if BEGIN_SOLUTION in text or "model-answer" in cell.metadata.get("tags", []):
            # the book folds or hides these cells; in an assignment they are open
            cell.metadata.pop("mystnb", None)
            cell.metadata.pop("tags", None)
            cell.metadata["tags"] = ["model-answer"] if MODEL.match(text) else []
        if cell.cell_type == "markdown" and EXERCISE.search(text):
            exercise = int(EXERCISE.findall(text)[-1])
        gid = f"{name}-ex{exercise}"
        if cell.cell_type == "code" and BEGIN_SOLUTION in text:
            cell.metadata.update(_meta(f"{gid}-answer", solution=True))
        elif cell.cell_type == "code" and GRADED.match(text):
            public_points, public, hidden_points, hidden = _split_checks(text)
            cell.source = public
            cell.metadata.update(_meta(f"{gid}-checks", grade=True, points=public_points))
            cell.metadata["nbgrader"]["locked"] = True
            points[f"{gid}-checks"] = public_points
            if hidden is not None:
                cells.append(cell)
                meta = _meta(f"{gid}-hidden", grade=True, points=hidden_points, locked=True)
                cell = _code(hidden, meta)
                points[f"{gid}-hidden"] = hidden_points
        elif cell.cell_type == "markdown" and MODEL.match(text):
            model_points = int(MODEL.match(text).group(1))
            meta = _meta(f"{gid}-answer", solution=True, grade=True, points=model_points)
            cell.metadata.update(meta)
            points[f"{gid}-answer"] = model_points
        elif cell.cell_type == "code" and "#subdirectory=code" in text:
            cell.source = re.sub(r"(git\+\S+?)(#subdirectory=code)", rf"\1@{commit}\2", text)
        cells.append(cell)
    nb.cells = cells
    return nb, points


# --------------------------------------------------------------------------------- nbgrader


def nbgrader_config(course):
    """The nbgrader_config.py of a course folder."""
    return f"""# nbgrader's configuration for the nntrain chapters (written by nntrain.classroom)
c = get_config()
c.CourseDirectory.course_id = "nntrain"
c.CourseDirectory.root = {str(Path(course).resolve())!r}
# the markers are prefixed, so that prose about them is never taken for one
c.ClearSolutions.begin_solution_delimeter = {BEGIN_SOLUTION!r}
c.ClearSolutions.end_solution_delimeter = {END_SOLUTION!r}
c.ClearHiddenTests.begin_test_delimeter = {BEGIN_HIDDEN!r}
c.ClearHiddenTests.end_test_delimeter = {END_HIDDEN!r}
# a per-cell limit only stops a hang (nbgrader's default of 30 s would fail a slow machine)
c.Execute.timeout = {HANG_SECONDS}
# nbgrader gives 0 points to a cell with anything on stderr: warnings do not count
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = {IGNORED_STDERR!r}
"""


def _nbgrader(course, *args):
    """Run ``nbgrader`` in the course folder with the book's quiet, headless settings;
    raise :class:`ClassroomError` with its output if it fails."""
    # nbgrader runs alembic, and the grading kernel, from this Python's environment
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "NNTRAIN_QUIET": "1", "MPLBACKEND": "Agg", "PATH": path}
    cmd = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ClassroomError(
            f"nbgrader {' '.join(args)} failed (exit {done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    return done.stdout + done.stderr


def current_commit(repository=ROOT):
    """The commit the student versions install (``git rev-parse HEAD``)."""
    out = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise ClassroomError(f"cannot read the current commit of {repository}: {out.stderr}")
    return out.stdout.strip()


def _changes(released, current):
    """What differs between the released teacher version and the book's, in words."""
    old, new = [c.source for c in released.cells], [c.source for c in current.cells]
    if old == new:
        return "the book's version is the same"
    changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    words = [f"cells {', '.join(map(str, changed))} changed"] if changed else []
    if len(old) != len(new):
        words.append(f"{len(new)} cells instead of {len(old)}")
    return "the book's version differs (not released): " + "; ".join(words)


def _has_submissions(course, chapter):
    return any(Path(course, "submitted").glob(f"*/{chapter}"))


def assign(course, names=None, *, book=ROOT / "book", commit=None):
    """Write the course folder ``course`` (created if missing): nbgrader's configuration,
    the teacher versions under ``source/`` and the student versions under ``release/``.

    A chapter that already has submissions keeps its source and release (nbgrader refuses
    to change them, and would delete the release first); the function says whether the
    book's version has changed since.

    Returns:
        ``{chapter: {grade_id: points}}`` for the chapters written.
    """
    course = Path(course)
    if course.resolve().is_relative_to(ROOT.resolve()):
        raise ClassroomError(
            f"the course folder {course} is inside the repository; put it outside, so that "
            "student work and grades never enter git"
        )
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(nbgrader_config(course))
    commit = commit or current_commit()
    names = list(names or chapters(book))
    unknown = sorted(set(names) - set(chapters(book)))
    if unknown:
        raise ClassroomError(f"no such chapter {unknown}; the chapters are {chapters(book)}")
    written = {}
    for name in names:
        nb, points = teacher_version(Path(book, f"{name}.ipynb"), commit)
        target = course / "source" / name / f"{name}.ipynb"
        if _has_submissions(course, name):
            print(
                f"{name}: has submissions, so its release is kept as it was; "
                + _changes(nbformat.read(target, as_version=4), nb)
            )
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written[name] = points
    for name, points in written.items():
        _nbgrader(course, "generate_assignment", name, "--force")
        print(f"{name}: {sum(points.values())} points -> {course / 'release' / name}")
    return written


# ---------------------------------------------------------------------------------- grading


def _grade_ids(nb):
    return {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def _collect(course, submissions, chapter):
    """Copy ``SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb`` into the course, after
    checking each one still holds every graded cell; returns the students copied."""
    source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    wanted, students, broken = _grade_ids(source), [], []
    for path in sorted(Path(submissions).glob(f"*/{chapter}/{chapter}.ipynb")):
        student = path.parent.parent.name
        try:
            missing = wanted - _grade_ids(nbformat.read(path, as_version=4))
        except Exception as error:  # not a notebook at all
            broken.append(f"{student}: not a readable notebook ({error})")
            continue
        if missing:
            broken.append(f"{student}: graded cells missing {sorted(missing)}")
            continue
        target = course / "submitted" / student / chapter
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / f"{chapter}.ipynb")
        students.append(student)
    if broken:
        raise ClassroomError(
            "these submissions lost nbgrader's cell metadata (an editor that drops it, or "
            "cells deleted and retyped); they would score 0 silently, so nothing was graded. "
            "Ask for the notebook again, or paste the answers into a fresh copy of "
            f"release/{chapter}:\n  " + "\n  ".join(broken)
        )
    if not students:
        raise ClassroomError(
            f"no submission found as {submissions}/<student>/{chapter}/{chapter}.ipynb"
        )
    return students


def _automatic_points(course, chapter):
    """The points of ``chapter``'s check cells (the model answers are graded by hand)."""
    source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    return sum(
        c.metadata["nbgrader"]["points"]
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    )


def _scores(course, chapter):
    """``{student: (score, max_score)}`` of ``chapter`` from nbgrader's export."""
    out = course / f".export-{chapter}.csv"
    _nbgrader(course, "export", "--to", str(out), "--assignment", chapter)
    with open(out, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == chapter]
    out.unlink()
    return rows


def grade(course, submissions, chapter):
    """Grade every submission of ``chapter``: the canary first (the solutions must score
    full marks, else the grading environment is broken and nothing is graded), then every
    student, with nbgrader's per-cell timeout; write feedback HTML under ``feedback/`` and
    ``grades.csv`` (nbgrader's export format, without the canary) in ``course``.

    Returns:
        The rows of ``grades.csv`` for this chapter, as dicts.
    """
    course = Path(course)
    if not (course / "source" / chapter / f"{chapter}.ipynb").exists():
        raise ClassroomError(f"{course} has no assignment {chapter}; run assign first")
    students = _collect(course, submissions, chapter)
    canary = course / "submitted" / CANARY / chapter
    canary.mkdir(parents=True, exist_ok=True)
    shutil.copy(course / "source" / chapter / f"{chapter}.ipynb", canary / f"{chapter}.ipynb")
    _nbgrader(course, "autograde", chapter, f"--student={CANARY}", "--force")
    shutil.rmtree(canary.parent)  # graded once; the students' run below skips it
    (row,) = [r for r in _scores(course, chapter) if r["student_id"] == CANARY]
    automatic = _automatic_points(course, chapter)
    if float(row["raw_score"]) < automatic:
        raise ClassroomError(
            f"the solutions of {chapter} scored {row['raw_score']} of the {automatic} points "
            "graded automatically: "
            "the grading environment is broken (is nntrain installed in this Python, at the "
            f"version the course was made with?). See {course / 'autograded' / CANARY}; "
            "no student was graded"
        )
    _nbgrader(course, "autograde", chapter, "--force")
    _nbgrader(course, "generate_feedback", chapter, "--force")
    shutil.rmtree(course / "feedback" / CANARY, ignore_errors=True)
    rows = [r for r in _scores(course, chapter) if r["student_id"] in students]
    _write_grades(course / "grades.csv", chapter, rows)
    return rows


def _write_grades(path, chapter, rows):
    """Merge ``rows`` into ``grades.csv``, replacing this chapter's previous rows."""
    kept = []
    if path.exists():
        with open(path, newline="") as f:
            kept = [r for r in csv.DictReader(f) if r["assignment"] != chapter]
    everything = kept + rows
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(everything)


# ----------------------------------------------------------------------------- command line


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nntrain.classroom", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assign", help="write the course folder and the student versions")
    a.add_argument("course")
    a.add_argument("chapters", nargs="*", help="default: every chapter")
    g = sub.add_parser("grade", help="grade SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb")
    g.add_argument("course")
    g.add_argument("submissions")
    g.add_argument("--chapter", action="append", help="default: every chapter submitted")
    args = parser.parse_args(argv)
    try:
        if args.command == "assign":
            assign(args.course, args.chapters or None)
            return 0
        names = args.chapter or sorted(
            {p.parent.name for p in Path(args.submissions).glob("*/*/*.ipynb")}
        )
        for name in names:
            rows = grade(args.course, args.submissions, name)
            scores = ", ".join(f"{r['student_id']} {r['score']}/{r['max_score']}" for r in rows)
            print(f"{name}: {scores}")
        course = Path(args.course)
        print(f"grades: {course / 'grades.csv'}; feedback: {course / 'feedback'}")
        return 0
    except ClassroomError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
