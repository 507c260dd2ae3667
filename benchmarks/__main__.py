"""``make bench``: every benchmark, one table, ``_build/bench/results.json``.

    .venv/bin/python -m benchmarks                   # everything (about 10 minutes)
    .venv/bin/python -m benchmarks chapters twins    # some of them

The parts, in order: ``chapters`` (each chapter's execution and its slider frames),
``twins`` (every torch twin module against its PyTorch built-in), ``checks`` (the share of
each reference module's lines spent on input checks), ``batched`` (batched
trials against sequential training, with the achieved rate and the machine's peak) and
``suite`` (the whole test suite). Times are reported in seconds and in calibration units
(see :mod:`benchmarks.report`). ``pages`` weighs the built book's audited pages (bytes of a
first visit, DOM elements, Lighthouse's performance score where Lighthouse is installed; see
:mod:`benchmarks.pages`). The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse

from benchmarks import batched_trials, chapters, checks, pages, suite, twins
from benchmarks.report import Report

PARTS = {
    "chapters": chapters.measure,
    "twins": twins.measure,
    "checks": checks.measure,
    "batched": batched_trials.measure,
    "suite": suite.measure,
    "pages": pages.measure,
    "babysit": lambda report: __import__("benchmarks.babysit", fromlist=["_"]).measure(report),
}


def main():
    parser = argparse.ArgumentParser(description="Run the book's benchmarks.")
    parser.add_argument("parts", nargs="*", help=f"some of {', '.join(PARTS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose among {list(PARTS)}")
    report = Report()
    for part in args.parts or PARTS:
        print(f"{part}:", flush=True)
        PARTS[part](report)
    raise SystemExit(report.finish())


if __name__ == "__main__":
    main()
