"""Every chapter's exercises say what they teach and how long they take, and one of them is a
graded experiment: the student measures a number and the grader checks it
(:func:`nntrain.checks.check_measurement`)."""

import json
import re
from pathlib import Path

import pytest
from nntrain.measurements import MEASUREMENTS

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

#: "**Exercise 3 (a fix for a deep net; about 20 minutes).**"
HEADING = re.compile(r"\*\*Exercise (\d+) \(([^)]*)\)\.\*\*")
MINUTES = re.compile(r"\babout (\d+) minutes\b")
MEASURED = re.compile(r"check_measurement\(\s*\w+,\s*\"(\w+)\"")


def exercises_section(path):
    """The sources of the cells from the "## Exercises" heading to the end of the chapter."""
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    start = next((i for i, s in enumerate(sources) if s.startswith("## Exercises")), None)
    assert start is not None, f"{path.name} has no '## Exercises' section"
    return sources[start:]


def mentioned_exercises(text):
    """The exercise numbers a text names: "Exercise 2", "Exercises 1 and 3", "Exercises 4, 5"."""
    found = set()
    for group in re.findall(r"Exercises? (\d+(?:(?:, | and | or |, and )\d+)*)", text):
        found |= {int(n) for n in re.findall(r"\d+", group)}
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_give_objectives_and_a_time_estimate(path):
    section = exercises_section(path)
    text = "\n".join(section)
    numbers = [int(n) for n, _ in HEADING.findall(text)]
    assert numbers == list(range(1, len(numbers) + 1)), f"exercises numbered {numbers}"
    for n, inside in HEADING.findall(text):
        assert MINUTES.search(inside), f"Exercise {n} ({inside}) gives no 'about N minutes'"
    objectives = [s for s in section if "**Learning objectives.**" in s]
    assert objectives, f"{path.name}: no '**Learning objectives.**' paragraph"
    named = mentioned_exercises(objectives[0].split("**Learning objectives.**")[1])
    assert set(numbers) <= named, f"objectives name no exercise among {set(numbers) - named}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_has_a_graded_experiment(path):
    used = MEASURED.findall("\n".join(exercises_section(path)))
    assert used, f"{path.name}: no exercise graded with checks.check_measurement"
    for name in used:
        assert name in MEASUREMENTS, f"{path.name} grades {name!r}, which is not registered"


def test_every_registered_measurement_is_graded_by_a_chapter():
    used = {n for path in CHAPTERS for n in MEASURED.findall("\n".join(exercises_section(path)))}
    assert set(MEASUREMENTS) <= used, f"registered but never graded: {set(MEASUREMENTS) - used}"


def test_mentioned_exercises_reads_lists_of_numbers():
    text = "Exercise 1 and Exercises 2, 4 and 5; Exercises 6 or 7. Chapter 3."
    assert mentioned_exercises(text) == {1, 2, 4, 5, 6, 7}
