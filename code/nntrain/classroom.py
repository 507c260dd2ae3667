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
teacher's version with nbgrader's metadata: the set-up cell locked, answer cells, locked
check cells with their points, a separate locked cell per hidden region, manually graded
cells, and the install line pinned to one commit) and, through ``nbgrader
generate_assignment``, ``release/<chapter>/<chapter>.ipynb`` (solutions replaced by a stub
that raises, hidden tests removed, outputs cleared). A chapter already handed out is never
written again unless named with ``force``; the message names the exercises that changed.

:func:`grade` grades every notebook found as ``SUBMISSIONS/<student>/<chapter>/*.ipynb``
(the layout of ``nbgrader zip_collect``): a canary run of the solutions first, then each
student in a process of its own, several at a time. Grading runs the set-up cell and the
Exercises section only (:func:`grading_copy`), with the teacher's set-up and checks
restored, and counts only exceptions as failures (stderr costs nothing). It writes feedback
under ``feedback/`` and merges the students' rows into ``grades.csv``. A notebook that is
not graded (another layout, lost metadata, a failing grading run) is named, and the
command exits non-zero, after the others are graded.

"Hidden" means absent from the student's notebook, not secret: the chapters are public.

Command line: ``python -m nntrain.classroom assign COURSE [CHAPTER ...] [--force] [--book
PATH]`` and ``python -m nntrain.classroom grade COURSE SUBMISSIONS [--chapter CHAPTER]
[--jobs N]`` (``make assignments`` and ``make grade`` in the repository).
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from .timing import HANG_SECONDS

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN",
    "END_HIDDEN",
    "MARKERS",
    "GRADED",
    "HIDDEN",
    "MODEL",
    "EXERCISE",
    "CANARY",
    "COLUMNS",
    "ClassroomError",
    "find_book",
    "chapters",
    "teacher_version",
    "grading_copy",
    "nbgrader_config",
    "current_commit",
    "assign",
    "find_submissions",
    "grade",
    "main",
]

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: The strings nbgrader looks for; they may appear in exercise code cells only.
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, "# Graded (")
GRADED = re.compile(r"\A# Graded \((\d+) points?\)\n")
HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS \((\d+) points?\)$", re.M)
MODEL = re.compile(r"\A\*\*Model answer\*\* \((\d+) points?\)")
EXERCISE = re.compile(r"\*\*Exercise (\d+) ")
#: The pinned commit in the install line of a teacher or student version.
PIN = re.compile(r"@[^\s@#]+(?=#subdirectory=code)")
#: The student's copy of the solutions, graded first: it must score full marks.
CANARY = "zz-canary-solutions"
#: nbgrader scores 0 a check cell with anything on stderr. The checks fail by raising, so
#: every stderr output is dropped before scoring: a progress bar, a warning or a log line
#: costs nothing.
IGNORED_STDERR = r"(?s).*"
LAYOUT = "SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb"
#: The columns of grades.csv: nbgrader's export, then the automatic and hand-graded parts.
COLUMNS = (
    "assignment",
    "student_id",
    "timestamp",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "auto_score",
    "auto_max",
    "manual_pending",
)
#: The checkout holding this module, when it is installed in editable mode.
ROOT = Path(__file__).resolve().parents[2]


class ClassroomError(RuntimeError):
    """A course folder, a submission or the grading environment is not usable; the message
    says what to do."""


# ----------------------------------------------------------------------------- the chapters


def find_book(book=None):
    """The folder of the chapters: ``book`` if given, else ``./book``, else the ``book/``
    of the checkout this package is installed from (editable install)."""
    if book is not None:
        if not chapters(book):
            raise ClassroomError(
                f"{book} holds no chapter (NN_topic.ipynb); give the book/ "
                "folder of a checkout of nntrain"
            )
        return Path(book)
    for candidate in (Path.cwd() / "book", ROOT / "book"):
        if chapters(candidate):
            return candidate
    raise ClassroomError(
        "no book found: run this from a checkout of nntrain (the folder holding book/), or "
        "give the chapters' folder with --book PATH (make assignments does it)"
    )


def chapters(book=None):
    """The chapter names (``00_network``, ...) of the book (default: :func:`find_book`)."""
    book = find_book() if book is None else book
    return sorted(p.stem for p in Path(book).glob("[0-9][0-9]_*.ipynb"))


def _meta(grade_id, *, solution=False, grade=False, points=None, locked=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3}
    meta["solution"] = solution
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


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
        cell = _unfolded(copy.deepcopy(cell))
        if cell.cell_type == "markdown" and EXERCISE.search(cell.source):
            exercise = int(EXERCISE.findall(cell.source)[-1])
        if cell.cell_type == "code" and not any(c.cell_type == "code" for c in cells):
            # the set-up cell: locked, so that grading runs the teacher's version of it
            cell.source = re.sub(r"(git\+\S+?)(#subdirectory=code)", rf"\1@{commit}\2", cell.source)
            cell.metadata.update(_meta(f"{name}-setup", locked=True))
            cells.append(cell)
        else:
            cells += _annotated(cell, f"{name}-ex{exercise}", points)
    nb.cells = cells
    return nb, points


def _unfolded(cell):
    """Solution and model-answer cells, which the book folds or hides, open in an assignment."""
    if BEGIN_SOLUTION in cell.source or "model-answer" in cell.metadata.get("tags", []):
        cell.metadata.pop("mystnb", None)
        cell.metadata.pop("tags", None)
        cell.metadata["tags"] = ["model-answer"] if MODEL.match(cell.source) else []
    return cell


def _annotated(cell, gid, points):
    """``cell`` with its nbgrader metadata (an answer, public checks, a model answer), and
    the hidden checks as a cell of their own; records the points of ``gid`` in ``points``."""
    text = cell.source
    if cell.cell_type == "code" and BEGIN_SOLUTION in text:
        cell.metadata.update(_meta(f"{gid}-answer", solution=True))
    elif cell.cell_type == "code" and GRADED.match(text):
        public_points, public, hidden_points, hidden = _split_checks(text)
        cell.source = public
        cell.metadata.update(_meta(f"{gid}-checks", grade=True, points=public_points))
        cell.metadata["nbgrader"]["locked"] = True
        points[f"{gid}-checks"] = public_points
        if hidden is not None:
            meta = _meta(f"{gid}-hidden", grade=True, points=hidden_points, locked=True)
            hidden_cell = nbformat.v4.new_code_cell(hidden, metadata=meta)
            hidden_cell.id = f"{gid}-hidden"  # the same on every run
            points[f"{gid}-hidden"] = hidden_points
            return [cell, hidden_cell]
    elif cell.cell_type == "markdown" and MODEL.match(text):
        model_points = int(MODEL.match(text).group(1))
        cell.metadata.update(_meta(f"{gid}-answer", solution=True, grade=True, points=model_points))
        points[f"{gid}-answer"] = model_points
    return [cell]


def grading_copy(nb):
    """The cells of a notebook that grading runs: the set-up cell (nbgrader's, so that the
    teacher's version is restored) and everything from the first exercise on (answers,
    checks, think answers and any cell the student added there). The chapter body before
    the exercises is left out: the checks do not need it, and it is most of the time."""
    start = next(
        (
            i
            for i, c in enumerate(nb.cells)
            if (c.cell_type == "markdown" and EXERCISE.search(c.source))
            or c.metadata.get("nbgrader", {}).get("grade_id", "").endswith(("-answer", "-checks"))
        ),
        len(nb.cells),
    )
    nb = copy.deepcopy(nb)
    nb.cells = [c for i, c in enumerate(nb.cells) if i >= start or "nbgrader" in c.metadata]
    return nb


# --------------------------------------------------------------------------------- nbgrader


def _db_url(course):
    # a busy gradebook makes a writer wait (students are graded side by side), never fail
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}?timeout={HANG_SECONDS}"


def nbgrader_config(course):
    """The nbgrader_config.py of a course folder."""
    return f"""# nbgrader's configuration for the nntrain chapters (written by nntrain.classroom)
c = get_config()
c.CourseDirectory.course_id = "nntrain"
c.CourseDirectory.root = {str(Path(course).resolve())!r}
c.CourseDirectory.db_url = {_db_url(course)!r}
# the markers are prefixed, so that prose about them is never taken for one
c.ClearSolutions.begin_solution_delimeter = {BEGIN_SOLUTION!r}
c.ClearSolutions.end_solution_delimeter = {END_SOLUTION!r}
c.ClearHiddenTests.begin_test_delimeter = {BEGIN_HIDDEN!r}
c.ClearHiddenTests.end_test_delimeter = {END_HIDDEN!r}
# a per-cell limit only stops a hang (nbgrader's default of 30 s would fail a slow machine)
c.Execute.timeout = {HANG_SECONDS}
# nbgrader gives 0 points to a cell with anything on stderr; the checks fail by raising,
# so stderr (warnings, progress bars, logging) is dropped before scoring
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = {IGNORED_STDERR!r}
"""


def _nbgrader(course, *args, limit=None):
    """Run ``nbgrader`` in the course folder with the book's quiet, headless settings;
    raise :class:`ClassroomError` with its output if it fails, or if it runs past ``limit``
    seconds (then it is stopped, with the kernel it started)."""
    # nbgrader runs alembic, and the grading kernel, from this Python's environment
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "NNTRAIN_QUIET": "1", "MPLBACKEND": "Agg", "PATH": path}
    cmd = [sys.executable, "-m", "nbgrader", *args]
    with subprocess.Popen(
        cmd,
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, the kernel included
    ) as process:
        try:
            output, _ = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ClassroomError(
                f"nbgrader {' '.join(args)} ran past {limit} s, a hang; stopped"
            ) from None
    if process.returncode != 0:
        raise ClassroomError(
            f"nbgrader {' '.join(args)} failed (exit {process.returncode}):\n{output}"
        )
    return output


def current_commit(repository):
    """The commit the student versions install (``git rev-parse HEAD``)."""
    out = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise ClassroomError(
            f"cannot read the current commit of {repository} (give the commit to pin): {out.stderr}"
        )
    return out.stdout.strip()


def _describe(grade_id, cell_type):
    """A grade id in words: ``00_network-ex2-hidden`` -> "exercise 2's hidden checks"."""
    if grade_id.endswith("-setup"):
        return "the set-up cell"
    exercise, part = re.search(r"-ex(\d+)-(\w+)$", grade_id).groups()
    what = {"answer": "answer cell", "checks": "public checks", "hidden": "hidden checks"}
    if part == "answer" and cell_type == "markdown":
        return f"exercise {exercise}'s model answer"
    return f"exercise {exercise}'s {what[part]}"


def _changes(released, current):
    """What differs between the released teacher version and the book's, in words: by
    exercise, the install line's pinned commit, and the chapter's other cells."""

    def parts(nb):
        graded, body = {}, []
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id")
            if gid:
                graded[gid] = (c.cell_type, c.source)
            else:
                body.append(c.source)
        return graded, body

    (old, old_body), (new, new_body) = parts(released), parts(current)
    words, pin_only = [], False
    for gid in [*new, *(g for g in old if g not in new)]:
        if old.get(gid) == new.get(gid):
            continue
        what = _describe(gid, (new.get(gid) or old.get(gid))[0])
        if gid not in old:
            words.append(f"{what} added")
        elif gid not in new:
            words.append(f"{what} removed")
        elif PIN.sub("", old[gid][1]) == PIN.sub("", new[gid][1]):
            pin_only = True
        else:
            words.append(f"{what} changed")
    if old_body != new_body:
        changed = sum(a != b for a, b in zip(old_body, new_body)) + abs(
            len(old_body) - len(new_body)
        )
        words.append(f"{changed} of the chapter's other cells changed")
    if not words:
        return "only the pinned commit differs" if pin_only else "the book's version is the same"
    return "the book's version differs: " + "; ".join(words)


def _course_chapters(course):
    return sorted(p.name for p in Path(course, "source").glob("*") if p.is_dir())


def _has_submissions(course, chapter):
    return any(p.parent.name != CANARY for p in Path(course, "submitted").glob(f"*/{chapter}"))


def assign(course, names=None, *, book=None, commit=None, force=False):
    """Write the course folder ``course`` (created if missing): nbgrader's configuration,
    the teacher versions under ``source/`` and the student versions under ``release/``.

    A chapter already released is kept as it was (students may have it), and the function
    says what has changed in the book since, by exercise; ``force=True`` writes the named
    chapters again. A chapter with submissions is never written again (nbgrader grades them
    against its release).

    Args:
        course: the course folder, outside the repository.
        names: the chapters (default: every chapter of the book); required with ``force``.
        book: the chapters' folder (default: :func:`find_book`).
        commit: the commit the install line pins (default: the book's checkout's HEAD).
        force: write the named chapters again, even if released.

    Returns:
        ``{chapter: {grade_id: points}}`` for the chapters written.
    """
    course, book = Path(course), find_book(book)
    repository = book.resolve().parent
    if course.resolve().is_relative_to(repository):
        raise ClassroomError(
            f"the course folder {course} is inside the repository; put it outside, so that "
            "student work and grades never enter git"
        )
    if force and not names:
        raise ClassroomError("force writes again only the chapters named; name them")
    names = list(names or chapters(book))
    unknown = sorted(set(names) - set(chapters(book)))
    if unknown:
        raise ClassroomError(f"no such chapter {unknown}; the chapters are {chapters(book)}")
    graded = [n for n in names if _has_submissions(course, n)]
    if force and graded:
        raise ClassroomError(
            f"{graded} have submissions in {course}, graded against their release, which "
            "stays as it is; hand out a changed chapter from a new course folder"
        )
    commit = commit or current_commit(repository)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(nbgrader_config(course))
    written = {}
    for name in names:
        nb, points = teacher_version(book / f"{name}.ipynb", commit)
        target = course / "source" / name / f"{name}.ipynb"
        released = (course / "release" / name / f"{name}.ipynb").exists()
        if released and not force:
            why = "has submissions" if name in graded else "was handed out"
            hint = "" if name in graded else f" (to write it again: CHAPTERS={name} FORCE=1)"
            changes = _changes(nbformat.read(target, as_version=4), nb)
            print(f"{name}: {why}, so its release is kept as it was{hint}; {changes}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written[name] = points
    for name, points in written.items():
        _nbgrader(course, "generate_assignment", name, "--force")
        print(f"{name}: {sum(points.values())} points -> {course / 'release' / name}")
    return written


# ---------------------------------------------------------------------------------- grading


def find_submissions(course, submissions):
    """The notebooks under ``submissions``, as ``({chapter: {student: path}}, problems)``:
    ``problems`` names each notebook that is not one student's one notebook of a chapter of
    the course, laid out as ``<student>/<chapter>/<any name>.ipynb``."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ClassroomError(f"the submissions folder {submissions} does not exist")
    known = _course_chapters(course)
    if not known:
        raise ClassroomError(f"{course} has no assignment; run assign first")
    found, problems = {}, []
    notebooks = sorted(
        p
        for p in submissions.rglob("*.ipynb")
        if not any(part.startswith(".") for part in p.relative_to(submissions).parts)
    )
    if not notebooks:
        raise ClassroomError(f"no notebook in {submissions}; expected {LAYOUT}")
    for path in notebooks:
        parts = path.relative_to(submissions).parts
        if len(parts) == 3 and parts[1] in known and re.search(r"[][*?,]", parts[0]):
            problems.append(
                f"{path}: rename the folder {parts[0]!r}: nbgrader reads *?[], specially"
            )
        elif len(parts) == 3 and parts[1] in known:
            found.setdefault(parts[1], {}).setdefault(parts[0], []).append(path)
        else:
            problems.append(f"{path}: not in the layout {LAYOUT}, with <chapter> one of {known}")
    for students in found.values():
        for student, paths in list(students.items()):
            if len(paths) > 1:
                names = ", ".join(p.name for p in paths)
                problems.append(f"{paths[0].parent}: several notebooks ({names}); keep one")
                del students[student]
            else:
                students[student] = paths[0]
    if not any(found.values()):
        raise ClassroomError(
            f"no submission in {submissions} is laid out as {LAYOUT} for a chapter of "
            f"{course}:\n  " + "\n  ".join(problems)
        )
    return found, problems


def _required_ids(nb):
    """The grade ids grading needs in a submission: graded and locked cells."""
    return {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        or c.metadata.get("nbgrader", {}).get("locked")
    }


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _grade_ids(nb):
    return {_grade_id(c) for c in nb.cells} - {None}


def _readable(path, wanted):
    """The notebook at ``path`` if it holds the cells ``wanted``, else the reason why not."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # not a notebook at all
        return None, f"not a readable notebook ({error})"
    missing = wanted - _grade_ids(nb)
    if missing:
        return None, (
            f"graded cells missing {sorted(missing)}: nbgrader's cell metadata was lost (an "
            "editor that drops it, or cells deleted and retyped); ask for the notebook "
            "again, or paste the answers into a fresh copy of the release"
        )
    return nb, None


def _gradebook_rows(course, chapter):
    """``{student: row}`` of ``chapter``'s submissions in the gradebook (the canary left
    out), with the columns :data:`COLUMNS`."""
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(_db_url(course), course_id="nntrain") as gb:
        for sub in gb.find_assignment(chapter).submissions:
            if sub.student_id == CANARY:
                continue
            grades = [g for nb in sub.notebooks for g in nb.grades]
            auto = [g for g in grades if g.cell.cell_type == "code"]  # the checks
            pending = [g for g in grades if g.needs_manual_grade]  # think answers not blank
            penalty = sub.late_submission_penalty or 0.0
            rows[sub.student_id] = {
                "assignment": chapter,
                "student_id": sub.student_id,
                "timestamp": sub.timestamp or "",
                "raw_score": sub.score,
                "late_submission_penalty": penalty,
                "score": sub.score - penalty,
                "max_score": sub.max_score,
                "auto_score": sum((g.auto_score or 0.0 for g in auto), 0.0),
                "auto_max": sum((g.max_score for g in auto), 0.0),
                "manual_pending": sum((g.max_score for g in pending), 0.0),
            }
    return rows


def _canary(course, chapter):
    """Grade the solutions as a student; raise unless they score every automatic point.
    The canary leaves no trace in the gradebook, ``submitted/`` or ``feedback/``."""
    from nbgrader.api import Gradebook, MissingEntry

    source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    folder = course / "submitted" / CANARY / chapter
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(grading_copy(source), folder / f"{chapter}.ipynb")
    try:
        _nbgrader(course, "autograde", chapter, f"--student={CANARY}", "--force")
        with Gradebook(_db_url(course), course_id="nntrain") as gb:
            sub = gb.find_submission(chapter, CANARY)
            grades = [g for nb in sub.notebooks for g in nb.grades if g.cell.cell_type == "code"]
            score = sum(g.auto_score or 0.0 for g in grades)
            automatic = sum(g.max_score for g in grades)
    finally:
        shutil.rmtree(course / "submitted" / CANARY)
        with Gradebook(_db_url(course), course_id="nntrain") as gb:
            try:
                gb.remove_student(CANARY)
            except MissingEntry:  # nbgrader failed before adding it
                pass
    if score < automatic:
        raise ClassroomError(
            f"the solutions of {chapter} scored {score} of the {automatic} points graded "
            "automatically: the grading environment is broken (is nntrain installed in this "
            "Python, at the version the course was made with?), or a check needs a cell of "
            f"the chapter that grading leaves out. See {course / 'autograded' / CANARY}; "
            "no student was graded"
        )
    shutil.rmtree(course / "autograded" / CANARY, ignore_errors=True)


PROVISIONAL = (
    '<div style="border:2px solid #c60;padding:0.5em;margin:1em">'
    "<strong>Provisional:</strong> {pending:g} points of think answers await grading by "
    "hand; until then they show 0 here.</div>"
)


def _grade_one(course, chapter, student, limit):
    """Autograde one student. Returns ``(graded, problem)``: a student whose run failed is
    not graded (and leaves nothing in ``submitted/``)."""
    try:
        _nbgrader(course, "autograde", chapter, f"--student={student}", "--force", limit=limit)
    except ClassroomError as error:
        shutil.rmtree(course / "submitted" / student / chapter, ignore_errors=True)
        return False, f"{student}: not graded: {error}"
    graded = nbformat.read(
        course / "autograded" / student / chapter / f"{chapter}.ipynb", as_version=4
    )
    setup = [c for c in graded.cells if _grade_id(c) == f"{chapter}-setup"]
    errors = [o for c in setup for o in c.outputs if o.output_type == "error"]
    if errors:
        return True, (
            f"{student}: graded, but the set-up cell failed ({errors[0].ename}: "
            f"{errors[0].evalue}), so every check failed; see "
            f"{course / 'autograded' / student / chapter}"
        )
    return True, None


def grade(course, submissions, chapter=None, *, jobs=None):
    """Grade the submissions of ``chapter`` (a name, a list, or None for every chapter
    found) under ``submissions``: for each chapter the canary first (the solutions must
    score full marks, else the grading environment is broken and nobody is graded), then
    each student just collected, ``jobs`` at a time (default: the number of cores), each in
    a process of its own. Students graded before are not graded again. Writes feedback
    under ``feedback/`` (marked provisional while think answers await hand grading) and
    merges the rows of the chapters' submissions into ``grades.csv``.

    Raises:
        ClassroomError: after grading the others, naming every notebook under
            ``submissions`` that was not graded, and why.

    Returns:
        The rows written to ``grades.csv`` for the students just graded, as dicts.
    """
    course = Path(course)
    jobs = jobs or len(os.sched_getaffinity(0))
    found, problems = find_submissions(course, submissions)
    names = [chapter] if isinstance(chapter, str) else chapter
    for name in names or []:
        if not (course / "source" / name / f"{name}.ipynb").exists():
            raise ClassroomError(f"{course} has no assignment {name}; run assign first")
        if name not in found:
            raise ClassroomError(f"no submission of {name} in {submissions}; expected {LAYOUT}")
    for other in sorted(set(found) - set(names or found)):
        print(f"{other}: {len(found[other])} submissions not graded now (not asked for)")
    everything = []
    for name in names or sorted(found):
        rows, chapter_problems = _grade_chapter(course, name, found[name], jobs)
        everything += rows
        problems += chapter_problems
        summary = ", ".join(
            f"{r['student_id']} {r['score']:g}/{r['max_score']:g}"
            + (f" ({r['manual_pending']:g} by hand)" if r["manual_pending"] else "")
            for r in rows
        )
        print(f"{name}: {summary or 'nobody graded'}")
    print(f"grades: {course / 'grades.csv'}; feedback: {course / 'feedback'}")
    if problems:
        raise ClassroomError(
            f"{len(problems)} notebooks were not graded, or graded with a problem (the "
            "others were graded):\n  " + "\n  ".join(problems)
        )
    return everything


def _grade_chapter(course, chapter, found, jobs):
    """Grade ``{student: path}`` of one chapter; returns ``(rows, problems)``."""
    source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    ready, problems = _ready_submissions(found, _required_ids(source))
    if not ready:
        return [], problems
    _canary(course, chapter)
    outcomes = _autograde(course, chapter, ready, source, jobs)
    problems += [problem for _, problem in outcomes.values() if problem]
    now = [s for s, (ok, _) in outcomes.items() if ok]
    if now:
        problems += _generate_feedback(course, chapter, now)
    rows = _gradebook_rows(course, chapter)
    graded = [rows[s] for s in now if s in rows]
    for row in graded:
        feedback = course / "feedback" / row["student_id"] / chapter / f"{chapter}.html"
        if row["manual_pending"] and feedback.exists():
            _mark_provisional(feedback, row["manual_pending"])
    _write_grades(course / "grades.csv", rows.values())
    return graded, problems


def _ready_submissions(found, wanted):
    """The readable notebooks of ``{student: path}`` and the problems of the others."""
    ready, problems = {}, []
    for student, path in sorted(found.items()):
        nb, why = _readable(path, wanted)
        if nb is None:
            problems.append(f"{path}: not graded: {why}")
        else:
            ready[student] = nb
    return ready, problems


def _autograde(course, chapter, ready, source, jobs):
    """Copy each ready notebook into ``submitted/`` and autograde them, ``jobs`` at a time.
    Returns ``{student: (ok, problem)}``."""
    for student, nb in ready.items():
        target = course / "submitted" / student / chapter
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        nbformat.write(grading_copy(nb), target / f"{chapter}.ipynb")
    # each cell may take up to the hang limit; the whole run only stops if nbgrader hangs
    code_cells = sum(c.cell_type == "code" for c in grading_copy(source).cells)
    limit = HANG_SECONDS * (code_cells + 1)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = pool.map(lambda s: _grade_one(course, chapter, s, limit), ready)
        return dict(zip(ready, outcomes))


def _generate_feedback(course, chapter, students):
    """One nbgrader run writes the feedback of ``students`` (those just graded); returns
    the problems."""
    others = {p.name for p in (course / "autograded").iterdir()} - set(students)
    exclude = ",".join(sorted(others))
    try:
        _nbgrader(
            course,
            "generate_feedback",
            chapter,
            "--force",
            f"--CourseDirectory.student_id_exclude={exclude}",
        )
    except ClassroomError as error:
        return [f"{chapter}: graded, but no feedback written: {error}"]
    return []


def _mark_provisional(path, pending):
    html = path.read_text()
    banner = PROVISIONAL.format(pending=pending)
    path.write_text(re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, html, count=1))


def _write_grades(path, rows):
    """Merge ``rows`` into ``grades.csv`` by chapter and student: a row replaces the one of
    the same chapter and student, every other row is kept."""
    merged = {}
    if path.exists():
        with open(path, newline="") as f:
            merged = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    merged.update({(r["assignment"], r["student_id"]): r for r in rows})
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(merged[k] for k in sorted(merged))


# ----------------------------------------------------------------------------- command line


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nntrain.classroom", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assign", help="write the course folder and the student versions")
    a.add_argument("course")
    a.add_argument("chapters", nargs="*", help="default: every chapter")
    a.add_argument("--book", help="the chapters' folder (default: ./book)")
    a.add_argument("--commit", help="the commit to pin (default: the book's git HEAD)")
    a.add_argument(
        "--force", action="store_true", help="write the named chapters again, even if released"
    )
    g = sub.add_parser("grade", help=f"grade {LAYOUT}")
    g.add_argument("course")
    g.add_argument("submissions")
    g.add_argument("--chapter", action="append", help="default: every chapter submitted")
    g.add_argument("--jobs", type=int, help="students graded at once (default: the cores)")
    args = parser.parse_args(argv)
    try:
        if args.command == "assign":
            assign(
                args.course,
                args.chapters or None,
                book=args.book,
                commit=args.commit,
                force=args.force,
            )
        else:
            if args.jobs is not None and args.jobs < 1:
                raise ClassroomError(f"--jobs must be at least 1, got {args.jobs}")
            grade(args.course, args.submissions, args.chapter, jobs=args.jobs)
        return 0
    except ClassroomError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
