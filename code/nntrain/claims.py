"""The "Claims checked" table that ends every chapter.

Each row pairs a quantitative claim from the lecture notes or a paper with the value the
chapter measured, the range the book asserts, and an honest verdict. :meth:`Claims.show`
renders the table and then raises ``AssertionError`` if any measured value left its range,
so a regression anywhere in the package or a chapter fails the book build and the tests.
"""

from __future__ import annotations

import html
import numbers

import numpy as np

VERDICTS = ("holds", "holds partly", "does not hold at this scale")


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _fmt(x, digits=3):
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return f"{x:,}"
    if isinstance(x, numbers.Real):
        return f"{x:.{digits}g}"
    return str(x)


class Claims:
    """A chapter's table of checked claims.

    Example:
        >>> claims = Claims()
        >>> claims.add("A [3, 4, 4, 1] net has 41 parameters", source="CS231n notes",
        ...            measured=41, expected=41, verdict="holds")
        >>> claims.show()  # doctest: +SKIP
    """

    def __init__(self):
        self.rows = []

    def add(self, claim, *, source, measured, expected, verdict, why=""):
        """Add one claim.

        Args:
            claim: the claim in the book's words.
            source: where it comes from (lecture notes, a paper).
            measured: the value this chapter measured (a number or a bool).
            expected: what the book asserts: a number (equal up to 1e-9 relative), a
                ``(low, high)`` range (inclusive), or a bool.
            verdict: one of :data:`VERDICTS`: whether the *claim* reproduces here.
            why: the reason, required unless the verdict is ``"holds"``.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        if verdict != "holds" and not why:
            raise ValueError(f"a verdict of {verdict!r} needs a reason (why=...)")
        is_range = (
            isinstance(expected, tuple)
            and len(expected) == 2
            and all(_is_number(e) for e in expected)
            and expected[0] <= expected[1]
        )
        if not (isinstance(expected, (bool, np.bool_)) or _is_number(expected) or is_range):
            raise ValueError(
                f"expected must be a number, a bool or a (low, high) range, got {expected!r}"
            )
        self.rows.append(
            dict(
                claim=claim,
                source=source,
                measured=measured,
                expected=expected,
                verdict=verdict,
                why=why,
            )
        )

    @staticmethod
    def passes(measured, expected) -> bool:
        """Whether ``measured`` satisfies ``expected`` (see :meth:`add`)."""
        if isinstance(expected, (bool, np.bool_)):
            return isinstance(measured, (bool, np.bool_)) and bool(measured) == bool(expected)
        if isinstance(expected, tuple):
            return bool(expected[0] <= measured <= expected[1])
        return bool(abs(measured - expected) <= 1e-9 * max(1.0, abs(expected)))

    def failures(self):
        """The rows whose measured value is outside the asserted range."""
        return [r for r in self.rows if not self.passes(r["measured"], r["expected"])]

    def to_html(self):
        """The table as HTML (one row per claim)."""
        head = "".join(
            f"<th>{h}</th>" for h in ("Claim", "Source", "Measured", "Asserted", "Verdict")
        )
        body = []
        for r in self.rows:
            exp = r["expected"]
            asserted = (
                f"{_fmt(exp[0], 4)} to {_fmt(exp[1], 4)}"
                if isinstance(exp, tuple)
                else _fmt(exp, 4)
            )
            mark = "✓" if self.passes(r["measured"], exp) else "✗ FAILED"
            verdict = r["verdict"] + (f": {r['why']}" if r["why"] else "")
            cells = (r["claim"], r["source"], f"{_fmt(r['measured'])} {mark}", asserted, verdict)
            body.append(
                "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"
            )
        return (
            f'<table class="nntrain-claims"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def _repr_html_(self):
        return self.to_html()

    def show(self):
        """Display the table, then assert every claim (``AssertionError`` lists failures)."""
        if not self.rows:
            raise ValueError("no claims were added")
        try:
            from IPython.display import HTML, display

            display(HTML(self.to_html()))
        except ImportError:  # pragma: no cover - outside IPython the assertion still runs
            pass
        bad = self.failures()
        if bad:
            lines = [
                f"- {r['claim']}: measured {_fmt(r['measured'])}, asserted {r['expected']}"
                for r in bad
            ]
            raise AssertionError("claims outside their asserted range:\n" + "\n".join(lines))
