"""Benchmark: the whole test suite (``make test``'s pytest run), timed.

The suite runs in a subprocess exactly as ``make test`` runs it. Its time is recorded in
seconds and in calibration units, with a budget of 600 units (10 minutes where the
calibration takes 1 s), well inside CI's limit; that it passed is recorded too.

Run alone: ``.venv/bin/python -m benchmarks.suite``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The suite's budget, in calibration units.
BUDGET_UNITS = 600


def measure(report):
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    print(f"  pytest: {summary}")
    report.time("test suite", seconds, budget_units=BUDGET_UNITS)
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|errors?)", summary))
    report.add("test suite: tests passed", counts.get("passed", 0), "tests")
    report.add("test suite: exit status", done.returncode, "", at_most=0)


if __name__ == "__main__":
    from benchmarks.report import Report

    report = Report()
    measure(report)
    raise SystemExit(report.finish())
