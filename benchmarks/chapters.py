"""Benchmark: each chapter executed as the book build executes it, and its slider frames.

Every chapter notebook runs top to bottom in a fresh kernel with the book build's settings
(``NNTRAIN_STATIC=1``: every slider frame is drawn, as the static page needs them). The
chapter's time is the sum of its cells' times, without the kernel's start. After the last
cell, one more cell asks the kernel for the timings of the chapter's slider figures.

Run alone: ``.venv/bin/python -m benchmarks.chapters [00_network ...]``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

#: The settings of ``make book`` (see the Makefile).
BOOK_ENV = {
    "NNTRAIN_QUIET": "1",
    "NNTRAIN_STATIC": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}

# Run in the chapter's kernel after its last cell: the redraw times of every slider figure
# the chapter holds in a global name (not IPython's output history, `_7`).
FIGURES_CELL = """
import json as _json
from nntrain.widgets import SliderFigure as _SliderFigure
print(_json.dumps({name: list(value.redraw_seconds.values())
                   for name, value in dict(globals()).items()
                   if isinstance(value, _SliderFigure) and not name.startswith("_")}))
"""


def chapters():
    """The chapter notebooks, in order."""
    return sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


def run_chapter(path):
    """Execute one chapter; return ``(cell_seconds, figures)``.

    ``cell_seconds`` maps each code cell's index to its wall time; ``figures`` maps the name
    of each slider figure to the redraw times of its frames, in seconds.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(FIGURES_CELL))
    saved = {k: os.environ.get(k) for k in BOOK_ENV}
    os.environ.update(BOOK_ENV)
    try:
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}}
        )
        cell_seconds = {}
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                start = time.perf_counter()
                client.execute_cell(cell, index)
                if cell.cell_type == "code" and index < len(nb.cells) - 1:
                    cell_seconds[index] = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    text = "".join(
        out.get("text", "") for out in nb.cells[-1].outputs if out.get("name") == "stdout"
    )
    return cell_seconds, json.loads(text)


def measure(report, names=None):
    """Add each chapter's time (seconds and units), its slowest cells and its frame costs
    to ``report``, then the whole book's time."""
    total = 0.0
    for path in chapters():
        if names and path.stem not in names:
            continue
        cells, figures = run_chapter(path)
        seconds = sum(cells.values())
        total += seconds
        chapter = path.stem
        report.time(f"{chapter}: execution", seconds, budget_units=15)
        slowest = sorted(cells, key=cells.get, reverse=True)[:3]
        report.add(
            f"{chapter}: slowest cells", ", ".join(f"#{i} {cells[i]:.1f} s" for i in slowest), ""
        )
        frame_seconds = 0.0
        for name, redraws in figures.items():
            frame_seconds += sum(redraws)
            report.add(f"{chapter}: {name} per frame", 1e3 * sum(redraws) / len(redraws), "ms")
            report.add(f"{chapter}: {name} per figure ({len(redraws)} frames)", sum(redraws), "s")
        report.add(
            f"{chapter}: slider frames (summed over worker processes) / chapter time",
            100 * frame_seconds / seconds,
            "%",
        )
    if not names:
        report.time("book: all chapters", total, budget_units=120)


if __name__ == "__main__":
    from benchmarks.report import Report

    report = Report()
    measure(report, sys.argv[1:])
    raise SystemExit(report.finish())
