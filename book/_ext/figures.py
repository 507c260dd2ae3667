"""Numbered figures: "Figure 3.2" is the second figure of chapter 3, in the HTML and the PDF.

A chapter's figure is a code cell's output wrapped by MyST-NB in a figure node, from the
cell's metadata (``"mystnb": {"figure": {"name": ..., "caption": ...}, "image": {"alt":
...}}``). Sphinx numbers figures (``numfig``) by the sections of a numbered table of contents,
and the book's is not numbered (its chapters count from 0, Sphinx's from 1). This extension,
for every builder:

- **Numbers by chapter.** A figure of page ``book/NN_topic`` is numbered ``NN.k``: ``k``
  counts the page's figures in order. The PDF gets the same numbers from LaTeX, whose
  chapters count from 0 too (``book/_ext/nntrainprint.sty``). Pages that are not chapters
  number their figures 1, 2, ... .
- **One caption.** A slider (:mod:`nntrain.widgets`) prints its own caption above its
  controls (useful in Jupyter, where no figure node exists); inside a captioned figure that
  line would read twice, so it is dropped from the static HTML slider and from its print
  form (the small multiple the PDF shows).
- **A small multiple on one page.** In the PDF a figure is a float, which must fit a page: the
  print form's frames, a table of images each as wide as the text, are limited in height so
  that its rows and the caption fit (each row at most :data:`PRINT_FORM_HEIGHT` of the text
  height divided by the number of rows).

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {figures: book/_ext}``).
"""

from __future__ import annotations

import re

from docutils import nodes

#: A chapter's page: ``book/NN_topic``.
CHAPTER = re.compile(r"(?:^|/)(\d\d)_[^/]+$")

# The caption line of a static slider's HTML (nntrain.widgets.SliderFigure._repr_html_).
_SLIDER_CAPTION = re.compile(r'<p id="(nntrain-slider-[\w-]+)-caption">.*?</p>', re.S)


#: The share of the printed page's text height a print form's frames may take together.
PRINT_FORM_HEIGHT = 0.72


def chapter_number(docname):
    """The chapter number of page ``docname`` (``book/03_initialization`` -> 3), or None."""
    match = CHAPTER.search(docname)
    return int(match.group(1)) if match else None


def number_by_chapter(app, env):
    """Renumber the figures (and any other numbered kind) of every page: ``(chapter, k)`` on a
    chapter's page, ``(k,)`` elsewhere. Runs after Sphinx assigned its numbers."""
    changed = []
    for docname, kinds in env.toc_fignumbers.items():
        chapter = chapter_number(docname)
        renumbered = {}
        for kind, numbers in kinds.items():
            order = sorted(numbers, key=lambda target: numbers[target])
            prefix = () if chapter is None else (chapter,)
            renumbered[kind] = {target: (*prefix, k) for k, target in enumerate(order, 1)}
        if renumbered != kinds:
            env.toc_fignumbers[docname] = renumbered
            changed.append(docname)
    return changed


def drop_slider_captions(app, doctree, docname):
    """Inside a captioned figure, the slider's own caption goes (see the module's doc)."""
    for figure in doctree.findall(nodes.figure):
        if not any(isinstance(child, nodes.caption) for child in figure.children):
            continue
        for raw in list(figure.findall(nodes.raw)):
            text = raw.astext()
            if "nntrain-slider-figure" not in text:
                continue
            match = _SLIDER_CAPTION.search(text)
            if match:
                text = text[: match.start()] + text[match.end() :]
                text = text.replace(f' aria-labelledby="{match.group(1)}-caption"', "")
                raw.replace(raw.children[0], nodes.Text(text))
        for table in list(figure.findall(nodes.table)):
            if "nntrain-print-frames" not in table.get("classes", []):
                continue
            before = table.parent.index(table) - 1
            if before >= 0 and isinstance(table.parent[before], nodes.paragraph):
                table.parent.remove(table.parent[before])
            if app.builder.format == "latex":
                rows = max(1, len(list(table.findall(nodes.row))))
                height = f"{PRINT_FORM_HEIGHT / rows:.3f}\\textheight"
                # Sphinx's images scale down to this height (sphinxlatexgraphics.sty), here
                # inside the figure's group only
                limit = f"\\csname spx@image@maxheight\\endcsname={height}\\relax\n"
                figure.insert(0, nodes.raw("", limit, format="latex"))


def setup(app):
    # after Sphinx's own numbering (the toctree collector, priority 500)
    app.connect("env-get-updated", number_by_chapter, priority=900)
    app.connect("doctree-resolved", drop_slider_captions, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
