"""The book's PDF edition (``make pdf``): Jupyter Book 1's LaTeX builder on executed notebooks.

Run from the repository root as ``python book/_ext/pdf_edition.py [--solutions] [--chapters
NAME ...] [--out DIR]``. It

1. **finds executed chapters**: the copy that ``make book`` left in
   ``_build/jupyter_execute/book`` (or one this script executed before, under
   ``_build/pdf/executed`` or ``OUT/executed``) is reused when its code cells are the
   chapter's and it is newer than every file of the package (the outputs are the copy's;
   the text, and the cells' metadata such as figure captions, are the chapter's as it is
   now, :func:`with_current_text`); any other chapter is executed once, as the book
   build executes it (:func:`nntrain.prose.execute`, with ``NNTRAIN_CLAIMS_DIR`` set as
   ``make book`` sets it), and kept under ``OUT/executed`` for the next run. The ledger page
   is executed again when a chapter was;
2. **writes a print tree** under ``OUT/src``: the book's pages, with each notebook's print
   version (:func:`print_version`): an exercise's answer cell shows the student's starting
   code (the solution replaced by ``# your code here``), a graded cell shows its public
   checks without their outputs, model answers stay out. With ``--solutions`` (the
   teacher's edition) the book ends with a part *Solutions* of appendices, one per chapter,
   with the solutions and model answers of its exercises (:func:`solutions_page`);
3. **builds** the LaTeX sources with Sphinx warnings as errors (``execute_notebooks: off``,
   so nothing runs twice), then the PDF with latexmk and XeLaTeX, which stops at the first
   LaTeX error (``-halt-on-error``), and copies it to ``OUT/nntrain.pdf`` (or
   ``OUT/nntrain-teacher.pdf``).

The LaTeX settings (A4, the ``bbm.sty`` shim, Markdown outputs parsed as MyST, numbered
figures with page references) are in ``_config.yml`` and ``nntrainprint.sty`` (chapters
count from 0, as the book's do, so that Figure 3.2 is the same figure in print and online); the print forms of the sliders and the Claims tables come from
:mod:`nntrain.widgets` and :mod:`nntrain.claims` (``text/markdown``), which the LaTeX builder
picks while the HTML book keeps their HTML.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import yaml
from nntrain.classroom import BEGIN_SOLUTION, END_SOLUTION, GRADED, HIDDEN, MODEL
from nntrain.prose import execute

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
EXECUTED_BY_BOOK = ROOT / "_build" / "jupyter_execute" / "book"
EXECUTED_BY_PDF = ROOT / "_build" / "pdf" / "executed"  # by an earlier make pdf
LEDGER_PAGE = "claims"
STUB = "# your code here"
SOLUTION = re.compile(
    rf"^([ \t]*){re.escape(BEGIN_SOLUTION)}\n.*?^[ \t]*{END_SOLUTION}\n", re.M | re.S
)
HIDDEN_REGION = re.compile(rf"{HIDDEN.pattern}.*?^### END HIDDEN TESTS\n?", re.M | re.S)
EXERCISE_TITLE = re.compile(r"\*\*(Exercise \d+[^*]*?)\.?\*\*")


def _sources(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _package_time():
    return max(p.stat().st_mtime for p in (ROOT / "code" / "nntrain").rglob("*.py"))


def executed_copy(name, folders, package_time):
    """The newest executed copy of chapter ``name`` in ``folders`` that is fresh: the same
    code cells as the chapter, and written after every file of the package (a change to the
    chapter's text or metadata alone needs no new execution, see :func:`with_current_text`)."""
    source = BOOK / f"{name}.ipynb"
    wanted = _sources(nbformat.read(source, as_version=4))
    for folder in folders:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue
        if path.stat().st_mtime < package_time:
            continue
        nb = nbformat.read(path, as_version=4)
        if _sources(nb) == wanted and any(
            c.get("outputs") for c in nb.cells if c.cell_type == "code"
        ):
            return path
    return None


def with_current_text(executed, chapter):
    """The notebook ``chapter`` (as it is now) with the outputs of ``executed``, an executed
    copy with the same code cells: its Markdown and the cells' metadata (figure names,
    captions and alt texts) may be newer than the copy."""
    merged = copy.deepcopy(chapter)
    ran = [c for c in executed.cells if c.cell_type == "code"]
    code = [c for c in merged.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in code]:
        raise ValueError("the executed copy's code cells are not the chapter's")
    for cell, done in zip(code, ran):
        cell.outputs = done.outputs
        cell.execution_count = done.get("execution_count")
    return merged


def executed_notebooks(names, out):
    """``{name: path of an executed copy}``, executing (once) the chapters without one."""
    cache = out / "executed"
    folders = list(dict.fromkeys([EXECUTED_BY_BOOK, EXECUTED_BY_PDF, cache]))
    package_time = _package_time()
    found = {name: executed_copy(name, folders, package_time) for name in names}
    stale = [name for name, path in found.items() if path is None]
    if stale and LEDGER_PAGE in found and stale != [LEDGER_PAGE]:
        stale = [n for n in stale if n != LEDGER_PAGE] + [LEDGER_PAGE]  # the ledger reads them
    os.environ.setdefault("NNTRAIN_CLAIMS_DIR", str(ROOT / "_build" / "claims"))
    for name in stale:
        start = time.perf_counter()
        found[name] = execute(BOOK / f"{name}.ipynb", cache)
        print(f"executed {name} in {time.perf_counter() - start:.0f} s", flush=True)
    reused = [n for n in names if n not in stale]
    if reused:
        print(f"reused the executed {', '.join(reused)}", flush=True)
    return found


class _HtmlToMyst(HTMLParser):
    """The simple HTML a page writes with ``IPython.display.HTML`` (paragraphs, bold and
    italics, links, lists, tables, ``<details>``) as MyST Markdown. A table row with one cell
    spanning the table (a group's title) closes the table and opens the next under it."""

    BLOCKS = {"p", "li", "summary", "div"}

    def __init__(self):
        super().__init__()
        self.out, self.text, self.table, self.row, self.head = [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        if tag in ("b", "strong"):
            self.text.append("**")
        elif tag in ("i", "em"):
            self.text.append("*")
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.text = []

    def handle_endtag(self, tag):
        if tag in ("b", "strong"):
            self.text.append("**")
        elif tag in ("i", "em"):
            self.text.append("*")
        elif tag in ("td", "th") and self.row is not None:
            self.row.append(_one_line("".join(self.text)))
            self.text = []
        elif tag == "tr" and self.row is not None:
            if len(self.row) == 1 and self.table and len(self.table[0]) > 1:  # a group title
                head = self.table[0]
                self._emit_table()
                self.out.append(f"**{self.row[0].strip('*')}**\n")
                self.table = [head]
            else:
                self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self._emit_table()
            self.table = None
        elif tag in self.BLOCKS:
            self._flush("- " if tag == "li" else "")

    def handle_data(self, data):
        self.text.append(_md_escape(data) if data.strip() else data)

    def _flush(self, prefix=""):
        text = _one_line("".join(self.text))
        if text and self.table is None:
            self.out.append(f"{prefix}{text}\n")
        self.text = []

    def _emit_table(self):
        rows = self.table or []
        if len(rows) > 1:
            columns = max(len(r) for r in rows)
            rows = [r + [""] * (columns - len(r)) for r in rows]
            widths = _column_widths([[r[k] for r in rows] for k in range(columns)])
            lines = [
                "````{list-table}",
                ":header-rows: 1",
                ":class: longtable",
                f":widths: {' '.join(map(str, widths))}",
                "",
            ]
            for row in rows:
                lines.append("* - " + "\n  - ".join(cell or " " for cell in row))
            self.out.append("\n".join(lines) + "\n````\n")
        self.table = []

    def markdown(self, html):
        self.feed(html)
        self.close()
        self._flush()
        return "\n".join(self.out)


#: About how many characters of a long table's text (footnote size, book/_ext/nntrainprint.sty)
#: fit across the printed page.
LINE_CHARACTERS = 110


def _column_widths(columns):
    """Relative widths, in characters, of a table's columns (each a list of cell texts):
    every column gets room for its longest word; what is left of a line goes to the columns
    of longer texts, in proportion to how much more room their average cell would take."""
    texts = [[cell.replace("\\", "") for cell in cells] for cells in columns]
    average = [sum(map(len, cells)) / len(cells) for cells in texts]
    longest = [max([len(w) for cell in cells for w in cell.split()] or [1]) for cells in texts]
    # a column of long texts may break a long word (hyphens) rather than take a wide column
    need = [min(n, 12) + 1 if a > 40 else n + 1 for n, a in zip(longest, average)]
    want = [max(n, a) for n, a in zip(need, average)]
    budget = LINE_CHARACTERS - 2 * len(columns)  # the space between columns
    if sum(want) > budget:
        spare = max(0, budget - sum(need)) / (sum(want) - sum(need))
        want = [n + (w - n) * spare for n, w in zip(need, want)]
    return [max(1, round(w)) for w in want]


def _one_line(text):
    return " ".join(text.split())


def _md_escape(text):
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def html_as_markdown(output):
    """A copy of ``output`` with a MyST Markdown version of its HTML when HTML is all it
    offers besides plain text (the LaTeX builder never takes HTML, and the plain text of an
    ``IPython.display.HTML`` is ``<IPython.core.display.HTML object>``)."""
    data = output.get("data", {})
    if "text/html" not in data or set(data) - {"text/html", "text/plain"}:
        return output
    output = copy.deepcopy(output)
    html = data["text/html"]
    html = "".join(html) if isinstance(html, list) else html
    output["data"]["text/markdown"] = _HtmlToMyst().markdown(html)
    return output


def print_version(nb):
    """A copy of the executed notebook ``nb`` as the student's edition prints it."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "model-answer" in tags:
            continue
        if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source:
            cell.source = SOLUTION.sub(lambda m: f"{m.group(1)}{STUB}\n", cell.source)
            cell.metadata["tags"] = [t for t in tags if t != "hide-input"]
            cell.outputs = []
        elif cell.cell_type == "code" and GRADED.match(cell.source):
            cell.source = HIDDEN_REGION.sub("", cell.source).rstrip() + "\n"
            cell.outputs = []
        if cell.cell_type == "code":
            cell.outputs = [html_as_markdown(o) for o in cell.outputs]
        cells.append(cell)
    nb.cells = cells
    return nb


def _title(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:]
    raise ValueError("a chapter needs a level-1 heading")


def solutions(nb):
    """The exercises of a chapter with their solutions: ``[(title, [(kind, text)])]``, kind
    ``"code"`` (an answer cell, its solution markers dropped) or ``"markdown"`` (a model
    answer)."""
    found, current = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = EXERCISE_TITLE.search(cell.source)
            if match and not MODEL.match(cell.source):
                current = (" ".join(match.group(1).split()), [])
                found.append(current)
                continue
        if current is None:
            continue
        if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source:
            lines = [
                line
                for line in cell.source.splitlines()
                if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
            ]
            current[1].append(("code", "\n".join(lines)))
        elif "model-answer" in cell.metadata.get("tags", []):
            current[1].append(("markdown", cell.source))
    return [(title, parts) for title, parts in found if parts]


#: Where the appendices begin: LaTeX numbers the chapters after it A, B, C, ...
APPENDIX = "```{raw} latex\n\\appendix\n```\n"
#: A chapter page's name: ``NN_topic``, NN its number in the book.
CHAPTER = re.compile(r"(\d\d)_\w+")
#: The bibliography directive of book/bibliography.md.
BIBLIOGRAPHY = re.compile(r"^```\{bibliography\}.*?^```\n?", re.M | re.S)


def numbered_as_in_the_book(nb, name):
    """``nb`` (a chapter's print version) with a first cell that gives its LaTeX chapter the
    book's number (chapter 0 first), whatever pages precede it in the PDF."""
    number = int(CHAPTER.fullmatch(name).group(1))
    raw = f"```{{raw}} latex\n\\setcounter{{chapter}}{{{number - 1}}}\n```"
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(raw))
    return nb


def solutions_page(name, nb, first=False):
    """The teacher's appendix of chapter ``name`` (its notebook ``nb``), as MyST Markdown, or
    None when it has no solution: a section per exercise with its solution code and model
    answer. The ``first`` appendix starts LaTeX's appendices (chapters lettered A, B, ...)."""
    exercises = solutions(nb)
    if not exercises:
        return None
    number = int(name[:2]) if name[:2].isdigit() else None
    which = f"chapter {number}" if number is not None else "this chapter"
    lines = [
        *([APPENDIX] if first else []),
        f"# Solutions: {_title(nb)}",
        "",
        f"The solutions of the exercises of {which} and the model answers of its think "
        "exercises, with their rubrics: the teacher's edition only.",
        "",
    ]
    for title, parts in exercises:
        lines += [f"## {title}", ""]
        for kind, text in parts:
            lines += ["```python", text, "```", ""] if kind == "code" else [text, ""]
    return "\n".join(lines)


def write_tree(names, pages, executed, src, solutions_too):
    """The print tree: configuration, the table of contents of ``pages`` (file names without
    extension), the Markdown pages and the print versions of the notebooks ``names``."""
    if src.exists():
        shutil.rmtree(src)
    (src / "book").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"  # executed above, never twice
    if set(pages) != set(_toc_pages()):  # a part of the book: links to the rest go nowhere
        config["sphinx"]["config"]["suppress_warnings"] = ["myst.xref_missing"]
        config["sphinx"]["config"]["nitpicky"] = False  # nor do references to the API page
        config["sphinx"]["config"]["latex_show_pagerefs"] = False  # nor page references
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    # The bibliography is no chapter of its own: LaTeX gathers the entries at the end of the
    # book (after the appendices), so its page would print empty. Its directive goes to the
    # front page, which the PDF prints before the first part.
    in_print = set(pages) - {"bibliography"}
    for part in toc["parts"]:
        part["chapters"] = [c for c in part["chapters"] if Path(c["file"]).name in in_print]
    toc["parts"] = [p for p in toc["parts"] if p["chapters"]]
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(BOOK / "_ext", src / "book" / "_ext", ignore=ignore)
    if (ROOT / "_static").is_dir():  # the site's own files that _config.yml names
        shutil.copytree(ROOT / "_static", src / "_static", ignore=ignore)
    for page in BOOK.iterdir():
        if page.suffix == ".bib" or (page.suffix == ".md" and page.stem in in_print):
            shutil.copy2(page, src / "book" / page.name)
    if "bibliography" in pages:
        directive = BIBLIOGRAPHY.search((BOOK / "bibliography.md").read_text()).group(0)
        front = src / "book" / f"{Path(toc['root']).name}.md"
        front.write_text(front.read_text().rstrip() + "\n\n" + directive)
    notebooks = []
    for name in names:
        nb = nbformat.read(executed[name], as_version=4)
        try:
            nb = with_current_text(nb, nbformat.read(BOOK / f"{name}.ipynb", as_version=4))
        except ValueError:  # the chapter's code changed while the book was being built
            print(f"{name} changed during the build: its executed copy prints as it ran")
        printed = print_version(nb)
        if CHAPTER.fullmatch(name):
            printed = numbered_as_in_the_book(printed, name)
        nbformat.write(printed, src / "book" / f"{name}.ipynb")
        notebooks.append((name, nb))
    if solutions_too:
        appendices = []
        for name, nb in notebooks:
            page = solutions_page(name, nb, first=not appendices)
            if page is not None:
                (src / "book" / f"solutions-{name}.md").write_text(page)
                appendices.append({"file": f"book/solutions-{name}"})
        if appendices:
            toc["parts"].append({"caption": "Solutions", "chapters": appendices})
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))


def _notebook_names():
    return [p.stem for p in BOOK.glob("*.ipynb")]


def _toc_pages():
    """The file names (without extension) of every page in _toc.yml, the root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    return [Path(f).name for f in files]


def build(src):
    """Sphinx's LaTeX build of ``src`` (warnings are errors), then XeLaTeX through latexmk
    (stops at the first LaTeX error); returns the PDF's path."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(src),
            "--builder",
            "latex",
            "--warningiserror",
            "--keep-going",
            "--quiet",  # warnings only: the status lines would list every inline image
        ],
        check=True,
    )
    latex = src / "_build" / "latex"
    try:
        subprocess.run(
            ["make", "-C", str(latex), "all-pdf", "LATEXMKOPTS=-silent -halt-on-error"],
            check=True,
        )
    except subprocess.CalledProcessError:
        print(f"LaTeX stopped at an error: see {latex / 'nntrain.log'}", file=sys.stderr)
        raise
    return latex / "nntrain.pdf"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", action="store_true", help="the teacher's edition")
    parser.add_argument(
        "--chapters", nargs="+", metavar="NAME", help="only these pages (and the bibliography)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf")
    args = parser.parse_args(argv)
    toc_pages = _toc_pages()
    pages = set(args.chapters or toc_pages) | {"intro", "bibliography"}
    unknown = sorted(pages - set(toc_pages))
    if unknown:
        parser.error(f"no such page in _toc.yml: {', '.join(unknown)}")
    names = sorted(pages & set(_notebook_names()))
    start = time.perf_counter()
    out = args.out.resolve()
    executed = executed_notebooks(names, out)
    write_tree(names, pages, executed, out / "src", args.solutions)
    pdf = build(out / "src")
    target = out / ("nntrain-teacher.pdf" if args.solutions else "nntrain.pdf")
    shutil.copy2(pdf, target)
    site_copy = ROOT / "_build" / "html" / "nntrain.pdf"  # see book/_ext/pdf_download.py
    if target.name == site_copy.name and site_copy.exists() and not args.chapters:
        shutil.copy2(pdf, site_copy)
    print(f"The PDF is at {target} ({time.perf_counter() - start:.0f} s)")
    return target


if __name__ == "__main__":
    main()
