"""Numbers in the prose that the cells did not print: the check that keeps a chapter's text
and its measurements in step.

Every number a chapter's prose quotes (its Markdown, and the captions and alt texts of its
figures, which code cells carry in their metadata) must be found, at the quoted rounding, in what
the same chapter's executed cells printed (streams, text and HTML outputs, the Claims
table), or be a declared constant: a literal in the chapter's code (a hyperparameter set
there, compared exactly), a year, a whole number up to :data:`SMALL` (counts and formula
constants: 3 seeds, ln 10), one of :data:`CONSTANTS` (sizes of data sets), or a number
named by a reference word (chapter 3, Exercise 2).

A quoted number stands for every value that rounds to it: ``0.613`` for 0.6125 to 0.6135,
``24 points`` or ``16.0%`` for a printed fraction 0.24 or 0.160, ``16x`` for 15.5 to 16.5,
``$1.1 \\times 10^{-2}$`` for 0.0105 to 0.0115. Signs are ignored (a fall of 0.04 is
printed as -0.04). Integers in math are formula constants and are not checked; decimals
and powers of ten in math are.

Run on executed notebooks (``make book`` leaves them in ``_build/jupyter_execute/book``)::

    python -m nntrain.prose _build/jupyter_execute/book/*.ipynb
    python -m nntrain.prose --execute book/06_babysitting.ipynb   # execute it first

It prints each drifted number with the chapter, the sentence around it and the nearest
printed value, and exits 1 if there is one. ``tests/test_prose.py`` runs it on the book.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SMALL",
    "CONSTANTS",
    "REFERENCE_WORDS",
    "BOOK_ENV",
    "Quote",
    "Drift",
    "quotes",
    "printed_numbers",
    "code_literals",
    "prose",
    "drift",
    "book_environment",
    "execute",
    "main",
]

#: Whole numbers up to this are declared constants (counts, small formula constants).
SMALL = 10
#: Facts the prose may quote without a cell printing them (sizes of data sets and inputs
#: that are not measurements). Each entry says what it is.
CONSTANTS = {
    1_797: "images in scikit-learn's digits",
    3_072: "inputs of a 32x32x3 image (CIFAR-10)",
    50_000: "CIFAR-10's training images",
    10_000: "CIFAR-10's test images",
    150_528: "inputs of a 224x224x3 image (ImageNet)",
}
#: Words after which a number names a part of the book or of a list, not a measurement.
REFERENCE_WORDS = (
    "chapter|chapters|exercise|exercises|figure|figures|section|sections|claim|claims|"
    "table|equation|part|cell|cells|question|step|steps|item|version|python|layer|layers|"
    "seed|seeds|epoch|epochs|iteration|unit|units|stage|stages|panel|panels|row|rows"
)
_REFERENCE = re.compile(
    rf"\b(?:{REFERENCE_WORDS})\s+\d+(?:(?:\s*,\s*|\s+and\s+|\s+to\s+|\s+or\s+|-)\d+)*\b",
    re.IGNORECASE,
)
# A number in text: optional sign, digits with thousands commas, decimals, an exponent.
_NUMBER = re.compile(
    r"(?<![\w.$/-])[-+−]?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?P<exp>e[-+−]?\d+)?"
    r"(?P<suffix>\s*(?:%|x\b|×|\s+points?\b|\s+percentage points?\b))?(?![\w.]*\w)"
)
_SHAPE = re.compile(r"\b\d+(?:[x×]\d+)+\b")  # 8x8, 32x32x3: sizes, not measurements
_ESTIMATE = re.compile(r"\babout \d+ minutes\b")  # an exercise's time estimate, not a measurement
_SCIENTIFIC_MATH = re.compile(
    r"(?:(?P<mant>\d+(?:\.\d+)?)\s*(?:\\times|\\cdot)\s*)?10\^\{?(?P<exp>[-−]?\d+)\}?"
)
_DECIMAL_MATH = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


@dataclass(frozen=True)
class Quote:
    """A number quoted in the prose: its value, the half-width of the values that round to
    it, whether it is a percentage (also matched against a printed fraction), and where."""

    text: str
    value: float
    half_unit: float
    percent: bool
    context: str


@dataclass(frozen=True)
class Drift:
    """A quoted number that no cell printed, with the nearest printed value."""

    chapter: str
    quote: Quote
    nearest: float | None
    where: str = "text"  # or "caption of cell N", "alt text of cell N"

    def __str__(self):
        near = "nothing printed" if self.nearest is None else f"nearest printed {self.nearest:g}"
        where = "" if self.where == "text" else f" ({self.where})"
        return (
            f"{self.chapter}: quotes {self.quote.text!r} ({near}){where} in: "
            f"...{self.quote.context}..."
        )


def _half_unit(frac, exp=0):
    digits = len(frac) - 1 if frac else 0
    return 0.5 * 10.0 ** (exp - digits)


def _strip_markdown(text):
    """The prose of a Markdown cell without code, links' targets, roles, labels, comments,
    HTML tags and directive lines; math is kept (it is read separately)."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"^\s*(```|:::).*$", " ", text, flags=re.M)  # fences and directive heads
    text = re.sub(r"^\s*:[\w-]+:.*$", " ", text, flags=re.M)  # directive options
    text = re.sub(r"^\s*\([\w-]+\)=\s*$", " ", text, flags=re.M)  # (label)=
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)  # {cite}`...`, {ref}`...`
    text = re.sub(r"`[^`]*`", " ", text)  # code spans
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def _math_spans(text):
    return re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$|\\begin\{(\w+\*?)\}(.+?)\\end\{\3\}", text, re.S)


def quotes(markdown):
    """Every number quoted in one Markdown cell, as :class:`Quote` objects."""
    text = _strip_markdown(markdown)
    found = []
    for span in _math_spans(text):
        math_text = next(s for s in (span[0], span[1], span[3]) if s)
        for m in _SCIENTIFIC_MATH.finditer(math_text):
            exp = int(m["exp"].replace("−", "-"))
            mant = m["mant"] or "1"
            frac = mant.partition(".")[2]
            value = float(mant) * 10.0**exp
            half = _half_unit("." + frac if frac else "", exp)
            found.append(Quote(m[0], value, half, False, math_text.strip()[:80]))
        rest = _SCIENTIFIC_MATH.sub(" ", math_text)
        for m in _DECIMAL_MATH.finditer(rest):
            frac = "." + m[0].partition(".")[2]
            found.append(Quote(m[0], float(m[0]), _half_unit(frac), False, rest.strip()[:80]))
    prose = re.sub(r"\$\$.+?\$\$|\$.+?\$|\\begin\{(\w+\*?)\}.+?\\end\{\1\}", " ", text, flags=re.S)
    prose = _ESTIMATE.sub(" ", _SHAPE.sub(" ", _REFERENCE.sub(" ", prose)))
    prose = re.sub(r"\b(1[89]|20)\d\d[a-z]?\b", " ", prose)  # years
    for m in _NUMBER.finditer(prose):
        whole = int(m["int"].replace(",", ""))
        exp = int(m["exp"][1:].replace("−", "-")) if m["exp"] else 0
        if not m["frac"] and not m["exp"] and whole <= SMALL:
            continue
        value = float(m["int"].replace(",", "") + (m["frac"] or "")) * 10.0**exp
        suffix = (m["suffix"] or "").strip()
        percent = suffix.startswith(("%", "point", "percentage"))
        start = max(0, m.start() - 60)
        context = " ".join(prose[start : m.end() + 40].split())
        found.append(Quote(m[0].strip(), value, _half_unit(m["frac"], exp), percent, context))
    return found


def _output_text(output):
    """The text a reader sees of one cell output (HTML without tags, scripts or images)."""
    if output.get("output_type") == "stream":
        return _joined(output.get("text", ""))
    if output.get("output_type") == "error":
        return ""
    data = output.get("data", {})
    parts = []
    for kind in ("text/markdown", "text/latex"):  # images inlined as data: URIs are no text
        parts.append(
            re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", " ", _joined(data.get(kind, "")))
        )
    if "text/html" in data:
        page = _joined(data["text/html"])
        page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
        parts.append(html.unescape(re.sub(r"<[^>]+>", " ", page)))
    elif "text/plain" in data:
        parts.append(_joined(data["text/plain"]))
    return "\n".join(parts)


def _joined(value):
    return "".join(value) if isinstance(value, list) else value


_PRINTED = re.compile(r"(?<![\w.])[-+−]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(e[-+−]?\d+)?(\s*%)?")


def printed_numbers(cells):
    """The values the code cells printed (a printed percentage also as its fraction)."""
    values = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            for m in _PRINTED.finditer(_output_text(output)):
                text = (m[1].replace(",", "") + (m[2] or "") + (m[3] or "")).replace("−", "-")
                value = abs(float(text))
                values.append(value / 100 if m[4] else value)
                if m[4]:
                    values.append(value)
    return values


def code_literals(cells):
    """The numeric literals of the code cells: hyperparameters set in the code."""
    values = set()
    for cell in cells:
        if cell.get("cell_type") == "code":
            source = _joined(cell.get("source", ""))
            for m in re.finditer(r"(?<![\w.])(\d[\d_]*(?:\.\d+)?(?:e[-+]?\d+)?)", source):
                values.add(abs(float(m[1].replace("_", ""))))
    return values


def _matches(quote, value):
    tolerance = quote.half_unit * (1 + 1e-9) + 1e-12 * abs(quote.value)
    if abs(value - quote.value) <= tolerance:
        return True
    return quote.percent and abs(100 * value - quote.value) <= tolerance


def prose(cells):
    """The reader's text of a notebook, as ``(where, text)`` pairs: each Markdown cell, and
    each figure's caption and alt text, which a code cell's metadata carries
    (``"mystnb": {"figure": {"caption": ...}, "image": {"alt": ...}}``, read by MyST-NB)."""
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown":
            yield "text", _joined(cell.get("source", ""))
        elif cell.get("cell_type") == "code":
            yield from _figure_texts(cell, index)


def _figure_texts(cell, index):
    """The caption and alt text of the figure that code cell ``index`` draws, where its
    metadata gives them, as ``(where, text)`` pairs."""
    options = cell.get("metadata", {}).get("mystnb", {})
    for kind, key, name in (("figure", "caption", "caption"), ("image", "alt", "alt text")):
        text = (options.get(kind) or {}).get(key)
        if isinstance(text, str) and text:
            yield f"{name} of cell {index}", text


def drift(notebook, chapter=None):
    """The :class:`Drift` of every number quoted in ``notebook``'s prose (Markdown cells,
    figure captions and alt texts, see ``prose``) that its code cells did not print and
    that is not a declared constant.

    ``notebook`` is an executed notebook: a path or the parsed JSON (a dict with "cells").

    Example:
        >>> cell = {"cell_type": "code", "source": "print(0.612)", "outputs": [
        ...     {"output_type": "stream", "name": "stdout", "text": "0.612\\n"}]}
        >>> text = {"cell_type": "markdown", "source": "Accuracy reaches 0.613."}
        >>> [str(d.quote.text) for d in drift({"cells": [cell, text]}, "demo")]
        ['0.613']
    """
    if isinstance(notebook, (str, Path)):
        chapter = chapter or Path(notebook).stem
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    if not isinstance(notebook, dict) or "cells" not in notebook:
        raise TypeError(
            f"expected a notebook path or its JSON (a dict with 'cells'), got {type(notebook)}"
        )
    cells = notebook["cells"]
    if not any(c.get("outputs") for c in cells if c.get("cell_type") == "code"):
        raise ValueError(
            f"{chapter}: no code cell has outputs; run the check on an executed notebook "
            f"(make book leaves them in _build/jupyter_execute/book)"
        )
    printed = printed_numbers(cells)
    literals = code_literals(cells)
    drifts = []
    for where, text in prose(cells):
        for quote in quotes(text):
            if (
                quote.value in literals
                or quote.value in CONSTANTS
                or any(_matches(quote, p) for p in printed)
            ):
                continue
            nearest = min(printed, key=lambda p: abs(p - quote.value), default=None)
            drifts.append(Drift(chapter or "notebook", quote, nearest, where))
    return drifts


#: The environment ``make book`` gives the chapters' kernels (the Makefile's ``book`` target):
#: every slider frame drawn, no progress bars, figures through the inline backend.
BOOK_ENV = {
    "NNTRAIN_QUIET": "1",
    "NNTRAIN_STATIC": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


@contextlib.contextmanager
def book_environment():
    """Within the block, the environment variables of :data:`BOOK_ENV` are set (a kernel
    started there inherits them); they are restored after it."""
    saved = {k: os.environ.get(k) for k in BOOK_ENV}
    os.environ.update(BOOK_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path, folder="_build/executed"):
    """Execute the chapter at ``path`` as the book build does (:func:`book_environment`)
    and write it, with its outputs, to ``folder``; return the new path."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(path.parent)}}
    with book_environment():
        NotebookClient(nb, timeout=3600, kernel_name="python3", resources=resources).execute()
    out = Path(folder) / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def main(args):
    if args and args[0] == "--execute":
        args = [str(execute(a)) for a in args[1:]]
    if not args:
        print("usage: python -m nntrain.prose [--execute] NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    found = [d for path in args for d in drift(path)]
    for d in found:
        print(d)
    print(f"{len(found)} quoted numbers not printed by their chapter" if found else "no drift")
    return 1 if found else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
