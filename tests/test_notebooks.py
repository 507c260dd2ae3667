"""Conventions every chapter notebook follows (DESIGN.md), checked without running them.

nbval runs the notebooks themselves (see pytest.ini); this file checks how they are stored.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def test_there_are_chapters():
    assert [p.name for p in CHAPTERS][:1] == ["00_network.ipynb"]


def toc_files(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file"):
                yield value
            else:
                yield from toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from toc_files(item)


def test_toc_lists_every_chapter_and_only_existing_files():
    listed = list(toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())))
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
def test_claims_and_graded_exercises(path):
    """A chapter ends with a Claims checked table that asserts, and graded exercises whose
    solutions sit between markers, each followed by an asserted check."""
    all_cells = cells(path)
    text = [source(c) for c in all_cells]
    heading = next(i for i, t in enumerate(text) if t.startswith("## Claims checked"))
    shows = [c for c, t in zip(all_cells[heading:], text[heading:]) if "claims.show()" in t]
    assert shows, "the Claims checked section must call claims.show()"
    # the table is what a reader looks at; the asserting code folds away under it
    assert "hide-input" in shows[0].get("metadata", {}).get("tags", [])
    exercises = [t for t in text if "### BEGIN SOLUTION" in t]
    assert exercises, "no graded exercise"
    for t in exercises:
        assert t.count("### BEGIN SOLUTION") == t.count("### END SOLUTION")
        assert re.search(r"assert checks\.check_\w+\(", t), "each exercise asserts a check"


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
