"""The "Claims checked" table that ends every chapter.

Each row pairs a quantitative claim from the lecture notes or a paper with the value the
chapter measured, the range the book asserts, and an honest verdict. :meth:`Claims.show`
renders the table and then raises ``AssertionError`` if any measured value left its range,
so a regression anywhere in the package or a chapter fails the book build and the tests.

The rules of a claim (every chapter):

* a stochastic measurement is taken over at least 3 seeds, and its asserted range comes
  from their spread;
* the asserted range excludes the values that would flip the verdict: a claim that
  "holds" cannot also pass at no effect. Where a claim names the value at which its
  verdict flips (``flips_at``), :meth:`Claims.add` refuses a range that contains it;
* the prose quotes the number the cell measured (:mod:`nntrain.prose` checks it);
* a verdict other than "holds" is also measured at the setting most favourable to the
  lecture's statement (the whole run rather than a window, each side at its own best
  hyperparameters from the same grid, matched controls), given as ``favourable``: the
  verdict stands only if it survives there, and the table shows that setting beside it;
* identities and checks of the code (a closed form met to 1e-15, a gradient check) are
  marked ``kind="identity"`` and counted apart from empirical claims about training. An
  identity either holds or the code is wrong, so its verdict is always "holds".

**The Claims ledger.** When the environment variable ``NNTRAIN_CLAIMS_DIR`` names a folder
(``make book`` sets it), :meth:`Claims.show` also writes the chapter's rows there as JSON,
and the book's ledger page (``book/claims.ipynb``) gathers them with :class:`Ledger`: the
rows come from the chapters' own executed claims, never from a second copy.

**Print.** Both tables also render as MyST Markdown (``to_markdown``, a ``list-table`` with a
header row), which the book's PDF build (``make pdf``) typesets as a LaTeX table; the HTML
book and the notebook front ends keep the HTML table.
"""

from __future__ import annotations

import html
import json
import numbers
import os
import re
from pathlib import Path

import numpy as np

from . import validation as check

__all__ = [
    "VERDICTS",
    "KINDS",
    "LEDGER_DIR",
    "PRINT_COLUMNS",
    "PRINT_WIDTHS",
    "chapter_links",
    "html_cells",
    "html_table",
    "Claims",
    "Ledger",
]

#: The verdicts a claim may get, from the claim reproduced to the claim refuted at this scale.
VERDICTS = ("holds", "holds partly", "does not hold at this scale")
#: The kinds of claim, an empirical statement about training or an identity (a closed form,
#: a check of the code) that holds to rounding.
KINDS = ("empirical", "identity")
#: The environment variable naming the folder where chapters write their ledger rows.
LEDGER_DIR = "NNTRAIN_CLAIMS_DIR"


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


def _favourable(favourable):
    """The most favourable setting and its value, in words ("" when none was needed)."""
    if favourable is None:
        return ""
    setting, value = favourable
    return f"{setting}: {_fmt(value)}"


#: The columns of a printed table (Claims and Ledger alike) and their relative widths.
PRINT_COLUMNS = ("Claim", "Source", "Measured", "Asserted", "Verdict", "Most favourable")
PRINT_WIDTHS = (28, 13, 14, 12, 19, 14)


def _md_escape(text):
    """``text`` as literal Markdown on one line: ASCII punctuation backslash-escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(str(text).split()))


def _md_table(rows):
    """A MyST ``list-table`` of :data:`PRINT_COLUMNS` (a long table: it may cross pages)."""
    lines = [
        "````{list-table}",
        ":header-rows: 1",
        ":class: longtable",
        f":widths: {' '.join(map(str, PRINT_WIDTHS))}",
        "",
    ]
    for row in (PRINT_COLUMNS, *rows):
        lines.append("* - " + "\n  - ".join(_md_escape(c) or " " for c in row))
    return "\n".join(lines) + "\n````\n"


#: "chapter 3" or "Chapter 5" in a row's words, linked to that chapter's page in the HTML.
CHAPTER_MENTION = re.compile(r"\b([Cc]hapter (\d+))\b")


def chapter_links(text, chapters=()):
    """``text`` escaped for HTML, each mention of one of ``chapters`` (their file names,
    ``03_initialization``) a link to its page in the built book.

    Example:
        >>> chapter_links("as chapter 3 shows <here>", ["03_initialization"])
        'as <a href="03_initialization.html">chapter 3</a> shows &lt;here&gt;'
    """
    pages = {int(c[:2]): c for c in chapters}

    def link(mention):
        page = pages.get(int(mention[2]))
        return f'<a href="{page}.html">{mention[1]}</a>' if page else mention[1]

    return CHAPTER_MENTION.sub(link, html.escape(str(text)))


def html_cells(cells, chapters=()):
    """``<td>`` cells for one table row, each value as text, escaped, its mentions of
    ``chapters`` linked (see :func:`chapter_links`).

    Example:
        >>> html_cells((1, "<b>"))
        '<td>1</td><td>&lt;b&gt;</td>'
    """
    return "".join(f"<td>{chapter_links(c, chapters)}</td>" for c in cells)


def _other_chapters(chapter):
    """The book's chapters other than ``chapter``, or none where the package is installed
    without its book (on Colab the table has no chapter pages to link to)."""
    from .classroom import ClassroomError, chapters

    try:
        return [c for c in chapters() if c != chapter]
    except ClassroomError:
        return []


def html_table(css_class, head, rows):
    """An HTML table of class ``css_class``: the column titles ``head``, then ``rows``, each
    a ``<tr>...</tr>`` string (see :func:`html_cells`); shared by the claims, the ledger and
    :class:`~nntrain.babysit.report.Report`."""
    titles = "".join(f"<th>{h}</th>" for h in head)
    return (
        f'<table class="{css_class}"><thead><tr>{titles}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _asserted(row):
    exp = row["expected"]
    return f"{_fmt(exp[0], 4)} to {_fmt(exp[1], 4)}" if isinstance(exp, tuple) else _fmt(exp, 4)


class _Rule(check.Constraint):
    """A value that ``accepts`` takes, described by ``wanted`` in the message (which shows
    the value refused, by its ``repr``)."""

    def __init__(self, accepts, wanted, *, example, none=False):
        super().__init__(none=none)
        self.accepts, self.wanted, self._example = accepts, wanted, example

    def is_good(self, value):
        return self.accepts(value)

    def kind(self):
        return self.wanted

    def bad_values(self):
        return [[0, 1], "1"]

    def example(self):
        return self._example


def _is_expected(value):
    """A number, a bool or an ordered ``(low, high)`` range of numbers."""
    is_range = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(_is_number(e) for e in value)
        and value[0] <= value[1]
    )
    return isinstance(value, (bool, np.bool_)) or _is_number(value) or is_range


def _is_favourable(value):
    """``(setting, value)``: a setting in words, and a number or a text measured there."""
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and bool(value[0].strip())
        and (_is_number(value[1]) or isinstance(value[1], str))
    )


#: What :meth:`Claims.add` takes as ``expected`` and as ``favourable``.
_EXPECTED = _Rule(_is_expected, "a number, a bool or a (low, high) range", example=1)
_FAVOURABLE = _Rule(
    _is_favourable, "(setting in words, value measured there)", example=("s", 1), none=True
)


def _agree(verdict, kind, why, favourable):
    """The rules between the arguments of :meth:`Claims.add`: an identity holds, and a
    verdict other than "holds" gives its reason and the most favourable setting."""
    if kind == "identity" and verdict != "holds":
        raise check.InvalidArgument(
            f"an identity either holds or the code is wrong: verdict {verdict!r} for "
            f"kind='identity'"
        )
    if verdict != "holds" and not why:
        raise check.InvalidArgument(f"a verdict of {verdict!r} needs a reason (why=...)")
    if verdict != "holds" and favourable is None:
        raise check.InvalidArgument(
            f"a verdict of {verdict!r} must also be measured at the setting most "
            f"favourable to the claim: favourable=(setting, value)"
        )


class Claims:
    """A chapter's table of checked claims.

    Example:
        >>> claims = Claims()
        >>> claims.add("A [3, 4, 4, 1] net has 41 parameters", source="CS231n notes",
        ...            measured=41, expected=41, verdict="holds")
        >>> claims.show()  # doctest: +SKIP
    """

    def __init__(self, chapter=None):
        """``chapter``: the chapter's file name without extension (``"00_network"``), which
        names its rows in the ledger and anchors them on its page."""
        self.chapter, self.rows = chapter, []

    @check.declared(
        verdict=check.Options(*VERDICTS),
        kind=check.Options(*KINDS),
        expected=_EXPECTED,
        favourable=_FAVOURABLE,
    )
    def add(
        self,
        claim,
        *,
        source,
        measured,
        expected,
        verdict,
        why="",
        flips_at=None,
        favourable=None,
        kind="empirical",
    ):
        """Add one claim.

        Args:
            claim: the claim in the book's words.
            source: where it comes from (lecture notes, a paper).
            measured: the value this chapter measured (a number or a bool).
            expected: what the book asserts: a number (equal up to 1e-9 relative), a
                ``(low, high)`` range (inclusive), or a bool.
            verdict: one of :data:`~nntrain.claims.VERDICTS`, whether the *claim* reproduces here.
            why: the reason, required unless the verdict is ``"holds"``.
            flips_at: the value at which the verdict would flip (no effect: a ratio of 1, a
                difference of 0; or the folklore's own value for a claim that does not
                hold). It must lie outside the asserted range.
            favourable: ``(setting, value)``, required unless the verdict is ``"holds"``:
                the setting most favourable to the lecture's statement, in words, and what
                was measured there (a number or a short text). The verdict stands only if
                it survives there.
            kind: one of :data:`KINDS`; an ``"identity"`` always ``"holds"``.

        Raises:
            nntrain.validation.InvalidArgument: (a ``TypeError`` and a ``ValueError``) an
                argument of the wrong form, or arguments that disagree: an identity that
                does not hold, a verdict other than "holds" without ``why`` or
                ``favourable``, a range that contains ``flips_at``.
        """
        _agree(verdict, kind, why, favourable)
        if flips_at is not None and self.passes(flips_at, expected):
            raise check.InvalidArgument(
                f"the asserted range {expected!r} contains {flips_at!r}, where the verdict "
                f"flips: the claim {claim!r} could pass either way"
            )
        self.rows.append(
            dict(
                claim=claim,
                source=source,
                measured=measured,
                expected=expected,
                verdict=verdict,
                why=why,
                flips_at=flips_at,
                favourable=favourable,
                kind=kind,
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

    def _cells(self, r):
        """Row ``r`` as the texts of :data:`PRINT_COLUMNS`, shared by HTML and Markdown."""
        mark = "✓" if self.passes(r["measured"], r["expected"]) else "✗ FAILED"
        return (
            r["claim"] + (" (identity)" if r["kind"] == "identity" else ""),
            r["source"],
            f"{_fmt(r['measured'])} {mark}",
            _asserted(r),
            r["verdict"] + (f": {r['why']}" if r["why"] else ""),
            _favourable(r["favourable"]),
        )

    def to_html(self):
        """The table as HTML (one row per claim)."""
        body, chapters = [], _other_chapters(self.chapter)
        for i, r in enumerate(self.rows, 1):
            anchor = f' id="{self.anchor(i)}"' if self.chapter else ""
            body.append(f"<tr{anchor}>{html_cells(self._cells(r), chapters)}</tr>")
        return html_table("nntrain-claims", PRINT_COLUMNS, body)

    def _repr_html_(self):
        return self.to_html()

    def to_markdown(self):
        """The table as MyST Markdown (see the module's *Print*): the columns of
        :data:`PRINT_COLUMNS`, the verdict followed by its reason."""
        return _md_table([self._cells(r) for r in self.rows])

    def _repr_markdown_(self):
        return self.to_markdown()

    def __repr__(self):
        return f"<Claims {self.chapter or '(no chapter)'}: {len(self.rows)} rows>"

    def anchor(self, i):
        """The HTML id of row ``i`` (from 1) on the chapter's page."""
        return f"claim-{self.chapter}-{i}"

    def records(self):
        """The rows as the ledger stores them: plain JSON values, with the asserted range in
        words, whether the row passed, and its anchor. A row that continues the one before
        it ("... and so ...") is stored with the claim it continues, so that it reads alone."""
        subjects, subject = [], ""
        for r in self.rows:
            continues = r["claim"].startswith(("...", "…"))
            subjects.append(f"{subject} {r['claim']}" if continues and subject else r["claim"])
            subject = subject if continues else r["claim"]
        return [
            {
                "chapter": self.chapter,
                "anchor": self.anchor(i),
                "claim": subjects[i - 1],
                "source": r["source"],
                "measured": _fmt(r["measured"]),
                "asserted": _asserted(r),
                "verdict": r["verdict"],
                "why": r["why"],
                "favourable": _favourable(r["favourable"]),
                "kind": r["kind"],
                "passed": self.passes(r["measured"], r["expected"]),
            }
            for i, r in enumerate(self.rows, 1)
        ]

    def write(self, directory):
        """Write :meth:`records` to ``directory/<chapter>.json``; returns the path."""
        if not self.chapter:
            raise ValueError("a chapter's claims need its name to enter the ledger: Claims(name)")
        path = Path(directory) / f"{self.chapter}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.records(), indent=1, ensure_ascii=False) + "\n")
        return path

    def show(self):
        """Display the table, then assert every claim (``AssertionError`` lists failures)."""
        if not self.rows:
            raise ValueError("no claims were added")
        if os.environ.get(LEDGER_DIR) and self.chapter:
            self.write(os.environ[LEDGER_DIR])
        try:
            from IPython.display import display

            display(self)  # HTML on the page, Markdown for print (see the module's *Print*)
        except ImportError:  # pragma: no cover - outside IPython the assertion still runs
            pass
        bad = self.failures()
        if bad:
            lines = [
                f"- {r['claim']}: measured {_fmt(r['measured'])}, asserted {r['expected']}"
                for r in bad
            ]
            raise AssertionError("claims outside their asserted range:\n" + "\n".join(lines))


class Ledger:
    """Every chapter's Claims checked rows, read from the JSON files the chapters wrote.

    Example:
        >>> ledger = Ledger([{"chapter": "00_network", "anchor": "claim-00_network-1",
        ...     "claim": "c", "source": "s", "measured": "1", "asserted": "1",
        ...     "verdict": "holds", "why": "", "favourable": "", "kind": "identity",
        ...     "passed": True}])
        >>> ledger.counts("empirical")
        {'holds': 0, 'holds partly': 0, 'does not hold at this scale': 0}
        >>> ledger.counts("identity")["holds"]
        1
    """

    def __init__(self, rows):
        self.rows = list(rows)
        #: Chapters expected but absent (see :meth:`from_directory`).
        self.missing = []

    @classmethod
    def from_directory(cls, directory, chapters=None):
        """The rows of ``directory/*.json``, in chapter order. ``missing`` lists the
        ``chapters`` that wrote no rows: the page shows what it has and names them, and the
        book's tests fail on them."""
        files = sorted(Path(directory).glob("*.json"))
        found = {p.stem for p in files}
        ledger = cls(row for p in files for row in json.loads(p.read_text()))
        ledger.missing = sorted(set(chapters or ()) - found)
        return ledger

    @check.declared(kind=check.Options(*KINDS, None))
    def counts(self, kind=None, chapter=None):
        """The number of rows of each verdict, among the rows of ``kind`` (one of
        :data:`KINDS`; all rows when None) and of ``chapter`` (all chapters when None)."""
        rows = [
            r
            for r in self.rows
            if (kind is None or r["kind"] == kind) and chapter in (None, r["chapter"])
        ]
        return {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}

    def by_verdict(self, verdict):
        return [r for r in self.rows if r["verdict"] == verdict]

    def to_html(self, titles=None):
        """The rows grouped by chapter, each group under its chapter's title (``titles``
        maps a chapter's file name to its title; the file name without it): claim, kind,
        source, measured, asserted, verdict and its reason, the most favourable setting, and
        a link to the row on its chapter's page."""
        titles = titles or {}
        head = (
            "Claim",
            "Kind",
            "Source",
            "Measured",
            "Asserted",
            "Verdict",
            "Why",
            "Most favourable",
        )
        body = []
        for chapter in dict.fromkeys(r["chapter"] for r in self.rows):
            title = html.escape(titles.get(chapter, chapter))
            body.append(
                f'<tr class="nntrain-ledger-chapter"><th colspan="8">'
                f'<a href="{chapter}.html">{title}</a></th></tr>'
            )
            for r in self.rows:
                if r["chapter"] != chapter:
                    continue
                mark = "✓" if r["passed"] else "✗ FAILED"
                link = f'<a href="{chapter}.html#{r["anchor"]}">{html.escape(r["claim"])}</a>'
                cells = (
                    r["kind"],
                    r["source"],
                    f"{r['measured']} {mark}",
                    r["asserted"],
                    r["verdict"],
                    r["why"],
                    r["favourable"],
                )
                others = [c for c in titles if c != chapter]
                body.append(f"<tr><td>{link}</td>{html_cells(cells, others)}</tr>")
        return html_table("nntrain-ledger", head, body)

    def _repr_html_(self):
        return self.to_html()

    def to_markdown(self, titles=None):
        """The rows as MyST Markdown for print: under each chapter's title (``titles`` as in
        :meth:`to_html`), a table of :data:`PRINT_COLUMNS`; an identity's claim says so, and
        the verdict is followed by its reason."""
        titles = titles or {}
        parts = []
        for chapter in dict.fromkeys(r["chapter"] for r in self.rows):
            rows = [
                (
                    r["claim"] + (" (identity)" if r["kind"] == "identity" else ""),
                    r["source"],
                    f"{r['measured']} {'✓' if r['passed'] else '✗ FAILED'}",
                    r["asserted"],
                    r["verdict"] + (f": {r['why']}" if r["why"] else ""),
                    r["favourable"],
                )
                for r in self.rows
                if r["chapter"] == chapter
            ]
            parts.append(f"**{_md_escape(titles.get(chapter, chapter))}**\n\n{_md_table(rows)}")
        return "\n".join(parts)

    def _repr_markdown_(self):
        return self.to_markdown()
