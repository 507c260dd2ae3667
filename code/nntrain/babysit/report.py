"""The verdicts of :func:`nntrain.babysit.steps.checklist`: one :class:`Check` per step, gathered
in a :class:`Report` that prints as a text table and shows as an HTML table in a notebook."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..claims import html_cells, html_table

__all__ = [
    "VERDICTS",
    "WARN",
    "Check",
    "Report",
]

VERDICTS = {True: "pass", False: "FAIL", None: "n/a"}
#: The verdict of a check that passed with a warning (a plausible number that is suspicious).
WARN = "warn"


@dataclass
class Check:
    """The result of one check.

    Attributes:
        name: the check's name, e.g. ``"initial_loss"``.
        passed: True, False, or None when the check does not apply to the model.
        measured: what was measured: a number (e.g. the initial loss) or a short string.
        expected: what a healthy model gives, in words or as a range.
        advice: what to do when the check fails.
        note: how it was measured, or why it does not apply.
        warning: for a check that passed, why its number is nevertheless suspicious and
            its likely cause (empty when it is not): the verdict is then ``"warn"``.
        mode: the mode the question was asked in: ``"training"`` (batch statistics,
            dropout on: what a training step sees), ``"test"``, ``"training and test"``,
            or empty where modes do not apply.
    """

    name: str
    passed: bool | None
    measured: object
    expected: str
    advice: str
    note: str = ""
    warning: str = ""
    mode: str = ""

    @property
    def verdict(self):
        """``"pass"``, ``"warn"`` (passed, with a :attr:`warning`), ``"FAIL"`` or ``"n/a"``."""
        if self.passed is True and self.warning:
            return WARN
        return VERDICTS[self.passed]

    def shown(self):
        """``measured`` as the tables show it (numbers to 4 significant digits)."""
        m = self.measured
        if isinstance(m, numbers.Real) and not isinstance(m, bool):
            return f"{m:.4g}"
        return "-" if m is None else str(m)


class Report:
    """The checks of one :func:`~nntrain.babysit.steps.checklist` run, in order.

    ``report["initial_loss"]`` is the :class:`Check` of that name, ``report.passed`` is
    True when no check failed (checks that do not apply, and warnings, do not count),
    ``str(report)`` a text table followed by each check's mode and note, the warning of
    every check that warns and the advice for every failure, and in a notebook the report
    shows as an HTML table.
    """

    def __init__(self, checks):
        self.checks = list(checks)

    def __getitem__(self, name):
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; the checks are {[c.name for c in self.checks]}")

    @property
    def passed(self):
        return not self.failures()

    def failures(self):
        """The checks that failed."""
        return [c for c in self.checks if c.passed is False]

    def warnings(self):
        """The checks that passed with a warning (verdict ``"warn"``)."""
        return [c for c in self.checks if c.verdict == WARN]

    def __str__(self):
        rows = [("check", "verdict", "measured", "expected")]
        rows += [(c.name, c.verdict, c.shown(), c.expected) for c in self.checks]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
        for c in self.checks:
            if c.note:
                mode = f" ({c.mode} mode)" if c.mode else ""
                lines.append(f"- {c.name}{mode}: {c.note}")
        for c in self.warnings():
            lines.append(f"? {c.name}: {c.warning}")
        for c in self.failures():
            lines.append(f"! {c.name}: {c.advice}")
        return "\n".join(lines)

    def __repr__(self):
        verdicts = ", ".join(f"{c.name}={c.verdict}" for c in self.checks)
        return f"Report({verdicts})"

    def to_html(self):
        """The table as HTML: one row per check, with its mode, its note and, for a warning
        or a failure, the warning or the advice (every text escaped)."""
        body = []
        for c in self.checks:
            notes = (f"({c.mode} mode) " if c.mode else "") + c.note
            notes += f" Warning: {c.warning}" if c.verdict == WARN else ""
            notes += f" Advice: {c.advice}" if c.passed is False else ""
            cells = (c.name, c.verdict, c.shown(), c.expected, notes.strip())
            css_class = "nntrain-" + c.verdict.lower().replace("/", "")
            body.append(f'<tr class="{css_class}">{html_cells(cells)}</tr>')
        head = ("Check", "Verdict", "Measured", "Expected", "Notes")
        return html_table("nntrain-babysit", head, body)

    def _repr_html_(self):
        return self.to_html()
