"""Lighter pages: slider frames as image files loaded when needed, lazy figures, no icon script.

A chapter weighed 5 to 6 MiB on a first visit (issue 34): up to 1.7 MB of slider frames
inlined as base64 in the page, every figure loaded at once, and the theme's 1.45 MB
Font Awesome script. This extension, for the HTML builder only:

- **Slider frames to files.** :mod:`nntrain.widgets` writes a static slider as HTML with its
  frames inline (``data:`` URIs, so that it also works in a notebook or an HTML export). In
  the book each frame becomes a PNG file under ``_images/sliders/`` (named by a digest of
  its bytes, so identical frames are stored once) and the slider's data holds its relative
  address: the page carries none of the frames, the first frame's ``<img>`` loads lazily,
  and the others load when the reader moves the slider. Image files by relative address
  work from ``file://`` as well as from a server, with no network.
- **Lazy figures.** Every image of a page's content gets ``loading="lazy"``: the browser
  fetches a figure when it is about to scroll into view.
- **No icon script.** pydata-sphinx-theme loads Font Awesome's JavaScript, which replaces
  each ``<i class="fa-...">`` icon by an inline SVG. The theme's CSS already draws the same
  icons with Font Awesome's web fonts (shipped in ``_static/vendor/fontawesome``), so the
  script tag is removed from every page and the script from the build.
- **The search index on the search page only.** pydata-sphinx-theme loads Sphinx's search
  tools and the whole search index (about 0.25 MB) on every page, for its search-as-you-type
  option; the book leaves that option off, so the search box sends the reader to the search
  page, the one page that uses them.
- **The title first.** A chapter's first cell is its setup cell (installs and imports,
  folded under "Show code cell content"); in the notebook it must come first, but on the
  page it would sit above the chapter's title. It is moved to just below the title.
- **Toggles named by their text.** MyST-NB names every folded cell's ``<summary>``
  "Toggle hidden content" while it reads "Show code cell source": a screen reader's name
  differs from the visible label (axe's label-content-name-mismatch). The ``aria-label`` is
  dropped, so the visible text names it.
- **Citations as list items.** Docutils writes the bibliography as ``role="list"`` holding
  entries with the deprecated ``role="doc-biblioentry"``, which a list may not hold (axe:
  aria-required-children, critical); each entry becomes a ``role="listitem"``.
- **Figures readable on a phone.** A figure drawn for the desktop's text column (at most
  740 px at 100 dpi) was shrunk to half its size in a phone's 342 px column, its 10-point
  text to about 6 px. Each figure's image (a slider's frame too) is wrapped in a
  ``<div class="nntrain-figure-body">`` that carries the image's drawn width (from the PNG's
  header, as ``--nntrain-figure-width``) for ``_static/nntrain.css``, which lets the image
  shrink with the column down to 0.8 of that width and no further: beyond, the figure body
  scrolls sideways (the page does not), while the caption and a slider's controls keep the
  column's width. A region that scrolls must be reachable by keyboard (axe's
  scrollable-region-focusable), so the body is ``tabindex="0"`` and a named ``role="region"``
  (named by the figure's number, "Figure 3.1"). The image also gets its ``width`` and
  ``height``, so that the page does not jump as lazy figures load. On a desktop the figure
  looks as before.
- **A description.** Each page gets ``<meta name="description">``: the first paragraph of its
  text (shortened to about 160 characters), or, for a page without one, the book's
  description (``nntrain_description`` in ``_config.yml``'s ``sphinx: config:``).

Enabled from ``_config.yml`` as a Jupyter Book local extension
(``sphinx: local_extensions: {light_pages: book/_ext}``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

from docutils import nodes
from sphinx.errors import ExtensionError

#: Where slider frames go, relative to the HTML output folder.
FRAMES = "_images/sliders"
#: The script tag pydata-sphinx-theme writes into every page for Font Awesome's JavaScript.
ICON_SCRIPT = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*">'
                         r"</script>\n?")  # fmt: skip
#: The search scripts pydata-sphinx-theme writes into every page (search.html has its own).
SEARCH_SCRIPTS = re.compile(
    r'[ \t]*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)'
    r'[^"]*"></script>\n?'
)
#: MyST-NB's name for a folded cell's toggle, which differs from its visible text.
SUMMARY_LABEL = '<summary aria-label="Toggle hidden content">'
#: Docutils' role for a bibliography entry, inside a ``role="list"`` (see the module's doc).
BIBLIOENTRY = 'role="doc-biblioentry"'
#: The icon script's files in the build.
ICON_FILES = ("fontawesome.js", "fontawesome.js.map", "fontawesome.js.LICENSE.txt")

# A static slider's data (see nntrain.widgets) and its first frame.
_DATA = re.compile(r'(<script type="application/json" id="(nntrain-slider-[\w-]+)-data">)'
                   r"(.*?)(</script>)", re.S)  # fmt: skip
_DATA_URI = "data:image/png;base64,"


def frame_file(outdir, uri):
    """Write the PNG of a ``data:`` URI under ``outdir``/FRAMES; return its path there."""
    if not uri.startswith(_DATA_URI):
        raise ExtensionError(f"light_pages: a slider frame is not a PNG data URI: {uri[:40]!r}")
    png = base64.b64decode(uri[len(_DATA_URI) :])
    path = f"{FRAMES}/{hashlib.sha256(png).hexdigest()[:24]}.png"
    target = Path(outdir) / path
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)
    return path


def externalize_frames(html, outdir, docname):
    """``html`` with every static slider's frames moved to files (see the module's doc)."""
    base = posixpath.dirname(docname)

    def move(match):
        head, uid, text, tail = match.groups()
        data = json.loads(text)
        addresses = {}
        for key, uri in data["frames"].items():
            addresses[uri] = posixpath.relpath(frame_file(outdir, uri), base or ".")
            data["frames"][key] = addresses[uri]
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return head + text + tail, uid, addresses

    pieces, last = [], 0
    for match in _DATA.finditer(html):
        text, uid, addresses = move(match)
        before = html[last : match.start()]
        # The first frame's <img> (before its data) gets the file's address too.
        img = re.escape(f'<img id="{uid}-img" src="')
        found = list(re.finditer(rf'{img}(data:image/png;base64,[^"]*)"', before))
        if len(found) != 1:
            raise ExtensionError(f"light_pages: the first frame of slider {uid} was not found")
        start, end = found[0].span(1)
        before = before[:start] + addresses[found[0].group(1)] + before[end:]
        pieces += [before, text]
        last = match.end()
    return "".join(pieces) + html[last:]


def title_first(app, doctree):
    """Move a page's leading code cell (the chapter's setup cell) below the page's title."""
    first = next((n for n in doctree.children if isinstance(n, nodes.Element)), None)
    if not (isinstance(first, nodes.container) and first.get("nb_element") == "cell_code"):
        return
    section = first.next_node(nodes.section, include_self=False, descend=False, siblings=True)
    if section is None or not isinstance(section[0], nodes.title):
        return
    doctree.remove(first)
    section.insert(1, first)


def lighten_doctree(app, doctree, docname):
    if app.builder.format != "html":
        return
    for node in doctree.findall(nodes.image):
        node.setdefault("loading", "lazy")
    for node in doctree.findall(nodes.raw):
        if "html" in node.get("format", "").split() and "nntrain-slider-figure" in node.astext():
            text = externalize_frames(node.astext(), app.outdir, docname)
            node.replace(node.children[0], nodes.Text(text))


#: The longest description a page gets, in characters (what search results show).
DESCRIPTION_LENGTH = 160


def first_paragraph(doctree):
    """The text of the first paragraph of a page's prose (not of a code cell's output),
    without its formulas."""
    for node in doctree.findall(nodes.paragraph):
        inside = node.parent
        while inside is not None and not (
            isinstance(inside, nodes.container) and "cell" in inside.get("classes", [])
        ):
            inside = inside.parent
        words = (
            t.astext() for t in node.findall(nodes.Text) if not isinstance(t.parent, nodes.math)
        )
        text = " ".join(" ".join(words).split())  # a formula's TeX would read as noise
        if inside is None and text:
            return text
    return ""


def shorten(text, length=DESCRIPTION_LENGTH):
    """``text`` cut at a word boundary to at most ``length`` characters, with an ellipsis."""
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def describe_page(app, pagename, templatename, context, doctree):
    text = first_paragraph(doctree) if doctree is not None else ""
    description = shorten(text or app.config.nntrain_description)
    if description:
        tag = f'<meta name="description" content="{html.escape(description)}" />\n'
        context["metatags"] = context.get("metatags", "") + tag


# A figure of a page, its first image and the number its caption shows.
_FIGURE = re.compile(r"<figure\b[^>]*>.*?</figure>", re.S)
_IMG = re.compile(r"<img\b[^>]*>")
_CAPTION_NUMBER = re.compile(r'<span class="caption-number">(.*?)</span>', re.S)
#: The class of the element that holds a figure's image (see the module's doc).
FIGURE_BODY = "nntrain-figure-body"


def png_size(path):
    """(width, height) in pixels of the PNG file at ``path``, or None for another file."""
    try:
        with open(path, "rb") as file:
            head = file.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def attribute(tag, name):
    """The value of attribute ``name`` of the HTML start tag ``tag``, or None."""
    found = re.search(rf'\s{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


def scrollable_figures(text, page):
    """``text`` (the HTML page at ``page``, a path) with each figure's image in a figure
    body that scrolls sideways on a narrow screen (see the module's doc). A figure body
    already there is left as it is, so a page may be processed twice."""

    def wrap(match):
        figure = match.group(0)
        img = _IMG.search(figure)
        if img is None or FIGURE_BODY in figure:
            return figure
        tag = img.group(0)
        size = None
        if attribute(tag, "width") is None:
            src = attribute(tag, "src") or ""
            if not src.startswith(("data:", "http:", "https:", "/")):
                size = png_size(Path(page).parent / unquote(src.split("#")[0].split("?")[0]))
            if size is not None:
                tag = tag[:-1].rstrip("/ ") + f' width="{size[0]}" height="{size[1]}">'
        width = attribute(tag, "width")
        number = _CAPTION_NUMBER.search(figure)
        name = " ".join(re.sub(r"<[^>]*>", "", number.group(1)).split()) if number else ""
        body = (
            f'<div class="{FIGURE_BODY}" tabindex="0" role="region" '
            f'aria-label="{html.escape(name or "Figure")}"'
            + (f' style="--nntrain-figure-width: {width}px"' if (width or "").isdigit() else "")
            + f">{tag}</div>"
        )
        return figure[: img.start()] + body + figure[img.end() :]

    return _FIGURE.sub(wrap, text)


def finish_pages(app, exception):
    """The built pages without the scripts they do not use, with toggles named by their
    text, citations as list items and figures that fit a phone (see the module's doc)."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    search_as_you_type = (app.config.html_theme_options or {}).get("search_as_you_type", False)
    if str(search_as_you_type).lower() == "true":
        raise ExtensionError("light_pages: search_as_you_type needs the search index on every page")
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = ICON_SCRIPT.sub("", text).replace(SUMMARY_LABEL, "<summary>")
        lighter = lighter.replace(BIBLIOENTRY, 'role="listitem"')
        lighter = scrollable_figures(lighter, page)
        if page != outdir / "search.html":
            lighter = SEARCH_SCRIPTS.sub("", lighter)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")
    for name in ICON_FILES:
        (outdir / "_static" / "scripts" / name).unlink(missing_ok=True)


def setup(app):
    app.add_config_value("nntrain_description", "", "html", types=[str])
    app.connect("doctree-read", title_first)
    app.connect("doctree-resolved", lighten_doctree)
    app.connect("html-page-context", describe_page)
    app.connect("build-finished", finish_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
