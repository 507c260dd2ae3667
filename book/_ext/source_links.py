"""A Claims table's sources link to the bibliography.

Each row of a chapter's "Claims checked" table, and of the ledger, names where its claim
comes from in words: "Ioffe & Szegedy 2015", "Sagun et al. 2017; Dauphin et al. 2014",
"Leshno et al. 1993 (Cybenko 1989, Hornik 1991 for bounded units)". The table is a cell's
HTML output, so the ``{cite}`` role cannot reach it; this extension links each author-year
pair in a Source cell to its entry on the bibliography page, as ``{cite}`` links do:

- **An author and a year.** Each year (four digits) ends a citation; it begins at the first
  capitalized name (with a particle: "van Laarhoven") after the previous year, the last
  ``(`` or the last ``;``, whichever is later. :func:`citations` is that rule.
- **Matched by the first author's surname and the year** against ``references.bib`` (every
  entry is on the bibliography page: ``:all:``). When two entries match ("Li et al. 2018"),
  the one the row's chapter cites with ``{cite}`` wins; still two, no link.

Words without a year ("CS231n notes", "this chapter") stay text. The book's tests check
that every author-year pair of every Source cell became a link.

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {source_links: book/_ext}``).
"""

from __future__ import annotations

import html
import re

from docutils import nodes

YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
AUTHOR = re.compile(r"(?:(?:van|de|von|der) )*[A-Z][\w'-]+")
TABLES = {"nntrain-claims", "nntrain-ledger"}
TABLE = re.compile(r'<table class="(nntrain-claims|nntrain-ledger)">.*?</table>', re.S)
ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<t([dh])\b[^>]*>(.*?)</t\1>", re.S)
CHAPTER_ROW = re.compile(r'class="nntrain-ledger-chapter".*?href="([^".#]+)\.html"', re.S)


def citations(text):
    """``(start, end, surname, year)`` of each author-year citation in ``text``.

    Example:
        >>> [c[2:] for c in citations("Goodfellow, Vinyals & Saxe 2015; Garipov et al. 2018")]
        [('Goodfellow', '2015'), ('Garipov', '2018')]
        >>> [c[2:] for c in citations("Leshno et al. 1993 (Cybenko 1989, Hornik 1991)")]
        [('Leshno', '1993'), ('Cybenko', '1989'), ('Hornik', '1991')]
        >>> citations("CS231n notes"), [c[2:] for c in citations("van Laarhoven 2017")]
        ([], [('Laarhoven', '2017')])
    """
    found, after = [], 0
    for year in YEAR.finditer(text):
        start = max(after, *(text.rfind(mark, after, year.start()) + 1 for mark in "(;"))
        author = AUTHOR.search(text, start, year.start())
        if author:
            found.append((author.start(), year.end(), author.group().split()[-1], year.group()))
        after = year.end()
    return found


def surname_key(name):
    """A surname as the match compares it: letters only, lower case (``{\\"o}`` -> o)."""
    return re.sub(r"[^a-z]", "", name.lower())


def bibliography(env):
    """``{(surname, year): [citation, ...]}`` of every entry, and ``{page: cited keys}``."""
    domain = env.get_domain("cite")
    entries = {}
    for citation in domain.citations:
        people = citation.entry.persons.get("author") or citation.entry.persons.get("editor")
        if people and "year" in citation.entry.fields:
            key = (surname_key(people[0].last_names[-1]), citation.entry.fields["year"])
            entries.setdefault(key, []).append(citation)
    cited = {}
    for ref in domain.citation_refs:
        cited.setdefault(ref.docname, set()).update(target.key for target in ref.targets)
    return entries, cited


def link_cell(cell, candidates, cited, link):
    """A cell's HTML (escaped text) with each citation that names one entry linked."""
    text = html.unescape(cell)
    out, last = [], 0
    for start, end, surname, year in citations(text):
        matches = candidates.get((surname_key(surname), year), [])
        if len(matches) > 1:
            matches = [c for c in matches if c.key in cited]
        if len(matches) == 1:
            out += [html.escape(text[last:start]), link(matches[0], html.escape(text[start:end]))]
            last = end
    return "".join(out) + html.escape(text[last:])


def link_table(table, page, candidates, cited, link):
    """A Claims or ledger table with its Source cells linked; ``page`` is the chapter the
    table's rows come from (the ledger names each group's chapter in a header row)."""
    head = [c[1] for c in CELL.findall(ROW.search(table)[1])]
    column = head.index("Source")
    chapter = page

    def row(match):
        nonlocal chapter
        heading = CHAPTER_ROW.search(match[0])
        if heading:
            chapter = f"book/{heading[1]}"
            return match[0]
        cells = list(CELL.finditer(match[0]))
        if len(cells) != len(head) or cells[0][1] == "h":
            return match[0]
        cell = cells[column]
        linked = link_cell(cell[2], candidates, cited.get(chapter, set()), link)
        return match[0][: cell.start(2)] + linked + match[0][cell.end(2) :]

    return ROW.sub(row, table)


def link_sources(app, doctree, docname):
    if app.builder.format != "html":
        return
    candidates, cited = bibliography(app.env)

    def link(citation, text):
        address = app.builder.get_relative_uri(docname, citation.bibliography_key.docname)
        entry = citation.tooltip_entry or citation.formatted_entry
        title = html.escape(entry.text.render_as("text"), quote=True)
        return (
            f'<a class="reference internal" href="{address}#{citation.citation_id}" '
            f'title="{title}">{text}</a>'
        )

    for raw in doctree.findall(nodes.raw):
        if "html" in raw.get("format", "") and any(t in raw.astext() for t in TABLES):
            text = TABLE.sub(
                lambda t: link_table(t[0], docname, candidates, cited, link), raw.astext()
            )
            raw.replace_self(nodes.raw("", text, format=raw["format"]))


def setup(app):
    app.connect("doctree-resolved", link_sources)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
