"""The records ``make bench`` collects, their Markdown table and ``results.json``.

A record is ``{"name", "value", "unit", "target", "met"}``: ``target`` is ``None`` for a
figure that is only reported, else a text such as ``"<= 15 units"``; ``met`` is ``None``
without a target, else whether the value meets it.

Times are also expressed in calibration units: one unit is the time this machine needs for
``calibrate.py``'s fixed mix of the book's kind of work, so a budget in units holds on any
machine (a chapter budget of 15 units is 15 s where the calibration takes 1 s, and 30 s on a
machine twice as slow).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "_build" / "bench" / "results.json"
#: A copy of the workplace's ``shared/bench/calibrate.py``, so that a clone has it.
CALIBRATE = Path(__file__).with_name("calibrate.py")


def calibration_seconds():
    """The seconds of ``calibrate.py``'s workload on this machine (the best of three), as
    the script prints them."""
    out = subprocess.run(
        [sys.executable, str(CALIBRATE)], capture_output=True, text=True, check=True
    ).stdout
    return float(re.fullmatch(r"calibration ([0-9.]+) s\n", out).group(1))


class Report:
    """The records of one ``make bench`` run, with the machine's calibration."""

    def __init__(self, unit_seconds=None):
        self.unit_seconds = calibration_seconds() if unit_seconds is None else unit_seconds
        self.records = []
        self.add("calibration (1 unit)", self.unit_seconds, "s")

    def add(self, name, value, unit, *, at_most=None, at_least=None, why=None):
        """Record ``value``; with ``at_most`` or ``at_least`` it is a target to meet, and
        ``why`` says, in the target's text, why it differs from its kind's usual one."""
        target, met = None, None
        if at_most is not None:
            target, met = f"<= {at_most:g} {unit}".rstrip(), bool(value <= at_most)
        elif at_least is not None:
            target, met = f">= {at_least:g} {unit}".rstrip(), bool(value >= at_least)
        if target and why:
            target += f" ({why})"
        if isinstance(value, float):
            value = round(value, 4) if math.isfinite(value) else None
        record = {"name": name, "value": value, "unit": unit, "target": target, "met": met}
        self.records.append(record)
        print(f"  {name}: {value} {unit}" + (f" (target {target})" if target else ""), flush=True)
        return record

    def time(self, name, seconds, *, budget_units=None):
        """Record a time in seconds and in calibration units (the budget applies to units)."""
        self.add(f"{name} (seconds)", seconds, "s")
        self.add(f"{name} (units)", seconds / self.unit_seconds, "units", at_most=budget_units)

    def missed(self):
        return [r for r in self.records if r["met"] is False]

    def table(self):
        """The records as a Markdown table."""
        lines = ["| benchmark | value | unit | target | met |", "|---|---:|---|---|---|"]
        for r in self.records:
            value = f"{r['value']:.4g}" if isinstance(r["value"], float) else str(r["value"])
            met = {None: "", True: "yes", False: "**no**"}[r["met"]]
            lines.append(f"| {r['name']} | {value} | {r['unit']} | {r['target'] or ''} | {met} |")
        return "\n".join(lines)

    def finish(self, path=RESULTS):
        """Write ``results.json``, print the table; return the exit status (1 if a target
        was missed)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.records, indent=1) + "\n")
        print()
        print(self.table())
        missed = self.missed()
        print(
            f"\n{len(self.records)} records in {path}; "
            + (
                f"{len(missed)} targets missed: " + ", ".join(r["name"] for r in missed)
                if missed
                else "every target met"
            )
        )
        return 1 if missed else 0
