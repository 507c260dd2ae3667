"""The PDF edition in the HTML book's download menu, once ``make pdf`` has built it.

Every page's download menu (sphinx-book-theme's *Download this page*: the ``.ipynb``, the
source and the browser's print-to-PDF) gains an item *book .pdf* that downloads the whole
book as ``nntrain.pdf`` (A4, built by ``make pdf``, see ``book/_ext/pdf_edition.py``). The
file is copied to the root of the HTML build. The item is there only when the PDF exists
when the HTML book is built (``_build/pdf/nntrain.pdf``), so a site never links to a missing
file; ``make pdf`` copies a newer PDF over the site's copy when the site has one.

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {pdf_download: book/_ext}``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Where ``make pdf`` writes the PDF, relative to the book's root, and its name in the site.
PDF = Path("_build") / "pdf" / "nntrain.pdf"


def _pdf(app):
    path = Path(app.confdir) / PDF
    return path if app.builder.format == "html" and path.exists() else None


def add_download_item(app, pagename, templatename, context, doctree):
    """Add the book's PDF to the page's download menu (after the theme built the menu)."""
    if _pdf(app) is None:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append(
                {
                    "type": "link",
                    "url": context["pathto"](PDF.name, 1),
                    "text": "book .pdf",
                    "tooltip": "Download the whole book as a PDF (A4)",
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )


def copy_pdf(app, exception):
    pdf = None if exception else _pdf(app)
    if pdf is not None:
        shutil.copy2(pdf, Path(app.outdir) / PDF.name)


def setup(app):
    app.connect("html-page-context", add_download_item, priority=900)
    app.connect("build-finished", copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
