"""Benchmark: each chapter executed as the book build executes it, and its slider frames.

Every chapter notebook runs top to bottom in a fresh kernel with the book build's settings
(``NNTRAIN_STATIC=1``: every slider frame is drawn, as the static page needs them). The
chapter's time is the sum of its cells' times, without the kernel's start. After the last
cell, one more cell asks the kernel for the timings of the chapter's slider figures and
for the CPU time its cells used, summed over the kernel and its worker processes.

The book is run :data:`RUNS` times (chapter after chapter, then again), and each figure is
the median of the runs, with the spread (lowest to highest) beside it: on a shared machine
one run can be a third slower than the next.

Two figures per chapter, in calibration units (see :mod:`benchmarks.report`):

* **wall units**, the budget: the chapter's time on the machine at hand, which spreads
  independent runs and slider frames over two cores (as CI has them);
* **CPU units**: the CPU time of the kernel and its workers, which does not depend on the
  number of free cores. A reader with one free core waits about this long.

Run alone: ``.venv/bin/python -m benchmarks.chapters [--runs N] [00_network ...]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nntrain.prose import book_environment
from nntrain.timing import HANG_SECONDS

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
#: Runs of every chapter; each figure is their median.
RUNS = 3

# Run in the chapter's kernel before its first cell: the CPU time used so far by the kernel
# and by its finished children (the forked workers of nntrain.parallel).
CPU_CELL = """
import resource as _resource
def _cpu_seconds():
    return sum(u.ru_utime + u.ru_stime for u in (
        _resource.getrusage(_resource.RUSAGE_SELF), _resource.getrusage(_resource.RUSAGE_CHILDREN)))
_cpu_start = _cpu_seconds()
"""
# Run after its last cell: the redraw times of every slider figure the chapter holds in a
# global name (not IPython's output history, `_7`), and the CPU time its cells used.
FIGURES_CELL = """
import json as _json
from nntrain.widgets import SliderFigure as _SliderFigure
print(_json.dumps({"cpu": _cpu_seconds() - _cpu_start,
                   "figures": {name: list(value.redraw_seconds.values())
                               for name, value in dict(globals()).items()
                               if isinstance(value, _SliderFigure) and not name.startswith("_")}}))
"""


def chapters():
    """The chapter notebooks, in order."""
    return sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


def run_chapter(path):
    """Execute one chapter; return ``(cell_seconds, figures, cpu_seconds)``.

    ``cell_seconds`` maps each code cell's index to its wall time; ``figures`` maps the name
    of each slider figure to the redraw times of its frames, in seconds; ``cpu_seconds`` is
    the CPU time of the chapter's cells, summed over the kernel and its worker processes.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(CPU_CELL))
    nb.cells.append(nbformat.v4.new_code_cell(FIGURES_CELL))
    with book_environment():
        client = NotebookClient(
            nb,
            timeout=HANG_SECONDS,
            kernel_name="python3",
            resources={"metadata": {"path": str(BOOK)}},
        )
        cell_seconds = {}
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                start = time.perf_counter()
                client.execute_cell(cell, index)
                if cell.cell_type == "code" and 0 < index < len(nb.cells) - 1:
                    cell_seconds[index] = time.perf_counter() - start
    text = "".join(
        out.get("text", "") for out in nb.cells[-1].outputs if out.get("name") == "stdout"
    )
    found = json.loads(text)
    return cell_seconds, found["figures"], found["cpu"]


def _spread(values):
    return f"{min(values):.1f} to {max(values):.1f}"


def measure(report, names=None, runs=RUNS):
    """Add each chapter's time (seconds, wall units and CPU units: the median of ``runs``
    runs and their spread), its slowest cells and its frame costs to ``report``, then the
    whole book's."""
    paths = [p for p in chapters() if not names or p.stem in names]
    results = {p.stem: [] for p in paths}
    for run in range(runs):
        for path in paths:
            print(f"  run {run + 1} of {runs}: {path.stem}", flush=True)
            results[path.stem].append(run_chapter(path))
    unit = report.unit_seconds
    book_wall = [0.0] * runs
    book_cpu = [0.0] * runs
    for chapter, chapter_runs in results.items():
        walls = [sum(cells.values()) for cells, _, _ in chapter_runs]
        cpus = [cpu for _, _, cpu in chapter_runs]
        for i in range(runs):
            book_wall[i] += walls[i]
            book_cpu[i] += cpus[i]
        report.time(
            f"{chapter}: execution, median of {runs}", statistics.median(walls), budget_units=15
        )
        report.add(
            f"{chapter}: execution, spread of {runs} runs",
            _spread([w / unit for w in walls]),
            "units",
        )
        report.add(
            f"{chapter}: CPU, median of {runs} (kernel and workers)",
            statistics.median(cpus) / unit,
            "CPU units",
        )
        cells, figures, _ = chapter_runs[walls.index(statistics.median(walls))]
        slowest = sorted(cells, key=cells.get, reverse=True)[:3]
        # cell numbers as the reviews count them: the setup cell is cell 0
        report.add(
            f"{chapter}: slowest cells",
            ", ".join(f"#{i - 1} {cells[i]:.1f} s" for i in slowest),
            "",
        )
        frame_seconds = 0.0
        for name, redraws in figures.items():
            frame_seconds += sum(redraws)
            report.add(f"{chapter}: {name} per frame", 1e3 * sum(redraws) / len(redraws), "ms")
            report.add(f"{chapter}: {name} per figure ({len(redraws)} frames)", sum(redraws), "s")
        report.add(
            f"{chapter}: slider frames (summed over worker processes) / chapter time",
            100 * frame_seconds / sum(cells.values()),
            "%",
        )
    if not names:
        report.time(
            f"book: all chapters, median of {runs}", statistics.median(book_wall), budget_units=120
        )
        report.add(f"book: spread of {runs} runs", _spread([w / unit for w in book_wall]), "units")
        report.add(f"book: CPU, median of {runs}", statistics.median(book_cpu) / unit, "CPU units")


if __name__ == "__main__":
    from benchmarks.report import Report

    parser = argparse.ArgumentParser(description="Time the chapters as the book build runs them.")
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"runs of each chapter (default {RUNS})"
    )
    parser.add_argument(
        "chapters", nargs="*", help="chapter names such as 00_network (default: all)"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    report = Report()
    measure(report, args.chapters, args.runs)
    raise SystemExit(report.finish())
